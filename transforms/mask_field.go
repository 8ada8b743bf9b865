package transforms

import (
	"math/big"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

const maskFieldDoc = "Mask specified fields with a valid null value for the field type (i.e. 0, false, empty string, and so on). For numeric and string fields, an optional replacement value can be specified that is converted to the correct type."

var maskFieldConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "fields", Type: connectors.ConfigList, Required: true, Validator: nonEmptyList(),
		Importance: connectors.ImportanceHigh, Doc: "Names of fields to mask."}).
	Define(connectors.ConfigKey{Name: "replacement", Type: connectors.ConfigString, Validator: connectors.NonEmptyString(),
		Importance: connectors.ImportanceLow, Doc: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."}).
	Define(replaceNullKey())

// maskField is MaskField$Key / MaskField$Value.
type maskField struct {
	side           side
	fields         map[string]struct{}
	fieldOrder     []string
	replacement    string
	hasReplacement bool
	replaceNull    bool
}

func (t *maskField) Config() *connectors.ConfigDef { return maskFieldConfigDef }

func (t *maskField) Configure(props map[string]string) error {
	c, err := parseConfig(maskFieldConfigDef, props)
	if err != nil {
		return err
	}
	t.fields = map[string]struct{}{}
	t.fieldOrder = nil
	for _, f := range c.List("fields") {
		if _, dup := t.fields[f]; !dup {
			t.fields[f] = struct{}{}
			t.fieldOrder = append(t.fieldOrder, f)
		}
	}
	t.hasReplacement = c.Get("replacement") != nil
	t.replacement = c.String("replacement")
	t.replaceNull = c.Bool("replace.null.with.default")
	return nil
}

func (t *maskField) Close() error { return nil }

func (t *maskField) Apply(r connectors.Record) (connectors.Record, bool, error) {
	schema, value := t.side.get(&r)
	if schema == nil {
		m, err := requireMap(value, "mask fields")
		if err != nil {
			return r, false, err
		}
		out := cloneMap(m, len(t.fieldOrder))
		for _, f := range t.fieldOrder {
			v, err := t.masked(m[f])
			if err != nil {
				return r, false, err
			}
			out[f] = v
		}
		return t.side.set(r, nil, out), true, nil
	}
	s, err := requireStruct(value, "mask fields")
	if err != nil {
		return r, false, err
	}
	out := connectors.NewStruct(s.Schema())
	for _, f := range s.Schema().Fields() {
		v := fieldValue(s, f, t.replaceNull)
		if _, ok := t.fields[f.Name()]; ok {
			if v, err = t.masked(v); err != nil {
				return r, false, err
			}
		}
		if err := out.PutField(f, v); err != nil {
			return r, false, err
		}
	}
	return t.side.set(r, schema, out), true, nil
}

func (t *maskField) masked(v any) (any, error) {
	if connectors.IsNull(v) {
		return nil, nil
	}
	if t.hasReplacement {
		return maskWithReplacement(v, t.replacement)
	}
	switch v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case connectors.Decimal:
		return connectors.DecimalFromInt64(0, 0), nil
	case *big.Int:
		return new(big.Int), nil
	case time.Time:
		return time.UnixMilli(0).UTC(), nil
	case string:
		return "", nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	case map[any]any:
		return map[any]any{}, nil
	}
	return nil, dataErrorf("Cannot mask value of type: %s", typeName(v))
}

// maskWithReplacement converts the replacement to v's type, as Kafka's
// Values.convertToX(null, replacement) (numbers parse as BigDecimal, then
// narrow) and BigDecimal(String).
func maskWithReplacement(v any, rep string) (any, error) {
	switch v.(type) {
	case string:
		return rep, nil
	case connectors.Decimal:
		d, err := connectors.ParseDecimal(rep)
		if err != nil {
			return nil, dataErrorf("Unable to convert %s (string) to number", rep)
		}
		return d, nil
	case *big.Int:
		n, ok := new(big.Int).SetString(rep, 10)
		if !ok {
			return nil, dataErrorf("Unable to convert %s (string) to number", rep)
		}
		return n, nil
	case int8, int16, int32, int64, float32, float64:
	default:
		return nil, dataErrorf("Cannot mask value of type %s with custom replacement.", typeName(v))
	}
	d, err := connectors.ParseDecimal(rep)
	if err != nil {
		return nil, dataErrorf("Unable to convert %s (string) to a number", rep)
	}
	switch v.(type) {
	case int8:
		return int8(javaLongValue(d)), nil
	case int16:
		return int16(javaLongValue(d)), nil
	case int32:
		return int32(javaLongValue(d)), nil
	case int64:
		return javaLongValue(d), nil
	case float32:
		return float32(d.Float64()), nil
	}
	return d.Float64(), nil
}
