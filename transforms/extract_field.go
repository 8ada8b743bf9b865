package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const extractFieldDoc = "Extract the specified field from a Struct when schema present, or a Map in the case of schemaless data. Any null values are passed through unmodified."

var extractFieldConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "field", Type: connectors.ConfigString, Required: true,
		Importance: connectors.ImportanceMedium, Doc: "Field name to extract."}).
	Define(replaceNullKey()).
	Define(fieldSyntaxKey)

// extractField is ExtractField$Key / ExtractField$Value.
type extractField struct {
	side        side
	path        fieldPath
	replaceNull bool
}

func (t *extractField) Config() *connectors.ConfigDef { return extractFieldConfigDef }

func (t *extractField) Configure(props map[string]string) error {
	c, err := parseConfig(extractFieldConfigDef, props)
	if err != nil {
		return err
	}
	t.path, err = parseFieldPath(c.String("field"), c.String("field.syntax.version"))
	if err != nil {
		ce := err.(*connectors.ConfigError)
		ce.Name = "field"
		return connectors.ConfigErrors{ce}
	}
	t.replaceNull = c.Bool("replace.null.with.default")
	return nil
}

func (t *extractField) Close() error { return nil }

func (t *extractField) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	if schema == nil {
		if connectors.IsNull(value) {
			return t.side.set(r, nil, nil), true, nil
		}
		m, err := requireMap(value, "field extraction")
		if err != nil {
			return r, false, err
		}
		v, err := t.path.valueFromMap(m)
		if err != nil {
			return r, false, err
		}
		return t.side.set(r, nil, v), true, nil
	}
	s, err := requireStructOrNull(value, "field extraction")
	if err != nil {
		return r, false, err
	}
	f, ok := t.path.fieldFrom(schema)
	if !ok {
		return r, false, dataErrorf("Unknown field: %s", t.path.text)
	}
	v, err := t.path.valueFromStruct(s, t.replaceNull)
	if err != nil {
		return r, false, err
	}
	return t.side.set(r, f.Schema(), v), true, nil
}
