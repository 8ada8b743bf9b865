package transforms

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

const castDoc = "Cast fields or the entire key or value to a specific type, e.g. to force an integer field to a smaller width. Cast from integers, floats, boolean and string to any other type, and cast binary to string (base64 encoded)."

const replaceNullDoc = "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."

// replaceNullKey is the replace.null.with.default key most Kafka SMTs
// share (KIP-1040 era): default true.
func replaceNullKey() connectors.ConfigKey {
	return connectors.ConfigKey{Name: "replace.null.with.default", Type: connectors.ConfigBoolean, Default: true,
		Importance: connectors.ImportanceMedium, Doc: replaceNullDoc}
}

var castConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "spec", Type: connectors.ConfigList, Required: true,
		Validator: connectors.ValidatorFunc{Desc: "list of colon-delimited pairs, e.g. foo:bar,abc:xyz", Fn: func(name string, v any) error {
			list, _ := v.([]string)
			if len(list) == 0 {
				return &connectors.ConfigError{Name: name, Message: "Must specify at least one field to cast."}
			}
			_, _, err := parseCastSpec(list)
			if err != nil {
				return connectors.NewConfigError(name, v, err.Error())
			}
			return nil
		}},
		Importance: connectors.ImportanceHigh,
		Doc:        "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string."}).
	Define(replaceNullKey())

var castOutputTypes = []connectors.Type{connectors.TypeInt8, connectors.TypeInt16, connectors.TypeInt32, connectors.TypeInt64,
	connectors.TypeFloat32, connectors.TypeFloat64, connectors.TypeBoolean, connectors.TypeString}

const (
	castOutputList = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"
	castInputList  = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"
)

// javaSplit is Java's String.split(sep): trailing empty strings removed.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parseCastSpec parses Cast's spec: either one type (the whole value) or
// field:type pairs.
func parseCastSpec(list []string) (casts map[string]connectors.Type, whole connectors.Type, err error) {
	casts = make(map[string]connectors.Type, len(list))
	parseType := func(s string) (connectors.Type, error) {
		s = strings.TrimSpace(s)
		t, ok := connectors.ParseType(s)
		if !ok {
			return 0, errors.New("Invalid type found in casting spec: " + s)
		}
		for _, o := range castOutputTypes {
			if o == t {
				return t, nil
			}
		}
		return 0, errors.New("Cast transformation does not support casting to " + t.String() + "; supported types are " + castOutputList)
	}
	for _, mapping := range list {
		parts := javaSplit(mapping, ":")
		switch len(parts) {
		case 1:
			t, err := parseType(parts[0])
			if err != nil {
				return nil, 0, err
			}
			whole = t
		case 2:
			t, err := parseType(parts[1])
			if err != nil {
				return nil, 0, err
			}
			casts[strings.TrimSpace(parts[0])] = t
		default:
			return nil, 0, errors.New("Invalid cast mapping: " + mapping)
		}
	}
	if whole != 0 && len(list) > 1 {
		return nil, 0, errors.New("Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec")
	}
	return casts, whole, nil
}

// castTransform is Cast$Key / Cast$Value.
type castTransform struct {
	side        side
	casts       map[string]connectors.Type
	castOrder   []string
	whole       connectors.Type
	replaceNull bool
	schemas     cache[*connectors.Schema, *connectors.Schema]
}

func (t *castTransform) Config() *connectors.ConfigDef { return castConfigDef }

func (t *castTransform) Configure(props map[string]string) error {
	c, err := parseConfig(castConfigDef, props)
	if err != nil {
		return err
	}
	spec := c.List("spec")
	t.casts, t.whole, _ = parseCastSpec(spec)
	t.castOrder = t.castOrder[:0]
	for _, m := range spec {
		if parts := javaSplit(m, ":"); len(parts) == 2 {
			t.castOrder = append(t.castOrder, strings.TrimSpace(parts[0]))
		}
	}
	t.replaceNull = c.Bool("replace.null.with.default")
	return nil
}

func (t *castTransform) Close() error { t.schemas.clear(); return nil }

