package connectors

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// FormatFloat formats f as Java's Double.toString (bitSize 64) or
// Float.toString (bitSize 32) do on JDK 19 and later, which is how Kafka
// Connect renders floating-point numbers in JSON, header strings and
// config defaults: the shortest digits that round-trip, in plain notation
// ("12.34", "100.0") for magnitudes in [1e-3, 1e7) and computerized
// scientific notation ("1.0E7", "1.5E-4") otherwise; "NaN", "Infinity",
// "-Infinity" for the special values.
func FormatFloat(f float64, bitSize int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	digits, exp := shortestDigits(f, bitSize)
	var b strings.Builder
	if f < 0 {
		b.WriteByte('-')
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				b.WriteString(digits)
				b.WriteString(strings.Repeat("0", exp+1-len(digits)))
				b.WriteString(".0")
			} else {
				b.WriteString(digits[:exp+1])
				b.WriteByte('.')
				b.WriteString(digits[exp+1:])
			}
		} else {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -exp-1))
			b.WriteString(digits)
		}
		return b.String()
	}
	b.WriteByte(digits[0])
	b.WriteByte('.')
	if len(digits) > 1 {
		b.WriteString(digits[1:])
	} else {
		b.WriteByte('0')
	}
	b.WriteByte('E')
	b.WriteString(strconv.Itoa(exp))
	return b.String()
}

// shortestDigits returns the decimal digits (no leading zeros, no trailing
// zeros beyond the first) and the exponent of the first digit, choosing as
// Java does: the shortest decimal that rounds to f, except that when that
// is one digit long a two-digit decimal closer to f is preferred (this is
// what makes Double.MIN_VALUE print as 4.9E-324).
func shortestDigits(f float64, bitSize int) (string, int) {
	s := strconv.FormatFloat(math.Abs(f), 'e', -1, bitSize)
	mant, e, _ := strings.Cut(s, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(e)
	if len(digits) == 1 {
		s2 := strconv.FormatFloat(math.Abs(f), 'e', 1, bitSize)
		if back, err := strconv.ParseFloat(s2, bitSize); err == nil && back == math.Abs(f) {
			m2, e2, _ := strings.Cut(s2, "e")
			d2 := strings.Replace(m2, ".", "", 1)
			if d2[1] != '0' {
				x, _ := strconv.Atoi(e2)
				return d2, x
			}
		}
	}
	return digits, exp
}

// JavaHashOrder sorts keys into the iteration order of a java.util.HashMap
// built by inserting them into a new HashMap(), which is the order Kafka
// Connect writes map entries in (the JSON converter decodes objects into a
// HashMap, so Kafka re-encodes them in this order). Keys with Java hash
// codes are string, bool, the Go integer and float types; other keys sort
// last, by FormatValue. Within a hash bucket Java keeps insertion order,
// which a Go map does not have; such ties are broken by key order.
func JavaHashOrder(keys []any) {
	capacity := 16
	for len(keys) > capacity*3/4 {
		capacity *= 2
	}
	type entry struct {
		k      any
		bucket int
		ok     bool
		str    string
	}
	es := make([]entry, len(keys))
	for i, k := range keys {
		h, ok := javaHashCode(k)
		h ^= int32(uint32(h) >> 16)
		es[i] = entry{k: k, bucket: int(uint32(h) & uint32(capacity-1)), ok: ok, str: FormatValue(k)}
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		if a.ok != b.ok {
			if a.ok {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.bucket, b.bucket), cmp.Compare(a.str, b.str))
	})
	for i := range es {
		keys[i] = es[i].k
	}
}

// JavaHashOrderStrings is JavaHashOrder for string keys.
func JavaHashOrderStrings(keys []string) {
	if len(keys) < 2 {
		return
	}
	anys := make([]any, len(keys))
	for i, k := range keys {
		anys[i] = k
	}
	JavaHashOrder(anys)
	for i := range anys {
		keys[i] = anys[i].(string)
	}
}

// javaHashCode returns Java's hashCode of the boxed equivalent of k.
func javaHashCode(k any) (int32, bool) {
	switch v := k.(type) {
	case string:
		var h int32
		for _, c := range utf16.Encode([]rune(v)) {
			h = 31*h + int32(c)
		}
		return h, true
	case bool:
		if v {
			return 1231, true
		}
		return 1237, true
	case int8:
		return int32(v), true
	case int16:
		return int32(v), true
	case int32:
		return v, true
	case int64:
		return int32(v ^ int64(uint64(v)>>32)), true
	case float32:
		bits := math.Float32bits(v)
		if v != v {
			bits = 0x7fc00000
		}
		return int32(bits), true
	case float64:
		bits := math.Float64bits(v)
		if v != v {
			bits = 0x7ff8000000000000
		}
		return int32(bits ^ bits>>32), true
	}
	return 0, false
}
