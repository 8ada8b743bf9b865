package task

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

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
