package task

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/plugins"
)

func sinkSpec(name string, task int, cfg map[string]string, sink connectors.Sink) Spec {
	cc := map[string]string{"name": name,
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
		"key.converter": "org.apache.kafka.connect.storage.StringConverter"}
	for k, v := range cfg {
		cc[k] = v
	}
	return Spec{Connector: name, Task: task, ConnectorConfig: cc, TaskConfig: map[string]string{},
		Instance: sinkConnector{newTask: func() connectors.Sink { return sink }}}
}

// jsonRecords returns n records {"id":i} keyed "k<i>" for ids from..from+n.
func jsonRecords(topic string, from, n int) []*kgo.Record {
	out := make([]*kgo.Record, n)
	for i := range out {
		id := from + i
		out[i] = &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("k%d", id)), Value: []byte(fmt.Sprintf(`{"id":%d}`, id))}
	}
	return out
}

func ids(recs []connectors.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Value.(map[string]any)["id"].(int64)
	}
	return out
}

// TestSinkConsumesAndCommitsFlushResult checks converted records reach Put
// and that exactly what Flush returns is committed.
func TestSinkConsumesAndCommitsFlushResult(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "in", 2)
	recs := jsonRecords("in", 0, 100)
	for i, r := range recs {
		r.Partition = int32(i % 2)
	}
	produce(t, addr, recs...)
	env, st, _ := newEnv(t, addr)
	p0, p1 := connectors.TopicPartition{Topic: "in", Partition: 0}, connectors.TopicPartition{Topic: "in", Partition: 1}
	sink := &memSink{flushFn: func(offsets map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error) {
		out := map[connectors.TopicPartition]int64{}
		if o, ok := offsets[p0]; ok {
			out[p0] = o - 5 // hold back five records; leave partition 1 out entirely
		}
		return out, nil
	}}
	tk := startTask(t, sinkSpec("cfr", 0, map[string]string{"topics": "in"}, sink), env)
	eventually(t, 10*time.Second, "100 records put", func() bool { return sink.count() == 100 })
	r := sink.got()[0]
	if r.Topic != "in" || r.KeySchema == nil || !strings.HasPrefix(r.Key.(string), "k") || r.ValueSchema != nil ||
		r.TimestampType != connectors.CreateTime || r.Timestamp.IsZero() || r.OriginalTopic != "in" {
		t.Errorf("converted record %+v", r)
	}
	eventually(t, 10*time.Second, "commit", func() bool { return committedOffsets(t, addr, "connect-cfr")[p0] == 45 })
	got := committedOffsets(t, addr, "connect-cfr")
	if _, ok := got[p1]; ok || len(got) != 1 {
		t.Fatalf("committed %v, want exactly {in-0: 45}", got)
	}
	sink.mu.Lock()
	last := sink.flushes[len(sink.flushes)-1]
	sink.mu.Unlock()
	if last[p0] != 50 || last[p1] != 50 {
		t.Errorf("Flush offsets %v, want 50 for both partitions", last)
	}
	if got := st.usedTopics(); !slices.Equal(got, []string{"in"}) {
		t.Errorf("TopicUsed %v", got)
	}
	stopTask(t, tk)
	if !sink.closed {
		t.Error("Close not called")
	}
}

// TestSinkResumeAfterRestart: a restarted task continues after the
// committed offsets and nothing is lost.
func TestSinkResumeAfterRestart(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "rs", 1)
	produce(t, addr, jsonRecords("rs", 0, 50)...)
	env, _, _ := newEnv(t, addr)
	s1 := &memSink{}
	tk := startTask(t, sinkSpec("rs", 0, map[string]string{"topics": "rs"}, s1), env)
	eventually(t, 10*time.Second, "first 50", func() bool { return s1.count() == 50 })
	stopTask(t, tk)
	if got := committedOffsets(t, addr, "connect-rs")[connectors.TopicPartition{Topic: "rs"}]; got != 50 {
		t.Fatalf("committed %d after stop, want 50", got)
	}
	produce(t, addr, jsonRecords("rs", 50, 50)...)

	// A task whose Flush never lets anything be committed …
	s2 := &memSink{flushFn: func(map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error) {
		return nil, nil
	}}
	tk2 := startTask(t, sinkSpec("rs", 0, map[string]string{"topics": "rs"}, s2), env)
	eventually(t, 10*time.Second, "next 50", func() bool { return s2.count() == 50 })
	stopTask(t, tk2)
	if got := ids(s2.got()); got[0] != 50 || got[49] != 99 {
		t.Fatalf("second task got %d..%d, want 50..99", got[0], got[49])
	}
	// … leaves them to be delivered again (at least once).
	s3 := &memSink{}
	tk3 := startTask(t, sinkSpec("rs", 0, map[string]string{"topics": "rs"}, s3), env)
	eventually(t, 10*time.Second, "redelivered 50", func() bool { return s3.count() == 50 })
	stopTask(t, tk3)
	if got := ids(s3.got()); got[0] != 50 {
		t.Fatalf("third task starts at %d, want 50", got[0])
	}
}

