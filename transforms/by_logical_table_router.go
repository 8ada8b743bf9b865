package transforms

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

const byLogicalTableRouterDoc = "Debezium's logical table router: reroutes change events of several physical tables (e.g. shards) to one topic, renames the key, value and envelope schemas after the new topic, and adds a field to the key that tells the physical tables apart."

var byLogicalTableRouterConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "topic.regex", Type: connectors.ConfigString, Required: true, Validator: javaRegexValidator(),
		Importance: connectors.ImportanceLow, Width: connectors.WidthLong, DisplayName: "Topic regex",
		Doc: "The regex used for extracting the name of the logical table from the original topic name."}).
	Define(connectors.ConfigKey{Name: "topic.replacement", Type: connectors.ConfigString, Required: true, Validator: connectors.NonEmptyString(),
		Importance: connectors.ImportanceLow, Width: connectors.WidthLong, DisplayName: "Topic replacement",
		Doc: "The replacement string used in conjunction with topic.regex. This will be used to create the new topic name."}).
	Define(connectors.ConfigKey{Name: "key.enforce.uniqueness", Type: connectors.ConfigBoolean, Default: true,
		Importance: connectors.ImportanceLow, Width: connectors.WidthShort, DisplayName: "Add source topic name into key",
		Doc: "Augment each record's key with a field denoting the source topic. This field distinguishes records coming from different physical tables which may otherwise have primary/unique key conflicts. If the source tables are guaranteed to have globally unique keys then this may be set to false to disable key rewriting."}).
	Define(connectors.ConfigKey{Name: "key.field.regex", Type: connectors.ConfigString,
		Validator: connectors.ValidatorFunc{Desc: "valid regex", Fn: func(name string, v any) error {
			if v == nil {
				return nil
			}
			return javaRegexValidator().Validate(name, v)
		}},
		Importance: connectors.ImportanceLow, Width: connectors.WidthLong, DisplayName: "Key field regex",
		Doc: "The regex used for extracting the physical table identifier from the original topic name. Now that multiple physical tables can share a topic, the event's key may need to be augmented to include fields other than just those for the record's primary/unique key, since these are not guaranteed to be unique across tables. We need some identifier added to the key that distinguishes the different physical tables."}).
	Define(connectors.ConfigKey{Name: "key.field.name", Type: connectors.ConfigString, Default: "__dbz__physicalTableIdentifier",
		Importance: connectors.ImportanceLow, Width: connectors.WidthLong, DisplayName: "Key field name",
		Doc: "Each record's key schema will be augmented with this field name. The purpose of this field is to distinguish the different physical tables that can now share a single topic. Make sure not to configure a field name that is at risk of conflict with existing key schema field names."}).
	Define(connectors.ConfigKey{Name: "key.field.replacement", Type: connectors.ConfigString,
		Importance: connectors.ImportanceLow, Width: connectors.WidthLong, DisplayName: "Key field replacement",
		Doc: "The replacement string used in conjunction with key.field.regex. This will be used to create the physical table identifier in the record's key."}).
	Define(connectors.ConfigKey{Name: "schema.name.adjustment.mode", Type: connectors.ConfigString, Default: "none",
		Validator:  connectors.OneOfIgnoreCase("none", "avro", "avro_unicode"),
		Importance: connectors.ImportanceLow, Width: connectors.WidthMedium, DisplayName: "Schema Name Adjustment",
		Doc: "Specify how the message key schema names derived from the resulting topic name should be adjusted for compatibility with the message converter used by the connector, including: 'avro' replaces the characters that cannot be used in the Avro type name with underscore, 'avro_unicode' replaces them with _uxxxx, 'none' (the default) does not apply any adjustment."}).
	Define(connectors.ConfigKey{Name: "logical.table.cache.size", Type: connectors.ConfigInt, Default: 16, Validator: connectors.AtLeast(1),
		Importance: connectors.ImportanceLow, Width: connectors.WidthLong, DisplayName: "Logical table cache size",
		Doc: "The size used for holding the max entries in LRUCache. The cache will keep the old/new schema for logical table key and value, also cache the derived key and topic regex result for improving the source record transformation. Accepted for compatibility; Sluice's caches are sized on their own."})

