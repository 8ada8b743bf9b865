package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/plugins"
	"github.com/sluicedata/sluice/plugins/configprovider"
	"github.com/sluicedata/sluice/runtime/assign"
)

// herder is the driver around machine: one goroutine takes events from a
// queue, steps the machine under h.mu, and carries out the resulting
// actions in order. Actions never block on connector or task code: each
// instance has its own goroutine (instances.go), and writes to the
// internal topics are asynchronous and ordered. REST-facing methods read
// the machine under h.mu, write to the config topic, and wait for the
// result on h.changed, so a hung connector or task never holds a lock
// anyone else needs.
//
// Lock order: h.mu, then statusStore.mu / offsetStore.mu (never the
// reverse).
type herder struct {
	cfg       WorkerConfig
	log       *slog.Logger
	levels    *LogLevels
	registry  *plugins.Registry
	version   string
	workerID  string
	url       string // advertised REST URL, given to the other workers
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	metrics   *herderMetrics
	runner    taskRunner
	providers map[string]configprovider.ConfigProvider
	clock     func() time.Time

	ready      chan struct{} // closed once the internal topics are read and the machine started
	startedAt  time.Time
	stopped    chan struct{} // closed when the worker stops
	stopOnce   sync.Once
	cl         *cluster
	reader     *configReader
	configLog  *kafkaLog
	offsetLog  *kafkaLog
	statusLog  *kafkaLog
	status     *statusStore
	offsets    *offsetStore
	member     *member // the group membership driver; nil until started
	internal   *internalClient
	events     eventQueue
	loopDone   chan struct{}
	writeMu    sync.Mutex // serialises the check-then-write requests on the config topic
	keyMu      sync.Mutex // serialises session key rotations
	keyTimer   *time.Timer
	shutdownMu sync.Mutex

	mu struct {
		sync.Mutex
		m       *machine
		changed chan struct{} // closed and replaced after every step
		conns   map[string]*connHandle
		tasks   map[TaskID]*taskHandle
		timer   *time.Timer
		// workload is the work to assign as of the last config event; a
		// change is reported to the membership driver with the offset
		// of the record that made it (the next evConfigPos).
		workload    map[string]int
		workChanged bool
		sessionKey  *sessionKey
		// configApplied is the config topic offset the machine has seen
		// every record before (-1: none).
		configApplied int64
		// publishing numbers each connector's task-config publications.
		publishing map[string]uint64
	}
}