// TestSinkRebalance runs two tasks of one connector: partitions move
// between them when the second joins and when the first leaves, and every
// record is delivered.
func TestSinkRebalance(t *testing.T) {
	addr := startBroker(t)
	const topic, parts = "rb", 4
	createTopic(t, addr, topic, parts)
	env, _, _ := newEnv(t, addr)
	var mu sync.Mutex
	seen := map[int64]int{}
	record := func(_ context.Context, _ connectors.SinkContext, recs []connectors.Record) error {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids(recs) {
			seen[id]++
		}
		return nil
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	next := 0
	send := func(n int) {
		recs := jsonRecords(topic, next, n)
		for i, r := range recs {
			r.Partition = int32(i % parts)
		}
		produce(t, addr, recs...)
		next += n
	}
	a := &memSink{putFn: record}
	b := &memSink{putFn: record}
	ta := startTask(t, sinkSpec("rb", 0, map[string]string{"topics": topic}, a), env)
	send(200)
	eventually(t, 15*time.Second, "task 0 consumes", func() bool { return count() == 200 })
	tb := startTask(t, sinkSpec("rb", 1, map[string]string{"topics": topic}, b), env)
	eventually(t, 15*time.Second, "task 1 gets partitions", func() bool {
		return b.assigned() > 0 && a.assigned() < parts
	})
	send(200)
	eventually(t, 15*time.Second, "both consume", func() bool { return count() == 400 })
	stopTask(t, ta)
	eventually(t, 15*time.Second, "task 1 owns all partitions", func() bool { return b.assigned() == parts })
	send(200)
	eventually(t, 15*time.Second, "all delivered", func() bool { return count() == 600 })
	stopTask(t, tb)
	a.mu.Lock()
	closedA := len(a.closedPs)
	a.mu.Unlock()
	if closedA < parts {
		t.Errorf("task 0 closed %d partitions, want all %d eventually", closedA, parts)
	}
	committed := committedOffsets(t, addr, "connect-rb")
	var total int64
	for _, o := range committed {
		total += o
	}
	if total != 600 {
		t.Errorf("committed offsets %v sum to %d, want 600", committed, total)
	}
}

// poisonRecords are five JSON records where the one at offset 3 is not JSON.
func poisonRecords(topic string) []*kgo.Record {
	recs := jsonRecords(topic, 0, 5)
	recs[3].Value = []byte("{not json")
	recs[3].Headers = []kgo.RecordHeader{{Key: "orig", Value: []byte("x")}}
	return recs
}

// TestSinkPoisonRecordDLQ: a value the converter cannot parse goes to the
// DLQ with its original bytes and the context headers; the task goes on.
func TestSinkPoisonRecordDLQ(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "pz", 1)
	produce(t, addr, poisonRecords("pz")...)
	env, st, _ := newEnv(t, addr)
	sink := &memSink{}
	tk := startTask(t, sinkSpec("pz", 0, map[string]string{"topics": "pz",
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "pz-dlq",
		"errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable":   "true",
		"errors.log.enable": "true", "errors.log.include.messages": "true"}, sink), env)
	eventually(t, 10*time.Second, "good records", func() bool { return sink.count() == 4 })
	d := consume(t, addr, "pz-dlq", 1)[0]
	if string(d.Key) != "k3" || string(d.Value) != "{not json" {
		t.Errorf("DLQ record %q/%q, want the original bytes", d.Key, d.Value)
	}
	if v, _ := header(d, "orig"); v != "x" {
		t.Errorf("original header lost: %v", d.Headers)
	}
	for k, want := range map[string]string{HeaderTopic: "pz", HeaderPartition: "0", HeaderOffset: "3",
		HeaderConnector: "pz", HeaderTaskID: "0", HeaderStage: "VALUE_CONVERTER",
		HeaderClass: "org.apache.kafka.connect.json.JsonConverter"} {
		if v, _ := header(d, k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	for _, k := range []string{HeaderException, HeaderMessage, HeaderStacktrace} {
		if v, ok := header(d, k); !ok || v == "" {
			t.Errorf("header %s missing", k)
		}
	}
	if v, _ := header(d, HeaderException); strings.HasPrefix(v, "*fmt.") {
		t.Errorf("exception class %q is a wrapper", v)
	}
	// The task keeps running.
	produce(t, addr, jsonRecords("pz", 5, 3)...)
	eventually(t, 10*time.Second, "more records", func() bool { return sink.count() == 7 })
	if st.last() != "running" {
		t.Errorf("status %q", st.last())
	}
	eventually(t, 10*time.Second, "committed past the poison", func() bool {
		return committedOffsets(t, addr, "connect-pz")[connectors.TopicPartition{Topic: "pz"}] == 8
	})
	stopTask(t, tk)
}

// TestSinkToleranceNone fails the task at the poison record with a trace
// naming stage, topic, partition and offset.
func TestSinkToleranceNone(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "pn", 1)
	produce(t, addr, poisonRecords("pn")...)
	env, st, _ := newEnv(t, addr)
	sink := &memSink{}
	tk := startTask(t, sinkSpec("pn", 0, map[string]string{"topics": "pn"}, sink), env)
	waitDone(t, tk, 10*time.Second)
	err := tk.Err()
	if !errors.Is(err, ErrToleranceExceeded) {
		t.Fatalf("err %v", err)
	}
	for _, s := range []string{"VALUE_CONVERTER", "topic=pn", "partition=0", "offset=3"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("trace %q lacks %q", err, s)
		}
	}
	if st.last() != "failed" {
		t.Errorf("status %q", st.last())
	}
	if got := committedOffsets(t, addr, "connect-pn")[connectors.TopicPartition{Topic: "pn"}]; got > 3 {
		t.Errorf("committed %d, past the poison record", got)
	}
}

