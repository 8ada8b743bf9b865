package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// The instance handles run connector and task code, each instance in a
// goroutine of its own, and report back to the herder as events. A stop
// is bounded by task.shutdown.graceful.timeout.ms (plus a short margin
// for the runner's own bookkeeping): an instance still busy after that is
// abandoned, reported stopped, and whatever it does later is ignored.

// abandonMargin is added to the graceful timeout before an instance that
// has not finished stopping is abandoned.
const abandonMargin = time.Second

// safeCall runs connector code, turning a panic into an error.
func safeCall(what string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked: %v\n%s", what, r, debug.Stack())
		}
	}()
	return fn()
}

// connHandle runs one connector instance.
type connHandle struct {
	h      *herder
	name   string
	inc    uint64
	config map[string]string // raw
	log    *slog.Logger

	gen      chan int // TaskConfigs requests
	stopCh   chan struct{}
	stopOnce sync.Once
	reported atomic.Bool // evConnectorStopped sent

	mu          sync.Mutex
	cancelStart context.CancelFunc
}

func newConnHandle(h *herder, name string, inc uint64, config map[string]string) *connHandle {
	return &connHandle{h: h, name: name, inc: inc, config: config, gen: make(chan int, 1), stopCh: make(chan struct{}),
		log: h.connectorLogger(name)}
}

func (c *connHandle) stopping() bool {
	select {
	case <-c.stopCh:
		return true
	default:
		return false
	}
}

func (c *connHandle) run() {
	h := c.h
	var inst connectors.Connector
	resolved, err := h.resolveConfig(c.config)
	if err == nil {
		inst, err = h.newConnector(c.config[connectors.KeyConnectorClass])
	}
	if err == nil {
		ctx, cancel := context.WithCancel(context.Background())
		c.mu.Lock()
		c.cancelStart = cancel
		c.mu.Unlock()
		if c.stopping() {
			cancel()
		}
		cc := connectors.ConnectorContext{Name: c.name, Logger: c.log, Control: c}
		if _, ok := inst.(connectors.SourceConnector); ok {
			cc.Offsets = connectorOffsetReader{s: h.offsets, name: c.name}
		}
		c.log.Info("starting connector", "inc", c.inc)
		err = safeCall("Start", func() error { return inst.Start(ctx, cc, resolved) })
		cancel()
	}
	if c.stopping() {
		if err == nil {
			c.stopInstance(inst)
		}
		c.reportStopped(false)
		return
	}
	if err != nil {
		c.log.Error("connector failed to start", "err", err)
	}
	h.post(evConnectorStarted{Name: c.name, Inc: c.inc, Err: err})
	if err != nil {
		return
	}
	for {
		select {
		case max := <-c.gen:
			configs, err := c.generate(inst, max, resolved)
			if c.stopping() {
				continue
			}
			h.post(evTaskConfigsGenerated{Name: c.name, Inc: c.inc, Configs: configs, Err: err})
		case <-c.stopCh:
			c.stopInstance(inst)
			c.reportStopped(false)
			return
		}
	}
}

