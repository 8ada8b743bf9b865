package connectors

import (
	"bytes"
	"fmt"
	"reflect"
	"time"
)

// IsNull reports whether v is a Connect null: a nil interface, or a nil
// *Struct, []byte, []any, map[string]any or map[any]any (Go's zero values
// for the reference types stand for Java's null; an empty non-nil value is
// an empty value).
func IsNull(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case *Struct:
		return x == nil
	case []byte:
		return x == nil
	case []any:
		return x == nil
	case map[string]any:
		return x == nil
	case map[any]any:
		return x == nil
	}
	return false
}

// ValidateValue checks that v is a valid value for schema, recursively, as
// Kafka's ConnectSchema.validateValue does, and returns a *DataError with
// Kafka's wording otherwise. A nil schema accepts any value.
func ValidateValue(schema *Schema, v any) error {
	return validateValue(schema, v, location{where: "value"})
}

// validateField is ValidateValue for a struct field, worded like Kafka.
func validateField(name string, schema *Schema, v any) error {
	return validateValue(schema, v, location{field: name})
}

// location names what is validated, for error messages. It is built into
// a string only when validation fails: PutField runs for every field of
// every record, and the message is almost never needed.
type location struct {
	where string // the whole location, or a prefix when field is set
	field string
}

func (l location) String() string {
	if l.field != "" {
		return l.where + `field: "` + l.field + `"`
	}
	return l.where
}

func validateValue(s *Schema, v any, location location) error {
	if s == nil {
		return nil
	}
	if IsNull(v) {
		if !s.optional {
			return &DataError{Msg: fmt.Sprintf("Invalid value: null used for required %s, schema type: %s", location, s.typ)}
		}
		return nil
	}
	if !goTypeMatches(s, v) {
		msg := "Invalid Go value for schema"
		if s.name != "" {
			msg += ` "` + s.name + `"`
		}
		return &DataError{Msg: fmt.Sprintf("%s with type %s: %T for %s", msg, s.typ, v, location)}
	}
	switch s.typ {
	case TypeStruct:
		st := v.(*Struct)
		if !st.schema.Equal(s) {
			return &DataError{Msg: "Struct schemas do not match."}
		}
		return st.Validate()
	case TypeArray:
		loc := nested("element of array ", location)
		for _, e := range v.([]any) {
			if err := validateValue(s.value, e, loc); err != nil {
				return err
			}
		}
	case TypeMap:
		kloc, vloc := nested("key of map ", location), nested("value of map ", location)
		switch m := v.(type) {
		case map[string]any:
			for k, e := range m {
				if err := validateValue(s.key, k, kloc); err != nil {
					return err
				}
				if err := validateValue(s.value, e, vloc); err != nil {
					return err
				}
			}
		case map[any]any:
			for k, e := range m {
				if err := validateValue(s.key, k, kloc); err != nil {
					return err
				}
				if err := validateValue(s.value, e, vloc); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// nested is the location of an element inside the container at l.
func nested(prefix string, l location) location {
	return location{where: prefix + l.String()}
}

// goTypeMatches reports whether the Go type of the non-null v is the
// representation of schema s (see the package doc).
func goTypeMatches(s *Schema, v any) bool {
	switch s.name {
	case DecimalLogicalName:
		_, ok := v.(Decimal)
		return ok
	case DateLogicalName, TimeLogicalName, TimestampLogicalName:
		_, ok := v.(time.Time)
		return ok
	}
	switch s.typ {
	case TypeInt8:
		_, ok := v.(int8)
		return ok
	case TypeInt16:
		_, ok := v.(int16)
		return ok
	case TypeInt32:
		_, ok := v.(int32)
		return ok
	case TypeInt64:
		_, ok := v.(int64)
		return ok
	case TypeFloat32:
		_, ok := v.(float32)
		return ok
	case TypeFloat64:
		_, ok := v.(float64)
		return ok
	case TypeBoolean:
		_, ok := v.(bool)
		return ok
	case TypeString:
		_, ok := v.(string)
		return ok
	case TypeBytes:
		_, ok := v.([]byte)
		return ok
	case TypeArray:
		_, ok := v.([]any)
		return ok
	case TypeMap:
		switch v.(type) {
		case map[any]any:
			return true
		case map[string]any:
			return s.key != nil && s.key.typ == TypeString
		}
		return false
	case TypeStruct:
		_, ok := v.(*Struct)
		return ok
	}
	return false
}

// InferType returns the schema type of a schemaless value, as Kafka's
// ConnectSchema.schemaType does for Java classes: int8…float64, bool,
// string, []byte, []any (ARRAY), map[string]any / map[any]any (MAP) and
// *Struct. Logical-type values (Decimal, time.Time) and other Go types
// have no schemaless type.
func InferType(v any) (Type, bool) {
	switch v.(type) {
	case int8:
		return TypeInt8, true
	case int16:
		return TypeInt16, true
	case int32:
		return TypeInt32, true
	case int64:
		return TypeInt64, true
	case float32:
		return TypeFloat32, true
	case float64:
		return TypeFloat64, true
	case bool:
		return TypeBoolean, true
	case string:
		return TypeString, true
	case []byte:
		return TypeBytes, true
	case []any:
		return TypeArray, true
	case map[string]any, map[any]any:
		return TypeMap, true
	case *Struct:
		return TypeStruct, true
	}
	return 0, false
}

// ValuesEqual reports whether two Connect values are equal: []byte by
// content, Decimal by value and scale (like BigDecimal.equals), time.Time
// by instant, *Struct by schema and values, and containers element-wise.
func ValuesEqual(a, b any) bool {
	an, bn := IsNull(a), IsNull(b)
	if an || bn {
		return an && bn
	}
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case Decimal:
		y, ok := b.(Decimal)
		return ok && x.Equal(y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case *Struct:
		y, ok := b.(*Struct)
		return ok && x.Equal(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !ValuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !ValuesEqual(v, w) {
				return false
			}
		}
		return true
	case map[any]any:
		y, ok := b.(map[any]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !ValuesEqual(v, w) {
				return false
			}
		}
		return true
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb {
		return false
	}
	if ta.Comparable() {
		return a == b
	}
	return reflect.DeepEqual(a, b)
}
