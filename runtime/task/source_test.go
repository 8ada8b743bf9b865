package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/connectors"
)

var orderSchema = connectors.StructSchema().Name("order").
	Field("id", connectors.Int64Schema).Field("name", connectors.StringSchema).MustBuild()

func orderValue(i int64) (*connectors.Schema, any) {
	s := connectors.NewStruct(orderSchema)
	_ = s.Put("id", i)
	_ = s.Put("name", fmt.Sprintf("n%d", i))
	return orderSchema, s
}

func sourceSpec(name string, cfg map[string]string, src connectors.Source) Spec {
	cc := map[string]string{"name": name}
	for k, v := range cfg {
		cc[k] = v
	}
	return Spec{Connector: name, Task: 0, ConnectorConfig: cc, TaskConfig: map[string]string{},
		Instance: sourceConnector{newTask: func() connectors.Source { return src }}}
}

func startTask(t testing.TB, spec Spec, env Env) *Task {
	t.Helper()
	tk, err := Start(context.Background(), spec, env)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tk.Stop(ctx)
	})
	return tk
}

func waitDone(t testing.TB, tk *Task, timeout time.Duration) {
	t.Helper()
	select {
	case <-tk.Done():
	case <-time.After(timeout):
		t.Fatalf("task not done after %v", timeout)
	}
}

// TestSourceJSONConverters produces records through JsonConverter with and
// without schemas, StringConverter keys and SimpleHeaderConverter headers,
// and checks the bytes, the stored offsets, Commit and KIP-558 topics.
func TestSourceJSONConverters(t *testing.T) {
	addr := startBroker(t)
	for _, tc := range []struct {
		schemas string
		want    string // value of record 3
	}{
		{"true", `{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":false,"field":"name"}],"optional":false,"name":"order"},"payload":{"id":3,"name":"n3"}}`},
		{"false", `{"id":3,"name":"n3"}`},
	} {
		t.Run("schemas.enable="+tc.schemas, func(t *testing.T) {
			topic := "orders-" + tc.schemas
			env, st, offs := newEnv(t, addr)
			env.Worker.ValueConverter = "org.apache.kafka.connect.json.JsonConverter"
			env.Worker.ConverterConfigs = map[string]string{"value.converter.schemas.enable": tc.schemas}
			src := &genSource{topic: topic, total: 10, batch: 4, makeValue: orderValue,
				modify: func(r *connectors.Record) { r.Headers.Add("h", connectors.StringSchema, "v") }}
			tk := startTask(t, sourceSpec("src", map[string]string{
				"key.converter": "org.apache.kafka.connect.storage.StringConverter",
			}, src), env)
			waitDone(t, tk, 20*time.Second)
			if err := tk.Err(); err != nil {
				t.Fatalf("task error: %v", err)
			}
			recs := consume(t, addr, topic, 10)
			r := recs[3]
			if string(r.Key) != "k3" || string(r.Value) != tc.want {
				t.Errorf("record 3 = %s / %s\nwant k3 / %s", r.Key, r.Value, tc.want)
			}
			if v, _ := header(r, "h"); v != "v" {
				t.Errorf("header h = %q, want v", v)
			}
			if got := offs.get(genPartition); got == nil || got["pos"] != int64(9) {
				t.Errorf("stored offset = %v, want pos 9", got)
			}
			if c := src.lastCommitted(); len(c) != 1 || c[0].Offset["pos"] != int64(9) {
				t.Errorf("Commit got %v, want pos 9", c)
			}
			if !src.closed {
				t.Error("Close not called")
			}
			if got := st.usedTopics(); len(got) != 1 || got[0] != topic {
				t.Errorf("TopicUsed = %v, want [%s]", got, topic)
			}
		})
	}
}

// highWatermark returns the end offset of partition 0 of topic.
func highWatermark(addr, topic string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp = 0, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, err
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return 0, err
	}
	return p.Offset, nil
}

