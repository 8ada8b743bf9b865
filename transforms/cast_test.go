package transforms

import (
	"math"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

const dayMillis = 24 * 60 * 60 * 1000

func TestCastConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		spec, want string
	}{
		{"", "Must specify at least one field to cast."},
		{"foo:faketype", "Invalid type found in casting spec: faketype"},
		{"foo:array", "does not support casting to ARRAY"},
		{"array", "does not support casting to ARRAY"},
		{"foo:bytes", "does not support casting to BYTES"},
		{"foo:int8:extra", "Invalid cast mapping: foo:int8:extra"},
		{"foo:int8,int32", "may only specify a single cast in their spec"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			wantConfigError(t, configureErr(t, "Cast$Key", map[string]string{"spec": tc.spec}), "spec", tc.want)
		})
	}
	wantConfigError(t, configureErr(t, "Cast$Value", nil), "spec", `Missing required configuration "spec"`)
}

func TestCastNullPassesThrough(t *testing.T) {
	for _, class := range []string{"Cast$Key", "Cast$Value"} {
		tr := newTransform(t, class, map[string]string{"spec": "foo:int64"})
		for _, r := range []connectors.Record{
			sourceRecord("topic", connectors.StringSchema, nil, connectors.StringSchema, nil),
			sourceRecord("topic", nil, nil, nil, nil),
		} {
			out := apply(t, tr, r)
			if out.Key != nil || out.Value != nil || out.KeySchema != r.KeySchema || out.ValueSchema != r.ValueSchema {
				t.Errorf("%s changed a null record: %+v", class, out)
			}
		}
	}
}

func TestCastWholeValue(t *testing.T) {
	for _, tc := range []struct {
		spec string
		in   any
		want any
		typ  connectors.Type
	}{
		{"int8", int32(42), int8(42), connectors.TypeInt8},
		{"int16", int32(42), int16(42), connectors.TypeInt16},
		{"int32", int32(42), int32(42), connectors.TypeInt32},
		{"int64", int32(42), int64(42), connectors.TypeInt64},
		{"float32", int32(42), float32(42), connectors.TypeFloat32},
		{"float64", int32(42), float64(42), connectors.TypeFloat64},
		{"boolean", int32(42), true, connectors.TypeBoolean},
		{"boolean", int32(0), false, connectors.TypeBoolean},
		{"string", int32(42), "42", connectors.TypeString},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			tr := newTransform(t, "Cast$Value", map[string]string{"spec": tc.spec})
			out := apply(t, tr, sourceRecord("topic", nil, nil, connectors.Int32Schema, tc.in))
			if out.ValueSchema.Type() != tc.typ {
				t.Errorf("schema type %v, want %v", out.ValueSchema.Type(), tc.typ)
			}
			eq(t, "value", out.Value, tc.want)
			// Schemaless: the same casts, the schema stays nil.
			out = apply(t, tr, sourceRecord("topic", nil, nil, nil, tc.in))
			if out.ValueSchema != nil {
				t.Errorf("schemaless result has schema %v", out.ValueSchema)
			}
			eq(t, "schemaless value", out.Value, tc.want)
		})
	}
	tr := newTransform(t, "Cast$Key", map[string]string{"spec": "int8"})
	out := apply(t, tr, sourceRecord("topic", connectors.Int32Schema, int32(42), connectors.StringSchema, "bogus"))
	if out.KeySchema.Type() != connectors.TypeInt8 || out.Key != int8(42) || out.Value != "bogus" {
		t.Errorf("key cast: %v %v %v", out.KeySchema, out.Key, out.Value)
	}
}

func TestCastWholeLogicalToString(t *testing.T) {
	tr := newTransform(t, "Cast$Value", map[string]string{"spec": "string"})
	out := apply(t, tr, sourceRecord("topic", nil, nil, connectors.DecimalSchema(0), connectors.DecimalFromInt64(42, 0)))
	if out.ValueSchema.Type() != connectors.TypeString || out.ValueSchema.Name() != "" {
		t.Errorf("schema %v", out.ValueSchema)
	}
	eq(t, "decimal", out.Value, "42")
	ts := ms(dayMillis + 1)
	out = apply(t, tr, sourceRecord("topic", nil, nil, connectors.TimestampSchema, ts))
	eq(t, "timestamp", out.Value, "1970-01-02T00:00:00.001Z")
}

func TestCastWholeDefaultValue(t *testing.T) {
	tr := newTransform(t, "Cast$Value", map[string]string{"spec": "int32"})
	s := mustBuild(t, connectors.NewSchema(connectors.TypeFloat32).Default(float32(-42.125)))
	out := apply(t, tr, sourceRecord("topic", nil, nil, s, float32(42.125)))
	eq(t, "value", out.Value, int32(42))
	eq(t, "default", out.ValueSchema.Default(), int32(-42))
}

