package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const valueToKeyDoc = "Replace the record key with a new key formed from a subset of fields in the record value."

var valueToKeyConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "fields", Type: connectors.ConfigList, Required: true, Validator: nonEmptyList(),
		Importance: connectors.ImportanceHigh, Doc: "Field names on the record value to extract as the record key."}).
	Define(replaceNullKey())

// valueToKey is ValueToKey.
type valueToKey struct {
	fields      []string
	replaceNull bool
	schemas     cache[*connectors.Schema, *valueToKeyPlan]
}

type valueToKeyPlan struct {
	key  *connectors.Schema
	from []connectors.Field
}

func (t *valueToKey) Config() *connectors.ConfigDef { return valueToKeyConfigDef }

func (t *valueToKey) Configure(props map[string]string) error {
	c, err := parseConfig(valueToKeyConfigDef, props)
	if err != nil {
		return err
	}
	t.fields = c.List("fields")
	t.replaceNull = c.Bool("replace.null.with.default")
	return nil
}

func (t *valueToKey) Close() error { t.schemas.clear(); return nil }

func (t *valueToKey) Apply(r connectors.Record) (connectors.Record, bool, error) {
	if r.ValueSchema == nil {
		m, err := requireMap(r.Value, "copying fields from value to key")
		if err != nil {
			return r, false, err
		}
		key := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			key[f] = m[f]
		}
		r.KeySchema, r.Key = nil, key
		return r, true, nil
	}
	s, err := requireStruct(r.Value, "copying fields from value to key")
	if err != nil {
		return r, false, err
	}
	in := s.Schema()
	plan, err := t.schemas.getOrMake(in, func() (*valueToKeyPlan, error) {
		b := connectors.StructSchema()
		p := &valueToKeyPlan{}
		for _, name := range t.fields {
			f, ok := in.Field(name)
			if !ok {
				return nil, dataErrorf("Field does not exist: %s", name)
			}
			b.Field(name, f.Schema())
			p.from = append(p.from, f)
		}
		var err error
		p.key, err = buildSchema(b)
		return p, err
	})
	if err != nil {
		return r, false, err
	}
	key := connectors.NewStruct(plan.key)
	for i, f := range plan.key.Fields() {
		if err := key.PutField(f, fieldValue(s, plan.from[i], t.replaceNull)); err != nil {
			return r, false, err
		}
	}
	r.KeySchema, r.Key = plan.key, key
	r.ValueSchema = in
	return r, true, nil
}
