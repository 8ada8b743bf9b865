package transforms

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

func maskSchema(t *testing.T) *connectors.Schema {
	return structOf(t,
		f("magic", connectors.Int32Schema), f("bool", connectors.BooleanSchema), f("byte", connectors.Int8Schema),
		f("short", connectors.Int16Schema), f("int", connectors.Int32Schema), f("long", connectors.Int64Schema),
		f("float", connectors.Float32Schema), f("double", connectors.Float64Schema), f("string", connectors.StringSchema),
		f("date", connectors.DateSchema), f("time", connectors.TimeSchema), f("timestamp", connectors.TimestampSchema),
		f("decimal", connectors.DecimalSchema(0)),
		f("array", mustBuild(t, connectors.ArraySchema(connectors.Int32Schema))),
		f("map", mustBuild(t, connectors.MapSchema(connectors.StringSchema, connectors.StringSchema))),
		f("withDefault", mustBuild(t, connectors.NewSchema(connectors.TypeString).Optional().Default("default"))))
}

func maskValue(t *testing.T, s *connectors.Schema) *connectors.Struct {
	now := ms(time.Now().UnixMilli())
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	tod := time.Date(1970, 1, 1, 12, 0, 0, 0, time.UTC)
	return newStruct(t, s, "magic", int32(42), "bool", true, "byte", int8(42), "short", int16(42), "int", int32(42),
		"long", int64(42), "float", float32(42), "double", 42.0, "string", "hmm", "date", day, "time", tod,
		"timestamp", now, "decimal", connectors.DecimalFromInt64(42, 0), "array", []any{int32(1), int32(2), int32(3)},
		"map", map[string]any{"what": "what"}, "withDefault", nil)
}

func maskMap() map[string]any {
	return map[string]any{"magic": int32(42), "bool": true, "byte": int8(42), "short": int16(42), "int": int32(42),
		"long": int64(42), "float": float32(42), "double": 42.0, "string": "55.121.20.20", "date": time.Now(),
		"bigdec": connectors.DecimalFromInt64(420, 1), "list": []any{int32(42)}, "map": map[string]any{"key": "value"}}
}

func maskT(t *testing.T, class string, fields, replacement string) Transformation {
	cfg := map[string]string{"fields": fields, "replace.null.with.default": "false"}
	if replacement != "" {
		cfg["replacement"] = replacement
	}
	return newTransform(t, class, cfg)
}

func TestMaskFieldSchemaless(t *testing.T) {
	tr := maskT(t, "MaskField$Value", "bool,byte,short,int,long,float,double,string,date,bigdec,list,map", "")
	in := maskMap()
	out := apply(t, tr, sinkRecord("", nil, nil, nil, in))
	eq(t, "value", out.Value, map[string]any{"magic": int32(42), "bool": false, "byte": int8(0), "short": int16(0), "int": int32(0),
		"long": int64(0), "float": float32(0), "double": 0.0, "string": "", "date": ms(0),
		"bigdec": connectors.DecimalFromInt64(0, 0), "list": []any{}, "map": map[string]any{}})
	if in["int"] != int32(42) {
		t.Error("input changed")
	}
}

func TestMaskFieldWithSchema(t *testing.T) {
	schema := maskSchema(t)
	var names []string
	for _, fl := range schema.Fields() {
		if fl.Name() != "magic" {
			names = append(names, fl.Name())
		}
	}
	tr := maskT(t, "MaskField$Value", joinComma(names), "")
	out := apply(t, tr, sinkRecord("", nil, nil, schema, maskValue(t, schema)))
	for name, want := range map[string]any{"magic": int32(42), "bool": false, "byte": int8(0), "short": int16(0), "int": int32(0),
		"long": int64(0), "float": float32(0), "double": 0.0, "string": "", "date": ms(0), "time": ms(0), "timestamp": ms(0),
		"decimal": connectors.DecimalFromInt64(0, 0), "array": []any{}, "map": map[string]any{}} {
		eq(t, name, get(t, out.Value, name), want)
	}
	eq(t, "withDefault", getRaw(t, out.Value, "withDefault"), nil)
	if err := connectors.ValidateValue(out.ValueSchema, out.Value); err != nil {
		t.Error(err)
	}
}

