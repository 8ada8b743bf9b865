package runtime

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker/brokertest"
)

// The exact bytes Kafka Connect writes (JsonConverter, schemas disabled).
func TestRecordEncodings(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"target started", encodeTargetState(TargetStarted), `{"state":"STARTED","state.v2":"STARTED"}`},
		{"target paused", encodeTargetState(TargetPaused), `{"state":"PAUSED","state.v2":"PAUSED"}`},
		{"target stopped", encodeTargetState(TargetStopped), `{"state":"PAUSED","state.v2":"STOPPED"}`},
		{"commit", encodeCommit(3), `{"tasks":3}`},
		{"restart", encodeRestart(true, false), `{"include-tasks":true,"only-failed":false}`},
		{"logger", encodeLoggerLevel("DEBUG"), `{"level":"DEBUG"}`},
		{"properties", encodeProperties(map[string]string{"name": "a \"b\"\n"}), `{"properties":{"name":"a \"b\"\n"}}`},
		{"status", encodeStatus(statusRecord{State: StateRunning, WorkerID: "10.0.0.5:8083", Generation: 7}),
			`{"state":"RUNNING","trace":null,"worker_id":"10.0.0.5:8083","generation":7}`},
		{"status with trace", encodeStatus(statusRecord{State: StateFailed, Trace: "boom\n\tat x", WorkerID: "w:1", Generation: 1}),
			`{"state":"FAILED","trace":"boom\n\tat x","worker_id":"w:1","generation":1}`},
		{"topic status", encodeTopicStatus(topicStatus{Topic: "orders", Connector: "src", Task: 2, DiscoverMs: 1700000000123}),
			`{"topic":{"name":"orders","connector":"src","task":2,"discoverTimestamp":1700000000123}}`},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.name, tc.got, tc.want)
		}
	}
	k, err := encodeOffsetKey("jdbc-src", map[string]any{"table": "orders"})
	if err != nil || string(k) != `["jdbc-src",{"table":"orders"}]` {
		t.Errorf("offset key: %s %v", k, err)
	}
	v, err := encodeOffsetValue(map[string]any{"id": int64(1042)})
	if err != nil || string(v) != `{"id":1042}` {
		t.Errorf("offset value: %s %v", v, err)
	}
	if v, _ := encodeOffsetValue(nil); v != nil {
		t.Errorf("tombstone: %s", v)
	}
}

func TestDecodeJavaWrittenRecords(t *testing.T) {
	// Member order and number types as a Java worker may write them.
	c, p, ok := decodeOffsetKey([]byte(`["src",{"b":1,"a":"x"}]`))
	if !ok || c != "src" || canonicalPartition(p) != canonicalPartition(map[string]any{"a": "x", "b": 1}) {
		t.Errorf("offset key: %v %v %v", c, p, ok)
	}
	for _, bad := range []string{`{"a":1}`, `["src"]`, `[1,{}]`, `["src","x"]`, `not json`} {
		if _, _, ok := decodeOffsetKey([]byte(bad)); ok {
			t.Errorf("accepted offset key %s", bad)
		}
	}
	r := newConfigReader(discardLogger())
	if evs := r.apply("target-state-x", []byte(`{"state":"PAUSED"}`)); len(evs) != 1 || evs[0].(evTargetState).State != TargetPaused {
		t.Errorf("pre-3.5 target state: %v", evs)
	}
	if evs := r.apply("target-state-x", []byte(`{"state":"PAUSED","state.v2":"STOPPED"}`)); evs[0].(evTargetState).State != TargetStopped {
		t.Errorf("state.v2 wins: %v", evs)
	}
	st, err := decodeStatus([]byte(`{"state":"FAILED","trace":"t","worker_id":"w:8083","generation":12}`))
	if err != nil || st != (statusRecord{State: StateFailed, Trace: "t", WorkerID: "w:8083", Generation: 12}) {
		t.Errorf("status: %+v %v", st, err)
	}
}

