//go:build integration

package broker_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker/brokertest"
)

// The confluent-kafka Python client (Debian's python3-confluent-kafka, on
// librdkafka) with an idempotent producer, an admin client and a consumer
// group that commits.
const pythonClient = `
import sys
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

addr = sys.argv[1]
admin = AdminClient({"bootstrap.servers": addr})
fs = admin.create_topics([NewTopic("py", num_partitions=3, replication_factor=1)])
for f in fs.values():
    f.result(timeout=10)

p = Producer({"bootstrap.servers": addr, "enable.idempotence": True, "linger.ms": 5})
for i in range(30000):
    p.produce("py", key=str(i).encode(), value=("v%d" % i).encode())
    if i % 5000 == 0:
        p.poll(0)
left = p.flush(30)
assert left == 0, "unflushed: %d" % left

c = Consumer({"bootstrap.servers": addr, "group.id": "pyg", "auto.offset.reset": "earliest",
              "enable.auto.commit": False})
c.subscribe(["py"])
seen = set()
dups = 0
while len(seen) < 30000:
    m = c.poll(10)
    if m is None:
        break
    if m.error():
        raise SystemExit("consumer error: %s" % m.error())
    k = m.key().decode()
    if k in seen:
        dups += 1
    seen.add(k)
c.commit(asynchronous=False)
committed = c.committed([TopicPartition("py", i) for i in range(3)], timeout=10)
c.close()
total = sum(tp.offset for tp in committed)
print("seen=%d dups=%d committed=%d" % (len(seen), dups, total))
`

func TestPythonConfluentKafka(t *testing.T) {
	// Debian's interpreter: python3-confluent-kafka installs for it, and
	// a python3 earlier in PATH (pyenv, a venv) would not see the module.
	py := "/usr/bin/python3"
	if _, err := exec.LookPath(py); err != nil {
		t.Fatal("Debian's python3 is not installed (apt-get install python3-confluent-kafka; .ci/run does it)")
	}
	if out, err := exec.Command(py, "-c", "import confluent_kafka").CombinedOutput(); err != nil {
		t.Fatalf("python3-confluent-kafka is not installed (apt-get install python3-confluent-kafka; .ci/run does it): %s", out)
	}
	_, addr := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := strings.Join(brokertest.Lines(t, ctx, "", py, "-c", pythonClient, addr), "\n")
	if !strings.Contains(out, "seen=30000 dups=0 committed=30000") {
		t.Fatalf("python client: %s", out)
	}
}
