package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const replaceFieldDoc = "Filter or rename fields."

var replaceFieldConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "exclude", Type: connectors.ConfigList, Default: []string{},
		Importance: connectors.ImportanceMedium, Doc: "Fields to exclude. This takes precedence over the fields to include."}).
	Define(connectors.ConfigKey{Name: "blacklist", Type: connectors.ConfigList,
		Importance: connectors.ImportanceLow, Doc: "Deprecated. Use exclude instead."}).
	Define(connectors.ConfigKey{Name: "include", Type: connectors.ConfigList, Default: []string{},
		Importance: connectors.ImportanceMedium, Doc: "Fields to include. If specified, only these fields will be used."}).
	Define(connectors.ConfigKey{Name: "whitelist", Type: connectors.ConfigList,
		Importance: connectors.ImportanceLow, Doc: "Deprecated. Use include instead."}).
	Define(connectors.ConfigKey{Name: "renames", Type: connectors.ConfigList, Default: []string{},
		Validator: connectors.ValidatorFunc{Desc: "list of colon-delimited pairs, e.g. foo:bar,abc:xyz", Fn: func(name string, v any) error {
			list, _ := v.([]string)
			_, err := parseRenames(list)
			return err
		}},
		Importance: connectors.ImportanceMedium, Doc: "Field rename mappings."}).
	Define(replaceNullKey())

// parseRenames parses "from:to" pairs, as Kafka's parseRenameMappings.
func parseRenames(list []string) (map[string]string, error) {
	m := make(map[string]string, len(list))
	for _, mapping := range list {
		parts := javaSplit(mapping, ":")
		if len(parts) != 2 {
			return nil, connectors.NewConfigError("renames", list, "Invalid rename mapping: "+mapping)
		}
		m[parts[0]] = parts[1]
	}
	return m, nil
}

// replaceField is ReplaceField$Key / ReplaceField$Value.
type replaceField struct {
	side             side
	exclude, include map[string]struct{}
	renames, reverse map[string]string
	replaceNull      bool
	schemas          cache[*connectors.Schema, *replaceFieldPlan]
}

// replaceFieldPlan is the derived schema plus, per output field, the input
// field it comes from.
type replaceFieldPlan struct {
	schema *connectors.Schema
	from   []connectors.Field
}

func (t *replaceField) Config() *connectors.ConfigDef { return replaceFieldConfigDef }

func (t *replaceField) Configure(props map[string]string) error {
	// The deprecated names apply when the new ones are absent (Kafka's
	// ConfigUtils.translateDeprecatedConfigs).
	translated := make(map[string]string, len(props))
	for k, v := range props {
		translated[k] = v
	}
	for _, p := range [][2]string{{"include", "whitelist"}, {"exclude", "blacklist"}} {
		if v, ok := props[p[1]]; ok {
			if _, set := props[p[0]]; !set {
				translated[p[0]] = v
			}
		}
	}
	c, err := parseConfig(replaceFieldConfigDef, translated)
	if err != nil {
		return err
	}
	toSet := func(l []string) map[string]struct{} {
		m := make(map[string]struct{}, len(l))
		for _, s := range l {
			m[s] = struct{}{}
		}
		return m
	}
	t.exclude, t.include = toSet(c.List("exclude")), toSet(c.List("include"))
	t.renames, _ = parseRenames(c.List("renames"))
	t.reverse = make(map[string]string, len(t.renames))
	for k, v := range t.renames {
		t.reverse[v] = k
	}
	t.replaceNull = c.Bool("replace.null.with.default")
	return nil
}

func (t *replaceField) Close() error { t.schemas.clear(); return nil }

func (t *replaceField) keep(name string) bool {
	if _, ex := t.exclude[name]; ex {
		return false
	}
	if len(t.include) == 0 {
		return true
	}
	_, in := t.include[name]
	return in
}

func (t *replaceField) renamed(name string) string {
	if to, ok := t.renames[name]; ok {
		return to
	}
	return name
}

func (t *replaceField) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	if connectors.IsNull(value) {
		return r, true, nil
	}
	if schema == nil {
		m, err := requireMap(value, "field replacement")
		if err != nil {
			return r, false, err
		}
		out := make(map[string]any, len(m))
		for k, v := range m {
			if t.keep(k) {
				out[t.renamed(k)] = v
			}
		}
		return t.side.set(r, nil, out), true, nil
	}
	s, err := requireStruct(value, "field replacement")
	if err != nil {
		return r, false, err
	}
	in := s.Schema()
	plan, err := t.schemas.getOrMake(in, func() (*replaceFieldPlan, error) { return t.plan(in) })
	if err != nil {
		return r, false, err
	}
	out := connectors.NewStruct(plan.schema)
	for i, f := range plan.schema.Fields() {
		if err := out.PutField(f, fieldValue(s, plan.from[i], t.replaceNull)); err != nil {
			return r, false, err
		}
	}
	return t.side.set(r, plan.schema, out), true, nil
}

func (t *replaceField) plan(in *connectors.Schema) (*replaceFieldPlan, error) {
	b := copySchemaBasics(in, connectors.StructSchema())
	for _, f := range in.Fields() {
		if t.keep(f.Name()) {
			b.Field(t.renamed(f.Name()), f.Schema())
		}
	}
	out, err := buildSchema(b)
	if err != nil {
		return nil, err
	}
	p := &replaceFieldPlan{schema: out, from: make([]connectors.Field, len(out.Fields()))}
	for i, f := range out.Fields() {
		src := f.Name()
		if orig, ok := t.reverse[src]; ok {
			src = orig
		}
		sf, ok := in.Field(src)
		if !ok {
			return nil, dataErrorf("%s is not a valid field name", src)
		}
		p.from[i] = sf
	}
	return p, nil
}
