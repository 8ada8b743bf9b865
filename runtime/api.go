package runtime

// THIS FILE IS THE CONTRACT between the REST layer (rest/) and the worker
// runtime. The REST layer calls only these methods and serializes these
// types as they are: their JSON tags are Kafka Connect 3.9's field names
// (../shared/spec/connect-rest.md §2). The runtime implementation replaces
// the stub bodies of Herder's methods.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// TargetState is the state a user asked a connector to be in, as stored in
// the config topic (target-state-<name>).
type TargetState string

const (
	TargetStarted TargetState = "STARTED"
	TargetPaused  TargetState = "PAUSED"
	TargetStopped TargetState = "STOPPED"
)

// State is the reported state of a connector or task (connect-rest §2.7).
type State string

const (
	StateUnassigned State = "UNASSIGNED"
	StateRunning    State = "RUNNING"
	StatePaused     State = "PAUSED"
	StateFailed     State = "FAILED"
	StateRestarting State = "RESTARTING"
	StateStopped    State = "STOPPED" // connectors only, never tasks
)

// TaskID names one task of a connector. Its string form is
// "<connector>-<task>".
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

func (id TaskID) String() string { return fmt.Sprintf("%s-%d", id.Connector, id.Task) }

// ConnectorInfo is GET /connectors/{c} (§2.4). Config is the raw stored
// config (placeholders unresolved), always with "name". Type is "source",
// "sink" or "unknown".
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   string            `json:"type"`
}

