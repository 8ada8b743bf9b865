package postgres

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Built-in type OIDs (pg_type.h). Only those the mapping names are listed.
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidXML         = 142
	oidPoint       = 600
	oidCIDR        = 650
	oidFloat4      = 700
	oidFloat8      = 701
	oidMacaddr8    = 774
	oidMoney       = 790
	oidMacaddr     = 829
	oidInet        = 869
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidInterval    = 1186
	oidTimetz      = 1266
	oidBit         = 1560
	oidVarbit      = 1562
	oidNumeric     = 1700
	oidUUID        = 2950
	oidTSVector    = 3614
	oidJSONB       = 3802
	oidInt4Range   = 3904
	oidNumRange    = 3906
	oidTSRange     = 3908
	oidTSTZRange   = 3910
	oidDateRange   = 3912
	oidInt8Range   = 3926
)

// Array types Debezium does not map (its PostgresValueConverter returns no
// schema for them, so such columns are left out of the events).
var unmappedArrays = map[uint32]bool{
	791: true, 1003: true, 1187: true, 1563: true, 143: true, 1017: true, 2201: true, 1561: true,
}

// pgType is one row of pg_type, as far as the mapping needs it.
type pgType struct {
	OID      uint32
	Name     string // typname
	Schema   string // namespace
	Kind     byte   // typtype: b base, e enum, d domain, c composite, r range, m multirange, p pseudo
	Category byte   // typcategory: A for arrays
	Elem     uint32 // element type of an array type
	Base     uint32 // base type of a domain
	Labels   []string
}

// typeMapper turns a column's Postgres type into its Debezium schema and a
// parser for the type's text representation (the text pgoutput sends and
// a text-format query returns, under the session parameters in
// sessionParams).
type typeMapper struct {
	decimal     string
	time        string
	binary      string
	interval    string
	hstoreMode  string // hstore.handling.mode: HStoreJSON ("" too) or HStoreMap
	unknown     bool
	placeholder string
	types       func(oid uint32) *pgType // nil when unknown
}

// mapping is how one column type becomes Connect data.
type mapping struct {
	// builder returns a fresh, required schema builder for the type.
	builder func() *connectors.SchemaBuilder
	// parse converts the text form of a non-null value.
	parse func(b []byte) (any, error)
	// bind, when set, returns the parser for the final schema of the
	// column (STRUCT values must carry exactly their field's schema).
	bind func(s *connectors.Schema) func(b []byte) (any, error)
	// fallback is Debezium's value for a required column that has no
	// value (e.g. non-key columns of a REPLICA IDENTITY DEFAULT delete).
	fallback any
	// toast is the value of an unchanged TOASTed column Postgres did not
	// send; nil when the type has no placeholder (the fallback is used).
	toast any
	// defaultKind names the Debezium default-value mapper of the type
	// ("" when Debezium sets no default for it).
	defaultKind string
}

var errNoMapping = errors.New("no mapping")

// typmod helpers.
func numericPrecisionScale(typmod int32) (precision, scale int, variable bool) {
	if typmod < 4 {
		return 0, 0, true
	}
	t := typmod - 4
	return int(t>>16) & 0xffff, int(int16(t & 0xffff)), false
}

func timePrecision(typmod int32) int {
	if typmod < 0 {
		return 6
	}
	return int(typmod)
}

// resolve follows domains to their base type.
func (m *typeMapper) resolve(oid uint32) *pgType {
	for i := 0; i < 32; i++ {
		t := m.types(oid)
		if t == nil {
			return nil
		}
		if t.Kind != 'd' || t.Base == 0 {
			return t
		}
		oid = t.Base
	}
	return nil
}

// mapType returns the mapping of a column of type oid with modifier
// typmod, or errNoMapping if Debezium has none for it.
func (m *typeMapper) mapType(oid uint32, typmod int32) (mapping, error) {
	t := m.resolve(oid)
	if t == nil {
		return mapping{}, fmt.Errorf("%w: unknown type oid %d", errNoMapping, oid)
	}
	if t.Category == 'A' && t.Elem != 0 {
		return m.mapArray(t, typmod)
	}
	if mp, ok := m.mapScalar(t, typmod); ok {
		return mp, nil
	}
	if m.unknown {
		return m.binaryMapping(copyBytes, ""), nil
	}
	return mapping{}, fmt.Errorf("%w: type %s.%s", errNoMapping, t.Schema, t.Name)
}

func str(b []byte) (any, error) { return string(b), nil }

func named(t connectors.Type, name string) func() *connectors.SchemaBuilder {
	return func() *connectors.SchemaBuilder { return connectors.NewSchema(t).Name(name).Version(1) }
}

func plain(t connectors.Type) func() *connectors.SchemaBuilder {
	return func() *connectors.SchemaBuilder { return connectors.NewSchema(t) }
}

func (m *typeMapper) stringMapping(b func() *connectors.SchemaBuilder, defKind string) mapping {
	return mapping{builder: b, parse: str, fallback: "", toast: m.placeholder, defaultKind: defKind}
}

