package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const headerFromDoc = "Moves or copies fields in the key/value of a record into that record's headers. Corresponding elements of fields and headers together identify a field and the header it should be moved or copied to."

var headerFromConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "fields", Type: connectors.ConfigList, Required: true, Validator: nonEmptyList(),
		Importance: connectors.ImportanceHigh, Doc: "Field names in the record whose values are to be copied or moved to headers."}).
	Define(connectors.ConfigKey{Name: "headers", Type: connectors.ConfigList, Required: true, Validator: nonEmptyList(),
		Importance: connectors.ImportanceHigh, Doc: "Header names, in the same order as the field names listed in the fields configuration property."}).
	Define(connectors.ConfigKey{Name: "operation", Type: connectors.ConfigString, Required: true, Validator: connectors.OneOf("move", "copy"),
		Importance: connectors.ImportanceHigh, Doc: "Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value)."}).
	Define(replaceNullKey())

// headerFrom is HeaderFrom$Key / HeaderFrom$Value.
type headerFrom struct {
	side        side
	fields      []string
	headers     []string
	move        bool
	replaceNull bool
	schemas     cache[*connectors.Schema, *connectors.Schema]
}

func (t *headerFrom) Config() *connectors.ConfigDef { return headerFromConfigDef }

func (t *headerFrom) Configure(props map[string]string) error {
	c, err := parseConfig(headerFromConfigDef, props)
	if err != nil {
		return err
	}
	t.fields, t.headers = c.List("fields"), c.List("headers")
	if len(t.fields) != len(t.headers) {
		return connectors.ConfigErrors{{Name: "headers", Message: "'fields' config must have the same number of elements as 'headers' config."}}
	}
	t.move = c.String("operation") == "move"
	t.replaceNull = c.Bool("replace.null.with.default")
	return nil
}

func (t *headerFrom) Close() error { t.schemas.clear(); return nil }

func (t *headerFrom) purpose() string {
	if t.move {
		return "header move"
	}
	return "header copy"
}

func (t *headerFrom) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	headers := make(connectors.Headers, len(r.Headers), len(r.Headers)+len(t.fields))
	copy(headers, r.Headers)
	if schema == nil {
		m, err := requireMap(value, t.purpose())
		if err != nil {
			return r, false, err
		}
		updated := m
		if t.move {
			updated = cloneMap(m, 0)
		}
		for i, f := range t.fields {
			if t.move {
				delete(updated, f)
			}
			headers = append(headers, connectors.Header{Key: t.headers[i], Value: m[f]})
		}
		r = t.side.set(r, nil, updated)
		r.Headers = headers
		return r, true, nil
	}
	s, err := requireStruct(value, t.purpose())
	if err != nil {
		return r, false, err
	}
	updatedSchema, updated := schema, s
	if t.move {
		updatedSchema, err = t.schemas.getOrMake(schema, func() (*connectors.Schema, error) {
			b := copySchemaBasics(schema, connectors.StructSchema())
			for _, f := range schema.Fields() {
				if !containsString(t.fields, f.Name()) {
					b.Field(f.Name(), f.Schema())
				}
			}
			return buildSchema(b)
		})
		if err != nil {
			return r, false, err
		}
		updated = connectors.NewStruct(updatedSchema)
		for _, f := range updatedSchema.Fields() {
			src, _ := s.Schema().Field(f.Name())
			if err := updated.PutField(f, fieldValue(s, src, t.replaceNull)); err != nil {
				return r, false, err
			}
		}
	}
	for i, name := range t.fields {
		f, ok := schema.Field(name)
		if !ok {
			return r, false, dataErrorf("Field %s does not exist in the %s schema", name, t.sideName())
		}
		var v any
		if sf, ok := s.Schema().Field(name); ok {
			v = fieldValue(s, sf, t.replaceNull)
		}
		headers = append(headers, connectors.Header{Key: t.headers[i], Schema: f.Schema(), Value: v})
	}
	r = t.side.set(r, updatedSchema, updated)
	r.Headers = headers
	return r, true, nil
}

func (t *headerFrom) sideName() string {
	if t.side == keySide {
		return "key"
	}
	return "value"
}
