package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestFlattenRequiresStructOrMap(t *testing.T) {
	tr := newTransform(t, "Flatten$Value", nil)
	applyErr(t, tr, sourceRecord("topic", nil, nil, connectors.Int32Schema, int32(42)), "Only Struct objects supported for [flattening]")
	applyErr(t, tr, sourceRecord("topic", nil, nil, nil, int32(42)), "Only Map objects supported in absence of schema for [flattening]")
}

func TestFlattenNestedStruct(t *testing.T) {
	tr := newTransform(t, "Flatten$Value", nil)
	types := structOf(t, f("int8", connectors.Int8Schema), f("int16", connectors.Int16Schema), f("int32", connectors.Int32Schema),
		f("int64", connectors.Int64Schema), f("float32", connectors.Float32Schema), f("float64", connectors.Float64Schema),
		f("boolean", connectors.BooleanSchema), f("string", connectors.StringSchema), f("bytes", connectors.BytesSchema))
	one := structOf(t, f("B", types))
	two := structOf(t, f("A", one))
	v := newStruct(t, two, "A", newStruct(t, one, "B", newStruct(t, types, "int8", int8(8), "int16", int16(16), "int32", int32(32),
		"int64", int64(64), "float32", float32(32), "float64", 64.0, "boolean", true, "string", "stringy", "bytes", []byte("bytes"))))
	out := apply(t, tr, sourceRecord("topic", nil, nil, two, v))
	if n := len(out.ValueSchema.Fields()); n != 9 {
		t.Fatalf("%d fields", n)
	}
	for name, want := range map[string]any{"A.B.int8": int8(8), "A.B.int16": int16(16), "A.B.int32": int32(32), "A.B.int64": int64(64),
		"A.B.float32": float32(32), "A.B.float64": 64.0, "A.B.boolean": true, "A.B.string": "stringy", "A.B.bytes": []byte("bytes")} {
		eq(t, name, get(t, out.Value, name), want)
	}
}

func TestFlattenNestedMapWithDelimiter(t *testing.T) {
	tr := newTransform(t, "Flatten$Value", map[string]string{"delimiter": "#"})
	in := map[string]any{"A": map[string]any{"B": map[string]any{"int8": int8(8), "string": "stringy", "bytes": []byte("bytes")}}}
	out := apply(t, tr, sourceRecord("topic", nil, nil, nil, in))
	eq(t, "value", out.Value, map[string]any{"A#B#int8": int8(8), "A#B#string": "stringy", "A#B#bytes": []byte("bytes")})
}

func TestFlattenOptional(t *testing.T) {
	tr := newTransform(t, "Flatten$Value", nil)
	inner := structOf(t, f("opt_int32", connectors.OptionalInt32Schema))
	outer := structOf(t, f("B", inner))
	out := apply(t, tr, sourceRecord("topic", nil, nil, outer, newStruct(t, outer, "B", newStruct(t, inner))))
	eq(t, "B.opt_int32", get(t, out.Value, "B.opt_int32"), nil)

	// An optional struct that is null.
	optInner := mustBuild(t, connectors.StructSchema().Field("opt_int32", connectors.OptionalInt32Schema).Optional())
	optOuter := structOf(t, f("B", optInner))
	out = apply(t, tr, sourceRecord("topic", nil, nil, optOuter, newStruct(t, optOuter, "B", nil)))
	eq(t, "B.opt_int32", get(t, out.Value, "B.opt_int32"), nil)

	// A null optional top-level struct passes through.
	out = apply(t, tr, sourceRecord("topic", nil, nil, optInner, nil))
	if out.Value != nil || out.ValueSchema != optInner {
		t.Errorf("null: %v %v", out.ValueSchema, out.Value)
	}
	// Schemaless nulls are kept.
	out = apply(t, tr, sourceRecord("topic", nil, nil, nil, map[string]any{"B": map[string]any{"opt_int32": nil}}))
	eq(t, "schemaless", out.Value, map[string]any{"B.opt_int32": nil})
	out = apply(t, tr, sourceRecord("topic", nil, nil, nil, nil))
	if out.Value != nil {
		t.Error("tombstone changed")
	}
}

func TestFlattenKey(t *testing.T) {
	tr := newTransform(t, "Flatten$Key", nil)
	out := apply(t, tr, sourceRecord("topic", nil, map[string]any{"A": map[string]any{"B": int32(12)}}, nil, nil))
	eq(t, "key", out.Key, map[string]any{"A.B": int32(12)})
}

func TestFlattenArrays(t *testing.T) {
	tr := newTransform(t, "Flatten$Value", nil)
	v := map[string]any{"foo": []any{"bar", map[string]any{"baz": map[string]any{"lfg": "lfg"}}}}
	out := apply(t, tr, sourceRecord("topic", nil, nil, nil, v))
	eq(t, "schemaless", out.Value, v)

	nested := structOf(t, f("lfg", connectors.StringSchema))
	inner := structOf(t, f("baz", nested))
	outer := structOf(t, f("foo", mustBuild(t, connectors.ArraySchema(inner).Doc("durk"))))
	sv := newStruct(t, outer, "foo", []any{newStruct(t, inner, "baz", newStruct(t, nested, "lfg", "lfg"))})
	out = apply(t, tr, sourceRecord("topic", nil, nil, outer, sv))
	if !out.ValueSchema.Equal(outer) {
		t.Errorf("schema %v", out.ValueSchema)
	}
	eq(t, "with schema", out.Value, sv)
}

func TestFlattenOptionalAndDefaultsNested(t *testing.T) {
	tr := newTransform(t, "Flatten$Value", nil)
	child := mustBuild(t, connectors.StructSchema().Optional().
		Field("req_field", connectors.StringSchema).
		Field("opt_field", mustBuild(t, connectors.NewSchema(connectors.TypeString).Optional().Default("child_default"))))
	parent := structOf(t, f("child", child))
	out := apply(t, tr, sourceRecord("topic", nil, nil, parent, newStruct(t, parent)))
	if len(out.ValueSchema.Fields()) != 2 {
		t.Fatalf("fields %v", out.ValueSchema.Fields())
	}
	req, _ := out.ValueSchema.Field("child.req_field")
	if !req.Schema().Optional() {
		t.Error("child of an optional struct is not optional")
	}
	opt, _ := out.ValueSchema.Field("child.opt_field")
	eq(t, "default", opt.Schema().Default(), "child_default")
}

func TestFlattenStructWithNullFields(t *testing.T) {
	tr := newTransform(t, "Flatten$Value", nil)
	schema := structOf(t, f("firstNull", connectors.OptionalStringSchema), f("firstNonNull", connectors.OptionalStringSchema),
		f("secondNull", connectors.OptionalStringSchema))
	v := newStruct(t, schema, "firstNonNull", "nonNull")
	out := apply(t, tr, sourceRecord("topic", nil, nil, schema, v))
	eq(t, "value", out.Value, v)
}

func TestFlattenMapWithSchemaUnsupported(t *testing.T) {
	tr := newTransform(t, "Flatten$Value", nil)
	schema := structOf(t, f("m", mustBuild(t, connectors.MapSchema(connectors.StringSchema, connectors.StringSchema))))
	applyErr(t, tr, sourceRecord("topic", nil, nil, schema, newStruct(t, schema, "m", map[string]any{"a": "b"})),
		"Flatten transformation does not support MAP for record with schemas (for field m).")
}
