package transforms

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// newTransform makes and configures the built-in named class (or alias).
func newTransform(t *testing.T, class string, cfg map[string]string) Transformation {
	t.Helper()
	p, ok := BuiltinLookup(class)
	if !ok {
		t.Fatalf("no built-in %q", class)
	}
	tr := p.New().(Transformation)
	if err := tr.Configure(cfg); err != nil {
		t.Fatalf("Configure(%v): %v", cfg, err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// configureErr configures class with cfg and returns the error.
func configureErr(t *testing.T, class string, cfg map[string]string) error {
	t.Helper()
	p, ok := BuiltinLookup(class)
	if !ok {
		t.Fatalf("no built-in %q", class)
	}
	switch x := p.New().(type) {
	case Transformation:
		return x.Configure(cfg)
	case Predicate:
		return x.Configure(cfg)
	}
	t.Fatalf("%q is neither", class)
	return nil
}

// wantConfigError checks that err is a config error naming key whose
// message contains want.
func wantConfigError(t *testing.T, err error, key, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one naming %s (%q)", key, want)
	}
	if !errors.Is(err, connectors.ErrInvalidConfig) {
		t.Errorf("error %v does not match ErrInvalidConfig", err)
	}
	var ces connectors.ConfigErrors
	if !errors.As(err, &ces) {
		t.Fatalf("error %T is not ConfigErrors: %v", err, err)
	}
	for _, ce := range ces {
		if ce.Name == key && strings.Contains(ce.Message, want) {
			return
		}
	}
	t.Errorf("error %q: no entry for key %q containing %q", err, key, want)
}

// apply runs tr on r and fails the test on error.
func apply(t *testing.T, tr Transformation, r connectors.Record) connectors.Record {
	t.Helper()
	out, keep, err := tr.Apply(r)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !keep {
		t.Fatalf("Apply dropped the record")
	}
	return out
}

// applyErr runs tr on r and returns the error, which must match ErrData.
func applyErr(t *testing.T, tr Transformation, r connectors.Record, want string) {
	t.Helper()
	_, _, err := tr.Apply(r)
	if err == nil {
		t.Fatalf("Apply: no error, want %q", want)
	}
	if !errors.Is(err, connectors.ErrData) {
		t.Errorf("Apply error %v does not match ErrData", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Apply error %q, want it to contain %q", err, want)
	}
}

type field struct {
	name   string
	schema *connectors.Schema
}

func f(name string, s *connectors.Schema) field { return field{name, s} }

// structOf builds a struct schema of fields.
func structOf(t testing.TB, fields ...field) *connectors.Schema {
	t.Helper()
	b := connectors.StructSchema()
	for _, fl := range fields {
		b.Field(fl.name, fl.schema)
	}
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newStruct builds a struct of schema from name/value pairs.
func newStruct(t testing.TB, schema *connectors.Schema, kv ...any) *connectors.Struct {
	t.Helper()
	s := connectors.NewStruct(schema)
	for i := 0; i < len(kv); i += 2 {
		if err := s.Put(kv[i].(string), kv[i+1]); err != nil {
			t.Fatalf("Put(%v): %v", kv[i], err)
		}
	}
	return s
}

// get reads a struct field, failing the test on error.
func get(t testing.TB, v any, name string) any {
	t.Helper()
	s, ok := v.(*connectors.Struct)
	if !ok {
		t.Fatalf("value %T is not a struct", v)
	}
	x, err := s.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// getRaw reads a struct field without applying its default.
func getRaw(t testing.TB, v any, name string) any {
	t.Helper()
	x, err := v.(*connectors.Struct).GetWithoutDefault(name)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// eq fails unless got and want are equal Connect values.
func eq(t testing.TB, what string, got, want any) {
	t.Helper()
	if !connectors.ValuesEqual(got, want) {
		t.Errorf("%s = %#v (%T), want %#v (%T)", what, got, got, want, want)
	}
}

func sinkRecord(topic string, keySchema *connectors.Schema, key any, valueSchema *connectors.Schema, value any) connectors.Record {
	return connectors.Record{Topic: topic, Partition: connectors.PartitionOf(0), KeySchema: keySchema, Key: key,
		ValueSchema: valueSchema, Value: value, OriginalTopic: topic, TimestampType: connectors.CreateTime}
}

func sourceRecord(topic string, keySchema *connectors.Schema, key any, valueSchema *connectors.Schema, value any) connectors.Record {
	return connectors.Record{Topic: topic, Partition: connectors.PartitionOf(0), KeySchema: keySchema, Key: key,
		ValueSchema: valueSchema, Value: value, SourcePartition: map[string]any{}, SourceOffset: map[string]any{}}
}

func ms(n int64) time.Time { return connectors.TimestampFromMillis(n) }

func mustBuild(t testing.TB, b *connectors.SchemaBuilder) *connectors.Schema {
	t.Helper()
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
