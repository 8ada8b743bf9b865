package task

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/convert"
)

// sourceRunner runs a source task: Poll → transforms → converters →
// produce, with offsets committed as records are acknowledged.
type sourceRunner struct {
	t         *Task
	spec      Spec
	offsets   OffsetStore
	src       connectors.Source
	rc        connectors.RecordCommitter // nil unless src implements it
	conv      *converters
	chain     chain
	eh        *errorHandler
	cl        *kgo.Client
	closeOnce sync.Once

	creator *topicCreator // nil without topic.creation.*; poll goroutine only
	sub     *submitted
	keys    partitionKeys       // poll goroutine only
	topics  map[string]struct{} // poll goroutine only
	acks    ackQueue

	// Offsets being flushed: owned by the committer goroutine, then by the
	// main goroutine once the committer stopped.
	toStore       map[string]connectors.SourceOffset // committable, not yet stored
	stored        map[string]connectors.SourceOffset // stored by this task instance
	commitPending bool                               // Commit failed; call it again
}

func newSourceRunner(_ context.Context, t *Task, spec Spec, env Env, src connectors.Source) (*sourceRunner, error) {
	if src == nil {
		return nil, errors.New("connector's NewTask returned nil")
	}
	if env.Offsets == nil {
		return nil, errors.New("source task needs an offset store (Env.Offsets)")
	}
	ec, err := parseErrorsConfig(spec.ConnectorConfig)
	if err != nil {
		return nil, err
	}
	conv, err := newConverters(env.Registry, spec.ConnectorConfig, env.Worker)
	if err != nil {
		return nil, err
	}
	ch, err := newChain(env.Registry, spec.ConnectorConfig)
	if err != nil {
		return nil, err
	}
	popts, err := producerOpts(mergeProps(env.Worker.Producer, spec.ConnectorConfig, "producer.override."), "producer.override.")
	if err != nil {
		closeChain(ch)
		return nil, err
	}
	opts := append([]kgo.Opt{newKgoLogger(t.log, "producer")}, env.Kafka...)
	opts = append(opts, kgo.ClientID(fmt.Sprintf("connector-producer-%s-%d", spec.Connector, spec.Task)),
		kgo.RecordPartitioner(sourcePartitioner{kgo.UniformBytesPartitioner(64<<10, true, true, nil)}))
	opts = append(opts, popts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		closeChain(ch)
		return nil, fmt.Errorf("producer: %w", err)
	}
	s := &sourceRunner{t: t, spec: spec, offsets: env.Offsets, src: src, conv: conv, chain: ch, cl: cl,
		sub: newSubmitted(), topics: map[string]struct{}{},
		toStore: map[string]connectors.SourceOffset{}, stored: map[string]connectors.SourceOffset{}}
	if !env.Worker.DisableTopicCreation {
		if s.creator, err = newTopicCreator(spec.ConnectorConfig, cl); err != nil {
			cl.Close()
			closeChain(ch)
			return nil, err
		}
	}
	s.rc, _ = src.(connectors.RecordCommitter)
	s.acks.signal = make(chan struct{}, 1)
	s.eh = &errorHandler{cfg: ec, connector: spec.Connector, task: spec.Task, log: t.log, met: t.met}
	if ec.dlqTopic != "" {
		s.eh.dlq = &dlqWriter{topic: ec.dlqTopic, cl: cl, contextHeaders: ec.dlqContextHeaders,
			connector: spec.Connector, task: spec.Task, met: t.met}
	}
	return s, nil
}

func closeChain(c chain) {
	if c != nil {
		c.Close()
	}
}

func (s *sourceRunner) closeClient() { s.closeOnce.Do(s.cl.Close) }

func (s *sourceRunner) abandon() { s.closeClient() }

