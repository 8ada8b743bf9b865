package file

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// javaDateLayout is java.util.Date.toString ("EEE MMM dd HH:mm:ss zzz
// yyyy"), which is how Kafka prints Date, Time and Timestamp values.
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// AppendValue appends v rendered as Java's String.valueOf renders the
// Connect value in Kafka's FileStreamSinkTask (which println's it):
//
//	nil                 null
//	string              as is
//	numbers, booleans   Java's Long/Double/Boolean.toString
//	Decimal             BigDecimal.toString
//	time.Time           Date.toString, in UTC
//	*Struct             Struct{a=1,b=x} (null fields left out)
//	[]any               [a, b]
//	maps                {k=v, k2=v2} in Java HashMap order
//	[]byte              the raw bytes (Kafka prints an object id)
func AppendValue(b []byte, v any) []byte {
	if connectors.IsNull(v) {
		return append(b, "null"...)
	}
	switch x := v.(type) {
	case string:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	case bool:
		return strconv.AppendBool(b, x)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float32:
		return append(b, connectors.FormatFloat(float64(x), 32)...)
	case float64:
		return append(b, connectors.FormatFloat(x, 64)...)
	case connectors.Decimal:
		return append(b, x.String()...)
	case time.Time:
		return x.UTC().AppendFormat(b, javaDateLayout)
	case *connectors.Struct:
		b = append(b, "Struct{"...)
		first := true
		for _, f := range x.Schema().Fields() {
			fv := x.GetFieldWithoutDefault(f)
			if connectors.IsNull(fv) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, f.Name()...)
			b = append(b, '=')
			b = AppendValue(b, fv)
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendValue(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := slices.Collect(maps.Keys(x))
		connectors.JavaHashOrderStrings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, k...)
			b = append(b, '=')
			b = AppendValue(b, x[k])
		}
		return append(b, '}')
	case map[any]any:
		keys := slices.Collect(maps.Keys(x))
		connectors.JavaHashOrder(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendValue(b, k)
			b = append(b, '=')
			b = AppendValue(b, x[k])
		}
		return append(b, '}')
	}
	return fmt.Append(b, v)
}
