package convert

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// JSONConverter properties (Kafka's JsonConverterConfig).
const (
	// KeySchemasEnable: BOOLEAN, default true. Wrap each message in a
	// {"schema":…,"payload":…} envelope.
	KeySchemasEnable = "schemas.enable"
	// KeySchemasCacheSize: INT, default 1000. Schemas kept in each
	// direction's cache (besides the last few top-level ones, which the
	// fast paths keep at hand). 0 turns caching, and with it the fast
	// paths for records with schemas, off.
	KeySchemasCacheSize = "schemas.cache.size"
	// KeyDecimalFormat: STRING, BASE64 (default) or NUMERIC, any case. How
	// Decimal values are written: base64 of the unscaled bytes, or a JSON
	// number.
	KeyDecimalFormat = "decimal.format"
	// KeyReplaceNullWithDefault: BOOLEAN, default true (Kafka 3.6+). Write
	// and read a null that has a schema default as the default.
	KeyReplaceNullWithDefault = "replace.null.with.default"
)

// JSONConverter is Kafka's org.apache.kafka.connect.json.JsonConverter,
// byte for byte: for the same Connect data it writes the same bytes as
// Kafka (members in Kafka's order, Jackson's escaping, Java's number
// notation, map entries in java.util.HashMap order), and it reads what
// Kafka writes.
//
// With schemas.enable=true (the default) every message is
// {"schema":<schema>,"payload":<value>}; the schema JSON has "type"
// (int8 int16 int32 int64 float double boolean string bytes array map
// struct), then "items" / "keys","values" / "fields", then "optional",
// and "name", "version", "doc", "parameters", "default" when set; each
// struct field is its schema with "field" appended. Without schemas the
// payload alone is written, and read back schemaless: integers as int64,
// other numbers as float64, objects as map[string]any, arrays as []any.
//
// Where Kafka is lenient about payloads that contradict their schema (a
// string where an int32 is declared becomes 0, 300 in an int8 wraps), this
// converter returns a *connectors.DataError naming the field instead.
//
// Safe for concurrent use after Configure.
type JSONConverter struct {
	schemasEnable  bool
	decimalNumeric bool
	replaceNull    bool
	cacheSize      int
	// fromCache maps each schema written (nested ones too) to its JSON;
	// toCache maps each schema JSON read (nested ones too) to its schema.
	fromCache *lru[*connectors.Schema, *fromEntry]
	toCache   *lru[string, *toEntry]
	// lastFrom is the top-level entry written last, found without the
	// cache's lock while the schema stays the same; recentTo are the
	// top-level entries read lately (recentNext the slot to replace),
	// matched against the input without the lock (see toConnectFast).
	lastFrom   atomic.Pointer[fromEntry]
	recentTo   [4]atomic.Pointer[toEntry]
	recentNext atomic.Uint32
	// schemalessEnc writes values without a schema.
	schemalessEnc *encoder
	// keys interns the member names of objects read into maps;
	// objectSizes are the sizes of the last such objects, by depth.
	keys        [256]atomic.Pointer[string]
	objectSizes [4]atomic.Int32
}

// NewJSONConverter returns a JSONConverter with Kafka's defaults; call
// Configure to change them.
func NewJSONConverter() *JSONConverter {
	c := &JSONConverter{schemasEnable: true, replaceNull: true}
	c.setCacheSize(1000)
	return c
}

// setCacheSize (re)creates the schema caches.
func (c *JSONConverter) setCacheSize(size int) {
	c.cacheSize = size
	c.fromCache = newLRU[*connectors.Schema, *fromEntry](size)
	c.toCache = newLRU[string, *toEntry](size)
	c.lastFrom.Store(nil)
	for i := range c.recentTo {
		c.recentTo[i].Store(nil)
	}
	c.schemalessEnc = newEncoder(nil, []byte("null"))
}

