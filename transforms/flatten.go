package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const flattenDoc = "Flatten a nested data structure, generating names for each field by concatenating the field names at each level with a configurable delimiter character. Applies to Struct when schema present, or a Map in the case of schemaless data. Array fields and their contents are not modified. The default delimiter is '.'."

var flattenConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "delimiter", Type: connectors.ConfigString, Default: ".",
		Importance: connectors.ImportanceMedium, Doc: "Delimiter to insert between field names from the input record when generating field names for the output record"})

// flatten is Flatten$Key / Flatten$Value.
type flatten struct {
	side      side
	delimiter string
	schemas   cache[*connectors.Schema, *flattenPlan]
}

// flattenPlan is the flattened schema and, per output field, the path of
// input fields leading to it.
type flattenPlan struct {
	schema *connectors.Schema
	paths  [][]connectors.Field
}

func (t *flatten) Config() *connectors.ConfigDef { return flattenConfigDef }

func (t *flatten) Configure(props map[string]string) error {
	c, err := parseConfig(flattenConfigDef, props)
	if err != nil {
		return err
	}
	// Kafka trims STRING values, so a delimiter is never whitespace.
	t.delimiter = c.String("delimiter")
	return nil
}

func (t *flatten) Close() error { t.schemas.clear(); return nil }

func (t *flatten) name(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + t.delimiter + field
}

func (t *flatten) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	if connectors.IsNull(value) {
		return r, true, nil
	}
	if schema == nil {
		m, err := requireMap(value, "flattening")
		if err != nil {
			return r, false, err
		}
		out := make(map[string]any, len(m))
		if err := t.flattenMap(m, "", out); err != nil {
			return r, false, err
		}
		return t.side.set(r, nil, out), true, nil
	}
	s, err := requireStructOrNull(value, "flattening")
	if err != nil {
		return r, false, err
	}
	plan, err := t.schemas.getOrMake(schema, func() (*flattenPlan, error) {
		if schema.Type() != connectors.TypeStruct {
			return nil, dataErrorf("Only Struct objects supported for [flattening], found: %s", schema.Type())
		}
		b := copySchemaBasics(schema, connectors.StructSchema())
		def, _ := schema.Default().(*connectors.Struct)
		p := &flattenPlan{}
		if err := t.flattenSchema(schema, "", b, schema.Optional(), def, nil, p); err != nil {
			return nil, err
		}
		var err error
		p.schema, err = buildSchema(b)
		return p, err
	})
	if err != nil {
		return r, false, err
	}
	out := connectors.NewStruct(plan.schema)
	for i, f := range plan.schema.Fields() {
		v := flattenValue(s, plan.paths[i])
		if v == nil {
			continue
		}
		if err := out.PutField(f, v); err != nil {
			return r, false, err
		}
	}
	return t.side.set(r, plan.schema, out), true, nil
}

// flattenValue follows path from s, as Kafka's record.get at each level
// (defaults applied); a null struct on the way gives null.
func flattenValue(s *connectors.Struct, path []connectors.Field) any {
	for _, f := range path[:len(path)-1] {
		next, _ := s.GetField(f).(*connectors.Struct)
		if next == nil {
			return nil
		}
		s = next
	}
	v := s.GetField(path[len(path)-1])
	if connectors.IsNull(v) {
		return nil
	}
	return v
}

func (t *flatten) flattenMap(m map[string]any, prefix string, out map[string]any) error {
	for k, v := range m {
		name := t.name(prefix, k)
		if connectors.IsNull(v) {
			out[name] = nil
			continue
		}
		typ, ok := connectors.InferType(v)
		if !ok {
			return dataErrorf("Flatten transformation was passed a value of type %s which is not supported by Connect's data API", typeName(v))
		}
		switch typ {
		case connectors.TypeMap:
			nested, err := requireMap(v, "flattening")
			if err != nil {
				return err
			}
			if err := t.flattenMap(nested, name, out); err != nil {
				return err
			}
		case connectors.TypeStruct:
			return dataErrorf("Flatten transformation does not support %s for record without schemas (for field %s).", typeName(v), name)
		default:
			out[name] = v
		}
	}
	return nil
}

func (t *flatten) flattenSchema(s *connectors.Schema, prefix string, b *connectors.SchemaBuilder, optional bool, parentDefault *connectors.Struct, path []connectors.Field, p *flattenPlan) error {
	for _, f := range s.Fields() {
		name := t.name(prefix, f.Name())
		fs := f.Schema()
		fieldOptional := optional || fs.Optional()
		fieldPath := append(path[:len(path):len(path)], f)
		var def any
		if fs.Default() != nil {
			def = fs.Default()
		} else if parentDefault != nil {
			def = parentDefault.GetField(f)
		}
		switch fs.Type() {
		case connectors.TypeStruct:
			d, _ := def.(*connectors.Struct)
			if err := t.flattenSchema(fs, name, b, fieldOptional, d, fieldPath, p); err != nil {
				return err
			}
		case connectors.TypeMap:
			return dataErrorf("Flatten transformation does not support %s for record with schemas (for field %s).", fs.Type(), name)
		default:
			fb := copySchemaOfType(fs)
			if fieldOptional {
				fb.Optional()
			}
			if !connectors.IsNull(def) {
				fb.Default(def)
			}
			converted, err := buildSchema(fb)
			if err != nil {
				return err
			}
			b.Field(name, converted)
			p.paths = append(p.paths, fieldPath)
		}
	}
	return nil
}
