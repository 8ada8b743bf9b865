package connectors

import (
	"testing"
)

// TestParseSmallIntMatchesDecimalPath pins that the integer fast path of
// ParseValue gives what the decimal path gives.
func TestParseSmallIntMatchesDecimalPath(t *testing.T) {
	for _, s := range []string{"0", "7", "-7", "+7", "007", "127", "128", "-128", "-129", "32767", "32768",
		"2147483647", "2147483648", "-2147483649", "999999999999999999", "-999999999999999999"} {
		fs, fv, ok := parseSmallInt(s)
		if !ok {
			t.Fatalf("%q: fast path refused", s)
		}
		d, err := ParseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		ss, sv := numberValue(d)
		if fs != ss || fv != sv {
			t.Fatalf("%q: fast %v %#v, decimal %v %#v", s, fs, fv, ss, sv)
		}
	}
	for _, s := range []string{"", "-", "1.5", "1e3", "9999999999999999999", "2026-01-02", "12:00:00", "x1"} {
		if _, _, ok := parseSmallInt(s); ok {
			t.Fatalf("%q: fast path took it", s)
		}
	}
}

func BenchmarkParseValueInt(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, v := ParseValue("1234"); v != int16(1234) {
			b.Fatalf("%#v", v)
		}
	}
}