// generate calls TaskConfigs and adds the framework keys: task.class, and
// for sinks the connector's topics or topics.regex (as Kafka's
// Worker.connectorTaskConfigs). Values that came from config-provider
// placeholders are stored as the placeholders again, so secrets never
// reach the config topic.
func (c *connHandle) generate(inst connectors.Connector, max int, resolved map[string]string) ([]map[string]string, error) {
	var configs []map[string]string
	err := safeCall("TaskConfigs", func() error {
		var err error
		configs, err = inst.TaskConfigs(max)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("generate task configs: %w", err)
	}
	taskClass := c.h.taskClass(inst, c.config[connectors.KeyConnectorClass])
	out := make([]map[string]string, len(configs))
	for i, tc := range configs {
		m := maps.Clone(tc)
		if m == nil {
			m = map[string]string{}
		}
		m["task.class"] = taskClass
		for _, k := range []string{connectors.KeyTopics, connectors.KeyTopicsRegex} {
			if v, ok := resolved[k]; ok {
				m[k] = v
			}
		}
		out[i] = reverseTransform(c.config, resolved, m)
	}
	return out, nil
}

// reverseTransform puts config-provider placeholders back into a task
// config: a value equal to the resolved value of a raw config key holding
// a placeholder becomes that placeholder (Kafka's
// ConfigTransformer.reverseTransform).
func reverseTransform(raw, resolved, task map[string]string) map[string]string {
	for k, v := range task {
		if r, ok := raw[k]; ok && r != v && strings.Contains(r, "${") && resolved[k] == v {
			task[k] = r
		}
	}
	return task
}

func (c *connHandle) stopInstance(inst connectors.Connector) {
	ctx, cancel := context.WithTimeout(context.Background(), c.h.cfg.TaskShutdownGracefulTimeout)
	defer cancel()
	if err := safeCall("Stop", func() error { return inst.Stop(ctx) }); err != nil {
		c.log.Warn("connector did not stop cleanly", "err", err)
	} else {
		c.log.Info("connector stopped", "inc", c.inc)
	}
}

func (c *connHandle) reportStopped(abandoned bool) {
	if !c.reported.CompareAndSwap(false, true) {
		return
	}
	if abandoned {
		c.log.Error("connector did not stop within task.shutdown.graceful.timeout.ms; abandoned", "timeout", c.h.cfg.TaskShutdownGracefulTimeout)
		c.h.metrics.abandoned.WithLabelValues(c.name).Inc()
	}
	c.h.post(evConnectorStopped{Name: c.name, Inc: c.inc})
}

// generateTaskConfigs asks for TaskConfigs(max); it never blocks.
func (c *connHandle) generateTaskConfigs(max int) {
	select {
	case c.gen <- max:
	default:
	}
}

// stop asks the instance to stop; it never blocks.
func (c *connHandle) stop() {
	c.stopOnce.Do(func() {
		close(c.stopCh)
		c.mu.Lock()
		if c.cancelStart != nil {
			c.cancelStart()
		}
		c.mu.Unlock()
		time.AfterFunc(c.h.cfg.TaskShutdownGracefulTimeout+abandonMargin, func() { c.reportStopped(true) })
	})
}

// RequestTaskReconfiguration implements connectors.ConnectorControl.
func (c *connHandle) RequestTaskReconfiguration() {
	if !c.stopping() {
		c.h.post(evReconfigure{Name: c.name, Inc: c.inc})
	}
}

// RaiseError implements connectors.ConnectorControl.
func (c *connHandle) RaiseError(err error) {
	if err == nil {
		err = errors.New("connector raised an error")
	}
	if !c.stopping() {
		c.log.Error("connector failed", "err", err)
		c.h.post(evConnectorFailed{Name: c.name, Inc: c.inc, Err: err})
	}
}

// taskHandle runs one task instance through the task runner.
type taskHandle struct {
	h          *herder
	id         TaskID
	inc        uint64
	connConfig map[string]string // raw
	taskConfig map[string]string // raw
	paused     bool              // pause right after start
	log        *slog.Logger

	cmds     chan bool // true: pause, false: resume
	stopCh   chan struct{}
	stopOnce sync.Once
	reported atomic.Bool

	mu          sync.Mutex
	cancelStart context.CancelFunc
}

func newTaskHandle(h *herder, a action) *taskHandle {
	return &taskHandle{h: h, id: TaskID{Connector: a.Connector, Task: a.Task}, inc: a.Inc, connConfig: a.ConnConfig,
		taskConfig: a.Config, paused: a.Paused, cmds: make(chan bool, 16), stopCh: make(chan struct{}),
		log: h.connectorLogger(a.Connector).With("task", a.Task)}
}

func (t *taskHandle) stopping() bool {
	select {
	case <-t.stopCh:
		return true
	default:
		return false
	}
}

func (t *taskHandle) run() {
	h := t.h
	var rt runningTask
	connCfg, err := h.resolveConfig(t.connConfig)
	var taskCfg map[string]string
	if err == nil {
		taskCfg, err = h.resolveConfig(t.taskConfig)
	}
	var inst connectors.Connector
	if err == nil {
		inst, err = h.newConnector(t.connConfig[connectors.KeyConnectorClass])
	}
	if err == nil {
		ctx, cancel := context.WithCancel(context.Background())
		t.mu.Lock()
		t.cancelStart = cancel
		t.mu.Unlock()
		if t.stopping() {
			cancel()
		}
		spec := taskSpec{Connector: t.id.Connector, Task: t.id.Task, ConnectorConfig: connCfg, TaskConfig: taskCfg,
			Instance: inst, Status: taskStatusListener{t}, Logger: h.levels.Logger("sluice.connector." + t.id.Connector), Kafka: h.cl.opts()}
		t.log.Info("starting task", "inc", t.inc)
		err = safeCall("task start", func() error {
			var err error
			rt, err = h.runner.start(ctx, spec)
			return err
		})
		cancel()
	}
	if t.stopping() {
		if err == nil {
			t.stopTask(rt)
		}
		t.reportExited(evTaskExited{})
		return
	}
	if err != nil {
		t.log.Error("task failed to start", "err", err)
	}
	h.post(evTaskStarted{ID: t.id, Inc: t.inc, Err: err})
	if err != nil {
		return
	}
	if t.paused {
		rt.Pause()
	}
	done := rt.Done()
	for {
		select {
		case <-done:
			if err := rt.Err(); err != nil {
				t.log.Error("task failed", "err", err)
				t.reportExited(evTaskExited{Err: err})
				return
			}
			t.log.Info("task finished its input")
			h.post(evTaskExited{ID: t.id, Inc: t.inc, Finished: true})
			done = nil
		case pause := <-t.cmds:
			if pause {
				rt.Pause()
			} else {
				rt.Resume()
			}
		case <-t.stopCh:
			t.stopTask(rt)
			t.reportExited(evTaskExited{})
			return
		}
	}
}

func (t *taskHandle) stopTask(rt runningTask) {
	ctx, cancel := context.WithTimeout(context.Background(), t.h.cfg.TaskShutdownGracefulTimeout)
	defer cancel()
	if err := rt.Stop(ctx); err != nil {
		t.log.Warn("task did not stop cleanly", "err", err)
		if ctx.Err() != nil {
			t.h.metrics.abandoned.WithLabelValues(t.id.Connector).Inc()
		}
		return
	}
	t.log.Info("task stopped", "inc", t.inc)
}

func (t *taskHandle) reportExited(ev evTaskExited) {
	if !t.reported.CompareAndSwap(false, true) {
		return
	}
	if ev.Abandoned {
		t.log.Error("task did not stop within task.shutdown.graceful.timeout.ms; abandoned", "timeout", t.h.cfg.TaskShutdownGracefulTimeout)
		t.h.metrics.abandoned.WithLabelValues(t.id.Connector).Inc()
	}
	ev.ID, ev.Inc = t.id, t.inc
	t.h.post(ev)
}

// pause and resume never block.
func (t *taskHandle) pause()  { t.send(true) }
func (t *taskHandle) resume() { t.send(false) }

func (t *taskHandle) send(pause bool) {
	select {
	case t.cmds <- pause:
	default:
		t.log.Warn("task is not taking pause/resume commands; dropping one", "pause", pause)
	}
}

func (t *taskHandle) stop() {
	t.stopOnce.Do(func() {
		close(t.stopCh)
		t.mu.Lock()
		if t.cancelStart != nil {
			t.cancelStart()
		}
		t.mu.Unlock()
		time.AfterFunc(t.h.cfg.TaskShutdownGracefulTimeout+abandonMargin, func() { t.reportExited(evTaskExited{Abandoned: true}) })
	})
}

// taskStatusListener forwards one task instance's state to the herder.
type taskStatusListener struct{ t *taskHandle }

func (l taskStatusListener) live() bool { return !l.t.reported.Load() }

func (l taskStatusListener) Running(string, int) {
	if l.live() {
		l.t.h.post(evTaskState{ID: l.t.id, Inc: l.t.inc, State: StateRunning})
	}
}

func (l taskStatusListener) Paused(string, int) {
	if l.live() {
		l.t.h.post(evTaskState{ID: l.t.id, Inc: l.t.inc, State: StatePaused})
	}
}

func (l taskStatusListener) Failed(_ string, _ int, err error) {
	if l.live() {
		l.t.h.post(evTaskState{ID: l.t.id, Inc: l.t.inc, State: StateFailed, Err: err})
	}
}

func (l taskStatusListener) Progress(_ string, _ int, trace string) {
	if l.live() {
		l.t.h.post(evTaskProgress{ID: l.t.id, Inc: l.t.inc, Trace: trace})
	}
}

func (l taskStatusListener) TopicUsed(connector string, task int, topic string) {
	if l.live() && l.t.h.cfg.TopicTrackingEnable {
		l.t.h.status.topicUsed(connector, task, topic, l.t.h.clock())
	}
}
