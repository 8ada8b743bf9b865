package connectors

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// FormatValue renders a Connect value as a string the way Kafka's
// Values.convertToString does (it is what SimpleHeaderConverter writes):
// numbers in Java's notation, booleans as true/false, strings as is,
// bytes as standard base64, Decimal as BigDecimal.toString, time.Time as
// "HH:mm:ss.SSSZ" (before the second day of the epoch), "yyyy-MM-dd"
// (midnight) or "yyyy-MM-ddTHH:mm:ss.SSSZ" in UTC, and arrays, maps and
// structs as "[a,b]" / "{k:v}" with strings inside them quoted. Null is
// "null". Maps are written in JavaHashOrder.
func FormatValue(v any) string {
	var b strings.Builder
	appendValue(&b, v, false)
	return b.String()
}

func appendValue(b *strings.Builder, v any, embedded bool) {
	if IsNull(v) {
		b.WriteString("null")
		return
	}
	switch x := v.(type) {
	case string:
		if embedded {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(x, `\`, `\\`), `"`, `\"`))
			b.WriteByte('"')
		} else {
			b.WriteString(x)
		}
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int8:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int16:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float32:
		b.WriteString(FormatFloat(float64(x), 32))
	case float64:
		b.WriteString(FormatFloat(x, 64))
	case Decimal:
		b.WriteString(x.String())
	case []byte:
		if embedded {
			b.WriteByte('"')
		}
		b.WriteString(base64.StdEncoding.EncodeToString(x))
		if embedded {
			b.WriteByte('"')
		}
	case time.Time:
		b.WriteString(formatTemporal(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			appendValue(b, e, true)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		JavaHashOrderStrings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			appendValue(b, k, true)
			b.WriteByte(':')
			appendValue(b, x[k], true)
		}
		b.WriteByte('}')
	case map[any]any:
		keys := make([]any, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		JavaHashOrder(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			appendValue(b, k, true)
			b.WriteByte(':')
			appendValue(b, x[k], true)
		}
		b.WriteByte('}')
	case *Struct:
		b.WriteByte('{')
		for i, f := range x.schema.fields {
			if i > 0 {
				b.WriteByte(',')
			}
			appendValue(b, f.name, true)
			b.WriteByte(':')
			appendValue(b, x.GetField(f), true)
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, v)
	}
}

const (
	isoDate      = "2006-01-02"
	isoTime      = "15:04:05.000Z"
	isoTimestamp = "2006-01-02T15:04:05.000Z"
)

func formatTemporal(t time.Time) string {
	ms := t.UnixMilli()
	u := t.UTC()
	switch {
	case ms < millisPerDay:
		return u.Format(isoTime)
	case ms%millisPerDay == 0:
		return u.Format(isoDate)
	}
	return u.Format(isoTimestamp)
}

// ParseValue infers a schema and value from a string, as Kafka's
// Values.parseString does for SimpleHeaderConverter. It handles "" (an
// empty STRING), "null" (nil schema and value), true/false (BOOLEAN),
// integers (the smallest of INT8…INT64 that holds them), other numbers
// (FLOAT32 when it is finite, else FLOAT64, else Decimal), ISO-8601 dates
// "yyyy-MM-dd", times "HH:mm:ss.SSSZ" and timestamps
// "yyyy-MM-ddTHH:mm:ss.SSSZ" (UTC), and arrays "[…]" and maps "{k:v}" of
// such values with quoted strings, with numeric element types widened to
// a common type. Anything else is a STRING holding s unchanged.
func ParseValue(s string) (*Schema, any) {
	switch s {
	case "":
		return StringSchema, ""
	case "null":
		return nil, nil
	case "true":
		return BooleanSchema, true
	case "false":
		return BooleanSchema, false
	}
	if s[0] == '[' || s[0] == '{' {
		p := &valueParser{s: s}
		if sch, v, err := p.parse(); err == nil {
			p.skipSpace()
			if p.i == len(s) {
				return sch, v
			}
		}
	}
	t := strings.TrimSpace(s)
	if sch, v, ok := parseScalar(t); ok {
		return sch, v
	}
	return StringSchema, s
}

func parseScalar(t string) (*Schema, any, bool) {
	if t == "" {
		return nil, nil, false
	}
	if sch, v, ok := parseSmallInt(t); ok {
		return sch, v, true
	}
	c := t[0]
	if c >= '0' && c <= '9' {
		if sch, v, ok := parseTemporal(t); ok {
			return sch, v, true
		}
	}
	if c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.' {
		if d, err := ParseDecimal(t); err == nil {
			sch, v := numberValue(d)
			return sch, v, true
		}
	}
	return nil, nil, false
}

// parseSmallInt is the fast path of parseScalar for what most headers
// hold: an optionally signed run of at most 18 digits, which no temporal
// layout matches and which always fits an int64. It picks the smallest
// integer type (smallestInt) as numberValue does, without a decimal.
func parseSmallInt(t string) (*Schema, any, bool) {
	digits := t
	if len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return nil, nil, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return nil, nil, false
		}
	}
	i, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return nil, nil, false
	}
	sch, v := smallestInt(i)
	return sch, v, true
}