func (m *typeMapper) mapScalar(t *pgType, typmod int32) (mapping, bool) {
	switch t.OID {
	case oidBool:
		return mapping{builder: plain(connectors.TypeBoolean), parse: parseBool, fallback: false, defaultKind: "bool"}, true
	case oidInt2:
		return mapping{builder: plain(connectors.TypeInt16), parse: parseInt16, fallback: int16(0), defaultKind: "int2"}, true
	case oidInt4:
		return mapping{builder: plain(connectors.TypeInt32), parse: parseInt32, fallback: int32(0), defaultKind: "int4"}, true
	case oidInt8:
		return mapping{builder: plain(connectors.TypeInt64), parse: parseInt64, fallback: int64(0), defaultKind: "int8"}, true
	case oidOID:
		return mapping{builder: plain(connectors.TypeInt64), parse: parseInt64, fallback: int64(0)}, true
	case oidFloat4:
		return mapping{builder: plain(connectors.TypeFloat32), parse: parseFloat32, fallback: float32(0), defaultKind: "float4"}, true
	case oidFloat8:
		return mapping{builder: plain(connectors.TypeFloat64), parse: parseFloat64, fallback: float64(0), defaultKind: "float8"}, true
	case oidNumeric:
		return m.numeric(typmod), true
	case oidMoney:
		return m.money(), true
	case oidText, oidVarchar, oidName, oidChar:
		kind := ""
		switch t.OID {
		case oidText:
			kind = "text"
		case oidVarchar:
			kind = "varchar"
		}
		return m.stringMapping(plain(connectors.TypeString), kind), true
	case oidBpchar:
		return m.stringMapping(plain(connectors.TypeString), "bpchar"), true
	case oidInet, oidCIDR, oidMacaddr, oidMacaddr8, oidInt4Range, oidNumRange, oidInt8Range,
		oidTSRange, oidTSTZRange, oidDateRange:
		return m.stringMapping(plain(connectors.TypeString), ""), true
	case oidTSVector:
		return m.stringMapping(named(connectors.TypeString, "io.debezium.data.TsVector"), ""), true
	case oidJSON, oidJSONB:
		kind := "json"
		if t.OID == oidJSONB {
			kind = "jsonb"
		}
		mp := m.stringMapping(named(connectors.TypeString, connectors.DebeziumJSON), kind)
		return mp, true
	case oidXML:
		return m.stringMapping(named(connectors.TypeString, connectors.DebeziumXML), "xml"), true
	case oidUUID:
		return mapping{builder: named(connectors.TypeString, connectors.DebeziumUUID), parse: str, fallback: "", defaultKind: "uuid"}, true
	case oidBytea:
		return m.binaryMapping(decodeBytea, ""), true
	case oidDate:
		return m.date(), true
	case oidTime:
		return m.timeOfDay(timePrecision(typmod)), true
	case oidTimestamp:
		return m.timestamp(timePrecision(typmod)), true
	case oidTimestamptz:
		p := timePrecision(typmod)
		return mapping{builder: named(connectors.TypeString, connectors.DebeziumZonedTimestamp),
			parse:    func(b []byte) (any, error) { return parseZonedTimestamp(b, p) },
			fallback: "1970-01-01T00:00:00Z", defaultKind: "timestamptz"}, true
	case oidTimetz:
		return mapping{builder: named(connectors.TypeString, connectors.DebeziumZonedTime), parse: parseZonedTime,
			fallback: "00:00:00Z"}, true
	case oidInterval:
		if m.interval == IntervalString {
			return mapping{builder: named(connectors.TypeString, connectors.DebeziumInterval), parse: parseIntervalISO,
				fallback: "P0Y0M0DT0H0M0S", defaultKind: "interval"}, true
		}
		return mapping{builder: named(connectors.TypeInt64, connectors.DebeziumMicroDuration), parse: parseIntervalMicros,
			fallback: int64(0), defaultKind: "interval"}, true
	case oidBit, oidVarbit:
		length := int(typmod)
		if t.OID == oidVarbit && typmod < 0 {
			length = math.MaxInt32
		}
		if length <= 1 && t.OID == oidBit {
			return mapping{builder: plain(connectors.TypeBoolean), parse: parseBit1, fallback: false, defaultKind: "bit"}, true
		}
		kind := "bit"
		if t.OID == oidVarbit {
			kind = "varbit"
		}
		return mapping{builder: func() *connectors.SchemaBuilder {
			return connectors.NewSchema(connectors.TypeBytes).Name(connectors.DebeziumBits).Version(1).Parameter("length", strconv.Itoa(length))
		}, parse: parseBits, fallback: []byte{}, defaultKind: kind}, true
	}
	switch {
	case t.Kind == 'e':
		labels := strings.Join(t.Labels, ",")
		return mapping{builder: func() *connectors.SchemaBuilder {
			return connectors.NewSchema(connectors.TypeString).Name(connectors.DebeziumEnum).Version(1).Parameter("allowed", labels)
		}, parse: str, fallback: "", toast: m.placeholder, defaultKind: "enum:" + t.Name}, true
	case t.Name == "citext" || t.Name == "isbn":
		return m.stringMapping(plain(connectors.TypeString), ""), true
	case t.Name == "ltree":
		return m.stringMapping(named(connectors.TypeString, connectors.DebeziumLtree), ""), true
	case t.Name == "hstore":
		return m.hstore(), true
	}
	return mapping{}, false
}

// copyBytes copies a value's text (message buffers are reused).
func copyBytes(b []byte) []byte { return append([]byte{}, b...) }