// TestSourceOffsetsAfterAckAndResume checks that a stored offset never
// runs ahead of what the broker holds (checked at every Store while the
// broker stops answering for a while), and that a new task resumes from
// the stored offset with no gap.
func TestSourceOffsetsAfterAckAndResume(t *testing.T) {
	addr := startBroker(t)
	const topic = "resume"
	createTopic(t, addr, topic, 1)
	g := newGate()
	env, _, offs := newEnv(t, addr, g.dialer())
	env.Worker.ValueConverter = "org.apache.kafka.connect.converters.ByteArrayConverter"
	var vmu sync.Mutex
	var violations []string
	offs.beforeStore = func(so []connectors.SourceOffset) {
		vmu.Lock()
		defer vmu.Unlock()
		hw, err := highWatermark(addr, topic)
		if err != nil {
			violations = append(violations, err.Error())
			return
		}
		for _, o := range so {
			if pos := o.Offset["pos"].(int64); pos >= hw {
				violations = append(violations, fmt.Sprintf("stored pos %d with high watermark %d", pos, hw))
			}
		}
	}
	src := &genSource{topic: topic, batch: 20, pollDelay: time.Millisecond,
		makeValue: func(i int64) (*connectors.Schema, any) { return connectors.BytesSchema, []byte(fmt.Sprint(i)) }}
	tk := startTask(t, sourceSpec("resume", nil, src), env)
	eventually(t, 10*time.Second, "first offsets stored", func() bool { return offs.get(genPartition) != nil })
	g.close()
	polledAtClose := src.polled.Load()
	time.Sleep(400 * time.Millisecond) // several flush intervals without acks
	if stored := offs.get(genPartition)["pos"].(int64); stored >= src.polled.Load() {
		t.Fatalf("stored pos %d while only %d records were polled", stored, src.polled.Load())
	}
	g.reopen()
	eventually(t, 10*time.Second, "offsets move again", func() bool {
		return offs.get(genPartition)["pos"].(int64) > polledAtClose
	})
	stopTask(t, tk)
	last := src.polled.Load() - 1
	if got := offs.get(genPartition)["pos"].(int64); got != last {
		t.Fatalf("after stop stored pos %d, want the last polled %d", got, last)
	}

	// A new task resumes right after the stored offset.
	src2 := &genSource{topic: topic, total: last + 51, batch: 20,
		makeValue: func(i int64) (*connectors.Schema, any) { return connectors.BytesSchema, []byte(fmt.Sprint(i)) }}
	tk2 := startTask(t, sourceSpec("resume", nil, src2), env)
	waitDone(t, tk2, 20*time.Second)
	if err := tk2.Err(); err != nil {
		t.Fatal(err)
	}
	if src2.polled.Load() != 50 {
		t.Fatalf("second task polled %d records, want 50", src2.polled.Load())
	}
	recs := consume(t, addr, topic, int(last+51))
	for i, r := range recs[:last+51] {
		if string(r.Value) != fmt.Sprint(i) {
			t.Fatalf("record at offset %d is %q: gap or duplicate", i, r.Value)
		}
	}
	vmu.Lock()
	defer vmu.Unlock()
	if len(violations) > 0 {
		t.Fatalf("offsets stored before the broker acknowledged them: %v", violations)
	}
}

// TestSourceBackPressure stops the broker from answering and checks that
// the task stops polling once buffer.memory worth of records is in flight.
func TestSourceBackPressure(t *testing.T) {
	addr := startBroker(t)
	const topic = "pressure"
	createTopic(t, addr, topic, 1)
	g := newGate()
	env, _, _ := newEnv(t, addr, g.dialer())
	env.Worker.ValueConverter = "org.apache.kafka.connect.converters.ByteArrayConverter"
	const recSize, bufMem, batch = 1024, 64 << 10, 10
	payload := make([]byte, recSize)
	src := &genSource{topic: topic, batch: batch,
		makeValue: func(int64) (*connectors.Schema, any) { return connectors.BytesSchema, payload }}
	tk := startTask(t, sourceSpec("pressure", map[string]string{
		"producer.override.buffer.memory": fmt.Sprint(bufMem),
		"producer.override.linger.ms":     "0",
	}, src), env)
	produced := func() int64 { return int64(metricValue(tk.met.produced)) }
	eventually(t, 10*time.Second, "records flow", func() bool { return produced() > 100 })
	g.close()
	var polled int64
	eventually(t, 10*time.Second, "polling stops", func() bool {
		p := src.polled.Load()
		time.Sleep(200 * time.Millisecond)
		polled = src.polled.Load()
		return p == polled
	})
	inFlight := polled - produced()
	if bound := int64(bufMem/recSize + 2*batch); inFlight > bound {
		t.Fatalf("%d records polled but unacknowledged, bound %d", inFlight, bound)
	}
	t.Logf("in flight with the broker stalled: %d records (buffer.memory %d B)", inFlight, bufMem)
	g.reopen()
	eventually(t, 10*time.Second, "records flow again", func() bool { return src.polled.Load() > polled+100 })
	stopTask(t, tk)
}

