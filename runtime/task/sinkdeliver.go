package task

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
)

// This file is the delivery half of a sink task: a poll becomes records
// (converted in parallel for large polls), records become one Put.

// process turns one poll into one Put. REQUIRES: sink lock held.
func (s *sinkRunner) process(fetches kgo.Fetches) error {
	t := s.t
	for p, off := range s.ctl.takeInitial() {
		if _, ok := s.assigned[p]; !ok {
			continue
		}
		if _, ok := s.delivered[p]; !ok {
			s.delivered[p] = off
		}
		if _, ok := s.committed[p]; !ok {
			s.committed[p] = off
		}
	}
	fetches.EachError(func(topic string, partition int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed) {
			return
		}
		t.met.error(StageKafkaConsume)
		t.log.Warn("consumer error", "topic", topic, "partition", partition, "error", err)
	})
	// Collect the records to deliver, then convert them (in parallel for
	// large polls), then build the batch in order.
	in := s.in[:0]
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 && fp.HighWatermark == 0 {
			return
		}
		k := tp{Topic: fp.Topic, Partition: fp.Partition}
		if _, ok := s.assigned[k]; !ok {
			return
		}
		s.polled[k] = true
		s.hw[k] = fp.HighWatermark
		if len(fp.Records) == 0 || s.ctl.hasRewind(k) {
			return
		}
		if _, ok := s.topicsSeen[fp.Topic]; !ok {
			s.topicsSeen[fp.Topic] = struct{}{}
			t.reportTopic(fp.Topic)
		}
		t.met.consumed.Add(float64(len(fp.Records)))
		part := new(int32)
		*part = fp.Partition
		for _, kr := range fp.Records {
			in = append(in, consumed{kr: kr, part: part})
		}
	})
	s.in = in
	s.convertAll(in)
	batch := s.batch[:0]
	clear(s.pending)
	var raws map[rawKey]*kgo.Record
	var perr error
	for i := range in {
		c := &in[i]
		rec, ok := c.rec, c.ok
		if c.err != nil {
			// The first attempt failed: run the record again, with
			// retries and the error handling that applies.
			var err error
			if rec, ok, err = s.toConnect(c.kr, c.part, c.stage, c.err); err != nil {
				perr = err
				break
			}
		}
		if ok {
			batch = append(batch, rec)
			if s.errant != nil {
				if raws == nil {
					raws = map[rawKey]*kgo.Record{}
				}
				raws[rawKey{c.kr.Topic, c.kr.Partition, c.kr.Offset}] = c.kr
			}
		}
		s.pending[tp{Topic: c.kr.Topic, Partition: c.kr.Partition}] = c.kr.Offset + 1
		*c = consumed{}
	}
	s.batch = batch
	if t.runCtx.Err() != nil {
		return nil // stopping: nothing more is delivered
	}
	if perr != nil {
		return perr
	}
	err := s.put(batch, raws, s.pending)
	if err == nil {
		s.applyRewinds()
	}
	return err
}

// consumed is one consumed record on its way to Put.
type consumed struct {
	kr    *kgo.Record
	part  *int32
	rec   connectors.Record
	ok    bool  // rec is to be delivered (false: dropped by a transform)
	err   error // the first attempt failed, in stage
	stage Stage
}

// parallelMin is the poll size from which records are converted by
// several goroutines (converters and transforms are safe for concurrent
// use).
const parallelMin = 128

