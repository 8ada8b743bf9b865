package convert

import (
	"errors"
	"flag"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	c "github.com/sluicedata/sluice/connectors"
)

var update = flag.Bool("update", false, "rewrite golden files (check every diff by hand: they pin Kafka's bytes)")

func jsonConv(t testing.TB, props ...string) *JSONConverter {
	t.Helper()
	cfg := map[string]string{}
	for i := 0; i+1 < len(props); i += 2 {
		cfg[props[i]] = props[i+1]
	}
	conv := NewJSONConverter()
	if err := conv.Configure(cfg, false); err != nil {
		t.Fatal(err)
	}
	return conv
}

func mustStruct(t testing.TB, s *c.Schema, vals ...any) *c.Struct {
	t.Helper()
	st, err := c.StructOf(s, vals...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

type jsonCase struct {
	golden string
	props  []string // converter config
	schema *c.Schema
	value  any
	// noRoundTrip skips reading the golden back (e.g. NaN, which Kafka
	// writes as a string and cannot read as a double).
	noRoundTrip bool
	// readBack is the value ToConnect returns, when it differs from value.
	readBack any
}

func jsonCases(t testing.TB) []jsonCase {
	structSchema := c.StructSchema().Field("field1", c.BooleanSchema).Field("field2", c.StringSchema).
		Field("field3", c.StringSchema).Field("field4", c.BooleanSchema).MustBuild()
	optDefault := c.NewSchema(c.TypeString).Optional().Default("default").MustBuild()
	fieldDefault := c.StructSchema().Field("field1", optDefault).MustBuild()
	item := c.StructSchema().Name("Item").Field("k", c.StringSchema).
		Field("m", c.MapSchema(c.StringSchema, c.OptionalFloat64Schema).Optional().MustBuild()).MustBuild()
	order := c.StructSchema().Name("Order").Doc(`an "order"`).Field("items", c.ArraySchema(item).MustBuild()).MustBuild()
	dbzRow := c.StructSchema().Name("dbserver1.inventory.customers.Value").Optional().
		Field("id", c.Int32Schema).Field("first_name", c.StringSchema).Field("last_name", c.StringSchema).
		Field("email", c.StringSchema).MustBuild()
	dbzSource := c.StructSchema().Name("io.debezium.connector.mysql.Source").
		Field("version", c.StringSchema).Field("connector", c.StringSchema).Field("name", c.StringSchema).
		Field("ts_ms", c.Int64Schema).
		Field("snapshot", c.NewSchema(c.TypeString).Optional().Name(c.DebeziumEnum).Version(1).
			Parameter("allowed", "true,last,false,incremental").Default("false").MustBuild()).
		Field("db", c.StringSchema).MustBuild()
	dbzEnvelope := c.StructSchema().Name("dbserver1.inventory.customers.Envelope").Version(1).
		Field("before", dbzRow).Field("after", dbzRow).Field("source", dbzSource).
		Field("op", c.StringSchema).Field("ts_ms", c.OptionalInt64Schema).MustBuild()
	dbzKey := c.StructSchema().Name("dbserver1.inventory.customers.Key").Field("id", c.Int32Schema).MustBuild()
	dec156 := c.DecimalFromInt64(156, 2)

	return []jsonCase{
		{golden: "boolean", schema: c.BooleanSchema, value: true},
		{golden: "int8", schema: c.Int8Schema, value: int8(12)},
		{golden: "int16", schema: c.Int16Schema, value: int16(-12)},
		{golden: "int32", schema: c.Int32Schema, value: int32(12)},
		{golden: "int64", schema: c.Int64Schema, value: int64(4398046511104)},
		{golden: "float", schema: c.Float32Schema, value: float32(12.34)},
		{golden: "double", schema: c.Float64Schema, value: 1e10},
		{golden: "double_small", schema: c.Float64Schema, value: 1e-4},
		{golden: "double_nan", schema: c.Float64Schema, value: math.NaN(), noRoundTrip: true},
		{golden: "bytes", schema: c.BytesSchema, value: []byte("test-string")},
		{golden: "string_escapes", schema: c.StringSchema, value: "q\"b\\s/\n\t\r\b\f\x01\x1f\x7f<&>é€😀"},
		{golden: "metadata", schema: c.NewSchema(c.TypeBoolean).Name("bool").Version(3).Doc("the documentation").
			Parameter("foo", "bar").MustBuild(), value: true},
		{golden: "default", schema: c.NewSchema(c.TypeBoolean).Default(true).MustBuild(), value: true},
		{golden: "array", schema: c.ArraySchema(c.Int32Schema).MustBuild(), value: []any{int32(1), int32(2), int32(3)}},
		{golden: "map_string_keys", schema: c.MapSchema(c.StringSchema, c.Int32Schema).MustBuild(),
			value: map[string]any{"key2": int32(15), "key1": int32(12)}},
		{golden: "map_int_keys", schema: c.MapSchema(c.Int32Schema, c.Int32Schema).MustBuild(),
			value: map[any]any{int32(2): int32(15), int32(1): int32(12)}},
		{golden: "struct", schema: structSchema, value: mustStruct(t, structSchema, true, "string2", "string3", false)},
		{golden: "decimal", schema: c.DecimalSchema(2), value: dec156},
		{golden: "decimal_numeric", props: []string{"decimal.format", "numeric"}, schema: c.DecimalSchema(4), value: c.DecimalFromInt64(15600, 4)},
		{golden: "decimal_numeric_small", props: []string{"decimal.format", "NUMERIC"}, schema: c.DecimalSchema(10), value: c.DecimalFromInt64(1, 10)},
		{golden: "decimal_null_to_default", schema: c.DecimalBuilder(2).Optional().Default(dec156).MustBuild(), value: nil, readBack: dec156},
		{golden: "date", schema: c.DateSchema, value: c.DateFromDays(10000)},
		{golden: "time", schema: c.TimeSchema, value: c.TimestampFromMillis(14400000)},
		{golden: "timestamp", schema: c.TimestampSchema, value: c.TimestampFromMillis(4000000000)},
		{golden: "null_to_default", schema: optDefault, value: nil, readBack: "default"},
		{golden: "null_to_null", props: []string{"replace.null.with.default", "false"}, schema: optDefault, value: nil},
		{golden: "field_null_to_default", schema: fieldDefault, value: c.NewStruct(fieldDefault), readBack: mustStruct(t, fieldDefault, "default")},
		{golden: "field_null_to_null", props: []string{"replace.null.with.default", "false"}, schema: fieldDefault, value: c.NewStruct(fieldDefault)},
		{golden: "optional_struct_null", schema: c.StructSchema().Name("opt").Optional().Field("id", c.Int32Schema).MustBuild(), value: nil},
		{golden: "nested", schema: order, value: mustStruct(t, order, []any{
			mustStruct(t, item, "a", map[string]any{"b": nil, "a": 0.5}),
			mustStruct(t, item, "b", nil),
		})},
		{golden: "null_schema_boolean", value: true},
		{golden: "null_schema_array", value: []any{int64(1), "string", true}},
		{golden: "schemaless_map", props: []string{"schemas.enable", "false"},
			value: map[string]any{"key3": true, "key1": int64(12), "key2": "string"}},
		{golden: "schemaless_mixed_keys", props: []string{"schemas.enable", "false"},
			value: map[any]any{"x": int64(12), int64(52): "string", false: true}, noRoundTrip: true},
		{golden: "schemaless_null_value", props: []string{"schemas.enable", "false"}, schema: c.OptionalStringSchema, value: nil, noRoundTrip: true},
		{golden: "debezium_key", schema: dbzKey, value: mustStruct(t, dbzKey, int32(1004))},
		{golden: "debezium_value", schema: dbzEnvelope, value: mustStruct(t, dbzEnvelope,
			nil,
			mustStruct(t, dbzRow, int32(1004), "Anne", "Kretchmar", "annek@noanswer.org"),
			mustStruct(t, dbzSource, "2.5.0.Final", "mysql", "dbserver1", int64(1486500577000), "false", "inventory"),
			"c", int64(1486500577691))},
	}
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "json", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJSONFromConnectGolden checks that FromConnect writes exactly the
// bytes Kafka's JsonConverter writes for the same data.
func TestJSONFromConnectGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range jsonCases(t) {
		t.Run(tc.golden, func(t *testing.T) {
			conv := jsonConv(t, tc.props...)
			got, err := conv.FromConnect("topic", tc.schema, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(filepath.Join("testdata", "json", tc.golden+".json"), got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := readGolden(t, tc.golden); string(got) != string(want) {
				t.Fatalf("FromConnect mismatch\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestJSONToConnectGolden reads each golden back and checks schema and
// value, then writes them again and expects the same bytes.
func TestJSONToConnectGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range jsonCases(t) {
		if tc.noRoundTrip {
			continue
		}
		t.Run(tc.golden, func(t *testing.T) {
			conv := jsonConv(t, tc.props...)
			data := readGolden(t, tc.golden)
			schema, value, err := conv.ToConnect("topic", data)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.value
			if tc.readBack != nil {
				want = tc.readBack
			}
			if !schema.Equal(tc.schema) {
				t.Fatalf("schema = %v, want %v", schema, tc.schema)
			}
			if !c.ValuesEqual(value, want) {
				t.Fatalf("value = %#v, want %#v", value, want)
			}
			again, err := conv.FromConnect("topic", schema, value)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(data) {
				t.Fatalf("re-encoded\n got: %s\nwant: %s", again, data)
			}
		})
	}
}

// TestJSONToConnectKafkaInputs feeds the JSON texts of Kafka's own
// JsonConverterTest (with their whitespace) and checks what we read.
func TestJSONToConnectKafkaInputs(t *testing.T) {
	t.Parallel()
	dec := func(s string) c.Decimal { d, _ := c.ParseDecimal(s); return d }
	tests := []struct {
		name   string
		props  []string
		in     string
		schema *c.Schema
		value  any
	}{
		{"bool default", nil, `{ "schema": { "type": "boolean", "default": true }, "payload": null }`, c.NewSchema(c.TypeBoolean).Default(true).MustBuild(), true},
		{"optional null", nil, `{ "schema": { "type": "boolean", "optional": true }, "payload": null }`, c.OptionalBooleanSchema, nil},
		{"leading zeros", nil, `{ "schema": { "type": "int64" }, "payload": 00000123456789 }`, c.Int64Schema, int64(123456789)},
		{"int8 leading zeros", nil, `{ "schema": { "type": "int8" }, "payload": 0012 }`, c.Int8Schema, int8(12)},
		{"float", nil, `{ "schema": { "type": "float" }, "payload": 12.34 }`, c.Float32Schema, float32(12.34)},
		{"map non-string keys", nil, `{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, "payload": [ [1, 12], [2, 15] ] }`,
			c.MapSchema(c.Int32Schema, c.Int32Schema).MustBuild(), map[any]any{int32(1): int32(12), int32(2): int32(15)}},
		{"struct optional missing", nil, `{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true }, {  "field": "required", "type": "string" }] }, "payload": { "required": "required" } }`,
			c.StructSchema().Field("optional", c.OptionalStringSchema).Field("required", c.StringSchema).MustBuild(), nil},
		{"numeric decimal", nil, `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": 1.56 }`, c.DecimalSchema(2), dec("1.56")},
		{"numeric decimal trailing zeros", nil, `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "4" } }, "payload": 1.5600 }`, c.DecimalSchema(4), dec("1.5600")},
		{"high precision decimal", nil, `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "17" } }, "payload": 1.23456789123456789 }`, c.DecimalSchema(17), dec("1.23456789123456789")},
		{"timestamp default", nil, `{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1,  "optional": true, "default": 42 }, "payload": null }`,
			c.TimestampBuilder().Optional().Default(c.TimestampFromMillis(42)).MustBuild(), c.TimestampFromMillis(42)},
		{"null schema int", nil, `{ "schema": null, "payload": 12 }`, nil, int64(12)},
		{"null schema float", nil, `{ "schema": null, "payload": 12.24 }`, nil, 12.24},
		{"null schema array", nil, `{ "schema": null, "payload": [1, "2", 3] }`, nil, []any{int64(1), "2", int64(3)}},
		{"null schema object", nil, `{ "schema": null, "payload": { "field1": 1, "field2": 2} }`, nil, map[string]any{"field1": int64(1), "field2": int64(2)}},
		{"null schema null", nil, `{ "schema": null, "payload": null }`, nil, nil},
		{"no schemas", []string{"schemas.enable", "false"}, "true", nil, true},
		{"no schemas empty value", []string{"schemas.enable", "false"}, `{ "a": "", "b": null}`, nil, map[string]any{"a": "", "b": nil}},
		{"no schemas empty bytes", []string{"schemas.enable", "false"}, "", nil, nil},
		{"no schemas whitespace", []string{"schemas.enable", "false"}, " \n", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema, value, err := jsonConv(t, tt.props...).ToConnect("topic", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !schema.Equal(tt.schema) {
				t.Fatalf("schema = %v, want %v", schema, tt.schema)
			}
			if tt.value == nil && schema != nil && schema.Type() == c.TypeStruct {
				st := value.(*c.Struct)
				if v, _ := st.Get("required"); v != "required" {
					t.Fatalf("struct = %v", st)
				}
				return
			}
			if !c.ValuesEqual(value, tt.value) {
				t.Fatalf("value = %#v, want %#v", value, tt.value)
			}
		})
	}
	// Decimal scale is taken from the JSON number, as Kafka does.
	_, v, _ := jsonConv(t).ToConnect("t", []byte(`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":1e3}`))
	if d := v.(c.Decimal); d.Scale() != -3 || d.String() != "1E+3" {
		t.Fatalf("decimal from exponent = %v (scale %d)", d, d.Scale())
	}
}

func TestJSONNulls(t *testing.T) {
	t.Parallel()
	for _, props := range [][]string{nil, {"schemas.enable", "false"}} {
		conv := jsonConv(t, props...)
		if b, err := conv.FromConnect("t", nil, nil); b != nil || err != nil {
			t.Fatalf("tombstone = %q, %v", b, err)
		}
		if s, v, err := conv.ToConnect("t", nil); s != nil || v != nil || err != nil {
			t.Fatalf("ToConnect(nil) = %v %v %v", s, v, err)
		}
	}
	if b, _ := jsonConv(t).FromConnect("t", c.OptionalBooleanSchema, nil); string(b) != `{"schema":{"type":"boolean","optional":true},"payload":null}` {
		t.Fatalf("optional null = %s", b)
	}
}

func TestJSONErrors(t *testing.T) {
	t.Parallel()
	row := c.StructSchema().Field("id", c.Int32Schema).Field("name", c.StringSchema).MustBuild()
	env := c.StructSchema().Field("after", row).MustBuild()
	good, _ := c.StructOf(row, int32(1), "x")
	tests := []struct {
		name    string
		props   []string
		in      string // ToConnect input, or "" to call FromConnect
		schema  *c.Schema
		value   any
		wantErr string
	}{
		{name: "malformed json", in: "{\"schema\": {\"type\": \"int32\"},\n \"payload\": }",
			wantErr: "Converting byte[] to Kafka Connect data failed due to serialization error: malformed JSON at line 2, column 13: unexpected character '}', expected a value"},
		{name: "trailing garbage", props: []string{"schemas.enable", "false"}, in: `{"a":1} x`,
			wantErr: "malformed JSON at line 1, column 9: unexpected character 'x' after the JSON value"},
		{name: "unterminated string", props: []string{"schemas.enable", "false"}, in: `"abc`,
			wantErr: "malformed JSON at line 1, column 5: unexpected end of input in a string"},
		{name: "no envelope", in: `{"a":1}`, wantErr: `JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`},
		{name: "extra envelope field", in: `{"schema":null,"payload":1,"x":2}`, wantErr: `requires "schema" and "payload" fields`},
		{name: "schema without type", in: `{"schema":{"optional":true},"payload":1}`, wantErr: "schema: Schema must contain 'type' field"},
		{name: "unknown type", in: `{"schema":{"type":"uuid"},"payload":1}`, wantErr: "schema: Unknown schema type: uuid"},
		{name: "bad field name", in: `{"schema":{"type":"struct","fields":[{"type":"int32"}]},"payload":{}}`, wantErr: "schema.fields[0]: Struct schema's field name not specified properly"},
		{name: "array without items", in: `{"schema":{"type":"array"},"payload":[]}`, wantErr: "schema: Array schema did not specify the element type"},
		{name: "param not string", in: `{"schema":{"type":"int32","parameters":{"a":1}},"payload":1}`, wantErr: "schema: Schema parameters must have string values."},
		{name: "mismatch names field", in: `{"schema":{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"field":"after"}],"optional":false},"payload":{"after":{"id":"seven"}}}`,
			wantErr: "after.id: expected a number for schema type INT32, found STRING"},
		{name: "required null", in: `{"schema":{"type":"struct","fields":[{"type":"string","field":"name"}]},"payload":{}}`,
			wantErr: "name: Invalid null value for required STRING field"},
		{name: "int8 overflow", in: `{"schema":{"type":"int8"},"payload":300}`, wantErr: "value 300 is out of range for INT8"},
		{name: "int fraction", in: `{"schema":{"type":"int32"},"payload":1.5}`, wantErr: "value 1.5 is not an integer, as INT32 requires"},
		{name: "array element", in: `{"schema":{"type":"array","items":{"type":"boolean"}},"payload":[true,1]}`, wantErr: "[1]: expected a boolean for schema type BOOLEAN, found NUMBER"},
		{name: "string map as array", in: `{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int32"}},"payload":[]}`,
			wantErr: "Maps with string fields should be encoded as JSON objects, but found ARRAY"},
		{name: "bad map tuple", in: `{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":[[1,2,3]]}`,
			wantErr: "[0]: Found invalid map entry, expected length 2 but found :3"},
		{name: "date not int", in: `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":"2020-01-01"}`,
			wantErr: "Invalid type for Date, underlying representation should be integer but was STRING"},
		{name: "bad base64", in: `{"schema":{"type":"bytes"},"payload":"!!"}`, wantErr: "Invalid bytes field"},
		{name: "write wrong go type", schema: c.Float64Schema, value: true, wantErr: "Invalid type for FLOAT64: bool"},
		{name: "write required null", schema: c.Int32Schema, value: nil, wantErr: "Conversion error: null value for field that is required and has no default value"},
		{name: "write struct mismatch", schema: env, value: c.NewStruct(env), wantErr: "after: Conversion error: null value"},
		{name: "write nested wrong type", schema: c.ArraySchema(row).MustBuild(),
			value: []any{good, "oops"}, wantErr: "[1]: Invalid type for STRUCT: string"},
		{name: "write map value path", schema: c.MapSchema(c.StringSchema, env).MustBuild(),
			value: map[string]any{"k": c.NewStruct(env)}, wantErr: "k.after: Conversion error: null value"},
		{name: "write decimal scale", schema: c.DecimalSchema(3), value: c.DecimalFromInt64(156, 2),
			wantErr: "Decimal value has mismatching scale for given Decimal schema. Schema has scale 3, value has scale 2."},
		{name: "write decimal without schema", value: c.DecimalFromInt64(156, 2), wantErr: "Go type connectors.Decimal does not have corresponding schema type."},
		{name: "write date with time", schema: c.DateSchema, value: c.TimestampFromMillis(1), wantErr: "Kafka Connect Date type should not have any time fields set to non-zero values."},
		{name: "write schemaless struct", value: good, wantErr: "Mismatching schema."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := jsonConv(t, tt.props...)
			var err error
			if tt.in != "" {
				_, _, err = conv.ToConnect("t", []byte(tt.in))
			} else {
				_, err = conv.FromConnect("t", tt.schema, tt.value)
			}
			if err == nil || !errors.Is(err, c.ErrData) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v\nwant ErrData containing %q", err, tt.wantErr)
			}
		})
	}
	var se *SyntaxError
	_, _, err := jsonConv(t).ToConnect("t", []byte("[1,\n2,,3]"))
	if !errors.As(err, &se) || se.Offset != 6 || se.Line != 2 || se.Column != 3 {
		t.Fatalf("SyntaxError = %+v", se)
	}
}

func TestJSONConfigure(t *testing.T) {
	t.Parallel()
	conv := NewJSONConverter()
	err := conv.Configure(map[string]string{"schemas.enable": "maybe", "decimal.format": "hex", "schemas.cache.size": "x"}, true)
	want := []string{
		"Invalid value maybe for configuration schemas.enable: Expected value to be either true or false",
		"Invalid value x for configuration schemas.cache.size: Not a number of type INT",
		"Invalid value hex for configuration decimal.format: String must be one of (case insensitive): BASE64, NUMERIC",
	}
	if err == nil || !errors.Is(err, c.ErrInvalidConfig) || err.Error() != "configure JsonConverter: "+strings.Join(want, "\n") {
		t.Fatalf("Configure error = %v", err)
	}
	if names := conv.Config().Names(); strings.Join(names, ",") != "converter.type,schemas.enable,schemas.cache.size,decimal.format,replace.null.with.default" {
		t.Fatalf("config keys = %v", names)
	}
}

func TestJSONSchemaCache(t *testing.T) {
	t.Parallel()
	conv := jsonConv(t)
	read := func(s string) {
		if _, _, err := conv.ToConnect("t", []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	read(`{ "schema": { "type": "boolean" }, "payload": true }`)
	read(`{ "schema": { "type": "boolean" }, "payload": false }`)
	read(`{ "schema": { "type": "boolean", "optional": true }, "payload": true }`)
	read(`{ "schema": { "type": "boolean", "optional": false }, "payload": true }`)
	if n := conv.toCache.len(); n != 3 {
		t.Fatalf("toConnect cache = %d, want 3 (equivalent but different JSON is cached apart)", n)
	}
	conv.FromConnect("t", c.NewSchema(c.TypeBoolean).MustBuild(), true)
	conv.FromConnect("t", c.NewSchema(c.TypeBoolean).Optional().MustBuild(), true)
	if n := conv.fromCache.len(); n != 2 {
		t.Fatalf("fromConnect cache = %d", n)
	}
	small := jsonConv(t, "schemas.cache.size", "1")
	small.FromConnect("t", c.Int32Schema, int32(1))
	small.FromConnect("t", c.Int64Schema, int64(1))
	if n := small.fromCache.len(); n != 1 {
		t.Fatalf("bounded cache = %d", n)
	}
}

func TestJSONConcurrent(t *testing.T) {
	t.Parallel()
	conv := jsonConv(t, "schemas.cache.size", "2")
	cases := jsonCases(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				tc := cases[(i*7+g)%len(cases)]
				if len(tc.props) > 0 || tc.noRoundTrip {
					continue
				}
				b, err := conv.FromConnect("t", tc.schema, tc.value)
				if err != nil {
					t.Error(err)
					return
				}
				if _, _, err := conv.ToConnect("t", b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestJSONBigNumbers(t *testing.T) {
	t.Parallel()
	conv := jsonConv(t, "schemas.enable", "false")
	if _, _, err := conv.ToConnect("t", []byte("123456789012345678901234567890")); err == nil || !strings.Contains(err.Error(), "does not fit in an int64") {
		t.Fatalf("big integer error = %v", err)
	}
	u, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	b, err := jsonConv(t, "decimal.format", "NUMERIC").FromConnect("t", c.DecimalSchema(5), c.NewDecimal(u, 5))
	if err != nil || !strings.HasSuffix(string(b), `"payload":-1234567890123456789012345.67890}`) {
		t.Fatalf("big decimal = %s, %v", b, err)
	}
}

// TestAppendJavaFloat checks the allocation-free float writer against
// connectors.FormatFloat over edge cases and random bit patterns.
func TestAppendJavaFloat(t *testing.T) {
	t.Parallel()
	check := func(f float64, bits int) {
		t.Helper()
		want := c.FormatFloat(f, bits)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			want = `"` + want + `"`
		}
		if got := string(appendJSONFloat(nil, f, bits)); got != want {
			t.Fatalf("appendJSONFloat(%v, %d) = %s, want %s", f, bits, got, want)
		}
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-3, 9.99e-4, 1e7, 9999999.999, 1e10, 1e-4, 12.34, 100,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324, 1e23, 2e-323, math.NaN(), math.Inf(1), math.Inf(-1), 4.6523452332, 123456789} {
		check(f, 64)
		check(-f, 64)
		check(float64(float32(f)), 32)
	}
	for _, f := range []float32{math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-45, 3e-45, 12.34, 1e7, 1e-3} {
		check(float64(f), 32)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		check(math.Float64frombits(rng.Uint64()), 64)
		check(float64(math.Float32frombits(rng.Uint32())), 32)
		check(float64(rng.IntN(1_000_000))/float64(1+rng.IntN(1000)), 64)
	}
}

// TestJSONHugeExponents pins that integers written with huge exponents
// are judged without computing 10^exponent (which took minutes).
func TestJSONHugeExponents(t *testing.T) {
	t.Parallel()
	conv := jsonConv(t)
	for in, want := range map[string]string{
		"1e999999999":     "value 1e999999999 is out of range for INT32",
		"-1.5e999999999":  "value -1.5e999999999 is out of range for INT32",
		"1e-999999999":    "value 1e-999999999 is not an integer, as INT32 requires",
		"-10e-2":          "value -10e-2 is not an integer, as INT32 requires",
		"0e999999999":     "",
		"-0.0e-999999999": "",
		"1e9":             "",
		"-2.147483648e9":  "",
		"2.147483648e9":   "value 2.147483648e9 is out of range for INT32",
		"12000e-3":        "",
	} {
		_, _, err := conv.ToConnect("t", []byte(`{"schema":{"type":"int32"},"payload":`+in+`}`))
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: error = %v, want %q", in, err, want)
		}
	}
}
