package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
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

// testWorker is a worker with the embedded broker on a free port and its
// data in a temporary directory.
type testWorker struct {
	*Worker
	t       testing.TB
	cfg     WorkerConfig
	opts    Options
	logs    *syncBuffer
	closed  bool
	dataDir string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is a config for fast tests: embedded broker on a free port,
// short flush interval and timeouts, fast automatic restarts.
func testConfig(t testing.TB, dataDir string) WorkerConfig {
	c := DefaultWorkerConfig()
	must := func(k, v string) {
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	must("data.dir", dataDir)
	must("broker.listen", "127.0.0.1:0")
	must("listeners", "http://127.0.0.1:18083")
	must("offset.flush.interval.ms", "100")
	must("task.shutdown.graceful.timeout.ms", "1000")
	must("sluice.task.restart.initial.backoff.ms", "100")
	must("sluice.task.restart.max.backoff.ms", "400")
	must("offset.storage.partitions", "3")
	must("broker.sluice.fsync", "false")
	return c
}

// testRegistry is the built-ins plus the test connectors of this package.
func testRegistry(t testing.TB) *plugins.Registry {
	r := plugins.Builtin()
	for _, p := range testPlugins() {
		if err := r.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func startWorker(t testing.TB, mod ...func(*WorkerConfig, *Options)) *testWorker {
	t.Helper()
	return startWorkerIn(t, t.TempDir(), mod...)
}

func startWorkerIn(t testing.TB, dir string, mod ...func(*WorkerConfig, *Options)) *testWorker {
	t.Helper()
	cfg := testConfig(t, dir)
	logs := &syncBuffer{}
	opts := Options{
		Levels:   NewLogLevels(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug - 4}), slog.LevelDebug),
		Registry: testRegistry(t),
		Version:  "test",
	}
	for _, m := range mod {
		m(&cfg, &opts)
	}
	w, err := NewWorker(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatalf("start: %v\n%s", err, logs.String())
	}
	tw := &testWorker{Worker: w, t: t, cfg: cfg, opts: opts, logs: logs, dataDir: dir}
	t.Cleanup(func() {
		tw.close()
		if t.Failed() {
			t.Logf("worker log:\n%s", tail(logs.String(), 200))
		}
	})
	return tw
}

func (w *testWorker) close() {
	if w.closed {
		return
	}
	w.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		w.t.Errorf("close: %v", err)
	}
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: still %v after 20s", what, err)
}

// waitState waits until the connector and all its tasks (want tasks of
// them) report state.
func waitState(t testing.TB, h *Herder, name string, state State, tasks int) ConnectorStateInfo {
	t.Helper()
	var last ConnectorStateInfo
	eventually(t, fmt.Sprintf("%s %s with %d tasks", name, state, tasks), func() error {
		st, err := h.ConnectorStatus(context.Background(), name)
		if err != nil {
			return err
		}
		last = st
		if st.Connector.State != state || len(st.Tasks) != tasks {
			return fmt.Errorf("status %+v", st)
		}
		for _, ts := range st.Tasks {
			want := state
			if state == StateStopped {
				want = ""
			}
			if ts.State != want {
				return fmt.Errorf("status %+v", st)
			}
		}
		return nil
	})
	return last
}

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// readTopic returns every record of topic (all partitions) from the
// worker's broker.
func readTopic(t testing.TB, w *testWorker, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.BrokerAddr()), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := w.h.cl.admin.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(0)
	for _, ps := range ends {
		for _, o := range ps {
			want += o.Offset
		}
	}
	var out []*kgo.Record
	seen := int64(0)
	for seen < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d records", topic, seen, want)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r); seen++ })
	}
	return out
}

// Test connectors. -------------------------------------------------------

// testPlugins are connectors for tests:
//
//	test.Hanging     a source whose task's Poll and Close ignore their
//	                 context and block until the test releases them
//	test.HangingStart a source connector whose Start blocks
//	test.Flaky       a source whose task Open fails "fail" times
//	                 (a global counter per connector name) then works
//	test.Dynamic     a source whose task count and failures the test
//	                 controls through dynamics[name]
//	test.Progress    a source whose task reports a snapshot job 30%
//	                 done until progressDone[name] is set
func testPlugins() []plugins.Plugin {
	return []plugins.Plugin{
		{Class: "test.Hanging", Kind: plugins.KindSource, New: func() any { return &hangingConnector{} }},
		{Class: "test.HangingStart", Kind: plugins.KindSource, New: func() any { return &hangingConnector{hangStart: true} }},
		{Class: "test.Flaky", Kind: plugins.KindSource, New: func() any { return &flakyConnector{} }},
		{Class: "test.Dynamic", Kind: plugins.KindSource, New: func() any { return &dynamicConnector{} }},
		{Class: "test.Progress", Kind: plugins.KindSource, New: func() any { return &progressConnector{} }},
	}
}