func (m *typeMapper) binaryMapping(decode func([]byte) []byte, defKind string) mapping {
	parse := func(b []byte) (any, error) { return decode(b), nil }
	if m == nil {
		return mapping{}
	}
	switch m.binary {
	case BinaryBase64:
		return mapping{builder: plain(connectors.TypeString), parse: func(b []byte) (any, error) {
			return base64.StdEncoding.EncodeToString(decode(b)), nil
		}, fallback: "", toast: m.placeholder}
	case BinaryBase64URLSafe:
		return mapping{builder: plain(connectors.TypeString), parse: func(b []byte) (any, error) {
			return base64.URLEncoding.EncodeToString(decode(b)), nil
		}, fallback: "", toast: m.placeholder}
	case BinaryHex:
		return mapping{builder: plain(connectors.TypeString), parse: func(b []byte) (any, error) {
			return hex.EncodeToString(decode(b)), nil
		}, fallback: "", toast: m.placeholder}
	}
	return mapping{builder: plain(connectors.TypeBytes), parse: parse, fallback: []byte{}, toast: []byte(m.placeholder)}
}

func (m *typeMapper) numeric(typmod int32) mapping {
	precision, scale, variable := numericPrecisionScale(typmod)
	variable = variable || (precision == 0 && scale == 0)
	switch m.decimal {
	case DecimalDouble:
		return mapping{builder: plain(connectors.TypeFloat64), parse: func(b []byte) (any, error) {
			switch string(b) {
			case "NaN":
				return math.NaN(), nil
			case "Infinity":
				return math.Inf(1), nil
			case "-Infinity":
				return math.Inf(-1), nil
			}
			return strconv.ParseFloat(string(b), 64)
		}, fallback: float64(0), defaultKind: "numeric"}
	case DecimalString:
		return mapping{builder: plain(connectors.TypeString), parse: func(b []byte) (any, error) {
			switch string(b) {
			case "NaN":
				return "NAN", nil
			case "Infinity":
				return "POSITIVE_INFINITY", nil
			case "-Infinity":
				return "NEGATIVE_INFINITY", nil
			}
			d, err := connectors.ParseDecimal(string(b))
			if err != nil {
				return nil, err
			}
			if !variable && int(d.Scale()) < scale {
				d, _ = d.Rescale(int32(scale))
			}
			return plainString(d), nil
		}, fallback: "0", toast: m.placeholder, defaultKind: "numeric"}
	}
	special := func(b []byte) error {
		switch string(b) {
		case "NaN", "Infinity", "-Infinity":
			return fmt.Errorf("%w: got a special value (%s) for a numeric column, which decimal.handling.mode=precise cannot represent; set decimal.handling.mode=string (or double) to capture it", ErrUnsupported, b)
		}
		return nil
	}
	if variable {
		bind := func(s *connectors.Schema) func(b []byte) (any, error) {
			return func(b []byte) (any, error) {
				if err := special(b); err != nil {
					return nil, err
				}
				d, err := parseDecimal(b)
				if err != nil {
					return nil, err
				}
				return variableScaleDecimal(s, stripTrailingZeros(d)), nil
			}
		}
		return mapping{builder: variableScaleDecimalBuilder, parse: bind(variableScaleDecimalSchema), bind: bind, fallback: nil}
	}
	return mapping{builder: func() *connectors.SchemaBuilder {
		return connectors.DecimalBuilder(scale).Parameter(connectors.DebeziumPrecisionParam, strconv.Itoa(precision))
	}, parse: func(b []byte) (any, error) {
		if err := special(b); err != nil {
			return nil, err
		}
		d, err := parseDecimal(b)
		if err != nil {
			return nil, err
		}
		if int(d.Scale()) != scale {
			if r, err := d.Rescale(int32(scale)); err == nil {
				d = r
			}
		}
		return d, nil
	}, fallback: connectors.DecimalFromInt64(0, int32(scale)), defaultKind: "numeric"}
}

var variableScaleDecimalSchema = connectors.StructSchema().Name(connectors.DebeziumVariableScaleDecimal).Version(1).
	Doc("Variable scaled decimal").Field("scale", connectors.Int32Schema).Field("value", connectors.BytesSchema).MustBuild()

func variableScaleDecimalBuilder() *connectors.SchemaBuilder {
	return variableScaleDecimalSchema.Builder()
}

func variableScaleDecimal(schema *connectors.Schema, d connectors.Decimal) *connectors.Struct {
	s := connectors.NewStruct(schema)
	_ = s.Put("scale", d.Scale())
	_ = s.Put("value", d.UnscaledBytes())
	return s
}

// parseDecimal parses numeric's text output, without big.Int for values
// of up to 18 digits.
func parseDecimal(b []byte) (connectors.Decimal, error) {
	if len(b) > 0 && len(b) <= 19 {
		var u int64
		scale := int32(-1)
		digits := 0
		i := 0
		neg := b[0] == '-'
		if neg {
			i = 1
		}
		ok := i < len(b)
		for ; i < len(b); i++ {
			c := b[i]
			switch {
			case c >= '0' && c <= '9':
				u = u*10 + int64(c-'0')
				digits++
				if scale >= 0 {
					scale++
				}
			case c == '.' && scale < 0:
				scale = 0
			default:
				ok = false
			}
		}
		if ok && digits > 0 && digits <= 18 {
			if scale < 0 {
				scale = 0
			}
			if neg {
				u = -u
			}
			return connectors.DecimalFromInt64(u, scale), nil
		}
	}
	return connectors.ParseDecimal(string(b))
}

