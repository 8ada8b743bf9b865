package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/brokertest"
	"github.com/sluicedata/sluice/connectors"
)

// testLogger logs to the test output when -v is given, else discards.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() && os.Getenv("TASK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startBroker starts an in-process broker and returns its address.
func startBroker(t testing.TB) string {
	t.Helper()
	_, addr := brokertest.Start(t)
	return addr
}

// newEnv returns an Env for tests against the broker at addr.
func newEnv(t testing.TB, addr string, extra ...kgo.Opt) (Env, *statusRecorder, *memOffsets) {
	st := &statusRecorder{}
	offs := &memOffsets{m: map[string]connectors.SourceOffset{}}
	return Env{
		Worker: Settings{
			OffsetFlushInterval: 100 * time.Millisecond,
			OffsetFlushTimeout:  5 * time.Second,
			ShutdownTimeout:     10 * time.Second,
			WorkerID:            "test:8083",
		},
		Offsets: offs,
		Status:  st,
		Logger:  testLogger(t),
		Metrics: NewMetrics(nil),
		Kafka:   append([]kgo.Opt{kgo.SeedBrokers(addr)}, extra...),
	}, st, offs
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	brokertest.Eventually(t, timeout, msg, cond)
}

// stopTask stops a task and fails the test on error.
func stopTask(t testing.TB, tk *Task) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := tk.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// ---- status ----

type statusRecorder struct {
	mu     sync.Mutex
	events []string
	topics []string
	traces []string // Progress calls
	err    error
}

func (s *statusRecorder) add(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}
func (s *statusRecorder) Running(string, int) { s.add("running") }
func (s *statusRecorder) Paused(string, int)  { s.add("paused") }
func (s *statusRecorder) Failed(_ string, _ int, err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	s.add("failed")
}
func (s *statusRecorder) Progress(_ string, _ int, trace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.traces = append(s.traces, trace)
}
func (s *statusRecorder) TopicUsed(_ string, _ int, topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.topics = append(s.topics, topic)
}

func (s *statusRecorder) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return ""
	}
	return s.events[len(s.events)-1]
}

func (s *statusRecorder) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *statusRecorder) usedTopics() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.topics)
}

// ---- offsets ----

// memOffsets is an in-memory OffsetStore that records every Store.
type memOffsets struct {
	mu     sync.Mutex
	m      map[string]connectors.SourceOffset
	stores [][]connectors.SourceOffset
	// beforeStore, if set, runs at the start of Store.
	beforeStore func([]connectors.SourceOffset)
}

func partKey(p map[string]any) string {
	b, _ := json.Marshal(p)
	return string(b)
}

func (o *memOffsets) Offset(_ context.Context, _ string, partition map[string]any) (map[string]any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[partKey(partition)].Offset, nil
}

func (o *memOffsets) Store(_ context.Context, _ string, offsets []connectors.SourceOffset) error {
	o.mu.Lock()
	hook := o.beforeStore
	o.mu.Unlock()
	if hook != nil {
		hook(offsets)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, so := range offsets {
		o.m[partKey(so.Partition)] = so
	}
	o.stores = append(o.stores, slices.Clone(offsets))
	return nil
}

func (o *memOffsets) get(partition map[string]any) map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[partKey(partition)].Offset
}

// ---- connectors ----

// testConnector is a source or sink connector whose tasks come from a func.
type testConnector struct{}

func (testConnector) Config() *connectors.ConfigDef { return connectors.NewConfigDef() }
func (testConnector) Start(context.Context, connectors.ConnectorContext, map[string]string) error {
	return nil
}
func (testConnector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{{}}, nil
}
func (testConnector) Stop(context.Context) error { return nil }

type sourceConnector struct {
	testConnector
	newTask func() connectors.Source
}

func (c sourceConnector) NewTask() connectors.Source { return c.newTask() }

type sinkConnector struct {
	testConnector
	newTask func() connectors.Sink
}

func (c sinkConnector) NewTask() connectors.Sink { return c.newTask() }

// genSource generates numbered records for one source partition, resuming
// after the stored offset. Record i has key "k<i>" and value makeValue(i).
type genSource struct {
	topic     string
	total     int64 // stop with ErrEndOfInput after this many (0: never)
	batch     int
	makeValue func(i int64) (*connectors.Schema, any)
	modify    func(r *connectors.Record)
	pollDelay time.Duration

	partition map[string]any
	next      int64
	polled    atomic.Int64

	mu        sync.Mutex
	committed []connectors.SourceOffset
	acked     []int64 // RecordCommitter: positions acknowledged (-1 - i for dropped)
	closed    bool
}

var genPartition = map[string]any{"gen": "p0"}

func (g *genSource) Open(ctx context.Context, sc connectors.SourceContext, _ map[string]string) error {
	g.partition = genPartition
	off, err := sc.Offsets.Offset(ctx, g.partition)
	if err != nil {
		return err
	}
	if off != nil {
		switch v := off["pos"].(type) {
		case int64:
			g.next = v + 1
		case float64:
			g.next = int64(v) + 1
		case json.Number:
			n, _ := v.Int64()
			g.next = n + 1
		}
	}
	if g.batch == 0 {
		g.batch = 100
	}
	return nil
}