func TestCastWholeUnsupported(t *testing.T) {
	tr := newTransform(t, "Cast$Value", map[string]string{"spec": "int8"})
	applyErr(t, tr, sourceRecord("topic", nil, nil, nil, []any{"foo"}), "does not support casting from ARRAY")
}

func TestCastLogicalToPrimitive(t *testing.T) {
	tr := newTransform(t, "Cast$Value", map[string]string{"spec": "date_to_int32:int32,timestamp_to_int64:int64,time_to_int64:int64,decimal_to_int32:int32,timestamp_to_float64:float64,null_timestamp_to_int32:int32"})
	schema := structOf(t,
		f("date_to_int32", connectors.DateSchema),
		f("timestamp_to_int64", connectors.TimestampSchema),
		f("time_to_int64", connectors.TimeSchema),
		f("decimal_to_int32", connectors.DecimalSchema(0)),
		f("timestamp_to_float64", connectors.TimestampSchema),
		f("null_timestamp_to_int32", connectors.OptionalTimestampSchema))
	v := newStruct(t, schema,
		"date_to_int32", ms(dayMillis),
		"timestamp_to_int64", ms(0),
		"time_to_int64", ms(1),
		"decimal_to_int32", connectors.DecimalFromInt64(math.MaxInt32+1, 0),
		"timestamp_to_float64", ms(math.MaxInt64))
	out := apply(t, tr, sourceRecord("topic", nil, nil, schema, v))
	eq(t, "date", get(t, out.Value, "date_to_int32"), int32(1))
	eq(t, "timestamp", get(t, out.Value, "timestamp_to_int64"), int64(0))
	eq(t, "time", get(t, out.Value, "time_to_int64"), int64(1))
	eq(t, "decimal", get(t, out.Value, "decimal_to_int32"), int32(math.MinInt32))
	eq(t, "float", get(t, out.Value, "timestamp_to_float64"), 9.223372036854776e18)
	eq(t, "null", get(t, out.Value, "null_timestamp_to_int32"), nil)
	for name, typ := range map[string]connectors.Type{"date_to_int32": connectors.TypeInt32, "timestamp_to_int64": connectors.TypeInt64,
		"time_to_int64": connectors.TypeInt64, "decimal_to_int32": connectors.TypeInt32, "timestamp_to_float64": connectors.TypeFloat64,
		"null_timestamp_to_int32": connectors.TypeInt32} {
		if fl, _ := out.ValueSchema.Field(name); fl.Schema().Type() != typ {
			t.Errorf("%s: type %v, want %v", name, fl.Schema().Type(), typ)
		}
	}
}

func TestCastLogicalToString(t *testing.T) {
	tr := newTransform(t, "Cast$Value", map[string]string{"spec": "date:string,decimal:string,time:string,timestamp:string"})
	schema := structOf(t, f("date", connectors.DateSchema), f("decimal", connectors.DecimalSchema(0)),
		f("time", connectors.TimeSchema), f("timestamp", connectors.TimestampSchema))
	v := newStruct(t, schema, "date", ms(dayMillis), "decimal", connectors.DecimalFromInt64(1982, 0),
		"time", ms(60*60*1000), "timestamp", ms(1700000000123))
	out := apply(t, tr, sourceRecord("topic", nil, nil, schema, v))
	eq(t, "date", get(t, out.Value, "date"), "1970-01-02")
	eq(t, "decimal", get(t, out.Value, "decimal"), "1982")
	eq(t, "time", get(t, out.Value, "time"), "01:00:00.000Z")
	eq(t, "timestamp", get(t, out.Value, "timestamp"), "2023-11-14T22:13:20.123Z")
}

