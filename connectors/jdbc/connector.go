package jdbc

import (
	"context"
	"maps"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// Connector is the JDBC sink connector under any of its class names. Its
// flavour of configuration (key names and defaults) follows the
// connector.class it is started with; Config describes the flavour it
// was created for.
type Connector struct {
	flavor Flavor
	props  map[string]string
}

// Compile-time checks.
var (
	_ connectors.SinkConnector   = (*Connector)(nil)
	_ connectors.ConfigValidator = (*Connector)(nil)
	_ connectors.Versioned       = (*Connector)(nil)
)

// NewConnector returns a connector whose flavour is taken from
// connector.class at Start (Config describes the Sluice flavour, which
// accepts both products' key names).
func NewConnector() connectors.SinkConnector { return &Connector{} }

// NewFlavorConnector returns a connector for one flavour, whose Config
// lists exactly that product's keys and defaults (for GET
// /connector-plugins/<class>/config).
func NewFlavorConnector(f Flavor) connectors.SinkConnector { return &Connector{flavor: f} }

// Version reports the version of the Java connectors whose configuration
// this one follows.
func (c *Connector) Version() string { return "sluice-jdbc-sink-1" }

func (c *Connector) flavorFor(config map[string]string) Flavor {
	return flavorFor(c.flavor, config[connectors.KeyConnectorClass])
}

// flavorFor decides a flavour: connector.class when it is one of the
// three names (so "jdbc-sink" registered as an alias of a Java class
// still means the Sluice flavour), else the instance's own, else Sluice.
func flavorFor(own Flavor, class string) Flavor {
	switch strings.TrimSpace(class) {
	case DebeziumClass, ConfluentClass, Alias:
		return FlavorOf(class)
	}
	if own != 0 {
		return own
	}
	return FlavorSluice
}

// Config returns the keys of the connector's flavour.
func (c *Connector) Config() *connectors.ConfigDef {
	if c.flavor == 0 {
		return ConfigDef(FlavorSluice)
	}
	return ConfigDef(c.flavor)
}

// ValidateConfig checks the keys of the flavour connector.class selects,
// then the rules across keys (delete.enabled needs record_key, upsert
// needs a primary key, the URL must be PostgreSQL's).
func (c *Connector) ValidateConfig(_ context.Context, config map[string]string) []connectors.ConfigValue {
	f := c.flavorFor(config)
	values := ConfigDef(f).Validate(config)
	for _, v := range values {
		if len(v.Errors) > 0 {
			return values
		}
	}
	if _, err := ParseFlavor(f, config); err != nil {
		var extra []connectors.ConfigValue
		if ces, ok := err.(connectors.ConfigErrors); ok {
			for _, ce := range ces {
				extra = append(extra, connectors.ConfigValue{Name: ce.Name, Errors: []string{ce.Message}, Visible: true})
			}
		} else {
			extra = append(extra, connectors.ConfigValue{Name: KeyConnectionURL, Errors: []string{err.Error()}, Visible: true})
		}
		values = connectors.MergeConfigValues(values, extra...)
	}
	return values
}

// Start validates the config and keeps it for the tasks.
func (c *Connector) Start(_ context.Context, _ connectors.ConnectorContext, config map[string]string) error {
	if _, err := ParseFlavor(c.flavorFor(config), config); err != nil {
		return err
	}
	c.props = maps.Clone(config)
	return nil
}

// TaskConfigs returns maxTasks copies of the connector config: each task
// writes the partitions the consumer group assigns it.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	out := make([]map[string]string, max(maxTasks, 1))
	for i := range out {
		out[i] = maps.Clone(c.props)
		if c.flavor != 0 && out[i][connectors.KeyConnectorClass] == "" {
			out[i][connectors.KeyConnectorClass] = c.flavor.class()
		}
	}
	return out, nil
}

// Stop does nothing: the connector holds no resources.
func (c *Connector) Stop(context.Context) error { return nil }

// NewTask returns a new sink task.
func (c *Connector) NewTask() connectors.Sink { return &Sink{flavor: c.flavor} }

func (f Flavor) class() string {
	switch f {
	case FlavorDebezium:
		return DebeziumClass
	case FlavorConfluent:
		return ConfluentClass
	}
	return Alias
}