// stripTrailingZeros is BigDecimal.stripTrailingZeros followed by
// Debezium's "negative scale becomes 0".
func stripTrailingZeros(d connectors.Decimal) connectors.Decimal {
	u := d.Unscaled()
	scale := d.Scale()
	if u.Sign() == 0 {
		return connectors.DecimalFromInt64(0, 0)
	}
	ten := big.NewInt(10)
	q, r := new(big.Int), new(big.Int)
	for scale > 0 {
		q.QuoRem(u, ten, r)
		if r.Sign() != 0 {
			break
		}
		u.Set(q)
		scale--
	}
	return connectors.NewDecimal(u, scale)
}

// plainString is BigDecimal.toPlainString.
func plainString(d connectors.Decimal) string {
	u := d.Unscaled()
	neg := u.Sign() < 0
	digits := new(big.Int).Abs(u).String()
	scale := int(d.Scale())
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case scale <= 0:
		b.WriteString(digits)
		for i := 0; i < -scale; i++ {
			b.WriteByte('0')
		}
	case len(digits) > scale:
		b.WriteString(digits[:len(digits)-scale])
		b.WriteByte('.')
		b.WriteString(digits[len(digits)-scale:])
	default:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", scale-len(digits)))
		b.WriteString(digits)
	}
	return b.String()
}

func (m *typeMapper) money() mapping {
	clean := func(b []byte) string {
		var out []byte
		neg := false
		for _, c := range b {
			switch {
			case c >= '0' && c <= '9', c == '.':
				out = append(out, c)
			case c == '-' || c == '(':
				neg = true
			}
		}
		s := string(out)
		if neg {
			s = "-" + s
		}
		return s
	}
	switch m.decimal {
	case DecimalDouble:
		return mapping{builder: plain(connectors.TypeFloat64), parse: func(b []byte) (any, error) {
			return strconv.ParseFloat(clean(b), 64)
		}, fallback: float64(0)}
	case DecimalString:
		return mapping{builder: plain(connectors.TypeString), parse: func(b []byte) (any, error) {
			return clean(b), nil
		}, fallback: "0.00"}
	}
	return mapping{builder: func() *connectors.SchemaBuilder { return connectors.DecimalBuilder(2) },
		parse: func(b []byte) (any, error) {
			d, err := connectors.ParseDecimal(clean(b))
			if err != nil {
				return nil, err
			}
			return d.Rescale(2)
		}, fallback: connectors.DecimalFromInt64(0, 2)}
}

func (m *typeMapper) date() mapping {
	if m.time == TimeConnect {
		return mapping{builder: connectors.DateBuilder, parse: func(b []byte) (any, error) {
			days, err := parseDateDays(b)
			if err != nil {
				return nil, err
			}
			return connectors.DateFromDays(days), nil
		}, fallback: connectors.DateFromDays(0), defaultKind: "date"}
	}
	return mapping{builder: named(connectors.TypeInt32, connectors.DebeziumDate), parse: func(b []byte) (any, error) {
		return parseDateDays(b)
	}, fallback: int32(0), defaultKind: "date"}
}

func (m *typeMapper) timeOfDay(precision int) mapping {
	switch {
	case m.time == TimeConnect:
		return mapping{builder: connectors.TimeBuilder, parse: func(b []byte) (any, error) {
			us, err := parseTimeMicros(b)
			if err != nil {
				return nil, err
			}
			return time.UnixMilli(us / 1000).UTC(), nil
		}, fallback: time.UnixMilli(0).UTC(), defaultKind: "time"}
	case m.time == TimeAdaptive && precision <= 3:
		return mapping{builder: named(connectors.TypeInt32, connectors.DebeziumTime), parse: func(b []byte) (any, error) {
			us, err := parseTimeMicros(b)
			if err != nil {
				return nil, err
			}
			return int32(us / 1000), nil
		}, fallback: int32(0), defaultKind: "time"}
	}
	return mapping{builder: named(connectors.TypeInt64, connectors.DebeziumMicroTime), parse: func(b []byte) (any, error) {
		return parseTimeMicros(b)
	}, fallback: int64(0), defaultKind: "time"}
}

func (m *typeMapper) timestamp(precision int) mapping {
	switch {
	case m.time == TimeConnect:
		return mapping{builder: connectors.TimestampBuilder, parse: func(b []byte) (any, error) {
			us, err := parseTimestampMicros(b)
			if err != nil {
				return nil, err
			}
			return time.UnixMilli(floorDiv(us, 1000)).UTC(), nil
		}, fallback: time.UnixMilli(0).UTC(), defaultKind: "timestamp"}
	case precision <= 3:
		return mapping{builder: named(connectors.TypeInt64, connectors.DebeziumTimestamp), parse: func(b []byte) (any, error) {
			us, err := parseTimestampMicros(b)
			if err != nil {
				return nil, err
			}
			if us == pgInfinityMicros || us == pgNegInfinityMicros {
				return us, nil
			}
			return floorDiv(us, 1000), nil
		}, fallback: int64(0), defaultKind: "timestamp"}
	}
	return mapping{builder: named(connectors.TypeInt64, connectors.DebeziumMicroTimestamp), parse: func(b []byte) (any, error) {
		return parseTimestampMicros(b)
	}, fallback: int64(0), defaultKind: "timestamp"}
}