func (s *sourceRunner) run() error {
	t := s.t
	defer closeChain(s.chain)
	defer s.closeClient()
	if s.eh.dlq != nil {
		if err := s.eh.dlq.ensureTopic(t.runCtx, s.eh.cfg.dlqReplication, s.eh.cfg.dlqReplicationSet); err != nil {
			return s.openFailed(err)
		}
	}
	sc := connectors.SourceContext{Connector: s.spec.Connector, Task: s.spec.Task, Logger: t.log,
		Offsets: offsetReader{s.offsets, s.spec.Connector}}
	if err := s.src.Open(t.runCtx, sc, s.spec.TaskConfig); err != nil {
		return s.openFailed(fmt.Errorf("open: %w", err))
	}
	t.log.Info("source task running")
	t.reportRunning()

	stopCommitter, committerDone := make(chan struct{}), make(chan struct{})
	go s.committer(stopCommitter, committerDone)
	if err := s.pollLoop(); err != nil {
		t.fail(err)
	}

	// Graceful phase: wait for acknowledgements, store and commit offsets,
	// close the task.
	// At the end of input there is no hurry: every record should be
	// acknowledged and its offset stored (Stop bounds the wait if need be).
	ctx, cancel := t.shutdownContext(t.failed() != nil || t.isStopping())
	defer cancel()
	var errs []error
	if err := s.cl.Flush(ctx); err != nil {
		errs = append(errs, fmt.Errorf("wait for %d unacknowledged records: %w", s.sub.pending(), err))
	}
	close(stopCommitter)
	<-committerDone
	if err := s.flushOffsets(ctx, true); err != nil {
		errs = append(errs, err)
	}
	if err := s.src.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close: %w", err))
	}
	t.stopErr = errors.Join(errs...)
	if len(errs) == 0 {
		t.log.Info("source task stopped")
	}
	return t.failed()
}

// openFailed ends a task whose start failed: a failure, unless Stop
// interrupted it.
func (s *sourceRunner) openFailed(err error) error {
	if s.t.isStopping() {
		return nil
	}
	s.t.fail(err)
	return err
}

// pollLoop polls until stop, failure, pause-then-stop or end of input.
// It returns the error the task fails with, if any.
func (s *sourceRunner) pollLoop() error {
	t := s.t
	attempt := 0
	paused := false
	for {
		if t.runCtx.Err() != nil {
			return nil
		}
		if t.isPaused() {
			if !paused {
				paused = true
				t.reportPaused()
			}
			select {
			case <-t.wake:
			case <-t.runCtx.Done():
			}
			continue
		}
		if paused {
			paused = false
			t.reportRunning()
		}
		ctx, done := t.waitContext(time.Time{})
		recs, err := s.src.Poll(ctx)
		cancelled := ctx.Err() != nil
		done()
		if len(recs) > 0 && (err == nil || cancelled ||
			errors.Is(err, connectors.ErrEndOfInput) || errors.Is(err, connectors.ErrRetriable)) {
			t.met.polled.Add(float64(len(recs)))
			t.met.batchSize.Observe(float64(len(recs)))
			if err := s.send(recs); err != nil {
				if errors.Is(err, errStopped) {
					return nil
				}
				return err
			}
		}
		switch {
		case err == nil:
			attempt = 0
		case errors.Is(err, connectors.ErrEndOfInput):
			return nil
		case cancelled:
			// Pause or Stop cancelled Poll, which may say so with an error.
		case errors.Is(err, connectors.ErrRetriable):
			t.met.error(StageTaskPoll)
			attempt++
			d, _ := s.eh.cfg.retry.forever().delay(attempt, time.Now(), time.Now(), randDuration)
			sleep(t.runCtx, d)
		default:
			t.met.error(StageTaskPoll)
			return &RecordError{Stage: StageTaskPoll, Class: typeName(s.src), Partition: -1, Offset: -1, Err: err}
		}
	}
}