// byLogicalTableRouter is io.debezium.transforms.ByLogicalTableRouter.
type byLogicalTableRouter struct {
	topicRegex     *javaRegex
	topicRep       *javaReplacement
	keyRegex       *javaRegex
	keyRep         *javaReplacement
	enforceUnique  bool
	keyFieldName   string
	adjust         func(string) string
	topics         cache[string, string] // old topic → new topic ("" = no match)
	keyIDs         cache[string, string] // old topic → physical table identifier
	keySchemas     cache[routedSchemaKey, *connectors.Schema]
	envelopeSchema cache[routedSchemaKey, *connectors.Schema]
}

type routedSchemaKey struct {
	schema *connectors.Schema
	topic  string
}

func (t *byLogicalTableRouter) Config() *connectors.ConfigDef { return byLogicalTableRouterConfigDef }

func (t *byLogicalTableRouter) Configure(props map[string]string) error {
	c, err := parseConfig(byLogicalTableRouterConfigDef, props)
	if err != nil {
		return err
	}
	var errs configErrors
	t.topicRegex, _ = compileJavaRegex(c.String("topic.regex"))
	if t.topicRep, err = compileJavaReplacement(c.String("topic.replacement"), t.topicRegex.re); err != nil {
		errs.add("topic.replacement", c.String("topic.replacement"), err.Error())
	}
	t.keyRegex, t.keyRep = nil, nil
	if kr := c.String("key.field.regex"); kr != "" {
		t.keyRegex, _ = compileJavaRegex(kr)
		rep := c.String("key.field.replacement")
		if rep == "" {
			errs.add("key.field.replacement", nil, "key.field.replacement must be non-empty if key.field.regex is set.")
		} else if t.keyRep, err = compileJavaReplacement(rep, t.keyRegex.re); err != nil {
			errs.add("key.field.replacement", rep, err.Error())
		}
	}
	t.enforceUnique = c.Bool("key.enforce.uniqueness")
	t.keyFieldName = c.String("key.field.name")
	switch strings.ToLower(c.String("schema.name.adjustment.mode")) {
	case "avro":
		t.adjust = func(s string) string { return avroName(s, false) }
	case "avro_unicode":
		t.adjust = func(s string) string { return avroName(s, true) }
	default:
		t.adjust = func(s string) string { return s }
	}
	return errs.err()
}

func (t *byLogicalTableRouter) Close() error {
	t.topics.clear()
	t.keyIDs.clear()
	t.keySchemas.clear()
	t.envelopeSchema.clear()
	return nil
}