func TestCastFieldsWithSchema(t *testing.T) {
	tr := newTransform(t, "Cast$Value", map[string]string{"spec": "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,bigdecimal:string,date:string,optional:int32,bytes:string"})
	schema := structOf(t,
		f("int8", connectors.Int8Schema),
		f("int16", connectors.OptionalInt16Schema),
		f("int32", mustBuild(t, connectors.NewSchema(connectors.TypeInt32).Default(int32(2)))),
		f("int64", connectors.Int64Schema),
		f("float32", connectors.Float32Schema),
		f("float64", mustBuild(t, connectors.NewSchema(connectors.TypeFloat64).Default(-1.125))),
		f("boolean", connectors.BooleanSchema),
		f("string", connectors.StringSchema),
		f("bigdecimal", connectors.DecimalSchema(0)),
		f("date", connectors.DateSchema),
		f("optional", connectors.OptionalFloat32Schema),
		f("timestamp", connectors.TimestampSchema),
		f("bytes", connectors.BytesSchema))
	v := newStruct(t, schema, "int8", int8(8), "int16", int16(16), "int32", int32(32), "int64", int64(64),
		"float32", float32(32), "float64", -64.0, "boolean", true, "string", "42",
		"bigdecimal", connectors.DecimalFromInt64(42, 0), "date", ms(dayMillis), "timestamp", ms(0),
		"bytes", []byte{0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10})
	out := apply(t, tr, sourceRecord("topic", nil, nil, schema, v))
	want := map[string]any{"int8": int16(8), "int16": int32(16), "int32": int64(32), "int64": true, "float32": float64(32),
		"float64": true, "boolean": int8(1), "string": int32(42), "bigdecimal": "42", "date": "1970-01-02",
		"timestamp": ms(0), "bytes": "/ty6mHZUMhA=", "optional": nil}
	for name, w := range want {
		eq(t, name, get(t, out.Value, name), w)
	}
	fs, _ := out.ValueSchema.Field("int16")
	if !fs.Schema().Optional() {
		t.Error("int16 lost optional")
	}
	fs, _ = out.ValueSchema.Field("int32")
	eq(t, "int32 default", fs.Schema().Default(), int64(2))
	fs, _ = out.ValueSchema.Field("float64")
	eq(t, "float64 default", fs.Schema().Default(), true)
	fs, _ = out.ValueSchema.Field("timestamp")
	if fs.Schema() != connectors.TimestampSchema {
		t.Error("uncast field schema changed")
	}
	// The derived schema is cached per input schema.
	out2 := apply(t, tr, sourceRecord("topic", nil, nil, schema, v))
	if out2.ValueSchema != out.ValueSchema {
		t.Error("schema not cached")
	}
	// The input struct is untouched.
	eq(t, "input int8", get(t, v, "int8"), int8(8))
}

func TestCastFieldsSchemaless(t *testing.T) {
	tr := newTransform(t, "Cast$Value", map[string]string{"spec": "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32"})
	in := map[string]any{"int8": int8(8), "int16": int16(16), "int32": int32(32), "int64": int64(64),
		"float32": float32(32), "float64": -64.0, "boolean": true, "string": "42"}
	out := apply(t, tr, sourceRecord("topic", nil, nil, nil, in))
	eq(t, "value", out.Value, map[string]any{"int8": int16(8), "int16": int32(16), "int32": int64(32), "int64": true,
		"float32": float64(32), "float64": true, "boolean": int8(1), "string": int32(42)})
	if in["int8"] != int8(8) {
		t.Error("input map changed")
	}
}

func TestCastFieldWithDefaultValue(t *testing.T) {
	for _, tc := range []struct {
		replace string
		want    any
	}{{"false", nil}, {"true", "10"}} {
		tr := newTransform(t, "Cast$Value", map[string]string{"spec": "magic:string", "replace.null.with.default": tc.replace})
		schema := structOf(t, f("magic", mustBuild(t, connectors.NewSchema(connectors.TypeInt32).Optional().Default(int32(10)))))
		out := apply(t, tr, sourceRecord("topic", connectors.StringSchema, "key", schema, newStruct(t, schema, "magic", nil)))
		fs, _ := out.ValueSchema.Field("magic")
		if fs.Schema().Type() != connectors.TypeString {
			t.Errorf("type %v", fs.Schema().Type())
		}
		eq(t, "replace="+tc.replace, getRaw(t, out.Value, "magic"), tc.want)
	}
}

func TestCastValueConversions(t *testing.T) {
	for _, tc := range []struct {
		in     any
		target connectors.Type
		want   any
		err    string
	}{
		{int32(300), connectors.TypeInt8, int8(44), ""},
		{int64(1) << 40, connectors.TypeInt32, int32(0), ""},
		{1e20, connectors.TypeInt32, int32(math.MaxInt32), ""},
		{1e20, connectors.TypeInt16, int16(-1), ""},
		{math.NaN(), connectors.TypeInt64, int64(0), ""},
		{-2.9, connectors.TypeInt64, int64(-2), ""},
		{"127", connectors.TypeInt8, int8(127), ""},
		{"128", connectors.TypeInt8, nil, "was out of range"},
		{"1.5", connectors.TypeFloat32, float32(1.5), ""},
		{"1.5f", connectors.TypeFloat64, 1.5, ""},
		{"x", connectors.TypeFloat64, nil, "was out of range"},
		{"TRUE", connectors.TypeBoolean, true, ""},
		{"yes", connectors.TypeBoolean, false, ""},
		{float32(0.1), connectors.TypeString, "0.1", ""},
		{1e7, connectors.TypeString, "1.0E7", ""},
		{true, connectors.TypeString, "true", ""},
		{[]byte{1}, connectors.TypeInt32, nil, "Unexpected type in Cast transformation"},
	} {
		got, err := castValue(nil, tc.in, tc.target)
		if tc.err != "" {
			if err == nil || !contains(err.Error(), tc.err) {
				t.Errorf("cast %v to %v: err %v, want %q", tc.in, tc.target, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("cast %v to %v: %v", tc.in, tc.target, err)
			continue
		}
		eq(t, "cast", got, tc.want)
	}
}