func newHerder(cfg WorkerConfig, opts Options) *herder {
	h := &herder{
		cfg:      cfg,
		levels:   opts.Levels,
		registry: opts.Registry,
		version:  opts.Version,
		workerID: opts.WorkerID,
		url:      opts.URL,
		dial:     opts.dial,
		runner:   opts.runner,
		clock:    time.Now,
		ready:    make(chan struct{}),
		stopped:  make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	h.log = h.levels.Logger("sluice.runtime").With("component", "herder")
	h.status = newStatusStore(h.log)
	h.offsets = newOffsetStore(h.log)
	if h.runner == nil {
		h.runner = defaultRunner(h, opts)
	}
	h.reader = newConfigReader(h.log)
	h.events.init()
	h.mu.m = newClusterMachine(restartPolicy{Initial: cfg.TaskRestartInitialBackoff, Max: cfg.TaskRestartMaxBackoff, MaxAttempts: cfg.TaskRestartMaxAttempts})
	h.mu.changed = make(chan struct{})
	h.mu.configApplied = -1
	h.mu.publishing = map[string]uint64{}
	h.mu.conns = map[string]*connHandle{}
	h.mu.tasks = map[TaskID]*taskHandle{}
	return h
}

// connectorLogger is the logger of a connector and its tasks.
func (h *herder) connectorLogger(name string) *slog.Logger {
	return h.levels.Logger("sluice.connector."+name).With("component", "connector", "connector", name)
}

// start reads the internal topics and starts the connectors. It is
// called once by Worker.Start.
func (h *herder) start(ctx context.Context) error {
	h.startedAt = h.clock()
	go h.loop()
	cl, err := openCluster(ctx, &h.cfg, h.log.With("component", "kafka"), h.levels.Logger("sluice.broker"), h.dial)
	if err != nil {
		return err
	}
	h.cl = cl
	counts, err := cl.ensureTopics(ctx, h.cfg.internalTopics())
	if err != nil {
		return err
	}
	h.statusLog, err = openKafkaLog(ctx, cl, h.cfg.StatusStorageTopic, counts[2], h.status.apply, h.log)
	if err != nil {
		return err
	}
	h.status.workerID = h.workerID
	h.status.log = h.statusLog
	h.offsetLog, err = openKafkaLog(ctx, cl, h.cfg.OffsetStorageTopic, counts[1], h.offsets.apply, h.log)
	if err != nil {
		return err
	}
	h.offsets.log = h.offsetLog
	h.offsets.observe = h.metrics.observeCommit
	h.configLog, err = openKafkaLog(ctx, cl, h.cfg.ConfigStorageTopic, counts[0], h.applyConfigRecord, h.log)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.reader.started = true
	h.mu.Unlock()
	h.post(evStart{})
	// Ready once the loop has taken everything read so far.
	done := make(chan struct{})
	h.post(evBarrier{done: done})
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	h.internal = newInternalClient(h)
	h.member = newMember(cl.adminCl, h, memberConfig{
		group:       h.cfg.GroupID,
		url:         h.url,
		instanceID:  h.workerID,
		protocols:   assign.Protocols(h.cfg.ConnectProtocol),
		session:     h.cfg.SessionTimeout,
		heartbeat:   h.cfg.HeartbeatInterval,
		rebalance:   h.cfg.RebalanceTimeout,
		maxDelay:    h.cfg.ScheduledRebalanceMaxDelay,
		stopBudget:  min(h.cfg.TaskShutdownGracefulTimeout+abandonMargin, h.cfg.SessionTimeout/2),
		syncTimeout: h.cfg.WorkerSyncTimeout,
	}, h.log)
	h.member.start()
	close(h.ready)
	h.log.Info("worker started", "worker_id", h.workerID, "url", h.url, "group", h.cfg.GroupID,
		"kafka", strings.Join(cl.seeds, ","), "embedded_broker", cl.broker != nil, "startup", h.clock().Sub(h.startedAt))
	return nil
}

// applyConfigRecord is the config log's record callback: the reader turns
// records into events, in topic order.
func (h *herder) applyConfigRecord(r *kgo.Record) {
	h.mu.Lock()
	evs := h.reader.apply(string(r.Key), r.Value)
	h.mu.Unlock()
	for _, ev := range evs {
		h.post(ev)
	}
	h.post(evConfigPos{pos: r.Offset + 1})
}

// post queues an event for the machine. It never blocks.
func (h *herder) post(ev event) { h.events.push(ev) }

// loop is the only goroutine that steps the machine and carries out
// actions, so actions run in the order they were decided.
func (h *herder) loop() {
	defer close(h.loopDone)
	for {
		ev, ok := h.events.pop()
		if !ok {
			return
		}
		switch e := ev.(type) {
		case evBarrier:
			close(e.done)
			continue
		case evConfigPos:
			h.mu.Lock()
			changed := h.mu.workChanged
			h.mu.workChanged = false
			h.mu.configApplied = e.pos
			close(h.mu.changed)
			h.mu.changed = make(chan struct{})
			h.mu.Unlock()
			if changed && h.member != nil {
				h.member.workChanged(e.pos)
			}
			continue
		case evSessionKey:
			h.mu.Lock()
			h.mu.sessionKey = e.key
			h.mu.Unlock()
			continue
		}
		h.mu.Lock()
		now := h.clock()
		acts := h.mu.m.step(now, ev)
		switch ev.(type) {
		case evConnectorConfig, evTaskConfigs, evTargetState:
			if w := h.mu.m.workload(); !maps.Equal(w, h.mu.workload) {
				h.mu.workload, h.mu.workChanged = w, true
			}
		}
		h.armTimerLocked(now, h.mu.m.nextDeadline())
		for _, a := range acts {
			h.execute(a)
		}
		close(h.mu.changed)
		h.mu.changed = make(chan struct{})
		h.mu.Unlock()
	}
}

// armTimerLocked schedules an evTick for the machine's next deadline.
// REQUIRES: h.mu held.
func (h *herder) armTimerLocked(now, deadline time.Time) {
	if h.mu.timer != nil {
		h.mu.timer.Stop()
		h.mu.timer = nil
	}
	if deadline.IsZero() {
		return
	}
	h.mu.timer = time.AfterFunc(max(deadline.Sub(now), 0), func() { h.post(evTick{}) })
}

// execute carries out one action. It never blocks on connector or task
// code or on the network. REQUIRES: h.mu held (by the loop).
func (h *herder) execute(a action) {
	h.log.Debug("action", "action", a.String())
	switch a.Kind {
	case actStartConnector:
		if a.Reason != "" {
			h.metrics.connectorRestarts.WithLabelValues(a.Connector, a.Reason).Inc()
		}
		c := newConnHandle(h, a.Connector, a.Inc, a.Config)
		h.mu.conns[a.Connector] = c
		go c.run()
	case actStopConnector:
		if c := h.mu.conns[a.Connector]; c != nil && c.inc == a.Inc {
			c.stop()
		}
	case actGenerateTaskConfigs:
		if c := h.mu.conns[a.Connector]; c != nil && c.inc == a.Inc {
			c.generateTaskConfigs(a.MaxTasks)
		}
	case actWriteTaskConfigs:
		if c := h.mu.m.conns[a.Connector]; c != nil {
			h.mu.publishing[a.Connector]++
			go h.publishTaskConfigs(a.Connector, a.TaskConfigs, c.inc, h.mu.publishing[a.Connector])
		}
	case actStartTask:
		if a.Reason != "" {
			h.metrics.taskRestarts.WithLabelValues(a.Connector, a.Reason).Inc()
		}
		t := newTaskHandle(h, a)
		h.mu.tasks[t.id] = t
		go t.run()
	case actStopTask:
		if t := h.mu.tasks[TaskID{a.Connector, a.Task}]; t != nil && t.inc == a.Inc {
			t.stop()
		}
	case actPauseTask, actResumeTask:
		if t := h.mu.tasks[TaskID{a.Connector, a.Task}]; t != nil && t.inc == a.Inc {
			if a.Kind == actPauseTask {
				t.pause()
			} else {
				t.resume()
			}
		}
	case actWriteStatus:
		if a.Task < 0 {
			h.status.putConnector(a.Connector, a.State, a.Trace)
		} else {
			h.status.putTask(TaskID{a.Connector, a.Task}, a.State, a.Trace)
		}
	case actDeleteStatus:
		if a.Task < 0 {
			h.status.deleteConnector(a.Connector)
		} else {
			h.status.deleteTask(TaskID{a.Connector, a.Task})
		}
	case actResetTopics:
		h.status.resetTopics(a.Connector)
	case actSetLoggerLevel:
		if lvl, ok := ParseLevel(a.Level); ok {
			h.levels.Set(a.Connector, lvl)
			h.log.Info("applied a cluster-wide logger level", "logger", a.Connector, "level", a.Level)
		}
	}
}

// waitFor waits until cond (called with h.mu held) is true, ctx is done,
// or the worker stops.
func (h *herder) waitFor(ctx context.Context, cond func(m *machine) bool) error {
	for {
		h.mu.Lock()
		ok := cond(h.mu.m)
		ch := h.mu.changed
		h.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return requestTimeout(ctx.Err())
		case <-h.stopped:
			return Errorf(ErrServerError, "Worker is shutting down")
		}
	}
}