func (t *castTransform) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	if connectors.IsNull(value) {
		return r, true, nil
	}
	if schema == nil {
		if t.whole != 0 {
			v, err := castValue(nil, value, t.whole)
			if err != nil {
				return r, false, err
			}
			return t.side.set(r, nil, v), true, nil
		}
		m, err := requireMap(value, "cast types")
		if err != nil {
			return r, false, err
		}
		out := cloneMap(m, len(t.casts))
		for _, field := range t.castOrder {
			v, err := castValue(nil, m[field], t.casts[field])
			if err != nil {
				return r, false, err
			}
			out[field] = v
		}
		return t.side.set(r, nil, out), true, nil
	}
	updated, err := t.schemas.getOrMake(schema, func() (*connectors.Schema, error) { return t.buildSchema(schema) })
	if err != nil {
		return r, false, err
	}
	if t.whole != 0 {
		v, err := castValue(schema, value, t.whole)
		if err != nil {
			return r, false, err
		}
		return t.side.set(r, updated, v), true, nil
	}
	s, err := requireStruct(value, "cast types")
	if err != nil {
		return r, false, err
	}
	out := connectors.NewStruct(updated)
	fields := updated.Fields()
	for i, f := range s.Schema().Fields() {
		v := fieldValue(s, f, t.replaceNull)
		if target, ok := t.casts[f.Name()]; ok {
			if v, err = castValue(f.Schema(), v, target); err != nil {
				return r, false, err
			}
		}
		if err := out.PutField(fields[i], v); err != nil {
			return r, false, err
		}
	}
	return t.side.set(r, updated, out), true, nil
}

// buildSchema derives the output schema, as Kafka's getOrBuildSchema.
func (t *castTransform) buildSchema(in *connectors.Schema) (*connectors.Schema, error) {
	var b *connectors.SchemaBuilder
	if t.whole != 0 {
		b = connectors.NewSchema(t.whole)
		// Kafka copies the name, version, doc and parameters of the input
		// schema. For a logical type (Decimal, Date, Time, Timestamp) that
		// would label e.g. a STRING as a Decimal, which no converter can
		// write; Sluice keeps only the doc then.
		if isKafkaLogical(in.Name()) && t.whole != in.Type() {
			if d := in.Doc(); d != "" {
				b.Doc(d)
			}
		} else {
			copySchemaBasics(in, b)
		}
	} else {
		if in.Type() != connectors.TypeStruct {
			return nil, dataErrorf("Cannot list fields on non-struct type")
		}
		b = copySchemaBasics(in, connectors.StructSchema())
		for _, f := range in.Fields() {
			target, ok := t.casts[f.Name()]
			if !ok {
				b.Field(f.Name(), f.Schema())
				continue
			}
			fb := connectors.NewSchema(target)
			if f.Schema().Optional() {
				fb.Optional()
			}
			if def := f.Schema().Default(); def != nil {
				v, err := castValue(f.Schema(), def, target)
				if err != nil {
					return nil, err
				}
				fb.Default(v)
			}
			fs, err := buildSchema(fb)
			if err != nil {
				return nil, err
			}
			b.Field(f.Name(), fs)
		}
	}
	if in.Optional() {
		b.Optional()
	}
	if def := in.Default(); def != nil {
		if t.whole != 0 {
			v, err := castValue(in, def, t.whole)
			if err != nil {
				return nil, err
			}
			b.Default(v)
		}
	}
	return buildSchema(b)
}

// intBits returns the width of an integer type.
func intBits(t connectors.Type) int {
	switch t {
	case connectors.TypeInt8:
		return 8
	case connectors.TypeInt16:
		return 16
	case connectors.TypeInt32:
		return 32
	}
	return 64
}

func isKafkaLogical(name string) bool {
	switch name {
	case connectors.DecimalLogicalName, connectors.DateLogicalName, connectors.TimeLogicalName, connectors.TimestampLogicalName:
		return true
	}
	return false
}

