package task

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/plugins"
)

// Spec says which task to run.
type Spec struct {
	// Connector is the connector name; Task the task number.
	Connector string
	Task      int
	// ConnectorConfig is the resolved connector config (errors.*,
	// transforms, predicates, converters, topics, topics.regex,
	// consumer.override.*, producer.override.*,
	// errors.deadletterqueue.* …).
	ConnectorConfig map[string]string
	// TaskConfig is the task's config, from the connector's TaskConfigs.
	TaskConfig map[string]string
	// Instance is the connector instance to call NewTask on: a
	// connectors.SourceConnector or a connectors.SinkConnector. (The
	// brief's API named this field Connector too, which Go cannot have
	// next to the name.)
	Instance connectors.Connector
}

// Env is what a task needs of its worker. All fields but Worker are
// shared by every task of the worker.
type Env struct {
	Worker Settings
	// Registry resolves converter, transform and predicate class names;
	// nil means plugins.Builtin().
	Registry *plugins.Registry
	// Offsets stores source offsets (source tasks only).
	Offsets OffsetStore
	// Status hears about state changes; nil reports nothing.
	Status StatusListener
	// Logger is the worker's logger; the task adds component=task,
	// connector and task. Nil discards.
	Logger *slog.Logger
	// Metrics is the worker's task metrics; nil counts into a private set.
	Metrics *Metrics
	// Kafka are the base client options (seed brokers, dialer, TLS, SASL);
	// the task adds its producer or consumer settings.
	Kafka []kgo.Opt
}

// Settings are the worker settings a task uses.
type Settings struct {
	// OffsetFlushInterval is offset.flush.interval.ms (default 60 s);
	// OffsetFlushTimeout is offset.flush.timeout.ms (default 5 s);
	// ShutdownTimeout is task.shutdown.graceful.timeout.ms (default 5 s),
	// used when Stop's context has no deadline.
	OffsetFlushInterval, OffsetFlushTimeout, ShutdownTimeout time.Duration
	// KeyConverter, ValueConverter and HeaderConverter are the worker's
	// default converter classes (default JsonConverter, JsonConverter,
	// SimpleHeaderConverter).
	KeyConverter, ValueConverter, HeaderConverter string
	// ConverterConfigs are the worker's key.converter.*, value.converter.*
	// and header.converter.* properties, keys with those prefixes.
	ConverterConfigs map[string]string
	// Producer and Consumer are the worker's producer.* and consumer.*
	// properties, prefix stripped.
	Producer, Consumer map[string]string
	// WorkerID identifies the worker (host:port).
	WorkerID string
	// DisableTopicCreation is the negation of the worker's
	// topic.creation.enable (default true): source connectors' own
	// topic.creation.* settings are then ignored.
	DisableTopicCreation bool
}

// OffsetStore stores source offsets: the worker's offsets topic.
type OffsetStore interface {
	// Offset returns the stored offset of a source partition of the
	// connector, or nil.
	Offset(ctx context.Context, connector string, partition map[string]any) (map[string]any, error)
	// Store stores offsets; they are durable (acknowledged by the broker)
	// when it returns nil.
	Store(ctx context.Context, connector string, offsets []connectors.SourceOffset) error
}

// StatusListener hears about a task's state. Calls come from the task's
// goroutines, never after Stop returned.
type StatusListener interface {
	// Running: the task opened, or resumed.
	Running(connector string, task int)
	// Paused: the task stopped polling (or consuming) after Pause.
	Paused(connector string, task int)
	// Failed: the task failed; err's text becomes the status trace.
	Failed(connector string, task int, err error)
	// Progress: the task's long jobs (connectors.ProgressReporter) moved
	// on; trace says how far each has come (ProgressTrace), "" once all
	// are finished. Called every few seconds while a job runs, and once
	// when the last one finishes.
	Progress(connector string, task int, trace string)
	// TopicUsed: the task produced to (source) or consumed from (sink)
	// topic for the first time (KIP-558 active topics).
	TopicUsed(connector string, task int, topic string)
}

// Task is a running source or sink task. Its methods are safe for
// concurrent use.
type Task struct {
	connector string
	id        int
	settings  Settings
	log       *slog.Logger
	met       *taskMetrics
	status    StatusListener

	// runCtx is cancelled when the task should stop working (Stop, or a
	// failure); hardCtx when it must stop touching Kafka at all (after
	// the graceful phase, or on abandonment).
	runCtx     context.Context
	cancelRun  context.CancelFunc
	hardCtx    context.Context
	cancelHard context.CancelFunc

	mu         sync.Mutex
	paused     bool
	wake       chan struct{} // signalled on Pause/Resume/Stop
	cancelWait context.CancelFunc
	stopCtx    context.Context // set by the first Stop
	stopping   bool
	failure    error
	reportFail bool // the failure happened before Stop: report it

	reportOnce sync.Once
	abandoned  atomic.Bool
	done       chan struct{}
	doneOnce   sync.Once
	err        error // the error the task ended with; set before done closes
	stopErr    error // errors of the graceful shutdown

	runner runner
}