// mapArray maps a one-dimensional array type to an ARRAY of the element's
// optional schema, as Debezium does. Multi-dimensional values are
// flattened.
func (m *typeMapper) mapArray(t *pgType, typmod int32) (mapping, error) {
	if unmappedArrays[t.OID] {
		return mapping{}, fmt.Errorf("%w: array type %s", errNoMapping, t.Name)
	}
	elemType := m.resolve(t.Elem)
	if elemType == nil {
		return mapping{}, fmt.Errorf("%w: array element oid %d", errNoMapping, t.Elem)
	}
	if elemType.Category == 'A' {
		return mapping{}, fmt.Errorf("%w: nested array type %s", errNoMapping, t.Name)
	}
	var elem mapping
	var ok bool
	if elemType.Kind == 'e' || isBuiltinArrayElem(elemType.OID) || elemType.Name == "citext" || elemType.Name == "ltree" {
		elem, ok = m.mapScalar(elemType, typmod)
	}
	if !ok {
		if !m.unknown {
			return mapping{}, fmt.Errorf("%w: array of %s", errNoMapping, elemType.Name)
		}
		elem = m.binaryMapping(copyBytes, "")
	}
	elemSchema := elem.builder().Optional().MustBuild()
	if elem.bind != nil {
		elem.parse = elem.bind(elemSchema)
	}
	delim := byte(',')
	parse := func(b []byte) (any, error) {
		var out []any
		err := parseArray(b, delim, func(v []byte, null bool) error {
			if null {
				out = append(out, nil)
				return nil
			}
			x, err := elem.parse(v)
			if err != nil {
				return err
			}
			out = append(out, x)
			return nil
		})
		if out == nil {
			out = []any{}
		}
		return out, err
	}
	var toast any
	if elem.toast != nil {
		toast = []any{elem.toast}
	}
	return mapping{builder: func() *connectors.SchemaBuilder { return connectors.ArraySchema(elemSchema) },
		parse: parse, fallback: []any{}, toast: toast}, nil
}

// isBuiltinArrayElem lists the element types of the array types Debezium
// maps (PostgresValueConverter.schemaBuilder).
func isBuiltinArrayElem(oid uint32) bool {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOID, oidChar, oidVarchar, oidText, oidBpchar, oidInet, oidCIDR,
		oidMacaddr, oidMacaddr8, oidTSRange, oidTSTZRange, oidDateRange, oidInt4Range, oidNumRange, oidInt8Range,
		oidNumeric, oidFloat4, oidFloat8, oidBool, oidDate, oidUUID, oidJSONB, oidJSON, oidTime, oidTimetz,
		oidTimestamp, oidTimestamptz, oidBytea:
		return true
	}
	return false
}

// parseArray walks the text form of an array ("{a,"b c",NULL}", possibly
// with dimension decorations and nested braces), calling fn for each
// element.
func parseArray(b []byte, delim byte, fn func(v []byte, null bool) error) error {
	if i := bytes.IndexByte(b, '='); i >= 0 && len(b) > 0 && b[0] == '[' {
		b = b[i+1:]
	}
	if len(b) < 2 || b[0] != '{' {
		return fmt.Errorf("%w: malformed array literal %q", connectors.ErrData, b)
	}
	var buf []byte
	i := 0
	for i < len(b) {
		switch c := b[i]; {
		case c == '{' || c == '}' || c == delim || c == ' ':
			i++
		case c == '"':
			buf = buf[:0]
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' && i+1 < len(b) {
					i++
				}
				buf = append(buf, b[i])
				i++
			}
			i++ // closing quote
			if err := fn(buf, false); err != nil {
				return err
			}
		default:
			start := i
			for i < len(b) && b[i] != delim && b[i] != '}' {
				i++
			}
			v := bytes.TrimSpace(b[start:i])
			if err := fn(v, len(v) == 4 && strings.EqualFold(string(v), "NULL")); err != nil {
				return err
			}
		}
	}
	return nil
}

// Text parsers. Each accepts exactly what the Postgres output function
// writes under sessionParams.

func parseBool(b []byte) (any, error) {
	switch string(b) {
	case "t", "true", "TRUE", "True", "1", "y", "yes", "on":
		return true, nil
	case "f", "false", "FALSE", "False", "0", "n", "no", "off":
		return false, nil
	}
	return nil, fmt.Errorf("%w: invalid boolean %q", connectors.ErrData, b)
}

func parseBit1(b []byte) (any, error) {
	return len(b) > 0 && b[len(b)-1] == '1', nil
}

// parseBits encodes a bit string as Debezium does: the bits as a
// little-endian number (the last character is bit 0), in as many bytes as
// the highest set bit needs (java.util.BitSet.toByteArray).
func parseBits(b []byte) (any, error) {
	n := len(b)
	out := make([]byte, (n+7)/8)
	last := -1
	for i := n - 1; i >= 0; i-- {
		bit := n - 1 - i
		if b[i] == '1' {
			out[bit/8] |= 1 << (bit % 8)
			last = bit / 8
		}
	}
	return out[:last+1], nil
}

func parseInt16(b []byte) (any, error) {
	n, err := atoi(b)
	if err != nil || n < math.MinInt16 || n > math.MaxInt16 {
		return nil, fmt.Errorf("%w: invalid smallint %q", connectors.ErrData, b)
	}
	return int16(n), nil
}

