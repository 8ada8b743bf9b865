package connectors

import (
	"fmt"
	"math/big"
	"strconv"
	"time"
)

// Kafka Connect's logical types: a schema name on top of a primitive type,
// with Kafka's exact names and encodings.
const (
	// DecimalLogicalName names an arbitrary-precision decimal: BYTES
	// holding the unscaled value as big-endian two's complement, with the
	// scale in the schema parameter DecimalScaleParam. Go value: Decimal.
	DecimalLogicalName = "org.apache.kafka.connect.data.Decimal"
	// DecimalScaleParam is the schema parameter holding a Decimal's scale.
	DecimalScaleParam = "scale"
	// DateLogicalName names a date: INT32 days since the Unix epoch.
	// Go value: time.Time at midnight UTC.
	DateLogicalName = "org.apache.kafka.connect.data.Date"
	// TimeLogicalName names a time of day: INT32 milliseconds since
	// midnight. Go value: time.Time on 1970-01-01 UTC.
	TimeLogicalName = "org.apache.kafka.connect.data.Time"
	// TimestampLogicalName names an instant: INT64 milliseconds since the
	// Unix epoch. Go value: time.Time (UTC).
	TimestampLogicalName = "org.apache.kafka.connect.data.Timestamp"
)

// Debezium's semantic schema names (io.debezium.*). They are plain names
// on primitive schemas: the values keep their primitive representation
// (e.g. a MicroTimestamp is an int64 of microseconds), so no conversion
// is attached to them here.
const (
	DebeziumDate           = "io.debezium.time.Date"           // INT32 days since epoch
	DebeziumTime           = "io.debezium.time.Time"           // INT32 ms past midnight
	DebeziumMicroTime      = "io.debezium.time.MicroTime"      // INT64 µs past midnight
	DebeziumNanoTime       = "io.debezium.time.NanoTime"       // INT64 ns past midnight
	DebeziumZonedTime      = "io.debezium.time.ZonedTime"      // STRING ISO-8601 time with offset
	DebeziumTimestamp      = "io.debezium.time.Timestamp"      // INT64 ms since epoch, no zone
	DebeziumMicroTimestamp = "io.debezium.time.MicroTimestamp" // INT64 µs since epoch, no zone
	DebeziumNanoTimestamp  = "io.debezium.time.NanoTimestamp"  // INT64 ns since epoch, no zone
	DebeziumZonedTimestamp = "io.debezium.time.ZonedTimestamp" // STRING ISO-8601 with offset
	DebeziumIsoDate        = "io.debezium.time.IsoDate"        // STRING ISO-8601 date
	DebeziumIsoTime        = "io.debezium.time.IsoTime"        // STRING ISO-8601 time
	DebeziumIsoTimestamp   = "io.debezium.time.IsoTimestamp"   // STRING ISO-8601 timestamp
	DebeziumYear           = "io.debezium.time.Year"           // INT32 year
	DebeziumMicroDuration  = "io.debezium.time.MicroDuration"  // INT64 µs (approximate for intervals)
	DebeziumNanoDuration   = "io.debezium.time.NanoDuration"   // INT64 ns
	DebeziumInterval       = "io.debezium.time.Interval"       // STRING ISO-8601 duration

	DebeziumVariableScaleDecimal = "io.debezium.data.VariableScaleDecimal" // STRUCT{scale INT32, value BYTES}
	DebeziumBits                 = "io.debezium.data.Bits"                 // BYTES, param "length"
	DebeziumJSON                 = "io.debezium.data.Json"                 // STRING
	DebeziumXML                  = "io.debezium.data.Xml"                  // STRING
	DebeziumUUID                 = "io.debezium.data.Uuid"                 // STRING
	DebeziumEnum                 = "io.debezium.data.Enum"                 // STRING, param "allowed"
	DebeziumEnumSet              = "io.debezium.data.EnumSet"              // STRING, param "allowed"
	DebeziumLtree                = "io.debezium.data.Ltree"                // STRING
	DebeziumPoint                = "io.debezium.data.geometry.Point"       // STRUCT{x,y FLOAT64, wkb, srid}
	DebeziumGeometry             = "io.debezium.data.geometry.Geometry"    // STRUCT{wkb BYTES, srid INT32}
	DebeziumGeography            = "io.debezium.data.geometry.Geography"   // STRUCT{wkb BYTES, srid INT32}

	// DebeziumPrecisionParam is the schema parameter Debezium adds to
	// Decimal schemas to carry the column precision.
	DebeziumPrecisionParam = "connect.decimal.precision"
)

// DecimalBuilder starts a Decimal schema with the given scale (BYTES,
// named DecimalLogicalName, version 1, parameter scale), like Kafka's
// Decimal.builder.
func DecimalBuilder(scale int) *SchemaBuilder {
	return NewSchema(TypeBytes).Name(DecimalLogicalName).Parameter(DecimalScaleParam, strconv.Itoa(scale)).Version(1)
}

// DecimalSchema returns a required Decimal schema with the given scale.
func DecimalSchema(scale int) *Schema { return DecimalBuilder(scale).MustBuild() }

// DateBuilder starts a Date schema (INT32, version 1).
func DateBuilder() *SchemaBuilder { return NewSchema(TypeInt32).Name(DateLogicalName).Version(1) }

// TimeBuilder starts a Time schema (INT32, version 1).
func TimeBuilder() *SchemaBuilder { return NewSchema(TypeInt32).Name(TimeLogicalName).Version(1) }

// TimestampBuilder starts a Timestamp schema (INT64, version 1).
func TimestampBuilder() *SchemaBuilder {
	return NewSchema(TypeInt64).Name(TimestampLogicalName).Version(1)
}

// Predefined logical schemas.
var (
	DateSchema              = DateBuilder().MustBuild()
	OptionalDateSchema      = DateBuilder().Optional().MustBuild()
	TimeSchema              = TimeBuilder().MustBuild()
	OptionalTimeSchema      = TimeBuilder().Optional().MustBuild()
	TimestampSchema         = TimestampBuilder().MustBuild()
	OptionalTimestampSchema = TimestampBuilder().Optional().MustBuild()
)

// DecimalScale returns the scale of a Decimal schema, with Kafka's errors
// when the parameter is missing or not an integer.
func DecimalScale(s *Schema) (int32, error) {
	v, ok := s.Parameter(DecimalScaleParam)
	if !ok {
		return 0, &DataError{Msg: "Invalid Decimal schema: scale parameter not found."}
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, &DataError{Msg: "Invalid scale parameter found in Decimal schema: " + strconv.Quote(v)}
	}
	return int32(n), nil
}

const millisPerDay = 24 * 60 * 60 * 1000

// DateFromDays returns the Date value for days since the epoch: midnight
// UTC of that day.
func DateFromDays(days int32) time.Time { return time.UnixMilli(int64(days) * millisPerDay).UTC() }

// DateToDays returns days since the epoch for a Date value, which must be
// midnight UTC (Kafka: "should not have any time fields set").
func DateToDays(t time.Time) (int32, error) {
	ms := t.UnixMilli()
	if ms%millisPerDay != 0 || t.Nanosecond()%1e6 != 0 {
		return 0, &DataError{Msg: "Kafka Connect Date type should not have any time fields set to non-zero values."}
	}
	return int32(ms / millisPerDay), nil
}

// TimeFromMillis returns the Time value for milliseconds since midnight,
// which must lie in [0, 86400000].
func TimeFromMillis(ms int32) (time.Time, error) {
	if ms < 0 || ms > millisPerDay {
		return time.Time{}, &DataError{Msg: "Time values must use number of milliseconds greater than 0 and less than 86400000"}
	}
	return time.UnixMilli(int64(ms)).UTC(), nil
}

// TimeToMillis returns milliseconds since midnight for a Time value. Kafka
// requires the date part to be 1970-01-01 UTC; the 0000-01-01 that Go's
// time.Parse gives a bare clock time is accepted too.
func TimeToMillis(t time.Time) (int32, error) {
	u := t.UTC()
	y, m, d := u.Date()
	if !(m == time.January && d == 1 && (y == 1970 || y == 0)) {
		if ms := t.UnixMilli(); ms != millisPerDay {
			return 0, &DataError{Msg: "Kafka Connect Time type should not have any date fields set to non-zero values."}
		}
		return millisPerDay, nil
	}
	return int32(u.Hour()*3600000 + u.Minute()*60000 + u.Second()*1000 + u.Nanosecond()/1e6), nil
}

// TimestampFromMillis returns the Timestamp value for milliseconds since
// the epoch, in UTC.
func TimestampFromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// TimestampToMillis returns milliseconds since the epoch (sub-millisecond
// precision is dropped, rounding down, as Java's Date holds milliseconds).
func TimestampToMillis(t time.Time) int64 { return t.UnixMilli() }

// Decimal is an arbitrary-precision decimal number, unscaled × 10^-scale,
// the Go value of the Decimal logical type (Java's BigDecimal). The scale
// is part of the value: 1.5 and 1.50 are different Decimals, as in Java,
// and the JSON converter preserves it. The zero value is 0 with scale 0.
// Decimals are immutable.
type Decimal struct {
	unscaled *big.Int
	scale    int32
}

// NewDecimal returns unscaled × 10^-scale. unscaled is copied.
func NewDecimal(unscaled *big.Int, scale int32) Decimal {
	return Decimal{unscaled: new(big.Int).Set(unscaled), scale: scale}
}

// DecimalFromInt64 returns unscaled × 10^-scale.
func DecimalFromInt64(unscaled int64, scale int32) Decimal {
	return Decimal{unscaled: big.NewInt(unscaled), scale: scale}
}

// ParseDecimal parses a decimal in the syntax of Java's BigDecimal(String):
// an optional sign, digits with an optional point, and an optional
// exponent ("-1.50", "1E+3", ".5"). The scale is taken from the text:
// "1.50" has scale 2, "1E+3" scale -3.
func ParseDecimal(s string) (Decimal, error) {
	bad := func() (Decimal, error) {
		return Decimal{}, fmt.Errorf("%w: invalid decimal %q", ErrData, s)
	}
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	digits := make([]byte, 0, len(s))
	frac, sawDigit, sawPoint := 0, false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
			sawDigit = true
			if sawPoint {
				frac++
			}
		case c == '.' && !sawPoint:
			sawPoint = true
		default:
			goto exp
		}
	}
exp:
	if !sawDigit {
		return bad()
	}
	exp := int64(0)
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' || i+1 == len(s) {
			return bad()
		}
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil || s[i+1] == '+' && len(s) == i+2 {
			return bad()
		}
		exp = e
	}
	scale := int64(frac) - exp
	if scale != int64(int32(scale)) {
		return bad()
	}
	u, _ := new(big.Int).SetString(string(digits), 10)
	if neg {
		u.Neg(u)
	}
	return Decimal{unscaled: u, scale: int32(scale)}, nil
}

// DecimalFromUnscaledBytes decodes Kafka's Decimal encoding: big-endian
// two's complement unscaled bytes (Java's BigInteger(byte[])), with scale.
func DecimalFromUnscaledBytes(b []byte, scale int32) (Decimal, error) {
	if len(b) == 0 {
		return Decimal{}, &DataError{Msg: "Invalid bytes for Decimal field: zero length BigInteger"}
	}
	u := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return Decimal{unscaled: u, scale: scale}, nil
}

func (d Decimal) u() *big.Int {
	if d.unscaled == nil {
		return new(big.Int)
	}
	return d.unscaled
}

// UnscaledBytes returns the unscaled value as minimal big-endian two's
// complement (Java's BigInteger.toByteArray), Kafka's Decimal encoding.
func (d Decimal) UnscaledBytes() []byte {
	u := d.u()
	if u.Sign() >= 0 {
		return u.FillBytes(make([]byte, u.BitLen()/8+1))
	}
	m := new(big.Int).Not(u) // -u-1 >= 0
	n := m.BitLen()/8 + 1
	t := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	return t.Add(t, u).FillBytes(make([]byte, n))
}

// Unscaled returns a copy of the unscaled value.
func (d Decimal) Unscaled() *big.Int { return new(big.Int).Set(d.u()) }

// Scale returns the scale.
func (d Decimal) Scale() int32 { return d.scale }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int { return d.u().Sign() }

// Rat returns the exact value as a big.Rat.
func (d Decimal) Rat() *big.Rat {
	r := new(big.Rat).SetInt(d.u())
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(d.scale))), nil)
	if d.scale >= 0 {
		return r.Quo(r, new(big.Rat).SetInt(p))
	}
	return r.Mul(r, new(big.Rat).SetInt(p))
}

// Float64 returns the nearest float64.
func (d Decimal) Float64() float64 {
	f, _ := d.Rat().Float64()
	return f
}

// Cmp compares the numeric values of d and o (1.5 and 1.50 compare equal).
func (d Decimal) Cmp(o Decimal) int { return d.Rat().Cmp(o.Rat()) }

// Equal reports whether d and o have the same unscaled value and scale,
// like BigDecimal.equals.
func (d Decimal) Equal(o Decimal) bool { return d.scale == o.scale && d.u().Cmp(o.u()) == 0 }

// Rescale returns d with the given scale if that loses no digits.
func (d Decimal) Rescale(scale int32) (Decimal, error) {
	if scale == d.scale {
		return d, nil
	}
	u := new(big.Int).Set(d.u())
	diff := int64(scale) - int64(d.scale)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(absInt64(diff)), nil)
	if diff > 0 {
		return Decimal{unscaled: u.Mul(u, p), scale: scale}, nil
	}
	q, r := new(big.Int).QuoRem(u, p, new(big.Int))
	if r.Sign() != 0 {
		return Decimal{}, fmt.Errorf("%w: rescaling %s to scale %d would lose digits", ErrData, d, scale)
	}
	return Decimal{unscaled: q, scale: scale}, nil
}

// String formats d exactly as Java's BigDecimal.toString: plain notation
// when the scale is non-negative and the adjusted exponent is at least -6,
// scientific notation ("1.5E-7", "1E+3") otherwise.
func (d Decimal) String() string {
	u := d.u()
	coeff := new(big.Int).Abs(u).String()
	var b []byte
	if u.Sign() < 0 {
		b = append(b, '-')
	}
	adjusted := -int64(d.scale) + int64(len(coeff)-1)
	switch {
	case d.scale == 0:
		b = append(b, coeff...)
	case d.scale > 0 && adjusted >= -6:
		n := len(coeff) - int(d.scale)
		if n > 0 {
			b = append(b, coeff[:n]...)
			b = append(b, '.')
			b = append(b, coeff[n:]...)
		} else {
			b = append(b, '0', '.')
			for ; n < 0; n++ {
				b = append(b, '0')
			}
			b = append(b, coeff...)
		}
	default:
		b = append(b, coeff[0])
		if len(coeff) > 1 {
			b = append(b, '.')
			b = append(b, coeff[1:]...)
		}
		b = append(b, 'E')
		if adjusted >= 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, adjusted, 10)
	}
	return string(b)
}

func abs32(v int32) int64 {
	if v < 0 {
		return -int64(v)
	}
	return int64(v)
}

func absInt64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
