package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestSetSchemaMetadata(t *testing.T) {
	empty := mustBuild(t, connectors.StructSchema())
	for _, tc := range []struct {
		cfg     map[string]string
		name    string
		version int
	}{
		{map[string]string{"schema.name": "foo"}, "foo", -1},
		{map[string]string{"schema.version": "42"}, "", 42},
		{map[string]string{"schema.name": "foo", "schema.version": "42"}, "foo", 42},
	} {
		tr := newTransform(t, "SetSchemaMetadata$Value", tc.cfg)
		out := apply(t, tr, sinkRecord("", nil, nil, empty, nil))
		if out.ValueSchema.Name() != tc.name {
			t.Errorf("name %q, want %q", out.ValueSchema.Name(), tc.name)
		}
		v, ok := out.ValueSchema.Version()
		if tc.version >= 0 && (!ok || v != tc.version) {
			t.Errorf("version %d %v, want %d", v, ok, tc.version)
		}
	}
}

func TestSetSchemaMetadataWithStruct(t *testing.T) {
	for _, tc := range []struct {
		replace string
		want    any
	}{{"false", nil}, {"true", "default"}} {
		schema := mustBuild(t, connectors.StructSchema().Name("my.orig.SchemaDefn").
			Field("f1", mustBuild(t, connectors.NewSchema(connectors.TypeString).Default("default").Optional())).
			Field("f2", connectors.Int32Schema))
		v := newStruct(t, schema, "f1", nil, "f2", int32(1))
		tr := newTransform(t, "SetSchemaMetadata$Value", map[string]string{"schema.name": "foo", "schema.version": "42", "replace.null.with.default": tc.replace})
		out := apply(t, tr, sinkRecord("", nil, nil, schema, v))
		if out.ValueSchema.Name() != "foo" {
			t.Errorf("name %q", out.ValueSchema.Name())
		}
		s := out.Value.(*connectors.Struct)
		if s.Schema() != out.ValueSchema {
			t.Error("struct not rebound to the new schema")
		}
		if err := connectors.ValidateValue(out.ValueSchema, out.Value); err != nil {
			t.Error(err)
		}
		eq(t, "f1", getRaw(t, s, "f1"), tc.want)
		eq(t, "f2", get(t, s, "f2"), int32(1))
	}
	key := newTransform(t, "SetSchemaMetadata$Key", map[string]string{"schema.name": "k"})
	out := apply(t, key, sinkRecord("", connectors.Int32Schema, int32(1), nil, nil))
	if out.KeySchema.Name() != "k" || out.Key != int32(1) {
		t.Errorf("key: %v %v", out.KeySchema, out.Key)
	}
}

func TestSetSchemaMetadataRequiresSchema(t *testing.T) {
	tr := newTransform(t, "SetSchemaMetadata$Value", map[string]string{"schema.name": "foo"})
	applyErr(t, tr, sinkRecord("", nil, nil, nil, int32(42)), "Schema required for [updating schema metadata]")
	out := apply(t, tr, sinkRecord("", nil, nil, nil, nil))
	if out.Value != nil || out.ValueSchema != nil {
		t.Error("null record changed")
	}
	wantConfigError(t, configureErr(t, "SetSchemaMetadata$Value", nil), "schema.name", "Neither schema name nor version configured")
	wantConfigError(t, configureErr(t, "SetSchemaMetadata$Value", map[string]string{"schema.version": "x"}), "schema.version", "Not a number of type INT")
}
