package transforms

import (
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

const extractNewRecordStateDoc = "Debezium's \"unwrap\" transform: replaces a change event envelope (before, after, source, op, ts_ms) by its after state, optionally adding envelope fields as fields or headers, and handles delete events and tombstones. Records that are not change events pass through unchanged."

// The delete.tombstone.handling.mode values, and the deprecated
// delete.handling.mode values.
const (
	dtDrop                 = "drop"
	dtTombstone            = "tombstone"
	dtRewrite              = "rewrite"
	dtRewriteWithTombstone = "rewrite-with-tombstone"
	dtDeleteToTombstone    = "delete-to-tombstone"
	dhNone                 = "none" // delete.handling.mode only
)

// optionalOneOfIgnoreCase accepts null or one of values in any case.
func optionalOneOfIgnoreCase(values ...string) connectors.Validator {
	v := connectors.OneOfIgnoreCase(values...)
	return connectors.ValidatorFunc{Desc: v.String(), Fn: func(name string, value any) error {
		if value == nil {
			return nil
		}
		return v.Validate(name, value)
	}}
}

var extractNewRecordStateConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "drop.tombstones", Type: connectors.ConfigBoolean, Default: true,
		Importance: connectors.ImportanceLow, Width: connectors.WidthShort, DisplayName: "Drop tombstones",
		Doc: "Deprecated; use delete.tombstone.handling.mode. Debezium by default generates a tombstone record to enable Kafka compaction after a delete record was generated. This record is usually filtered out to avoid duplicates as a delete record is converted to a tombstone record, too."}).
	Define(connectors.ConfigKey{Name: "delete.handling.mode", Type: connectors.ConfigString, Default: dtDrop,
		Validator:  connectors.OneOfIgnoreCase(dtDrop, dtRewrite, dhNone),
		Importance: connectors.ImportanceMedium, Width: connectors.WidthMedium, DisplayName: "Handle delete records",
		Doc: "Deprecated; use delete.tombstone.handling.mode. How to handle delete records. Options are: none - records are passed, drop - records are removed (the default), rewrite - __deleted field is added to records."}).
	Define(connectors.ConfigKey{Name: "route.by.field", Type: connectors.ConfigString, Default: "",
		Importance: connectors.ImportanceLow, Width: connectors.WidthLong, DisplayName: "Route by field name",
		Doc: "The column which determines how the events will be routed, the value will replace the topic name."}).
	Define(connectors.ConfigKey{Name: "add.fields.prefix", Type: connectors.ConfigString, Default: "__",
		Importance: connectors.ImportanceLow, Width: connectors.WidthShort, DisplayName: "Field prefix to be added to each field.",
		Doc: "Adds this prefix to each field listed."}).
	Define(connectors.ConfigKey{Name: "add.fields", Type: connectors.ConfigList, Default: "",
		Importance: connectors.ImportanceLow, Width: connectors.WidthLong, DisplayName: "Adds the specified field(s) to the message if they exist.",
		Doc: "Adds each field listed, prefixed with __ (or __<struct>_ if the struct is specified). Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP. Please note that the new field name is case-sensitive."}).
	Define(connectors.ConfigKey{Name: "add.headers.prefix", Type: connectors.ConfigString, Default: "__",
		Importance: connectors.ImportanceLow, Width: connectors.WidthShort, DisplayName: "Header prefix to be added to each header.",
		Doc: "Adds this prefix listed to each header."}).
	Define(connectors.ConfigKey{Name: "add.headers", Type: connectors.ConfigList, Default: "",
		Importance: connectors.ImportanceLow, Width: connectors.WidthLong, DisplayName: "Adds the specified fields to the header if they exist.",
		Doc: "Adds each field listed to the header, __ (or __<struct>_ if the struct is specified). Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP. Please note that the new field name is case-sensitive."}).
	Define(connectors.ConfigKey{Name: "delete.tombstone.handling.mode", Type: connectors.ConfigString,
		Validator:  optionalOneOfIgnoreCase(dtDrop, dtTombstone, dtRewrite, dtRewriteWithTombstone, dtDeleteToTombstone),
		Importance: connectors.ImportanceMedium, Width: connectors.WidthMedium, DisplayName: "Handle delete and tombstone records",
		Doc: "How to handle delete records. Options are: drop - Remove the delete event and tombstone from the stream. tombstone (default) - For each delete event, leave only a tombstone in the stream. rewrite - Remove tombstone from the record, and add a `__deleted` field with the value `true`. rewrite-with-tombstone - Retain tombstone in record and add a `__deleted` field with the value `true`. delete-to-tombstone - Convert delete events to tombstone events (null value and value schema) and drop tombstone events. When neither this nor the deprecated drop.tombstones/delete.handling.mode is set, tombstone applies."}).
	Define(connectors.ConfigKey{Name: "drop.fields.header.name", Type: connectors.ConfigString,
		Importance: connectors.ImportanceLow, Width: connectors.WidthShort, DisplayName: "Specifies a header that contains a list of field names to be removed",
		Doc: "Specifies the name of a header that contains a list of fields to be removed from the event value."}).
	Define(connectors.ConfigKey{Name: "drop.fields.from.key", Type: connectors.ConfigBoolean, Default: false,
		Importance: connectors.ImportanceLow, Width: connectors.WidthShort, DisplayName: "Specifies whether the fields to be dropped should also be omitted from the key",
		Doc: "Specifies whether to apply the drop fields behavior to the event key as well as the value. Default behavior is to only remove fields from the event value, not the key."}).
	Define(connectors.ConfigKey{Name: "drop.fields.keep.schema.compatible", Type: connectors.ConfigBoolean, Default: true,
		Importance: connectors.ImportanceLow, Width: connectors.WidthShort, DisplayName: "Specifies if fields are dropped, will the event's schemas be compatible",
		Doc: "Controls the output event's schema compatibility when using the drop fields feature. `true`: dropped fields are removed if the schema indicates its optional leaving the schemas unchanged, `false`: dropped fields are removed from the key/value schemas, regardless of optionality."}).
	Define(connectors.ConfigKey{Name: "replace.null.with.default", Type: connectors.ConfigBoolean, Default: true,
		Importance: connectors.ImportanceLow, Width: connectors.WidthShort, DisplayName: "replace null field value with default",
		Doc: "When this option is enabled, null field values are replaced by source-defined defaults when rewriting the record."})