// send hands polled records to the producer, in order. Large polls are
// transformed and converted on GOMAXPROCS goroutines first (converters and
// transforms are safe for concurrent use); a record whose first attempt
// failed goes through retries and error handling in order.
func (s *sourceRunner) send(recs []connectors.Record) error {
	var first []converted
	if workers := min(runtime.GOMAXPROCS(0), len(recs)/(parallelMin/2)); len(recs) >= parallelMin && workers >= 2 {
		first = make([]converted, len(recs))
		var wg sync.WaitGroup
		size := (len(recs) + workers - 1) / workers
		for start := 0; start < len(recs); start += size {
			end := min(start+size, len(recs))
			wg.Go(func() {
				for i := start; i < end; i++ {
					first[i] = s.convert(&recs[i])
				}
			})
		}
		wg.Wait()
	}
	for i := range recs {
		var c *converted
		if first != nil {
			c = &first[i]
		}
		if err := s.sendOne(&recs[i], c); err != nil {
			return err
		}
	}
	return nil
}

// converted is a source record transformed and converted, or where that
// failed.
type converted struct {
	kr    *kgo.Record // nil when dropped by a transform or failed
	keep  bool
	buf   *[]byte // the valueBufs buffer holding kr.Value, recycled once acknowledged; nil if none
	stage Stage
	class string
	topic string
	err   error
}

// convert transforms and converts r once, without retries.
func (s *sourceRunner) convert(r *connectors.Record) converted {
	out := *r
	if s.chain != nil {
		o, keep, err := s.chain.Apply(*r)
		if err != nil {
			return converted{stage: StageTransformation, class: transformClass(err), topic: r.Topic, err: err}
		}
		if !keep {
			return converted{}
		}
		out = o
	}
	kb, err := s.conv.key.FromConnect(out.Topic, out.KeySchema, out.Key)
	if err != nil {
		return converted{stage: StageKeyConverter, class: s.conv.keyClass, topic: out.Topic, err: err}
	}
	var vb []byte
	var buf *[]byte
	if app, ok := s.conv.value.(convert.Appender); ok {
		buf = valueBufs.Get().(*[]byte)
		vb, err = app.AppendFromConnect((*buf)[:0], out.Topic, out.ValueSchema, out.Value)
		if vb == nil || err != nil {
			valueBufs.Put(buf)
			buf = nil
		}
	} else {
		vb, err = s.conv.value.FromConnect(out.Topic, out.ValueSchema, out.Value)
	}
	if err != nil {
		return converted{stage: StageValueConverter, class: s.conv.valueClass, topic: out.Topic, err: err}
	}
	var hs []kgo.RecordHeader
	if len(out.Headers) > 0 {
		hs = make([]kgo.RecordHeader, len(out.Headers))
		for i, hd := range out.Headers {
			b, err := s.conv.header.FromConnectHeader(out.Topic, hd.Key, hd.Schema, hd.Value)
			if err != nil {
				return converted{stage: StageHeaderConverter, class: s.conv.hdrClass, topic: out.Topic, err: err}
			}
			hs[i] = kgo.RecordHeader{Key: hd.Key, Value: b}
		}
	}
	kr := &kgo.Record{Topic: out.Topic, Key: kb, Value: vb, Headers: hs, Timestamp: out.Timestamp}
	if p, ok := out.KafkaPartition(); ok {
		kr.Partition, kr.Context = p, explicitPartition
	}
	return converted{kr: kr, keep: true, buf: buf}
}

// valueBufs recycles the converted values of produced records. A
// Debezium event with its schema is ~3.3 KB of JSON; allocated per
// record, it was most of what a CDC worker allocated and most of its
// collector's work. A buffer goes back once the broker acknowledged its
// record (the producer does not touch a record after its promise), never
// after a failure. Buffers that grew past maxPooledValue are left to the
// collector.
var valueBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledValue = 64 << 10

// recycleValue returns buf, which now holds value (the buffer may have
// grown while the value was written).
func recycleValue(buf *[]byte, value []byte) {
	if cap(value) <= maxPooledValue {
		*buf = value[:0]
		valueBufs.Put(buf)
	}
}