// TestSourceEndOfInputAndRecordCommitter finishes a finite source: every
// record is acknowledged through CommitRecord in order, a Filter-dropped
// record with nil metadata, and the task ends with a nil error.
func TestSourceEndOfInputAndRecordCommitter(t *testing.T) {
	addr := startBroker(t)
	env, st, offs := newEnv(t, addr)
	src := ackingSource{&genSource{topic: "eoi", total: 30, batch: 7,
		modify: func(r *connectors.Record) {
			if r.SourceOffset["pos"] == int64(10) {
				r.Headers.Add("drop", nil, "yes")
			}
		}}}
	tk := startTask(t, sourceSpec("eoi", map[string]string{
		"transforms": "drop", "transforms.drop.type": "Filter", "transforms.drop.predicate": "hasDrop",
		"predicates": "hasDrop", "predicates.hasDrop.type": "HasHeaderKey", "predicates.hasDrop.name": "drop",
	}, src), env)
	waitDone(t, tk, 20*time.Second)
	if err := tk.Err(); err != nil {
		t.Fatal(err)
	}
	if got := offs.get(genPartition)["pos"]; got != int64(29) {
		t.Fatalf("stored pos %v, want 29", got)
	}
	src.mu.Lock()
	acked := src.acked
	src.mu.Unlock()
	if len(acked) != 30 {
		t.Fatalf("CommitRecord called %d times, want 30: %v", len(acked), acked)
	}
	seen := map[int64]bool{}
	for _, a := range acked {
		seen[a] = true
	}
	if !seen[-11] || seen[10] {
		t.Errorf("dropped record 10 should be committed with nil metadata: %v", acked)
	}
	if recs := consume(t, addr, "eoi", 29); len(recs) != 29 {
		t.Errorf("topic has %d records, want 29", len(recs))
	}
	if st.last() != "running" {
		t.Errorf("status %q, want running", st.last())
	}
}

// TestSourceExplicitPartitionAndTimestamp sends records to the partition
// and with the timestamp the task set.
func TestSourceExplicitPartitionAndTimestamp(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "parts", 3)
	env, _, _ := newEnv(t, addr)
	ts := time.UnixMilli(1_700_000_000_123)
	src := &genSource{topic: "parts", total: 20, modify: func(r *connectors.Record) {
		r.Partition = connectors.PartitionOf(2)
		r.Timestamp = ts
	}}
	tk := startTask(t, sourceSpec("parts", nil, src), env)
	waitDone(t, tk, 20*time.Second)
	for _, r := range consume(t, addr, "parts", 20) {
		if r.Partition != 2 || !r.Timestamp.Equal(ts) {
			t.Fatalf("record in partition %d at %v, want 2 at %v", r.Partition, r.Timestamp, ts)
		}
	}
}

// TestSourcePauseResume pauses polling and resumes it.
func TestSourcePauseResume(t *testing.T) {
	addr := startBroker(t)
	env, st, _ := newEnv(t, addr)
	src := &genSource{topic: "pr", batch: 5, pollDelay: 5 * time.Millisecond}
	tk := startTask(t, sourceSpec("pr", nil, src), env)
	eventually(t, 10*time.Second, "polling", func() bool { return src.polled.Load() > 20 })
	tk.Pause()
	eventually(t, 5*time.Second, "paused status", func() bool { return st.last() == "paused" })
	n := src.polled.Load()
	time.Sleep(100 * time.Millisecond)
	if src.polled.Load() != n {
		t.Fatalf("polled %d records while paused", src.polled.Load()-n)
	}
	tk.Resume()
	eventually(t, 5*time.Second, "running again", func() bool { return st.last() == "running" && src.polled.Load() > n })
	stopTask(t, tk)
}

// poisonSource's record 5 has a value that does not match its schema.
func poisonSource(topic string, total int64) *genSource {
	return &genSource{topic: topic, total: total, batch: 3, modify: func(r *connectors.Record) {
		if r.SourceOffset["pos"] == int64(5) {
			r.ValueSchema, r.Value = connectors.Int32Schema, "not a number"
		}
	}}
}