var jsonConfigDef = connectors.NewConfigDef().
	Define(converterTypeKey()).
	Define(connectors.ConfigKey{Name: KeySchemasEnable, Type: connectors.ConfigBoolean, Default: true,
		Importance: connectors.ImportanceHigh, Doc: "Include schemas within each of the serialized values and keys.",
		Group: "Schemas", Order: 0, Width: connectors.WidthMedium, DisplayName: "Enable Schemas"}).
	Define(connectors.ConfigKey{Name: KeySchemasCacheSize, Type: connectors.ConfigInt, Default: 1000,
		Importance: connectors.ImportanceHigh, Doc: "Maximum number of schemas cached by this converter instance.",
		Group: "Schemas", Order: 1, Width: connectors.WidthMedium, DisplayName: "Schema Cache Size"}).
	Define(connectors.ConfigKey{Name: KeyDecimalFormat, Type: connectors.ConfigString, Default: "BASE64",
		Validator:  connectors.OneOfIgnoreCase("BASE64", "NUMERIC"),
		Importance: connectors.ImportanceLow, Doc: "How decimals are serialized: 'BASE64' (default) or 'NUMERIC', case insensitive.",
		Group: "Serialization", Order: 0, Width: connectors.WidthMedium, DisplayName: "Decimal Format"}).
	Define(connectors.ConfigKey{Name: KeyReplaceNullWithDefault, Type: connectors.ConfigBoolean, Default: true,
		Importance: connectors.ImportanceLow, Doc: "Whether a null field that has a default value is written and read as the default (true) or as null (false).",
		Group: "Serialization", Order: 1, Width: connectors.WidthMedium, DisplayName: "Replace null with default"})

// Config returns the converter's ConfigDef.
func (c *JSONConverter) Config() *connectors.ConfigDef { return jsonConfigDef }

// Configure applies schemas.enable, schemas.cache.size, decimal.format
// and replace.null.with.default. Other keys are ignored.
func (c *JSONConverter) Configure(config map[string]string, isKey bool) error {
	kind := KindValue
	if isKey {
		kind = KindKey
	}
	cfg, err := jsonConfigDef.Parse(withKind(config, kind))
	if err != nil {
		return fmt.Errorf("configure JsonConverter: %w", err)
	}
	c.schemasEnable = cfg.Bool(KeySchemasEnable)
	c.decimalNumeric = strings.EqualFold(cfg.String(KeyDecimalFormat), "NUMERIC")
	c.replaceNull = cfg.Bool(KeyReplaceNullWithDefault)
	c.setCacheSize(cfg.Int(KeySchemasCacheSize))
	return nil
}

// FromConnect serialises value. A nil schema with a null value gives nil
// (a tombstone), whether or not schemas are enabled.
func (c *JSONConverter) FromConnect(_ string, schema *connectors.Schema, value any) ([]byte, error) {
	if schema == nil && connectors.IsNull(value) {
		return nil, nil
	}
	if b, ok := c.fromConnectFast(schema, value); ok {
		return b, nil
	}
	return c.fromConnectGeneral(schema, value)
}

// AppendFromConnect is FromConnect into dst (Appender). The fast path
// writes straight into dst; the general writer's result is copied.
func (c *JSONConverter) AppendFromConnect(dst []byte, _ string, schema *connectors.Schema, value any) ([]byte, error) {
	if schema == nil && connectors.IsNull(value) {
		return nil, nil
	}
	if enc := c.encoderFor(schema); enc != nil {
		b := dst
		if c.schemasEnable {
			b = append(b, enc.head...)
		}
		if b, ok := c.encode(b, enc.root, value); ok {
			if c.schemasEnable {
				b = append(b, '}')
			}
			return b, nil
		}
	}
	b, err := c.fromConnectGeneral(schema, value)
	if err != nil || b == nil {
		return nil, err
	}
	return append(dst, b...), nil
}

var _ Appender = (*JSONConverter)(nil)

// fromConnectGeneral is FromConnect by the general writer (appendSchema,
// appendValue): the reference the fast writer must match, and the one
// that explains errors.
func (c *JSONConverter) fromConnectGeneral(schema *connectors.Schema, value any) ([]byte, error) {
	var b []byte
	var err error
	if c.schemasEnable {
		b = append(b, `{"schema":`...)
		if b, err = c.appendSchema(b, schema); err != nil {
			return nil, err
		}
		b = append(b, `,"payload":`...)
		if b, err = c.appendValue(b, schema, value, nil); err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	}
	return c.appendValue(b, schema, value, nil)
}

// FromConnectSchema returns the JSON form of a schema as JsonConverter
// writes it inside the envelope ("null" for nil).
func (c *JSONConverter) FromConnectSchema(schema *connectors.Schema) ([]byte, error) {
	return c.appendSchema(nil, schema)
}

