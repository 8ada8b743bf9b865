package convert

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sluicedata/sluice/connectors"
)

// KeyEncoding is StringConverter's property naming the character set
// (Kafka's "converter.encoding"; default UTF-8).
const KeyEncoding = "converter.encoding"

// StringConverter is Kafka's org.apache.kafka.connect.storage.StringConverter:
// values are written as their string form in the configured encoding and
// read back as an optional STRING. Supported encodings (Java names and
// common aliases, any case): UTF-8, ISO-8859-1, US-ASCII, UTF-16BE,
// UTF-16LE, UTF-16 (big-endian with a byte-order mark). Characters an
// encoding cannot represent are written as '?', as Java does; invalid
// input bytes read as U+FFFD.
//
// Non-string values are written as Java's toString would render them
// (numbers in Java notation, structs as Struct{…}); []byte is written as
// is. Safe for concurrent use after Configure.
type StringConverter struct {
	enc encoding
}

// NewStringConverter returns a UTF-8 StringConverter.
func NewStringConverter() *StringConverter { return &StringConverter{enc: encUTF8} }

var stringConfigDef = connectors.NewConfigDef().
	Define(converterTypeKey()).
	Define(connectors.ConfigKey{Name: KeyEncoding, Type: connectors.ConfigString, Default: "UTF-8",
		Validator: connectors.ValidatorFunc{Desc: "a supported character set", Fn: func(name string, v any) error {
			if _, ok := lookupEncoding(v.(string)); !ok {
				return connectors.NewConfigError(name, v, "Unsupported encoding; supported: UTF-8, ISO-8859-1, US-ASCII, UTF-16, UTF-16BE, UTF-16LE")
			}
			return nil
		}},
		Importance: connectors.ImportanceHigh, Doc: "Character set used to encode strings as bytes.",
		Width: connectors.WidthMedium, DisplayName: "Encoding"})

// Config returns the converter's ConfigDef.
func (c *StringConverter) Config() *connectors.ConfigDef { return stringConfigDef }

// Configure reads converter.encoding.
func (c *StringConverter) Configure(config map[string]string, isKey bool) error {
	cfg, err := stringConfigDef.Parse(withKind(config, KindValue))
	if err != nil {
		return fmt.Errorf("configure StringConverter: %w", err)
	}
	c.enc, _ = lookupEncoding(cfg.String(KeyEncoding))
	return nil
}

// FromConnect writes the string form of value; null stays null.
func (c *StringConverter) FromConnect(_ string, _ *connectors.Schema, value any) ([]byte, error) {
	if connectors.IsNull(value) {
		return nil, nil
	}
	if b, ok := value.([]byte); ok {
		return b, nil
	}
	return c.enc.encode(javaToString(value)), nil
}

// ToConnect returns an optional STRING schema and the decoded string (nil
// for null data).
func (c *StringConverter) ToConnect(_ string, data []byte) (*connectors.Schema, any, error) {
	if data == nil {
		return connectors.OptionalStringSchema, nil, nil
	}
	return connectors.OptionalStringSchema, c.enc.decode(data), nil
}

// javaToString renders v as Java's Object.toString would for the Connect
// representation.
func javaToString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		return x.UTC().Format("Mon Jan 02 15:04:05 MST 2006")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = javaToString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any, map[any]any:
		var keys []any
		get := func(k any) any { return nil }
		if m, ok := x.(map[string]any); ok {
			for k := range m {
				keys = append(keys, k)
			}
			get = func(k any) any { return m[k.(string)] }
		} else {
			m := x.(map[any]any)
			for k := range m {
				keys = append(keys, k)
			}
			get = func(k any) any { return m[k] }
		}
		connectors.JavaHashOrder(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = javaToString(k) + "=" + javaToString(get(k))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case nil:
		return "null"
	}
	return connectors.FormatValue(v)
}

type encoding int8

const (
	encUTF8 encoding = iota
	encLatin1
	encASCII
	encUTF16BE
	encUTF16LE
	encUTF16
)

func lookupEncoding(name string) (encoding, bool) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "UTF-8", "UTF8":
		return encUTF8, true
	case "ISO-8859-1", "ISO8859-1", "ISO8859_1", "ISO_8859_1", "LATIN1", "L1":
		return encLatin1, true
	case "US-ASCII", "ASCII", "ASCII7", "646":
		return encASCII, true
	case "UTF-16BE", "UTF_16BE", "UNICODEBIGUNMARKED":
		return encUTF16BE, true
	case "UTF-16LE", "UTF_16LE", "UNICODELITTLEUNMARKED":
		return encUTF16LE, true
	case "UTF-16", "UTF_16", "UTF16":
		return encUTF16, true
	}
	return 0, false
}