// avroName is Debezium's SchemaNameAdjuster: characters that are not
// valid in an Avro full name become "_" (a leading digit is kept after
// it) or, with unicode, "_uXXXX".
func avroName(s string, unicode bool) string {
	if s == "" {
		return s
	}
	validFirst := func(c rune) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	var b strings.Builder
	changed := false
	for i, c := range s {
		valid := validFirst(c)
		if i > 0 {
			valid = valid || c == '.' || c >= '0' && c <= '9'
		}
		if valid {
			b.WriteRune(c)
			continue
		}
		changed = true
		if unicode {
			fmt.Fprintf(&b, "_u%04x", c)
			continue
		}
		b.WriteByte('_')
		if i == 0 && c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	if !changed {
		return s
	}
	return b.String()
}

func (t *byLogicalTableRouter) Apply(r connectors.Record) (connectors.Record, bool, error) {
	oldTopic := r.Topic
	newTopic, _ := t.topics.getOrMake(oldTopic, func() (string, error) {
		if !t.topicRegex.matches(oldTopic) {
			return "", nil
		}
		return t.topicRegex.replaceFirst(oldTopic, t.topicRep), nil
	})
	if newTopic == "" {
		// No match, or the replacement gave an empty name (Debezium
		// logs a warning and keeps the record as it is).
		return r, true, nil
	}
	out := r
	out.Topic = newTopic
	if !connectors.IsNull(r.Key) {
		key, err := requireStruct(r.Key, "Updating schema")
		if err != nil {
			return r, false, err
		}
		if out.KeySchema, out.Key, err = t.updateKey(key, oldTopic, newTopic); err != nil {
			return r, false, err
		}
	} else {
		out.KeySchema, out.Key = nil, nil
	}
	if r.Tombstone() || !isEnvelope(&r) {
		return out, true, nil
	}
	env, err := requireStruct(r.Value, "Updating schema")
	if err != nil {
		return r, false, err
	}
	if out.ValueSchema, out.Value, err = t.updateEnvelope(env, newTopic); err != nil {
		return r, false, err
	}
	return out, true, nil
}

// copyExcludingName is Debezium's copySchemaExcludingName: version, doc,
// parameters and optionality, and the fields if withFields.
func copyExcludingName(s *connectors.Schema, withFields bool) *connectors.SchemaBuilder {
	b := connectors.StructSchema()
	if v, ok := s.Version(); ok {
		b.Version(v)
	}
	if d := s.Doc(); d != "" {
		b.Doc(d)
	}
	for _, p := range s.Parameters() {
		b.Parameter(p.Key, p.Value)
	}
	if s.Optional() {
		b.Optional()
	}
	if withFields {
		for _, f := range s.Fields() {
			b.Field(f.Name(), f.Schema())
		}
	}
	return b
}

func (t *byLogicalTableRouter) updateKey(key *connectors.Struct, oldTopic, newTopic string) (*connectors.Schema, *connectors.Struct, error) {
	in := key.Schema()
	schema, err := t.keySchemas.getOrMake(routedSchemaKey{in, newTopic}, func() (*connectors.Schema, error) {
		b := copyExcludingName(in, true).Name(t.adjust(newTopic + ".Key"))
		if t.enforceUnique {
			b.Field(t.keyFieldName, connectors.StringSchema)
		}
		return buildSchema(b)
	})
	if err != nil {
		return nil, nil, err
	}
	out := connectors.NewStruct(schema)
	fields := schema.Fields()
	for i, f := range in.Fields() {
		if err := out.PutField(fields[i], key.GetField(f)); err != nil {
			return nil, nil, err
		}
	}
	if t.enforceUnique {
		id := oldTopic
		if t.keyRegex != nil {
			id, _ = t.keyIDs.getOrMake(oldTopic, func() (string, error) {
				if t.keyRegex.matches(oldTopic) {
					return t.keyRegex.replaceFirst(oldTopic, t.keyRep), nil
				}
				return oldTopic, nil
			})
		}
		if err := out.PutField(fields[len(fields)-1], id); err != nil {
			return nil, nil, err
		}
	}
	return schema, out, nil
}

func (t *byLogicalTableRouter) updateEnvelope(env *connectors.Struct, newTopic string) (*connectors.Schema, *connectors.Struct, error) {
	in := env.Schema()
	schema, err := t.envelopeSchema.getOrMake(routedSchemaKey{in, newTopic}, func() (*connectors.Schema, error) {
		before, ok := in.Field("before")
		if !ok {
			return nil, dataErrorf("Unknown field: before")
		}
		value, err := buildSchema(copyExcludingName(before.Schema(), true).Name(t.adjust(newTopic + ".Value")))
		if err != nil {
			return nil, err
		}
		b := copyExcludingName(in, false)
		for _, f := range in.Fields() {
			fs := f.Schema()
			if f.Name() == "before" || f.Name() == "after" {
				fs = value
			}
			b.Field(f.Name(), fs)
		}
		b.Name(t.adjust(newTopic + ".Envelope"))
		return buildSchema(b)
	})
	if err != nil {
		return nil, nil, err
	}
	valueSchema := schema.Fields()[indexOfField(schema, "before")].Schema()
	out := connectors.NewStruct(schema)
	fields := schema.Fields()
	for i, f := range in.Fields() {
		v := env.GetField(f)
		if name := f.Name(); (name == "before" || name == "after") && !connectors.IsNull(v) {
			old, err := requireStruct(v, "Updating schema")
			if err != nil {
				return nil, nil, err
			}
			nv := connectors.NewStruct(valueSchema)
			for _, vf := range old.Schema().Fields() {
				if err := nv.Put(vf.Name(), old.GetField(vf)); err != nil {
					return nil, nil, err
				}
			}
			v = nv
		}
		if err := out.PutField(fields[i], v); err != nil {
			return nil, nil, err
		}
	}
	return schema, out, nil
}

func indexOfField(s *connectors.Schema, name string) int {
	f, _ := s.Field(name)
	return f.Index()
}
