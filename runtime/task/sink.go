package task

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/connectors"
)

// sinkRunner runs a sink task: consume → converters → transforms → Put,
// and Flush → commit.
//
// Locking: sem serialises every call into the sink between the task loop
// and the consumer's rebalance callbacks (kgo already keeps them apart
// with BlockRebalanceOnPoll; sem makes it explicit and covers the loop's
// waits outside a poll). The fields below sem are guarded by it. ctl has
// its own mutex.
type sinkRunner struct {
	t         *Task
	spec      Spec
	sink      connectors.Sink
	opener    connectors.PartitionOpener
	closer    connectors.PartitionCloser
	taskClass string
	conv      *converters
	chain     chain
	eh        *errorHandler
	ctl       *sinkControl
	errant    *errantReporter // nil unless errors are logged or sent to a DLQ

	copts   []kgo.Opt // consumer options; the client is created after Open
	maxPoll int
	cl      *kgo.Client // set once by run; read by abandon under clMu
	dlqCl   *kgo.Client
	clMu    sync.Mutex
	closed  bool // guarded by clMu: clients closed, a late consumer is closed at once

	sem         chan struct{}
	assigned    map[tp]struct{}
	delivered   map[tp]int64 // next offset after the last record delivered (Put or skipped)
	committed   map[tp]int64
	hw          map[tp]int64
	polled      map[tp]bool // returned by a poll at least once (SetOffsets works only then)
	retry       *putRetry
	closing     bool
	flushFailed bool
	topicsSeen  map[string]struct{}
	batch       []connectors.Record
	in          []consumed
	pending     map[tp]int64
}

// putRetry is a batch whose Put failed with ErrRetriable.
type putRetry struct {
	batch   []connectors.Record
	raws    map[rawKey]*kgo.Record
	offsets map[tp]int64
	attempt int
	start   time.Time
	due     time.Time
}

func newSinkRunner(_ context.Context, t *Task, spec Spec, env Env, sink connectors.Sink) (*sinkRunner, error) {
	if sink == nil {
		return nil, errors.New("connector's NewTask returned nil")
	}
	cc := spec.ConnectorConfig
	topics := connectors.SinkTopics(cc)
	regex := strings.TrimSpace(cc[connectors.KeyTopicsRegex])
	switch {
	case len(topics) > 0 && regex != "":
		return nil, fmt.Errorf("%w: %s and %s are mutually exclusive options, but both are set", connectors.ErrInvalidConfig,
			connectors.KeyTopics, connectors.KeyTopicsRegex)
	case len(topics) == 0 && regex == "":
		return nil, fmt.Errorf("%w: Must configure one of %s or %s", connectors.ErrInvalidConfig, connectors.KeyTopics, connectors.KeyTopicsRegex)
	}
	if regex != "" {
		if _, err := regexp.Compile(regex); err != nil {
			return nil, connectors.NewConfigError(connectors.KeyTopicsRegex, regex, err.Error())
		}
	}
	ec, err := parseErrorsConfig(cc)
	if err != nil {
		return nil, err
	}
	conv, err := newConverters(env.Registry, cc, env.Worker)
	if err != nil {
		return nil, err
	}
	cons, err := consumerOpts(mergeProps(env.Worker.Consumer, cc, "consumer.override."), "consumer.override.",
		"connect-"+spec.Connector)
	if err != nil {
		return nil, err
	}
	var popts []kgo.Opt
	if ec.dlqTopic != "" {
		if popts, err = producerOpts(mergeProps(env.Worker.Producer, cc, "producer.override."), "producer.override."); err != nil {
			return nil, err
		}
	}
	ch, err := newChain(env.Registry, cc)
	if err != nil {
		return nil, err
	}
	s := &sinkRunner{t: t, spec: spec, sink: sink, taskClass: typeName(sink), conv: conv, chain: ch,
		maxPoll: cons.maxPollRecords, sem: make(chan struct{}, 1),
		assigned: map[tp]struct{}{}, delivered: map[tp]int64{}, committed: map[tp]int64{}, hw: map[tp]int64{},
		polled: map[tp]bool{}, topicsSeen: map[string]struct{}{}, pending: map[tp]int64{}}
	s.opener, _ = sink.(connectors.PartitionOpener)
	s.closer, _ = sink.(connectors.PartitionCloser)
	s.ctl = newSinkControl(t)
	s.eh = &errorHandler{cfg: ec, connector: spec.Connector, task: spec.Task, log: t.log, met: t.met}
	if ec.reporting() {
		s.errant = &errantReporter{s: s}
	}

	opts := append([]kgo.Opt{newKgoLogger(t.log, "consumer")}, env.Kafka...)
	opts = append(opts, kgo.ClientID(fmt.Sprintf("connector-consumer-%s-%d", spec.Connector, spec.Task)))
	opts = append(opts, cons.opts...)
	opts = append(opts, kgo.ConsumerGroup(cons.groupID), kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(s.onAssigned), kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost), kgo.AdjustFetchOffsetsFn(s.ctl.adjust))
	if regex != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics("^(?:"+regex+")$"))
	} else {
		opts = append(opts, kgo.ConsumeTopics(topics...))
	}
	s.copts = opts

	if ec.dlqTopic != "" {
		dopts := append([]kgo.Opt{newKgoLogger(t.log, "dlq-producer")}, env.Kafka...)
		dopts = append(dopts, kgo.ClientID(fmt.Sprintf("connector-dlq-producer-%s-%d", spec.Connector, spec.Task)))
		dopts = append(dopts, popts...)
		if s.dlqCl, err = kgo.NewClient(dopts...); err != nil {
			closeChain(ch)
			return nil, fmt.Errorf("dead letter queue producer: %w", err)
		}
		s.eh.dlq = &dlqWriter{topic: ec.dlqTopic, cl: s.dlqCl, contextHeaders: ec.dlqContextHeaders,
			connector: spec.Connector, task: spec.Task, met: t.met}
	}
	return s, nil
}

