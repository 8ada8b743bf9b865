package connectors

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
)

// Connector is a connector plugin instance (Kafka's Connector): it owns a
// connector's configuration and splits the work into task configs. It
// does not move data; its tasks do. A connector is either a
// SourceConnector or a SinkConnector.
//
// Lifecycle, driven by one runtime goroutine (methods are never called
// concurrently, except as noted):
//
//	Config (any time, also on a fresh instance for REST validation)
//	Start → TaskConfigs (once, then again after each reconfiguration request) … → Stop
//
// A connector instance is started at most once; a restart creates a new
// instance.
type Connector interface {
	// Config returns the connector's own configuration definition (not the
	// framework keys, which the runtime adds). It is the single source for
	// parsing, REST /config/validate and docs. It must be callable on an
	// instance that was never started, and may be called concurrently.
	Config() *ConfigDef

	// Start starts the connector with its full configuration (the
	// framework keys included). It should parse the config (with
	// Config().Parse) and return promptly: long-running discovery belongs
	// in a goroutine of its own that calls
	// cc.Control.RequestTaskReconfiguration when the task set changes.
	// ctx bounds the start only; it is cancelled when Start returns.
	// A returned error fails the connector (ErrRetriable: restarted after
	// a backoff).
	Start(ctx context.Context, cc ConnectorContext, config map[string]string) error

	// TaskConfigs returns the configuration of each task, at most maxTasks
	// of them (Kafka's tasks.max; more fails the connector while
	// tasks.max.enforce is true). Each map is given to one task's Open.
	// Called after Start, and again whenever the connector requested a
	// reconfiguration; the runtime restarts tasks only if the result
	// changed.
	TaskConfigs(maxTasks int) ([]map[string]string, error)

	// Stop stops the connector and releases its resources, including any
	// goroutine started by Start. Called once, after Start succeeded; its
	// tasks may still be running or stopping at that time. ctx carries the
	// shutdown deadline.
	Stop(ctx context.Context) error
}

// SourceConnector is a Connector whose tasks read from an external
// system and produce records to Kafka.
type SourceConnector interface {
	Connector
	// NewTask returns a new, unopened source task. Each task the runtime
	// runs gets its own instance.
	NewTask() Source
}

// SinkConnector is a Connector whose tasks consume records from Kafka
// and write them to an external system.
type SinkConnector interface {
	Connector
	// NewTask returns a new, unopened sink task.
	NewTask() Sink
}

// ConfigValidator is an optional Connector capability: validation beyond
// what the ConfigDef checks, such as cross-key rules or checking that a
// database is reachable (Kafka's Connector.validate). The runtime calls
// it for REST /config/validate and before creating or updating a
// connector, on an instance that is never started.
type ConfigValidator interface {
	// ValidateConfig returns one ConfigValue per key it has an opinion on;
	// the runtime merges them with the ConfigDef's own results (errors
	// are appended, recommended values and visibility replaced). Use
	// ConfigDef.Validate for the per-key checks, then add errors.
	ValidateConfig(ctx context.Context, config map[string]string) []ConfigValue
}

// ValidateConnector validates config against the connector's ConfigDef,
// or with ValidateConfig if the connector implements ConfigValidator.
func ValidateConnector(ctx context.Context, c Connector, config map[string]string) []ConfigValue {
	if v, ok := c.(ConfigValidator); ok {
		return v.ValidateConfig(ctx, config)
	}
	return c.Config().Validate(config)
}

// Versioned is an optional capability of any plugin (connector,
// converter, transform): its version string, shown by
// GET /connector-plugins. Plugins without it report the Sluice version.
type Versioned interface {
	Version() string
}

// ConnectorContext is what the runtime gives a connector when it starts.
type ConnectorContext struct {
	// Name is the connector name.
	Name string
	// Logger is scoped to the connector (attributes component and
	// connector set). Never nil when built by the runtime.
	Logger *slog.Logger
	// Offsets reads the committed source offsets of this connector's
	// tasks (source connectors only; nil for sinks).
	Offsets OffsetReader
	// Control lets the connector call back into the runtime.
	Control ConnectorControl
}

// ConnectorControl is how a connector calls back into the runtime. All
// methods are safe for concurrent use, from any goroutine, at any time
// between Start and Stop.
type ConnectorControl interface {
	// RequestTaskReconfiguration asks the runtime to call TaskConfigs
	// again (e.g. the set of tables changed). It does not block.
	RequestTaskReconfiguration()
	// RaiseError fails the connector with err (status FAILED) from a
	// background goroutine, as Kafka's ConnectorContext.raiseError.
	RaiseError(err error)
}

// OffsetReader reads committed source offsets (Kafka's
// OffsetStorageReader). It is safe for concurrent use.
type OffsetReader interface {
	// Offset returns the last committed offset for a source partition (as
	// put in Record.SourcePartition), or nil if there is none. Partitions
	// compare by content, not by identity. ctx bounds the read.
	Offset(ctx context.Context, partition map[string]any) (map[string]any, error)
}

// OffsetInt reads an integral number of a stored source offset. The
// offsets topic is JSON: Sluice's runtime hands integral numbers back as
// int64, other readers as float64 or json.Number. It reports false for a
// value of another type, a fraction, or one outside int64.
func OffsetInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) >= math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}