func TestConfigReader(t *testing.T) {
	r := newConfigReader(discardLogger())
	props := func(kv ...string) []byte {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return encodeProperties(m)
	}
	type rec struct {
		key   string
		value []byte
		want  string
	}
	for i, tc := range []rec{
		{"connector-my-conn", props("a", "1"), "config my-conn a=1"},
		{"task-my-conn-1", props("t", "1"), ""},
		{"task-my-conn-0", props("t", "0"), ""},
		{"commit-my-conn", encodeCommit(2), "tasks my-conn [t=0 t=1] applied a=1"},
		// Incomplete (compacted) commit: inconsistent.
		{"task-my-conn-1", props("t", "x"), ""},
		{"commit-my-conn", encodeCommit(2), "inconsistent my-conn"},
		{"commit-orphan", encodeCommit(0), ""},
		{"restart-connector-my-conn", encodeRestart(true, true), ""}, // before start-up: ignored
		{"logger-cluster-a.b", encodeLoggerLevel("WARN"), ""},
		{"session-key", []byte(`{"key":"x","algorithm":"HmacSHA256","creation-timestamp":1}`), ""},
		{"connector-my-conn", nil, "config my-conn <removed>"},
		{"target-state-my-conn", nil, "target my-conn "},
	} {
		got := describeEvents(r.apply(tc.key, tc.value))
		if got != tc.want {
			t.Errorf("record %d %s: got %q, want %q", i, tc.key, got, tc.want)
		}
	}
	r.started = true
	if got := describeEvents(r.apply("restart-connector-c", encodeRestart(true, false))); got != "restart c true false" {
		t.Errorf("restart after start: %q", got)
	}
	if got := describeEvents(r.apply("logger-cluster-a.b", encodeLoggerLevel("WARN"))); got != "logger a.b WARN" {
		t.Errorf("logger after start: %q", got)
	}
}

func describeEvents(evs []event) string {
	var parts []string
	kv := func(m map[string]string) string {
		var s []string
		for _, k := range sortedKeysOf(m) {
			s = append(s, k+"="+m[k])
		}
		return strings.Join(s, ",")
	}
	for _, ev := range evs {
		switch e := ev.(type) {
		case evConnectorConfig:
			if e.Config == nil {
				parts = append(parts, "config "+e.Name+" <removed>")
			} else {
				parts = append(parts, "config "+e.Name+" "+kv(e.Config))
			}
		case evTargetState:
			parts = append(parts, "target "+e.Name+" "+string(e.State))
		case evTaskConfigs:
			if e.Inconsistent {
				parts = append(parts, "inconsistent "+e.Name)
				continue
			}
			var ts []string
			for _, c := range e.Configs {
				ts = append(ts, kv(c))
			}
			parts = append(parts, "tasks "+e.Name+" ["+strings.Join(ts, " ")+"] applied "+kv(e.Applied))
		case evRestartRequest:
			parts = append(parts, fmt.Sprintf("restart %s %v %v", e.Name, e.IncludeTasks, e.OnlyFailed))
		case evLoggerLevel:
			parts = append(parts, "logger "+e.Namespace+" "+e.Level)
		default:
			parts = append(parts, fmt.Sprintf("%T", ev))
		}
	}
	return strings.Join(parts, "; ")
}

