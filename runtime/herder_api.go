package runtime

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/plugins"
	"github.com/sluicedata/sluice/runtime/assign"
)

// The implementations behind the Herder methods of api.go.

// snapshot is a consistent copy of what the machine knows about one
// connector.
type connSnapshot struct {
	exists      bool
	config      map[string]string
	target      TargetState
	taskConfigs []map[string]string // committed; nil for STOPPED and before the first commit
}

func (h *herder) snapshot(name string) connSnapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.mu.m.conns[name]
	if !ok || !c.exists() {
		return connSnapshot{}
	}
	s := connSnapshot{exists: true, config: maps.Clone(c.config), target: c.targetState()}
	if c.committed {
		s.taskConfigs = make([]map[string]string, len(c.taskConfigs))
		for i, tc := range c.taskConfigs {
			s.taskConfigs[i] = maps.Clone(tc)
		}
	}
	return s
}

func (h *herder) connectors(ctx context.Context) ([]string, error) {
	if err := h.awaitReady(ctx); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	names := []string{}
	for name, c := range h.mu.m.conns {
		if c.exists() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

func (h *herder) info(name string, s connSnapshot) ConnectorInfo {
	tasks := make([]TaskID, len(s.taskConfigs))
	for i := range tasks {
		tasks[i] = TaskID{Connector: name, Task: i}
	}
	return ConnectorInfo{Name: name, Config: s.config, Tasks: tasks, Type: h.connectorType(s.config)}
}

func notFound(name string) *Error { return Errorf(ErrNotFound, "Connector %s not found", name) }

func (h *herder) connectorInfo(ctx context.Context, name string) (ConnectorInfo, error) {
	if err := h.awaitReady(ctx); err != nil {
		return ConnectorInfo{}, err
	}
	s := h.snapshot(name)
	if !s.exists {
		return ConnectorInfo{}, notFound(name)
	}
	return h.info(name, s), nil
}

func (h *herder) connectorConfig(ctx context.Context, name string) (map[string]string, error) {
	if err := h.awaitReady(ctx); err != nil {
		return nil, err
	}
	s := h.snapshot(name)
	if !s.exists {
		return nil, notFound(name)
	}
	return s.config, nil
}

// putConfig validates and writes a connector config: the common part of
// create, PUT and PATCH. With create set, an existing connector is an
// error; initial ("" = none) is written as the target state first.
func (h *herder) putConfig(ctx context.Context, name string, config map[string]string, create bool, initial TargetState,
	patch func(old map[string]string) map[string]string) (ConnectorInfo, bool, error) {
	if err := h.awaitReady(ctx); err != nil {
		return ConnectorInfo{}, false, err
	}
	// Config writes are the leader's: go there before validating.
	if _, err := h.leaderCheck(ctx); err != nil {
		return ConnectorInfo{}, false, err
	}
	if patch != nil {
		s := h.snapshot(name)
		if !s.exists {
			return ConnectorInfo{}, false, notFound(name)
		}
		config = patch(s.config)
	} else {
		config = maps.Clone(config)
		if config == nil {
			config = map[string]string{}
		}
		if n, ok := config[connectors.KeyName]; ok && n != name {
			return ConnectorInfo{}, false, Errorf(ErrBadRequest, "Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name)
		}
		config[connectors.KeyName] = name
	}
	infos, err := h.validate(ctx, nullable(config))
	if err != nil {
		return ConnectorInfo{}, false, err
	}
	if msg := infos.InvalidMessage(); msg != "" {
		return ConnectorInfo{}, false, Errorf(ErrBadRequest, "%s", msg)
	}

	var prev connSnapshot
	err = h.asLeader(ctx, func(ctx context.Context) error {
		prev = h.snapshot(name)
		if create && prev.exists {
			return Errorf(ErrAlreadyExists, "Connector %s already exists", name)
		}
		if patch != nil && !prev.exists {
			return notFound(name)
		}
		if initial != "" {
			if err := h.configLog.Send(ctx, keyTargetState+name, encodeTargetState(initial)); err != nil {
				return h.kafkaError(ctx, "write the target state", err)
			}
		}
		if err := h.configLog.Send(ctx, keyConnector+name, encodeProperties(config)); err != nil {
			return h.kafkaError(ctx, "write the connector config", err)
		}
		return h.syncConfig(ctx)
	})
	if err != nil {
		return ConnectorInfo{}, false, err
	}
	exists := prev.exists
	h.log.Info("connector config written", "connector", name, "created", !exists)
	// As Kafka: the config just written, with the tasks that existed
	// before it (none for a new connector); new task configs come later.
	return h.info(name, connSnapshot{exists: true, config: config, taskConfigs: prev.taskConfigs}), !exists, nil
}

// syncConfig waits until the machine has seen everything in the config
// topic (read-your-writes for REST).
func (h *herder) syncConfig(ctx context.Context) error {
	if err := h.configLog.ReadToEnd(ctx); err != nil {
		return h.kafkaError(ctx, "read the config topic", err)
	}
	// Records read are queued as events; wait until the loop has taken
	// them (a marker event behind them).
	done := make(chan struct{})
	h.post(evBarrier{done: done})
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return requestTimeout(ctx.Err())
	case <-h.stopped:
		return Errorf(ErrServerError, "Worker is shutting down")
	}
}

// kafkaError wraps a failure to talk to the broker: a timeout if ctx
// expired, else a 500 naming what failed.
func (h *herder) kafkaError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return requestTimeout(err)
	}
	return &Error{Kind: ErrServerError, Message: fmt.Sprintf("Failed to %s: %v", what, err), Err: err}
}

func (h *herder) deleteConnector(ctx context.Context, name string) error {
	if err := h.awaitReady(ctx); err != nil {
		return err
	}
	return h.asLeader(ctx, func(ctx context.Context) error {
		if !h.snapshot(name).exists {
			return notFound(name)
		}
		// An empty task-config commit first, so that a connector created
		// later under the same name never inherits these task configs.
		if err := h.configLog.Send(ctx, keyCommit+name, encodeCommit(0)); err != nil {
			return h.kafkaError(ctx, "write to the config topic", err)
		}
		if err := h.configLog.Send(ctx, keyConnector+name, nil); err != nil {
			return h.kafkaError(ctx, "write to the config topic", err)
		}
		if err := h.configLog.Send(ctx, keyTargetState+name, nil); err != nil {
			return h.kafkaError(ctx, "write to the config topic", err)
		}
		h.log.Info("connector deleted", "connector", name)
		return h.syncConfig(ctx)
	})
}

func (h *herder) connectorStatus(ctx context.Context, name string) (ConnectorStateInfo, error) {
	if err := h.awaitReady(ctx); err != nil {
		return ConnectorStateInfo{}, err
	}
	s := h.snapshot(name)
	st, ok := h.status.connector(name)
	if !s.exists || !ok {
		return ConnectorStateInfo{}, Errorf(ErrNotFound, "No status found for connector %s", name)
	}
	return ConnectorStateInfo{
		Name:      name,
		Connector: ConnectorState{State: st.State, WorkerID: st.WorkerID, Trace: st.Trace},
		Tasks:     h.status.tasksOf(name, len(s.taskConfigs)),
		Type:      h.connectorType(s.config),
	}, nil
}

func (h *herder) taskStatus(ctx context.Context, id TaskID) (TaskState, error) {
	if err := h.awaitReady(ctx); err != nil {
		return TaskState{}, err
	}
	s := h.snapshot(id.Connector)
	st, ok := h.status.task(id)
	if !s.exists || !ok || id.Task >= len(s.taskConfigs) {
		return TaskState{}, Errorf(ErrNotFound, "No status found for task %s", id)
	}
	return TaskState{ID: id.Task, State: st.State, WorkerID: st.WorkerID, Trace: st.Trace}, nil
}

func (h *herder) taskConfigs(ctx context.Context, name string) ([]TaskInfo, error) {
	if err := h.awaitReady(ctx); err != nil {
		return nil, err
	}
	s := h.snapshot(name)
	if !s.exists {
		return nil, notFound(name)
	}
	out := make([]TaskInfo, len(s.taskConfigs))
	for i, c := range s.taskConfigs {
		out[i] = TaskInfo{ID: TaskID{Connector: name, Task: i}, Config: c}
	}
	return out, nil
}

