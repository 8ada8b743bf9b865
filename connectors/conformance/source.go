package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// SourceSuite describes a source connector to RunSource.
type SourceSuite struct {
	// Connector returns a new connector instance. Required.
	Connector func() connectors.SourceConnector
	// Config returns a connector config for one subtest (use t.TempDir
	// for files). Required. Tasks started from the same offsets with this
	// config must produce the same records in the same order: seed
	// generators.
	Config func(t *testing.T) map[string]string
	// Feed makes n more records available to the source configured by
	// config (e.g. appends n lines to its file). Nil for sources that
	// generate their own data.
	Feed func(t *testing.T, config map[string]string, n int)
	// Key identifies a record when comparing runs. Default: the value
	// rendered with connectors.FormatValue.
	Key func(r connectors.Record) string
	// Timeout bounds each wait for records. Default 10 s.
	Timeout time.Duration
}

func (s SourceSuite) key(r connectors.Record) string {
	if s.Key != nil {
		return s.Key(r)
	}
	return connectors.FormatValue(r.Value)
}

func (s SourceSuite) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 10 * time.Second
}

func (s SourceSuite) feed(t *testing.T, config map[string]string, n int) {
	if s.Feed != nil {
		s.Feed(t, config, n)
	}
}

// RunSource runs the source conformance tests as subtests of t.
func RunSource(t *testing.T, s SourceSuite) {
	t.Helper()
	t.Run("ConnectorLifecycle", func(t *testing.T) { connectorLifecycle(t, s.Connector(), s.Config(t)) })
	t.Run("OpenClose", func(t *testing.T) { sourceOpenClose(t, s) })
	t.Run("Poll", func(t *testing.T) { sourcePoll(t, s) })
	t.Run("ResumeFromOffsets", func(t *testing.T) { sourceResume(t, s) })
	t.Run("AtLeastOnceAcrossRestarts", func(t *testing.T) { sourceAtLeastOnce(t, s) })
	t.Run("Cancellation", func(t *testing.T) { sourceCancellation(t, s) })
	t.Run("CommitIdempotent", func(t *testing.T) { sourceCommit(t, s) })
}

// taskConfig starts a connector with config and returns its first task
// config.
func taskConfig(t *testing.T, c connectors.Connector, config map[string]string) map[string]string {
	t.Helper()
	ctx := context.Background()
	cc := connectors.ConnectorContext{Name: config[connectors.KeyName], Logger: testLogger(t)}
	if err := c.Start(ctx, cc, config); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() {
		if err := c.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	tcs, err := c.TaskConfigs(1)
	if err != nil {
		t.Fatalf("TaskConfigs(1): %v", err)
	}
	if len(tcs) != 1 {
		t.Fatalf("TaskConfigs(1) returned %d configs", len(tcs))
	}
	return tcs[0]
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

// Write logs p through the test.
func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// openSource opens a new task with the store's offsets; Close is
// registered as cleanup unless the caller closes first.
func (s SourceSuite) openSource(t *testing.T, tc map[string]string, store *OffsetStore) *openedSource {
	t.Helper()
	task := s.Connector().NewTask()
	sc := connectors.SourceContext{Connector: tc[connectors.KeyName], Logger: testLogger(t), Offsets: store}
	if err := task.Open(context.Background(), sc, tc); err != nil {
		t.Fatalf("Open: %v", err)
	}
	o := &openedSource{task: task}
	t.Cleanup(func() { o.close(t) })
	return o
}

type openedSource struct {
	task   connectors.Source
	closed bool
}

func (o *openedSource) close(t *testing.T) {
	t.Helper()
	if o.closed {
		return
	}
	o.closed = true
	if err := o.task.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// pollAtLeast polls until at least n records arrived, and returns all
// records received (possibly more than n).
func (s SourceSuite) pollAtLeast(t *testing.T, task connectors.Source, n int) []connectors.Record {
	t.Helper()
	deadline := time.Now().Add(s.timeout())
	var out []connectors.Record
	for len(out) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d records within %v, want %d", len(out), s.timeout(), n)
		}
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		recs, err := task.Poll(ctx)
		cancel()
		if err != nil && !errors.Is(err, connectors.ErrRetriable) {
			t.Fatalf("Poll after %d records: %v", len(out), err)
		}
		out = append(out, recs...)
	}
	return out
}

func sourceOpenClose(t *testing.T, s SourceSuite) {
	tc := taskConfig(t, s.Connector(), s.Config(t))
	o := s.openSource(t, tc, NewOffsetStore())
	o.close(t)
}

func sourcePoll(t *testing.T, s SourceSuite) {
	config := s.Config(t)
	tc := taskConfig(t, s.Connector(), config)
	s.feed(t, config, 10)
	o := s.openSource(t, tc, NewOffsetStore())
	recs := s.pollAtLeast(t, o.task, 10)
	for i, r := range recs {
		if r.Topic == "" {
			t.Errorf("record %d has no topic", i)
		}
		if (r.SourcePartition == nil) != (r.SourceOffset == nil) {
			t.Errorf("record %d: partition %v with offset %v", i, r.SourcePartition, r.SourceOffset)
		}
		if _, err := json.Marshal(r.SourcePartition); err != nil {
			t.Errorf("record %d: partition is not JSON: %v", i, err)
		}
		if _, err := json.Marshal(r.SourceOffset); err != nil {
			t.Errorf("record %d: offset is not JSON: %v", i, err)
		}
	}
}

// reference returns the first n records of an uninterrupted run.
func (s SourceSuite) reference(t *testing.T, tc map[string]string, n int) []string {
	t.Helper()
	o := s.openSource(t, tc, NewOffsetStore())
	recs := s.pollAtLeast(t, o.task, n)
	o.close(t)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = s.key(recs[i])
	}
	return keys
}

