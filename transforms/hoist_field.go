package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const hoistFieldDoc = "Wrap data using the specified field name in a Struct when schema present, or a Map in the case of schemaless data."

var hoistFieldConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "field", Type: connectors.ConfigString, Required: true,
		Importance: connectors.ImportanceMedium, Doc: "Field name for the single field that will be created in the resulting Struct or Map."})

// hoistField is HoistField$Key / HoistField$Value.
type hoistField struct {
	side    side
	field   string
	schemas cache[*connectors.Schema, *connectors.Schema]
}

func (t *hoistField) Config() *connectors.ConfigDef { return hoistFieldConfigDef }

func (t *hoistField) Configure(props map[string]string) error {
	c, err := parseConfig(hoistFieldConfigDef, props)
	if err != nil {
		return err
	}
	t.field = c.String("field")
	return nil
}

func (t *hoistField) Close() error { t.schemas.clear(); return nil }

func (t *hoistField) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	if schema == nil {
		return t.side.set(r, nil, map[string]any{t.field: value}), true, nil
	}
	updated, err := t.schemas.getOrMake(schema, func() (*connectors.Schema, error) {
		return buildSchema(connectors.StructSchema().Field(t.field, schema))
	})
	if err != nil {
		return r, false, err
	}
	s := connectors.NewStruct(updated)
	if err := s.PutField(updated.Fields()[0], value); err != nil {
		return r, false, err
	}
	return t.side.set(r, updated, s), true, nil
}
