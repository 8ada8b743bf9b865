package jdbc

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// What a record means for its table: Debezium change events are
// understood directly (op c/r/u → write `after`, d → delete by key, t →
// truncate, m and tombstones per delete.enabled), every other record is a
// flat row (e.g. after ExtractNewRecordState, or a plain Connect struct or
// JSON object).

type changeKind uint8

const (
	changeSkip changeKind = iota
	changeUpsert
	changeDelete
	changeTruncate
)

// part is one side of a record: a struct, a schemaless map, or a
// primitive (then st and m are nil).
type part struct {
	schema *connectors.Schema
	st     *connectors.Struct
	m      map[string]any
	prim   any
	null   bool
}

func partOf(schema *connectors.Schema, v any) part {
	if connectors.IsNull(v) {
		return part{schema: schema, null: true}
	}
	switch x := v.(type) {
	case *connectors.Struct:
		return part{schema: x.Schema(), st: x}
	case map[string]any:
		if schema == nil {
			return part{m: x}
		}
	}
	return part{schema: schema, prim: v}
}

func (p part) isRow() bool { return p.st != nil || p.m != nil }

// get returns field name (index idx for structs) of the part.
func (p part) get(name string, idx int, defaults bool) any {
	if p.st != nil {
		f := p.st.Schema().Fields()[idx]
		if defaults {
			return p.st.GetField(f)
		}
		return p.st.GetFieldWithoutDefault(f)
	}
	if p.m != nil {
		return p.m[name]
	}
	return nil
}

// change is one record, classified.
type change struct {
	kind  changeKind
	table string // destination name, before splitting into schema.table
	key   part
	row   part // the value, or the envelope's after
}

// envelope recognises a Debezium change event: a struct (or schemaless
// map) with an op field and before/after fields.
func envelope(r *connectors.Record) (op string, after, source part, ok bool) {
	return envelopeCached(r, nil)
}

// envelopeFields locates op, after and source in an envelope schema.
type envelopeFields struct {
	ok             bool
	op, after, src connectors.Field
	hasSource      bool
}

func envelopeFieldsOf(s *connectors.Schema) envelopeFields {
	fop, hasOp := s.Field("op")
	fa, hasAfter := s.Field("after")
	_, hasBefore := s.Field("before")
	if !hasOp || fop.Schema().Type() != connectors.TypeString || !hasAfter || !hasBefore {
		return envelopeFields{}
	}
	e := envelopeFields{ok: true, op: fop, after: fa}
	e.src, e.hasSource = s.Field("source")
	return e
}

// envelopeCached is envelope with the field lookups cached per schema.
func envelopeCached(r *connectors.Record, cache map[*connectors.Schema]envelopeFields) (op string, after, source part, ok bool) {
	switch v := r.Value.(type) {
	case *connectors.Struct:
		if v == nil {
			return "", part{}, part{}, false
		}
		s := v.Schema()
		e, cached := cache[s]
		if !cached {
			e = envelopeFieldsOf(s)
			if cache != nil && len(cache) < 4096 {
				cache[s] = e
			}
		}
		if !e.ok {
			return "", part{}, part{}, false
		}
		op, _ = v.GetFieldWithoutDefault(e.op).(string)
		after = partOf(e.after.Schema(), v.GetFieldWithoutDefault(e.after))
		if e.hasSource {
			source = partOf(e.src.Schema(), v.GetFieldWithoutDefault(e.src))
		}
		return op, after, source, true
	case map[string]any:
		o, hasOp := v["op"].(string)
		_, hasAfter := v["after"]
		_, hasBefore := v["before"]
		if !hasOp || !hasAfter || !hasBefore {
			return "", part{}, part{}, false
		}
		after = partOf(nil, v["after"])
		if src, ok := v["source"].(map[string]any); ok {
			source = part{m: src}
		}
		return o, after, source, true
	}
	return "", part{}, part{}, false
}

