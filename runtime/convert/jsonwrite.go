package convert

import (
	"encoding/base64"
	"math"
	"strconv"

	"github.com/sluicedata/sluice/internal/jackson"
)

// The JSON writers below produce exactly the bytes Jackson's default
// ObjectMapper writes for Kafka's JsonConverter: compact, members in
// insertion order, strings with Jackson's escapes, numbers in Java's
// notation, binary as padded standard base64.

// appendJSONString appends s as a JSON string escaped as Jackson does
// (jackson.AppendString).
func appendJSONString(b []byte, s string) []byte { return jackson.AppendString(b, s) }

// appendJSONFloat appends f as Jackson writes a float or double: Java's
// Float.toString/Double.toString, and non-finite values as the quoted
// strings "NaN", "Infinity", "-Infinity" (QUOTE_NON_NUMERIC_NUMBERS).
func appendJSONFloat(b []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return appendJavaFloat(b, f, bitSize)
}

// appendJavaFloat appends the finite f as connectors.FormatFloat formats
// it (Java's Double.toString / Float.toString), without allocating: the
// shortest round-tripping digits, plain for magnitudes in [1e-3, 1e7),
// computerized scientific notation ("1.0E7") otherwise.
func appendJavaFloat(b []byte, f float64, bitSize int) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var dbuf [32]byte
	abs := math.Abs(f)
	digits, exp := javaDigits(dbuf[:0], abs, bitSize)
	if f < 0 {
		b = append(b, '-')
	}
	if abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				b = append(b, digits...)
				for range exp + 1 - len(digits) {
					b = append(b, '0')
				}
				return append(b, '.', '0')
			}
			b = append(b, digits[:exp+1]...)
			b = append(b, '.')
			return append(b, digits[exp+1:]...)
		}
		b = append(b, '0', '.')
		for range -exp - 1 {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	b = append(b, digits[0], '.')
	if len(digits) > 1 {
		b = append(b, digits[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

// javaDigits is connectors' shortestDigits for a positive finite abs: it
// appends the decimal digits to dst and returns them with the exponent of
// the first digit. Java prefers a two-digit decimal closer to abs when the
// shortest is a single digit.
func javaDigits(dst []byte, abs float64, bitSize int) ([]byte, int) {
	var sbuf [32]byte
	s := strconv.AppendFloat(sbuf[:0], abs, 'e', -1, bitSize)
	digits, exp := splitExp(dst, s)
	if len(digits) == 1 {
		var s2buf [32]byte
		s2 := strconv.AppendFloat(s2buf[:0], abs, 'e', 1, bitSize)
		if back, err := strconv.ParseFloat(string(s2), bitSize); err == nil && back == abs {
			d2, e2 := splitExp(dst[:0], s2)
			if d2[1] != '0' {
				return d2, e2
			}
			digits, exp = splitExp(dst[:0], s) // d2 overwrote dst
		}
	}
	return digits, exp
}

// splitExp splits strconv's 'e' format ("d.ddde±xx") into its digits,
// appended to dst, and the exponent.
func splitExp(dst, s []byte) ([]byte, int) {
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] != '.' {
			dst = append(dst, s[i])
		}
	}
	i++ // 'e'
	neg := s[i] == '-'
	i++ // sign
	exp := 0
	for ; i < len(s); i++ {
		exp = exp*10 + int(s[i]-'0')
	}
	if neg {
		exp = -exp
	}
	return dst, exp
}

// appendJSONBytes appends data as a base64 JSON string (Jackson's default
// MIME-no-linefeeds variant: standard alphabet, padded).
func appendJSONBytes(b []byte, data []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, data)
	return append(b, '"')
}

func appendJSONInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// decodeBase64 decodes Jackson-style base64: standard alphabet, padding
// optional.
func decodeBase64(s string) ([]byte, error) {
	if len(s)%4 != 0 {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.StdEncoding.DecodeString(s)
}