func parseInt32(b []byte) (any, error) {
	n, err := atoi(b)
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: invalid integer %q", connectors.ErrData, b)
	}
	return int32(n), nil
}

func parseInt64(b []byte) (any, error) {
	n, err := atoi(b)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid bigint %q", connectors.ErrData, b)
	}
	return n, nil
}

// atoi parses a decimal int64 without allocating.
func atoi(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 {
		return strconv.ParseInt(string(b), 10, 64)
	}
	neg := false
	i := 0
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i = 1
		if len(b) == 1 {
			return 0, strconv.ErrSyntax
		}
	}
	if len(b)-i > 18 {
		return strconv.ParseInt(string(b), 10, 64)
	}
	var n int64
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			return 0, strconv.ErrSyntax
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	return n, nil
}

func parseFloat64(b []byte) (any, error) {
	switch string(b) {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(string(b), 64)
}

func parseFloat32(b []byte) (any, error) {
	switch string(b) {
	case "NaN":
		return float32(math.NaN()), nil
	case "Infinity":
		return float32(math.Inf(1)), nil
	case "-Infinity":
		return float32(math.Inf(-1)), nil
	}
	f, err := strconv.ParseFloat(string(b), 32)
	return float32(f), err
}

// decodeBytea decodes bytea's hex output ("\x0102").
func decodeBytea(b []byte) []byte {
	if len(b) >= 2 && b[0] == '\\' && b[1] == 'x' {
		out := make([]byte, (len(b)-2)/2)
		_, _ = hex.Decode(out, b[2:])
		return out
	}
	return copyBytes(b)
}

// Timestamps outside Postgres's finite range, as pgjdbc reports them
// (PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY), which is
// what Debezium emits for 'infinity' and '-infinity'.
const (
	pgInfinityMicros    = 9223372036825200000
	pgNegInfinityMicros = -9223372036832400000
)

// daysFromCivil returns days since 1970-01-01 of a proleptic Gregorian
// date (astronomical year numbering).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

var errDate = fmt.Errorf("%w: invalid date/time", connectors.ErrData)

// num reads an unsigned decimal number at b[i:], returning it and the
// index after it.
func num(b []byte, i int) (int64, int, bool) {
	start := i
	var n int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	return n, i, i > start
}

// parseDatePart parses "YYYY-MM-DD" at the start of b, returning the days
// since the epoch and the rest; bc marks a year Before Christ (1 BC is
// astronomical year 0).
func parseDatePart(b []byte, bc bool) (int64, []byte, error) {
	y, i, ok := num(b, 0)
	if !ok || i >= len(b) || b[i] != '-' {
		return 0, nil, errDate
	}
	mo, i, ok := num(b, i+1)
	if !ok || i >= len(b) || b[i] != '-' {
		return 0, nil, errDate
	}
	d, i, ok := num(b, i+1)
	if !ok {
		return 0, nil, errDate
	}
	if bc {
		y = 1 - y
	}
	return daysFromCivil(y, mo, d), b[i:], nil
}

func bcAdjust(b []byte) ([]byte, bool) {
	if bytes.HasSuffix(b, []byte(" BC")) {
		return b[:len(b)-3], true
	}
	return b, false
}

func parseDateDays(b []byte) (int32, error) {
	switch string(b) {
	case "infinity":
		return math.MaxInt32, nil
	case "-infinity":
		return math.MinInt32, nil
	}
	b, bc := bcAdjust(b)
	days, _, err := parseDatePart(b, bc)
	return int32(days), err
}

// parseClock parses "HH:MM:SS[.ffffff]" at the start of b, returning
// microseconds and the rest.
func parseClock(b []byte) (int64, []byte, error) {
	h, i, ok := num(b, 0)
	if !ok || i >= len(b) || b[i] != ':' {
		return 0, nil, errDate
	}
	mi, i, ok := num(b, i+1)
	if !ok {
		return 0, nil, errDate
	}
	var s int64
	if i < len(b) && b[i] == ':' {
		s, i, ok = num(b, i+1)
		if !ok {
			return 0, nil, errDate
		}
	}
	var frac int64
	if i < len(b) && b[i] == '.' {
		i++
		digits := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if digits < 6 {
				frac = frac*10 + int64(b[i]-'0')
			}
			digits++
			i++
		}
		for ; digits < 6; digits++ {
			frac *= 10
		}
	}
	return ((h*60+mi)*60+s)*1_000_000 + frac, b[i:], nil
}

func parseTimeMicros(b []byte) (int64, error) {
	us, _, err := parseClock(b)
	return us, err
}

// parseOffset parses "+HH[:MM[:SS]]" (or "-…") into seconds east of UTC.
func parseOffset(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	sign := int64(1)
	switch b[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return 0, errDate
	}
	h, i, ok := num(b, 1)
	if !ok {
		return 0, errDate
	}
	secs := h * 3600
	if i < len(b) && b[i] == ':' {
		m, j, ok := num(b, i+1)
		if !ok {
			return 0, errDate
		}
		secs += m * 60
		i = j
		if i < len(b) && b[i] == ':' {
			s, _, ok := num(b, i+1)
			if !ok {
				return 0, errDate
			}
			secs += s
		}
	}
	return sign * secs, nil
}

