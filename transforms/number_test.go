package transforms

import (
	"math"
	"math/big"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestJavaNumberConversions(t *testing.T) {
	big65, _ := new(big.Int).SetString("36893488147419103231", 10) // 2^65 - 1
	huge := connectors.NewDecimal(big65, 0)
	for _, tc := range []struct {
		in  any
		i32 int32
		i64 int64
		f64 float64
		f32 float32
	}{
		{int8(-5), -5, -5, -5, -5},
		{int16(300), 300, 300, 300, 300},
		{int64(1<<32 + 7), 7, 1<<32 + 7, 1<<32 + 7, 1<<32 + 7},
		{float32(2.75), 2, 2, 2.75, 2.75},
		{-1e300, math.MinInt32, math.MinInt64, -1e300, float32(math.Inf(-1))},
		{math.NaN(), 0, 0, math.NaN(), float32(math.NaN())},
		{connectors.DecimalFromInt64(-1234, 2), -12, -12, -12.34, -12.34},
		{huge, -1, -1, 3.6893488147419103e19, 3.689349e19},
	} {
		if got := javaIntValue(tc.in); got != tc.i32 {
			t.Errorf("intValue(%v) = %d, want %d", tc.in, got, tc.i32)
		}
		if got := javaLongValue(tc.in); got != tc.i64 {
			t.Errorf("longValue(%v) = %d, want %d", tc.in, got, tc.i64)
		}
		if got := javaDoubleValue(tc.in); got != tc.f64 && !(math.IsNaN(got) && math.IsNaN(tc.f64)) {
			t.Errorf("doubleValue(%v) = %v, want %v", tc.in, got, tc.f64)
		}
		if got := javaFloatValue(tc.in); got != tc.f32 && !(got != got && tc.f32 != tc.f32) {
			t.Errorf("floatValue(%v) = %v, want %v", tc.in, got, tc.f32)
		}
	}
	if saturatingMul(math.MaxInt64/2, 1000) != math.MaxInt64 || saturatingMul(math.MinInt64/2, 1000) != math.MinInt64 || saturatingMul(-3, 1000) != -3000 {
		t.Error("saturatingMul")
	}
}

func TestStringMap(t *testing.T) {
	m, ok := stringMap(map[any]any{"a": 1})
	if !ok || m["a"] != 1 {
		t.Errorf("%v %v", m, ok)
	}
	if _, ok := stringMap(map[any]any{1: 1}); ok {
		t.Error("non-string keys accepted")
	}
	var nilMap map[string]any
	if _, ok := stringMap(nilMap); ok {
		t.Error("nil map accepted")
	}
	// Transforms accept map[any]any values and produce map[string]any.
	tr := newTransform(t, "ReplaceField$Value", map[string]string{"exclude": "b"})
	out := apply(t, tr, sinkRecord("t", nil, nil, nil, map[any]any{"a": 1, "b": 2}))
	eq(t, "map[any]any", out.Value, map[string]any{"a": 1})
}
