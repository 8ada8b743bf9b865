package connectors

import (
	"math"
	"slices"
	"testing"
	"time"
)

// Expected strings are what Java 19+ Double.toString / Float.toString
// print (Kafka renders floats with them).
func TestFormatFloat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    float64
		bits int
		want string
	}{
		{12.34, 64, "12.34"},
		{1.0, 64, "1.0"},
		{100, 64, "100.0"},
		{9999999, 64, "9999999.0"},
		{1e7, 64, "1.0E7"},
		{0.001, 64, "0.001"},
		{0.002, 64, "0.002"},
		{1e-4, 64, "1.0E-4"},
		{1.2345e-5, 64, "1.2345E-5"},
		{1e10, 64, "1.0E10"},
		{123456789, 64, "1.23456789E8"},
		{pointOne + 0.2, 64, "0.30000000000000004"},
		{-2.5, 64, "-2.5"},
		{math.MaxFloat64, 64, "1.7976931348623157E308"},
		{math.SmallestNonzeroFloat64, 64, "4.9E-324"},
		{0, 64, "0.0"},
		{math.Copysign(0, -1), 64, "-0.0"},
		{math.NaN(), 64, "NaN"},
		{math.Inf(1), 64, "Infinity"},
		{math.Inf(-1), 64, "-Infinity"},
		{float64(float32(0.1)), 32, "0.1"},
		{float64(float32(12.34)), 32, "12.34"},
		{float64(float32(1e10)), 32, "1.0E10"},
		{math.MaxFloat32, 32, "3.4028235E38"},
		{math.SmallestNonzeroFloat32, 32, "1.4E-45"},
	}
	for _, tt := range tests {
		if got := FormatFloat(tt.f, tt.bits); got != tt.want {
			t.Errorf("FormatFloat(%v, %d) = %q, want %q", tt.f, tt.bits, got, tt.want)
		}
	}
}