func (e encoding) encode(s string) []byte {
	switch e {
	case encLatin1, encASCII:
		limit := rune(0xFF)
		if e == encASCII {
			limit = 0x7F
		}
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > limit {
				r = '?'
			}
			out = append(out, byte(r))
		}
		return out
	case encUTF16BE, encUTF16LE, encUTF16:
		units := utf16.Encode([]rune(s))
		out := make([]byte, 0, 2*len(units)+2)
		if e == encUTF16 {
			out = append(out, 0xFE, 0xFF)
		}
		for _, u := range units {
			if e == encUTF16LE {
				out = append(out, byte(u), byte(u>>8))
			} else {
				out = append(out, byte(u>>8), byte(u))
			}
		}
		return out
	}
	if utf8.ValidString(s) {
		return []byte(s)
	}
	return []byte(strings.ToValidUTF8(s, "\uFFFD"))
}

func (e encoding) decode(b []byte) string {
	switch e {
	case encLatin1, encASCII:
		var sb strings.Builder
		for _, c := range b {
			if e == encASCII && c > 0x7F {
				sb.WriteRune(utf8.RuneError)
				continue
			}
			sb.WriteRune(rune(c))
		}
		return sb.String()
	case encUTF16BE, encUTF16LE, encUTF16:
		le := e == encUTF16LE
		if e == encUTF16 && len(b) >= 2 {
			switch {
			case b[0] == 0xFE && b[1] == 0xFF:
				b = b[2:]
			case b[0] == 0xFF && b[1] == 0xFE:
				b, le = b[2:], true
			}
		}
		units := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			if le {
				units = append(units, uint16(b[i])|uint16(b[i+1])<<8)
			} else {
				units = append(units, uint16(b[i])<<8|uint16(b[i+1]))
			}
		}
		s := string(utf16.Decode(units))
		if len(b)%2 == 1 {
			s += "\uFFFD"
		}
		return s
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return validUTF8(b)
}

// ByteArrayConverter is Kafka's
// org.apache.kafka.connect.converters.ByteArrayConverter: BYTES values
// pass through unchanged. Safe for concurrent use.
type ByteArrayConverter struct{}

var byteArrayConfigDef = connectors.NewConfigDef().Define(converterTypeKey())

// Config returns the converter's ConfigDef.
func (ByteArrayConverter) Config() *connectors.ConfigDef { return byteArrayConfigDef }

// Configure accepts any config.
func (*ByteArrayConverter) Configure(map[string]string, bool) error { return nil }

// FromConnect returns value, which must be []byte (or null) under a nil or
// BYTES schema.
func (*ByteArrayConverter) FromConnect(_ string, schema *connectors.Schema, value any) ([]byte, error) {
	if schema != nil && schema.Type() != connectors.TypeBytes {
		return nil, &connectors.DataError{Msg: "Invalid schema type for ByteArrayConverter: " + schema.Type().String()}
	}
	if connectors.IsNull(value) {
		return nil, nil
	}
	b, ok := value.([]byte)
	if !ok {
		return nil, &connectors.DataError{Msg: fmt.Sprintf("ByteArrayConverter is not compatible with objects of type %T", value)}
	}
	return b, nil
}

// ToConnect returns an optional BYTES schema and data itself.
func (*ByteArrayConverter) ToConnect(_ string, data []byte) (*connectors.Schema, any, error) {
	if data == nil {
		return connectors.OptionalBytesSchema, nil, nil
	}
	return connectors.OptionalBytesSchema, data, nil
}

// SimpleHeaderConverter is Kafka's default header converter
// (org.apache.kafka.connect.storage.SimpleHeaderConverter): values are
// written as connectors.FormatValue renders them, in UTF-8, and read back
// with connectors.ParseValue, which infers a schema (booleans, the
// smallest integer type, floats, ISO dates/times/timestamps, arrays and
// maps, else STRING). Safe for concurrent use.
type SimpleHeaderConverter struct{}

var simpleHeaderConfigDef = connectors.NewConfigDef()

// Config returns the (empty) ConfigDef.
func (SimpleHeaderConverter) Config() *connectors.ConfigDef { return simpleHeaderConfigDef }

// Configure accepts any config.
func (*SimpleHeaderConverter) Configure(map[string]string) error { return nil }

// FromConnectHeader renders value as a UTF-8 string; null stays null.
func (*SimpleHeaderConverter) FromConnectHeader(_, _ string, _ *connectors.Schema, value any) ([]byte, error) {
	switch x := value.(type) { // what headers mostly hold, as FormatValue writes it
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case string:
		return []byte(x), nil
	}
	if connectors.IsNull(value) {
		return nil, nil
	}
	return []byte(connectors.FormatValue(value)), nil
}

// ToConnectHeader parses data and infers its schema; null gives (nil, nil).
func (*SimpleHeaderConverter) ToConnectHeader(_, _ string, data []byte) (*connectors.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	s := string(data)
	if !utf8.ValidString(s) {
		s = validUTF8(data)
	}
	schema, v := connectors.ParseValue(s)
	return schema, v, nil
}
