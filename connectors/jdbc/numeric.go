package jdbc

import (
	"encoding/binary"
	"math/big"

	"github.com/jackc/pgx/v5/pgtype"
)

// smallDecimal is a numeric whose unscaled value fits comfortably in an
// int64 (|unscaled| < 10^15, 0 <= scale <= 1000), the common case of
// amounts and quantities. It is written in PostgreSQL's binary numeric
// format directly: pgx's general encoder works on big.Int and costs about
// a fifth of the task's CPU per row on a table with one numeric column.
type smallDecimal struct {
	unscaled int64
	scale    int32
}

const smallDecimalLimit = 1_000_000_000_000_000 // 10^15: ×10^3 still fits an int64

// NumericValue lets pgx's own codec encode it where the fast plan does
// not apply (text format).
func (d smallDecimal) NumericValue() (pgtype.Numeric, error) {
	return pgtype.Numeric{Int: big.NewInt(d.unscaled), Exp: -d.scale, Valid: true}, nil
}

// asSmallDecimal returns u×10^-scale as a smallDecimal when it fits.
func asSmallDecimal(u *big.Int, scale int32) (smallDecimal, bool) {
	if !u.IsInt64() || scale > 1000 {
		return smallDecimal{}, false
	}
	n := u.Int64()
	for scale < 0 && n > -smallDecimalLimit && n < smallDecimalLimit {
		n *= 10
		scale++
	}
	if scale < 0 || n <= -smallDecimalLimit || n >= smallDecimalLimit {
		return smallDecimal{}, false
	}
	return smallDecimal{unscaled: n, scale: scale}, true
}

// appendBinary appends d in PostgreSQL's binary numeric format: ndigits,
// weight, sign, dscale (int16 each), then base-10000 digits, most
// significant first, aligned on the decimal point.
func (d smallDecimal) appendBinary(buf []byte) []byte {
	u := d.unscaled
	sign := uint16(0)
	if u < 0 {
		sign, u = 0x4000, -u
	}
	pad := (4 - d.scale%4) % 4
	for i := int32(0); i < pad; i++ {
		u *= 10
	}
	fracGroups := int((d.scale + pad) / 4)
	var digits [8]uint16 // least significant first; 10^18 needs 5
	n := 0
	for ; u > 0; u /= 10000 {
		digits[n] = uint16(u % 10000)
		n++
	}
	weight := n - 1 - fracGroups
	low := 0
	for low < n && digits[low] == 0 {
		low++ // trailing zero digits carry nothing
	}
	if n == 0 {
		weight, sign = 0, 0
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(n-low))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(d.scale))
	for i := n - 1; i >= low; i-- {
		buf = binary.BigEndian.AppendUint16(buf, digits[i])
	}
	return buf
}

// numericCodec is pgx's numeric codec with the fast plan for
// smallDecimal.
type numericCodec struct{ pgtype.NumericCodec }

func (c numericCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(smallDecimal); ok && format == pgtype.BinaryFormatCode {
		return smallDecimalPlan{}
	}
	return c.NumericCodec.PlanEncode(m, oid, format, value)
}

type smallDecimalPlan struct{}

func (smallDecimalPlan) Encode(value any, buf []byte) ([]byte, error) {
	return value.(smallDecimal).appendBinary(buf), nil
}

// registerTypes installs the numeric codec (and numeric[] over it) in a
// connection's type map.
func registerTypes(m *pgtype.Map) {
	nt := &pgtype.Type{Name: "numeric", OID: pgtype.NumericOID, Codec: numericCodec{}}
	m.RegisterType(nt)
	m.RegisterType(&pgtype.Type{Name: "_numeric", OID: pgtype.NumericArrayOID, Codec: &pgtype.ArrayCodec{ElementType: nt}})
}
