package postgres

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Values of schema.name.adjustment.mode and field.name.adjustment.mode.
const (
	AdjustNone        = "none"
	AdjustAvro        = "avro"
	AdjustAvroUnicode = "avro_unicode"
)

// adjustName makes name a valid Avro name as Debezium 3.4's
// SchemaNameAdjuster.validFullname does with the replacement functions
// of mode (ReplacementFunction.UNDERSCORE_REPLACEMENT, UnicodeReplacementFunction,
// and their FieldName variants when field is set):
//
//   - The first character must be a letter or '_'; the others letters,
//     digits, '_' and, in schema names, '.'. With avro_unicode '_' is
//     the escape character and itself replaced.
//   - avro replaces an invalid character by '_'; a digit in first place
//     becomes '_' followed by the digit.
//   - avro_unicode replaces it by "_u" and its UTF-16 code unit in
//     lower-case hex, padded to four digits when it has one or two
//     ("-" → "_u002d"; a three-digit unit is not padded, as in Debezium).
//
// Characters are Java's: UTF-16 code units, so a character outside the
// BMP is two replaced units.
func adjustName(mode string, field bool, name string) string {
	if mode == "" || mode == AdjustNone || name == "" || validAvroName(name, mode, field) {
		return name
	}
	units := utf16.Encode([]rune(name))
	var b strings.Builder
	for i, u := range units {
		if i == 0 && validFirst(u, mode) || i > 0 && validNext(u, mode, field) {
			b.WriteRune(rune(u))
			continue
		}
		if mode == AdjustAvroUnicode {
			hex := strconv.FormatUint(uint64(u), 16)
			if len(hex) <= 2 {
				hex = "00" + hex
			}
			b.WriteString("_u" + hex)
			continue
		}
		b.WriteByte('_')
		if i == 0 && !utf16.IsSurrogate(rune(u)) && unicode.IsDigit(rune(u)) {
			b.WriteRune(rune(u)) // Debezium keeps a leading digit after the '_'
		}
	}
	return b.String()
}

func validAvroName(name, mode string, field bool) bool {
	for i := 0; i < len(name); i++ {
		c := uint16(name[i])
		if name[i] >= 0x80 || i == 0 && !validFirst(c, mode) || i > 0 && !validNext(c, mode, field) {
			return false
		}
	}
	return true
}

// validFirst is ReplacementFunction.isValidFirstCharacter: a letter, or
// '_' except with avro_unicode.
func validFirst(c uint16, mode string) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' && mode != AdjustAvroUnicode
}

// validNext is ReplacementFunction.isValidNonFirstCharacter: a valid
// first character, a digit, or (in schema names) '.'. With avro_unicode
// the underscore is the escape character, valid nowhere.
func validNext(c uint16, mode string, field bool) bool {
	return validFirst(c, mode) || c >= '0' && c <= '9' || c == '.' && !field
}