// lock takes the sink lock, or gives up when the task is abandoned.
func (s *sinkRunner) lock() bool {
	select {
	case s.sem <- struct{}{}:
		if s.t.hardCtx.Err() != nil {
			<-s.sem
			return false
		}
		return true
	case <-s.t.hardCtx.Done():
		return false
	}
}

func (s *sinkRunner) unlock() { <-s.sem }

func (s *sinkRunner) closeClients() {
	s.clMu.Lock()
	if s.closed {
		s.clMu.Unlock()
		return
	}
	s.closed = true
	cl := s.cl
	s.clMu.Unlock()
	if cl != nil {
		cl.Close()
	}
	if s.dlqCl != nil {
		s.dlqCl.Close()
	}
}

// setClient publishes the consumer; false (and the consumer closed) when
// the clients were already closed by abandon.
func (s *sinkRunner) setClient(cl *kgo.Client) bool {
	s.clMu.Lock()
	defer s.clMu.Unlock()
	if s.closed {
		cl.Close()
		return false
	}
	s.cl = cl
	return true
}

// abandon lets a blocked rebalance proceed (the callbacks give up on the
// sink lock once hardCtx is done) and leaves the group, so that the
// partitions move to a live task.
func (s *sinkRunner) abandon() {
	s.clMu.Lock()
	cl := s.cl
	s.clMu.Unlock()
	if cl != nil {
		cl.AllowRebalance()
	}
	s.closeClients()
}