// parseTimestampMicros parses timestamp's text into microseconds since the
// epoch (the wall clock read as UTC), with Debezium's values for the
// infinities.
func parseTimestampMicros(b []byte) (int64, error) {
	switch string(b) {
	case "infinity":
		return pgInfinityMicros, nil
	case "-infinity":
		return pgNegInfinityMicros, nil
	}
	us, off, err := parseTimestampParts(b)
	if err != nil {
		return 0, err
	}
	return us - off*1_000_000, nil
}

// parseTimestampParts returns the wall-clock microseconds since the epoch
// and the UTC offset in seconds (0 when absent).
func parseTimestampParts(b []byte) (int64, int64, error) {
	b, bc := bcAdjust(b)
	days, rest, err := parseDatePart(b, bc)
	if err != nil {
		return 0, 0, err
	}
	var us int64
	if len(rest) > 0 && (rest[0] == ' ' || rest[0] == 'T') {
		us, rest, err = parseClock(rest[1:])
		if err != nil {
			return 0, 0, err
		}
	}
	off, err := parseOffset(rest)
	if err != nil {
		return 0, 0, err
	}
	return days*86_400_000_000 + us, off, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// appendYear writes a year as java.time's ISO formatter does: four digits,
// a '+' beyond 9999, a '-' before year 0.
func appendYear(out []byte, y int64) []byte {
	switch {
	case y > 9999:
		out = append(out, '+')
		return strconv.AppendInt(out, y, 10)
	case y < 0:
		out = append(out, '-')
		y = -y
	}
	return append2(append2(out, int(y/100)), int(y%100))
}

func append2(out []byte, v int) []byte { return append(out, byte('0'+v/10), byte('0'+v%10)) }

// appendFraction writes ".ffffff" with exactly width digits of the
// microseconds (width 1..9; digits past 6 are zeros).
func appendFraction(out []byte, micros int64, width int) []byte {
	out = append(out, '.')
	nanos := micros * 1000
	div := int64(100_000_000)
	for i := 0; i < width; i++ {
		out = append(out, byte('0'+nanos/div%10))
		div /= 10
	}
	return out
}

// appendMinimalFraction writes the fraction as ISO_LOCAL_TIME does:
// nothing for zero, else the digits without trailing zeros.
func appendMinimalFraction(out []byte, micros int64) []byte {
	if micros == 0 {
		return out
	}
	s := fmt.Sprintf("%06d", micros)
	return append(append(out, '.'), strings.TrimRight(s, "0")...)
}

// parseZonedTimestamp renders timestamptz text as Debezium's
// ZonedTimestamp: ISO 8601 in UTC with exactly precision fractional
// digits (none, and no point, when precision is 0 and the fraction zero).
func parseZonedTimestamp(b []byte, precision int) (any, error) {
	switch string(b) {
	case "infinity":
		return "infinity", nil
	case "-infinity":
		return "-infinity", nil
	}
	wall, off, err := parseTimestampParts(b)
	if err != nil {
		return nil, err
	}
	return formatZonedTimestamp(wall-off*1_000_000, precision), nil
}

func formatZonedTimestamp(us int64, precision int) string {
	days := floorDiv(us, 86_400_000_000)
	tod := us - days*86_400_000_000
	y, m, d := civilFromDays(days)
	var buf [40]byte
	out := buf[:0]
	out = appendYear(out, y)
	out = append(out, '-')
	out = append2(out, int(m))
	out = append(out, '-')
	out = append2(out, int(d))
	out = append(out, 'T')
	secs := tod / 1_000_000
	frac := tod % 1_000_000
	out = append2(out, int(secs/3600))
	out = append(out, ':')
	out = append2(out, int(secs/60%60))
	out = append(out, ':')
	out = append2(out, int(secs%60))
	if precision >= 1 && precision <= 9 {
		out = appendFraction(out, frac, precision)
	} else {
		out = appendMinimalFraction(out, frac)
	}
	return string(append(out, 'Z'))
}

// parseZonedTime renders timetz text as Debezium's ZonedTime: the time
// shifted to UTC, ISO_OFFSET_TIME ("HH:MM:SS[.fff]Z").
func parseZonedTime(b []byte) (any, error) {
	us, rest, err := parseClock(b)
	if err != nil {
		return nil, err
	}
	off, err := parseOffset(rest)
	if err != nil {
		return nil, err
	}
	us -= off * 1_000_000
	const day = 86_400_000_000
	us = ((us % day) + day) % day
	secs := us / 1_000_000
	var buf [24]byte
	out := buf[:0]
	out = append2(out, int(secs/3600))
	out = append(out, ':')
	out = append2(out, int(secs/60%60))
	out = append(out, ':')
	out = append2(out, int(secs%60))
	out = appendMinimalFraction(out, us%1_000_000)
	return string(append(out, 'Z')), nil
}

// intervalParts are PGInterval's fields.
type intervalParts struct {
	years, months, days, hours, minutes int64
	seconds                             float64
	secText                             string // the seconds as written, for the ISO form
}

var isoIntervalRe = regexp.MustCompile(`^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?[\d.]+)S)?)?$`)

// parseIntervalText parses interval output under IntervalStyle=iso_8601
// ("P1Y2M3DT4H5M6.78S"; "PT0S" for zero).
func parseIntervalText(b []byte) (intervalParts, error) {
	m := isoIntervalRe.FindSubmatch(b)
	if m == nil {
		return intervalParts{}, fmt.Errorf("%w: invalid interval %q", connectors.ErrData, b)
	}
	var p intervalParts
	ints := []*int64{&p.years, &p.months, &p.days, &p.hours, &p.minutes}
	for i, dst := range ints {
		if len(m[i+1]) > 0 {
			n, err := strconv.ParseInt(string(m[i+1]), 10, 64)
			if err != nil {
				return p, fmt.Errorf("%w: invalid interval %q", connectors.ErrData, b)
			}
			*dst = n
		}
	}
	p.secText = "0"
	if len(m[6]) > 0 {
		f, err := strconv.ParseFloat(string(m[6]), 64)
		if err != nil {
			return p, fmt.Errorf("%w: invalid interval %q", connectors.ErrData, b)
		}
		p.seconds = f
		p.secText = string(m[6])
	}
	return p, nil
}

// parseIntervalMicros is Debezium's MicroDuration.durationMicros with
// months of 365.25/12 days, computed in the same floating-point order.
func parseIntervalMicros(b []byte) (any, error) {
	p, err := parseIntervalText(b)
	if err != nil {
		return nil, err
	}
	const daysPerMonth = 365.25 / 12.0
	numberOfDays := float64(int32(p.years*12+p.months))*daysPerMonth + float64(int32(p.days))
	numberOfSeconds := (((numberOfDays*24+float64(int32(p.hours)))*60)+float64(int32(p.minutes)))*60 + p.seconds
	return int64(numberOfSeconds*1e6 + 0), nil
}

// parseIntervalISO is Debezium's Interval.toIsoString.
func parseIntervalISO(b []byte) (any, error) {
	p, err := parseIntervalText(b)
	if err != nil {
		return nil, err
	}
	secs := "0"
	if d, err := connectors.ParseDecimal(p.secText); err == nil {
		if d.Scale() > 9 {
			d = connectors.NewDecimal(new(big.Int).Quo(d.Unscaled(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale()-9)), nil)), 9)
		}
		secs = plainString(stripTrailingZeros(d))
	}
	return fmt.Sprintf("P%dY%dM%dDT%dH%dM%sS", p.years, p.months, p.days, p.hours, p.minutes, secs), nil
}