// classify turns a record into a change. A nil error with changeSkip
// means the record is deliberately not written.
func (t *Sink) classify(r *connectors.Record) (change, error) {
	c := change{key: partOf(r.KeySchema, r.Key)}
	if r.Tombstone() {
		if !t.cfg.DeleteEnabled {
			return c, nil
		}
		c.kind = changeDelete
	} else if op, after, source, ok := envelopeCached(r, t.envelopes); ok {
		switch op {
		case "c", "r", "u":
			if after.null {
				return c, nil
			}
			c.kind, c.row = changeUpsert, after
		case "d":
			if !t.cfg.DeleteEnabled {
				return c, nil
			}
			c.kind = changeDelete
		case "t":
			if !t.cfg.TruncateEnabled {
				return c, nil
			}
			c.kind = changeTruncate
		case "m":
			return c, nil
		default:
			return c, fmt.Errorf("%w: Debezium event with unknown op %q", connectors.ErrData, op)
		}
		name, err := t.tableName(r, source)
		if err != nil {
			return c, err
		}
		c.table = name
	} else {
		c.kind, c.row = changeUpsert, partOf(r.ValueSchema, r.Value)
		if !c.row.isRow() {
			return c, fmt.Errorf("%w: the record value is a %s, not a struct or a JSON object: the JDBC sink writes rows "+
				"(a primitive value needs a transform such as HoistField to become one)", connectors.ErrData, typeName(r.ValueSchema, r.Value))
		}
	}
	if c.table == "" {
		name, err := t.tableName(r, part{})
		if err != nil {
			return c, err
		}
		c.table = name
	}
	if c.kind == changeDelete && c.key.null {
		return c, fmt.Errorf("%w: cannot delete: the record has no key (delete.enabled needs primary.key.mode=record_key)", connectors.ErrData)
	}
	return c, nil
}

func typeName(s *connectors.Schema, v any) string {
	if s != nil {
		return s.Type().String()
	}
	return fmt.Sprintf("%T", v)
}

var sourcePlaceholder = regexp.MustCompile(`\$\{source\.([A-Za-z0-9_]+)\}`)

// tableName applies table.name.format: ${topic} (dots replaced by
// underscores unless Confluent), ${source.<field>} from the envelope's
// source block, and the lower-case naming strategy.
func (t *Sink) tableName(r *connectors.Record, source part) (string, error) {
	bySource := strings.Contains(t.cfg.TableNameFormat, "${source.")
	if !bySource {
		if name, ok := t.names[r.Topic]; ok {
			return name, nil
		}
	}
	topic := r.Topic
	if t.cfg.ReplaceTopicDots {
		topic = strings.ReplaceAll(topic, ".", "_")
	}
	name := strings.ReplaceAll(t.cfg.TableNameFormat, "${topic}", topic)
	if strings.Contains(name, "${source.") {
		var missing string
		name = sourcePlaceholder.ReplaceAllStringFunc(name, func(m string) string {
			field := sourcePlaceholder.FindStringSubmatch(m)[1]
			var v any
			if source.st != nil {
				if f, ok := source.st.Schema().Field(field); ok {
					v = source.st.GetFieldWithoutDefault(f)
				}
			} else if source.m != nil {
				v = source.m[field]
			}
			s, ok := v.(string)
			if !ok || s == "" {
				missing = field
			}
			return s
		})
		if missing != "" {
			return "", fmt.Errorf("%w: table.name.format %q needs source.%s, which this record does not have "+
				"(tombstones and non-Debezium records have no source block)", connectors.ErrData, t.cfg.TableNameFormat, missing)
		}
	}
	if t.cfg.LowercaseTables {
		name = strings.ToLower(name)
	}
	if !bySource {
		if t.names == nil || len(t.names) > 10_000 {
			t.names = map[string]string{}
		}
		t.names[r.Topic] = name
	}
	return name, nil
}

// fieldFilter decides which value fields become columns.
type fieldFilter struct {
	include, exclude []*regexp.Regexp
}

func newFieldFilter(include, exclude []string) fieldFilter {
	var f fieldFilter
	for _, p := range include {
		f.include = append(f.include, regexp.MustCompile("^(?:"+p+")$"))
	}
	for _, p := range exclude {
		f.exclude = append(f.exclude, regexp.MustCompile("^(?:"+p+")$"))
	}
	return f
}

func (f fieldFilter) keep(topic, field string) bool {
	match := func(res []*regexp.Regexp) bool {
		for _, re := range res {
			if re.MatchString(field) || re.MatchString(topic+":"+field) {
				return true
			}
		}
		return false
	}
	if len(f.include) > 0 && !match(f.include) {
		return false
	}
	return !match(f.exclude)
}

// colSource says where a column's value comes from.
type colSource uint8

const (
	srcRow colSource = iota
	srcKeyField
	srcKeyWhole
	srcTopic
	srcPartition
	srcOffset
)

// shapeCol is one column a kind of record writes.
type shapeCol struct {
	field  string             // field name in the source
	name   string             // column name, as the table has it
	schema *connectors.Schema // the field's schema (nil: schemaless)
	src    colSource
	idx    int // field index in the struct
	pk     bool
}

