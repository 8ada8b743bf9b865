package connectors

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestSchemaBuilderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		b    *SchemaBuilder
		want string
	}{
		{"field on primitive", NewSchema(TypeInt32).Field("a", Int32Schema), "Cannot create fields on type INT32"},
		{"duplicate field", StructSchema().Field("a", Int32Schema).Field("a", StringSchema), "Cannot create field because of field name duplication a"},
		{"nil field schema", StructSchema().Field("a", nil), "fieldSchema for field a cannot be null"},
		{"nil array elem", ArraySchema(nil), "valueSchema cannot be null"},
		{"nil map key", MapSchema(nil, Int32Schema), "keySchema cannot be null"},
		{"bad default", NewSchema(TypeInt32).Default("x"), `Invalid default value: Invalid Go value for schema with type INT32: string for value`},
		{"bad type", NewSchema(Type(42)), "invalid schema type 42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.b.Build()
			if err == nil || !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build() error = %v, want ErrSchema containing %q", err, tt.want)
			}
		})
	}
}

func TestSchemaAccessorsAndEqual(t *testing.T) {
	t.Parallel()
	s := StructSchema().Name("n").Version(2).Doc("d").Parameter("b", "1").Parameter("a", "2").Parameter("b", "3").
		Field("id", Int32Schema).Field("tags", ArraySchema(StringSchema).Optional().MustBuild()).
		Optional().MustBuild()
	if s.Type() != TypeStruct || !s.Optional() || s.Name() != "n" || s.Doc() != "d" {
		t.Fatalf("accessors: %v %v %q %q", s.Type(), s.Optional(), s.Name(), s.Doc())
	}
	if v, ok := s.Version(); !ok || v != 2 {
		t.Fatalf("Version() = %d, %v", v, ok)
	}
	if got := s.Parameters(); len(got) != 2 || got[0] != (Param{"b", "3"}) || got[1] != (Param{"a", "2"}) {
		t.Fatalf("Parameters() = %v, want insertion order with b replaced in place", got)
	}
	f, ok := s.Field("tags")
	if !ok || f.Index() != 1 || f.Schema().ValueSchema() != StringSchema {
		t.Fatalf("Field(tags) = %+v, %v", f, ok)
	}
	if _, ok := s.Field("nope"); ok {
		t.Fatal("Field(nope) found")
	}
	same := StructSchema().Name("n").Version(2).Doc("d").Parameter("b", "3").Parameter("a", "2").
		Field("id", NewSchema(TypeInt32).MustBuild()).Field("tags", ArraySchema(StringSchema).Optional().MustBuild()).
		Optional().MustBuild()
	if !s.Equal(same) {
		t.Fatal("equal schemas not Equal")
	}
	other := s.Builder().Required().MustBuild()
	if s.Equal(other) || other.Optional() {
		t.Fatal("Builder().Required() should differ only in optionality")
	}
	if (*Schema)(nil).Equal(s) || !(*Schema)(nil).Equal(nil) {
		t.Fatal("nil Equal")
	}
	if got := DecimalSchema(2).String(); got != "Schema{org.apache.kafka.connect.data.Decimal:BYTES}" {
		t.Fatalf("String() = %q", got)
	}
	if typ, ok := ParseType("int64"); !ok || typ != TypeInt64 || typ.String() != "INT64" {
		t.Fatalf("ParseType = %v %v", typ, ok)
	}
}

func TestValidateValue(t *testing.T) {
	t.Parallel()
	inner := StructSchema().Field("x", Int32Schema).MustBuild()
	tests := []struct {
		name   string
		schema *Schema
		value  any
		want   string // "" = valid
	}{
		{"int32 ok", Int32Schema, int32(1), ""},
		{"int32 wrong type", Int32Schema, 1, "Invalid Go value for schema with type INT32: int for value"},
		{"null required", Int32Schema, nil, "Invalid value: null used for required value, schema type: INT32"},
		{"null optional", OptionalInt32Schema, nil, ""},
		{"nil bytes is null", BytesSchema, []byte(nil), "Invalid value: null used for required value, schema type: BYTES"},
		{"logical name in message", DecimalSchema(2), []byte{1}, `Invalid Go value for schema "org.apache.kafka.connect.data.Decimal" with type BYTES: []uint8 for value`},
		{"decimal ok", DecimalSchema(2), DecimalFromInt64(156, 2), ""},
		{"timestamp ok", TimestampSchema, time.Now(), ""},
		{"array element", ArraySchema(StringSchema).MustBuild(), []any{"a", 1}, "Invalid Go value for schema with type STRING: int for element of array value"},
		{"map string keys", MapSchema(StringSchema, Int64Schema).MustBuild(), map[string]any{"a": int64(1)}, ""},
		{"map string keys need string key schema", MapSchema(Int32Schema, Int64Schema).MustBuild(), map[string]any{"a": int64(1)}, "Invalid Go value for schema with type MAP"},
		{"map value", MapSchema(Int32Schema, Int64Schema).MustBuild(), map[any]any{int32(1): "x"}, "Invalid Go value for schema with type INT64: string for value of map value"},
		{"struct schema mismatch", inner, NewStruct(StructSchema().Field("y", Int32Schema).MustBuild()), "Struct schemas do not match."},
		{"nested struct missing field", inner, NewStruct(inner), `Invalid value: null used for required field: "x", schema type: INT32`},
		{"schemaless", nil, struct{}{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateValue(tt.schema, tt.value)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ValidateValue() = %v, want nil", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrData) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ValidateValue() = %v, want ErrData containing %q", err, tt.want)
			}
		})
	}
}

