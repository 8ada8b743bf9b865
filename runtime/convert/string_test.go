package convert

import (
	"errors"
	"math"
	"strings"
	"testing"

	c "github.com/sluicedata/sluice/connectors"
)

func TestStringConverter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		encoding string
		in       string
		bytes    string
	}{
		{"", "héllo €", "h\xc3\xa9llo \xe2\x82\xac"},
		{"UTF8", "é", "\xc3\xa9"},
		{"ISO-8859-1", "héllo €", "h\xe9llo ?"},
		{"us-ascii", "hé", "h?"},
		{"UTF-16BE", "a€", "\x00a\x20\xac"},
		{"UTF-16LE", "a", "a\x00"},
		{"UTF-16", "a", "\xfe\xff\x00a"},
	}
	for _, tt := range tests {
		conv := NewStringConverter()
		cfg := map[string]string{}
		if tt.encoding != "" {
			cfg[KeyEncoding] = tt.encoding
		}
		if err := conv.Configure(cfg, true); err != nil {
			t.Fatal(err)
		}
		b, err := conv.FromConnect("t", c.StringSchema, tt.in)
		if err != nil || string(b) != tt.bytes {
			t.Errorf("%s: FromConnect(%q) = %q, %v; want %q", tt.encoding, tt.in, b, err, tt.bytes)
		}
		s, v, err := conv.ToConnect("t", []byte(tt.bytes))
		if err != nil || s != c.OptionalStringSchema || !strings.Contains(tt.in, strings.TrimSuffix(v.(string), "?")[:1]) {
			t.Errorf("%s: ToConnect = %v %q %v", tt.encoding, s, v, err)
		}
	}
	conv := NewStringConverter()
	for v, want := range map[any]string{int32(12): "12", 1e10: "1.0E10", true: "true", c.DecimalFromInt64(156, 2): "1.56"} {
		if b, _ := conv.FromConnect("t", nil, v); string(b) != want {
			t.Errorf("FromConnect(%v) = %q, want %q", v, b, want)
		}
	}
	if b, _ := conv.FromConnect("t", nil, []any{"a", int64(1)}); string(b) != "[a, 1]" {
		t.Errorf("list = %q", b)
	}
	if b, err := conv.FromConnect("t", c.OptionalStringSchema, nil); b != nil || err != nil {
		t.Errorf("null = %q, %v", b, err)
	}
	if s, v, _ := conv.ToConnect("t", nil); s != c.OptionalStringSchema || v != nil {
		t.Errorf("ToConnect(nil) = %v %v", s, v)
	}
	if _, v, _ := conv.ToConnect("t", []byte("a\xffb")); v != "a\uFFFDb" {
		t.Errorf("invalid UTF-8 = %q", v)
	}
	err := NewStringConverter().Configure(map[string]string{KeyEncoding: "EBCDIC"}, false)
	if err == nil || !errors.Is(err, c.ErrInvalidConfig) || !strings.Contains(err.Error(), "Invalid value EBCDIC for configuration converter.encoding") {
		t.Errorf("bad encoding = %v", err)
	}
}

func TestByteArrayConverter(t *testing.T) {
	t.Parallel()
	conv := &ByteArrayConverter{}
	if b, err := conv.FromConnect("t", c.BytesSchema, []byte{1, 2}); err != nil || string(b) != "\x01\x02" {
		t.Fatalf("FromConnect = %v %v", b, err)
	}
	if _, err := conv.FromConnect("t", c.StringSchema, "x"); err == nil || err.Error() != "Invalid schema type for ByteArrayConverter: STRING" {
		t.Fatalf("schema error = %v", err)
	}
	if _, err := conv.FromConnect("t", nil, "x"); err == nil || err.Error() != "ByteArrayConverter is not compatible with objects of type string" {
		t.Fatalf("type error = %v", err)
	}
	if s, v, _ := conv.ToConnect("t", []byte{3}); s != c.OptionalBytesSchema || v.([]byte)[0] != 3 {
		t.Fatalf("ToConnect = %v %v", s, v)
	}
	if b, err := conv.FromConnect("t", nil, nil); b != nil || err != nil {
		t.Fatal("null")
	}
}

func TestSimpleHeaderConverter(t *testing.T) {
	t.Parallel()
	h := &SimpleHeaderConverter{}
	tests := []struct {
		schema *c.Schema
		value  any
		text   string
	}{
		{c.StringSchema, "hello", "hello"},
		{c.BooleanSchema, true, "true"},
		{c.Int8Schema, int8(12), "12"},
		{c.Int32Schema, int32(70000), "70000"},
		{c.Int64Schema, int64(5000000000), "5000000000"},
		{c.Float32Schema, float32(12.5), "12.5"},
		{c.DateSchema, c.DateFromDays(10000), "1997-05-19"},
		{c.ArraySchema(c.StringSchema).MustBuild(), []any{"a", "b"}, `["a","b"]`},
	}
	for _, tt := range tests {
		b, err := h.FromConnectHeader("t", "k", tt.schema, tt.value)
		if err != nil || string(b) != tt.text {
			t.Errorf("FromConnectHeader(%v) = %q, %v; want %q", tt.value, b, err, tt.text)
		}
		s, v, err := h.ToConnectHeader("t", "k", b)
		if err != nil || !s.Equal(tt.schema) || !c.ValuesEqual(v, tt.value) {
			t.Errorf("ToConnectHeader(%q) = %v %#v %v; want %v %#v", b, s, v, err, tt.schema, tt.value)
		}
	}
	for _, v := range []any{int64(math.MinInt64), int64(-1), int32(math.MinInt32), "", "a\xffb", int64(0)} {
		if b, err := h.FromConnectHeader("t", "k", nil, v); err != nil || b == nil || string(b) != c.FormatValue(v) {
			t.Errorf("FromConnectHeader(%#v) = %q, %v; want %q", v, b, err, c.FormatValue(v))
		}
	}
	if b, _ := h.FromConnectHeader("t", "k", nil, nil); b != nil {
		t.Error("null header")
	}
	if s, v, _ := h.ToConnectHeader("t", "k", nil); s != nil || v != nil {
		t.Error("null header read")
	}
	// Any Converter can serve for headers.
	jh := AsHeaderConverter(NewJSONConverter())
	if err := jh.Configure(map[string]string{"schemas.enable": "false"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := jh.FromConnectHeader("t", "k", c.StringSchema, "x"); string(b) != `"x"` {
		t.Errorf("json header = %s", b)
	}
}