func sourceResume(t *testing.T, s SourceSuite) {
	const total, acked = 30, 12
	config := s.Config(t)
	tc := taskConfig(t, s.Connector(), config)
	s.feed(t, config, total)
	want := s.reference(t, tc, total)

	store := NewOffsetStore()
	first := s.openSource(t, tc, store)
	recs := s.pollAtLeast(t, first.task, acked)
	if err := store.Store(recs[:acked]); err != nil {
		t.Fatal(err)
	}
	if err := first.task.Commit(context.Background(), store.Committed()); err != nil {
		t.Errorf("Commit: %v", err)
	}
	first.close(t)

	second := s.openSource(t, tc, store)
	rest := s.pollAtLeast(t, second.task, total-acked)
	for i := range total - acked {
		if got := s.key(rest[i]); got != want[acked+i] {
			t.Fatalf("after resuming, record %d = %q, want %q (record %d of an uninterrupted run)", i, got, want[acked+i], acked+i)
		}
	}
}

func sourceAtLeastOnce(t *testing.T, s SourceSuite) {
	const total = 40
	config := s.Config(t)
	tc := taskConfig(t, s.Connector(), config)
	s.feed(t, config, total)
	want := s.reference(t, tc, total)

	// Each run stores offsets for only part of what it polled, then stops
	// without storing the rest, like a crash before acknowledgements.
	store := NewOffsetStore()
	var delivered []string
	for _, ack := range []int{5, 1, 9} {
		o := s.openSource(t, tc, store)
		recs := s.pollAtLeast(t, o.task, ack+1)
		for _, r := range recs {
			delivered = append(delivered, s.key(r))
		}
		if err := store.Store(recs[:ack]); err != nil {
			t.Fatal(err)
		}
		o.close(t)
	}
	// Every reference record must appear, in order, as a subsequence of
	// what was delivered; the last run polls until it does.
	i := 0
	match := func(recs []string) {
		for _, k := range recs {
			if i < len(want) && k == want[i] {
				i++
			}
		}
	}
	match(delivered)
	o := s.openSource(t, tc, store)
	deadline := time.Now().Add(s.timeout())
	for i < len(want) && time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		recs, err := o.task.Poll(ctx)
		cancel()
		if err != nil && !errors.Is(err, connectors.ErrRetriable) {
			t.Fatalf("Poll: %v", err)
		}
		keys := make([]string, len(recs))
		for j, r := range recs {
			keys[j] = s.key(r)
		}
		match(keys)
	}
	if i < len(want) {
		t.Fatalf("record %d (%q) of the uninterrupted run was never delivered across restarts", i, want[i])
	}
}

func sourceCancellation(t *testing.T, s SourceSuite) {
	tc := taskConfig(t, s.Connector(), s.Config(t))
	o := s.openSource(t, tc, NewOffsetStore())
	// A done context: Poll must return promptly (records or none).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if _, err := o.task.Poll(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Poll with a cancelled context: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Poll with a cancelled context took %v", d)
	}
	// Cancelled while waiting: no data was fed, so a source that waits
	// for data is blocked in Poll when the cancel arrives.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan time.Time)
	go func() {
		_, _ = o.task.Poll(ctx)
		done <- time.Now()
	}()
	cancel()
	cancelled := time.Now()
	select {
	case end := <-done:
		if d := end.Sub(cancelled); d > 500*time.Millisecond {
			t.Errorf("Poll returned %v after its context was cancelled", d)
		}
	case <-time.After(s.timeout()):
		t.Fatal("Poll did not return after its context was cancelled")
	}
}

func sourceCommit(t *testing.T, s SourceSuite) {
	config := s.Config(t)
	tc := taskConfig(t, s.Connector(), config)
	s.feed(t, config, 3)
	store := NewOffsetStore()
	o := s.openSource(t, tc, store)
	recs := s.pollAtLeast(t, o.task, 3)
	if err := store.Store(recs); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := o.task.Commit(context.Background(), store.Committed()); err != nil {
			t.Errorf("Commit: %v", err)
		}
	}
	if err := o.task.Commit(context.Background(), nil); err != nil {
		t.Errorf("Commit(nil): %v", err)
	}
}