// fieldRef is Debezium's FieldReference: an envelope field named in
// add.fields or add.headers ("op", "lsn", "source.ts_ms", "id:TXN"), with
// the struct it lives in and the name it gets.
type fieldRef struct {
	parent   string // "" for a top-level envelope field
	field    string
	newField string
}

// parseFieldRefs parses add.fields / add.headers entries.
func parseFieldRefs(prefix string, entries []string) ([]fieldRef, error) {
	var refs []fieldRef
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		parts := strings.Split(e, ":")
		splits := strings.Split(parts[0], ".")
		r := fieldRef{}
		if len(splits) == 1 {
			r.field = splits[0]
			r.parent = envelopeParent(r.field)
		} else {
			r.parent, r.field = splits[0], splits[1]
		}
		switch {
		case len(parts) == 1 && len(splits) == 1:
			r.newField = prefix + r.field
		case len(parts) == 1:
			r.newField = prefix + r.parent + "_" + r.field
		case len(parts) == 2:
			r.newField = prefix + parts[1]
		default:
			return nil, &connectors.ConfigError{Message: "Unexpected field name: " + e}
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// envelopeParent is Debezium's determineStruct: where a bare name lives.
func envelopeParent(field string) string {
	switch field {
	case "id", "total_order", "data_collection_order":
		return "transaction"
	case "op", "ts_ms", "ts_us", "ts_ns":
		return ""
	case "updateDescription":
		return "updateDescription"
	}
	return "source"
}

// schemaIn returns the (optional) schema the reference gets, or false if
// the envelope schema has no such field.
func (f fieldRef) schemaIn(env *connectors.Schema) (*connectors.Schema, bool) {
	var fld connectors.Field
	found := false
	if f.parent != "" {
		if p, ok := env.Field(f.parent); ok && p.Schema().Type() == connectors.TypeStruct {
			fld, found = p.Schema().Field(f.field)
		}
	} else {
		fld, found = env.Field(f.field)
	}
	if !found {
		if fld, found = env.Field(f.field); !found {
			return nil, false
		}
	}
	s, err := buildSchema(copySchemaOfType(fld.Schema()).Optional())
	if err != nil {
		return nil, false
	}
	return s, true
}

// valueIn returns the referenced value of the envelope (without applying
// defaults).
func (f fieldRef) valueIn(env *connectors.Struct) any {
	parent := env
	if f.parent != "" {
		pf, ok := env.Schema().Field(f.parent)
		if !ok {
			parent = nil
		} else {
			parent, _ = env.GetFieldWithoutDefault(pf).(*connectors.Struct)
		}
	}
	if parent == nil {
		return nil
	}
	if fld, ok := parent.Schema().Field(f.field); ok {
		return parent.GetFieldWithoutDefault(fld)
	}
	if fld, ok := env.Schema().Field(f.field); ok {
		return env.GetFieldWithoutDefault(fld)
	}
	return nil
}

// valueInMap is valueIn for a schemaless envelope; ok is false if the
// field does not exist.
func (f fieldRef) valueInMap(env map[string]any) (any, bool) {
	if f.parent != "" {
		pv, present := env[f.parent]
		if present {
			if connectors.IsNull(pv) {
				return nil, true
			}
			if pm, isMap := stringMap(pv); isMap {
				if v, ok := pm[f.field]; ok {
					return v, true
				}
			}
		}
	}
	v, ok := env[f.field]
	return v, ok
}

// extractNewRecordState is io.debezium.transforms.ExtractNewRecordState.
type extractNewRecordState struct {
	legacy         bool   // the deprecated drop.tombstones/delete.handling.mode apply
	mode           string // delete.tombstone.handling.mode (or legacy delete.handling.mode)
	dropTombstones bool   // legacy only
	addFields      []fieldRef
	addHeaders     []fieldRef
	routeByField   string
	dropHeader     string
	dropFromKey    bool
	dropCompatible bool
	replaceNull    bool

	fieldSchemas   cache[enrsKey, *addFieldsPlan] // add.fields
	deletedSchemas cache[*connectors.Schema, *connectors.Schema]
	headerSchemas  cache[*connectors.Schema, []*connectors.Schema] // add.headers, by envelope schema
}

type enrsKey struct{ value, envelope *connectors.Schema }

// addFieldsPlan is the value schema with the add.fields fields appended,
// and for each appended field where its value is in the envelope.
type addFieldsPlan struct {
	schema *connectors.Schema
	refs   []refAccess
}

// refAccess locates a referenced value in envelopes of one schema: field
// of the struct in envelope field parent, or field of the envelope itself
// when hasParent is false. With hasParent and !inParent the value is the
// envelope's field, but only when the parent struct is not null
// (Debezium's FieldReference.getValue).
type refAccess struct {
	parent    connectors.Field
	hasParent bool
	inParent  bool
	field     connectors.Field
}

// access resolves f against the envelope schema env; ok is false when the
// field does not exist (it is then skipped, like Debezium).
func (f fieldRef) access(env *connectors.Schema) (refAccess, bool) {
	var a refAccess
	if f.parent != "" {
		if p, ok := env.Field(f.parent); ok && p.Schema().Type() == connectors.TypeStruct {
			a.parent, a.hasParent = p, true
			if fld, ok := p.Schema().Field(f.field); ok {
				a.field, a.inParent = fld, true
				return a, true
			}
		}
	}
	fld, ok := env.Field(f.field)
	a.field = fld
	return a, ok
}

// value reads the referenced value (without defaults) from env.
func (a refAccess) value(env *connectors.Struct) any {
	if a.hasParent {
		p, _ := env.GetFieldWithoutDefault(a.parent).(*connectors.Struct)
		if p == nil {
			return nil
		}
		if a.inParent {
			return p.GetFieldWithoutDefault(a.field)
		}
	}
	return env.GetFieldWithoutDefault(a.field)
}

func (t *extractNewRecordState) Config() *connectors.ConfigDef { return extractNewRecordStateConfigDef }

func (t *extractNewRecordState) Configure(props map[string]string) error {
	c, err := parseConfig(extractNewRecordStateConfigDef, props)
	if err != nil {
		return err
	}
	var errs configErrors
	if t.addFields, err = parseFieldRefs(c.String("add.fields.prefix"), c.List("add.fields")); err != nil {
		errs.add("add.fields", c.List("add.fields"), err.(*connectors.ConfigError).Message)
	}
	if t.addHeaders, err = parseFieldRefs(c.String("add.headers.prefix"), c.List("add.headers")); err != nil {
		errs.add("add.headers", c.List("add.headers"), err.(*connectors.ConfigError).Message)
	}
	t.routeByField = c.String("route.by.field")
	t.dropHeader = c.String("drop.fields.header.name")
	t.dropFromKey = c.Bool("drop.fields.from.key")
	t.dropCompatible = c.Bool("drop.fields.keep.schema.compatible")
	t.replaceNull = c.Bool("replace.null.with.default")
	switch mode := c.String("delete.tombstone.handling.mode"); {
	case mode != "":
		t.legacy, t.mode = false, strings.ToLower(mode)
	case c.IsSet("drop.tombstones") || c.IsSet("delete.handling.mode"):
		t.legacy = true
		t.mode = strings.ToLower(c.String("delete.handling.mode"))
		t.dropTombstones = c.Bool("drop.tombstones")
	default:
		t.legacy, t.mode = false, dtTombstone
	}
	return errs.err()
}

func (t *extractNewRecordState) Close() error {
	t.fieldSchemas.clear()
	t.deletedSchemas.clear()
	t.headerSchemas.clear()
	return nil
}

func (t *extractNewRecordState) rewrite() bool {
	return t.mode == dtRewrite || t.mode == dtRewriteWithTombstone
}

// isEnvelope reports whether r's value is a Debezium change event with a
// schema (a struct whose schema name ends in ".Envelope").
func isEnvelope(r *connectors.Record) bool {
	return r.ValueSchema != nil && strings.HasSuffix(r.ValueSchema.Name(), ".Envelope")
}

// schemalessEnvelope returns r's value as a schemaless change event: a
// map with a string "op" and a "before" or "after" entry, as Debezium
// events look through JsonConverter with schemas.enable=false.
func schemalessEnvelope(r *connectors.Record) (map[string]any, bool) {
	if r.ValueSchema != nil {
		return nil, false
	}
	m, ok := stringMap(r.Value)
	if !ok {
		return nil, false
	}
	if _, ok := m["op"].(string); !ok {
		return nil, false
	}
	_, hasAfter := m["after"]
	_, hasBefore := m["before"]
	return m, hasAfter || hasBefore
}

func (t *extractNewRecordState) Apply(r connectors.Record) (connectors.Record, bool, error) {
	if r.Tombstone() {
		for _, ref := range t.addHeaders {
			if ref.field == "op" {
				r = withHeader(r, connectors.Header{Key: ref.newField, Schema: connectors.StringSchema, Value: "d"})
			}
		}
		if t.legacy {
			return r, !t.dropTombstones, nil
		}
		return r, t.mode == dtRewriteWithTombstone, nil
	}
	if isEnvelope(&r) {
		env, ok := r.Value.(*connectors.Struct)
		if !ok {
			return r, true, nil
		}
		return t.applyStruct(r, env)
	}
	if env, ok := schemalessEnvelope(&r); ok {
		return t.applyMap(r, env)
	}
	return r, true, nil
}

func (t *extractNewRecordState) applyStruct(r connectors.Record, env *connectors.Struct) (connectors.Record, bool, error) {
	envSchema := env.Schema()
	if len(t.addHeaders) > 0 {
		schemas, _ := t.headerSchemas.getOrMake(envSchema, func() ([]*connectors.Schema, error) {
			out := make([]*connectors.Schema, len(t.addHeaders))
			for i, ref := range t.addHeaders {
				out[i], _ = ref.schemaIn(envSchema)
			}
			return out, nil
		})
		hs := make(connectors.Headers, len(r.Headers), len(r.Headers)+len(t.addHeaders))
		copy(hs, r.Headers)
		for i, ref := range t.addHeaders {
			if schemas[i] != nil {
				hs = append(hs, connectors.Header{Key: ref.newField, Schema: schemas[i], Value: ref.valueIn(env)})
			}
		}
		r.Headers = hs
	}
	afterField, hasAfter := envSchema.Field("after")
	beforeField, hasBefore := envSchema.Field("before")
	if !hasAfter {
		return r, false, dataErrorf("Unknown field: after")
	}
	after := env.GetField(afterField)
	var before any
	if hasBefore {
		before = env.GetField(beforeField)
	}
	if connectors.IsNull(after) {
		if connectors.IsNull(before) {
			return r, false, nil // truncate (or message) events are dropped
		}
		// A delete.
		var out connectors.Record
		switch {
		case t.mode == dtDrop:
			return r, false, nil
		case t.mode == dtTombstone || t.mode == dhNone:
			out = r
			out.ValueSchema, out.Value = afterField.Schema(), nil
		case t.mode == dtDeleteToTombstone:
			out = r
			out.ValueSchema, out.Value = nil, nil
		default: // rewrite, rewrite-with-tombstone
			out = r
			out.ValueSchema, out.Value = beforeField.Schema(), before
			if s, ok := before.(*connectors.Struct); ok {
				var err error
				if out, err = t.withDeleted(out, s, "true"); err != nil {
					return r, false, err
				}
			}
		}
		if t.routeByField != "" {
			if b, ok := before.(*connectors.Struct); ok {
				out.Topic = routeTopic(out.Topic, structString(b, t.routeByField))
			}
		}
		var err error
		if t.dropHeader != "" {
			if out, err = t.dropFields(out); err != nil {
				return r, false, err
			}
		}
		if !connectors.IsNull(out.Value) {
			if out, err = t.addStructFields(out, env); err != nil {
				return r, false, err
			}
		}
		return out, true, nil
	}
	out := r
	out.ValueSchema, out.Value = afterField.Schema(), after
	var err error
	if t.rewrite() {
		if s, ok := after.(*connectors.Struct); ok {
			if out, err = t.withDeleted(out, s, "false"); err != nil {
				return r, false, err
			}
		}
	}
	if t.routeByField != "" {
		s, err := requireStruct(out.Value, "Read record to set topic routing for CREATE / UPDATE")
		if err != nil {
			return r, false, err
		}
		out.Topic = routeTopic(out.Topic, structString(s, t.routeByField))
	}
	if out, err = t.addStructFields(out, env); err != nil {
		return r, false, err
	}
	if t.dropHeader != "" {
		if out, err = t.dropFields(out); err != nil {
			return r, false, err
		}
	}
	return out, true, nil
}

// structString reads a string field (nil when absent or not a string).
func structString(s *connectors.Struct, name string) string {
	f, ok := s.Schema().Field(name)
	if !ok {
		return ""
	}
	v, _ := s.GetField(f).(string)
	return v
}

// routeTopic returns topic unless the routing value is non-blank.
func routeTopic(topic, v string) string {
	if strings.TrimSpace(v) == "" {
		return topic
	}
	return v
}

// withDeleted adds the optional string field __deleted to the value, as
// Debezium's InsertField delegate does (copying fields with defaults
// applied when replace.null.with.default is set).
func (t *extractNewRecordState) withDeleted(r connectors.Record, s *connectors.Struct, deleted string) (connectors.Record, error) {
	in := s.Schema()
	updated, err := t.deletedSchemas.getOrMake(in, func() (*connectors.Schema, error) {
		b := copySchemaBasics(in, connectors.StructSchema())
		for _, f := range in.Fields() {
			b.Field(f.Name(), f.Schema())
		}
		b.Field("__deleted", connectors.OptionalStringSchema)
		return buildSchema(b)
	})
	if err != nil {
		return r, err
	}
	out := connectors.NewStruct(updated)
	fields := updated.Fields()
	for i, f := range in.Fields() {
		if err := out.PutField(fields[i], fieldValue(s, f, t.replaceNull)); err != nil {
			return r, err
		}
	}
	if err := out.PutField(fields[len(fields)-1], deleted); err != nil {
		return r, err
	}
	r.ValueSchema, r.Value = updated, out
	return r, nil
}

// addStructFields appends the add.fields values of the envelope env.
func (t *extractNewRecordState) addStructFields(r connectors.Record, env *connectors.Struct) (connectors.Record, error) {
	if len(t.addFields) == 0 {
		return r, nil
	}
	value, err := requireStruct(r.Value, "source field insertion")
	if err != nil {
		return r, err
	}
	in, envSchema := value.Schema(), env.Schema()
	plan, err := t.fieldSchemas.getOrMake(enrsKey{in, envSchema}, func() (*addFieldsPlan, error) {
		b := copySchemaBasics(in, connectors.StructSchema())
		for _, f := range in.Fields() {
			b.Field(f.Name(), f.Schema())
		}
		p := &addFieldsPlan{}
		for _, ref := range t.addFields {
			if s, ok := ref.schemaIn(envSchema); ok {
				a, _ := ref.access(envSchema)
				b.Field(ref.newField, s)
				p.refs = append(p.refs, a)
			}
		}
		var err error
		p.schema, err = buildSchema(b)
		return p, err
	})
	if err != nil {
		return r, err
	}
	out := connectors.NewStruct(plan.schema)
	fields := plan.schema.Fields()
	n := len(in.Fields())
	for i, f := range in.Fields() {
		if err := out.PutField(fields[i], value.GetFieldWithoutDefault(f)); err != nil {
			return r, err
		}
	}
	for i, a := range plan.refs {
		if err := out.PutField(fields[n+i], a.value(env)); err != nil {
			return r, err
		}
	}
	r.ValueSchema, r.Value = plan.schema, out
	return r, nil
}

// dropFields removes the fields named in the drop.fields.header.name
// header from the value (and the key with drop.fields.from.key).
func (t *extractNewRecordState) dropFields(r connectors.Record) (connectors.Record, error) {
	h, ok := r.Headers.Last(t.dropHeader)
	if !ok || connectors.IsNull(h.Value) {
		return r, nil
	}
	var names []string
	switch v := h.Value.(type) {
	case []string:
		names = v
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				names = append(names, s)
			}
		}
	}
	if len(names) == 0 {
		return r, nil
	}
	drop := func(sd side, schema *connectors.Schema, r connectors.Record) (connectors.Record, error) {
		if schema == nil || schema.Type() != connectors.TypeStruct {
			return r, nil
		}
		exclude := map[string]struct{}{}
		for _, f := range schema.Fields() {
			if containsString(names, f.Name()) && (!t.dropCompatible || f.Schema().Optional()) {
				exclude[f.Name()] = struct{}{}
			}
		}
		if len(exclude) == 0 {
			return r, nil
		}
		rf := &replaceField{side: sd, exclude: exclude, include: map[string]struct{}{}, replaceNull: true}
		out, _, err := rf.Apply(r)
		return out, err
	}
	var err error
	if t.dropFromKey && !connectors.IsNull(r.Key) {
		if r, err = drop(keySide, r.KeySchema, r); err != nil {
			return r, err
		}
	}
	return drop(valueSide, r.ValueSchema, r)
}

