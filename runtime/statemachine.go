package runtime

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The herder's decisions live in machine, a deterministic state machine
// with no I/O, no goroutines and no clock: the driver (herder.go) feeds it
// events with the current time and carries out the actions it returns.
// Connector and task code is only ever called by the driver, outside any
// lock, so a hung connector never blocks a decision.
//
// The machine holds two things per connector: what the config topic asks
// for (config, target state, committed task configs) and what runs (a
// connector instance and task instances, each numbered by an incarnation
// so that late reports from a replaced instance are recognised and
// ignored). After every event it reconciles the two and returns the
// actions that close the gap: it never starts an instance while the
// previous one is still starting or stopping, so each action on an
// instance is followed by exactly one report from the driver.

// Events.
type event interface{ isEvent() }

type (
	// evStart: the internal topics were read; start reconciling.
	evStart struct{}
	// evShutdown: the worker stops; stop everything.
	evShutdown struct{}
	// evTick: time passed (a backoff may have expired).
	evTick struct{}

	// evConnectorConfig: a connector config was written (Config nil: removed).
	evConnectorConfig struct {
		Name   string
		Config map[string]string
	}
	// evTargetState: a target state was written ("": removed, i.e. STARTED).
	evTargetState struct {
		Name  string
		State TargetState
	}
	// evTaskConfigs: a consistent set of task configs was committed, for the
	// connector config Applied; or the commit was inconsistent.
	evTaskConfigs struct {
		Name         string
		Configs      []map[string]string
		Applied      map[string]string
		Inconsistent bool
	}
	// evRestartRequest: a KIP-745 restart request was written.
	evRestartRequest struct {
		Name                     string
		IncludeTasks, OnlyFailed bool
	}
	// evRestartConnector: restart the connector instance only (the
	// synchronous form of POST …/restart).
	evRestartConnector struct{ Name string }
	// evRestartTask: restart one task (POST …/tasks/{t}/restart).
	evRestartTask struct{ ID TaskID }
	// evLoggerLevel: a cluster-wide logger level was written.
	evLoggerLevel struct{ Namespace, Level string }
	// evAssignment: the group assigned this worker the connectors and
	// tasks it runs (everything it owns, not a delta). An empty assignment
	// (membership lost) stops everything.
	evAssignment struct {
		Connectors []string
		Tasks      []TaskID
	}

	// evConnectorStarted: Start of instance Inc returned.
	evConnectorStarted struct {
		Name string
		Inc  uint64
		Err  error
	}
	// evConnectorFailed: the running instance raised an error.
	evConnectorFailed struct {
		Name string
		Inc  uint64
		Err  error
	}
	// evConnectorStopped: the instance was stopped (or abandoned).
	evConnectorStopped struct {
		Name string
		Inc  uint64
	}
	// evReconfigure: the instance asked for new task configs.
	evReconfigure struct {
		Name string
		Inc  uint64
	}
	// evTaskConfigsGenerated: TaskConfigs of instance Inc returned; the
	// configs carry the framework keys already.
	evTaskConfigsGenerated struct {
		Name    string
		Inc     uint64
		Configs []map[string]string
		Err     error
	}
	// evTaskStarted: Start of task instance Inc returned.
	evTaskStarted struct {
		ID  TaskID
		Inc uint64
		Err error
	}
	// evTaskState: the task runner reported RUNNING, PAUSED or FAILED.
	evTaskState struct {
		ID    TaskID
		Inc   uint64
		State State
		Err   error
	}
	// evTaskProgress: a running task's long jobs (a snapshot) moved on;
	// Trace describes them, "" once they are over. It becomes the trace
	// of the task's RUNNING status, so that GET /connectors/{name}/status
	// shows how far a snapshot has come.
	evTaskProgress struct {
		ID    TaskID
		Inc   uint64
		Trace string
	}
	// evTaskExited: the task instance is gone: it failed (Err), finished
	// its input (Finished), or was stopped (possibly Abandoned after the
	// graceful timeout).
	evTaskExited struct {
		ID        TaskID
		Inc       uint64
		Err       error
		Finished  bool
		Abandoned bool
	}
)