// awaitReady waits until the worker has read its internal topics.
func (h *herder) awaitReady(ctx context.Context) error {
	select {
	case <-h.ready:
		return nil
	default:
	}
	select {
	case <-h.ready:
		return nil
	case <-h.stopped:
		return Errorf(ErrServerError, "Worker is shutting down")
	case <-ctx.Done():
		return requestTimeout(ctx.Err())
	}
}

func requestTimeout(cause error) *Error {
	return &Error{Kind: ErrTimeout, Message: "Request timed out", Err: cause}
}

// shutdown stops every connector and task (each within the graceful
// timeout), then stops following the internal topics.
func (h *herder) shutdown(ctx context.Context) error {
	h.shutdownMu.Lock()
	defer h.shutdownMu.Unlock()
	select {
	case <-h.stopped:
		return nil
	default:
	}
	var err error
	select {
	case <-h.ready:
		h.post(evShutdown{})
		wctx, cancel := context.WithTimeout(ctx, h.cfg.TaskShutdownGracefulTimeout+2*abandonMargin)
		err = h.waitFor(wctx, func(m *machine) bool { return m.idle() })
		cancel()
		if err != nil {
			h.log.Warn("some connectors or tasks did not stop in time", "err", err)
			err = nil
		}
		// Status writes are asynchronous: let them reach the broker
		// before leaving the group (the leader reads them to tell a
		// clean exit from a crash).
		fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if ferr := h.cl.producer.Flush(fctx); ferr != nil {
			h.log.Warn("flushing status writes", "err", ferr)
		}
		cancel()
		h.member.close(ctx)
	default:
	}
	h.stopOnce.Do(func() { close(h.stopped) })
	h.events.close()
	<-h.loopDone
	h.mu.Lock()
	if h.mu.timer != nil {
		h.mu.timer.Stop()
	}
	h.mu.Unlock()
	h.keyMu.Lock()
	if h.keyTimer != nil {
		h.keyTimer.Stop()
	}
	h.keyMu.Unlock()
	for _, l := range []*kafkaLog{h.configLog, h.offsetLog, h.statusLog} {
		if l != nil {
			l.Close()
		}
	}
	if h.providers != nil {
		if cerr := configprovider.CloseAll(h.providers); cerr != nil {
			h.log.Warn("closing config providers", "err", cerr)
		}
	}
	if h.cl != nil {
		if cerr := h.cl.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}
	return err
}