// Default values, as Debezium's PostgresDefaultValueConverter derives them
// from the column default expression.

var (
	literalDefaultRe  = regexp.MustCompile(`'(.*?)'`)
	functionDefaultRe = regexp.MustCompile(`^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\)`)
	currentDateTimes  = map[string]bool{"current_timestamp": true, "current_time": true, "current_date": true, "localtime": true, "localtimestamp": true}
	trimDefaultKinds  = map[string]bool{"bit": true, "varbit": true, "bool": true, "numeric": true, "float4": true, "float8": true,
		"int2": true, "int4": true, "int8": true, "uuid": true, "date": true, "time": true, "timestamp": true, "timestamptz": true, "interval": true}
	defaultPlaceholders = map[string]string{"bit": "00", "varbit": "0", "bool": "false", "bpchar": "", "varchar": "", "text": "",
		"numeric": "0.0", "float4": "0.0", "float8": "0.0", "int2": "0", "int4": "0", "int8": "0", "json": "{}", "jsonb": "{}",
		"xml": "", "uuid": "00000000-0000-0000-0000-000000000000", "date": "1970-01-01", "time": "00:00", "timestamp": "1970-01-01",
		"timestamptz": "1970-01-01", "interval": "PT0S"}
)

// defaultValue returns the schema default Debezium derives from expr for
// a column of mapping mp, or nil for none.
func defaultValue(mp mapping, expr string) any {
	kind := mp.defaultKind
	if expr == "" || kind == "" {
		return nil
	}
	if enum, ok := strings.CutPrefix(kind, "enum:"); ok {
		v, ok := strings.CutSuffix(expr, "::"+enum)
		if !ok {
			v, ok = strings.CutSuffix(expr, "::"+quoteIdent(enum))
		}
		if ok && len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			return v[1 : len(v)-1]
		}
		return nil
	}
	if trimDefaultKinds[kind] {
		expr = strings.TrimSpace(expr)
	}
	var raw string
	if functionDefaultRe.MatchString(expr) || currentDateTimes[strings.ToLower(expr)] {
		raw = defaultPlaceholders[kind]
	} else if !strings.Contains(expr, "'") {
		if strings.HasPrefix(expr, "NULL::") {
			return nil
		}
		raw = expr
	} else {
		m := literalDefaultRe.FindStringSubmatch(expr)
		if m == nil {
			return nil
		}
		raw = m[1]
	}
	switch kind {
	case "bit":
		if len(raw) == 1 {
			return raw == "1"
		}
	case "interval":
		if raw == "epoch" {
			raw = "PT0S"
		}
	}
	v, err := mp.parse([]byte(raw))
	if err != nil {
		return nil
	}
	if _, isStruct := v.(*connectors.Struct); isStruct {
		return nil // Debezium: a Struct cannot be a default (KAFKA-12694)
	}
	return v
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

var plainIdentRe = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// sqlIdent quotes s only when SQL needs it, for messages users copy.
func sqlIdent(s string) string {
	if plainIdentRe.MatchString(s) {
		return s
	}
	return quoteIdent(s)
}