// applyMap is Apply for a schemaless change event (a Sluice extension:
// Debezium passes such records through). The same options apply, with
// maps for structs and untyped headers.
func (t *extractNewRecordState) applyMap(r connectors.Record, env map[string]any) (connectors.Record, bool, error) {
	if len(t.addHeaders) > 0 {
		hs := make(connectors.Headers, len(r.Headers), len(r.Headers)+len(t.addHeaders))
		copy(hs, r.Headers)
		for _, ref := range t.addHeaders {
			if v, ok := ref.valueInMap(env); ok {
				hs = append(hs, connectors.Header{Key: ref.newField, Value: v})
			}
		}
		r.Headers = hs
	}
	after, before := env["after"], env["before"]
	withDeleted := func(out connectors.Record, v any, deleted string) connectors.Record {
		if m, ok := stringMap(v); ok {
			c := cloneMap(m, 1)
			c["__deleted"] = deleted
			out.Value = c
		}
		return out
	}
	addFields := func(out connectors.Record) (connectors.Record, error) {
		if len(t.addFields) == 0 {
			return out, nil
		}
		m, err := requireMap(out.Value, "source field insertion")
		if err != nil {
			return out, err
		}
		c := cloneMap(m, len(t.addFields))
		for _, ref := range t.addFields {
			if v, ok := ref.valueInMap(env); ok {
				c[ref.newField] = v
			}
		}
		out.Value = c
		return out, nil
	}
	route := func(out connectors.Record, v any) connectors.Record {
		if t.routeByField == "" {
			return out
		}
		if m, ok := stringMap(v); ok {
			s, _ := m[t.routeByField].(string)
			out.Topic = routeTopic(out.Topic, s)
		}
		return out
	}
	out := r
	if connectors.IsNull(after) {
		if connectors.IsNull(before) {
			return r, false, nil
		}
		switch {
		case t.mode == dtDrop:
			return r, false, nil
		case t.mode == dtTombstone || t.mode == dhNone || t.mode == dtDeleteToTombstone:
			out.Value = nil
		default:
			out.Value = before
			out = withDeleted(out, before, "true")
		}
		out = route(out, before)
		if !connectors.IsNull(out.Value) {
			var err error
			if out, err = addFields(out); err != nil {
				return r, false, err
			}
		}
		return out, true, nil
	}
	out.Value = after
	if t.rewrite() {
		out = withDeleted(out, after, "false")
	}
	out = route(out, after)
	out, err := addFields(out)
	if err != nil {
		return r, false, err
	}
	return out, true, nil
}