// convertAll makes a first attempt at converting and transforming every
// record, without retries or error handling, spread over GOMAXPROCS
// goroutines for large polls.
func (s *sinkRunner) convertAll(in []consumed) {
	work := func(part []consumed) {
		for i := range part {
			c := &part[i]
			c.rec, c.ok, c.stage, c.err = s.convertOnce(c.kr, c.part)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(in)/(parallelMin/2))
	if len(in) < parallelMin || workers < 2 {
		work(in)
		return
	}
	var wg sync.WaitGroup
	size := (len(in) + workers - 1) / workers
	for start := 0; start < len(in); start += size {
		part := in[start:min(start+size, len(in))]
		wg.Go(func() { work(part) })
	}
	wg.Wait()
}

// convertOnce converts and transforms kr once; an error is returned with
// its stage, unhandled (toConnect handles it).
func (s *sinkRunner) convertOnce(kr *kgo.Record, part *int32) (connectors.Record, bool, Stage, error) {
	topic := kr.Topic
	ks, kv, err := s.conv.key.ToConnect(topic, kr.Key)
	if err != nil {
		return connectors.Record{}, false, StageKeyConverter, err
	}
	vs, vv, err := s.conv.value.ToConnect(topic, kr.Value)
	if err != nil {
		return connectors.Record{}, false, StageValueConverter, err
	}
	var hs connectors.Headers
	if len(kr.Headers) > 0 {
		hs = make(connectors.Headers, len(kr.Headers))
		for i, h := range kr.Headers {
			sch, v, err := s.conv.header.ToConnectHeader(topic, h.Key, h.Value)
			if err != nil {
				return connectors.Record{}, false, StageHeaderConverter, err
			}
			hs[i] = connectors.Header{Key: h.Key, Schema: sch, Value: v}
		}
	}
	rec := sinkRecord(kr, part, ks, kv, vs, vv, hs)
	if s.chain == nil {
		return rec, true, 0, nil
	}
	out, keep, err := s.chain.Apply(rec)
	if err != nil {
		return connectors.Record{}, false, StageTransformation, err
	}
	return out, keep, 0, nil
}

// sinkRecord assembles the Connect record of a consumed record.
func sinkRecord(kr *kgo.Record, part *int32, ks *connectors.Schema, kv any, vs *connectors.Schema, vv any, hs connectors.Headers) connectors.Record {
	rec := connectors.Record{Topic: kr.Topic, Partition: part, KeySchema: ks, Key: kv, ValueSchema: vs, Value: vv,
		Headers: hs, Offset: kr.Offset, OriginalTopic: kr.Topic, OriginalPartition: kr.Partition, OriginalOffset: kr.Offset}
	if ms := kr.Timestamp.UnixMilli(); ms >= 0 {
		rec.Timestamp = kr.Timestamp
		rec.TimestampType = connectors.CreateTime
		if kr.Attrs.TimestampType() == 1 {
			rec.TimestampType = connectors.LogAppendTime
		}
	}
	return rec
}

// toConnect converts and transforms one consumed record whose first
// attempt failed in stage with err: the stages before run again, the
// failed one goes through retries and error handling. false means the
// record was dropped (a transform) or skipped (a tolerated failure). An
// error fails the task.
func (s *sinkRunner) toConnect(kr *kgo.Record, part *int32, failed Stage, firstErr error) (connectors.Record, bool, error) {
	ctx := s.t.runCtx
	topic := kr.Topic
	// attempt runs op, or takes the first attempt's error in the stage
	// that failed, then retries and handles a failure.
	attempt := func(stage Stage, class func(error) string, op func() error) error {
		var err error
		if stage == failed && firstErr != nil {
			err, firstErr = firstErr, nil
		} else {
			err = op()
		}
		if err == nil {
			return nil
		}
		if err = s.eh.retry(ctx, stage, err, op); err != nil {
			return s.consumedFailed(kr, stage, class(err), err)
		}
		return nil
	}
	fixed := func(c string) func(error) string { return func(error) string { return c } }
	var ks, vs *connectors.Schema
	var kv, vv any
	if err := attempt(StageKeyConverter, fixed(s.conv.keyClass), func() (err error) {
		ks, kv, err = s.conv.key.ToConnect(topic, kr.Key)
		return err
	}); err != nil {
		return connectors.Record{}, false, skipped(err)
	}
	if err := attempt(StageValueConverter, fixed(s.conv.valueClass), func() (err error) {
		vs, vv, err = s.conv.value.ToConnect(topic, kr.Value)
		return err
	}); err != nil {
		return connectors.Record{}, false, skipped(err)
	}
	var hs connectors.Headers
	if len(kr.Headers) > 0 {
		hs = make(connectors.Headers, len(kr.Headers))
		for i, h := range kr.Headers {
			if err := attempt(StageHeaderConverter, fixed(s.conv.hdrClass), func() (err error) {
				sch, v, err := s.conv.header.ToConnectHeader(topic, h.Key, h.Value)
				hs[i] = connectors.Header{Key: h.Key, Schema: sch, Value: v}
				return err
			}); err != nil {
				return connectors.Record{}, false, skipped(err)
			}
		}
	}
	rec := sinkRecord(kr, part, ks, kv, vs, vv, hs)
	if s.chain == nil {
		return rec, true, nil
	}
	var out connectors.Record
	var keep bool
	if err := attempt(StageTransformation, transformClass, func() (err error) {
		out, keep, err = s.chain.Apply(rec)
		return err
	}); err != nil {
		return connectors.Record{}, false, skipped(err)
	}
	return out, keep, nil
}

// errSkip is what attempt returns for a record skipped under
// errors.tolerance=all.
var errSkip = errors.New("task: record skipped")

// skipped maps errSkip to a nil error (the record is just not delivered).
func skipped(err error) error {
	if err == errSkip {
		return nil
	}
	return err
}

// consumedFailed handles a consumed record that failed a stage: nil to
// skip it, or the error to fail the task with.
func (s *sinkRunner) consumedFailed(kr *kgo.Record, stage Stage, class string, err error) error {
	if s.t.runCtx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, connectors.ErrRetriable)) {
		// Stopping interrupted a retry: fail nothing; the record was not
		// delivered and its offset is not committed.
		return context.Canceled
	}
	f := &failure{RecordError: RecordError{Stage: stage, Class: class, Topic: kr.Topic, Partition: kr.Partition,
		Offset: kr.Offset, Err: err}, raw: kr}
	if err := s.eh.handle(s.t.runCtx, f, nil); err != nil {
		return err
	}
	return errSkip
}

