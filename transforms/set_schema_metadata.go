package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const setSchemaMetadataDoc = "Set the schema name, version or both on the record's key or value schema."

var setSchemaMetadataConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "schema.name", Type: connectors.ConfigString,
		Importance: connectors.ImportanceHigh, Doc: "Schema name to set."}).
	Define(connectors.ConfigKey{Name: "schema.version", Type: connectors.ConfigInt,
		Importance: connectors.ImportanceHigh, Doc: "Schema version to set."}).
	Define(replaceNullKey())

// setSchemaMetadata is SetSchemaMetadata$Key / SetSchemaMetadata$Value.
type setSchemaMetadata struct {
	side        side
	name        string
	hasName     bool
	version     int
	hasVersion  bool
	replaceNull bool
	schemas     cache[*connectors.Schema, *connectors.Schema]
}

func (t *setSchemaMetadata) Config() *connectors.ConfigDef { return setSchemaMetadataConfigDef }

func (t *setSchemaMetadata) Configure(props map[string]string) error {
	c, err := parseConfig(setSchemaMetadataConfigDef, props)
	if err != nil {
		return err
	}
	t.hasName, t.name = c.Get("schema.name") != nil, c.String("schema.name")
	t.hasVersion = c.Get("schema.version") != nil
	if t.hasVersion {
		t.version = c.Int("schema.version")
	}
	t.replaceNull = c.Bool("replace.null.with.default")
	if !t.hasName && !t.hasVersion {
		return connectors.ConfigErrors{{Name: "schema.name", Message: "Neither schema name nor version configured"}}
	}
	return nil
}

func (t *setSchemaMetadata) Close() error { t.schemas.clear(); return nil }

func (t *setSchemaMetadata) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	if schema == nil {
		if connectors.IsNull(value) {
			return r, true, nil
		}
		return r, false, dataErrorf("Schema required for [updating schema metadata]")
	}
	updated, err := t.schemas.getOrMake(schema, func() (*connectors.Schema, error) {
		b := schema.Builder()
		if t.hasName {
			b.Name(t.name)
		}
		if t.hasVersion {
			b.Version(t.version)
		}
		if _, ok := schema.Default().(*connectors.Struct); ok {
			// A struct default is bound to the old schema and cannot
			// validate against the renamed one.
			b.Default(nil)
		}
		return buildSchema(b)
	})
	if err != nil {
		return r, false, err
	}
	if s, ok := value.(*connectors.Struct); ok && s != nil {
		out := connectors.NewStruct(updated)
		fields := updated.Fields()
		for i, f := range s.Schema().Fields() {
			if i < len(fields) {
				if err := out.PutField(fields[i], fieldValue(s, f, t.replaceNull)); err != nil {
					return r, false, err
				}
			}
		}
		value = out
	}
	return t.side.set(r, updated, value), true, nil
}
