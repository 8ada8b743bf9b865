package transforms

import (
	"time"

	"github.com/sluicedata/sluice/connectors"
)

const timestampConverterDoc = "Convert timestamps between different formats such as Unix epoch, strings, and Connect Date/Timestamp types. Applies to individual fields or to the entire value."

// The target.type values.
const (
	tsString    = "string"
	tsUnix      = "unix"
	tsDate      = "Date"
	tsTime      = "Time"
	tsTimestamp = "Timestamp"
)

var timestampConverterConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "field", Type: connectors.ConfigString, Default: "",
		Importance: connectors.ImportanceHigh, Doc: "The field containing the timestamp, or empty if the entire value is a timestamp"}).
	Define(connectors.ConfigKey{Name: "target.type", Type: connectors.ConfigString, Required: true,
		Validator:  connectors.OneOf(tsString, tsUnix, tsDate, tsTime, tsTimestamp),
		Importance: connectors.ImportanceHigh, Doc: "The desired timestamp representation: string, unix, Date, Time, or Timestamp"}).
	Define(connectors.ConfigKey{Name: "format", Type: connectors.ConfigString, Default: "",
		Importance: connectors.ImportanceMedium, Doc: "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string."}).
	Define(connectors.ConfigKey{Name: "unix.precision", Type: connectors.ConfigString, Default: "milliseconds",
		Validator:  connectors.OneOf("nanoseconds", "microseconds", "milliseconds", "seconds"),
		Importance: connectors.ImportanceLow, Doc: "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components."}).
	Define(replaceNullKey())

// timestampConverter is TimestampConverter$Key / TimestampConverter$Value.
type timestampConverter struct {
	side        side
	field       string
	target      string
	format      *javaDateFormat
	precision   string
	replaceNull bool
	now         func() time.Time
	schemas     cache[*connectors.Schema, *connectors.Schema]
}

func (t *timestampConverter) Config() *connectors.ConfigDef { return timestampConverterConfigDef }

func (t *timestampConverter) Configure(props map[string]string) error {
	c, err := parseConfig(timestampConverterConfigDef, props)
	if err != nil {
		return err
	}
	t.field, t.target = c.String("field"), c.String("target.type")
	t.precision = c.String("unix.precision")
	t.replaceNull = c.Bool("replace.null.with.default")
	t.now = time.Now
	pattern := c.String("format")
	if t.target == tsString && pattern == "" {
		return connectors.ConfigErrors{{Name: "format", Message: "TimestampConverter requires format option to be specified when using string timestamps"}}
	}
	t.format = nil
	if pattern != "" {
		if t.format, err = compileJavaDateFormat(pattern); err != nil {
			return connectors.ConfigErrors{connectors.NewConfigError("format", pattern,
				"TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: "+err.Error())}
		}
	}
	return nil
}

func (t *timestampConverter) Close() error { t.schemas.clear(); return nil }

// typeSchema is the schema of the target type.
func (t *timestampConverter) typeSchema(optional bool) *connectors.Schema {
	switch t.target {
	case tsString:
		if optional {
			return connectors.OptionalStringSchema
		}
		return connectors.StringSchema
	case tsUnix:
		if optional {
			return connectors.OptionalInt64Schema
		}
		return connectors.Int64Schema
	case tsDate:
		if optional {
			return connectors.OptionalDateSchema
		}
		return connectors.DateSchema
	case tsTime:
		if optional {
			return connectors.OptionalTimeSchema
		}
		return connectors.TimeSchema
	}
	if optional {
		return connectors.OptionalTimestampSchema
	}
	return connectors.TimestampSchema
}

// typeFromSchema is Kafka's timestampTypeFromSchema.
func typeFromSchema(s *connectors.Schema) (string, error) {
	switch s.Name() {
	case connectors.TimestampLogicalName:
		return tsTimestamp, nil
	case connectors.DateLogicalName:
		return tsDate, nil
	case connectors.TimeLogicalName:
		return tsTime, nil
	}
	switch s.Type() {
	case connectors.TypeString:
		return tsString, nil
	case connectors.TypeInt64:
		return tsUnix, nil
	}
	return "", dataErrorf("Schema %s does not correspond to a known timestamp type format", s)
}

// inferType is Kafka's inferTimestampType for schemaless values.
func inferTimestampType(v any) (string, error) {
	switch v.(type) {
	case time.Time:
		return tsTimestamp, nil
	case int64:
		return tsUnix, nil
	case string:
		return tsString, nil
	}
	return "", dataErrorf("TimestampConverter does not support %s objects as timestamps", typeName(v))
}

// convert converts v from type from ("" to infer it) to the target type.
func (t *timestampConverter) convert(v any, from string) (any, error) {
	if connectors.IsNull(v) {
		return nil, nil
	}
	if from == "" {
		var err error
		if from, err = inferTimestampType(v); err != nil {
			return nil, err
		}
	}
	raw, err := t.toRaw(v, from)
	if err != nil {
		return nil, err
	}
	return t.toTarget(raw), nil
}