// value returns the column's Connect value for record r with change c.
func (sc *shapeCol) value(r *connectors.Record, c *change, defaults bool) any {
	switch sc.src {
	case srcRow:
		return c.row.get(sc.field, sc.idx, defaults)
	case srcKeyField:
		return c.key.get(sc.field, sc.idx, defaults)
	case srcKeyWhole:
		return c.key.prim
	case srcTopic:
		return r.Topic
	case srcPartition:
		p, _ := r.KafkaPartition()
		return p
	case srcOffset:
		return r.Offset
	}
	return nil
}

// buildColumns derives the columns a change writes (upserts: key and
// row columns; deletes: the key columns only), per the primary key mode,
// in CREATE TABLE order: key columns first.
func (t *Sink) buildColumns(r *connectors.Record, c *change) ([]shapeCol, error) {
	cfg := &t.cfg
	var cols []shapeCol
	pkNames := map[string]bool{}
	addPK := func(sc shapeCol) {
		sc.pk = true
		sc.name = t.q.fold(sc.name)
		pkNames[sc.name] = true
		cols = append(cols, sc)
	}
	switch cfg.PrimaryKeyMode {
	case PKKafka:
		names := cfg.PrimaryKeyFields
		if len(names) != 3 {
			names = DefaultKafkaPKFields
		}
		addPK(shapeCol{field: names[0], name: names[0], schema: connectors.StringSchema, src: srcTopic})
		addPK(shapeCol{field: names[1], name: names[1], schema: connectors.Int32Schema, src: srcPartition})
		addPK(shapeCol{field: names[2], name: names[2], schema: connectors.Int64Schema, src: srcOffset})
	case PKRecordKey:
		k := c.key
		switch {
		case k.null:
			return nil, fmt.Errorf("%w: the record key is null, but %s=record_key takes the primary key from it", connectors.ErrData, cfg.pkModeKey())
		case k.isRow():
			fields := keyFields(k)
			want := cfg.PrimaryKeyFields
			if len(want) == 0 {
				want = fields
			}
			for _, name := range want {
				i := slices.Index(fields, name)
				if i < 0 {
					return nil, fmt.Errorf("%w: primary key field %q is not in the record key (fields: %s)", connectors.ErrData, name, strings.Join(fields, ", "))
				}
				var fs *connectors.Schema
				if k.st != nil {
					fs = k.st.Schema().Fields()[i].Schema()
				}
				addPK(shapeCol{field: name, name: name, schema: fs, src: srcKeyField, idx: i})
			}
		default:
			if len(cfg.PrimaryKeyFields) != 1 {
				return nil, fmt.Errorf("%w: the record key is a primitive (%s): %s must name exactly one column for it, has %d",
					connectors.ErrData, typeName(k.schema, k.prim), cfg.pkFieldsKey(), len(cfg.PrimaryKeyFields))
			}
			addPK(shapeCol{field: cfg.PrimaryKeyFields[0], name: cfg.PrimaryKeyFields[0], schema: k.schema, src: srcKeyWhole})
		}
	}
	if c.kind == changeDelete {
		return cols, nil
	}
	fields := keyFields(c.row)
	if cfg.PrimaryKeyMode == PKRecordValue {
		want := cfg.PrimaryKeyFields
		if len(want) == 0 {
			want = fields
		}
		for _, name := range want {
			i := slices.Index(fields, name)
			if i < 0 {
				return nil, fmt.Errorf("%w: primary key field %q is not in the record value (fields: %s)", connectors.ErrData, name, strings.Join(fields, ", "))
			}
			addPK(shapeCol{field: name, name: name, schema: fieldSchema(c.row, i), src: srcRow, idx: i})
		}
	}
	for i, name := range fields {
		col := t.q.fold(name)
		if pkNames[col] || !t.filter.keep(r.Topic, name) {
			continue
		}
		cols = append(cols, shapeCol{field: name, name: col, schema: fieldSchema(c.row, i), src: srcRow, idx: i})
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%w: the record has no fields to write", connectors.ErrData)
	}
	return cols, nil
}

// keyFields lists a row part's field names: struct order, or sorted map
// keys.
func keyFields(p part) []string {
	if p.st != nil {
		fs := p.st.Schema().Fields()
		out := make([]string, len(fs))
		for i, f := range fs {
			out[i] = f.Name()
		}
		return out
	}
	out := make([]string, 0, len(p.m))
	for k := range p.m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func fieldSchema(p part, i int) *connectors.Schema {
	if p.st != nil {
		return p.st.Schema().Fields()[i].Schema()
	}
	return nil
}