// runner is the source or sink side of a task.
type runner interface {
	// run runs the task until it stops and returns what it ended with;
	// errors of the graceful phase go to t.stopErr.
	run() error
	// abandon closes the task's Kafka clients from another goroutine.
	abandon()
}

// Start creates the task (NewTask on the connector), its converters,
// transforms and Kafka client, and starts it in a goroutine of its own:
// Open, then polling or consuming. Configuration problems are returned
// here; everything that needs the network or the connector's Open happens
// in the goroutine and ends the task (Done, Err, StatusListener.Failed).
// ctx bounds Start only.
func Start(ctx context.Context, spec Spec, env Env) (*Task, error) {
	if env.Metrics == nil {
		env.Metrics = NewMetrics(nil)
	}
	if env.Registry == nil {
		env.Registry = builtinRegistry()
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Task{
		connector: spec.Connector,
		id:        spec.Task,
		settings:  env.Worker.withDefaults(),
		log:       env.Logger.With("component", "task", "connector", spec.Connector, "task", spec.Task),
		met:       env.Metrics.forTask(spec.Connector, spec.Task),
		status:    env.Status,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	env.Worker = t.settings
	t.runCtx, t.cancelRun = context.WithCancel(context.Background())
	t.hardCtx, t.cancelHard = context.WithCancel(context.Background())
	var err error
	switch c := spec.Instance.(type) {
	case connectors.SourceConnector:
		t.runner, err = newSourceRunner(ctx, t, spec, env, c.NewTask())
	case connectors.SinkConnector:
		t.runner, err = newSinkRunner(ctx, t, spec, env, c.NewTask())
	case nil:
		err = errors.New("task: spec has no connector instance")
	default:
		err = fmt.Errorf("task: connector %T is neither a source nor a sink connector", c)
	}
	if err != nil {
		t.cancelRun()
		t.cancelHard()
		return nil, fmt.Errorf("start task %s-%d: %w", spec.Connector, spec.Task, err)
	}
	go t.main()
	return t, nil
}

func (t *Task) main() {
	err := t.runner.run()
	t.mu.Lock()
	stopping := t.stopping
	t.mu.Unlock()
	if err == nil && !stopping {
		t.log.Info("task finished: end of input")
	}
	t.reportFailure()
	t.finish(err)
}

// finish ends the task with err (nil: clean), once.
func (t *Task) finish(err error) {
	t.doneOnce.Do(func() {
		t.err = err
		t.cancelRun()
		t.cancelHard()
		if err == nil && !t.abandoned.Load() {
			t.met.remove()
		}
		close(t.done)
	})
}

// fail records the first failure and makes the task wind down. The
// failure is reported (StatusListener.Failed) once the task has cleaned
// up, as Kafka does, or after the shutdown timeout if cleaning up hangs.
// Failures after Stop was called are returned from Stop only.
func (t *Task) fail(err error) {
	t.mu.Lock()
	if t.failure != nil {
		t.mu.Unlock()
		return
	}
	t.failure = err
	t.reportFail = !t.stopping
	report := t.reportFail
	t.mu.Unlock()
	t.cancelRun()
	t.signal()
	if !report || t.abandoned.Load() {
		return
	}
	t.log.Error("task failed", "error", err)
	time.AfterFunc(t.settings.ShutdownTimeout, t.reportFailure)
}

// reportFailure tells the status listener about the failure, once.
func (t *Task) reportFailure() {
	t.reportOnce.Do(func() {
		t.mu.Lock()
		err, report := t.failure, t.reportFail
		t.mu.Unlock()
		if !report || t.abandoned.Load() {
			return
		}
		t.met.setState(false, false, true)
		if t.status != nil {
			t.status.Failed(t.connector, t.id, err)
		}
	})
}

// failed returns the recorded failure, if any.
func (t *Task) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failure
}

// Pause stops polling (source) or consuming (sink) after the current Poll
// or batch; offsets are still committed. StatusListener.Paused follows.
func (t *Task) Pause() {
	t.mu.Lock()
	t.paused = true
	if t.cancelWait != nil {
		t.cancelWait()
	}
	t.mu.Unlock()
	t.signal()
}

// Resume undoes Pause; StatusListener.Running follows.
func (t *Task) Resume() {
	t.mu.Lock()
	t.paused = false
	t.mu.Unlock()
	t.signal()
}

// Stop stops the task gracefully: it cancels the running Poll or Put,
// waits for produced records to be acknowledged, stores and commits
// offsets, and closes the task, all within ctx's deadline (or
// task.shutdown.graceful.timeout.ms when ctx has none). When the deadline
// passes first, the task is abandoned and Stop returns an error matching
// ErrAbandoned; it never blocks past the deadline. Otherwise it returns
// the errors of the shutdown itself (final flush, Close), nil if none.
// Calling Stop again waits again.
func (t *Task) Stop(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.settings.ShutdownTimeout)
		defer cancel()
	}
	t.mu.Lock()
	if !t.stopping {
		t.stopping = true
		t.stopCtx = ctx
		if t.cancelWait != nil {
			t.cancelWait()
		}
	}
	t.mu.Unlock()
	t.cancelRun()
	t.signal()
	select {
	case <-t.done:
		if t.abandoned.Load() {
			return fmt.Errorf("%w: task %s-%d", ErrAbandoned, t.connector, t.id)
		}
		return t.stopErr
	case <-ctx.Done():
	}
	t.abandon()
	return fmt.Errorf("%w: task %s-%d did not stop within the shutdown timeout", ErrAbandoned, t.connector, t.id)
}

