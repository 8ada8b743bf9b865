package jdbc

import (
	"encoding/base64"
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

// Values go to PostgreSQL in two steps. normalizer turns a Connect value
// (interpreted with its schema: logical types, Debezium semantic types)
// into one of the canonical Go values below; encoder turns a canonical
// value into what pgx encodes for the destination column's type. Both
// steps are chosen once per column (see bindColumn), so the per-value
// work is two direct calls.
//
// Canonical values:
//
//	nil                  NULL
//	int64, float64, bool, string, []byte
//	connectors.Decimal   exact decimal
//	time.Time            an instant (Connect Timestamp, ZonedTimestamp)
//	localTimestamp       a wall-clock date-time without zone (Debezium Timestamp, MicroTimestamp, …)
//	dateValue            a calendar date
//	timeOfDay            microseconds since midnight
//	textValue            text to be cast by PostgreSQL (ZonedTime, Interval, Bits, Geometry, …)
//	jsonText             a JSON document
//	pgtype.Interval      a duration
//	[]any                an array of canonical values
type (
	localTimestamp time.Time
	dateValue      time.Time
	timeOfDay      int64
	textValue      string
	jsonText       string
)

type normalizer func(v any) (any, error)

type encoder func(v any) (any, error)

// convError is a value that cannot be written to its column.
type convError struct{ msg string }

func (e *convError) Error() string { return e.msg }

func convErrorf(format string, a ...any) error { return &convError{msg: fmt.Sprintf(format, a...)} }

// normalizerFor returns the normalizer for values of schema s (nil:
// schemaless, the Go type decides).
func normalizerFor(s *connectors.Schema) normalizer {
	if s == nil {
		return normalizeDynamic
	}
	switch s.Name() {
	case connectors.DecimalLogicalName:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case connectors.Decimal:
				return x, nil
			case []byte:
				scale, err := connectors.DecimalScale(s)
				if err != nil {
					return nil, err
				}
				return connectors.DecimalFromUnscaledBytes(x, scale)
			}
			return normalizeDynamic(v)
		}
	case connectors.DateLogicalName, connectors.DebeziumDate:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case time.Time:
				return dateValue(x.UTC()), nil
			case int32:
				return dateValue(connectors.DateFromDays(x)), nil
			case int64:
				return dateValue(connectors.DateFromDays(int32(x))), nil
			}
			return normalizeDynamic(v)
		}
	case connectors.TimeLogicalName:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case time.Time:
				ms, err := connectors.TimeToMillis(x)
				if err != nil {
					return nil, err
				}
				return timeOfDay(int64(ms)*1000 + int64(x.Nanosecond()/1000%1000)), nil
			case int32:
				return timeOfDay(int64(x) * 1000), nil
			}
			return normalizeDynamic(v)
		}
	case connectors.TimestampLogicalName:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case time.Time:
				return x, nil
			case int64:
				return connectors.TimestampFromMillis(x), nil
			}
			return normalizeDynamic(v)
		}
	case connectors.DebeziumTime:
		return scaledTime(1000)
	case connectors.DebeziumMicroTime:
		return scaledTime(1)
	case connectors.DebeziumNanoTime:
		return func(v any) (any, error) {
			n, ok := asInt64(v)
			if !ok {
				return normalizeDynamic(v)
			}
			return timeOfDay(n / 1000), nil
		}
	case connectors.DebeziumTimestamp:
		return scaledTimestamp(time.Millisecond)
	case connectors.DebeziumMicroTimestamp:
		return scaledTimestamp(time.Microsecond)
	case connectors.DebeziumNanoTimestamp:
		return scaledTimestamp(time.Nanosecond)
	case connectors.DebeziumZonedTimestamp:
		return func(v any) (any, error) {
			str, ok := v.(string)
			if !ok {
				return normalizeDynamic(v)
			}
			t, err := time.Parse(time.RFC3339Nano, str)
			if err != nil {
				return nil, convErrorf("%q is not an ISO-8601 timestamp with offset", str)
			}
			return t, nil
		}
	case connectors.DebeziumIsoTimestamp:
		return func(v any) (any, error) {
			str, ok := v.(string)
			if !ok {
				return normalizeDynamic(v)
			}
			if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
				return t, nil
			}
			t, err := time.Parse("2006-01-02T15:04:05.999999999", str)
			if err != nil {
				return nil, convErrorf("%q is not an ISO-8601 timestamp", str)
			}
			return localTimestamp(t), nil
		}
	case connectors.DebeziumIsoDate:
		return func(v any) (any, error) {
			str, ok := v.(string)
			if !ok {
				return normalizeDynamic(v)
			}
			t, err := time.Parse("2006-01-02", strings.TrimSuffix(str, "Z"))
			if err != nil {
				return nil, convErrorf("%q is not an ISO-8601 date", str)
			}
			return dateValue(t), nil
		}
	case connectors.DebeziumIsoTime:
		return func(v any) (any, error) {
			str, ok := v.(string)
			if !ok {
				return normalizeDynamic(v)
			}
			t, err := time.Parse("15:04:05.999999999", strings.TrimSuffix(str, "Z"))
			if err != nil {
				return nil, convErrorf("%q is not an ISO-8601 time", str)
			}
			return timeOfDay(int64(t.Hour())*3600e6 + int64(t.Minute())*60e6 + int64(t.Second())*1e6 + int64(t.Nanosecond()/1000)), nil
		}
	case connectors.DebeziumZonedTime, connectors.DebeziumInterval, connectors.DebeziumXML, connectors.DebeziumLtree:
		return func(v any) (any, error) {
			if str, ok := v.(string); ok {
				return textValue(str), nil
			}
			return normalizeDynamic(v)
		}
	case connectors.DebeziumMicroDuration, connectors.DebeziumNanoDuration:
		div := int64(1)
		if s.Name() == connectors.DebeziumNanoDuration {
			div = 1000
		}
		return func(v any) (any, error) {
			n, ok := asInt64(v)
			if !ok {
				return normalizeDynamic(v)
			}
			return pgtype.Interval{Microseconds: n / div, Valid: true}, nil
		}
	case connectors.DebeziumJSON:
		return func(v any) (any, error) {
			if str, ok := v.(string); ok {
				return jsonText(str), nil
			}
			return normalizeDynamic(v)
		}
	case connectors.DebeziumBits:
		n := -1
		if l, ok := s.Parameter("length"); ok {
			n, _ = strconv.Atoi(l)
		}
		return func(v any) (any, error) {
			b, ok := v.([]byte)
			if !ok {
				return normalizeDynamic(v)
			}
			return textValue(bitString(b, n)), nil
		}
	case connectors.DebeziumVariableScaleDecimal:
		return func(v any) (any, error) {
			st, ok := v.(*connectors.Struct)
			if !ok {
				return normalizeDynamic(v)
			}
			scale, _ := st.Get("scale")
			raw, _ := st.Get("value")
			b, _ := raw.([]byte)
			sc, _ := asInt64(scale)
			if b == nil {
				return nil, nil
			}
			return connectors.DecimalFromUnscaledBytes(b, int32(sc))
		}
	case connectors.DebeziumGeometry, connectors.DebeziumGeography:
		return func(v any) (any, error) {
			st, ok := v.(*connectors.Struct)
			if !ok {
				return normalizeDynamic(v)
			}
			wkb, _ := st.Get("wkb")
			b, _ := wkb.([]byte)
			return b, nil
		}
	case connectors.DebeziumPoint:
		return func(v any) (any, error) {
			st, ok := v.(*connectors.Struct)
			if !ok {
				return normalizeDynamic(v)
			}
			x, _ := st.Get("x")
			y, _ := st.Get("y")
			xf, _ := x.(float64)
			yf, _ := y.(float64)
			return textValue("(" + strconv.FormatFloat(xf, 'g', -1, 64) + "," + strconv.FormatFloat(yf, 'g', -1, 64) + ")"), nil
		}
	}
	switch s.Type() {
	case connectors.TypeInt8, connectors.TypeInt16, connectors.TypeInt32, connectors.TypeInt64:
		return func(v any) (any, error) {
			if n, ok := asInt64(v); ok {
				return n, nil
			}
			return normalizeDynamic(v)
		}
	case connectors.TypeFloat32:
		return func(v any) (any, error) {
			if f, ok := v.(float32); ok {
				return float64(f), nil
			}
			return normalizeDynamic(v)
		}
	case connectors.TypeArray:
		elem := normalizerFor(s.ValueSchema())
		return func(v any) (any, error) {
			l, ok := v.([]any)
			if !ok {
				return normalizeDynamic(v)
			}
			out := make([]any, len(l))
			for i, e := range l {
				if connectors.IsNull(e) {
					continue
				}
				c, err := elem(e)
				if err != nil {
					return nil, err
				}
				out[i] = c
			}
			return out, nil
		}
	case connectors.TypeStruct, connectors.TypeMap:
		return func(v any) (any, error) { return toJSON(v) }
	}
	return normalizeDynamic
}

