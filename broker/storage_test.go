package broker_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/broker/vfs"
)

// A failed fsync fails the produce round it belonged to; the partition is
// reopened (recovered) in the background and the producer's retries land
// exactly once.
func TestFailedSyncRecovers(t *testing.T) {
	fault := vfs.NewFault(vfs.OS)
	tb := startBroker(t, "", func(c *broker.Config) { c.FS = fault })
	createTopic(t, tb.addr, "flaky", 1, nil)
	fault.Add(vfs.Rule{Op: vfs.OpSync, Path: "flaky-0", Times: 2})
	cl := newClient(t, tb.addr, kgo.ProducerLinger(0), kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }))
	produceN(t, cl, "flaky", "f", 200)
	if n := fault.Count(vfs.OpSync); n == 0 {
		t.Fatal("no sync was attempted")
	}
	checkContiguous(t, consumeN(t, tb.addr, "flaky", 200), values("f", 200))
}
