package transforms

import (
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

const insertFieldDoc = "Insert field(s) using attributes from the record metadata or a configured static value."

const optionalityDoc = "Suffix with ! to make this a required field, or ? to keep it optional (the default)."

var insertFieldConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "topic.field", Type: connectors.ConfigString, Importance: connectors.ImportanceMedium,
		Doc: "Field name for Kafka topic. " + optionalityDoc}).
	Define(connectors.ConfigKey{Name: "partition.field", Type: connectors.ConfigString, Importance: connectors.ImportanceMedium,
		Doc: "Field name for Kafka partition. " + optionalityDoc}).
	Define(connectors.ConfigKey{Name: "offset.field", Type: connectors.ConfigString, Importance: connectors.ImportanceMedium,
		Doc: "Field name for Kafka offset - only applicable to sink connectors. " + optionalityDoc}).
	Define(connectors.ConfigKey{Name: "timestamp.field", Type: connectors.ConfigString, Importance: connectors.ImportanceMedium,
		Doc: "Field name for record timestamp. " + optionalityDoc}).
	Define(connectors.ConfigKey{Name: "static.field", Type: connectors.ConfigString, Importance: connectors.ImportanceMedium,
		Doc: "Field name for static data field. " + optionalityDoc}).
	Define(connectors.ConfigKey{Name: "static.value", Type: connectors.ConfigString, Importance: connectors.ImportanceMedium,
		Doc: "Static field value, if field name configured."}).
	Define(replaceNullKey())

// insertionSpec is a field name with Kafka's optionality suffix: "name!"
// is required, "name?" and plain "name" are optional.
type insertionSpec struct {
	name     string
	optional bool
	set      bool
}

func parseInsertionSpec(s string, set bool) insertionSpec {
	if !set {
		return insertionSpec{}
	}
	switch {
	case strings.HasSuffix(s, "?"):
		return insertionSpec{name: s[:len(s)-1], optional: true, set: true}
	case strings.HasSuffix(s, "!"):
		return insertionSpec{name: s[:len(s)-1], set: true}
	}
	return insertionSpec{name: s, optional: true, set: true}
}

// insertField is InsertField$Key / InsertField$Value.
type insertField struct {
	side                                         side
	topic, partition, offset, timestamp, static_ insertionSpec
	staticValue                                  string
	staticBoxed                                  any // staticValue as an interface, boxed once
	replaceNull                                  bool
	schemas                                      cache[*connectors.Schema, *connectors.Schema]
}

func (t *insertField) Config() *connectors.ConfigDef { return insertFieldConfigDef }

func (t *insertField) Configure(props map[string]string) error {
	c, err := parseConfig(insertFieldConfigDef, props)
	if err != nil {
		return err
	}
	spec := func(key string) insertionSpec { return parseInsertionSpec(c.String(key), c.Get(key) != nil) }
	t.topic = spec("topic.field")
	t.partition = spec("partition.field")
	t.offset = spec("offset.field")
	t.timestamp = spec("timestamp.field")
	t.static_ = spec("static.field")
	t.staticValue = c.String("static.value")
	t.staticBoxed = t.staticValue
	t.replaceNull = c.Bool("replace.null.with.default")
	var errs configErrors
	if !t.topic.set && !t.partition.set && !t.offset.set && !t.timestamp.set && !t.static_.set {
		errs.addMsg("", "No field insertion configured")
	}
	if t.static_.set && c.Get("static.value") == nil {
		errs.add("static.value", nil, "No value specified for static field: "+t.static_.name)
	}
	return errs.err()
}

func (t *insertField) Close() error { t.schemas.clear(); return nil }

func (t *insertField) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	if connectors.IsNull(value) {
		return r, true, nil
	}
	if t.offset.set && !isSinkRecord(&r) {
		return r, false, dataErrorf("Only SinkRecord supported for [field insertion], found: SourceRecord")
	}
	if schema == nil {
		m, err := requireMap(value, "field insertion")
		if err != nil {
			return r, false, err
		}
		out := cloneMap(m, 5)
		if t.topic.set {
			out[t.topic.name] = r.Topic
		}
		if t.partition.set && r.Partition != nil {
			out[t.partition.name] = *r.Partition
		}
		if t.offset.set {
			out[t.offset.name] = r.Offset
		}
		if t.timestamp.set && !r.Timestamp.IsZero() {
			out[t.timestamp.name] = connectors.TimestampToMillis(r.Timestamp)
		}
		if t.static_.set {
			out[t.static_.name] = t.staticValue
		}
		return t.side.set(r, nil, out), true, nil
	}
	s, err := requireStruct(value, "field insertion")
	if err != nil {
		return r, false, err
	}
	in := s.Schema()
	updated, err := t.schemas.getOrMake(in, func() (*connectors.Schema, error) { return t.updatedSchema(in) })
	if err != nil {
		return r, false, err
	}
	out := connectors.NewStruct(updated)
	fields := updated.Fields()
	n := len(in.Fields())
	for i, f := range in.Fields() {
		if err := out.PutField(fields[i], fieldValue(s, f, t.replaceNull)); err != nil {
			return r, false, err
		}
	}
	// Like Kafka, an absent partition or timestamp leaves the field null
	// rather than failing a required field here.
	if t.topic.set {
		if err := out.PutField(fields[n], r.Topic); err != nil {
			return r, false, err
		}
		n++
	}
	if t.partition.set {
		if r.Partition != nil {
			if err := out.PutField(fields[n], *r.Partition); err != nil {
				return r, false, err
			}
		}
		n++
	}
	if t.offset.set {
		if err := out.PutField(fields[n], r.Offset); err != nil {
			return r, false, err
		}
		n++
	}
	if t.timestamp.set {
		if !r.Timestamp.IsZero() {
			ts := connectors.TimestampFromMillis(connectors.TimestampToMillis(r.Timestamp))
			if err := out.PutField(fields[n], ts); err != nil {
				return r, false, err
			}
		}
		n++
	}
	if t.static_.set {
		if err := out.PutField(fields[n], t.staticBoxed); err != nil {
			return r, false, err
		}
	}
	return t.side.set(r, updated, out), true, nil
}

func (t *insertField) updatedSchema(in *connectors.Schema) (*connectors.Schema, error) {
	b := copySchemaBasics(in, connectors.StructSchema())
	for _, f := range in.Fields() {
		b.Field(f.Name(), f.Schema())
	}
	add := func(spec insertionSpec, optional, required *connectors.Schema) {
		if !spec.set {
			return
		}
		if spec.optional {
			b.Field(spec.name, optional)
		} else {
			b.Field(spec.name, required)
		}
	}
	add(t.topic, connectors.OptionalStringSchema, connectors.StringSchema)
	add(t.partition, connectors.OptionalInt32Schema, connectors.Int32Schema)
	add(t.offset, connectors.OptionalInt64Schema, connectors.Int64Schema)
	add(t.timestamp, connectors.OptionalTimestampSchema, connectors.TimestampSchema)
	add(t.static_, connectors.OptionalStringSchema, connectors.StringSchema)
	return buildSchema(b)
}