func TestStruct(t *testing.T) {
	t.Parallel()
	schema := StructSchema().
		Field("id", Int64Schema).
		Field("name", OptionalStringSchema).
		Field("count", NewSchema(TypeInt32).Default(int32(7)).MustBuild()).
		MustBuild()
	s := NewStruct(schema)
	if err := s.Validate(); err == nil || err.Error() != `Invalid value: null used for required field: "id", schema type: INT64` {
		t.Fatalf("Validate() on empty = %v", err)
	}
	if err := s.Put("id", "seven"); err == nil || err.Error() != `Invalid Go value for schema with type INT64: string for field: "id"` {
		t.Fatalf("Put wrong type = %v", err)
	}
	if err := s.Put("nope", 1); err == nil || err.Error() != "nope is not a valid field name" || !errors.Is(err, ErrData) {
		t.Fatalf("Put unknown = %v", err)
	}
	if err := s.Put("id", int64(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate() with required set = %v (count has a default)", err)
	}
	if v, _ := s.Get("count"); v != int32(7) {
		t.Fatalf("Get(count) = %v, want default 7", v)
	}
	if v, _ := s.GetWithoutDefault("count"); v != nil {
		t.Fatalf("GetWithoutDefault(count) = %v", v)
	}
	if got := s.String(); got != "Struct{id=1}" {
		t.Fatalf("String() = %q", got)
	}
	c := s.Clone()
	if err := c.Put("name", "x"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("name"); v != nil {
		t.Fatal("Clone shares values")
	}
	if s.Equal(c) || !s.Equal(s.Clone()) {
		t.Fatal("Equal")
	}
	if _, err := StructOf(schema, int64(1), "a", int32(2), "extra"); err == nil {
		t.Fatal("StructOf with too many values succeeded")
	}
	if _, err := StructOf(schema); err == nil {
		t.Fatal("StructOf without required id succeeded")
	}
	st, err := StructOf(schema, int64(5), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := st.Get("id"); v != int64(5) {
		t.Fatalf("StructOf id = %v", v)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewStruct(non-struct) did not panic")
		}
	}()
	NewStruct(Int32Schema)
}

func TestValuesEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b any
		want bool
	}{
		{nil, []byte(nil), true},
		{[]byte{1}, []byte{1}, true},
		{DecimalFromInt64(15, 1), DecimalFromInt64(150, 2), false}, // BigDecimal.equals: scale matters
		{time.Unix(1, 0), time.Unix(1, 0).UTC(), true},
		{[]any{int32(1), "a"}, []any{int32(1), "a"}, true},
		{map[string]any{"a": []byte{1}}, map[string]any{"a": []byte{1}}, true},
		{map[any]any{int8(1): nil}, map[any]any{int8(1): nil}, true},
		{int32(1), int64(1), false},
	}
	for i, tt := range tests {
		if got := ValuesEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("%d: ValuesEqual(%v, %v) = %v", i, tt.a, tt.b, got)
		}
	}
}