// gates hold what hanging connectors block on, by the "gate" config key.
var (
	gates   sync.Map // id → chan struct{}
	gateSeq atomic.Int64
)

// newGate returns a gate id for a hanging connector's config; the gate
// opens when the test ends.
func newGate(t testing.TB) string {
	id := fmt.Sprint(gateSeq.Add(1))
	ch := make(chan struct{})
	gates.Store(id, ch)
	t.Cleanup(func() { close(ch) })
	return id
}

func gate(config map[string]string) <-chan struct{} {
	if ch, ok := gates.Load(config["gate"]); ok {
		return ch.(chan struct{})
	}
	return nil // blocks forever
}

type baseSource struct{ config map[string]string }

func (b *baseSource) Config() *connectors.ConfigDef { return connectors.NewConfigDef() }
func (b *baseSource) Start(_ context.Context, _ connectors.ConnectorContext, config map[string]string) error {
	b.config = config
	return nil
}
func (b *baseSource) TaskConfigs(max int) ([]map[string]string, error) {
	out := make([]map[string]string, max)
	for i := range out {
		out[i] = map[string]string{"n": fmt.Sprint(i), "gate": b.config["gate"]}
	}
	return out, nil
}
func (b *baseSource) Stop(context.Context) error { return nil }

type hangingConnector struct {
	baseSource
	hangStart bool
}

func (c *hangingConnector) Start(ctx context.Context, cc connectors.ConnectorContext, config map[string]string) error {
	if c.hangStart {
		<-gate(config)
	}
	return c.baseSource.Start(ctx, cc, config)
}

func (c *hangingConnector) NewTask() connectors.Source { return &hangingTask{} }

type hangingTask struct{ gate <-chan struct{} }

func (h *hangingTask) Open(_ context.Context, _ connectors.SourceContext, config map[string]string) error {
	h.gate = gate(config)
	return nil
}
func (h *hangingTask) Poll(context.Context) ([]connectors.Record, error) {
	<-h.gate // ignores ctx on purpose
	return nil, nil
}
func (h *hangingTask) Commit(context.Context, []connectors.SourceOffset) error { return nil }
func (h *hangingTask) Close(context.Context) error {
	<-h.gate
	return nil
}

// flakyOpens counts Open calls per connector name.
var flakyOpens sync.Map // name → *atomic.Int32

type flakyConnector struct{ baseSource }

func (c *flakyConnector) NewTask() connectors.Source { return &flakyTask{} }

type flakyTask struct{}

func (flakyTask) Open(_ context.Context, sc connectors.SourceContext, config map[string]string) error {
	v, _ := flakyOpens.LoadOrStore(sc.Connector, new(atomic.Int32))
	n := v.(*atomic.Int32).Add(1)
	var fail int32
	fmt.Sscan(config["fail"], &fail)
	if n <= fail {
		return fmt.Errorf("flaky open %d of %d", n, fail)
	}
	return nil
}
func (flakyTask) Poll(ctx context.Context) ([]connectors.Record, error) {
	<-ctx.Done()
	return nil, nil
}
func (flakyTask) Commit(context.Context, []connectors.SourceOffset) error { return nil }
func (flakyTask) Close(context.Context) error                             { return nil }

func (c *flakyConnector) TaskConfigs(max int) ([]map[string]string, error) {
	out, _ := c.baseSource.TaskConfigs(max)
	for _, m := range out {
		m["fail"] = c.config["fail"]
	}
	return out, nil
}

var errTest = errors.New("test error")

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func sortedKeysOf(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// dynamic is what a test.Dynamic connector does, by connector name.
type dynamic struct {
	tasks atomic.Int32
	ctl   atomic.Pointer[connectors.ConnectorControl]
}

var dynamics sync.Map // name → *dynamic

func dynamicFor(name string) *dynamic {
	v, _ := dynamics.LoadOrStore(name, &dynamic{})
	return v.(*dynamic)
}

type dynamicConnector struct {
	baseSource
	d *dynamic
}

func (c *dynamicConnector) Start(ctx context.Context, cc connectors.ConnectorContext, config map[string]string) error {
	c.d = dynamicFor(cc.Name)
	ctl := cc.Control
	c.d.ctl.Store(&ctl)
	return c.baseSource.Start(ctx, cc, config)
}

func (c *dynamicConnector) TaskConfigs(max int) ([]map[string]string, error) {
	out, _ := c.baseSource.TaskConfigs(int(c.d.tasks.Load()))
	return out, nil
}

func (c *dynamicConnector) NewTask() connectors.Source { return flakyTask{} }