// TestSinkRetriablePut retries the same batch while Put fails with
// ErrRetriable, then delivers it once.
func TestSinkRetriablePut(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "rp", 1)
	produce(t, addr, jsonRecords("rp", 0, 10)...)
	env, _, _ := newEnv(t, addr)
	var fails atomic.Int32
	var batches [][]int64
	sink := &memSink{putFn: func(_ context.Context, _ connectors.SinkContext, recs []connectors.Record) error {
		if len(recs) == 0 {
			return nil
		}
		batches = append(batches, ids(recs))
		if fails.Add(1) <= 2 {
			return connectors.Retriable(errors.New("busy"))
		}
		return nil
	}}
	tk := startTask(t, sinkSpec("rp", 0, map[string]string{"topics": "rp", "errors.retry.delay.max.ms": "400"}, sink), env)
	eventually(t, 10*time.Second, "delivered", func() bool { return sink.count() == 10 })
	stopTask(t, tk)
	if len(batches) != 3 || !slices.Equal(batches[0], batches[2]) {
		t.Fatalf("batches %v: want the same batch three times", batches)
	}
	if got := ids(sink.got()); len(got) != 10 || got[0] != 0 || got[9] != 9 {
		t.Fatalf("delivered %v", got)
	}
}

// flakyTransform fails with ErrRetriable for the first fail calls (all if
// fail < 0).
type flakyTransform struct {
	fail  int32
	calls *atomic.Int32
}