// TaskInfo is one item of GET /connectors/{c}/tasks (§2.5).
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// ConnectorState is the connector part of a status (§2.6).
type ConnectorState struct {
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskState is a task's status (§2.6; GET …/tasks/{t}/status).
type TaskState struct {
	ID       int    `json:"id"`
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// ConnectorStateInfo is GET /connectors/{c}/status (§2.6). Tasks are sorted
// by id and never nil.
type ConnectorStateInfo struct {
	Name      string         `json:"name"`
	Connector ConnectorState `json:"connector"`
	Tasks     []TaskState    `json:"tasks"`
	Type      string         `json:"type"`
}

// ConnectorOffsets is GET/PATCH /connectors/{c}/offsets (§2.9).
type ConnectorOffsets struct {
	Offsets []ConnectorOffset `json:"offsets"`
}

// ConnectorOffset is one partition's offset. In a PATCH, a nil Offset
// resets that partition.
type ConnectorOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// PluginInfo is one item of GET /connector-plugins (§2.11). Type is one of
// sink, source, converter, header_converter, transformation, predicate.
type PluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"`
}

// ServerInfo is GET / (§2.1).
type ServerInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// Health is GET /health (§2.2): Status is healthy, starting or unhealthy.
type Health struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// LoggerLevel is one logger's level (§2.15); LastModified is epoch ms of the
// last change through the API, or nil.
type LoggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

// Error kinds. Every error the Herder returns for a request problem is an
// *Error whose Kind is one of these, so the REST layer maps it to a status
// with errors.Is and shows Message as it is. Other errors are internal
// (HTTP 500).
var (
	ErrNotFound      = errors.New("not found")      // 404
	ErrAlreadyExists = errors.New("already exists") // 409
	ErrBadRequest    = errors.New("bad request")    // 400
	ErrConflict      = errors.New("conflict")       // 409: rebalance in progress, stale config, no leader
	ErrForbidden     = errors.New("forbidden")      // 403: topic tracking disabled
	ErrTimeout       = errors.New("timed out")      // 500 "Request timed out"
	ErrUnavailable   = errors.New("unavailable")    // 503: still starting
	// ErrServerError is a 500 whose Message is user-facing, e.g. an
	// unknown connector.class ("Failed to find any class that implements
	// Connector and which name matches …").
	ErrServerError = errors.New("server error")
)

// Error is a request error with the message Kafka Connect would show.
type Error struct {
	Kind    error  // one of the Err* kinds above
	Message string // shown to the user verbatim
	Err     error  // the cause, if any
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrNotFound) and the like work.
func (e *Error) Is(target error) bool { return target == e.Kind }

func (e *Error) Unwrap() error { return e.Err }

// RedirectError is returned by the Herder methods that another worker of
// the cluster must serve: the leader for writes to the config topic, the
// owner of a connector or task for its synchronous restart. The REST layer
// forwards the request to URL (connect-rest.md §4). errors.Is(err,
// ErrConflict) holds, so a caller that cannot forward answers 409.
type RedirectError struct {
	URL    string // the REST URL of the worker to ask
	Leader bool   // it is the leader (else the owner)
}

func (e *RedirectError) Error() string {
	return "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *RedirectError) Is(target error) bool { return target == ErrConflict }

// Errorf returns an *Error of the given kind.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Herder runs connectors and tasks and answers for them: the REST layer's
// only entry point into the runtime. All methods are safe for concurrent use
// and honour ctx (the REST layer gives each request 90 s, Kafka's timeout).
// A method returns an *Error (see the kinds) for anything the user did or
// can fix. Methods called before the worker has read its internal topics
// wait for it (bounded by ctx). None of them ever waits on connector or
// task code.
type Herder struct{ impl *herder }

// Connectors lists connector names (sorted; never nil).
func (h *Herder) Connectors(ctx context.Context) ([]string, error) { return h.impl.connectors(ctx) }

// ConnectorInfo returns a connector's config and tasks (404 "Connector X not found").
func (h *Herder) ConnectorInfo(ctx context.Context, name string) (ConnectorInfo, error) {
	return h.impl.connectorInfo(ctx, name)
}

// ConnectorConfig returns a connector's raw config.
func (h *Herder) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	return h.impl.connectorConfig(ctx, name)
}

// CreateConnector validates and stores a new connector (POST /connectors),
// with initial state STARTED, PAUSED or STOPPED ("" = STARTED, nothing
// written). ErrAlreadyExists when it exists; ErrBadRequest with Kafka's
// "Connector configuration is invalid and contains the following N
// error(s): …" message when invalid. The name is trimmed; a config "name"
// that differs is ErrBadRequest, a missing one is added.
func (h *Herder) CreateConnector(ctx context.Context, name string, config map[string]string, initial TargetState) (ConnectorInfo, error) {
	info, _, err := h.impl.putConfig(ctx, strings.TrimSpace(name), config, true, initial, nil)
	return info, err
}

// PutConnectorConfig creates or replaces a connector's config (PUT
// …/config); created tells which (201 vs 200).
func (h *Herder) PutConnectorConfig(ctx context.Context, name string, config map[string]string) (info ConnectorInfo, created bool, err error) {
	return h.impl.putConfig(ctx, name, config, false, "", nil)
}

// PatchConnectorConfig merges patch into the existing config (nil value
// removes a key), validates and stores it (PATCH …/config).
func (h *Herder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (ConnectorInfo, error) {
	info, _, err := h.impl.putConfig(ctx, name, nil, false, "", func(old map[string]string) map[string]string {
		for k, v := range patch {
			if v == nil {
				delete(old, k)
			} else {
				old[k] = *v
			}
		}
		return old
	})
	return info, err
}

// DeleteConnector stops and removes a connector.
func (h *Herder) DeleteConnector(ctx context.Context, name string) error {
	return h.impl.deleteConnector(ctx, name)
}

// ConnectorStatus returns the status (404 "No status found for connector X").
func (h *Herder) ConnectorStatus(ctx context.Context, name string) (ConnectorStateInfo, error) {
	return h.impl.connectorStatus(ctx, name)
}

// TaskStatus returns one task's status (404 "No status found for task X-n").
func (h *Herder) TaskStatus(ctx context.Context, id TaskID) (TaskState, error) {
	return h.impl.taskStatus(ctx, id)
}

// TaskConfigs returns the connector's task configs, by task id.
func (h *Herder) TaskConfigs(ctx context.Context, name string) ([]TaskInfo, error) {
	return h.impl.taskConfigs(ctx, name)
}

// RestartConnector restarts a connector (and with includeTasks its tasks;
// with onlyFailed only failed instances). With both flags false it restarts
// the connector synchronously and returns nil info (HTTP 204); otherwise it
// returns the status with RESTARTING where a restart will happen (HTTP 202).
func (h *Herder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*ConnectorStateInfo, error) {
	return h.impl.restartConnector(ctx, name, includeTasks, onlyFailed)
}

// RestartTask restarts one task (404 "Unknown task: X-n").
func (h *Herder) RestartTask(ctx context.Context, id TaskID) error {
	return h.impl.restartTask(ctx, id)
}

// PauseConnector sets target state PAUSED (404 "Unknown connector X").
func (h *Herder) PauseConnector(ctx context.Context, name string) error {
	return h.impl.setTarget(ctx, name, TargetPaused)
}

// ResumeConnector sets target state STARTED, from PAUSED or STOPPED.
func (h *Herder) ResumeConnector(ctx context.Context, name string) error {
	return h.impl.setTarget(ctx, name, TargetStarted)
}

// StopConnector empties the task configs and sets target state STOPPED.
func (h *Herder) StopConnector(ctx context.Context, name string) error {
	return h.impl.stopConnector(ctx, name)
}

// ActiveTopics returns the topics the connector has used (KIP-558); an
// unknown connector has none. ErrForbidden when topic tracking is off.
func (h *Herder) ActiveTopics(ctx context.Context, name string) ([]string, error) {
	return h.impl.activeTopics(ctx, name)
}

// ResetActiveTopics forgets the connector's active topics.
func (h *Herder) ResetActiveTopics(ctx context.Context, name string) error {
	return h.impl.resetActiveTopics(ctx, name)
}

// Offsets returns a connector's offsets: source offsets from the offsets
// topic, sink offsets from its consumer group.
func (h *Herder) Offsets(ctx context.Context, name string) (ConnectorOffsets, error) {
	return h.impl.connectorOffsets(ctx, name)
}

// AlterOffsets changes offsets of a STOPPED connector and returns Kafka's
// success message.
func (h *Herder) AlterOffsets(ctx context.Context, name string, offsets ConnectorOffsets) (string, error) {
	return h.impl.alterOffsets(ctx, name, offsets)
}

// ResetOffsets removes every offset of a STOPPED connector.
func (h *Herder) ResetOffsets(ctx context.Context, name string) (string, error) {
	return h.impl.resetOffsets(ctx, name)
}

// Validate validates a connector config as PUT
// /connector-plugins/{p}/config/validate does (framework keys, transforms,
// predicates, converters, the connector's own keys).
func (h *Herder) Validate(ctx context.Context, config map[string]string) (connectors.ConfigInfos, error) {
	return h.impl.validate(ctx, nullable(config))
}

// ValidateNullable is Validate for a request body whose values may be
// JSON null: each null gets Kafka's "Null value can not be supplied as the
// configuration value." error. (A create or PUT whose body has nulls is
// rejected by calling this and answering 400 with the result's
// InvalidMessage.)
func (h *Herder) ValidateNullable(ctx context.Context, config map[string]*string) (connectors.ConfigInfos, error) {
	return h.impl.validate(ctx, config)
}

// Plugins lists plugins: connectors only, or every kind (in Kafka's order:
// sinks, sources, transformations, predicates, converters, header
// converters).
func (h *Herder) Plugins(connectorsOnly bool) []PluginInfo { return h.impl.pluginList(connectorsOnly) }

// PluginConfig returns a plugin's config definition, by class name or
// alias (404 "Unknown plugin X.").
func (h *Herder) PluginConfig(name string) ([]connectors.ConfigKeyInfo, error) {
	return h.impl.pluginConfig(name)
}

// PutTaskConfigs stores a connector's task configs (the internal
// endpoint POST /connectors/{c}/tasks, by which a worker running a
// connector hands the task configs it generated to the leader). It is
// leader-only (RedirectError elsewhere).
func (h *Herder) PutTaskConfigs(ctx context.Context, name string, configs []map[string]string) error {
	return h.impl.putTaskConfigs(ctx, name, configs)
}

// VerifyInternalRequest checks the signature of an internal request's
// body (KIP-507): with connect.protocol=sessioned a missing signature is
// ErrBadRequest ("Internal request missing required signature"), a wrong
// one ErrForbidden ("Internal request contained invalid signature.").
func (h *Herder) VerifyInternalRequest(body []byte, signature, algorithm string) error {
	return h.impl.verifyInternal(body, signature, algorithm)
}

// SignInternalRequest returns the headers that sign an internal request
// with this worker's session key (none without one), for forwarding an
// internal request to the leader.
func (h *Herder) SignInternalRequest(body []byte) map[string]string { return h.impl.signInternal(body) }

// URL is this worker's advertised REST URL.
func (h *Herder) URL() string { return h.impl.url }

// ServerInfo is GET /.
func (h *Herder) ServerInfo() ServerInfo { return h.impl.serverInfo() }

// Health reports whether the worker has started and answers.
func (h *Herder) Health(ctx context.Context) Health { return h.impl.health(ctx) }

// Loggers returns the loggers with an explicitly set level, plus "root".
func (h *Herder) Loggers() map[string]LoggerLevel { return h.impl.levels.Levels() }

// Logger returns one logger's effective level (404 "Logger X not found.").
func (h *Herder) Logger(name string) (LoggerLevel, error) {
	l, ok := h.impl.levels.Level(name)
	if !ok {
		return LoggerLevel{}, Errorf(ErrNotFound, "Logger %s not found.", name)
	}
	return l, nil
}

// SetLoggerLevel sets the level of a logger and its descendants (scope
// "worker", or any other value) and returns the affected logger names,
// sorted; scope "cluster" applies it on every worker through the config
// topic and returns nil. An unknown level is ErrNotFound ("invalid log
// level 'X'."), as in Kafka.
func (h *Herder) SetLoggerLevel(ctx context.Context, name, level, scope string) ([]string, error) {
	return h.impl.setLoggerLevel(ctx, name, level, scope)
}