// castValue casts one value to target, as Kafka's castValueToType.
func castValue(schema *connectors.Schema, v any, target connectors.Type) (any, error) {
	if connectors.IsNull(v) {
		return nil, nil
	}
	var in connectors.Type
	if schema == nil {
		t, ok := connectors.InferType(v)
		if !ok {
			return nil, dataErrorf("Cast transformation was passed a value of type %s which is not supported by Connect's data API", typeName(v))
		}
		in = t
	} else {
		in = schema.Type()
	}
	if in < connectors.TypeInt8 || in > connectors.TypeBytes {
		return nil, dataErrorf("Cast transformation does not support casting from %s; supported types are %s", in, castInputList)
	}
	if schema != nil && schema.Name() != "" && target != connectors.TypeString {
		// Logical types are cast from their internal representation.
		if tm, ok := v.(time.Time); ok {
			switch schema.Name() {
			case connectors.DateLogicalName:
				d, err := connectors.DateToDays(tm)
				if err != nil {
					return nil, err
				}
				v = d
			case connectors.TimeLogicalName:
				ms, err := connectors.TimeToMillis(tm)
				if err != nil {
					return nil, err
				}
				v = ms
			case connectors.TimestampLogicalName:
				v = connectors.TimestampToMillis(tm)
			}
		}
	}
	outOfRange := func() error {
		return dataErrorf("Value (%s) was out of range for requested data type", connectors.FormatValue(v))
	}
	unexpected := func() error {
		return dataErrorf("Unexpected type in Cast transformation: %s", typeName(v))
	}
	switch target {
	case connectors.TypeInt8, connectors.TypeInt16, connectors.TypeInt32, connectors.TypeInt64:
		var n int64
		switch x := v.(type) {
		case bool:
			if x {
				n = 1
			}
		case string:
			p, err := strconv.ParseInt(x, 10, intBits(target))
			if err != nil {
				return nil, outOfRange()
			}
			n = p
		default:
			if !isNumber(v) {
				return nil, unexpected()
			}
			if target == connectors.TypeInt64 {
				n = javaLongValue(v)
			} else {
				n = int64(javaIntValue(v))
			}
		}
		switch target {
		case connectors.TypeInt8:
			return int8(n), nil
		case connectors.TypeInt16:
			return int16(n), nil
		case connectors.TypeInt32:
			return int32(n), nil
		}
		return n, nil
	case connectors.TypeFloat32, connectors.TypeFloat64:
		var f float64
		switch x := v.(type) {
		case bool:
			if x {
				f = 1
			}
		case string:
			p, err := parseJavaFloat(x, target == connectors.TypeFloat32)
			if err != nil {
				return nil, outOfRange()
			}
			f = p
		default:
			if !isNumber(v) {
				return nil, unexpected()
			}
			if target == connectors.TypeFloat32 {
				return javaFloatValue(v), nil
			}
			return javaDoubleValue(v), nil
		}
		if target == connectors.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	case connectors.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			return strings.EqualFold(x, "true"), nil
		}
		if !isNumber(v) {
			return nil, unexpected()
		}
		return javaLongValue(v) != 0, nil
	case connectors.TypeString:
		switch x := v.(type) {
		case []byte:
			return base64.StdEncoding.EncodeToString(x), nil
		case string:
			return x, nil
		}
		return connectors.FormatValue(v), nil
	}
	return nil, dataErrorf("%s is not supported in the Cast transformation.", target)
}

// parseJavaFloat parses like Float.parseFloat / Double.parseDouble:
// surrounding whitespace and a trailing f/F/d/D are allowed, "NaN" and
// "Infinity" are spelled as in Java, and overflow gives an infinity.
func parseJavaFloat(s string, single bool) (float64, error) {
	s = strings.TrimSpace(s)
	if n := len(s); n > 1 && strings.IndexByte("fFdD", s[n-1]) >= 0 && !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		s = s[:n-1]
	}
	word := strings.TrimLeft(s, "+-")
	if strings.Contains(s, "_") || word != "NaN" && word != "Infinity" && (strings.EqualFold(word, "nan") || strings.EqualFold(word, "inf") || strings.EqualFold(word, "infinity")) {
		return 0, strconv.ErrSyntax
	}
	bits := 64
	if single {
		bits = 32
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, err
	}
	return f, nil
}