func (evStart) isEvent()                {}
func (evShutdown) isEvent()             {}
func (evTick) isEvent()                 {}
func (evConnectorConfig) isEvent()      {}
func (evTargetState) isEvent()          {}
func (evTaskConfigs) isEvent()          {}
func (evRestartRequest) isEvent()       {}
func (evRestartConnector) isEvent()     {}
func (evRestartTask) isEvent()          {}
func (evLoggerLevel) isEvent()          {}
func (evAssignment) isEvent()           {}
func (evConnectorStarted) isEvent()     {}
func (evConnectorFailed) isEvent()      {}
func (evConnectorStopped) isEvent()     {}
func (evReconfigure) isEvent()          {}
func (evTaskConfigsGenerated) isEvent() {}
func (evTaskStarted) isEvent()          {}
func (evTaskState) isEvent()            {}
func (evTaskProgress) isEvent()         {}
func (evTaskExited) isEvent()           {}

// actionKind says what the driver must do.
type actionKind int8

const (
	actStartConnector      actionKind = iota + 1 // create an instance and Start it (Config)
	actStopConnector                             // Stop instance Inc
	actGenerateTaskConfigs                       // call TaskConfigs(MaxTasks) on instance Inc
	actWriteTaskConfigs                          // write TaskConfigs + commit to the config topic
	actStartTask                                 // start task instance Inc (Config, ConnConfig, Paused)
	actStopTask                                  // stop task instance Inc
	actPauseTask                                 // pause task instance Inc
	actResumeTask                                // resume task instance Inc
	actWriteStatus                               // write State (and Trace) for the connector (Task -1) or task
	actDeleteStatus                              // tombstone the status of the connector (Task -1) or task
	actResetTopics                               // forget the connector's active topics
	actSetLoggerLevel                            // apply a cluster-wide logger level
)

var actionNames = [...]string{"", "start-connector", "stop-connector", "generate-task-configs", "write-task-configs",
	"start-task", "stop-task", "pause-task", "resume-task", "write-status", "delete-status", "reset-topics", "set-logger-level"}

func (k actionKind) String() string { return actionNames[k] }

// action is one thing for the driver to do.
type action struct {
	Kind        actionKind
	Connector   string
	Task        int // -1 when the action is about the connector
	Inc         uint64
	Config      map[string]string // connector config (start-connector) or task config (start-task)
	ConnConfig  map[string]string // start-task: the connector config the task runs with
	TaskConfigs []map[string]string
	MaxTasks    int
	Paused      bool
	State       State
	Trace       string
	Reason      string // why a start happens: "", "retry" (automatic restart), "restart" (requested)
	Level       string // set-logger-level: namespace in Connector
}

// String renders the action compactly, for tests and debug logs.
func (a action) String() string {
	var b strings.Builder
	b.WriteString(a.Kind.String())
	b.WriteByte(' ')
	b.WriteString(a.Connector)
	if a.Task >= 0 {
		b.WriteString("-" + strconv.Itoa(a.Task))
	}
	if a.Inc != 0 {
		fmt.Fprintf(&b, "#%d", a.Inc)
	}
	switch a.Kind {
	case actGenerateTaskConfigs:
		fmt.Fprintf(&b, " max=%d", a.MaxTasks)
	case actWriteTaskConfigs:
		fmt.Fprintf(&b, " n=%d", len(a.TaskConfigs))
	case actStartTask:
		if a.Paused {
			b.WriteString(" paused")
		}
	case actWriteStatus:
		b.WriteString(" " + string(a.State))
		if a.Trace != "" {
			b.WriteString(" " + a.Trace)
		}
	case actSetLoggerLevel:
		b.WriteString(" " + a.Level)
	}
	if a.Reason != "" {
		b.WriteString(" (" + a.Reason + ")")
	}
	return b.String()
}