// smallestInt is i as the smallest Connect integer type that holds it, as
// Kafka's Values picks Byte, Short, Integer or Long.
func smallestInt(i int64) (*Schema, any) {
	switch {
	case i == int64(int8(i)):
		return Int8Schema, int8(i)
	case i == int64(int16(i)):
		return Int16Schema, int16(i)
	case i == int64(int32(i)):
		return Int32Schema, int32(i)
	}
	return Int64Schema, i
}

func parseTemporal(t string) (*Schema, any, bool) {
	t = strings.ReplaceAll(t, `\:`, ":")
	var layout string
	var sch *Schema
	switch len(t) {
	case len(isoTime):
		layout, sch = isoTime, TimeSchema
	case len(isoTimestamp):
		layout, sch = isoTimestamp, TimestampSchema
	case len(isoDate):
		layout, sch = isoDate, DateSchema
	default:
		return nil, nil, false
	}
	v, err := time.ParseInLocation(layout, t, time.UTC)
	if err != nil {
		return nil, nil, false
	}
	if sch == TimeSchema {
		v = time.Date(1970, 1, 1, v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
	}
	return sch, v, true
}

var (
	longMin = big.NewInt(math.MinInt64)
	longMax = big.NewInt(math.MaxInt64)
)

// numberValue picks Kafka's schema for a parsed number (Values.parseAsNumber).
func numberValue(d Decimal) (*Schema, any) {
	if r := d.Rat(); r.IsInt() {
		n := r.Num()
		if n.Cmp(longMin) >= 0 && n.Cmp(longMax) <= 0 {
			return smallestInt(n.Int64())
		}
	}
	if d.scale != 0 {
		f64 := d.Float64()
		if f32 := float32(f64); !math.IsInf(float64(f32), 0) {
			f32, _ = d.Rat().Float32()
			return Float32Schema, f32
		}
		if !math.IsInf(f64, 0) {
			return Float64Schema, f64
		}
	}
	return DecimalSchema(int(d.scale)), d
}

// valueParser parses the embedded grammar of arrays and maps.
type valueParser struct {
	s string
	i int
}

func (p *valueParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *valueParser) errorf(format string, a ...any) error {
	return &DataError{Msg: fmt.Sprintf(format, a...) + " at " + strconv.Itoa(p.i) + " in " + p.s}
}

func (p *valueParser) parse() (*Schema, any, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, nil, p.errorf("missing value")
	}
	switch p.s[p.i] {
	case '"':
		return p.parseQuoted()
	case '[':
		return p.parseArray()
	case '{':
		return p.parseMap()
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(",:]}", rune(p.s[p.i])) {
		if p.s[p.i] == '\\' && p.i+1 < len(p.s) {
			p.i++
		}
		p.i++
	}
	tok := strings.TrimSpace(p.s[start:p.i])
	// A time or timestamp contains colons; take the longest run that
	// parses as one.
	if tok != "" && tok[0] >= '0' && tok[0] <= '9' {
		for _, n := range []int{len(isoTimestamp), len(isoTime)} {
			if start+n <= len(p.s) {
				if sch, v, ok := parseTemporal(p.s[start : start+n]); ok {
					p.i = start + n
					return sch, v, nil
				}
			}
		}
	}
	switch tok {
	case "null":
		return nil, nil, nil
	case "true":
		return BooleanSchema, true, nil
	case "false":
		return BooleanSchema, false, nil
	}
	if sch, v, ok := parseScalar(tok); ok {
		return sch, v, nil
	}
	return nil, nil, p.errorf("Failed to parse embedded value")
}

func (p *valueParser) parseQuoted() (*Schema, any, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s):
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case c == '"':
			p.i++
			str := b.String()
			if sch, v, ok := parseTemporal(str); ok {
				return sch, v, nil
			}
			return StringSchema, str, nil
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return nil, nil, p.errorf("missing closing quote")
}