func (f *flakyTransform) Config() *connectors.ConfigDef     { return connectors.NewConfigDef() }
func (f *flakyTransform) Configure(map[string]string) error { return nil }
func (f *flakyTransform) Close() error                      { return nil }
func (f *flakyTransform) Apply(r connectors.Record) (connectors.Record, bool, error) {
	if n := f.calls.Add(1); f.fail < 0 || n <= f.fail {
		return r, false, connectors.Retriable(errors.New("flaky"))
	}
	return r, true, nil
}

func flakyRegistry(t testing.TB, fail int32, calls *atomic.Int32) *plugins.Registry {
	reg := plugins.Builtin()
	if err := reg.Register(plugins.Plugin{Class: "test.FlakyTransform", Kind: plugins.KindTransformation,
		New: func() any { return &flakyTransform{fail: fail, calls: calls} }}); err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestSinkRetryTimeout retries a transform that fails with ErrRetriable
// within errors.retry.timeout, and fails the task once it has passed.
func TestSinkRetryTimeout(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "rt", 1)
	produce(t, addr, jsonRecords("rt", 0, 3)...)
	cfg := map[string]string{"topics": "rt", "transforms": "flaky", "transforms.flaky.type": "test.FlakyTransform",
		"errors.retry.delay.max.ms": "300"}

	t.Run("recovers", func(t *testing.T) {
		env, _, _ := newEnv(t, addr)
		var calls atomic.Int32
		env.Registry = flakyRegistry(t, 2, &calls)
		cfg := withKeys(cfg, "errors.retry.timeout", "10000")
		sink := &memSink{}
		tk := startTask(t, sinkSpec("rt1", 0, cfg, sink), env)
		eventually(t, 10*time.Second, "delivered", func() bool { return sink.count() == 3 })
		stopTask(t, tk)
		if got := metricValue(tk.met.errByStage[StageTransformation]); got != 2 {
			t.Errorf("transformation errors %v, want 2", got)
		}
	})
	t.Run("times out", func(t *testing.T) {
		env, _, _ := newEnv(t, addr)
		var calls atomic.Int32
		env.Registry = flakyRegistry(t, -1, &calls)
		cfg := withKeys(cfg, "errors.retry.timeout", "700")
		start := time.Now()
		tk := startTask(t, sinkSpec("rt2", 0, cfg, &memSink{}), env)
		waitDone(t, tk, 10*time.Second)
		if d := time.Since(start); d < 700*time.Millisecond {
			t.Errorf("failed after %v, before the retry timeout", d)
		}
		var re *RecordError
		if err := tk.Err(); !errors.As(err, &re) || re.Stage != StageTransformation || !errors.Is(err, connectors.ErrRetriable) {
			t.Fatalf("err %v, want a TRANSFORMATION failure", err)
		}
		if re.Class != "test.FlakyTransform" {
			t.Errorf("class %q", re.Class)
		}
		if n := calls.Load(); n < 3 || n > 8 {
			t.Errorf("%d attempts in 700 ms with 300 ms backoff", n)
		}
	})
	t.Run("put times out", func(t *testing.T) {
		env, _, _ := newEnv(t, addr)
		sink := &memSink{putFn: func(_ context.Context, _ connectors.SinkContext, recs []connectors.Record) error {
			if len(recs) > 0 {
				return connectors.Retriable(errors.New("down"))
			}
			return nil
		}}
		tk := startTask(t, sinkSpec("rt3", 0, map[string]string{"topics": "rt", "errors.retry.timeout": "500"}, sink), env)
		waitDone(t, tk, 10*time.Second)
		var re *RecordError
		if err := tk.Err(); !errors.As(err, &re) || re.Stage != StageTaskPut {
			t.Fatalf("err %v, want a TASK_PUT failure", tk.Err())
		}
	})
}

func withKeys(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestSinkPauseResume stops delivery while paused.
func TestSinkPauseResume(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "sp", 1)
	produce(t, addr, jsonRecords("sp", 0, 10)...)
	env, st, _ := newEnv(t, addr)
	sink := &memSink{}
	tk := startTask(t, sinkSpec("sp", 0, map[string]string{"topics": "sp"}, sink), env)
	eventually(t, 10*time.Second, "first records", func() bool { return sink.count() == 10 })
	tk.Pause()
	eventually(t, 5*time.Second, "paused", func() bool { return st.last() == "paused" })
	produce(t, addr, jsonRecords("sp", 10, 10)...)
	time.Sleep(300 * time.Millisecond)
	if n := sink.count(); n != 10 {
		t.Fatalf("%d records delivered while paused", n-10)
	}
	tk.Resume()
	eventually(t, 10*time.Second, "resumed", func() bool { return sink.count() == 20 && st.last() == "running" })
	stopTask(t, tk)
}

