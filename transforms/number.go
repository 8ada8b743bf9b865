package transforms

import (
	"math"
	"math/big"

	"github.com/sluicedata/sluice/connectors"
)

// Java's numeric conversions, as Number.intValue/longValue/doubleValue do
// them: integers truncate to the narrower width (two's complement),
// floating-point values round toward zero and saturate (NaN is 0), and
// decimals keep the low-order bits of their integer part.

// isNumber reports whether v is a Java Number: a Go integer or float of a
// Connect type, or a Decimal.
func isNumber(v any) bool {
	switch v.(type) {
	case int8, int16, int32, int64, float32, float64, connectors.Decimal:
		return true
	}
	return false
}

// javaIntValue is Number.intValue (and, narrowed further, byteValue and
// shortValue).
func javaIntValue(v any) int32 {
	switch x := v.(type) {
	case int8:
		return int32(x)
	case int16:
		return int32(x)
	case int32:
		return x
	case int64:
		return int32(x)
	case float32:
		return saturateInt32(float64(x))
	case float64:
		return saturateInt32(x)
	case connectors.Decimal:
		return int32(decimalLowBits(x))
	}
	return 0
}

// javaLongValue is Number.longValue.
func javaLongValue(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case float32:
		return saturateInt64(float64(x))
	case float64:
		return saturateInt64(x)
	case connectors.Decimal:
		return decimalLowBits(x)
	}
	return 0
}

// javaDoubleValue is Number.doubleValue.
func javaDoubleValue(v any) float64 {
	switch x := v.(type) {
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case float64:
		return x
	case connectors.Decimal:
		return x.Float64()
	}
	return 0
}

// javaFloatValue is Number.floatValue.
func javaFloatValue(v any) float32 {
	switch x := v.(type) {
	case int8:
		return float32(x)
	case int16:
		return float32(x)
	case int32:
		return float32(x)
	case int64:
		return float32(x)
	case float32:
		return x
	case float64:
		return float32(x)
	case connectors.Decimal:
		f, _ := x.Rat().Float32()
		return f
	}
	return 0
}

func saturateInt32(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

func saturateInt64(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// decimalLowBits returns the low 64 bits (two's complement) of d's integer
// part, truncated toward zero: BigDecimal.longValue.
func decimalLowBits(d connectors.Decimal) int64 {
	r := d.Rat()
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if q.IsInt64() {
		return q.Int64()
	}
	mask := new(big.Int).Lsh(big.NewInt(1), 64)
	m := new(big.Int).Mod(q, mask) // in [0, 2^64)
	return int64(m.Uint64())
}