func (t *timestampConverter) toRaw(v any, from string) (time.Time, error) {
	switch from {
	case tsString:
		s, ok := v.(string)
		if !ok {
			return time.Time{}, dataErrorf("Expected string timestamp to be a String, but found %s", typeName(v))
		}
		if t.format == nil {
			return time.Time{}, dataErrorf("TimestampConverter requires format option to be specified when using string timestamps")
		}
		ts, err := t.format.parse(s, t.now())
		if err != nil {
			return time.Time{}, dataErrorf("Could not parse timestamp: value (%s) does not match pattern (%s)", s, t.format.pattern)
		}
		return ts, nil
	case tsUnix:
		n, ok := v.(int64)
		if !ok {
			return time.Time{}, dataErrorf("Expected Unix timestamp to be a Long, but found %s", typeName(v))
		}
		switch t.precision {
		case "seconds":
			n = saturatingMul(n, 1000)
		case "microseconds":
			n /= 1000
		case "nanoseconds":
			n /= 1000000
		}
		return connectors.TimestampFromMillis(n), nil
	}
	ts, ok := v.(time.Time)
	if !ok {
		return time.Time{}, dataErrorf("Expected %s to be a java.util.Date, but found %s", from, typeName(v))
	}
	// A java.util.Date holds milliseconds.
	return connectors.TimestampFromMillis(connectors.TimestampToMillis(ts)), nil
}

func (t *timestampConverter) toTarget(raw time.Time) any {
	switch t.target {
	case tsString:
		return t.format.format(raw)
	case tsUnix:
		ms := connectors.TimestampToMillis(raw)
		switch t.precision {
		case "seconds":
			return ms / 1000
		case "microseconds":
			return saturatingMul(ms, 1000)
		case "nanoseconds":
			return saturatingMul(ms, 1000000)
		}
		return ms
	case tsDate:
		u := raw.UTC()
		return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	case tsTime:
		u := raw.UTC()
		return time.Date(1970, 1, 1, u.Hour(), u.Minute(), u.Second(), u.Nanosecond(), time.UTC)
	}
	return raw
}

// saturatingMul is TimeUnit's conversion to a finer unit: it saturates at
// the int64 range instead of overflowing.
func saturatingMul(n, by int64) int64 {
	const maxInt64, minInt64 = 1<<63 - 1, -1 << 63
	switch {
	case n > maxInt64/by:
		return maxInt64
	case n < minInt64/by:
		return minInt64
	}
	return n * by
}

func (t *timestampConverter) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	if schema == nil {
		if connectors.IsNull(value) || t.field == "" {
			v, err := t.convert(value, "")
			if err != nil {
				return r, false, err
			}
			return t.side.set(r, nil, v), true, nil
		}
		m, err := requireMap(value, "converting timestamp formats")
		if err != nil {
			return r, false, err
		}
		v, err := t.convert(m[t.field], "")
		if err != nil {
			return r, false, err
		}
		out := cloneMap(m, 1)
		out[t.field] = v
		return t.side.set(r, nil, out), true, nil
	}
	if t.field == "" {
		from, err := typeFromSchema(schema)
		if err != nil {
			return r, false, err
		}
		v, err := t.convert(value, from)
		if err != nil {
			return r, false, err
		}
		return t.side.set(r, t.typeSchema(schema.Optional()), v), true, nil
	}
	s, err := requireStructOrNull(value, "converting timestamp formats")
	if err != nil {
		return r, false, err
	}
	updated, err := t.schemas.getOrMake(schema, func() (*connectors.Schema, error) {
		b := copySchemaBasics(schema, connectors.StructSchema())
		for _, f := range schema.Fields() {
			if f.Name() == t.field {
				b.Field(f.Name(), t.typeSchema(f.Schema().Optional()))
			} else {
				b.Field(f.Name(), f.Schema())
			}
		}
		if schema.Optional() {
			b.Optional()
		}
		// Kafka also converts a struct default of the schema; Sluice's
		// schemas cannot carry one (a struct default would have to embed
		// its own schema), so there is nothing to convert.
		return buildSchema(b)
	})
	if err != nil {
		return r, false, err
	}
	if s == nil {
		return t.side.set(r, updated, nil), true, nil
	}
	out, err := t.convertStruct(s, updated)
	if err != nil {
		return r, false, err
	}
	return t.side.set(r, updated, out), true, nil
}

// convertStruct converts the configured field of s into a struct of
// schema out.
func (t *timestampConverter) convertStruct(s *connectors.Struct, out *connectors.Schema) (*connectors.Struct, error) {
	if s == nil {
		return nil, nil
	}
	res := connectors.NewStruct(out)
	fields := out.Fields()
	for i, f := range s.Schema().Fields() {
		v := fieldValue(s, f, t.replaceNull)
		if f.Name() == t.field {
			from, err := typeFromSchema(f.Schema())
			if err != nil {
				return nil, err
			}
			if v, err = t.convert(v, from); err != nil {
				return nil, err
			}
		}
		if err := res.PutField(fields[i], v); err != nil {
			return nil, err
		}
	}
	return res, nil
}
