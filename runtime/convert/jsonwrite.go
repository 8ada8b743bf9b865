package convert

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/sluicedata/sluice/connectors"
)

// The JSON writers below produce exactly the bytes Jackson's default
// ObjectMapper writes for Kafka's JsonConverter: compact, members in
// insertion order, strings with Jackson's escapes, numbers in Java's
// notation, binary as padded standard base64.

const hexUpper = "0123456789ABCDEF"

// appendJSONString appends s as a JSON string escaped as Jackson does:
// '"' and '\\' and the control characters below 0x20 are escaped (\b, \t,
// \n, \f, \r short, the rest as \u00XX with upper-case hex); everything
// else, '/' and non-ASCII included, is written as UTF-8. Invalid UTF-8
// becomes U+FFFD, as a Java string would have it.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONFloat appends f as Jackson writes a float or double: Java's
// Float.toString/Double.toString, and non-finite values as the quoted
// strings "NaN", "Infinity", "-Infinity" (QUOTE_NON_NUMERIC_NUMBERS).
func appendJSONFloat(b []byte, f float64, bitSize int) []byte {
	s := connectors.FormatFloat(f, bitSize)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(append(append(b, '"'), s...), '"')
	}
	return append(b, s...)
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
