package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestHoistField(t *testing.T) {
	tr := newTransform(t, "HoistField$Key", map[string]string{"field": "magic"})
	out := apply(t, tr, sinkRecord("test", nil, int32(42), nil, nil))
	if out.KeySchema != nil {
		t.Errorf("schema %v", out.KeySchema)
	}
	eq(t, "schemaless", out.Key, map[string]any{"magic": int32(42)})

	out = apply(t, tr, sinkRecord("test", connectors.Int32Schema, int32(42), nil, nil))
	want := structOf(t, f("magic", connectors.Int32Schema))
	if !out.KeySchema.Equal(want) {
		t.Errorf("schema %v", out.KeySchema)
	}
	eq(t, "with schema", get(t, out.Key, "magic"), int32(42))
	out2 := apply(t, tr, sinkRecord("test", connectors.Int32Schema, int32(7), nil, nil))
	if out2.KeySchema != out.KeySchema {
		t.Error("schema not cached")
	}

	// Hoisting a null value with an optional schema gives a struct holding null.
	tr = newTransform(t, "HoistField$Value", map[string]string{"field": "v"})
	out = apply(t, tr, sinkRecord("test", nil, nil, connectors.OptionalStringSchema, nil))
	eq(t, "null", get(t, out.Value, "v"), nil)
	wantConfigError(t, configureErr(t, "HoistField$Value", nil), "field", "Missing required configuration \"field\"")
}
