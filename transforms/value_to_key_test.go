package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestValueToKey(t *testing.T) {
	tr := newTransform(t, "ValueToKey", map[string]string{"fields": "a,b"})
	out := apply(t, tr, sinkRecord("", nil, nil, nil, map[string]any{"a": int32(1), "b": int32(2), "c": int32(3)}))
	if out.KeySchema != nil {
		t.Error("key schema")
	}
	eq(t, "schemaless", out.Key, map[string]any{"a": int32(1), "b": int32(2)})

	schema := structOf(t, f("a", connectors.Int32Schema), f("b", connectors.Int32Schema), f("c", connectors.Int32Schema))
	out = apply(t, tr, sinkRecord("", nil, nil, schema, newStruct(t, schema, "a", int32(1), "b", int32(2), "c", int32(3))))
	want := structOf(t, f("a", connectors.Int32Schema), f("b", connectors.Int32Schema))
	if !out.KeySchema.Equal(want) {
		t.Errorf("key schema %v", out.KeySchema)
	}
	eq(t, "a", get(t, out.Key, "a"), int32(1))
	eq(t, "b", get(t, out.Key, "b"), int32(2))

	tr = newTransform(t, "ValueToKey", map[string]string{"fields": "not_exist"})
	applyErr(t, tr, sinkRecord("", nil, nil, schema, newStruct(t, schema, "a", int32(1), "b", int32(2), "c", int32(3))), "Field does not exist: not_exist")

	for _, tc := range []struct {
		replace string
		want    any
	}{{"false", nil}, {"true", int32(42)}} {
		tr := newTransform(t, "ValueToKey", map[string]string{"fields": "optional_with_default", "replace.null.with.default": tc.replace})
		s := structOf(t, f("optional_with_default", mustBuild(t, connectors.NewSchema(connectors.TypeInt32).Optional().Default(int32(42)))))
		out := apply(t, tr, sinkRecord("", nil, nil, s, newStruct(t, s, "optional_with_default", nil)))
		eq(t, "replace="+tc.replace, getRaw(t, out.Key, "optional_with_default"), tc.want)
	}
	wantConfigError(t, configureErr(t, "ValueToKey", map[string]string{"fields": ""}), "fields", "Empty list")
}