// TestSourceDLQ sends a source record that cannot be converted to the dead
// letter queue (beyond Kafka Connect) and keeps going.
func TestSourceDLQ(t *testing.T) {
	addr := startBroker(t)
	env, _, offs := newEnv(t, addr)
	src := poisonSource("sdlq", 10)
	tk := startTask(t, sourceSpec("sdlq", map[string]string{
		"errors.tolerance": "all", "errors.log.enable": "true",
		"errors.deadletterqueue.topic.name":             "sdlq-dlq",
		"errors.deadletterqueue.context.headers.enable": "true",
	}, src), env)
	waitDone(t, tk, 20*time.Second)
	if err := tk.Err(); err != nil {
		t.Fatal(err)
	}
	if got := offs.get(genPartition)["pos"]; got != int64(9) {
		t.Fatalf("stored pos %v, want 9 (past the skipped record)", got)
	}
	if recs := consume(t, addr, "sdlq", 9); len(recs) != 9 {
		t.Fatalf("%d records in the topic, want 9", len(recs))
	}
	d := consume(t, addr, "sdlq-dlq", 1)[0]
	if d.Key != nil {
		t.Errorf("DLQ key %q, want null", d.Key)
	}
	var doc map[string]any
	if err := json.Unmarshal(d.Value, &doc); err != nil {
		t.Fatalf("DLQ value is not JSON: %v: %s", err, d.Value)
	}
	if doc["topic"] != "sdlq" || doc["value"] != "not a number" || doc["key"] != "k5" ||
		doc["source_offset"].(map[string]any)["pos"] != float64(5) {
		t.Errorf("DLQ document %s", d.Value)
	}
	for k, want := range map[string]string{HeaderStage: "VALUE_CONVERTER", HeaderTopic: "sdlq", HeaderPartition: "-1",
		HeaderOffset: "-1", HeaderConnector: "sdlq", HeaderTaskID: "0",
		HeaderClass: "org.apache.kafka.connect.json.JsonConverter"} {
		if v, _ := header(d, k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	if v, _ := header(d, HeaderException); v == "" {
		t.Error("no exception class header")
	}
	if got := metricValue(tk.met.dlq); got != 1 {
		t.Errorf("dlq metric %v, want 1", got)
	}
	if got := metricValue(tk.met.skipped); got != 1 {
		t.Errorf("skipped metric %v, want 1", got)
	}
}

// TestSourceToleranceNone fails the task on the poison record with a trace
// naming the stage and the record; earlier offsets stay committable.
func TestSourceToleranceNone(t *testing.T) {
	addr := startBroker(t)
	env, st, offs := newEnv(t, addr)
	src := poisonSource("snone", 10)
	tk := startTask(t, sourceSpec("snone", nil, src), env)
	waitDone(t, tk, 20*time.Second)
	err := tk.Err()
	var re *RecordError
	if !errors.Is(err, ErrToleranceExceeded) || !errors.As(err, &re) || re.Stage != StageValueConverter {
		t.Fatalf("err = %v, want a VALUE_CONVERTER RecordError", err)
	}
	if !strings.Contains(err.Error(), "VALUE_CONVERTER") || !strings.Contains(err.Error(), "topic=snone") {
		t.Errorf("trace %q lacks stage or topic", err)
	}
	if st.last() != "failed" || st.failure() == nil {
		t.Errorf("status %q, want failed", st.last())
	}
	if got := offs.get(genPartition); got == nil || got["pos"].(int64) >= 5 {
		t.Errorf("stored offset %v, want one before the poison record", got)
	}
}

// hungSource blocks in Poll, ignoring ctx, until released.
type hungSource struct {
	genSource
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (h *hungSource) Poll(ctx context.Context) ([]connectors.Record, error) {
	if h.polled.Load() >= 20 {
		h.once.Do(func() { close(h.entered) })
		<-h.release
	}
	return h.genSource.Poll(ctx)
}

// TestSourceStopHungPoll: Stop returns at its deadline when Poll hangs,
// and the abandoned task stores no offsets afterwards.
func TestSourceStopHungPoll(t *testing.T) {
	addr := startBroker(t)
	env, st, offs := newEnv(t, addr)
	src := &hungSource{genSource: genSource{topic: "hp", batch: 10}, entered: make(chan struct{}), release: make(chan struct{})}
	tk, err := Start(context.Background(), sourceSpec("hp", nil, src), env)
	if err != nil {
		t.Fatal(err)
	}
	<-src.entered
	eventually(t, 5*time.Second, "offsets of the first records", func() bool {
		o := offs.get(genPartition)
		return o != nil && o["pos"] == int64(19)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := tk.Stop(ctx); !errors.Is(err, ErrAbandoned) {
		t.Fatalf("Stop: %v, want ErrAbandoned", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Stop took %v", d)
	}
	offs.mu.Lock()
	stores := len(offs.stores)
	offs.mu.Unlock()
	close(src.release) // the zombie polls once more, then sees it must stop
	time.Sleep(300 * time.Millisecond)
	offs.mu.Lock()
	defer offs.mu.Unlock()
	if len(offs.stores) != stores {
		t.Fatalf("the abandoned task stored offsets %v", offs.stores[stores:])
	}
	if st.last() != "running" {
		t.Errorf("status %q: an abandoned task must not report", st.last())
	}
}

// TestSourceTopicCreation creates the topics a source writes to with the
// settings of their topic.creation group (KIP-158).
func TestSourceTopicCreation(t *testing.T) {
	addr := startBroker(t)
	env, _, _ := newEnv(t, addr)
	src := &genSource{topic: "tc-orders", total: 10, modify: func(r *connectors.Record) {
		if r.SourceOffset["pos"].(int64)%2 == 1 {
			r.Topic = "tc-logs"
		}
	}}
	tk := startTask(t, sourceSpec("tc", map[string]string{
		"topic.creation.default.replication.factor": "-1", "topic.creation.default.partitions": "3",
		"topic.creation.groups": "logs", "topic.creation.logs.include": "tc-log.*",
		"topic.creation.logs.partitions": "2", "topic.creation.logs.cleanup.policy": "compact",
	}, src), env)
	waitDone(t, tk, 20*time.Second)
	if err := tk.Err(); err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, addr)
	req := kmsg.NewPtrMetadataRequest()
	for _, name := range []string{"tc-orders", "tc-logs"} {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]int{}
	for _, rt := range resp.Topics {
		parts[*rt.Topic] = len(rt.Partitions)
	}
	if parts["tc-orders"] != 3 || parts["tc-logs"] != 2 {
		t.Fatalf("partitions %v, want tc-orders 3, tc-logs 2", parts)
	}
	dreq := kmsg.NewPtrDescribeConfigsRequest()
	dr := kmsg.NewDescribeConfigsRequestResource()
	dr.ResourceType, dr.ResourceName = kmsg.ConfigResourceTypeTopic, "tc-logs"
	dreq.Resources = append(dreq.Resources, dr)
	dresp, err := dreq.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, c := range dresp.Resources[0].Configs {
		if c.Name == "cleanup.policy" && c.Value != nil {
			policy = *c.Value
		}
	}
	if policy != "compact" {
		t.Errorf("tc-logs cleanup.policy %q, want compact", policy)
	}
}

// TestSourceLargePollsKeepOrder: polls large enough to be converted in
// parallel are produced in order, with a poison record skipped to the DLQ
// and offsets stored to the end.
func TestSourceLargePollsKeepOrder(t *testing.T) {
	addr := startBroker(t)
	createTopic(t, addr, "slp", 1)
	env, _, offs := newEnv(t, addr)
	src := &genSource{topic: "slp", total: 2000, batch: 500, modify: func(r *connectors.Record) {
		if r.SourceOffset["pos"] == int64(777) {
			r.ValueSchema, r.Value = connectors.Int32Schema, "x"
		}
	}}
	tk := startTask(t, sourceSpec("slp", map[string]string{"errors.tolerance": "all",
		"errors.deadletterqueue.topic.name": "slp-dlq", "value.converter.schemas.enable": "false",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter"}, src), env)
	waitDone(t, tk, 20*time.Second)
	if err := tk.Err(); err != nil {
		t.Fatal(err)
	}
	recs := consume(t, addr, "slp", 1999)
	want := 0
	for _, r := range recs {
		if want == 777 {
			want++
		}
		if string(r.Value) != fmt.Sprint(want) {
			t.Fatalf("value %s where %d was expected", r.Value, want)
		}
		want++
	}
	if got := offs.get(genPartition)["pos"]; got != int64(1999) {
		t.Fatalf("stored pos %v", got)
	}
	if d := consume(t, addr, "slp-dlq", 1)[0]; !strings.Contains(string(d.Value), `"value":"x"`) {
		t.Errorf("DLQ value %s", d.Value)
	}
}
