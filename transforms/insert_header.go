package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const insertHeaderDoc = "Add a header to each record."

var insertHeaderConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "header", Type: connectors.ConfigString, Required: true, Validator: connectors.NonNull(),
		Importance: connectors.ImportanceHigh, Doc: "The name of the header."}).
	Define(connectors.ConfigKey{Name: "value.literal", Type: connectors.ConfigString, Required: true, Validator: connectors.NonNull(),
		Importance: connectors.ImportanceHigh, Doc: "The literal value that is to be set as the header value on all records."})

// insertHeader is InsertHeader. The literal is parsed once, as Kafka's
// Values.parseString does, so "42" becomes an INT8 header and "true" a
// BOOLEAN.
type insertHeader struct {
	header string
	schema *connectors.Schema
	value  any
}

func (t *insertHeader) Config() *connectors.ConfigDef { return insertHeaderConfigDef }

func (t *insertHeader) Configure(props map[string]string) error {
	c, err := parseConfig(insertHeaderConfigDef, props)
	if err != nil {
		return err
	}
	t.header = c.String("header")
	// Kafka parses the literal as configured, which the config parser has
	// already trimmed.
	t.schema, t.value = connectors.ParseValue(c.String("value.literal"))
	return nil
}

func (t *insertHeader) Close() error { return nil }

func (t *insertHeader) Apply(r connectors.Record) (connectors.Record, bool, error) {
	return withHeader(r, connectors.Header{Key: t.header, Schema: t.schema, Value: t.value}), true, nil
}