func (h *herder) restartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*ConnectorStateInfo, error) {
	if err := h.awaitReady(ctx); err != nil {
		return nil, err
	}
	s := h.snapshot(name)
	if !s.exists {
		return nil, Errorf(ErrNotFound, "Unknown connector: %s", name)
	}
	if !includeTasks && !onlyFailed {
		return nil, h.restartConnectorNow(ctx, name)
	}
	var st ConnectorStateInfo
	err := h.asLeader(ctx, func(ctx context.Context) error {
		var err error
		st, err = h.connectorStatus(ctx, name)
		if err != nil {
			return Errorf(ErrNotFound, "Status for connector %s not found", name)
		}
		if !onlyFailed || st.Connector.State == StateFailed {
			st.Connector.State, st.Connector.Trace = StateRestarting, ""
		}
		if includeTasks {
			for i := range st.Tasks {
				if !onlyFailed || st.Tasks[i].State == StateFailed {
					st.Tasks[i].State, st.Tasks[i].Trace = StateRestarting, ""
				}
			}
		}
		if err := h.configLog.Send(ctx, keyRestart+name, encodeRestart(includeTasks, onlyFailed)); err != nil {
			return h.kafkaError(ctx, "write the restart request", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.log.Info("connector restart requested", "connector", name, "include_tasks", includeTasks, "only_failed", onlyFailed)
	return &st, nil
}

// restartConnectorNow restarts the connector instance and waits until
// the new one has started or failed to start.
func (h *herder) restartConnectorNow(ctx context.Context, name string) error {
	if err := h.routeToOwner(ctx, assign.Item{Connector: name, Task: assign.ConnectorTask}); err != nil {
		return err
	}
	h.mu.Lock()
	c := h.mu.m.conns[name]
	before := h.mu.m.lastInc
	running := c != nil && c.targetState() == TargetStarted
	h.mu.Unlock()
	h.post(evRestartConnector{Name: name})
	if !running {
		return nil
	}
	var failed string
	err := h.waitFor(ctx, func(m *machine) bool {
		c, ok := m.conns[name]
		if !ok || !c.exists() || c.targetState() != TargetStarted {
			return true
		}
		if c.lastStart > before {
			failed = c.lastStartErr
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	if failed != "" {
		return Errorf(ErrServerError, "Failed to start connector: %s", name)
	}
	return nil
}

func (h *herder) restartTask(ctx context.Context, id TaskID) error {
	if err := h.awaitReady(ctx); err != nil {
		return err
	}
	s := h.snapshot(id.Connector)
	if !s.exists {
		return Errorf(ErrNotFound, "Unknown connector: %s", id.Connector)
	}
	if id.Task < 0 || id.Task >= len(s.taskConfigs) {
		return Errorf(ErrNotFound, "Unknown task: %s", id)
	}
	if err := h.routeToOwner(ctx, assign.Item{Connector: id.Connector, Task: int32(id.Task)}); err != nil {
		return err
	}
	h.mu.Lock()
	before := h.mu.m.lastInc
	h.mu.Unlock()
	h.post(evRestartTask{ID: id})
	var failed string
	err := h.waitFor(ctx, func(m *machine) bool {
		t, ok := m.tasks[id]
		if !ok {
			return true
		}
		if t.lastStart > before {
			failed = t.lastStartErr
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	if failed != "" {
		return Errorf(ErrServerError, "Failed to start task: %s", id)
	}
	return nil
}

// setTarget writes a target state (pause, resume).
func (h *herder) setTarget(ctx context.Context, name string, target TargetState) error {
	if err := h.awaitReady(ctx); err != nil {
		return err
	}
	if !h.snapshot(name).exists {
		return Errorf(ErrNotFound, "Unknown connector %s", name)
	}
	return h.asMember(ctx, func(ctx context.Context) error {
		if !h.snapshot(name).exists {
			return Errorf(ErrNotFound, "Unknown connector %s", name)
		}
		if err := h.configLog.Send(ctx, keyTargetState+name, encodeTargetState(target)); err != nil {
			return h.kafkaError(ctx, "write the target state", err)
		}
		h.log.Info("connector target state written", "connector", name, "target", target)
		return h.syncConfig(ctx)
	})
}

func (h *herder) stopConnector(ctx context.Context, name string) error {
	if err := h.awaitReady(ctx); err != nil {
		return err
	}
	return h.asLeader(ctx, func(ctx context.Context) error {
		if !h.snapshot(name).exists {
			return Errorf(ErrNotFound, "Unknown connector %s", name)
		}
		if err := h.configLog.Send(ctx, keyCommit+name, encodeCommit(0)); err != nil {
			return h.kafkaError(ctx, "write the empty task configs", err)
		}
		if err := h.configLog.Send(ctx, keyTargetState+name, encodeTargetState(TargetStopped)); err != nil {
			return h.kafkaError(ctx, "write the target state", err)
		}
		h.log.Info("connector stopped", "connector", name)
		return h.syncConfig(ctx)
	})
}

func (h *herder) activeTopics(ctx context.Context, name string) ([]string, error) {
	if !h.cfg.TopicTrackingEnable {
		return nil, Errorf(ErrForbidden, "Topic tracking is disabled.")
	}
	if err := h.awaitReady(ctx); err != nil {
		return nil, err
	}
	return h.status.topics(name), nil
}

func (h *herder) resetActiveTopics(ctx context.Context, name string) error {
	if !h.cfg.TopicTrackingEnable {
		return Errorf(ErrForbidden, "Topic tracking is disabled.")
	}
	if !h.cfg.TopicTrackingAllowReset {
		return Errorf(ErrForbidden, "Topic tracking reset is disabled.")
	}
	if err := h.awaitReady(ctx); err != nil {
		return err
	}
	h.status.resetTopics(name)
	return nil
}

func (h *herder) serverInfo() ServerInfo {
	id := ""
	select {
	case <-h.ready:
		id = h.cl.clusterID
	default:
	}
	// The Kafka Connect release whose REST API Sluice serves (tools gate
	// features on it).
	return ServerInfo{Version: plugins.KafkaVersion, Commit: h.version, KafkaClusterID: id}
}

// Health messages (connect-rest.md §2.2).
const (
	healthyMessage   = "Worker has completed startup and is ready to handle requests."
	startingMessage  = "Worker is still starting up."
	unhealthyMessage = "Worker was unable to handle this request and may be unable to handle other requests."
)

func (h *herder) health(ctx context.Context) Health {
	select {
	case <-h.stopped:
		return Health{Status: "unhealthy", Message: unhealthyMessage}
	default:
	}
	select {
	case <-h.ready:
	default:
		return Health{Status: "starting", Message: startingMessage}
	}
	// The herder answers if its loop takes an event.
	done := make(chan struct{})
	h.post(evBarrier{done: done})
	select {
	case <-done:
		return Health{Status: "healthy", Message: healthyMessage}
	case <-ctx.Done():
		return Health{Status: "unhealthy", Message: unhealthyMessage}
	}
}

func (h *herder) setLoggerLevel(ctx context.Context, name, level, scope string) ([]string, error) {
	lvl, ok := ParseLevel(level)
	if !ok {
		return nil, Errorf(ErrNotFound, "invalid log level '%s'.", level)
	}
	if strings.EqualFold(scope, "cluster") {
		if err := h.awaitReady(ctx); err != nil {
			return nil, err
		}
		err := h.asMember(ctx, func(ctx context.Context) error {
			if err := h.configLog.Send(ctx, keyLoggerCluster+name, encodeLoggerLevel(strings.ToUpper(level))); err != nil {
				return h.kafkaError(ctx, "write the logger level", err)
			}
			return nil
		})
		return nil, err
	}
	affected := h.levels.Set(name, lvl)
	h.log.Info("logger level set", "logger", name, "level", strings.ToUpper(level), "affected", len(affected))
	return affected, nil
}