// phase is the life stage of a connector or task instance.
type phase int8

const (
	phaseNone     phase = iota // no instance
	phaseStarting              // start action issued, no report yet
	phaseRunning               // started
	phaseFinished              // a task whose input ended; still an instance until stopped
	phaseStopping              // stop action issued, no report yet
)

// restartPolicy is the automatic restart of failed connectors and tasks
// (sluice.task.restart.*).
type restartPolicy struct {
	Initial, Max time.Duration
	MaxAttempts  int // -1 unlimited, 0 never
}

// delay returns the wait before automatic restart number attempt (1-based).
func (p restartPolicy) delay(attempt int) time.Duration {
	d := p.Initial
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// failure is a connector's or task's failed state, with its automatic
// restart schedule.
type failure struct {
	trace     string
	retryAt   time.Time
	exhausted bool // no more automatic restarts
}

// instance is the part of the state shared by connector and task
// instances.
type instance struct {
	inc       uint64
	phase     phase
	startedAt time.Time
	restart   bool // a restart was requested: stop (if running) and start again
	failed    *failure
	attempts  int   // automatic restarts since the last healthy run
	status    State // last status this worker wrote; "" = none
	trace     string
	// lastStart is the incarnation whose start was last reported, and
	// lastStartErr its error ("" on success), for requests that wait for
	// a restart.
	lastStart    uint64
	lastStartErr string
}

// mconn is one connector in the machine.
type mconn struct {
	name string
	// What the config topic asks for.
	config      map[string]string // nil: no config (deleted or not created yet)
	target      TargetState       // "" = STARTED
	taskConfigs []map[string]string
	committed   bool              // a consistent set of task configs exists
	applied     map[string]string // the connector config the task configs were committed for

	// The connector instance.
	instance
	instConfig map[string]string
	generating bool // a TaskConfigs call is in flight
	needGen    bool // task configs must be (re)generated
	restarting bool // status RESTARTING until the new instance reports
}

func (c *mconn) exists() bool { return c.config != nil }

func (c *mconn) targetState() TargetState {
	if c.target == "" {
		return TargetStarted
	}
	return c.target
}

// mtask is one task slot in the machine.
type mtask struct {
	id TaskID
	instance
	config     map[string]string
	connConfig map[string]string
	paused     bool
	restarting bool
}

// machine is the herder's state machine.
//
// A worker that is a member of a cluster runs only what the group
// assigned it (evAssignment); everything else it knows from the config
// topic is run by other workers. Work that leaves this worker while it
// still exists is reported UNASSIGNED (and the status store never lets
// that overwrite a newer worker's status); work that no longer exists has
// its status removed by the worker that ran it last.
type machine struct {
	policy   restartPolicy
	started  bool
	stopping bool
	now      time.Time
	lastInc  uint64
	conns    map[string]*mconn
	tasks    map[TaskID]*mtask
	out      []action

	// cluster: run only what is owned (ownConns, ownTasks); otherwise
	// everything (a machine tested on its own).
	cluster  bool
	ownConns map[string]bool
	ownTasks map[TaskID]bool
}

func newMachine(p restartPolicy) *machine {
	return &machine{policy: p, conns: map[string]*mconn{}, tasks: map[TaskID]*mtask{}}
}

// newClusterMachine returns a machine that runs only what is assigned to
// it (nothing until the first evAssignment).
func newClusterMachine(p restartPolicy) *machine {
	m := newMachine(p)
	m.cluster = true
	m.ownConns, m.ownTasks = map[string]bool{}, map[TaskID]bool{}
	return m
}

// ownsConn and ownsTask report whether this worker runs the connector
// instance or the task.
func (m *machine) ownsConn(name string) bool { return !m.cluster || m.ownConns[name] }
func (m *machine) ownsTask(id TaskID) bool   { return !m.cluster || m.ownTasks[id] }

// step applies one event at time now and returns the actions to take.
func (m *machine) step(now time.Time, ev event) []action {
	m.now = now
	m.out = nil
	m.handle(ev)
	m.reconcile()
	out := m.out
	m.out = nil
	return out
}

func (m *machine) emit(a action) { m.out = append(m.out, a) }

func (m *machine) conn(name string) *mconn {
	c, ok := m.conns[name]
	if !ok {
		c = &mconn{name: name}
		m.conns[name] = c
	}
	return c
}

func (m *machine) nextInc() uint64 { m.lastInc++; return m.lastInc }

func (m *machine) handle(ev event) {
	switch e := ev.(type) {
	case evStart:
		m.started = true
	case evShutdown:
		m.stopping = true
	case evTick:

	case evConnectorConfig:
		c := m.conn(e.Name)
		if e.Config == nil {
			c.config, c.taskConfigs, c.committed, c.applied = nil, nil, false, nil
			c.failed, c.attempts, c.restart, c.restarting = nil, 0, false, false
			if m.started {
				m.emit(action{Kind: actResetTopics, Connector: e.Name, Task: -1})
			}
			return
		}
		if !maps.Equal(c.config, e.Config) {
			c.failed, c.attempts = nil, 0 // a new config deserves a fresh start
		}
		c.config = e.Config
	case evTargetState:
		c := m.conn(e.Name)
		if c.target != e.State {
			c.failed, c.attempts = nil, 0
		}
		c.target = e.State
	case evTaskConfigs:
		c := m.conn(e.Name)
		if e.Inconsistent {
			c.committed, c.taskConfigs = false, nil
			c.needGen = true
			return
		}
		c.taskConfigs, c.applied, c.committed = e.Configs, e.Applied, true
		for _, t := range m.tasksOf(e.Name) {
			if t.id.Task < len(e.Configs) && !maps.Equal(t.config, e.Configs[t.id.Task]) {
				t.failed, t.attempts = nil, 0
			}
		}
	case evRestartRequest:
		c, ok := m.conns[e.Name]
		if !ok || !c.exists() {
			return
		}
		if m.ownsConn(e.Name) && (!e.OnlyFailed || c.status == StateFailed) {
			c.restart, c.failed, c.attempts = true, nil, 0
			if c.targetState() == TargetStarted {
				c.restarting = true
				m.writeConnStatus(c, StateRestarting, "")
			}
		}
		if e.IncludeTasks {
			for _, t := range m.tasksOf(e.Name) {
				if m.ownsTask(t.id) && (!e.OnlyFailed || t.status == StateFailed) {
					t.restart, t.failed, t.attempts, t.restarting = true, nil, 0, true
					m.writeTaskStatus(t, StateRestarting, "")
				}
			}
		}
	case evRestartConnector:
		if c, ok := m.conns[e.Name]; ok && c.exists() && m.ownsConn(e.Name) {
			c.restart, c.failed, c.attempts = true, nil, 0
		}
	case evRestartTask:
		if t, ok := m.tasks[e.ID]; ok && m.ownsTask(e.ID) {
			t.restart, t.failed, t.attempts = true, nil, 0
		}
	case evLoggerLevel:
		m.emit(action{Kind: actSetLoggerLevel, Connector: e.Namespace, Task: -1, Level: e.Level})
	case evAssignment:
		if !m.cluster {
			return
		}
		conns, tasks := map[string]bool{}, map[TaskID]bool{}
		for _, c := range e.Connectors {
			conns[c] = true
		}
		for _, id := range e.Tasks {
			tasks[id] = true
		}
		// Work given up forgets its failures and pending restarts: they
		// are the next owner's business.
		for name, c := range m.conns {
			if m.ownConns[name] && !conns[name] {
				c.failed, c.attempts, c.restart, c.restarting = nil, 0, false, false
			}
		}
		for id, t := range m.tasks {
			if m.ownTasks[id] && !tasks[id] {
				t.failed, t.attempts, t.restart, t.restarting = nil, 0, false, false
			}
		}
		m.ownConns, m.ownTasks = conns, tasks

	case evConnectorStarted:
		c, ok := m.conns[e.Name]
		if !ok || c.inc != e.Inc || c.phase != phaseStarting {
			return
		}
		c.restarting = false
		c.lastStart, c.lastStartErr = e.Inc, errText(e.Err)
		if e.Err != nil {
			c.inc, c.phase = 0, phaseNone // Start failed: the instance is discarded without Stop
			m.fail(&c.instance, e.Err)
			m.writeConnStatus(c, StateFailed, c.failed.trace)
			return
		}
		c.phase = phaseRunning
		c.needGen = true
		if c.failed != nil {
			c.failed = nil
		}
		m.writeConnStatus(c, StateRunning, "")
	case evConnectorFailed:
		c, ok := m.conns[e.Name]
		if !ok || c.inc != e.Inc || c.phase != phaseRunning {
			return
		}
		m.failRunningConnector(c, e.Err)
	case evConnectorStopped:
		c, ok := m.conns[e.Name]
		if !ok || c.inc != e.Inc {
			return
		}
		c.inc, c.phase, c.generating = 0, phaseNone, false
	case evReconfigure:
		if c, ok := m.conns[e.Name]; ok && c.inc == e.Inc && c.phase == phaseRunning {
			c.needGen = true
		}
	case evTaskConfigsGenerated:
		c, ok := m.conns[e.Name]
		if !ok || c.inc != e.Inc || c.phase != phaseRunning {
			return
		}
		c.generating = false
		if e.Err != nil {
			m.failRunningConnector(c, e.Err)
			return
		}
		if max := tasksMax(c.config); len(e.Configs) > max && tasksMaxEnforced(c.config) {
			m.failRunningConnector(c, fmt.Errorf("The connector %s has generated %d tasks, which is greater than %d, "+
				"the maximum number of tasks it is configured to create. This behaviour should be considered a bug and is disallowed. "+
				"If necessary, it can be permitted by reconfiguring the connector with 'tasks.max.enforce' set to false; "+
				"however, this option will be removed in a future release of Kafka Connect.", c.name, len(e.Configs), max))
			return
		}
		if !c.committed || !equalConfigs(e.Configs, c.taskConfigs) || !maps.Equal(c.applied, c.config) {
			m.emit(action{Kind: actWriteTaskConfigs, Connector: c.name, Task: -1, TaskConfigs: e.Configs})
		}

	case evTaskStarted:
		t, ok := m.tasks[e.ID]
		if !ok || t.inc != e.Inc || t.phase != phaseStarting {
			return
		}
		t.lastStart, t.lastStartErr = e.Inc, errText(e.Err)
		if e.Err != nil {
			t.inc, t.phase = 0, phaseNone
			t.restarting = false
			m.fail(&t.instance, e.Err)
			m.writeTaskStatus(t, StateFailed, t.failed.trace)
			return
		}
		// Started is not running: the runner opens the task in the
		// background and reports RUNNING (evTaskState) once it has.
		t.phase = phaseRunning
		t.restarting = false
	case evTaskState:
		t, ok := m.tasks[e.ID]
		if !ok || t.inc != e.Inc || t.phase == phaseStopping || t.phase == phaseNone {
			return
		}
		switch e.State {
		case StateRunning, StatePaused:
			// Reports of replaced instances were dropped above (by
			// incarnation), so this one is current, even if it comes
			// before evTaskStarted.
			if e.State == StateRunning {
				t.failed = nil
			}
			t.restarting = false
			m.writeTaskStatus(t, e.State, "")
		case StateFailed:
			trace := "task failed"
			if e.Err != nil {
				trace = e.Err.Error()
			}
			m.writeTaskStatus(t, StateFailed, trace)
		}
	case evTaskProgress:
		t, ok := m.tasks[e.ID]
		// Only a RUNNING status of the current instance carries progress:
		// a paused, failed or stopping task keeps its own status.
		if !ok || t.inc != e.Inc || t.phase != phaseRunning || t.status != StateRunning {
			return
		}
		m.writeTaskStatus(t, StateRunning, e.Trace)
	case evTaskExited:
		t, ok := m.tasks[e.ID]
		if !ok || t.inc != e.Inc {
			return
		}
		if e.Finished && t.phase != phaseStopping {
			t.phase = phaseFinished
			return
		}
		wasStopping := t.phase == phaseStopping
		t.inc, t.phase = 0, phaseNone
		if !wasStopping {
			err := e.Err
			if err == nil {
				err = fmt.Errorf("task %s stopped unexpectedly", t.id)
			}
			m.fail(&t.instance, err)
			m.writeTaskStatus(t, StateFailed, t.failed.trace)
		}
	default:
		panic(fmt.Errorf("runtime: machine: unknown event %T", ev))
	}
}

// failRunningConnector records the failure of a running connector
// instance and stops it.
func (m *machine) failRunningConnector(c *mconn, err error) {
	m.fail(&c.instance, err)
	m.writeConnStatus(c, StateFailed, c.failed.trace)
	c.phase = phaseStopping
	c.generating = false
	m.emit(action{Kind: actStopConnector, Connector: c.name, Task: -1, Inc: c.inc})
}

// fail records a failure and schedules the automatic restart.
func (m *machine) fail(in *instance, err error) {
	if !in.startedAt.IsZero() && m.now.Sub(in.startedAt) >= m.policy.Max {
		in.attempts = 0 // it ran healthily for a while: start the backoff over
	}
	in.attempts++
	f := &failure{trace: err.Error()}
	switch {
	case m.policy.MaxAttempts == 0, m.policy.MaxAttempts > 0 && in.attempts > m.policy.MaxAttempts:
		f.exhausted = true
	default:
		f.retryAt = m.now.Add(m.policy.delay(in.attempts))
	}
	in.failed = f
}

func (m *machine) writeConnStatus(c *mconn, s State, trace string) {
	if c.status == s && c.trace == trace {
		return
	}
	c.status, c.trace = s, trace
	m.emit(action{Kind: actWriteStatus, Connector: c.name, Task: -1, State: s, Trace: trace})
}

func (m *machine) writeTaskStatus(t *mtask, s State, trace string) {
	if t.status == s && t.trace == trace {
		return
	}
	t.status, t.trace = s, trace
	m.emit(action{Kind: actWriteStatus, Connector: t.id.Connector, Task: t.id.Task, State: s, Trace: trace})
}

// tasksOf returns the connector's task slots, by task number.
func (m *machine) tasksOf(name string) []*mtask {
	var out []*mtask
	for id, t := range m.tasks {
		if id.Connector == name {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *mtask) int { return a.id.Task - b.id.Task })
	return out
}

// hasTaskInstances reports whether any task of the connector has an
// instance (starting, running or stopping).
func (m *machine) hasTaskInstances(name string) bool {
	for id, t := range m.tasks {
		if id.Connector == name && t.phase != phaseNone {
			return true
		}
	}
	return false
}

// waiting reports whether a failed instance must wait before it starts
// again.
func (m *machine) waiting(in *instance) bool {
	if in.failed == nil || in.restart {
		return false
	}
	return in.failed.exhausted || m.now.Before(in.failed.retryAt)
}

// reconcile emits the actions that bring what runs in line with what is
// asked for.
func (m *machine) reconcile() {
	names := slices.Sorted(maps.Keys(m.conns))
	for _, name := range names {
		c := m.conns[name]
		m.reconcileConnector(c)
		m.reconcileTasks(c)
		if !c.exists() && c.inc == 0 && c.status == "" && c.target == "" && len(m.tasksOf(name)) == 0 {
			delete(m.conns, name)
		}
	}
}

func (m *machine) reconcileConnector(c *mconn) {
	active := m.started && !m.stopping
	owned := m.ownsConn(c.name)
	want := active && owned && c.exists() && c.targetState() == TargetStarted
	switch c.phase {
	case phaseStarting, phaseRunning:
		if !want || !maps.Equal(c.instConfig, c.config) || c.restart {
			c.phase, c.generating = phaseStopping, false
			m.emit(action{Kind: actStopConnector, Connector: c.name, Task: -1, Inc: c.inc})
		} else if c.phase == phaseRunning && c.needGen && !c.generating {
			c.needGen, c.generating = false, true
			m.emit(action{Kind: actGenerateTaskConfigs, Connector: c.name, Task: -1, Inc: c.inc, MaxTasks: tasksMax(c.config)})
		}
	case phaseNone:
		if !want {
			c.restart, c.restarting = false, false
			break
		}
		if m.waiting(&c.instance) {
			break
		}
		reason := ""
		switch {
		case c.restart:
			reason = "restart"
		case c.failed != nil:
			reason = "retry"
		}
		c.inc, c.phase, c.startedAt = m.nextInc(), phaseStarting, m.now
		c.instConfig, c.restart, c.needGen = c.config, false, false
		m.emit(action{Kind: actStartConnector, Connector: c.name, Task: -1, Inc: c.inc, Config: c.config, Reason: reason})
	}

	// Status.
	switch {
	case !c.exists():
		if c.status != "" && active {
			c.status, c.trace = "", ""
			m.emit(action{Kind: actDeleteStatus, Connector: c.name, Task: -1})
		}
	case m.stopping:
		if c.status != "" && c.inc == 0 {
			m.writeConnStatus(c, StateUnassigned, "")
		}
	case !m.started:
	case !owned:
		// Run elsewhere now: once stopped here, say so (unless this
		// worker never reported on it).
		if c.status != "" && c.inc == 0 {
			m.writeConnStatus(c, StateUnassigned, "")
		}
	case c.targetState() == TargetStopped:
		// Reported once everything has stopped, as Kafka does: a STOPPED
		// status tells that offsets may be modified.
		if c.inc == 0 && !m.hasTaskInstances(c.name) {
			m.writeConnStatus(c, StateStopped, "")
		}
	case c.targetState() == TargetPaused:
		m.writeConnStatus(c, StatePaused, "")
	case c.failed != nil:
		m.writeConnStatus(c, StateFailed, c.failed.trace)
	case c.restarting:
	case c.phase == phaseRunning:
		m.writeConnStatus(c, StateRunning, "")
	}
}

func (m *machine) reconcileTasks(c *mconn) {
	active := m.started && !m.stopping
	count := 0
	if active && c.exists() && c.targetState() != TargetStopped && c.committed {
		count = len(c.taskConfigs)
	}
	wantPaused := c.targetState() == TargetPaused
	for i := range count {
		id := TaskID{Connector: c.name, Task: i}
		if _, ok := m.tasks[id]; !ok && m.ownsTask(id) {
			m.tasks[id] = &mtask{id: id}
		}
	}
	for _, t := range m.tasksOf(c.name) {
		exists := t.id.Task < count
		desired := exists && m.ownsTask(t.id)
		switch t.phase {
		case phaseStarting, phaseRunning, phaseFinished:
			if !desired || t.restart || !maps.Equal(t.config, c.taskConfigs[t.id.Task]) || !maps.Equal(t.connConfig, c.applied) {
				t.phase = phaseStopping
				m.emit(action{Kind: actStopTask, Connector: c.name, Task: t.id.Task, Inc: t.inc})
				continue
			}
			if t.phase != phaseStarting && t.paused != wantPaused {
				t.paused = wantPaused
				kind := actResumeTask
				if wantPaused {
					kind = actPauseTask
				}
				m.emit(action{Kind: kind, Connector: c.name, Task: t.id.Task, Inc: t.inc})
			}
		case phaseNone:
			if !desired {
				switch {
				case m.stopping, exists && m.started:
					// Stopped here, but it exists (and may run elsewhere).
					if t.status != "" && t.status != StateUnassigned {
						m.writeTaskStatus(t, StateUnassigned, "")
					}
				case t.status != "" && m.started:
					m.emit(action{Kind: actDeleteStatus, Connector: c.name, Task: t.id.Task})
				}
				delete(m.tasks, t.id)
				continue
			}
			if m.waiting(&t.instance) {
				continue
			}
			reason := ""
			switch {
			case t.restart:
				reason = "restart"
			case t.failed != nil:
				reason = "retry"
			}
			t.inc, t.phase, t.startedAt = m.nextInc(), phaseStarting, m.now
			t.config, t.connConfig, t.paused, t.restart = c.taskConfigs[t.id.Task], c.applied, wantPaused, false
			m.emit(action{Kind: actStartTask, Connector: c.name, Task: t.id.Task, Inc: t.inc,
				Config: t.config, ConnConfig: t.connConfig, Paused: wantPaused, Reason: reason})
		}
	}
}

// nextDeadline returns when the machine next needs an evTick (the
// earliest automatic restart), or the zero time.
func (m *machine) nextDeadline() time.Time {
	var next time.Time
	consider := func(in *instance) {
		if in.phase == phaseNone && in.failed != nil && !in.failed.exhausted && !in.restart {
			if next.IsZero() || in.failed.retryAt.Before(next) {
				next = in.failed.retryAt
			}
		}
	}
	for _, c := range m.conns {
		if c.exists() && c.targetState() == TargetStarted && m.ownsConn(c.name) {
			consider(&c.instance)
		}
	}
	for _, t := range m.tasks {
		consider(&t.instance)
	}
	return next
}

// running reports whether any of the connectors or tasks still has an
// instance (starting, running or stopping).
func (m *machine) running(conns []string, tasks []TaskID) bool {
	for _, name := range conns {
		if c, ok := m.conns[name]; ok && c.phase != phaseNone {
			return true
		}
	}
	for _, id := range tasks {
		if t, ok := m.tasks[id]; ok && t.phase != phaseNone {
			return true
		}
	}
	return false
}

// workload returns every configured connector with the number of tasks
// it runs with (its committed task configs; 0 when STOPPED or before the
// first commit): what the group's leader assigns.
func (m *machine) workload() map[string]int {
	out := map[string]int{}
	for name, c := range m.conns {
		if !c.exists() {
			continue
		}
		n := 0
		if c.committed && c.targetState() != TargetStopped {
			n = len(c.taskConfigs)
		}
		out[name] = n
	}
	return out
}

// idle reports whether no instance is left (after evShutdown: everything
// stopped).
func (m *machine) idle() bool {
	for _, c := range m.conns {
		if c.phase != phaseNone {
			return false
		}
	}
	for _, t := range m.tasks {
		if t.phase != phaseNone {
			return false
		}
	}
	return true
}

// tasksMax parses tasks.max (default 1; invalid values count as 1, since
// validation rejected them before they were stored).
func tasksMax(config map[string]string) int {
	n, err := strconv.Atoi(strings.TrimSpace(config["tasks.max"]))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func tasksMaxEnforced(config map[string]string) bool {
	v, ok := config["tasks.max.enforce"]
	return !ok || !strings.EqualFold(strings.TrimSpace(v), "false")
}

func equalConfigs(a, b []map[string]string) bool {
	return slices.EqualFunc(a, b, func(x, y map[string]string) bool { return maps.Equal(x, y) })
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
