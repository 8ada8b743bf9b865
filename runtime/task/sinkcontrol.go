package task

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
)

type tp = connectors.TopicPartition

// sinkControl is a sink task's connectors.SinkControl, and the state the
// consumer's callbacks share with the task loop without taking the sink
// lock: rewinds, partitions paused by the task, and the starting offsets
// of new assignments.
type sinkControl struct {
	t *Task

	mu         sync.Mutex
	cl         *kgo.Client // nil until the consumer exists
	assignment []tp
	rewinds    map[tp]int64
	paused     map[tp]bool
	// initial are the starting offsets of newly assigned partitions,
	// recorded by the consumer before fetching; the loop takes them as the
	// partitions' delivered and committed offsets.
	initial map[tp]int64

	commitRequested atomic.Bool
}

var _ connectors.SinkControl = (*sinkControl)(nil)

func newSinkControl(t *Task) *sinkControl {
	return &sinkControl{t: t, rewinds: map[tp]int64{}, paused: map[tp]bool{}, initial: map[tp]int64{}}
}

// Assignment returns the partitions currently assigned to the task.
func (c *sinkControl) Assignment() []connectors.TopicPartition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.assignment)
}

// Rewind resets the consumption of partitions; it takes effect before the
// next Put (for partitions not assigned yet: when they are assigned).
func (c *sinkControl) Rewind(offsets map[connectors.TopicPartition]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, o := range offsets {
		c.rewinds[p] = o
	}
}

// Pause stops fetching from partitions until Resume.
func (c *sinkControl) Pause(partitions ...connectors.TopicPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range partitions {
		c.paused[p] = true
	}
	if c.cl != nil {
		c.cl.PauseFetchPartitions(toKgo(partitions))
	}
}

// Resume undoes Pause.
func (c *sinkControl) Resume(partitions ...connectors.TopicPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range partitions {
		delete(c.paused, p)
	}
	if c.cl != nil {
		c.cl.ResumeFetchPartitions(toKgo(partitions))
	}
}

// RequestCommit asks for a flush and commit as soon as the current batch
// is done.
func (c *sinkControl) RequestCommit() {
	c.commitRequested.Store(true)
	c.t.interruptWait()
}

// setClient attaches the consumer and applies pauses requested before it
// existed (e.g. in Open).
func (c *sinkControl) setClient(cl *kgo.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cl = cl
	if len(c.paused) > 0 {
		cl.PauseFetchPartitions(toKgo(mapKeys(c.paused)))
	}
}

func (c *sinkControl) setAssignment(a []tp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.assignment = a
}

// adjust is kgo's AdjustFetchOffsetsFn: it applies pending rewinds to new
// partitions and records their starting offsets.
func (c *sinkControl) adjust(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for topic, ps := range offsets {
		for p, o := range ps {
			k := tp{Topic: topic, Partition: p}
			if off, ok := c.rewinds[k]; ok {
				delete(c.rewinds, k)
				ps[p] = kgo.NewOffset().At(off)
				c.initial[k] = off
				continue
			}
			if eo := o.EpochOffset(); eo.Offset >= 0 {
				c.initial[k] = eo.Offset
			}
		}
	}
	return offsets, nil
}

// takeInitial returns and forgets the recorded starting offsets.
func (c *sinkControl) takeInitial() map[tp]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.initial) == 0 {
		return nil
	}
	out := c.initial
	c.initial = map[tp]int64{}
	return out
}

// hasRewind reports whether p has a rewind waiting.
func (c *sinkControl) hasRewind(p tp) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.rewinds[p]
	return ok
}

// takeRewinds returns and forgets the pending rewinds of partitions for
// which ready is true.
func (c *sinkControl) takeRewinds(ready func(tp) bool) map[tp]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out map[tp]int64
	for p, o := range c.rewinds {
		if ready(p) {
			if out == nil {
				out = map[tp]int64{}
			}
			out[p] = o
			delete(c.rewinds, p)
		}
	}
	return out
}

// forget drops the state of partitions that left the assignment.
func (c *sinkControl) forget(partitions []tp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var resume []tp
	for _, p := range partitions {
		delete(c.initial, p)
		delete(c.rewinds, p)
		if c.paused[p] {
			delete(c.paused, p)
			resume = append(resume, p)
		}
	}
	if c.cl != nil && len(resume) > 0 {
		c.cl.ResumeFetchPartitions(toKgo(resume))
	}
}

func toKgo(ps []tp) map[string][]int32 {
	m := map[string][]int32{}
	for _, p := range ps {
		m[p.Topic] = append(m[p.Topic], p.Partition)
	}
	return m
}

func fromKgo(m map[string][]int32) []tp {
	var out []tp
	for t, ps := range m {
		for _, p := range ps {
			out = append(out, tp{Topic: t, Partition: p})
		}
	}
	slices.SortFunc(out, compareTP)
	return out
}

func compareTP(a, b tp) int {
	if a.Topic != b.Topic {
		if a.Topic < b.Topic {
			return -1
		}
		return 1
	}
	return int(a.Partition) - int(b.Partition)
}

func mapKeys[V any](m map[tp]V) []tp {
	out := make([]tp, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, compareTP)
	return out
}

// errantReporter is a sink task's connectors.ErrantReporter (KIP-610).
type errantReporter struct {
	s *sinkRunner

	mu    sync.Mutex
	batch map[rawKey]*kgo.Record // the consumed records of the Put in progress
}

type rawKey struct {
	topic     string
	partition int32
	offset    int64
}

var _ connectors.ErrantReporter = (*errantReporter)(nil)

func (e *errantReporter) setBatch(m map[rawKey]*kgo.Record) {
	e.mu.Lock()
	e.batch = m
	e.mu.Unlock()
}

// Report logs r and writes it to the DLQ (the consumed bytes when r is
// from the Put in progress, otherwise r serialised again with the
// connector's converters, as Kafka does). The runtime flushes the DLQ
// before it commits offsets. Under errors.tolerance=none the task fails,
// and Report returns the error to fail Put with.
func (e *errantReporter) Report(ctx context.Context, r connectors.Record, err error) error {
	s := e.s
	k := rawKey{r.OriginalTopic, r.OriginalPartition, r.OriginalOffset}
	if k.topic == "" {
		k = rawKey{r.Topic, 0, r.Offset}
		if p, ok := r.KafkaPartition(); ok {
			k.partition = p
		}
	}
	e.mu.Lock()
	raw := e.batch[k]
	e.mu.Unlock()
	if raw == nil {
		var rerr error
		if raw, rerr = s.reserialize(r, k); rerr != nil {
			return fmt.Errorf("%w: serialise errant record: %w", ErrDeadLetterQueue, rerr)
		}
	}
	s.t.met.error(StageTaskPut)
	f := &failure{RecordError: RecordError{Stage: StageTaskPut, Class: s.taskClass, Topic: raw.Topic,
		Partition: raw.Partition, Offset: raw.Offset, Err: err}, raw: raw}
	s.eh.report(ctx, f, nil)
	if !s.eh.cfg.tolerateAll {
		ferr := fmt.Errorf("%w: %w", ErrToleranceExceeded, &f.RecordError)
		s.t.fail(ferr)
		return ferr
	}
	s.t.met.skipped.Inc()
	return nil
}
