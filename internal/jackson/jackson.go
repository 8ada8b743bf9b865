// Package jackson writes JSON text byte for byte as Jackson's default
// ObjectMapper does, for the places that must print what a Java Kafka
// Connect worker or Debezium prints: Kafka's JsonConverter
// (runtime/convert) and the JSON values Debezium renders itself (the
// Postgres connector's hstore).
package jackson

import "unicode/utf8"

const hexUpper = "0123456789ABCDEF"

// plainASCII marks the bytes AppendString writes as they are.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s as a JSON string escaped as Jackson does:
// '"' and '\\' and the control characters below 0x20 are escaped (\b, \t,
// \n, \f, \r short, the rest as \u00XX with upper-case hex); everything
// else, '/' and non-ASCII included, is written as UTF-8. Invalid UTF-8
// becomes U+FFFD, as a Java string would have it.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	i := 0
	for i < len(s) && plainASCII[s[i]] {
		i++
	}
	if i == len(s) { // nearly always
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if plainASCII[c] {
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