func (s *sinkRunner) run() error {
	t := s.t
	defer closeChain(s.chain)
	defer s.closeClients()
	if s.eh.dlq != nil {
		if err := s.eh.dlq.ensureTopic(t.runCtx, s.eh.cfg.dlqReplication, s.eh.cfg.dlqReplicationSet); err != nil {
			return s.openFailed(err)
		}
	}
	sc := connectors.SinkContext{Connector: s.spec.Connector, Task: s.spec.Task, Logger: t.log, Control: s.ctl}
	if s.errant != nil {
		sc.Errant = s.errant
	}
	if !s.lock() {
		return nil
	}
	err := s.sink.Open(t.runCtx, sc, s.spec.TaskConfig)
	s.unlock()
	if err != nil {
		return s.openFailed(fmt.Errorf("open: %w", err))
	}
	if t.runCtx.Err() != nil { // stopped while opening
		ctx, cancel := t.shutdownContext(true)
		defer cancel()
		if s.lock() {
			t.stopErr = s.sink.Close(ctx)
			s.unlock()
		}
		return t.failed()
	}
	cl, err := kgo.NewClient(s.copts...)
	if err != nil {
		err = fmt.Errorf("consumer: %w", err)
		t.fail(err)
		if s.lock() {
			s.sink.Close(t.hardCtx)
			s.unlock()
		}
		return err
	}
	if !s.setClient(cl) {
		return nil // abandoned while opening
	}
	s.ctl.setClient(cl)
	t.log.Info("sink task running")
	t.reportRunning()

	if err := s.loop(); err != nil {
		t.fail(err)
	}

	// Graceful phase: flush and commit what was delivered, close the
	// partitions and the task, then leave the group.
	ctx, cancel := t.shutdownContext(true)
	defer cancel()
	var errs []error
	if s.lock() {
		s.closing = true
		if !s.flushFailed {
			if err := s.commitLocked(ctx, nil); err != nil {
				errs = append(errs, err)
			}
		}
		if s.closer != nil && len(s.assigned) > 0 {
			if err := s.closer.ClosePartitions(ctx, mapKeys(s.assigned)); err != nil {
				errs = append(errs, fmt.Errorf("close partitions: %w", err))
			}
		}
		if err := s.sink.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close: %w", err))
		}
		s.unlock()
	}
	s.closeClients()
	t.stopErr = errors.Join(errs...)
	if len(errs) == 0 {
		t.log.Info("sink task stopped")
	}
	return t.failed()
}

func (s *sinkRunner) openFailed(err error) error {
	if s.t.isStopping() {
		return nil
	}
	s.t.fail(err)
	return err
}

// loop consumes until stop or failure and returns the failure.
func (s *sinkRunner) loop() error {
	t := s.t
	interval := t.settings.OffsetFlushInterval
	nextCommit := time.Now().Add(interval)
	paused := false
	for {
		if t.runCtx.Err() != nil {
			return nil
		}
		commitDue := func() bool {
			return !time.Now().Before(nextCommit) || s.ctl.commitRequested.Load()
		}
		if t.isPaused() || s.retry != nil {
			if t.isPaused() && !paused {
				paused = true
				t.reportPaused()
			}
			wake := nextCommit
			if s.retry != nil && !t.isPaused() && s.retry.due.Before(wake) {
				wake = s.retry.due
			}
			s.wait(wake)
			if !s.lock() {
				return nil
			}
			var err error
			if commitDue() {
				err = s.commit(t.runCtx)
				nextCommit = time.Now().Add(interval)
			}
			if err == nil && s.retry != nil && !t.isPaused() && !time.Now().Before(s.retry.due) && t.runCtx.Err() == nil {
				err = s.redeliver()
			}
			s.unlock()
			if err != nil {
				return err
			}
			continue
		}
		if paused {
			paused = false
			t.reportRunning()
		}
		ctx, done := t.waitContext(nextCommit)
		fetches := s.cl.PollRecords(ctx, s.maxPoll)
		done()
		if !s.lock() {
			s.cl.AllowRebalance()
			return nil
		}
		err := s.process(fetches)
		if err == nil && commitDue() {
			err = s.commit(t.runCtx)
			nextCommit = time.Now().Add(interval)
		}
		s.unlock()
		s.cl.AllowRebalance()
		if err != nil {
			return err
		}
		if fetches.IsClientClosed() {
			return nil
		}
	}
}

// wait blocks until the deadline, a Pause/Resume/Stop, or RequestCommit.
func (s *sinkRunner) wait(deadline time.Time) {
	d := time.Until(deadline)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-s.t.wake:
	case <-s.t.runCtx.Done():
	}
}

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