// abandon leaves a hung task behind: it silences it, closes its clients
// and ends it for the caller.
func (t *Task) abandon() {
	if t.abandoned.Swap(true) {
		return
	}
	t.log.Error("task did not stop in time; abandoning it")
	t.cancelRun()
	t.cancelHard()
	go t.runner.abandon()
	t.finish(ErrAbandoned)
}

// Done is closed when the task has ended: stopped, failed, finished its
// input, or abandoned.
func (t *Task) Done() <-chan struct{} { return t.done }

// Err returns why the task ended: nil after Stop or at the end of input, the
// failure otherwise (ErrAbandoned for an abandoned task). It returns nil
// while the task runs.
func (t *Task) Err() error {
	select {
	case <-t.done:
		return t.err
	default:
		return nil
	}
}

func (t *Task) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// interruptWait cancels the main loop's current wait (RequestCommit).
func (t *Task) interruptWait() {
	t.mu.Lock()
	if t.cancelWait != nil {
		t.cancelWait()
	}
	t.mu.Unlock()
	t.signal()
}

// isStopping reports whether Stop was called.
func (t *Task) isStopping() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopping
}

// isPaused reports whether the task should be paused.
func (t *Task) isPaused() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paused && !t.stopping
}

// waitContext returns a context for one blocking wait of the main loop
// (Poll, PollRecords): cancelled on stop, failure, Pause, or at deadline
// (zero: none).
func (t *Task) waitContext(deadline time.Time) (context.Context, context.CancelFunc) {
	var ctx context.Context
	var cancel context.CancelFunc
	if deadline.IsZero() {
		ctx, cancel = context.WithCancel(t.runCtx)
	} else {
		ctx, cancel = context.WithDeadline(t.runCtx, deadline)
	}
	t.mu.Lock()
	if t.paused || t.stopping {
		cancel()
	}
	t.cancelWait = cancel
	t.mu.Unlock()
	return ctx, func() {
		t.mu.Lock()
		t.cancelWait = nil
		t.mu.Unlock()
		cancel()
	}
}

// shutdownContext returns the context of the graceful phase: Stop's
// context when stopping, otherwise (failure, end of input) one bounded by
// the shutdown timeout if bounded. It is also cancelled on abandonment.
func (t *Task) shutdownContext(bounded bool) (context.Context, context.CancelFunc) {
	t.mu.Lock()
	parent := t.stopCtx
	t.mu.Unlock()
	if parent == nil && !bounded {
		return context.WithCancel(t.hardCtx)
	}
	if parent == nil {
		ctx, cancel := context.WithTimeout(t.hardCtx, t.settings.ShutdownTimeout)
		return ctx, cancel
	}
	ctx, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(t.hardCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

// reportRunning and reportPaused tell the status listener, unless the task
// was abandoned.
func (t *Task) reportRunning() {
	t.met.setState(true, false, false)
	if t.status != nil && !t.abandoned.Load() {
		t.status.Running(t.connector, t.id)
	}
}

func (t *Task) reportPaused() {
	t.met.setState(false, true, false)
	if t.status != nil && !t.abandoned.Load() {
		t.status.Paused(t.connector, t.id)
	}
}

func (t *Task) reportProgress(trace string) {
	if t.status != nil && !t.abandoned.Load() {
		t.status.Progress(t.connector, t.id, trace)
	}
}

func (t *Task) reportTopic(topic string) {
	if t.status != nil && !t.abandoned.Load() {
		t.status.TopicUsed(t.connector, t.id, topic)
	}
}
