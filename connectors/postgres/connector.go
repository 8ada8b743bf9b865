package postgres

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Plugin names. ClassName is Debezium's, so that Debezium configs run
// unchanged; Alias is the short Sluice name.
const (
	ClassName = "io.debezium.connector.postgresql.PostgresConnector"
	Alias     = "postgres-cdc"
)

// Connector is the Postgres CDC source connector. Like Debezium's, it
// runs a single task whatever tasks.max says: one replication slot has
// one reader.
type Connector struct {
	props map[string]string
}

// NewConnector returns a new, unstarted connector.
func NewConnector() connectors.SourceConnector { return &Connector{} }

// Compile-time checks.
var (
	_ connectors.SourceConnector = (*Connector)(nil)
	_ connectors.ConfigValidator = (*Connector)(nil)
	_ connectors.Versioned       = (*Connector)(nil)
)

// Config returns ConfigDef().
func (c *Connector) Config() *connectors.ConfigDef { return ConfigDef() }

// Version returns the Debezium version whose behaviour is reproduced.
func (c *Connector) Version() string { return DebeziumVersion }

// Start parses the config and keeps it for the task. It does not contact
// the database: the task's Open checks the server, so a database that is
// down at start does not fail the connector.
func (c *Connector) Start(_ context.Context, _ connectors.ConnectorContext, config map[string]string) error {
	if _, err := ParseConfig(config); err != nil {
		return err
	}
	c.props = maps.Clone(config)
	return nil
}

// TaskConfigs returns one task config, the connector's.
func (c *Connector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(c.props)}, nil
}

// Stop does nothing: the connector holds no resources.
func (c *Connector) Stop(context.Context) error { return nil }

// NewTask returns a new task.
func (c *Connector) NewTask() connectors.Source { return &Task{} }

// validateTimeout bounds the live checks of ValidateConfig.
const validateTimeout = 20 * time.Second

// ValidateConfig checks the keys, then, if they parse, the server: that
// it can be reached with the credentials, wal_level is logical, the user
// has REPLICATION, the publication exists or can be created, every
// table.include.list entry names a table and the captured tables are
// readable. Every problem is reported at once, on the key to change.
func (c *Connector) ValidateConfig(ctx context.Context, config map[string]string) []connectors.ConfigValue {
	def := ConfigDef()
	values := def.Validate(config)
	cfg, err := ParseConfig(config)
	if err != nil {
		var errs connectors.ConfigErrors
		if errors.As(err, &errs) {
			var extra []connectors.ConfigValue
			for _, e := range errs {
				if !hasError(values, e.Name, e.Message) {
					extra = append(extra, connectors.ConfigValue{Name: e.Name, Errors: []string{e.Message}})
				}
			}
			values = connectors.MergeConfigValues(values, extra...)
		}
		return values
	}
	ctx, cancel := context.WithTimeout(ctx, validateTimeout)
	defer cancel()
	conn, err := connect(ctx, cfg)
	if err != nil {
		err = classifyConnectError(cfg, err)
		key := KeyHostname
		switch code := pgCode(err); {
		case code == "28P01":
			key = KeyPassword
		case code == "28000":
			key = KeyUser
		case code == "3D000":
			key = KeyDBName
		}
		return connectors.MergeConfigValues(values, connectors.ConfigValue{Name: key, Errors: []string{err.Error()}})
	}
	defer conn.Close(context.Background())
	var extra []connectors.ConfigValue
	for _, p := range preflight(ctx, conn, cfg, newFilters(cfg), true) {
		extra = append(extra, connectors.ConfigValue{Name: p.key, Errors: []string{p.msg}})
	}
	return connectors.MergeConfigValues(values, extra...)
}

func hasError(values []connectors.ConfigValue, name, msg string) bool {
	for _, v := range values {
		if v.Name != name {
			continue
		}
		for _, e := range v.Errors {
			if e == msg {
				return true
			}
		}
	}
	return false
}