// put calls Put with a batch and records the delivered offsets; a
// retriable failure schedules a redelivery. REQUIRES: sink lock held.
func (s *sinkRunner) put(batch []connectors.Record, raws map[rawKey]*kgo.Record, offsets map[tp]int64) error {
	t := s.t
	if s.errant != nil {
		s.errant.setBatch(raws)
	}
	err := s.sink.Put(t.runCtx, batch)
	if s.errant != nil {
		s.errant.setBatch(nil)
	}
	switch {
	case err == nil && t.failed() != nil:
		return nil // the task failed during Put (an errant record under tolerance none): not delivered
	case err == nil:
		s.delivered = mergeOffsets(s.delivered, offsets)
		if len(batch) > 0 {
			t.met.put.Add(float64(len(batch)))
			t.met.batchSize.Observe(float64(len(batch)))
		}
		return nil
	case t.runCtx.Err() != nil:
		return nil // Stop cancelled Put: the batch counts as not delivered
	case errors.Is(err, connectors.ErrRetriable):
		t.met.error(StageTaskPut)
		now := time.Now()
		s.retry = &putRetry{batch: slices.Clone(batch), raws: raws, offsets: cloneOffsets(offsets), attempt: 1, start: now}
		return s.scheduleRetry(err, now)
	default:
		t.met.error(StageTaskPut)
		return &RecordError{Stage: StageTaskPut, Class: s.taskClass, Partition: -1, Offset: -1, Err: err}
	}
}

// putPolicy is how long a Put failing with ErrRetriable is retried: as long
// as it takes, as Kafka does, unless errors.retry.timeout is positive.
func (s *sinkRunner) putPolicy() retryPolicy {
	p := s.eh.cfg.retry
	if p.timeout <= 0 {
		return p.forever()
	}
	return p
}

func (s *sinkRunner) scheduleRetry(err error, now time.Time) error {
	d, ok := s.putPolicy().delay(s.retry.attempt, s.retry.start, now, randDuration)
	if !ok {
		return &RecordError{Stage: StageTaskPut, Class: s.taskClass, Partition: -1, Offset: -1,
			Err: fmt.Errorf("put still failing after errors.retry.timeout (%v): %w", s.eh.cfg.retry.timeout, err)}
	}
	s.retry.due = now.Add(d)
	return nil
}

// redeliver passes the retried batch to Put again. REQUIRES: sink lock.
func (s *sinkRunner) redeliver() error {
	t := s.t
	r := s.retry
	if s.errant != nil {
		s.errant.setBatch(r.raws)
	}
	err := s.sink.Put(t.runCtx, r.batch)
	if s.errant != nil {
		s.errant.setBatch(nil)
	}
	switch {
	case err == nil && t.failed() != nil:
		return nil
	case err == nil:
		s.retry = nil
		s.delivered = mergeOffsets(s.delivered, r.offsets)
		if len(r.batch) > 0 {
			t.met.put.Add(float64(len(r.batch)))
			t.met.batchSize.Observe(float64(len(r.batch)))
		}
		s.applyRewinds()
		return nil
	case t.runCtx.Err() != nil:
		return nil
	case errors.Is(err, connectors.ErrRetriable):
		t.met.error(StageTaskPut)
		r.attempt++
		return s.scheduleRetry(err, time.Now())
	default:
		t.met.error(StageTaskPut)
		return &RecordError{Stage: StageTaskPut, Class: s.taskClass, Partition: -1, Offset: -1, Err: err}
	}
}

// applyRewinds seeks partitions the task rewound. REQUIRES: sink lock.
func (s *sinkRunner) applyRewinds() {
	rw := s.ctl.takeRewinds(func(p tp) bool {
		_, ok := s.assigned[p]
		return ok && s.polled[p]
	})
	if len(rw) == 0 {
		return
	}
	set := map[string]map[int32]kgo.EpochOffset{}
	for p, off := range rw {
		if set[p.Topic] == nil {
			set[p.Topic] = map[int32]kgo.EpochOffset{}
		}
		set[p.Topic][p.Partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
		s.delivered[p] = off
		s.committed[p] = off
	}
	s.cl.SetOffsets(set)
}

// reserialize turns a sink record back into Kafka bytes with the
// connector's converters, for errant records that are no longer in the
// current batch (Kafka does the same).
func (s *sinkRunner) reserialize(r connectors.Record, k rawKey) (*kgo.Record, error) {
	kb, err := s.conv.key.FromConnect(r.Topic, r.KeySchema, r.Key)
	if err != nil {
		return nil, err
	}
	vb, err := s.conv.value.FromConnect(r.Topic, r.ValueSchema, r.Value)
	if err != nil {
		return nil, err
	}
	kr := &kgo.Record{Topic: k.topic, Partition: k.partition, Offset: k.offset, Key: kb, Value: vb, Timestamp: r.Timestamp}
	for _, h := range r.Headers {
		b, err := s.conv.header.FromConnectHeader(r.Topic, h.Key, h.Schema, h.Value)
		if err != nil {
			return nil, err
		}
		kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: b})
	}
	return kr, nil
}

func mergeOffsets(dst, src map[tp]int64) map[tp]int64 {
	for p, o := range src {
		dst[p] = o
	}
	return dst
}

func cloneOffsets(m map[tp]int64) map[tp]int64 {
	out := make(map[tp]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