// TestSinkStopHungPut: Stop returns at its deadline when Put hangs, and
// the abandoned task leaves the group so another task takes over.
func TestSinkStopHungPut(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "hung", 1)
	produce(t, addr, jsonRecords("hung", 0, 5)...)
	env, st, _ := newEnv(t, addr)
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	var once sync.Once
	hung := &memSink{putFn: func(_ context.Context, _ connectors.SinkContext, recs []connectors.Record) error {
		if len(recs) > 0 {
			once.Do(func() { close(entered) })
			<-release // ignores ctx
		}
		return nil
	}}
	tk, err := Start(context.Background(), sinkSpec("hung", 0, map[string]string{"topics": "hung"}, hung), env)
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = tk.Stop(ctx)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Stop took %v", d)
	}
	if !errors.Is(err, ErrAbandoned) || !errors.Is(tk.Err(), ErrAbandoned) {
		t.Fatalf("Stop: %v, Err: %v; want ErrAbandoned", err, tk.Err())
	}
	select {
	case <-tk.Done():
	default:
		t.Fatal("Done not closed")
	}
	if st.last() == "failed" {
		t.Error("an abandoned task must not report")
	}
	next := &memSink{}
	tk2 := startTask(t, sinkSpec("hung", 0, map[string]string{"topics": "hung"}, next), env)
	eventually(t, 20*time.Second, "the next task gets the records", func() bool { return next.count() == 5 })
	stopTask(t, tk2)
}

// TestSinkErrantReporter: records the sink reports (KIP-610) reach the DLQ
// before the offsets past them are committed.
func TestSinkErrantReporter(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "er", 1)
	produce(t, addr, jsonRecords("er", 0, 5)...)
	env, _, _ := newEnv(t, addr)
	sink := &memSink{putFn: func(ctx context.Context, sc connectors.SinkContext, recs []connectors.Record) error {
		for _, r := range recs {
			if r.Offset == 2 {
				if err := sc.Errant.Report(ctx, r, errors.New("rejected by the target")); err != nil {
					return err
				}
			}
		}
		return nil
	}}
	tk := startTask(t, sinkSpec("er", 0, map[string]string{"topics": "er", "errors.tolerance": "all",
		"errors.deadletterqueue.topic.name": "er-dlq", "errors.deadletterqueue.context.headers.enable": "true"}, sink), env)
	eventually(t, 10*time.Second, "committed", func() bool {
		return committedOffsets(t, addr, "connect-er")[connectors.TopicPartition{Topic: "er"}] == 5
	})
	d := consume(t, addr, "er-dlq", 1)[0]
	if string(d.Value) != `{"id":2}` {
		t.Errorf("DLQ value %s", d.Value)
	}
	if v, _ := header(d, HeaderStage); v != "TASK_PUT" {
		t.Errorf("stage %q", v)
	}
	if v, _ := header(d, HeaderMessage); v != "rejected by the target" {
		t.Errorf("message %q", v)
	}
	stopTask(t, tk)
}

// rewindSink rewinds every newly assigned partition to offset 3.
type rewindSink struct{ memSink }

func (s *rewindSink) OpenPartitions(_ context.Context, ps []connectors.TopicPartition) error {
	m := map[connectors.TopicPartition]int64{}
	for _, p := range ps {
		m[p] = 3
	}
	s.sc.Control.Rewind(m)
	return nil
}

// TestSinkRewind starts consumption where the task says.
func TestSinkRewind(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "rw", 1)
	produce(t, addr, jsonRecords("rw", 0, 10)...)
	env, _, _ := newEnv(t, addr)
	sink := &rewindSink{}
	tk := startTask(t, sinkSpec("rw", 0, map[string]string{"topics": "rw"}, sink), env)
	eventually(t, 10*time.Second, "records", func() bool { return sink.count() == 7 })
	stopTask(t, tk)
	if got := ids(sink.got()); got[0] != 3 {
		t.Fatalf("first record %d, want 3", got[0])
	}
}