func TestDecimal(t *testing.T) {
	t.Parallel()
	// Unscaled bytes are Java's BigInteger.toByteArray.
	for _, tt := range []struct {
		unscaled int64
		bytes    []byte
	}{
		{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0, 0x80}}, {156, []byte{0, 0x9c}},
		{-1, []byte{0xff}}, {-128, []byte{0x80}}, {-129, []byte{0xff, 0x7f}}, {65535, []byte{0, 0xff, 0xff}},
	} {
		d := DecimalFromInt64(tt.unscaled, 2)
		got := d.UnscaledBytes()
		if string(got) != string(tt.bytes) {
			t.Errorf("UnscaledBytes(%d) = %x, want %x", tt.unscaled, got, tt.bytes)
		}
		back, err := DecimalFromUnscaledBytes(got, 2)
		if err != nil || !back.Equal(d) {
			t.Errorf("round trip %d = %v, %v", tt.unscaled, back, err)
		}
	}
	if _, err := DecimalFromUnscaledBytes(nil, 0); err == nil {
		t.Error("empty bytes accepted")
	}
	// String is BigDecimal.toString.
	for _, tt := range []struct {
		unscaled string
		scale    int32
		want     string
	}{
		{"156", 2, "1.56"}, {"15600", 4, "1.5600"}, {"-156", 2, "-1.56"}, {"5", 3, "0.005"},
		{"1", 6, "0.000001"}, {"1", 7, "1E-7"}, {"123", 10, "1.23E-8"}, {"1", -3, "1E+3"},
		{"12", -1, "1.2E+2"}, {"0", 2, "0.00"}, {"0", 0, "0"}, {"-5", 8, "-5E-8"},
		{"123456789123456789", 17, "1.23456789123456789"},
	} {
		u, _ := new(big.Int).SetString(tt.unscaled, 10)
		if got := NewDecimal(u, tt.scale).String(); got != tt.want {
			t.Errorf("Decimal(%s, %d).String() = %q, want %q", tt.unscaled, tt.scale, got, tt.want)
		}
		back, err := ParseDecimal(tt.want)
		if err != nil || back.Scale() != tt.scale || back.Unscaled().String() != tt.unscaled {
			t.Errorf("ParseDecimal(%q) = %v (scale %d), %v", tt.want, back, back.Scale(), err)
		}
	}
	for _, bad := range []string{"", "-", "1.2.3", "e5", "1e", "abc", "1e+"} {
		if _, err := ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) succeeded", bad)
		}
	}
	d, _ := ParseDecimal("1.5")
	if r, err := d.Rescale(3); err != nil || r.String() != "1.500" {
		t.Errorf("Rescale(3) = %v, %v", r, err)
	}
	if _, err := d.Rescale(0); err == nil {
		t.Error("lossy Rescale succeeded")
	}
	if d.Cmp(DecimalFromInt64(150, 2)) != 0 || d.Float64() != 1.5 {
		t.Error("Cmp/Float64")
	}
}

func TestTemporalLogicalTypes(t *testing.T) {
	t.Parallel()
	day := DateFromDays(10000)
	if want := time.Date(1997, 5, 19, 0, 0, 0, 0, time.UTC); !day.Equal(want) {
		t.Fatalf("DateFromDays(10000) = %v", day)
	}
	if n, err := DateToDays(day); err != nil || n != 10000 {
		t.Fatalf("DateToDays = %d, %v", n, err)
	}
	if n, err := DateToDays(DateFromDays(-1)); err != nil || n != -1 {
		t.Fatalf("DateToDays(-1) = %d, %v", n, err)
	}
	if _, err := DateToDays(day.Add(time.Hour)); err == nil {
		t.Fatal("DateToDays accepted a time of day")
	}
	tm, err := TimeFromMillis(14400000)
	if err != nil || tm.Hour() != 4 {
		t.Fatalf("TimeFromMillis = %v, %v", tm, err)
	}
	if ms, err := TimeToMillis(tm); err != nil || ms != 14400000 {
		t.Fatalf("TimeToMillis = %d, %v", ms, err)
	}
	parsed, _ := time.Parse("15:04:05.000", "04:00:00.001")
	if ms, err := TimeToMillis(parsed); err != nil || ms != 14400001 {
		t.Fatalf("TimeToMillis(time.Parse clock) = %d, %v", ms, err)
	}
	if _, err := TimeToMillis(day); err == nil {
		t.Fatal("TimeToMillis accepted a date")
	}
	if _, err := TimeFromMillis(-1); err == nil {
		t.Fatal("TimeFromMillis(-1) accepted")
	}
	ts := TimestampFromMillis(4000000000)
	if TimestampToMillis(ts) != 4000000000 || ts.Location() != time.UTC {
		t.Fatal("timestamp round trip")
	}
	if TimestampToMillis(time.UnixMilli(-1).Add(500*time.Microsecond)) != -1 {
		t.Fatal("TimestampToMillis must floor")
	}
}
