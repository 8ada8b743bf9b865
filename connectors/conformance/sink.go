package conformance

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// SinkSuite describes a sink connector to RunSink.
type SinkSuite struct {
	// Connector returns a new connector instance. Required.
	Connector func() connectors.SinkConnector
	// Config returns a connector config for one subtest, including topics
	// (the suite's records use topic "conformance"). Required.
	Config func(t *testing.T) map[string]string
	// Read returns what the destination configured by config durably
	// holds, one string per record, in the order written. Required.
	Read func(t *testing.T, config map[string]string) []string
	// Render returns what Read shows for r. Default: the value rendered
	// with connectors.FormatValue.
	Render func(r connectors.Record) string
}

// SinkTopic is the topic of the records RunSink puts.
const SinkTopic = "conformance"

func (s SinkSuite) render(r connectors.Record) string {
	if s.Render != nil {
		return s.Render(r)
	}
	return connectors.FormatValue(r.Value)
}

// RunSink runs the sink conformance tests as subtests of t.
func RunSink(t *testing.T, s SinkSuite) {
	t.Helper()
	t.Run("ConnectorLifecycle", func(t *testing.T) { connectorLifecycle(t, s.Connector(), s.Config(t)) })
	t.Run("OpenClose", func(t *testing.T) { sinkOpenClose(t, s) })
	t.Run("PutFlushDurable", func(t *testing.T) { sinkPutFlush(t, s) })
	t.Run("RestartRedelivers", func(t *testing.T) { sinkRestart(t, s) })
	t.Run("Cancellation", func(t *testing.T) { sinkCancellation(t, s) })
}

// SinkRecords returns n string records of SinkTopic partition 0 with
// Kafka offsets from, from+1, …
func SinkRecords(from int64, n int) []connectors.Record {
	out := make([]connectors.Record, n)
	for i := range out {
		off := from + int64(i)
		out[i] = connectors.Record{
			Topic: SinkTopic, Partition: connectors.PartitionOf(0), Offset: off,
			ValueSchema: connectors.StringSchema, Value: fmt.Sprintf("record-%d", off),
			Timestamp: time.UnixMilli(1_700_000_000_000 + off), TimestampType: connectors.CreateTime,
			OriginalTopic: SinkTopic, OriginalOffset: off,
		}
	}
	return out
}

type openedSink struct {
	task   connectors.Sink
	closed bool
}

func (o *openedSink) close(t *testing.T) {
	t.Helper()
	if o.closed {
		return
	}
	o.closed = true
	if err := o.task.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func (s SinkSuite) openSink(t *testing.T, tc map[string]string) *openedSink {
	t.Helper()
	task := s.Connector().NewTask()
	sc := connectors.SinkContext{Connector: tc[connectors.KeyName], Logger: testLogger(t)}
	if err := task.Open(context.Background(), sc, tc); err != nil {
		t.Fatalf("Open: %v", err)
	}
	o := &openedSink{task: task}
	t.Cleanup(func() { o.close(t) })
	return o
}

func (s SinkSuite) putFlush(t *testing.T, task connectors.Sink, recs []connectors.Record) {
	t.Helper()
	ctx := context.Background()
	if err := task.Put(ctx, recs); err != nil {
		t.Fatalf("Put: %v", err)
	}
	tp := connectors.TopicPartition{Topic: SinkTopic, Partition: 0}
	next := recs[len(recs)-1].Offset + 1
	got, err := task.Flush(ctx, map[connectors.TopicPartition]int64{tp: next})
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if off, ok := got[tp]; ok && off > next {
		t.Errorf("Flush returned offset %d for %v, more than the %d it was given", off, tp, next)
	}
}

func sinkOpenClose(t *testing.T, s SinkSuite) {
	tc := taskConfig(t, s.Connector(), s.Config(t))
	o := s.openSink(t, tc)
	// Flush with nothing put commits what it was given, or less.
	tp := connectors.TopicPartition{Topic: SinkTopic}
	got, err := o.task.Flush(context.Background(), map[connectors.TopicPartition]int64{tp: 0})
	if err != nil {
		t.Errorf("Flush with nothing put: %v", err)
	}
	if got[tp] > 0 {
		t.Errorf("Flush with nothing put returned %v", got)
	}
	o.close(t)
}

func sinkPutFlush(t *testing.T, s SinkSuite) {
	config := s.Config(t)
	tc := taskConfig(t, s.Connector(), config)
	o := s.openSink(t, tc)
	var want []string
	for batch := range 3 {
		recs := SinkRecords(int64(batch*10), 10)
		s.putFlush(t, o.task, recs)
		for _, r := range recs {
			want = append(want, s.render(r))
		}
		// Durable after Flush, before Close.
		if got := s.Read(t, config); !slices.Equal(got, want) {
			t.Fatalf("after flush %d the destination holds %q, want %q", batch, got, want)
		}
	}
}

func sinkRestart(t *testing.T, s SinkSuite) {
	config := s.Config(t)
	tc := taskConfig(t, s.Connector(), config)
	first := s.openSink(t, tc)
	s.putFlush(t, first.task, SinkRecords(0, 5))
	// Put but not flushed: not committed, so redelivered after restart.
	if err := first.task.Put(context.Background(), SinkRecords(5, 3)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	first.close(t)

	second := s.openSink(t, tc)
	s.putFlush(t, second.task, SinkRecords(5, 5))
	got := s.Read(t, config)
	// At least once: every record present, first occurrences in order.
	var firsts []string
	seen := map[string]bool{}
	for _, g := range got {
		if !seen[g] {
			seen[g] = true
			firsts = append(firsts, g)
		}
	}
	var want []string
	for _, r := range SinkRecords(0, 10) {
		want = append(want, s.render(r))
	}
	if !slices.Equal(firsts, want) {
		t.Fatalf("after a restart the destination holds %q, want every record of %q in order", got, want)
	}
}

func sinkCancellation(t *testing.T, s SinkSuite) {
	tc := taskConfig(t, s.Connector(), s.Config(t))
	o := s.openSink(t, tc)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_ = o.task.Put(ctx, SinkRecords(0, 100)) // either outcome is fine, but promptly
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Put with a cancelled context took %v", d)
	}
}