func scaledTime(microsPer int64) normalizer {
	return func(v any) (any, error) {
		n, ok := asInt64(v)
		if !ok {
			return normalizeDynamic(v)
		}
		return timeOfDay(n * microsPer), nil
	}
}

func scaledTimestamp(unit time.Duration) normalizer {
	return func(v any) (any, error) {
		n, ok := asInt64(v)
		if !ok {
			return normalizeDynamic(v)
		}
		var t time.Time
		switch unit {
		case time.Millisecond:
			t = time.UnixMilli(n)
		case time.Microsecond:
			t = time.UnixMicro(n)
		default:
			t = time.Unix(0, n)
		}
		return localTimestamp(t.UTC()), nil
	}
}

// normalizeDynamic normalizes by Go type: schemaless values, and values
// whose representation does not match their schema's usual one.
func normalizeDynamic(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int8, int16, int32, int64, int, uint8, uint16, uint32:
		n, _ := asInt64(v)
		return n, nil
	case uint64:
		if x > math.MaxInt64 {
			return connectors.NewDecimal(new(big.Int).SetUint64(x), 0), nil
		}
		return int64(x), nil
	case float32:
		return float64(x), nil
	case float64, bool, string, []byte, connectors.Decimal, time.Time,
		localTimestamp, dateValue, timeOfDay, textValue, jsonText, pgtype.Interval:
		return v, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := normalizeDynamic(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case *connectors.Struct:
		if x == nil {
			return nil, nil
		}
		return toJSON(x)
	case map[string]any, map[any]any:
		return toJSON(x)
	}
	if connectors.IsNull(v) {
		return nil, nil
	}
	return nil, convErrorf("unsupported value of Go type %T", v)
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	}
	return 0, false
}