// TestInternalTopicsOnTheWire reads the internal topics with a plain
// Kafka client and checks the records a worker wrote.
func TestInternalTopicsOnTheWire(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	dir := t.TempDir()
	in, out := fileConnectors(t, w, dir, "wire")
	appendLines(t, in, "a", "b")
	waitLines(t, out, []string{"a", "b"})
	waitState(t, h, "local-file-source", StateRunning, 1)
	if err := h.PauseConnector(ctx, "local-file-source"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.RestartConnector(ctx, "local-file-sink", true, true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.SetLoggerLevel(ctx, "sluice.runtime", "debug", "cluster"); err != nil {
		t.Fatal(err)
	}
	if err := h.StopConnector(ctx, "local-file-source"); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "local-file-source", StateStopped, 0)

	byKey := map[string][]string{}
	for _, r := range readTopic(t, w, "connect-configs") {
		byKey[string(r.Key)] = append(byKey[string(r.Key)], string(r.Value))
	}
	expect := func(key string, values ...string) {
		t.Helper()
		got := byKey[key]
		if strings.Join(got, "\n") != strings.Join(values, "\n") {
			t.Errorf("%s:\n got  %q\n want %q", key, got, values)
		}
	}
	expect("target-state-local-file-source", `{"state":"PAUSED","state.v2":"PAUSED"}`, `{"state":"PAUSED","state.v2":"STOPPED"}`)
	expect("commit-local-file-source", `{"tasks":1}`, `{"tasks":0}`)
	expect("commit-local-file-sink", `{"tasks":1}`)
	expect("restart-connector-local-file-sink", `{"include-tasks":true,"only-failed":true}`)
	expect("logger-cluster-sluice.runtime", `{"level":"DEBUG"}`)
	if got := byKey["connector-local-file-source"]; len(got) != 1 || !strings.HasPrefix(got[0], `{"properties":{`) {
		t.Errorf("connector record: %q", got)
	}
	props, err := decodeProperties([]byte(byKey["connector-local-file-source"][0]))
	if err != nil || props["file"] != in || props["name"] != "local-file-source" || props["connector.class"] != "FileStreamSource" {
		t.Errorf("connector props: %v %v", props, err)
	}
	task, _ := decodeProperties([]byte(byKey["task-local-file-sink-0"][0]))
	if task["task.class"] != "org.apache.kafka.connect.file.FileStreamSinkTask" || task["topics"] != "wire" {
		t.Errorf("task config: %v", task)
	}

	status := map[string]string{}
	for _, r := range readTopic(t, w, "connect-status") {
		status[string(r.Key)] = string(r.Value)
	}
	// The generation is the group's at the write (each connector created
	// or stopped rebalances the group).
	if got := status["status-connector-local-file-source"]; !regexp.MustCompile(`^\{"state":"STOPPED","trace":null,"worker_id":"127.0.0.1:18083","generation":[1-9]\d*\}$`).MatchString(got) {
		t.Errorf("connector status record: %s", got)
	}
	if got := status["status-task-local-file-sink-0"]; !regexp.MustCompile(`^\{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:18083","generation":[1-9]\d*\}$`).MatchString(got) {
		t.Errorf("task status record: %s", got)
	}
	topicRE := regexp.MustCompile(`^\{"topic":\{"name":"wire","connector":"local-file-source","task":0,"discoverTimestamp":\d{13}\}\}$`)
	if got := status["status-topic-wire:connector-local-file-source"]; !topicRE.MatchString(got) {
		t.Errorf("topic status record: %s", got)
	}

	var offsets []*kgo.Record
	for _, r := range readTopic(t, w, "connect-offsets") {
		offsets = append(offsets, r)
	}
	if len(offsets) == 0 {
		t.Fatal("no offsets written")
	}
	last := offsets[len(offsets)-1]
	if want := `["local-file-source",{"filename":"` + in + `"}]`; string(last.Key) != want {
		t.Errorf("offset key: %s, want %s", last.Key, want)
	}
	if !regexp.MustCompile(`^\{"position":\d+\}$`).Match(last.Value) {
		t.Errorf("offset value: %s", last.Value)
	}
}

// TestExternalClusterAndTopicChecks runs the worker against a broker of
// its own (bootstrap.servers) whose config topic exists but is not
// compacted: the worker must refuse to start, as Kafka's does.
func TestExternalClusterAndTopicChecks(t *testing.T) {
	_, addr := brokertest.Start(t)
	adm, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ctx := ctxT(t)
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": ptr("delete")}, "bad-configs"); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, t.TempDir())
	cfg.Set("bootstrap.servers", addr)
	cfg.Set("config.storage.topic", "bad-configs")
	cfg.Set("config.storage.replication.factor", "1")
	cfg.Set("offset.storage.replication.factor", "1")
	cfg.Set("status.storage.replication.factor", "1")
	w, err := NewWorker(cfg, Options{Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Start(ctx)
	if !errors.Is(err, ErrTopicNotCompacted) || !strings.Contains(err.Error(), "bad-configs (config.storage.topic) has cleanup.policy=delete") {
		t.Fatalf("start: %v", err)
	}

	// With a good topic it runs on the external broker.
	cfg.Set("config.storage.topic", "good-configs")
	w2 := startWorker(t, func(c *WorkerConfig, _ *Options) { *c = cfg })
	if w2.BrokerAddr() != "" {
		t.Errorf("BrokerAddr = %q with an external cluster", w2.BrokerAddr())
	}
	if _, err := w2.Herder().CreateConnector(ctx, "s", map[string]string{"connector.class": "FileStreamSink", "topics": "x",
		"file": filepath.Join(t.TempDir(), "o")}, ""); err != nil {
		t.Fatal(err)
	}
	waitState(t, w2.Herder(), "s", StateRunning, 1)
	md, err := kadm.NewClient(adm).DescribeTopicConfigs(context.Background(), "good-configs", "connect-offsets", "connect-status")
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range md {
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && (c.Value == nil || *c.Value != "compact") {
				t.Errorf("%s: cleanup.policy=%v", rc.Name, c.Value)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }
