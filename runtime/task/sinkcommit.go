package task

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/connectors"
)

// This file is the commit half of a sink task: Flush, committing exactly
// what it returns, and the rebalance callbacks that commit and close
// partitions before they move.

// commit flushes and commits every assigned partition from the loop. A
// failure caused by Stop is no failure. REQUIRES: sink lock.
func (s *sinkRunner) commit(ctx context.Context) error {
	s.ctl.commitRequested.Store(false)
	err := s.commitLocked(ctx, nil)
	if err != nil && ctx.Err() != nil {
		return nil
	}
	return err
}

// commitLocked calls Flush with the delivered offsets of the partitions
// (all assigned when only is nil), waits for DLQ writes, and commits
// exactly what Flush returned for assigned partitions. Only a failing
// Flush (other than ErrRetriable) or DLQ is an error; a failed commit is
// logged and retried at the next one. REQUIRES: sink lock.
func (s *sinkRunner) commitLocked(ctx context.Context, only []tp) error {
	t := s.t
	parts := only
	if parts == nil {
		parts = mapKeys(s.assigned)
	}
	if len(parts) == 0 {
		return nil
	}
	offsets := make(map[tp]int64, len(parts))
	for _, p := range parts {
		if off, ok := s.delivered[p]; ok {
			offsets[p] = off
		}
	}
	start := time.Now()
	res, err := s.sink.Flush(ctx, offsets)
	if err != nil {
		if errors.Is(err, connectors.ErrRetriable) || ctx.Err() != nil {
			t.met.commitFailed.Inc()
			t.log.Warn("flush failed; nothing committed this round", "error", err)
			return nil
		}
		s.flushFailed = true
		return &RecordError{Stage: StageTaskPut, Class: s.taskClass, Partition: -1, Offset: -1, Err: fmt.Errorf("flush: %w", err)}
	}
	if s.eh.dlq != nil {
		if err := s.eh.dlq.flush(ctx); err != nil {
			return err
		}
	}
	toCommit := map[string]map[int32]kgo.EpochOffset{}
	n := 0
	for p, off := range res {
		if _, ok := s.assigned[p]; !ok || off < 0 || (only != nil && !slices.Contains(only, p)) {
			continue
		}
		if c, ok := s.committed[p]; ok && c == off {
			continue
		}
		if toCommit[p.Topic] == nil {
			toCommit[p.Topic] = map[int32]kgo.EpochOffset{}
		}
		toCommit[p.Topic][p.Partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
		n++
	}
	if n > 0 {
		cctx, cancel := context.WithTimeout(ctx, t.settings.OffsetFlushTimeout)
		var cerr error
		s.cl.CommitOffsetsSync(cctx, toCommit, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				cerr = err
				return
			}
			for _, rt := range resp.Topics {
				for _, rp := range rt.Partitions {
					if e := kerr.ErrorForCode(rp.ErrorCode); e != nil {
						cerr = errors.Join(cerr, fmt.Errorf("%s-%d: %w", rt.Topic, rp.Partition, e))
						continue
					}
					if eo, ok := toCommit[rt.Topic][rp.Partition]; ok {
						s.committed[tp{Topic: rt.Topic, Partition: rp.Partition}] = eo.Offset
					}
				}
			}
		})
		cancel()
		if cerr != nil {
			t.met.commitFailed.Inc()
			t.log.Warn("offset commit failed; retrying at the next commit", "error", cerr)
		}
	}
	t.met.commitTime.Observe(time.Since(start).Seconds())
	s.updateLag()
	return nil
}

// updateLag sets the lag gauge: high watermark minus committed offset,
// summed over the assigned partitions. REQUIRES: sink lock.
func (s *sinkRunner) updateLag() {
	var lag int64
	for p := range s.assigned {
		hw, ok1 := s.hw[p]
		c, ok2 := s.committed[p]
		if ok1 && ok2 && hw > c {
			lag += hw - c
		}
	}
	s.t.met.sinkLag.Set(float64(lag))
}

// onAssigned is kgo's OnPartitionsAssigned.
func (s *sinkRunner) onAssigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	ps := fromKgo(m)
	if len(ps) == 0 || !s.lock() {
		return
	}
	defer s.unlock()
	if s.closing {
		return
	}
	for _, p := range ps {
		s.assigned[p] = struct{}{}
	}
	s.ctl.setAssignment(mapKeys(s.assigned))
	if s.opener != nil {
		if err := s.opener.OpenPartitions(s.t.runCtx, ps); err != nil && s.t.runCtx.Err() == nil {
			s.t.fail(fmt.Errorf("open partitions: %w", err))
		}
	}
}

// onRevoked is kgo's OnPartitionsRevoked: flush and commit the revoked
// partitions, then close them.
func (s *sinkRunner) onRevoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.release(fromKgo(m), true)
}

// onLost is kgo's OnPartitionsLost: the partitions are gone, so there is
// nothing to commit; close them.
func (s *sinkRunner) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.release(fromKgo(m), false)
}

func (s *sinkRunner) release(ps []tp, commit bool) {
	if len(ps) == 0 || !s.lock() {
		return
	}
	defer s.unlock()
	if s.closing {
		return
	}
	ps = slices.DeleteFunc(ps, func(p tp) bool { _, ok := s.assigned[p]; return !ok })
	if len(ps) == 0 {
		return
	}
	if s.retry != nil {
		s.retry.batch = slices.DeleteFunc(s.retry.batch, func(r connectors.Record) bool {
			return slices.Contains(ps, tp{Topic: r.OriginalTopic, Partition: r.OriginalPartition})
		})
		for _, p := range ps {
			delete(s.retry.offsets, p)
		}
	}
	if commit && !s.flushFailed {
		ctx, cancel := context.WithTimeout(s.t.hardCtx, s.t.settings.ShutdownTimeout)
		err := s.commitLocked(ctx, ps)
		cancel()
		if err != nil {
			s.t.fail(err)
		}
	}
	if s.closer != nil {
		if err := s.closer.ClosePartitions(s.t.hardCtx, ps); err != nil {
			s.t.fail(fmt.Errorf("close partitions: %w", err))
		}
	}
	for _, p := range ps {
		delete(s.assigned, p)
		delete(s.delivered, p)
		delete(s.committed, p)
		delete(s.hw, p)
		delete(s.polled, p)
	}
	s.ctl.forget(ps)
	s.ctl.setAssignment(mapKeys(s.assigned))
	s.updateLag()
}