// toJSON renders a Connect struct, map or array as a JSON document
// (bytes as base64, decimals as numbers, times as ISO-8601).
func toJSON(v any) (any, error) {
	j, err := jsonable(v)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, convErrorf("cannot render as JSON: %v", err)
	}
	return jsonText(b), nil
}

func jsonable(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case *connectors.Struct:
		if x == nil {
			return nil, nil
		}
		m := make(map[string]any, len(x.Schema().Fields()))
		for _, f := range x.Schema().Fields() {
			c, err := jsonable(x.GetFieldWithoutDefault(f))
			if err != nil {
				return nil, err
			}
			m[f.Name()] = c
		}
		return m, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			m[connectors.FormatValue(k)] = c
		}
		return m, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	case connectors.Decimal:
		return json.Number(x.String()), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return connectors.FormatValue(x), nil
		}
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return connectors.FormatValue(x), nil
		}
		return x, nil
	}
	return v, nil
}

// bitString renders Debezium's Bits value (java.util.BitSet bytes: bit i
// is bit i%8 of byte i/8) as PostgreSQL bit-string text, most significant
// bit first, n bits long (n < 0: 8 per byte).
func bitString(b []byte, n int) string {
	if n < 0 {
		n = len(b) * 8
	}
	out := make([]byte, n)
	for i := 0; i < n; i++ {
		bit := byte('0')
		if i/8 < len(b) && b[i/8]>>(i%8)&1 == 1 {
			bit = '1'
		}
		out[n-1-i] = bit
	}
	return string(out)
}

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
