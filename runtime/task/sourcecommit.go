package task

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// This file is the commit half of a source task: CommitRecord calls and
// offset flushes, both on the committer goroutine so that they never run
// concurrently, and the connector's view of the offset store.

// commitRecord queues a RecordCommitter.CommitRecord call for the
// committer goroutine, so that it never runs concurrently with Commit.
func (s *sourceRunner) commitRecord(r *connectors.Record, md *connectors.RecordMetadata) {
	if s.rc == nil {
		return
	}
	s.acks.push(pendingAck{r: r, md: md})
}

// committer calls CommitRecord for acknowledged records and flushes
// offsets every offset.flush.interval.ms, until stop is closed.
// progressInterval is how often a ProgressReporter's progress is read,
// for /metrics and the status trace.
var progressInterval = time.Second

func (s *sourceRunner) committer(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := s.t
	tick := time.NewTicker(t.settings.OffsetFlushInterval)
	defer tick.Stop()
	// Long jobs (a snapshot) report progress for /metrics and the status
	// trace every few seconds; tasks without any have no ticker.
	var progress <-chan time.Time
	var lastTrace string
	pr, _ := s.src.(connectors.ProgressReporter)
	if pr != nil {
		pt := time.NewTicker(progressInterval)
		defer pt.Stop()
		progress = pt.C
	}
	for {
		select {
		case <-progress:
			ps := pr.JobProgress()
			t.met.reportProgress(ps)
			// While a job runs the trace is sent at every tick (the
			// herder writes it only when it changed, and a resume clears
			// it); once all are finished, one last time to clear it.
			if trace := ProgressTrace(ps); trace != "" || lastTrace != "" {
				t.reportProgress(trace)
				lastTrace = trace
			}
		case <-s.acks.signal:
			s.drainAcks()
		case <-tick.C:
			s.drainAcks()
			if err := s.flushOffsets(t.hardCtx, false); err != nil {
				t.log.Warn("offset flush failed; retrying at the next flush", "error", err)
			}
		case <-stop:
			s.drainAcks()
			// A task that ends (end of input, stop) reports its jobs'
			// last state, so that a finished snapshot leaves no stale
			// trace behind.
			if pr != nil && lastTrace != "" {
				ps := pr.JobProgress()
				t.met.reportProgress(ps)
				t.reportProgress(ProgressTrace(ps))
			}
			return
		}
	}
}

func (s *sourceRunner) drainAcks() {
	for _, a := range s.acks.take() {
		if s.t.abandoned.Load() {
			return
		}
		if err := s.rc.CommitRecord(s.t.hardCtx, *a.r, a.md); err != nil {
			s.t.log.Warn("CommitRecord failed", "error", err)
		}
	}
}

// flushOffsets stores the offsets that became committable, then calls
// Commit with every offset this task stored (on the final flush, even if
// nothing new was stored).
func (s *sourceRunner) flushOffsets(ctx context.Context, final bool) error {
	t := s.t
	for _, ko := range s.sub.committable() {
		s.toStore[ko.key] = ko.SourceOffset
	}
	if t.abandoned.Load() {
		return nil
	}
	if len(s.toStore) > 0 {
		sctx, cancel := context.WithTimeout(ctx, t.settings.OffsetFlushTimeout)
		start := time.Now()
		err := s.offsets.Store(sctx, s.spec.Connector, sortedOffsets(s.toStore))
		cancel()
		t.met.commitTime.Observe(time.Since(start).Seconds())
		if err != nil {
			t.met.commitFailed.Inc()
			return fmt.Errorf("store offsets: %w", err)
		}
		for k, v := range s.toStore {
			s.stored[k] = v
		}
		clear(s.toStore)
		s.commitPending = true
	}
	if s.commitPending || (final && len(s.stored) > 0) {
		if err := s.src.Commit(ctx, sortedOffsets(s.stored)); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		s.commitPending = false
	}
	return nil
}

func sortedOffsets(m map[string]connectors.SourceOffset) []connectors.SourceOffset {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]connectors.SourceOffset, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// ackQueue hands CommitRecord calls from the producer's promises to the
// committer goroutine. It holds at most the records in flight.
type ackQueue struct {
	mu     sync.Mutex
	q      []pendingAck
	signal chan struct{}
}

type pendingAck struct {
	r  *connectors.Record
	md *connectors.RecordMetadata
}

func (a *ackQueue) push(p pendingAck) {
	a.mu.Lock()
	a.q = append(a.q, p)
	a.mu.Unlock()
	select {
	case a.signal <- struct{}{}:
	default:
	}
}

func (a *ackQueue) take() []pendingAck {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := a.q
	a.q = nil
	return q
}

// offsetReader is a connector's view of the offset store.
type offsetReader struct {
	store     OffsetStore
	connector string
}

func (o offsetReader) Offset(ctx context.Context, partition map[string]any) (map[string]any, error) {
	return o.store.Offset(ctx, o.connector, partition)
}