func TestMaskFieldReplacement(t *testing.T) {
	for field, want := range map[string]any{"short": int16(123), "byte": int8(123), "int": int32(123), "long": int64(123),
		"float": float32(123), "double": 123.0, "string": "123", "bigdec": connectors.DecimalFromInt64(1230, 1)} {
		rep := "123"
		if field == "float" || field == "double" || field == "bigdec" {
			rep = "123.0"
		}
		tr := maskT(t, "MaskField$Value", field, rep)
		out := apply(t, tr, sinkRecord("", nil, nil, nil, maskMap()))
		eq(t, "schemaless "+field, out.Value.(map[string]any)[field], want)
	}
	schema := maskSchema(t)
	for field, want := range map[string]any{"short": int16(123), "byte": int8(123), "int": int32(123), "long": int64(123),
		"float": float32(123), "double": 123.0, "string": "123", "decimal": connectors.DecimalFromInt64(1230, 1)} {
		rep := "123"
		if field == "float" || field == "double" || field == "decimal" {
			rep = "123.0"
		}
		tr := maskT(t, "MaskField$Value", field, rep)
		out := apply(t, tr, sinkRecord("", nil, nil, schema, maskValue(t, schema)))
		eq(t, "schema "+field, get(t, out.Value, field), want)
	}
	// Java's Values.convertToInteger narrows a decimal string.
	tr := maskT(t, "MaskField$Value", "int", "1e3")
	eq(t, "1e3", apply(t, tr, sinkRecord("", nil, nil, nil, maskMap())).Value.(map[string]any)["int"], int32(1000))
}

func TestMaskFieldUnsupportedReplacement(t *testing.T) {
	for _, field := range []string{"date", "bool", "list", "map"} {
		tr := maskT(t, "MaskField$Value", field, "123")
		applyErr(t, tr, sinkRecord("", nil, nil, nil, maskMap()), "Cannot mask value of type")
	}
	schema := maskSchema(t)
	for _, field := range []string{"time", "timestamp", "array"} {
		tr := maskT(t, "MaskField$Value", field, "123")
		applyErr(t, tr, sinkRecord("", nil, nil, schema, maskValue(t, schema)), "Cannot mask value of type")
	}
	for _, field := range []string{"byte", "short", "int", "long", "float", "double", "bigdec"} {
		tr := maskT(t, "MaskField$Value", field, "foo")
		applyErr(t, tr, sinkRecord("", nil, nil, nil, maskMap()), "Unable to convert foo")
	}
	wantConfigError(t, configureErr(t, "MaskField$Value", map[string]string{"fields": "short", "replacement": ""}), "replacement", "String must be non-empty")
	wantConfigError(t, configureErr(t, "MaskField$Value", map[string]string{"fields": ""}), "fields", "Empty list")
}

func TestMaskFieldBytes(t *testing.T) {
	tr := maskT(t, "MaskField$Value", "b", "")
	applyErr(t, tr, sinkRecord("", nil, nil, nil, map[string]any{"b": []byte{1}}), "Cannot mask value of type: []uint8")
	// A masked field that is absent is added as null, as in Kafka.
	out := apply(t, tr, sinkRecord("", nil, nil, nil, map[string]any{"x": int32(1)}))
	eq(t, "absent", out.Value, map[string]any{"x": int32(1), "b": nil})
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestMaskFieldTombstoneFailsLikeKafka(t *testing.T) {
	// Kafka's MaskField does not let null values through; connectors
	// pair it with a negated RecordIsTombstone predicate.
	tr := maskT(t, "MaskField$Value", "a", "")
	applyErr(t, tr, sinkRecord("", nil, nil, nil, nil), "Only Map objects supported in absence of schema for [mask fields], found: null")
	applyErr(t, tr, sinkRecord("", nil, nil, connectors.OptionalStringSchema, nil), "Only Struct objects supported for [mask fields], found: null")
}