// sendOne tracks r, converts it (unless first holds the result of a first
// attempt) and produces it.
func (s *sourceRunner) sendOne(r *connectors.Record, first *converted) error {
	t := s.t
	h := s.sub.submit(s.keys.key(r.SourcePartition), r.SourcePartition, r.SourceOffset)
	var c converted
	if first != nil {
		c = *first
	} else {
		c = s.convert(r)
	}
	if c.err != nil {
		// Retry the whole transformation and conversion while the failure
		// is retriable and errors.retry.timeout allows.
		err := s.eh.retry(t.runCtx, c.stage, c.err, func() error {
			c = s.convert(r)
			return c.err
		})
		if err != nil {
			return s.failed(r, h, c.stage, c.class, c.topic, err)
		}
	}
	if !c.keep {
		s.sub.ack(h)
		s.commitRecord(r, nil)
		return nil
	}
	kr := c.kr
	if _, ok := s.topics[kr.Topic]; !ok {
		if err := s.creator.ensure(t.runCtx, kr.Topic); err != nil {
			if t.runCtx.Err() != nil {
				return errStopped
			}
			return err
		}
		s.topics[kr.Topic] = struct{}{}
		t.reportTopic(kr.Topic)
	}
	buf := c.buf
	s.cl.Produce(t.hardCtx, kr, func(kr *kgo.Record, err error) {
		s.acked(r, h, kr, err)
		if buf != nil && err == nil {
			recycleValue(buf, kr.Value)
		}
	})
	return nil
}

// failed handles a record that failed a stage before it was produced.
func (s *sourceRunner) failed(r *connectors.Record, h subHandle, stage Stage, class, topic string, err error) error {
	if s.t.runCtx.Err() != nil && errors.Is(err, connectors.ErrRetriable) {
		// Stopping interrupted the retries: the record stays unacknowledged,
		// so its offset is not stored and it is polled again next time.
		return errStopped
	}
	part := int32(-1)
	if p, ok := r.KafkaPartition(); ok {
		part = p
	}
	f := &failure{RecordError: RecordError{Stage: stage, Class: class, Topic: topic, Partition: part, Offset: -1, Err: err}, source: r}
	return s.eh.handle(s.t.hardCtx, f, func(err error) {
		if err != nil {
			s.t.fail(err)
			return
		}
		s.sub.ack(h)
		s.commitRecord(r, nil)
	})
}

// acked is the producer's promise for record r. Promises are called
// serially, in produce order per Kafka partition.
func (s *sourceRunner) acked(r *connectors.Record, h subHandle, kr *kgo.Record, err error) {
	t := s.t
	if err == nil {
		s.sub.ack(h)
		t.met.produced.Inc()
		if s.rc != nil {
			s.commitRecord(r, &connectors.RecordMetadata{Topic: kr.Topic, Partition: kr.Partition,
				Offset: kr.Offset, Timestamp: kr.Timestamp})
		}
		return
	}
	if t.hardCtx.Err() != nil || errors.Is(err, kgo.ErrClientClosed) {
		return // shutting down or abandoned: the record stays unacknowledged
	}
	t.met.error(StageKafkaProduce)
	re := &RecordError{Stage: StageKafkaProduce, Class: "producer", Topic: kr.Topic, Partition: -1, Offset: -1, Err: err}
	if p, ok := r.KafkaPartition(); ok {
		re.Partition = p
	}
	if s.eh.cfg.tolerateAll {
		// As Kafka (KIP-779): with tolerance all a record the producer
		// gave up on is logged and treated as sent; there is no DLQ write,
		// which would fail the same way.
		t.met.skipped.Inc()
		if s.eh.cfg.logEnable {
			s.eh.logFailure(&failure{RecordError: *re, source: r})
		}
		s.sub.ack(h)
		s.commitRecord(r, nil)
		return
	}
	t.fail(re)
}