func TestJavaHashOrder(t *testing.T) {
	t.Parallel()
	// "Aa" and "BB" have the same Java hash (2112); "a" is 97, "b" 98,
	// "key1" 3288498 → bucket 0, "key2" bucket 1 of 16.
	tests := []struct {
		in, want []any
	}{
		{[]any{"b", "a"}, []any{"a", "b"}},
		{[]any{"key2", "key1"}, []any{"key1", "key2"}},
		{[]any{int32(17), int32(2), int32(16)}, []any{int32(16), int32(17), int32(2)}},
		{[]any{true, false}, []any{false, true}}, // 1237&15=5, 1231&15=15
		{[]any{"BB", "Aa", "z"}, []any{"Aa", "BB", "z"}},
	}
	for _, tt := range tests {
		got := slices.Clone(tt.in)
		JavaHashOrder(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("JavaHashOrder(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if h, _ := javaHashCode("key1"); h != 3288498 {
		t.Errorf(`hash("key1") = %d`, h)
	}
	if h, _ := javaHashCode("hello world, this overflows"); h != javaStringHashRef("hello world, this overflows") {
		t.Errorf("hash overflow mismatch")
	}
	// 13 keys grow the table to 32 buckets: "a" (97) stays in bucket 1,
	// "q" (113) moves from bucket 1 to 17.
	keys := []string{"q", "a", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"}
	JavaHashOrderStrings(keys)
	if keys[0] != "a" || keys[len(keys)-1] != "q" {
		t.Errorf("resized order = %v", keys)
	}
}

// javaStringHashRef is String.hashCode written out with explicit int32
// wrap-around, for ASCII input.
func javaStringHashRef(s string) int32 {
	var h int64
	for i := 0; i < len(s); i++ {
		h = int64(int32(h*31 + int64(s[i])))
	}
	return int32(h)
}

func TestFormatValue(t *testing.T) {
	t.Parallel()
	schema := StructSchema().Field("id", Int32Schema).Field("name", OptionalStringSchema).MustBuild()
	st, _ := StructOf(schema, int32(1), `x"y`)
	tests := []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{int32(5), "5"},
		{float32(12.34), "12.34"},
		{1e10, "1.0E10"},
		{true, "true"},
		{"plain \"text\"", "plain \"text\""},
		{[]byte{1, 2}, "AQI="},
		{DecimalFromInt64(156, 2), "1.56"},
		{[]any{"a", int32(1), nil, []byte{1}}, `["a",1,null,"AQ=="]`},
		{map[string]any{"k": "v\\"}, `{"k":"v\\"}`},
		{st, `{"id":1,"name":"x\"y"}`},
		{DateFromDays(10000), "1997-05-19"},
		{TimestampFromMillis(10000*millisPerDay + 14400000), "1997-05-19T04:00:00.000Z"},
		{TimestampFromMillis(14400000), "04:00:00.000Z"},
	}
	for _, tt := range tests {
		if got := FormatValue(tt.v); got != tt.want {
			t.Errorf("FormatValue(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestParseValue(t *testing.T) {
	t.Parallel()
	big, _ := ParseDecimal("123456789012345678901234567890")
	tests := []struct {
		in     string
		schema *Schema
		value  any
	}{
		{"", StringSchema, ""},
		{"null", nil, nil},
		{"true", BooleanSchema, true},
		{"false", BooleanSchema, false},
		{"12", Int8Schema, int8(12)},
		{"-300", Int16Schema, int16(-300)},
		{"70000", Int32Schema, int32(70000)},
		{"5000000000", Int64Schema, int64(5000000000)},
		{"12.34", Float32Schema, float32(12.34)},
		{"1.0", Int8Schema, int8(1)},
		{"123456789012345678901234567890", DecimalSchema(0), big},
		{"hello", StringSchema, "hello"},
		{"true}", StringSchema, "true}"},
		{"12 apples", StringSchema, "12 apples"},
		{"1997-05-19", DateSchema, DateFromDays(10000)},
		{"04:00:00.000Z", TimeSchema, TimestampFromMillis(14400000)},
		{"1997-05-19T04:00:00.000Z", TimestampSchema, TimestampFromMillis(10000*millisPerDay + 14400000)},
		{"[1,2,3]", ArraySchema(Int8Schema).MustBuild(), []any{int8(1), int8(2), int8(3)}},
		{"[1, 300]", ArraySchema(Int16Schema).MustBuild(), []any{int16(1), int16(300)}},
		{`["a","b"]`, ArraySchema(StringSchema).MustBuild(), []any{"a", "b"}},
		{`{"a":1,"b":2}`, MapSchema(StringSchema, Int8Schema).MustBuild(), map[string]any{"a": int8(1), "b": int8(2)}},
		{`[1,null]`, StringSchema, `[1,null]`},
		{`[1,`, StringSchema, `[1,`},
	}
	for _, tt := range tests {
		s, v := ParseValue(tt.in)
		if !s.Equal(tt.schema) || !ValuesEqual(v, tt.value) {
			t.Errorf("ParseValue(%q) = %v %#v, want %v %#v", tt.in, s, v, tt.schema, tt.value)
		}
	}
	// Mixed element types leave the element schema unknown, as in Kafka.
	s, v := ParseValue(`[1,"a"]`)
	if s.Type() != TypeArray || s.ValueSchema() != nil || !ValuesEqual(v, []any{int8(1), "a"}) {
		t.Errorf("ParseValue mixed = %v %#v", s, v)
	}
	// FormatValue and ParseValue round-trip the common header types.
	for _, v := range []any{int8(3), int64(1) << 40, float32(2.5), true, "x", DateFromDays(3), time.UnixMilli(123456789012).UTC()} {
		_, back := ParseValue(FormatValue(v))
		if !ValuesEqual(back, v) {
			t.Errorf("round trip %#v -> %q -> %#v", v, FormatValue(v), back)
		}
	}
}

// pointOne is a variable so that 0.1+0.2 is computed in float64, not
// folded exactly by the compiler.
var pointOne = 0.1
