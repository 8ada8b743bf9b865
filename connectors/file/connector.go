package file

import (
	"context"
	"maps"

	"github.com/sluicedata/sluice/connectors"
)

// SourceConnector is FileStreamSourceConnector. It runs one task whatever
// tasks.max says: a file has one reader. The task config is the connector
// config, as in Kafka.
type SourceConnector struct {
	props map[string]string
}

// SinkConnector is FileStreamSinkConnector. It runs tasks.max tasks, each
// with the connector config (all appending to the same file, as in Kafka;
// one task is the sensible setting).
type SinkConnector struct {
	props map[string]string
}

// Compile-time checks.
var (
	_ connectors.SourceConnector = (*SourceConnector)(nil)
	_ connectors.SinkConnector   = (*SinkConnector)(nil)
	_ connectors.Source          = (*Source)(nil)
	_ connectors.Sink            = (*Sink)(nil)
)

// Config returns SourceConfigDef().
func (c *SourceConnector) Config() *connectors.ConfigDef { return SourceConfigDef() }

// Start validates the config and keeps it for the task.
func (c *SourceConnector) Start(_ context.Context, _ connectors.ConnectorContext, config map[string]string) error {
	if _, err := ParseSourceConfig(config); err != nil {
		return err
	}
	c.props = maps.Clone(config)
	return nil
}

// TaskConfigs returns a single task config, equal to the connector's.
func (c *SourceConnector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(c.props)}, nil
}

// Stop does nothing: the connector holds no resources.
func (c *SourceConnector) Stop(context.Context) error { return nil }

// NewTask returns a new FileStreamSourceTask.
func (c *SourceConnector) NewTask() connectors.Source { return new(Source) }

// Config returns SinkConfigDef().
func (c *SinkConnector) Config() *connectors.ConfigDef { return SinkConfigDef() }

// Start validates the config and keeps it for the tasks.
func (c *SinkConnector) Start(_ context.Context, _ connectors.ConnectorContext, config map[string]string) error {
	if _, err := ParseSinkConfig(config); err != nil {
		return err
	}
	c.props = maps.Clone(config)
	return nil
}

// TaskConfigs returns maxTasks copies of the connector config, as Kafka.
func (c *SinkConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	out := make([]map[string]string, max(maxTasks, 1))
	for i := range out {
		out[i] = maps.Clone(c.props)
	}
	return out, nil
}

// Stop does nothing.
func (c *SinkConnector) Stop(context.Context) error { return nil }

// NewTask returns a new FileStreamSinkTask.
func (c *SinkConnector) NewTask() connectors.Sink { return new(Sink) }