// resolveConfig applies the config providers to a config. The result is
// handed to connectors and tasks only; the raw config is what is stored
// and shown.
func (h *herder) resolveConfig(config map[string]string) (map[string]string, error) {
	if len(h.providers) == 0 || !configprovider.HasPlaceholders(config) {
		return maps.Clone(config), nil
	}
	return configprovider.Resolve(config, h.providers)
}

// lookupConnector finds a connector plugin by class name or alias; the
// error is Kafka's "Failed to find any class that implements Connector
// and which name matches …".
func (h *herder) lookupConnector(class string) (plugins.Plugin, error) {
	return h.registry.Lookup(class, plugins.KindSource, plugins.KindSink)
}

// newConnector returns a new instance of a connector class.
func (h *herder) newConnector(class string) (connectors.Connector, error) {
	p, err := h.lookupConnector(strings.TrimSpace(class))
	if err != nil {
		return nil, err
	}
	c, ok := p.New().(connectors.Connector)
	if !ok {
		return nil, fmt.Errorf("plugin %s is not a connector", p.Class)
	}
	return c, nil
}

// connectorType returns "source", "sink" or "unknown" for a config.
func (h *herder) connectorType(config map[string]string) string {
	p, err := h.lookupConnector(strings.TrimSpace(config[connectors.KeyConnectorClass]))
	if err != nil {
		return "unknown"
	}
	return string(p.Kind)
}

// taskClassNamer is an optional Connector capability: the class name
// reported as task.class in task configs (Kafka's taskClass().getName()).
type taskClassNamer interface {
	TaskClass() string
}

// taskClass returns the task.class of a connector's task configs: the
// connector's TaskClass if it has one, else its class name with the
// "Connector" suffix replaced by "Task" (Kafka's naming, e.g.
// org.apache.kafka.connect.file.FileStreamSourceTask).
func (h *herder) taskClass(inst connectors.Connector, class string) string {
	if n, ok := inst.(taskClassNamer); ok {
		return n.TaskClass()
	}
	if p, err := h.lookupConnector(strings.TrimSpace(class)); err == nil {
		class = p.Class
	}
	return strings.TrimSuffix(class, "Connector") + "Task"
}

// stateCounts counts the reported states of the connectors and tasks this
// worker reported last (the others' are theirs to count), for metrics.
func (h *herder) stateCounts() (conns, tasks map[State]int) {
	conns, tasks = map[State]int{}, map[State]int{}
	h.mu.Lock()
	var names []string
	counts := map[string]int{}
	for name, c := range h.mu.m.conns {
		if c.exists() {
			names = append(names, name)
			if c.committed && c.targetState() != TargetStopped {
				counts[name] = len(c.taskConfigs)
			}
		}
	}
	h.mu.Unlock()
	for _, name := range names {
		if st, ok := h.status.connector(name); ok && st.WorkerID == h.workerID {
			conns[st.State]++
		}
		for _, t := range h.status.tasksOf(name, counts[name]) {
			if t.WorkerID == h.workerID {
				tasks[t.State]++
			}
		}
	}
	return conns, tasks
}

// evBarrier is not for the machine: the loop closes done when it takes
// it, which tells that every event queued before it was handled.
type evBarrier struct{ done chan struct{} }

func (evBarrier) isEvent() {}

// evConfigPos is not for the machine: it follows the events of each
// config record, with the offset after it.
type evConfigPos struct{ pos int64 }

func (evConfigPos) isEvent() {}

// evSessionKey is not for the machine: a session key was read from the
// config topic.
type evSessionKey struct{ key *sessionKey }

func (evSessionKey) isEvent() {}

// eventQueue is an unbounded FIFO of events: posting never blocks, so
// connector and task goroutines can always report.
type eventQueue struct {
	mu     sync.Mutex
	items  []event
	signal chan struct{}
	closed bool
}

func (q *eventQueue) init() { q.signal = make(chan struct{}, 1) }

func (q *eventQueue) push(ev event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *eventQueue) pop() (event, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			ev := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			q.mu.Unlock()
			return ev, true
		}
		if q.closed {
			q.mu.Unlock()
			return nil, false
		}
		q.mu.Unlock()
		<-q.signal
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}
