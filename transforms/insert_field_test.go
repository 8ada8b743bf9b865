package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

var insertAll = map[string]string{
	"topic.field":     "topic_field!",
	"partition.field": "partition_field",
	"timestamp.field": "timestamp_field?",
	"static.field":    "instance_id",
	"static.value":    "my-instance-id",
}

func TestInsertFieldTopLevelStructRequired(t *testing.T) {
	tr := newTransform(t, "InsertField$Value", map[string]string{"topic.field": "topic_field"})
	applyErr(t, tr, sourceRecord("", nil, nil, connectors.Int32Schema, int32(42)), "Only Struct objects supported for [field insertion]")
}

func TestInsertFieldWithSchema(t *testing.T) {
	tr := newTransform(t, "InsertField$Value", insertAll)
	schema := mustBuild(t, connectors.StructSchema().Name("name").Version(1).Doc("doc").Field("magic", connectors.OptionalInt64Schema))
	r := sourceRecord("test", nil, nil, schema, newStruct(t, schema, "magic", int64(42)))
	r.Timestamp = ms(789)
	out := apply(t, tr, r)
	s := out.ValueSchema
	if v, _ := s.Version(); s.Name() != "name" || v != 1 || s.Doc() != "doc" {
		t.Errorf("basics not copied: %v", s)
	}
	for name, want := range map[string]*connectors.Schema{
		"magic":           connectors.OptionalInt64Schema,
		"topic_field":     connectors.StringSchema,
		"partition_field": connectors.OptionalInt32Schema,
		"timestamp_field": connectors.OptionalTimestampSchema,
		"instance_id":     connectors.OptionalStringSchema,
	} {
		fl, ok := s.Field(name)
		if !ok || !fl.Schema().Equal(want) {
			t.Errorf("%s: schema %v, want %v", name, fl.Schema(), want)
		}
	}
	eq(t, "magic", get(t, out.Value, "magic"), int64(42))
	eq(t, "topic", get(t, out.Value, "topic_field"), "test")
	eq(t, "partition", get(t, out.Value, "partition_field"), int32(0))
	eq(t, "timestamp", get(t, out.Value, "timestamp_field"), ms(789))
	eq(t, "static", get(t, out.Value, "instance_id"), "my-instance-id")
	if err := connectors.ValidateValue(out.ValueSchema, out.Value); err != nil {
		t.Error(err)
	}
	// Exercise the cache.
	r2 := sourceRecord("test", nil, nil, schema, newStruct(t, schema))
	r2.Partition = connectors.PartitionOf(1)
	if out2 := apply(t, tr, r2); out2.ValueSchema != out.ValueSchema {
		t.Error("schema not cached")
	}
}

func TestInsertFieldSchemaless(t *testing.T) {
	tr := newTransform(t, "InsertField$Value", insertAll)
	r := sourceRecord("test", nil, nil, nil, map[string]any{"magic": int64(42)})
	r.Timestamp = ms(123)
	out := apply(t, tr, r)
	eq(t, "value", out.Value, map[string]any{"magic": int64(42), "topic_field": "test", "partition_field": int32(0),
		"timestamp_field": int64(123), "instance_id": "my-instance-id"})
}

func TestInsertFieldTombstones(t *testing.T) {
	tr := newTransform(t, "InsertField$Value", insertAll)
	out := apply(t, tr, sourceRecord("test", nil, nil, nil, nil))
	if out.Value != nil || out.ValueSchema != nil {
		t.Error("schemaless tombstone changed")
	}
	schema := mustBuild(t, connectors.StructSchema().Name("name").Version(1).Doc("doc").Field("magic", connectors.OptionalInt64Schema))
	out = apply(t, tr, sourceRecord("test", nil, nil, schema, nil))
	if out.Value != nil || out.ValueSchema != schema {
		t.Error("tombstone with schema changed")
	}

	key := newTransform(t, "InsertField$Key", insertAll)
	out = apply(t, key, sourceRecord("test", nil, map[string]any{"magic": int64(42)}, nil, nil))
	eq(t, "key", out.Key, map[string]any{"magic": int64(42), "topic_field": "test", "partition_field": int32(0), "instance_id": "my-instance-id"})
	if out.Value != nil {
		t.Error("value changed")
	}
	// A null key is left alone.
	r := sourceRecord("test", nil, nil, nil, map[string]any{"magic": int64(42)})
	out = apply(t, key, r)
	if out.Key != nil || out.KeySchema != nil {
		t.Error("null key changed")
	}
}

func TestInsertFieldUnsetOptionalField(t *testing.T) {
	for _, tc := range []struct {
		replace string
		want    any
	}{{"false", nil}, {"true", int64(42)}} {
		cfg := map[string]string{"replace.null.with.default": tc.replace}
		for k, v := range insertAll {
			cfg[k] = v
		}
		tr := newTransform(t, "InsertField$Value", cfg)
		magic := mustBuild(t, connectors.NewSchema(connectors.TypeInt64).Optional().Default(int64(42)))
		schema := structOf(t, f("magic_with_default", magic))
		r := sourceRecord("test", nil, nil, schema, newStruct(t, schema, "magic_with_default", nil))
		r.Timestamp = ms(789)
		out := apply(t, tr, r)
		fl, _ := out.ValueSchema.Field("magic_with_default")
		if fl.Schema() != magic {
			t.Error("field schema changed")
		}
		eq(t, "replace="+tc.replace, getRaw(t, out.Value, "magic_with_default"), tc.want)
	}
}

func TestInsertFieldOffset(t *testing.T) {
	tr := newTransform(t, "InsertField$Value", map[string]string{"offset.field": "off"})
	r := sinkRecord("test", nil, nil, nil, map[string]any{})
	r.Offset = 1234
	out := apply(t, tr, r)
	eq(t, "offset", out.Value, map[string]any{"off": int64(1234)})
	schema := structOf(t, f("a", connectors.Int32Schema))
	r = sinkRecord("test", nil, nil, schema, newStruct(t, schema, "a", int32(1)))
	r.Offset = 7
	out = apply(t, tr, r)
	eq(t, "offset", get(t, out.Value, "off"), int64(7))
	applyErr(t, tr, sourceRecord("test", nil, nil, nil, map[string]any{}), "Only SinkRecord supported for [field insertion]")
}

func TestInsertFieldConfigErrors(t *testing.T) {
	wantConfigError(t, configureErr(t, "InsertField$Value", map[string]string{}), "", "No field insertion configured")
	wantConfigError(t, configureErr(t, "InsertField$Value", map[string]string{"static.field": "s"}), "static.value", "No value specified for static field: s")
	wantConfigError(t, configureErr(t, "InsertField$Value", map[string]string{"topic.field": "t", "replace.null.with.default": "maybe"}),
		"replace.null.with.default", "Expected value to be either true or false")
}

func TestInsertFieldDuplicateName(t *testing.T) {
	tr := newTransform(t, "InsertField$Value", map[string]string{"topic.field": "a"})
	schema := structOf(t, f("a", connectors.Int32Schema))
	applyErr(t, tr, sourceRecord("t", nil, nil, schema, newStruct(t, schema, "a", int32(1))), "field name duplication a")
}