// openHungSink blocks in Open until released.
type openHungSink struct {
	memSink
	release chan struct{}
}

func (s *openHungSink) Open(ctx context.Context, sc connectors.SinkContext, cfg map[string]string) error {
	<-s.release
	return s.memSink.Open(ctx, sc, cfg)
}

// TestSinkStopHungOpen: a task abandoned in Open never joins the group
// once Open returns.
func TestSinkStopHungOpen(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "ho", 1)
	produce(t, addr, jsonRecords("ho", 0, 5)...)
	env, _, _ := newEnv(t, addr)
	hung := &openHungSink{release: make(chan struct{})}
	tk, err := Start(context.Background(), sinkSpec("ho", 0, map[string]string{"topics": "ho"}, hung), env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := tk.Stop(ctx); !errors.Is(err, ErrAbandoned) {
		t.Fatalf("Stop: %v", err)
	}
	close(hung.release)
	next := &memSink{}
	tk2 := startTask(t, sinkSpec("ho", 1, map[string]string{"topics": "ho"}, next), env)
	eventually(t, 10*time.Second, "the live task gets every record", func() bool { return next.count() == 5 })
	time.Sleep(200 * time.Millisecond)
	if n := hung.count(); n != 0 {
		t.Fatalf("the abandoned task received %d records", n)
	}
	stopTask(t, tk2)
}

// captureHandler keeps the attributes of Error records.
type captureHandler struct {
	root   *captureHandler // where records go; nil means this one
	mu     sync.Mutex
	attrs  []slog.Attr // from With
	errors []map[string]string
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelError {
		return nil
	}
	m := map[string]string{"msg": r.Message}
	for _, a := range h.attrs {
		m[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	root := h.root
	if root == nil {
		root = h
	}
	root.mu.Lock()
	defer root.mu.Unlock()
	root.errors = append(root.errors, m)
	return nil
}
func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{attrs: append(slices.Clone(h.attrs), as...), root: h.root}
}
func (h *captureHandler) WithGroup(string) slog.Handler { return h }

// TestSinkErrorLog: errors.log.enable logs the stage and the record's
// coordinates; its contents only with errors.log.include.messages.
func TestSinkErrorLog(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "el", 1)
	produce(t, addr, poisonRecords("el")...)
	for _, include := range []string{"false", "true"} {
		t.Run("include.messages="+include, func(t *testing.T) {
			env, _, _ := newEnv(t, addr)
			h := &captureHandler{}
			h.root = h
			env.Logger = slog.New(h)
			sink := &memSink{}
			tk := startTask(t, sinkSpec("el"+include, 0, map[string]string{"topics": "el", "errors.tolerance": "all",
				"errors.log.enable": "true", "errors.log.include.messages": include}, sink), env)
			eventually(t, 10*time.Second, "records", func() bool { return sink.count() == 4 })
			stopTask(t, tk)
			h.root.mu.Lock()
			defer h.root.mu.Unlock()
			if len(h.root.errors) != 1 {
				t.Fatalf("%d error lines: %v", len(h.root.errors), h.root.errors)
			}
			e := h.root.errors[0]
			for k, want := range map[string]string{"component": "task", "connector": "el" + include, "task": "0",
				"stage": "VALUE_CONVERTER", "topic": "el", "partition": "0", "offset": "3"} {
				if e[k] != want {
					t.Errorf("%s = %q, want %q (%v)", k, e[k], want, e)
				}
			}
			if _, ok := e["value"]; ok != (include == "true") {
				t.Errorf("record value logged: %v, want %s", ok, include)
			}
		})
	}
}

