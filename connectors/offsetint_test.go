package connectors

import (
	"encoding/json"
	"math"
	"testing"
)

func TestOffsetInt(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want int64
		ok   bool
	}{
		{int64(7), 7, true}, {7, 7, true}, {int32(-3), -3, true}, {uint64(9), 9, true},
		{float64(42), 42, true}, {json.Number("123456789012"), 123456789012, true},
		{1.5, 0, false}, {math.Inf(1), 0, false}, {float64(math.MaxInt64) * 2, 0, false},
		{uint64(math.MaxUint64), 0, false}, {json.Number("1.5"), 0, false}, {"7", 0, false}, {nil, 0, false},
	} {
		if got, ok := OffsetInt(tc.v); got != tc.want || ok != tc.ok {
			t.Errorf("OffsetInt(%#v) = %d, %v; want %d, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}