func (p *valueParser) parseArray() (*Schema, any, error) {
	p.i++ // [
	var (
		vals   = []any{}
		merger schemaMerger
	)
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, nil, p.errorf("Array is missing terminating ']'")
		}
		if p.s[p.i] == ']' && len(vals) == 0 {
			p.i++
			break
		}
		sch, v, err := p.parse()
		if err != nil {
			return nil, nil, err
		}
		merger.merge(sch)
		vals = append(vals, v)
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			break
		}
		return nil, nil, p.errorf("Array elements missing ',' delimiter")
	}
	if merger.common == nil {
		return &Schema{typ: TypeArray}, vals, nil
	}
	for i, v := range vals {
		c, err := convertNumber(merger.common, v)
		if err != nil {
			return nil, nil, err
		}
		vals[i] = c
	}
	return &Schema{typ: TypeArray, value: merger.common}, vals, nil
}

func (p *valueParser) parseMap() (*Schema, any, error) {
	p.i++ // {
	type kv struct{ k, v any }
	var (
		entries    []kv
		keys, vals schemaMerger
	)
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, nil, p.errorf("Map is missing terminating '}'")
		}
		if p.s[p.i] == '}' && len(entries) == 0 {
			p.i++
			break
		}
		ks, k, err := p.parse()
		if err != nil {
			return nil, nil, err
		}
		if k == nil {
			return nil, nil, p.errorf("Map entry may not have a null key")
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, nil, p.errorf("Map entry is missing ':'")
		}
		p.i++
		vs, v, err := p.parse()
		if err != nil {
			return nil, nil, err
		}
		keys.merge(ks)
		vals.merge(vs)
		entries = append(entries, kv{k, v})
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			break
		}
		return nil, nil, p.errorf("Map is missing terminating '}'")
	}
	sch := &Schema{typ: TypeMap, key: keys.common}
	if keys.common != nil {
		sch.value = vals.common
	}
	if keys.common != nil && keys.common.typ == TypeString {
		m := make(map[string]any, len(entries))
		for _, e := range entries {
			v, err := convertNumber(sch.value, e.v)
			if err != nil {
				return nil, nil, err
			}
			m[e.k.(string)] = v
		}
		return sch, m, nil
	}
	m := make(map[any]any, len(entries))
	for _, e := range entries {
		k, err := convertNumber(sch.key, e.k)
		if err != nil {
			return nil, nil, err
		}
		v, err := convertNumber(sch.value, e.v)
		if err != nil {
			return nil, nil, err
		}
		if _, ok := k.([]byte); ok {
			return nil, nil, p.errorf("bytes cannot be a map key")
		}
		m[k] = v
	}
	return sch, m, nil
}

// schemaMerger finds the common schema of parsed elements, widening
// numbers as Kafka's Values.SchemaMerger does.
type schemaMerger struct {
	common       *Schema
	incompatible bool
}

func (m *schemaMerger) merge(s *Schema) {
	if s == nil || m.incompatible {
		return
	}
	if m.common == nil {
		m.common = s
		return
	}
	switch {
	case m.common.typ == s.typ:
		if !m.common.Equal(s) {
			m.common, m.incompatible = nil, true
		}
	case numericRank(m.common) > 0 && numericRank(s) > 0:
		if numericRank(s) > numericRank(m.common) {
			m.common = s
		}
	default:
		m.common, m.incompatible = nil, true
	}
}

func numericRank(s *Schema) int {
	if s.name != "" {
		return 0
	}
	switch s.typ {
	case TypeInt8:
		return 1
	case TypeInt16:
		return 2
	case TypeInt32:
		return 3
	case TypeInt64:
		return 4
	case TypeFloat32:
		return 5
	case TypeFloat64:
		return 6
	}
	return 0
}

// convertNumber widens a parsed number to the common schema's type; other
// values are returned as they are. A null fails for a required schema, as
// in Kafka.
func convertNumber(s *Schema, v any) (any, error) {
	if s == nil {
		return v, nil
	}
	if v == nil {
		if s.optional {
			return nil, nil
		}
		return nil, &DataError{Msg: "Unable to convert a null value to a schema that requires a value"}
	}
	var f float64
	var i int64
	switch x := v.(type) {
	case int8:
		i, f = int64(x), float64(x)
	case int16:
		i, f = int64(x), float64(x)
	case int32:
		i, f = int64(x), float64(x)
	case int64:
		i, f = x, float64(x)
	case float32:
		f = float64(x)
		i = int64(f)
	case float64:
		f, i = x, int64(x)
	default:
		return v, nil
	}
	switch s.typ {
	case TypeInt8:
		return int8(i), nil
	case TypeInt16:
		return int16(i), nil
	case TypeInt32:
		return int32(i), nil
	case TypeInt64:
		return i, nil
	case TypeFloat32:
		return float32(f), nil
	case TypeFloat64:
		return f, nil
	}
	return v, nil
}
