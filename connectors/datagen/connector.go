package datagen

import (
	"context"
	"maps"
	"strconv"

	"github.com/sluicedata/sluice/connectors"
)

// Connector is the datagen source connector. It runs tasks.max tasks, each
// generating its own data (task.id in its config).
type Connector struct {
	props map[string]string
}

// Compile-time checks.
var (
	_ connectors.SourceConnector = (*Connector)(nil)
	_ connectors.ConfigValidator = (*Connector)(nil)
	_ connectors.Source          = (*Source)(nil)
)

// Config returns ConfigDef().
func (c *Connector) Config() *connectors.ConfigDef { return ConfigDef() }

// ValidateConfig adds the cross-key checks (schema.keyfield against the
// quickstart's fields) to the per-key ones.
func (c *Connector) ValidateConfig(_ context.Context, config map[string]string) []connectors.ConfigValue {
	values := ConfigDef().Validate(config)
	for _, v := range values {
		if len(v.Errors) > 0 {
			return values // per-key errors first; cross-key checks need valid keys
		}
	}
	if _, err := ParseConfig(config); err != nil {
		if errs, ok := err.(connectors.ConfigErrors); ok {
			for _, e := range errs {
				values = connectors.MergeConfigValues(values, connectors.ConfigValue{Name: e.Name, Errors: []string{e.Message}, Visible: true})
			}
		}
	}
	return values
}

// Start validates the config and keeps it for the tasks.
func (c *Connector) Start(_ context.Context, _ connectors.ConnectorContext, config map[string]string) error {
	if _, err := ParseConfig(config); err != nil {
		return err
	}
	c.props = maps.Clone(config)
	return nil
}

// TaskConfigs returns maxTasks configs, the connector's with task.id set.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	out := make([]map[string]string, max(maxTasks, 1))
	for i := range out {
		tc := maps.Clone(c.props)
		tc[KeyTaskID] = strconv.Itoa(i)
		out[i] = tc
	}
	return out, nil
}

// Stop does nothing.
func (c *Connector) Stop(context.Context) error { return nil }

// NewTask returns a new datagen task.
func (c *Connector) NewTask() connectors.Source { return new(Source) }
