package jdbc

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
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
// steps are chosen once per column (see converterFor), so the per-value
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