var jsonTypeNames = map[connectors.Type]string{
	connectors.TypeInt8: "int8", connectors.TypeInt16: "int16", connectors.TypeInt32: "int32",
	connectors.TypeInt64: "int64", connectors.TypeFloat32: "float", connectors.TypeFloat64: "double",
	connectors.TypeBoolean: "boolean", connectors.TypeString: "string", connectors.TypeBytes: "bytes",
	connectors.TypeArray: "array", connectors.TypeMap: "map", connectors.TypeStruct: "struct",
}

func (c *JSONConverter) appendSchema(b []byte, s *connectors.Schema) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	if cached, ok := c.fromCache.get(s); ok {
		return append(b, cached.json...), nil
	}
	start := len(b)
	name, ok := jsonTypeNames[s.Type()]
	if !ok {
		return nil, &connectors.DataError{Msg: "Couldn't translate unsupported schema type " + s.String() + "."}
	}
	b = append(b, `{"type":"`...)
	b = append(b, name...)
	b = append(b, '"')
	var err error
	switch s.Type() {
	case connectors.TypeArray:
		b = append(b, `,"items":`...)
		if b, err = c.appendSchema(b, s.ValueSchema()); err != nil {
			return nil, err
		}
	case connectors.TypeMap:
		b = append(b, `,"keys":`...)
		if b, err = c.appendSchema(b, s.KeySchema()); err != nil {
			return nil, err
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchema(b, s.ValueSchema()); err != nil {
			return nil, err
		}
	case connectors.TypeStruct:
		b = append(b, `,"fields":[`...)
		for i, f := range s.Fields() {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendSchema(b, f.Schema()); err != nil {
				return nil, err
			}
			b = b[:len(b)-1] // reopen the field's schema object
			b = append(b, `,"field":`...)
			b = appendJSONString(b, f.Name())
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional())
	if s.Name() != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, s.Name())
	}
	if v, ok := s.Version(); ok {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(v), 10)
	}
	if s.Doc() != "" {
		b = append(b, `,"doc":`...)
		b = appendJSONString(b, s.Doc())
	}
	if ps := s.Parameters(); len(ps) > 0 {
		b = append(b, `,"parameters":{`...)
		for i, p := range ps {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p.Key)
			b = append(b, ':')
			b = appendJSONString(b, p.Value)
		}
		b = append(b, '}')
	}
	if s.Default() != nil {
		b = append(b, `,"default":`...)
		if b, err = c.appendValue(b, s, s.Default(), &path{name: "default"}); err != nil {
			return nil, err
		}
	}
	b = append(b, '}')
	c.fromCache.put(s, &fromEntry{schema: s, json: append([]byte(nil), b[start:]...)})
	return b, nil
}

// path locates a value inside the converted data, for error messages. It
// is built on the stack and rendered only on error.
type path struct {
	parent *path
	name   string // field name, or "" for an index
	index  int
}

func (p *path) String() string {
	if p == nil {
		return ""
	}
	prefix := p.parent.String()
	if p.name == "" {
		return prefix + "[" + strconv.Itoa(p.index) + "]"
	}
	if prefix == "" {
		return p.name
	}
	return prefix + "." + p.name
}

func dataErr(p *path, format string, a ...any) error {
	return &connectors.DataError{Path: p.String(), Msg: fmt.Sprintf(format, a...)}
}

