package convert

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonKind is the kind of a parsed JSON node.
type jsonKind uint8

const (
	jsonNull jsonKind = iota + 1
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// String returns Jackson's JsonNodeType name, used in Kafka's messages.
func (k jsonKind) String() string {
	switch k {
	case jsonNull:
		return "NULL"
	case jsonBool:
		return "BOOLEAN"
	case jsonNumber:
		return "NUMBER"
	case jsonString:
		return "STRING"
	case jsonArray:
		return "ARRAY"
	case jsonObject:
		return "OBJECT"
	}
	return "MISSING"
}

// jsonNode is a parsed JSON value that keeps object member order (schema
// parameters are ordered) and the exact text of numbers (decimals keep
// their scale, big integers their digits), like Jackson's tree with
// USE_BIG_DECIMAL_FOR_FLOATS.
type jsonNode struct {
	kind  jsonKind
	b     bool
	s     string // string value, or the number's literal text
	elems []*jsonNode
	mems  []jsonMember
	// start and end are the node's byte range in the input.
	start, end int
}

type jsonMember struct {
	key string
	val *jsonNode
}

// get returns the member called key of an object node, or nil.
func (n *jsonNode) get(key string) *jsonNode {
	if n == nil || n.kind != jsonObject {
		return nil
	}
	for _, m := range n.mems {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// isNull reports whether n is absent or JSON null.
func (n *jsonNode) isNull() bool { return n == nil || n.kind == jsonNull }

// integral reports whether a number node is written without fraction or
// exponent (Jackson's isIntegralNumber).
func (n *jsonNode) integral() bool {
	if n.kind != jsonNumber {
		return false
	}
	for i := 0; i < len(n.s); i++ {
		if c := n.s[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// SyntaxError is malformed JSON, with where it was found.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Line   int // 1-based
	Column int // 1-based, in bytes
	Msg    string
}

// Error returns "malformed JSON at line L, column C: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

const maxJSONDepth = 1000

type jsonReader struct {
	data  []byte
	i     int
	depth int
}

// parseJSON parses one JSON document. Empty or all-whitespace input gives
// (nil, nil): Jackson's "missing" node. Content after the value is an
// error (Jackson ignores it; we would rather not drop data silently).
func parseJSON(data []byte) (*jsonNode, error) {
	r := &jsonReader{data: data}
	r.skipSpace()
	if r.i == len(data) {
		return nil, nil
	}
	n, err := r.value()
	if err != nil {
		return nil, err
	}
	r.skipSpace()
	if r.i != len(data) {
		return nil, r.errorf("unexpected %s after the JSON value", r.describe())
	}
	return n, nil
}

func (r *jsonReader) errorf(format string, a ...any) error {
	line, col := 1, 1
	for _, c := range r.data[:min(r.i, len(r.data))] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Offset: r.i, Line: line, Column: col, Msg: fmt.Sprintf(format, a...)}
}

func (r *jsonReader) describe() string {
	if r.i >= len(r.data) {
		return "end of input"
	}
	c, _ := utf8.DecodeRune(r.data[r.i:])
	return "character " + strconv.QuoteRune(c)
}

func (r *jsonReader) skipSpace() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) value() (*jsonNode, error) {
	r.skipSpace()
	if r.i >= len(r.data) {
		return nil, r.errorf("unexpected end of input, expected a value")
	}
	start := r.i
	switch c := r.data[r.i]; {
	case c == '{':
		return r.object()
	case c == '[':
		return r.array()
	case c == '"':
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		return &jsonNode{kind: jsonString, s: s, start: start, end: r.i}, nil
	case c == '-' || c >= '0' && c <= '9':
		return r.number()
	case c == 't':
		return r.literal("true", &jsonNode{kind: jsonBool, b: true})
	case c == 'f':
		return r.literal("false", &jsonNode{kind: jsonBool})
	case c == 'n':
		return r.literal("null", &jsonNode{kind: jsonNull})
	}
	return nil, r.errorf("unexpected %s, expected a value", r.describe())
}

func (r *jsonReader) literal(word string, n *jsonNode) (*jsonNode, error) {
	if len(r.data)-r.i < len(word) || string(r.data[r.i:r.i+len(word)]) != word {
		return nil, r.errorf("unexpected %s, expected a value", r.describe())
	}
	n.start = r.i
	r.i += len(word)
	n.end = r.i
	return n, nil
}

// number accepts JSON numbers, plus leading zeros as Kafka's
// JsonDeserializer does (ALLOW_LEADING_ZEROS_FOR_NUMBERS).
func (r *jsonReader) number() (*jsonNode, error) {
	start := r.i
	if r.data[r.i] == '-' {
		r.i++
	}
	digits := func() int {
		n := 0
		for r.i < len(r.data) && r.data[r.i] >= '0' && r.data[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return nil, r.errorf("unexpected %s in a number, expected a digit", r.describe())
	}
	if r.i < len(r.data) && r.data[r.i] == '.' {
		r.i++
		if digits() == 0 {
			return nil, r.errorf("unexpected %s in a number, expected a digit after '.'", r.describe())
		}
	}
	if r.i < len(r.data) && (r.data[r.i] == 'e' || r.data[r.i] == 'E') {
		r.i++
		if r.i < len(r.data) && (r.data[r.i] == '+' || r.data[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return nil, r.errorf("unexpected %s in a number, expected an exponent", r.describe())
		}
	}
	return &jsonNode{kind: jsonNumber, s: string(r.data[start:r.i]), start: start, end: r.i}, nil
}

func (r *jsonReader) str() (string, error) {
	r.i++ // opening quote
	start := r.i
	// Fast path: no escapes.
	for r.i < len(r.data) {
		c := r.data[r.i]
		if c == '"' {
			s := r.data[start:r.i]
			r.i++
			if utf8.Valid(s) {
				return string(s), nil
			}
			return validUTF8(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		r.i++
	}
	buf, err := r.unescape(append([]byte(nil), r.data[start:r.i]...))
	if err != nil {
		return "", err
	}
	if utf8.Valid(buf) {
		return string(buf), nil
	}
	return validUTF8(buf), nil
}

// unescape reads the rest of a string, from r.i (where an escape or a
// control character was found) to past the closing quote, appending the
// decoded bytes to buf. They are at most as many as the bytes read.
func (r *jsonReader) unescape(buf []byte) ([]byte, error) {
	for r.i < len(r.data) {
		c := r.data[r.i]
		switch {
		case c == '"':
			r.i++
			return buf, nil
		case c < 0x20:
			return nil, r.errorf("illegal unescaped control character %#02x in a string", c)
		case c == '\\':
			if r.i+1 >= len(r.data) {
				r.i++
				return nil, r.errorf("unexpected end of input in a string escape")
			}
			r.i++
			switch e := r.data[r.i]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				cp, err := r.hex4()
				if err != nil {
					return nil, err
				}
				if utf16.IsSurrogate(cp) && r.i+6 < len(r.data) && r.data[r.i+1] == '\\' && r.data[r.i+2] == 'u' {
					save := r.i
					r.i += 2
					lo, err := r.hex4()
					if err == nil && utf16.DecodeRune(cp, lo) != utf8.RuneError {
						cp = utf16.DecodeRune(cp, lo)
					} else {
						r.i = save
					}
				}
				buf = utf8.AppendRune(buf, cp)
			default:
				return nil, r.errorf("unrecognized character escape %q", e)
			}
			r.i++
		default:
			buf = append(buf, c)
			r.i++
		}
	}
	return nil, r.errorf("unexpected end of input in a string")
}

// hex4 reads the four hex digits after "\u"; r.i is at 'u' and is left on
// the last digit.
func (r *jsonReader) hex4() (rune, error) {
	if r.i+4 >= len(r.data) {
		r.i = len(r.data)
		return 0, r.errorf("unexpected end of input in a \\u escape")
	}
	v, err := strconv.ParseUint(string(r.data[r.i+1:r.i+5]), 16, 16)
	if err != nil {
		r.i++
		return 0, r.errorf("invalid \\u escape")
	}
	r.i += 4
	return rune(v), nil
}

func (r *jsonReader) enter() error {
	r.depth++
	if r.depth > maxJSONDepth {
		return r.errorf("nesting deeper than %d", maxJSONDepth)
	}
	return nil
}

func (r *jsonReader) array() (*jsonNode, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	n := &jsonNode{kind: jsonArray, start: r.i, elems: []*jsonNode{}}
	r.i++
	r.skipSpace()
	if r.i < len(r.data) && r.data[r.i] == ']' {
		r.i++
		n.end = r.i
		r.depth--
		return n, nil
	}
	for {
		e, err := r.value()
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, e)
		r.skipSpace()
		if r.i >= len(r.data) {
			return nil, r.errorf("unexpected end of input in an array, expected ',' or ']'")
		}
		switch r.data[r.i] {
		case ',':
			r.i++
		case ']':
			r.i++
			n.end = r.i
			r.depth--
			return n, nil
		default:
			return nil, r.errorf("unexpected %s in an array, expected ',' or ']'", r.describe())
		}
	}
}

func (r *jsonReader) object() (*jsonNode, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	n := &jsonNode{kind: jsonObject, start: r.i}
	r.i++
	r.skipSpace()
	if r.i < len(r.data) && r.data[r.i] == '}' {
		r.i++
		n.end = r.i
		r.depth--
		return n, nil
	}
	for {
		r.skipSpace()
		if r.i >= len(r.data) || r.data[r.i] != '"' {
			return nil, r.errorf("unexpected %s in an object, expected a field name in double quotes", r.describe())
		}
		key, err := r.str()
		if err != nil {
			return nil, err
		}
		r.skipSpace()
		if r.i >= len(r.data) || r.data[r.i] != ':' {
			return nil, r.errorf("unexpected %s after field name %q, expected ':'", r.describe(), key)
		}
		r.i++
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		// A repeated name replaces the earlier value in place, as
		// Jackson's ObjectNode does.
		replaced := false
		for j := range n.mems {
			if n.mems[j].key == key {
				n.mems[j].val, replaced = v, true
				break
			}
		}
		if !replaced {
			n.mems = append(n.mems, jsonMember{key: key, val: v})
		}
		r.skipSpace()
		if r.i >= len(r.data) {
			return nil, r.errorf("unexpected end of input in an object, expected ',' or '}'")
		}
		switch r.data[r.i] {
		case ',':
			r.i++
		case '}':
			r.i++
			n.end = r.i
			r.depth--
			return n, nil
		default:
			return nil, r.errorf("unexpected %s in an object, expected ',' or '}'", r.describe())
		}
	}
}

// validUTF8 replaces each invalid byte with U+FFFD, as Java's decoder does.
func validUTF8(b []byte) string {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
			b = b[1:]
			continue
		}
		out = append(out, b[:size]...)
		b = b[size:]
	}
	return string(out)
}