// TestSinkLargePollsKeepOrder: polls large enough to be converted in
// parallel deliver records in offset order, and a poison record among
// them is handled like any other.
func TestSinkLargePollsKeepOrder(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "lp", 1)
	recs := jsonRecords("lp", 0, 2000)
	recs[777].Value = []byte("nope")
	produce(t, addr, recs...)
	env, _, _ := newEnv(t, addr)
	sink := &memSink{}
	tk := startTask(t, sinkSpec("lp", 0, map[string]string{"topics": "lp", "errors.tolerance": "all",
		"errors.deadletterqueue.topic.name": "lp-dlq", "consumer.override.max.poll.records": "1000"}, sink), env)
	eventually(t, 20*time.Second, "all good records", func() bool { return sink.count() == 1999 })
	got := ids(sink.got())
	want := int64(0)
	for _, id := range got {
		if want == 777 {
			want++
		}
		if id != want {
			t.Fatalf("record %d where %d was expected", id, want)
		}
		want++
	}
	if d := consume(t, addr, "lp-dlq", 1)[0]; string(d.Value) != "nope" {
		t.Errorf("DLQ value %q", d.Value)
	}
	stopTask(t, tk)
}

// TestSinkSlowSinkBoundsFetching: with a slow sink, the consumer buffers
// at most max.concurrent.fetches × fetch.max.bytes, not the topic. (The
// bound is on fetched bytes: compressed batches expand beyond it, which
// is why the records here are produced uncompressed.)
func TestSinkSlowSinkBoundsFetching(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "slow", 4)
	payload := strings.Repeat("x", 1000)
	var recs []*kgo.Record
	for i := range 20000 {
		recs = append(recs, &kgo.Record{Topic: "slow", Partition: int32(i % 4), Value: []byte(`"` + payload + `"`)})
	}
	produce(t, addr, recs...)
	env, _, _ := newEnv(t, addr)
	sink := &memSink{putFn: func(ctx context.Context, _ connectors.SinkContext, recs []connectors.Record) error {
		if len(recs) > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		return nil
	}}
	const fetchMax, fetches = 1 << 20, 2
	tk := startTask(t, sinkSpec("slow", 0, map[string]string{"topics": "slow",
		"consumer.override.max.poll.records": "100", "consumer.override.fetch.max.bytes": fmt.Sprint(fetchMax),
		"consumer.override.max.partition.fetch.bytes": fmt.Sprint(fetchMax / 4)}, sink), env)
	cl := tk.runner.(*sinkRunner)
	var peak int64
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		cl.clMu.Lock()
		c := cl.cl
		cl.clMu.Unlock()
		if c != nil {
			peak = max(peak, c.BufferedFetchBytes())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if sink.count() == 0 || sink.count() > 10000 {
		t.Fatalf("%d records delivered: the test needs a sink slower than the topic", sink.count())
	}
	// Buffered bytes count whole records (key, value, headers), so allow
	// one extra partition's worth for the record that crosses the limit.
	if bound := int64(fetches*fetchMax + fetchMax/4); peak > bound {
		t.Fatalf("consumer buffered %d bytes, bound %d", peak, bound)
	}
	t.Logf("peak buffered fetch bytes %d with %d delivered (topic ~20 MB)", peak, sink.count())
	stopTask(t, tk)
}

// TestSinkErrantToleranceNone: an errant record under tolerance none fails
// the task even if the sink ignores Report's error, and nothing past the
// batch is committed.
func TestSinkErrantToleranceNone(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "en", 1)
	produce(t, addr, jsonRecords("en", 0, 5)...)
	env, st, _ := newEnv(t, addr)
	sink := &memSink{putFn: func(ctx context.Context, sc connectors.SinkContext, recs []connectors.Record) error {
		for _, r := range recs {
			if r.Offset == 2 {
				_ = sc.Errant.Report(ctx, r, errors.New("rejected")) // ignored
			}
		}
		return nil
	}}
	tk := startTask(t, sinkSpec("en", 0, map[string]string{"topics": "en", "errors.log.enable": "true"}, sink), env)
	waitDone(t, tk, 10*time.Second)
	var re *RecordError
	if err := tk.Err(); !errors.Is(err, ErrToleranceExceeded) || !errors.As(err, &re) || re.Stage != StageTaskPut || re.Offset != 2 {
		t.Fatalf("err %v", err)
	}
	if st.last() != "failed" {
		t.Errorf("status %q", st.last())
	}
	if got, ok := committedOffsets(t, addr, "connect-en")[connectors.TopicPartition{Topic: "en"}]; ok && got > 0 {
		t.Fatalf("committed %d past the failed batch", got)
	}
}