func (c *JSONConverter) appendValue(b []byte, s *connectors.Schema, v any, p *path) ([]byte, error) {
	if connectors.IsNull(v) {
		switch {
		case s == nil:
			return append(b, "null"...), nil
		case s.Default() != nil && c.replaceNull:
			return c.appendValue(b, s, s.Default(), p)
		case s.Optional():
			return append(b, "null"...), nil
		}
		return nil, dataErr(p, "Conversion error: null value for field that is required and has no default value")
	}
	if s != nil {
		switch s.Name() {
		case connectors.DecimalLogicalName:
			d, ok := v.(connectors.Decimal)
			if !ok {
				return nil, dataErr(p, "Invalid type for Decimal, expected Decimal but was %T", v)
			}
			if c.decimalNumeric {
				return append(b, d.String()...), nil
			}
			scale, err := connectors.DecimalScale(s)
			if err != nil {
				return nil, dataErr(p, "%s", msgOf(err))
			}
			if d.Scale() != scale {
				return nil, dataErr(p, "Decimal value has mismatching scale for given Decimal schema. Schema has scale %d, value has scale %d.", scale, d.Scale())
			}
			return appendJSONBytes(b, d.UnscaledBytes()), nil
		case connectors.DateLogicalName, connectors.TimeLogicalName, connectors.TimestampLogicalName:
			t, ok := v.(time.Time)
			if !ok {
				return nil, dataErr(p, "Invalid type for %s, expected time.Time but was %T", logicalShort(s.Name()), v)
			}
			var n int64
			switch s.Name() {
			case connectors.DateLogicalName:
				d, err := connectors.DateToDays(t)
				if err != nil {
					return nil, dataErr(p, "%s", msgOf(err))
				}
				n = int64(d)
			case connectors.TimeLogicalName:
				ms, err := connectors.TimeToMillis(t)
				if err != nil {
					return nil, dataErr(p, "%s", msgOf(err))
				}
				n = int64(ms)
			default:
				n = connectors.TimestampToMillis(t)
			}
			return appendJSONInt(b, n), nil
		}
	}
	var t connectors.Type
	if s != nil {
		t = s.Type()
	} else {
		switch x := v.(type) {
		case int:
			return appendJSONInt(b, int64(x)), nil
		case uint8, uint16, uint32, uint, uint64:
			return fmt.Appendf(b, "%d", x), nil
		}
		var ok bool
		if t, ok = connectors.InferType(v); !ok {
			return nil, dataErr(p, "Go type %T does not have corresponding schema type.", v)
		}
	}
	mismatch := func() error {
		typ := "unknown schema"
		if s != nil {
			typ = s.Type().String()
		}
		return dataErr(p, "Invalid type for %s: %T", typ, v)
	}
	switch t {
	case connectors.TypeInt8:
		x, ok := v.(int8)
		if !ok {
			return nil, mismatch()
		}
		return appendJSONInt(b, int64(x)), nil
	case connectors.TypeInt16:
		x, ok := v.(int16)
		if !ok {
			return nil, mismatch()
		}
		return appendJSONInt(b, int64(x)), nil
	case connectors.TypeInt32:
		x, ok := v.(int32)
		if !ok {
			return nil, mismatch()
		}
		return appendJSONInt(b, int64(x)), nil
	case connectors.TypeInt64:
		x, ok := v.(int64)
		if !ok {
			return nil, mismatch()
		}
		return appendJSONInt(b, x), nil
	case connectors.TypeFloat32:
		x, ok := v.(float32)
		if !ok {
			return nil, mismatch()
		}
		return appendJSONFloat(b, float64(x), 32), nil
	case connectors.TypeFloat64:
		x, ok := v.(float64)
		if !ok {
			return nil, mismatch()
		}
		return appendJSONFloat(b, x, 64), nil
	case connectors.TypeBoolean:
		x, ok := v.(bool)
		if !ok {
			return nil, mismatch()
		}
		return strconv.AppendBool(b, x), nil
	case connectors.TypeString:
		x, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		return appendJSONString(b, x), nil
	case connectors.TypeBytes:
		x, ok := v.([]byte)
		if !ok {
			return nil, mismatch()
		}
		return appendJSONBytes(b, x), nil
	case connectors.TypeArray:
		x, ok := v.([]any)
		if !ok {
			return nil, mismatch()
		}
		var elem *connectors.Schema
		if s != nil {
			elem = s.ValueSchema()
		}
		b = append(b, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendValue(b, elem, e, &path{parent: p, index: i}); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case connectors.TypeMap:
		return c.appendMap(b, s, v, p)
	case connectors.TypeStruct:
		st, ok := v.(*connectors.Struct)
		if !ok {
			return nil, mismatch()
		}
		if !st.Schema().Equal(s) {
			return nil, dataErr(p, "Mismatching schema.")
		}
		b = append(b, '{')
		var err error
		for i, f := range s.Fields() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name())
			b = append(b, ':')
			if b, err = c.appendValue(b, f.Schema(), st.GetFieldWithoutDefault(f), &path{parent: p, name: f.Name()}); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, mismatch()
}

// msgOf returns a DataError's own message (without its path), or the
// error text.
func msgOf(err error) string {
	var de *connectors.DataError
	if errors.As(err, &de) {
		return de.Msg
	}
	return err.Error()
}

func logicalShort(name string) string { return name[strings.LastIndexByte(name, '.')+1:] }

func (c *JSONConverter) appendMap(b []byte, s *connectors.Schema, v any, p *path) ([]byte, error) {
	var ks, vs *connectors.Schema
	if s != nil {
		ks, vs = s.KeySchema(), s.ValueSchema()
	}
	var keys []any
	get := func(k any) any { return nil }
	switch m := v.(type) {
	case map[string]any:
		keys = make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		get = func(k any) any { return m[k.(string)] }
	case map[any]any:
		keys = make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		get = func(k any) any { return m[k] }
	default:
		typ := "unknown schema"
		if s != nil {
			typ = s.Type().String()
		}
		return nil, dataErr(p, "Invalid type for %s: %T", typ, v)
	}
	connectors.JavaHashOrder(keys)
	objectMode := true
	if s != nil {
		objectMode = ks != nil && ks.Type() == connectors.TypeString
	} else {
		for _, k := range keys {
			if _, ok := k.(string); !ok {
				objectMode = false
				break
			}
		}
	}
	var err error
	if objectMode {
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			ksv, ok := k.(string)
			if !ok {
				return nil, dataErr(p, "Invalid type for STRING: %T", k)
			}
			b = appendJSONString(b, ksv)
			b = append(b, ':')
			if b, err = c.appendValue(b, vs, get(k), &path{parent: p, name: ksv}); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		if b, err = c.appendValue(b, ks, k, &path{parent: &path{parent: p, index: i}, name: "key"}); err != nil {
			return nil, err
		}
		b = append(b, ',')
		if b, err = c.appendValue(b, vs, get(k), &path{parent: &path{parent: p, index: i}, name: "value"}); err != nil {
			return nil, err
		}
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

const envelopeMsg = `JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields.` +
	` If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`

// ToConnect deserialises data. nil gives (nil, nil, nil); so does empty
// input when schemas are disabled.
func (c *JSONConverter) ToConnect(_ string, data []byte) (*connectors.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	if s, v, ok := c.toConnectFast(data); ok {
		return s, v, nil
	}
	return c.toConnectGeneral(data)
}

// toConnectGeneral is ToConnect by the general reader (parseJSON,
// toConnectSchema, toConnectValue): the reference the fast reader must
// match, and the one that explains errors.
func (c *JSONConverter) toConnectGeneral(data []byte) (*connectors.Schema, any, error) {
	n, err := parseJSON(data)
	if err != nil {
		return nil, nil, &connectors.DataError{Msg: "Converting byte[] to Kafka Connect data failed due to serialization error", Err: err}
	}
	var schema *connectors.Schema
	payload := n
	if c.schemasEnable {
		if n == nil || n.kind != jsonObject || len(n.mems) != 2 || n.get("schema") == nil || n.get("payload") == nil {
			return nil, nil, &connectors.DataError{Msg: envelopeMsg}
		}
		if schema, err = c.toConnectSchema(data, n.get("schema"), &path{name: "schema"}); err != nil {
			return nil, nil, err
		}
		payload = n.get("payload")
	}
	v, err := c.toConnectValue(schema, payload, nil)
	if err != nil {
		return nil, nil, err
	}
	return schema, v, nil
}

// ToConnectSchema parses a schema in JsonConverter's JSON form.
func (c *JSONConverter) ToConnectSchema(data []byte) (*connectors.Schema, error) {
	n, err := parseJSON(data)
	if err != nil {
		return nil, &connectors.DataError{Msg: "invalid schema JSON", Err: err}
	}
	if n == nil {
		return nil, nil
	}
	return c.toConnectSchema(data, n, nil)
}

var jsonTypes = map[string]connectors.Type{
	"int8": connectors.TypeInt8, "int16": connectors.TypeInt16, "int32": connectors.TypeInt32,
	"int64": connectors.TypeInt64, "float": connectors.TypeFloat32, "double": connectors.TypeFloat64,
	"boolean": connectors.TypeBoolean, "string": connectors.TypeString, "bytes": connectors.TypeBytes,
	"array": connectors.TypeArray, "map": connectors.TypeMap, "struct": connectors.TypeStruct,
}

func (c *JSONConverter) toConnectSchema(data []byte, n *jsonNode, p *path) (*connectors.Schema, error) {
	if n.isNull() {
		return nil, nil
	}
	key := string(data[n.start:n.end])
	if e, ok := c.toCache.get(key); ok {
		return e.schema, nil
	}
	typeNode := n.get("type")
	if typeNode == nil || typeNode.kind != jsonString {
		return nil, dataErr(p, "Schema must contain 'type' field")
	}
	t, ok := jsonTypes[typeNode.s]
	if !ok {
		return nil, dataErr(p, "Unknown schema type: %s", typeNode.s)
	}
	var b *connectors.SchemaBuilder
	switch t {
	case connectors.TypeArray:
		items := n.get("items")
		if items.isNull() {
			return nil, dataErr(p, "Array schema did not specify the element type")
		}
		elem, err := c.toConnectSchema(data, items, &path{parent: p, name: "items"})
		if err != nil {
			return nil, err
		}
		b = connectors.ArraySchema(elem)
	case connectors.TypeMap:
		kn, vn := n.get("keys"), n.get("values")
		if kn == nil {
			return nil, dataErr(p, "Map schema did not specify the key type")
		}
		if vn == nil {
			return nil, dataErr(p, "Map schema did not specify the value type")
		}
		ks, err := c.toConnectSchema(data, kn, &path{parent: p, name: "keys"})
		if err != nil {
			return nil, err
		}
		vs, err := c.toConnectSchema(data, vn, &path{parent: p, name: "values"})
		if err != nil {
			return nil, err
		}
		b = connectors.MapSchema(ks, vs)
	case connectors.TypeStruct:
		b = connectors.StructSchema()
		fields := n.get("fields")
		if fields == nil || fields.kind != jsonArray {
			return nil, dataErr(p, `Struct schema's "fields" argument is not an array.`)
		}
		for i, f := range fields.elems {
			fp := &path{parent: &path{parent: p, name: "fields"}, index: i}
			fn := f.get("field")
			if fn == nil || fn.kind != jsonString {
				return nil, dataErr(fp, "Struct schema's field name not specified properly")
			}
			fs, err := c.toConnectSchema(data, f, fp)
			if err != nil {
				return nil, err
			}
			b.Field(fn.s, fs)
		}
	default:
		b = connectors.NewSchema(t)
	}
	if o := n.get("optional"); o != nil && o.kind == jsonBool && o.b {
		b.Optional()
	}
	if nm := n.get("name"); nm != nil && nm.kind == jsonString {
		b.Name(nm.s)
	}
	if v := n.get("version"); v != nil && v.integral() {
		if iv, err := strconv.ParseInt(v.s, 10, 32); err == nil {
			b.Version(int(iv))
		}
	}
	if d := n.get("doc"); d != nil && d.kind == jsonString {
		b.Doc(d.s)
	}
	if ps := n.get("parameters"); ps != nil && ps.kind == jsonObject {
		for _, m := range ps.mems {
			if m.val.kind != jsonString {
				return nil, dataErr(p, "Schema parameters must have string values.")
			}
			b.Parameter(m.key, m.val.s)
		}
	}
	if dn := n.get("default"); dn != nil {
		bare, err := b.Build()
		if err != nil {
			return nil, &connectors.DataError{Path: p.String(), Msg: "invalid schema", Err: err}
		}
		dv, err := c.toConnectValue(bare, dn, &path{parent: p, name: "default"})
		if err != nil {
			return nil, err
		}
		b.Default(dv)
	}
	s, err := b.Build()
	if err != nil {
		return nil, &connectors.DataError{Path: p.String(), Msg: "invalid schema", Err: err}
	}
	c.toCache.put(key, &toEntry{raw: key, schema: s})
	return s, nil
}

func (c *JSONConverter) toConnectValue(s *connectors.Schema, n *jsonNode, p *path) (any, error) {
	if s == nil {
		return schemalessValue(n, p)
	}
	if n.isNull() {
		switch {
		case s.Default() != nil && c.replaceNull:
			return s.Default(), nil
		case s.Optional():
			return nil, nil
		}
		return nil, dataErr(p, "Invalid null value for required %s field", s.Type())
	}
	switch s.Name() {
	case connectors.DecimalLogicalName:
		switch n.kind {
		case jsonNumber:
			d, err := connectors.ParseDecimal(n.s)
			if err != nil {
				return nil, dataErr(p, "Invalid Decimal number %s", n.s)
			}
			return d, nil
		case jsonString:
			scale, err := connectors.DecimalScale(s)
			if err != nil {
				return nil, dataErr(p, "%s", msgOf(err))
			}
			raw, err := decodeBase64(n.s)
			if err != nil {
				return nil, dataErr(p, "Invalid bytes for Decimal field")
			}
			d, err := connectors.DecimalFromUnscaledBytes(raw, scale)
			if err != nil {
				return nil, dataErr(p, "Invalid bytes for Decimal field")
			}
			return d, nil
		}
		return nil, dataErr(p, "Invalid type for Decimal, underlying representation should be numeric or bytes but was %s", n.kind)
	case connectors.DateLogicalName, connectors.TimeLogicalName:
		short := logicalShort(s.Name())
		if !n.integral() {
			return nil, dataErr(p, "Invalid type for %s, underlying representation should be integer but was %s", short, n.kind)
		}
		v, err := strconv.ParseInt(n.s, 10, 32)
		if err != nil {
			return nil, dataErr(p, "Invalid type for %s, underlying representation should be integer but was %s", short, n.kind)
		}
		if s.Name() == connectors.DateLogicalName {
			return connectors.DateFromDays(int32(v)), nil
		}
		t, err := connectors.TimeFromMillis(int32(v))
		if err != nil {
			return nil, dataErr(p, "%s", msgOf(err))
		}
		return t, nil
	case connectors.TimestampLogicalName:
		if !n.integral() {
			return nil, dataErr(p, "Invalid type for Timestamp, underlying representation should be integral but was %s", n.kind)
		}
		v, err := strconv.ParseInt(n.s, 10, 64)
		if err != nil {
			return nil, dataErr(p, "Timestamp %s is out of range", n.s)
		}
		return connectors.TimestampFromMillis(v), nil
	}
	expect := func(kind string) error {
		return dataErr(p, "expected %s for schema type %s, found %s", kind, s.Type(), n.kind)
	}
	switch s.Type() {
	case connectors.TypeInt8, connectors.TypeInt16, connectors.TypeInt32, connectors.TypeInt64:
		if n.kind != jsonNumber {
			return nil, expect("a number")
		}
		return intValue(s.Type(), n, p)
	case connectors.TypeFloat32, connectors.TypeFloat64:
		if n.kind != jsonNumber {
			return nil, expect("a number")
		}
		bits := 64
		if s.Type() == connectors.TypeFloat32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(n.s, bits)
		if err != nil && !math.IsInf(f, 0) {
			return nil, dataErr(p, "invalid number %s", n.s)
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	case connectors.TypeBoolean:
		if n.kind != jsonBool {
			return nil, expect("a boolean")
		}
		return n.b, nil
	case connectors.TypeString:
		if n.kind != jsonString {
			return nil, expect("a string")
		}
		return n.s, nil
	case connectors.TypeBytes:
		if n.kind != jsonString {
			return nil, expect("a base64 string")
		}
		raw, err := decodeBase64(n.s)
		if err != nil {
			return nil, dataErr(p, "Invalid bytes field")
		}
		return raw, nil
	case connectors.TypeArray:
		if n.kind != jsonArray {
			return nil, expect("an array")
		}
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			v, err := c.toConnectValue(s.ValueSchema(), e, &path{parent: p, index: i})
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case connectors.TypeMap:
		return c.toConnectMap(s, n, p)
	case connectors.TypeStruct:
		if n.kind != jsonObject {
			return nil, dataErr(p, "Structs should be encoded as JSON objects, but found %s", n.kind)
		}
		st := connectors.NewStruct(s)
		for _, f := range s.Fields() {
			fp := &path{parent: p, name: f.Name()}
			v, err := c.toConnectValue(f.Schema(), n.get(f.Name()), fp)
			if err != nil {
				return nil, err
			}
			if err := st.PutField(f, v); err != nil {
				return nil, &connectors.DataError{Path: fp.String(), Msg: msgOf(err)}
			}
		}
		return st, nil
	}
	return nil, dataErr(p, "Unknown schema type: %s", s.Type())
}

func (c *JSONConverter) toConnectMap(s *connectors.Schema, n *jsonNode, p *path) (any, error) {
	ks, vs := s.KeySchema(), s.ValueSchema()
	if ks == nil || ks.Type() == connectors.TypeString {
		if n.kind != jsonObject {
			return nil, dataErr(p, "Maps with string fields should be encoded as JSON objects, but found %s", n.kind)
		}
		out := make(map[string]any, len(n.mems))
		for _, m := range n.mems {
			v, err := c.toConnectValue(vs, m.val, &path{parent: p, name: m.key})
			if err != nil {
				return nil, err
			}
			out[m.key] = v
		}
		return out, nil
	}
	if n.kind != jsonArray {
		return nil, dataErr(p, "Maps with non-string fields should be encoded as JSON array of tuples, but found %s", n.kind)
	}
	out := make(map[any]any, len(n.elems))
	for i, e := range n.elems {
		ep := &path{parent: p, index: i}
		if e.kind != jsonArray {
			return nil, dataErr(ep, "Found invalid map entry instead of array tuple: %s", e.kind)
		}
		if len(e.elems) != 2 {
			return nil, dataErr(ep, "Found invalid map entry, expected length 2 but found :%d", len(e.elems))
		}
		k, err := c.toConnectValue(ks, e.elems[0], &path{parent: ep, name: "key"})
		if err != nil {
			return nil, err
		}
		v, err := c.toConnectValue(vs, e.elems[1], &path{parent: ep, name: "value"})
		if err != nil {
			return nil, err
		}
		if _, ok := k.([]byte); ok {
			return nil, dataErr(ep, "BYTES map keys are not supported")
		}
		out[k] = v
	}
	return out, nil
}

var intRanges = map[connectors.Type]int{
	connectors.TypeInt8: 8, connectors.TypeInt16: 16, connectors.TypeInt32: 32, connectors.TypeInt64: 64,
}

// intValue converts a number node to the Go integer of t. Integral values
// written with a fraction or exponent ("12.0", "1e2") are accepted;
// fractions and out-of-range values are errors (Kafka truncates them).
func intValue(t connectors.Type, n *jsonNode, p *path) (any, error) {
	bits := intRanges[t]
	var v int64
	if n.integral() {
		x, err := strconv.ParseInt(n.s, 10, bits)
		if err != nil {
			return nil, dataErr(p, "value %s is out of range for %s", n.s, t)
		}
		v = x
	} else {
		d, err := connectors.ParseDecimal(n.s)
		if err != nil {
			return nil, dataErr(p, "invalid number %s", n.s)
		}
		// Decide huge exponents ("1e999999999") without computing
		// 10^exponent, which would take minutes: a non-zero value of
		// ndigits digits is at least 10^(ndigits-1-scale) in magnitude,
		// and below 1 when scale >= ndigits.
		if d.Sign() == 0 {
			return intOf(t, 0), nil
		}
		ndigits := int64(len(d.Unscaled().Text(10)))
		if d.Sign() < 0 {
			ndigits-- // the minus sign
		}
		switch scale := int64(d.Scale()); {
		case scale >= ndigits:
			return nil, dataErr(p, "value %s is not an integer, as %s requires", n.s, t)
		case ndigits-1-scale >= 19:
			return nil, dataErr(p, "value %s is out of range for %s", n.s, t)
		}
		r := d.Rat()
		if !r.IsInt() {
			return nil, dataErr(p, "value %s is not an integer, as %s requires", n.s, t)
		}
		num := r.Num()
		lim := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		if num.Cmp(lim) >= 0 || num.Cmp(new(big.Int).Neg(lim)) < 0 {
			return nil, dataErr(p, "value %s is out of range for %s", n.s, t)
		}
		v = num.Int64()
	}
	return intOf(t, v), nil
}

// intOf returns v as the Go integer of t.
func intOf(t connectors.Type, v int64) any {
	switch t {
	case connectors.TypeInt8:
		return int8(v)
	case connectors.TypeInt16:
		return int16(v)
	case connectors.TypeInt32:
		return int32(v)
	}
	return v
}

// schemalessValue converts JSON without a schema as Kafka does: integral
// numbers become int64, other numbers float64, objects map[string]any,
// arrays []any.
func schemalessValue(n *jsonNode, p *path) (any, error) {
	if n.isNull() {
		return nil, nil
	}
	switch n.kind {
	case jsonBool:
		return n.b, nil
	case jsonString:
		return n.s, nil
	case jsonNumber:
		if n.integral() {
			v, err := strconv.ParseInt(n.s, 10, 64)
			if err != nil {
				return nil, dataErr(p, "integer %s does not fit in an int64", n.s)
			}
			return v, nil
		}
		f, err := strconv.ParseFloat(n.s, 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, dataErr(p, "invalid number %s", n.s)
		}
		return f, nil
	case jsonArray:
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			v, err := schemalessValue(e, &path{parent: p, index: i})
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case jsonObject:
		out := make(map[string]any, len(n.mems))
		for _, m := range n.mems {
			v, err := schemalessValue(m.val, &path{parent: p, name: m.key})
			if err != nil {
				return nil, err
			}
			out[m.key] = v
		}
		return out, nil
	}
	return nil, dataErr(p, "unexpected JSON %s", n.kind)
}