func (g *genSource) Poll(ctx context.Context) ([]connectors.Record, error) {
	if g.total > 0 && g.next >= g.total {
		return nil, connectors.ErrEndOfInput
	}
	if g.pollDelay > 0 {
		select {
		case <-time.After(g.pollDelay):
		case <-ctx.Done():
			return nil, nil
		}
	}
	n := int64(g.batch)
	if g.total > 0 && g.next+n > g.total {
		n = g.total - g.next
	}
	recs := make([]connectors.Record, 0, n)
	for i := g.next; i < g.next+n; i++ {
		r := connectors.Record{Topic: g.topic, KeySchema: connectors.StringSchema, Key: fmt.Sprintf("k%d", i),
			SourcePartition: g.partition, SourceOffset: map[string]any{"pos": i}}
		if g.makeValue != nil {
			r.ValueSchema, r.Value = g.makeValue(i)
		} else {
			r.ValueSchema, r.Value = connectors.Int64Schema, i
		}
		if g.modify != nil {
			g.modify(&r)
		}
		recs = append(recs, r)
	}
	g.next += n
	g.polled.Add(n)
	return recs, nil
}

func (g *genSource) Commit(_ context.Context, committed []connectors.SourceOffset) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.committed = slices.Clone(committed)
	return nil
}

func (g *genSource) Close(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	return nil
}

func (g *genSource) lastCommitted() []connectors.SourceOffset {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.committed
}

// ackingSource is a genSource that implements RecordCommitter.
type ackingSource struct{ *genSource }

func (a ackingSource) CommitRecord(_ context.Context, r connectors.Record, md *connectors.RecordMetadata) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	pos := r.SourceOffset["pos"].(int64)
	if md == nil {
		pos = -1 - pos
	}
	a.acked = append(a.acked, pos)
	return nil
}

// memSink records what it is given. Hooks make it flaky or slow.
type memSink struct {
	mu       sync.Mutex
	sc       connectors.SinkContext
	records  []connectors.Record
	puts     int
	flushes  []map[connectors.TopicPartition]int64
	opened   []connectors.TopicPartition
	closedPs []connectors.TopicPartition
	closed   bool

	putFn   func(ctx context.Context, sc connectors.SinkContext, recs []connectors.Record) error
	flushFn func(offsets map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error)
}

func (s *memSink) Open(_ context.Context, sc connectors.SinkContext, _ map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sc = sc
	return nil
}

func (s *memSink) Put(ctx context.Context, recs []connectors.Record) error {
	if s.putFn != nil {
		if err := s.putFn(ctx, s.sc, recs); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	s.records = append(s.records, recs...)
	return nil
}

func (s *memSink) Flush(_ context.Context, offsets map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error) {
	s.mu.Lock()
	s.flushes = append(s.flushes, cloneOffsets(offsets))
	fn := s.flushFn
	s.mu.Unlock()
	if fn != nil {
		return fn(offsets)
	}
	return offsets, nil
}

func (s *memSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *memSink) OpenPartitions(_ context.Context, ps []connectors.TopicPartition) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opened = append(s.opened, ps...)
	return nil
}

func (s *memSink) ClosePartitions(_ context.Context, ps []connectors.TopicPartition) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closedPs = append(s.closedPs, ps...)
	return nil
}

// assigned returns the task's current assignment size (0 before Open).
func (s *memSink) assigned() int {
	s.mu.Lock()
	ctl := s.sc.Control
	s.mu.Unlock()
	if ctl == nil {
		return 0
	}
	return len(ctl.Assignment())
}

func (s *memSink) got() []connectors.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.records)
}

func (s *memSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// ---- Kafka helpers ----

func newClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(t testing.TB, addr, topic string, partitions int32) {
	t.Helper()
	cl := newClient(t, addr)
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// produce writes records synchronously, each to its Partition.
func produce(t testing.TB, addr string, recs ...*kgo.Record) {
	t.Helper()
	cl := newClient(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// consume reads at least n records of topic from the start.
func consume(t testing.TB, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: got %d of %d records", topic, len(out), n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s-%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// committedOffsets returns a group's committed offsets.
func committedOffsets(t testing.TB, addr, group string) map[connectors.TopicPartition]int64 {
	t.Helper()
	cl := newClient(t, addr)
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatal(err)
	}
	out := map[connectors.TopicPartition]int64{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.Offset >= 0 {
				out[connectors.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}] = rp.Offset
			}
		}
	}
	return out
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// gate blocks writes on the connections of clients that dial through it:
// a broker that stops answering, for back-pressure tests.
type gate struct {
	mu     sync.Mutex
	closed bool
	open   chan struct{}
}

func newGate() *gate {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		g.open = make(chan struct{})
	}
}

func (g *gate) reopen() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		g.closed = false
		close(g.open)
	}
}

func (g *gate) wait() {
	g.mu.Lock()
	ch := g.open
	g.mu.Unlock()
	<-ch
}

func (g *gate) dialer() kgo.Opt {
	return kgo.Dialer(func(ctx context.Context, network, host string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, host)
		if err != nil {
			return nil, err
		}
		return gatedConn{c, g}, nil
	})
}

type gatedConn struct {
	net.Conn
	g *gate
}

func (c gatedConn) Write(b []byte) (int, error) {
	c.g.wait()
	return c.Conn.Write(b)
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	return 0
}

func connectorsIsInvalid(err error) bool { return errors.Is(err, connectors.ErrInvalidConfig) }

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }
