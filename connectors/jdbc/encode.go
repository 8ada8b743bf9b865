package jdbc

// Encoders: canonical values (convert.go) into what pgx writes for a
// destination column type, and the per-column converter that combines
// both steps, with pass-through fast paths.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicedata/sluice/connectors"
)

// encoderFor returns the encoder for a destination column of type oid
// (elem: the element type of an array column, 0 otherwise); the values
// it returns are what pgx encodes for that OID in binary. Columns of
// other types are staged as text (staged reports false) and cast by
// PostgreSQL.
func encoderFor(oid uint32, loc *time.Location) (enc encoder, staged bool) {
	switch oid {
	case pgtype.Int2OID:
		return intEncoder(math.MinInt16, math.MaxInt16, func(n int64) any { return int16(n) }), true
	case pgtype.Int4OID:
		return intEncoder(math.MinInt32, math.MaxInt32, func(n int64) any { return int32(n) }), true
	case pgtype.Int8OID:
		return intEncoder(math.MinInt64, math.MaxInt64, func(n int64) any { return n }), true
	case pgtype.Float4OID:
		return func(v any) (any, error) {
			f, err := toFloat(v)
			if err != nil {
				return nil, err
			}
			return float32(f), nil
		}, true
	case pgtype.Float8OID:
		return func(v any) (any, error) { return toFloat(v) }, true
	case pgtype.NumericOID:
		return toNumeric, true
	case pgtype.BoolOID:
		return toBool, true
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID:
		return func(v any) (any, error) { return toText(v, loc) }, true
	case pgtype.ByteaOID:
		return toBytes, true
	case pgtype.JSONOID, pgtype.JSONBOID:
		return toJSONText, true
	case pgtype.UUIDOID:
		return toUUID, true
	case pgtype.DateOID:
		return func(v any) (any, error) { return toDate(v, loc) }, true
	case pgtype.TimeOID:
		return toTime, true
	case pgtype.TimestampOID:
		return func(v any) (any, error) { return toTimestamp(v, loc) }, true
	case pgtype.TimestamptzOID:
		return func(v any) (any, error) { return toTimestamptz(v, loc) }, true
	case pgtype.IntervalOID:
		return toInterval, true
	}
	if elem := arrayElem(oid); elem != 0 {
		e, _ := encoderFor(elem, loc)
		return func(v any) (any, error) {
			l, ok := v.([]any)
			if !ok {
				return nil, convErrorf("%s is not an array", describe(v))
			}
			out := make([]any, len(l))
			for i, x := range l {
				if x == nil {
					continue
				}
				c, err := e(x)
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				out[i] = c
			}
			return out, nil
		}, true
	}
	return func(v any) (any, error) { return toCastText(v, loc) }, false
}

// arrayElem returns the element OID of the array types written in binary.
func arrayElem(oid uint32) uint32 {
	switch oid {
	case pgtype.BoolArrayOID:
		return pgtype.BoolOID
	case pgtype.ByteaArrayOID:
		return pgtype.ByteaOID
	case pgtype.Int2ArrayOID:
		return pgtype.Int2OID
	case pgtype.Int4ArrayOID:
		return pgtype.Int4OID
	case pgtype.Int8ArrayOID:
		return pgtype.Int8OID
	case pgtype.TextArrayOID:
		return pgtype.TextOID
	case pgtype.VarcharArrayOID:
		return pgtype.VarcharOID
	case pgtype.BPCharArrayOID:
		return pgtype.BPCharOID
	case pgtype.Float4ArrayOID:
		return pgtype.Float4OID
	case pgtype.Float8ArrayOID:
		return pgtype.Float8OID
	case pgtype.NumericArrayOID:
		return pgtype.NumericOID
	case pgtype.DateArrayOID:
		return pgtype.DateOID
	case pgtype.TimeArrayOID:
		return pgtype.TimeOID
	case pgtype.TimestampArrayOID:
		return pgtype.TimestampOID
	case pgtype.TimestamptzArrayOID:
		return pgtype.TimestamptzOID
	case pgtype.UUIDArrayOID:
		return pgtype.UUIDOID
	case pgtype.JSONArrayOID:
		return pgtype.JSONOID
	case pgtype.JSONBArrayOID:
		return pgtype.JSONBOID
	case pgtype.IntervalArrayOID:
		return pgtype.IntervalOID
	}
	return 0
}

func describe(v any) string {
	switch v.(type) {
	case string, textValue, jsonText:
		s := fmt.Sprint(v)
		if len(s) > 64 {
			s = s[:61] + "..."
		}
		return fmt.Sprintf("%q", s)
	case []byte:
		return fmt.Sprintf("%d bytes", len(v.([]byte)))
	case localTimestamp:
		return time.Time(v.(localTimestamp)).Format("2006-01-02T15:04:05.999999")
	case dateValue:
		return time.Time(v.(dateValue)).Format("2006-01-02")
	case []any:
		return fmt.Sprintf("an array of %d elements", len(v.([]any)))
	}
	return connectors.FormatValue(v)
}

func intEncoder(lo, hi int64, cast func(int64) any) encoder {
	return func(v any) (any, error) {
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case float64:
			if x != math.Trunc(x) || x < float64(lo) || x > float64(hi) {
				return nil, convErrorf("%s does not fit an integer column", describe(v))
			}
			n = int64(x)
		case bool:
			if x {
				n = 1
			}
		case connectors.Decimal:
			r := x.Rat()
			if !r.IsInt() || !r.Num().IsInt64() {
				return nil, convErrorf("%s does not fit an integer column", x)
			}
			n = r.Num().Int64()
		case string:
			p, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, convErrorf("%s is not an integer", describe(v))
			}
			n = p
		default:
			return nil, convErrorf("%s cannot be written to an integer column", describe(v))
		}
		if n < lo || n > hi {
			return nil, convErrorf("%d is out of range for the column (%d to %d)", n, lo, hi)
		}
		return cast(n), nil
	}
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case connectors.Decimal:
		return x.Float64(), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, convErrorf("%s is not a number", describe(v))
		}
		return f, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, convErrorf("%s cannot be written to a floating-point column", describe(v))
}

func toNumeric(v any) (any, error) {
	switch x := v.(type) {
	case connectors.Decimal:
		u := x.Unscaled()
		if d, ok := asSmallDecimal(u, x.Scale()); ok {
			return d, nil
		}
		return pgtype.Numeric{Int: u, Exp: -x.Scale(), Valid: true}, nil
	case int64:
		if d, ok := asSmallDecimal(big.NewInt(x), 0); ok {
			return d, nil
		}
		return pgtype.Numeric{Int: big.NewInt(x), Valid: true}, nil
	case float64:
		if math.IsNaN(x) {
			return pgtype.Numeric{NaN: true, Valid: true}, nil
		}
		if math.IsInf(x, 1) {
			return pgtype.Numeric{InfinityModifier: pgtype.Infinity, Valid: true}, nil
		}
		if math.IsInf(x, -1) {
			return pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, nil
		}
		d, err := connectors.ParseDecimal(strconv.FormatFloat(x, 'f', -1, 64))
		if err != nil {
			return nil, convErrorf("%v is not a number", x)
		}
		return pgtype.Numeric{Int: d.Unscaled(), Exp: -d.Scale(), Valid: true}, nil
	case string:
		d, err := connectors.ParseDecimal(strings.TrimSpace(x))
		if err != nil {
			return nil, convErrorf("%s is not a number", describe(v))
		}
		return pgtype.Numeric{Int: d.Unscaled(), Exp: -d.Scale(), Valid: true}, nil
	case bool:
		n := int64(0)
		if x {
			n = 1
		}
		return pgtype.Numeric{Int: big.NewInt(n), Valid: true}, nil
	}
	return nil, convErrorf("%s cannot be written to a numeric column", describe(v))
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return nil, convErrorf("%s is not a boolean", describe(v))
		}
		return b, nil
	}
	return nil, convErrorf("%s cannot be written to a boolean column", describe(v))
}

func toBytes(v any) (any, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	case textValue:
		return []byte(x), nil
	case jsonText:
		return []byte(x), nil
	}
	return nil, convErrorf("%s cannot be written to a bytea column", describe(v))
}

func toJSONText(v any) (any, error) {
	switch x := v.(type) {
	case jsonText:
		return string(x), nil
	case string:
		if json.Valid([]byte(x)) {
			return x, nil
		}
		b, _ := json.Marshal(x)
		return string(b), nil
	case []any:
		j, err := toJSON(x)
		if err != nil {
			return nil, err
		}
		return string(j.(jsonText)), nil
	}
	j, err := jsonable(canonicalJSON(v))
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, convErrorf("cannot render %s as JSON: %v", describe(v), err)
	}
	return string(b), nil
}

// canonicalJSON maps canonical values without a JSON form of their own
// to one.
func canonicalJSON(v any) any {
	switch x := v.(type) {
	case localTimestamp:
		return time.Time(x).Format("2006-01-02T15:04:05.999999999")
	case dateValue:
		return time.Time(x).Format("2006-01-02")
	case timeOfDay:
		return formatTimeOfDay(int64(x))
	case textValue:
		return string(x)
	case pgtype.Interval:
		return formatInterval(x)
	}
	return v
}

func toUUID(v any) (any, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case textValue:
		s = string(x)
	case []byte:
		if len(x) == 16 {
			var u pgtype.UUID
			copy(u.Bytes[:], x)
			u.Valid = true
			return u, nil
		}
		return nil, convErrorf("%d bytes are not a UUID", len(x))
	default:
		return nil, convErrorf("%s cannot be written to a uuid column", describe(v))
	}
	h := strings.TrimSuffix(strings.TrimPrefix(strings.ReplaceAll(strings.TrimSpace(s), "-", ""), "{"), "}")
	var u pgtype.UUID
	if len(h) != 32 {
		return nil, convErrorf("%s is not a UUID", describe(v))
	}
	if _, err := hex.Decode(u.Bytes[:], []byte(h)); err != nil {
		return nil, convErrorf("%s is not a UUID", describe(v))
	}
	u.Valid = true
	return u, nil
}

func toDate(v any, loc *time.Location) (any, error) {
	switch x := v.(type) {
	case dateValue:
		return pgtype.Date{Time: time.Time(x), Valid: true}, nil
	case localTimestamp:
		t := time.Time(x)
		return pgtype.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Valid: true}, nil
	case time.Time:
		t := x.In(loc)
		return pgtype.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Valid: true}, nil
	case int64: // days since the epoch
		return pgtype.Date{Time: connectors.DateFromDays(int32(x)), Valid: true}, nil
	case string:
		t, err := time.Parse("2006-01-02", strings.TrimSpace(x))
		if err != nil {
			return nil, convErrorf("%s is not a date (YYYY-MM-DD)", describe(v))
		}
		return pgtype.Date{Time: t, Valid: true}, nil
	}
	return nil, convErrorf("%s cannot be written to a date column", describe(v))
}

func toTime(v any) (any, error) {
	switch x := v.(type) {
	case timeOfDay:
		return pgtype.Time{Microseconds: int64(x), Valid: true}, nil
	case localTimestamp:
		t := time.Time(x)
		return pgtype.Time{Microseconds: int64(t.Hour())*3600e6 + int64(t.Minute())*60e6 + int64(t.Second())*1e6 + int64(t.Nanosecond()/1000), Valid: true}, nil
	case string:
		t, err := time.Parse("15:04:05.999999999", strings.TrimSpace(x))
		if err != nil {
			return nil, convErrorf("%s is not a time of day (HH:MM:SS)", describe(v))
		}
		return pgtype.Time{Microseconds: int64(t.Hour())*3600e6 + int64(t.Minute())*60e6 + int64(t.Second())*1e6 + int64(t.Nanosecond()/1000), Valid: true}, nil
	}
	return nil, convErrorf("%s cannot be written to a time column", describe(v))
}

// toTimestamp writes a wall-clock date-time: instants are shown in loc
// (database.time_zone / db.timezone).
func toTimestamp(v any, loc *time.Location) (any, error) {
	switch x := v.(type) {
	case localTimestamp:
		return pgtype.Timestamp{Time: time.Time(x), Valid: true}, nil
	case time.Time:
		t := x.In(loc)
		return pgtype.Timestamp{Time: time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), Valid: true}, nil
	case dateValue:
		return pgtype.Timestamp{Time: time.Time(x), Valid: true}, nil
	case int64: // epoch milliseconds
		return toTimestamp(connectors.TimestampFromMillis(x), loc)
	case string:
		t, err := parseTimestamp(x)
		if err != nil {
			return nil, err
		}
		return toTimestamp(t, loc)
	}
	return nil, convErrorf("%s cannot be written to a timestamp column", describe(v))
}

// toTimestamptz writes an instant: wall-clock date-times are taken to be
// in loc.
func toTimestamptz(v any, loc *time.Location) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return pgtype.Timestamptz{Time: x, Valid: true}, nil
	case localTimestamp:
		t := time.Time(x)
		return pgtype.Timestamptz{Time: time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc), Valid: true}, nil
	case dateValue:
		t := time.Time(x)
		return pgtype.Timestamptz{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc), Valid: true}, nil
	case int64:
		return pgtype.Timestamptz{Time: connectors.TimestampFromMillis(x), Valid: true}, nil
	case string:
		t, err := parseTimestamp(x)
		if err != nil {
			return nil, err
		}
		return toTimestamptz(t, loc)
	}
	return nil, convErrorf("%s cannot be written to a timestamptz column", describe(v))
}

func parseTimestamp(s string) (any, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return localTimestamp(t), nil
		}
	}
	return nil, convErrorf("%q is not an ISO-8601 timestamp", s)
}

func toInterval(v any) (any, error) {
	switch x := v.(type) {
	case pgtype.Interval:
		return x, nil
	case int64: // microseconds, as Debezium's MicroDuration
		return pgtype.Interval{Microseconds: x, Valid: true}, nil
	case textValue, string:
		iv, err := parseISODuration(fmt.Sprint(x))
		if err != nil {
			return nil, err
		}
		return iv, nil
	}
	return nil, convErrorf("%s cannot be written to an interval column", describe(v))
}

// parseISODuration parses an ISO-8601 duration as Debezium's Interval
// type writes it, e.g. P1Y2M3DT4H5M6.78S (negative parts allowed).
func parseISODuration(s string) (pgtype.Interval, error) {
	bad := func() (pgtype.Interval, error) {
		return pgtype.Interval{}, convErrorf("%q is not an ISO-8601 duration", s)
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "P")
	if !ok {
		return bad()
	}
	var iv pgtype.Interval
	inTime := false
	for len(rest) > 0 {
		if rest[0] == 'T' {
			inTime = true
			rest = rest[1:]
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] == '-' || rest[i] == '+' || rest[i] == '.' || rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		if i == 0 || i == len(rest) {
			return bad()
		}
		num, unit := rest[:i], rest[i]
		rest = rest[i+1:]
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return bad()
		}
		switch {
		case !inTime && unit == 'Y':
			iv.Months += int32(f * 12)
		case !inTime && unit == 'M':
			iv.Months += int32(f)
		case !inTime && unit == 'W':
			iv.Days += int32(f * 7)
		case !inTime && unit == 'D':
			iv.Days += int32(f)
		case inTime && unit == 'H':
			iv.Microseconds += int64(math.Round(f * 3600e6))
		case inTime && unit == 'M':
			iv.Microseconds += int64(math.Round(f * 60e6))
		case inTime && unit == 'S':
			iv.Microseconds += int64(math.Round(f * 1e6))
		default:
			return bad()
		}
	}
	iv.Valid = true
	return iv, nil
}

// toText renders any canonical value as text for a text column.
func toText(v any, loc *time.Location) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case textValue:
		return string(x), nil
	case jsonText:
		return string(x), nil
	}
	return toCastText(v, loc)
}

// toCastText renders a canonical value in PostgreSQL's input syntax, for
// columns staged as text and cast (enums, timetz, bit, xml, inet, domains,
// user types …).
func toCastText(v any, loc *time.Location) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case textValue:
		return string(x), nil
	case jsonText:
		return string(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case connectors.Decimal:
		return x.Rat().FloatString(int(max(x.Scale(), 0))), nil
	case []byte:
		return `\x` + hex.EncodeToString(x), nil
	case time.Time:
		return x.In(loc).Format("2006-01-02 15:04:05.999999Z07:00"), nil
	case localTimestamp:
		return time.Time(x).Format("2006-01-02 15:04:05.999999"), nil
	case dateValue:
		return time.Time(x).Format("2006-01-02"), nil
	case timeOfDay:
		return formatTimeOfDay(int64(x)), nil
	case pgtype.Interval:
		return formatInterval(x), nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if e == nil {
				parts[i] = "NULL"
				continue
			}
			s, err := toCastText(e, loc)
			if err != nil {
				return nil, err
			}
			parts[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s.(string)) + `"`
		}
		return "{" + strings.Join(parts, ",") + "}", nil
	}
	return nil, convErrorf("unsupported value %s (%s)", describe(v), reflect.TypeOf(v))
}

func formatTimeOfDay(us int64) string {
	h := us / 3600e6
	m := us / 60e6 % 60
	s := us / 1e6 % 60
	frac := us % 1e6
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if frac != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
	}
	return out
}

func formatInterval(iv pgtype.Interval) string {
	return fmt.Sprintf("%d months %d days %d microseconds", iv.Months, iv.Days, iv.Microseconds)
}

// converter turns a Connect value (non-null) into what pgx encodes for
// the destination column.
type converter func(v any) (any, error)

// converterFor returns the conversion of values of schema s (nil:
// schemaless) into a column of type oid, and whether the column's type
// travels in binary (else as text, cast by PostgreSQL). Where the Go
// value already is what pgx needs, the value is passed through, which
// saves allocations on the hot path.
func converterFor(s *connectors.Schema, oid uint32, loc *time.Location) (converter, bool) {
	enc, binary := encoderFor(oid, loc)
	norm := normalizerFor(s)
	slow := func(v any) (any, error) {
		x, err := norm(v)
		if err != nil || x == nil {
			return x, err
		}
		return enc(x)
	}
	if s == nil {
		return slow, binary
	}
	pass := func(ok func(any) bool) converter {
		return func(v any) (any, error) {
			if ok(v) {
				return v, nil
			}
			return slow(v)
		}
	}
	switch s.Name() {
	case "":
		switch {
		case oid == pgtype.Int8OID && isIntType(s.Type()):
			return pass(func(v any) bool {
				switch v.(type) {
				case int8, int16, int32, int64:
					return true
				}
				return false
			}), binary
		case oid == pgtype.Int4OID && isIntType(s.Type()):
			return pass(func(v any) bool {
				switch v.(type) {
				case int8, int16, int32:
					return true
				}
				return false
			}), binary
		case oid == pgtype.Int2OID && isIntType(s.Type()):
			return pass(func(v any) bool {
				switch v.(type) {
				case int8, int16:
					return true
				}
				return false
			}), binary
		case oid == pgtype.Float8OID && s.Type() == connectors.TypeFloat64:
			return pass(func(v any) bool { _, ok := v.(float64); return ok }), binary
		case oid == pgtype.Float4OID && s.Type() == connectors.TypeFloat32:
			return pass(func(v any) bool { _, ok := v.(float32); return ok }), binary
		case oid == pgtype.BoolOID && s.Type() == connectors.TypeBoolean:
			return pass(func(v any) bool { _, ok := v.(bool); return ok }), binary
		case (oid == pgtype.TextOID || oid == pgtype.VarcharOID || oid == pgtype.BPCharOID) && s.Type() == connectors.TypeString:
			return pass(func(v any) bool { _, ok := v.(string); return ok }), binary
		case oid == pgtype.ByteaOID && s.Type() == connectors.TypeBytes:
			return pass(func(v any) bool { _, ok := v.([]byte); return ok }), binary
		}
	case connectors.DebeziumJSON:
		if oid == pgtype.JSONOID || oid == pgtype.JSONBOID {
			return pass(func(v any) bool { _, ok := v.(string); return ok }), binary
		}
	case connectors.TimestampLogicalName:
		switch {
		case oid == pgtype.TimestamptzOID:
			return pass(func(v any) bool { _, ok := v.(time.Time); return ok }), binary
		case oid == pgtype.TimestampOID && loc == time.UTC:
			// pgx writes a time.Time's wall clock to timestamp columns.
			return pass(func(v any) bool { t, ok := v.(time.Time); return ok && t.Location() == time.UTC }), binary
		}
	case connectors.DateLogicalName:
		if oid == pgtype.DateOID {
			return pass(func(v any) bool { _, ok := v.(time.Time); return ok }), binary
		}
	case connectors.DebeziumMicroTimestamp, connectors.DebeziumTimestamp, connectors.DebeziumNanoTimestamp:
		if oid == pgtype.TimestampOID || oid == pgtype.TimestamptzOID && loc == time.UTC {
			unit := s.Name()
			return func(v any) (any, error) {
				n, ok := v.(int64)
				if !ok {
					return slow(v)
				}
				switch unit {
				case connectors.DebeziumMicroTimestamp:
					return time.UnixMicro(n).UTC(), nil
				case connectors.DebeziumTimestamp:
					return time.UnixMilli(n).UTC(), nil
				}
				return time.Unix(0, n).UTC(), nil
			}, binary
		}
	case connectors.DebeziumZonedTimestamp:
		if oid == pgtype.TimestamptzOID {
			return func(v any) (any, error) {
				str, ok := v.(string)
				if !ok {
					return slow(v)
				}
				t, err := time.Parse(time.RFC3339Nano, str)
				if err != nil {
					return nil, convErrorf("%q is not an ISO-8601 timestamp with offset", str)
				}
				return t, nil
			}, binary
		}
	}
	return slow, binary
}

func isIntType(t connectors.Type) bool {
	return t == connectors.TypeInt8 || t == connectors.TypeInt16 || t == connectors.TypeInt32 || t == connectors.TypeInt64
}
