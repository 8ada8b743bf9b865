package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestReplaceFieldTombstones(t *testing.T) {
	tr := newTransform(t, "ReplaceField$Value", map[string]string{"include": "abc,foo", "renames": "abc:xyz,foo:bar"})
	out := apply(t, tr, sinkRecord("test", nil, nil, nil, nil))
	if out.Value != nil || out.ValueSchema != nil {
		t.Error("schemaless tombstone changed")
	}
	schema := structOf(t, f("dont", connectors.StringSchema), f("abc", connectors.Int32Schema))
	out = apply(t, tr, sinkRecord("test", nil, nil, schema, nil))
	if out.Value != nil || out.ValueSchema != schema {
		t.Error("tombstone with schema changed")
	}
}

func TestReplaceFieldSchemaless(t *testing.T) {
	for _, excludeKey := range []string{"exclude", "blacklist"} {
		tr := newTransform(t, "ReplaceField$Value", map[string]string{excludeKey: "dont", "renames": "abc:xyz,foo:bar"})
		in := map[string]any{"dont": "whatever", "abc": int32(42), "foo": true, "etc": "etc"}
		out := apply(t, tr, sinkRecord("test", nil, nil, nil, in))
		eq(t, excludeKey, out.Value, map[string]any{"xyz": int32(42), "bar": true, "etc": "etc"})
		if len(in) != 4 {
			t.Error("input changed")
		}
	}
}

func TestReplaceFieldWithSchema(t *testing.T) {
	for _, includeKey := range []string{"include", "whitelist"} {
		tr := newTransform(t, "ReplaceField$Value", map[string]string{includeKey: "abc,foo", "renames": "abc:xyz,foo:bar"})
		schema := mustBuild(t, connectors.StructSchema().Name("n").Version(3).
			Field("dont", connectors.StringSchema).Field("abc", connectors.Int32Schema).
			Field("foo", connectors.BooleanSchema).Field("etc", connectors.StringSchema))
		v := newStruct(t, schema, "dont", "whatever", "abc", int32(42), "foo", true, "etc", "etc")
		out := apply(t, tr, sinkRecord("test", nil, nil, schema, v))
		if n := len(out.ValueSchema.Fields()); n != 2 {
			t.Fatalf("%d fields", n)
		}
		if out.ValueSchema.Name() != "n" {
			t.Error("name not kept")
		}
		eq(t, "xyz", get(t, out.Value, "xyz"), int32(42))
		eq(t, "bar", get(t, out.Value, "bar"), true)
	}
	// The new names win over the deprecated ones.
	tr := newTransform(t, "ReplaceField$Value", map[string]string{"include": "a", "whitelist": "b"})
	out := apply(t, tr, sinkRecord("t", nil, nil, nil, map[string]any{"a": 1, "b": 2}))
	eq(t, "include wins", out.Value, map[string]any{"a": 1})
	// Exclude takes precedence over include.
	tr = newTransform(t, "ReplaceField$Value", map[string]string{"include": "a,b", "exclude": "b"})
	out = apply(t, tr, sinkRecord("t", nil, nil, nil, map[string]any{"a": 1, "b": 2, "c": 3}))
	eq(t, "exclude wins", out.Value, map[string]any{"a": 1})
}

func TestReplaceFieldReplaceNullWithDefault(t *testing.T) {
	schema := structOf(t, f("abc", mustBuild(t, connectors.NewSchema(connectors.TypeInt32).Optional().Default(int32(42)))))
	for _, tc := range []struct {
		replace string
		want    any
	}{{"false", nil}, {"true", int32(42)}} {
		for _, s := range []side{keySide, valueSide} {
			tr := newTransform(t, s.className("ReplaceField"), map[string]string{"include": "abc", "renames": "abc:optional_with_default", "replace.null.with.default": tc.replace})
			v := newStruct(t, schema, "abc", nil)
			out := apply(t, tr, s.set(sinkRecord("test", nil, nil, nil, nil), schema, v))
			sch, got := s.get(&out)
			if len(sch.Fields()) != 1 {
				t.Fatalf("fields %v", sch.Fields())
			}
			eq(t, "replace="+tc.replace, getRaw(t, got, "optional_with_default"), tc.want)
		}
	}
}

func TestReplaceFieldConfigErrors(t *testing.T) {
	wantConfigError(t, configureErr(t, "ReplaceField$Value", map[string]string{"renames": "abc"}), "renames", "Invalid rename mapping: abc")
	wantConfigError(t, configureErr(t, "ReplaceField$Value", map[string]string{"renames": "a:b:c"}), "renames", "Invalid rename mapping: a:b:c")
}
