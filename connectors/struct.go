package connectors

import (
	"fmt"
	"strings"
)

// Struct is a value of a STRUCT schema, like
// org.apache.kafka.connect.data.Struct: one slot per field, each value
// checked against the field's schema when it is put.
//
// A Struct is not safe for concurrent mutation. Records handed to the
// runtime must not be modified afterwards; transforms that change a
// struct build a new one (see Clone).
type Struct struct {
	schema *Schema
	values []any
}

// NewStruct returns an empty Struct of schema, which must be a STRUCT
// schema; anything else is a programming error and panics, as Kafka
// throws.
func NewStruct(schema *Schema) *Struct {
	if schema == nil || schema.typ != TypeStruct {
		panic(fmt.Errorf("%w: Not a struct schema: %v", ErrSchema, schema))
	}
	return &Struct{schema: schema, values: make([]any, len(schema.fields))}
}

// StructOf returns a Struct of schema holding values, given in field
// order; fields past the end of values stay unset. Each value is
// validated and the struct as a whole must validate.
func StructOf(schema *Schema, values ...any) (*Struct, error) {
	s := NewStruct(schema)
	if len(values) > len(schema.fields) {
		return nil, &DataError{Msg: fmt.Sprintf("%d values given for a struct of %d fields", len(values), len(schema.fields))}
	}
	for i, v := range values {
		if err := s.PutField(schema.fields[i], v); err != nil {
			return nil, err
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Schema returns the struct's schema.
func (s *Struct) Schema() *Schema { return s.schema }

// Get returns the value of the field called name, or the field's default
// if the value is null. It fails only if there is no such field.
func (s *Struct) Get(name string) (any, error) {
	f, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	return s.GetField(f), nil
}

// GetField returns the value of f (a field of this struct's schema), or
// its default if the value is null.
func (s *Struct) GetField(f Field) any {
	v := s.values[f.index]
	if IsNull(v) && f.schema.def != nil {
		return f.schema.def
	}
	return v
}

// GetWithoutDefault returns the value of the field called name as it was
// put, without applying the default.
func (s *Struct) GetWithoutDefault(name string) (any, error) {
	f, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	return s.values[f.index], nil
}

// GetFieldWithoutDefault returns the value of f as it was put.
func (s *Struct) GetFieldWithoutDefault(f Field) any { return s.values[f.index] }

// Put sets the field called name to v after validating v against the
// field's schema.
func (s *Struct) Put(name string, v any) error {
	f, err := s.lookup(name)
	if err != nil {
		return err
	}
	return s.PutField(f, v)
}

// PutField sets f (a field of this struct's schema) to v after validating
// v against f's schema.
func (s *Struct) PutField(f Field, v any) error {
	if f.index >= len(s.values) || s.schema.fields[f.index].name != f.name {
		return &DataError{Msg: fmt.Sprintf("%s is not a valid field name", f.name)}
	}
	if err := validateField(f.name, f.schema, v); err != nil {
		return err
	}
	s.values[f.index] = v
	return nil
}

// Validate checks that every required field without a default has a valid
// value.
func (s *Struct) Validate() error {
	for _, f := range s.schema.fields {
		v := s.values[f.index]
		if IsNull(v) && (f.schema.optional || f.schema.def != nil) {
			continue
		}
		if err := validateField(f.name, f.schema, v); err != nil {
			return err
		}
	}
	return nil
}

// Clone returns a shallow copy: a new Struct with the same schema and the
// same field values (nested structs, slices and maps are shared).
func (s *Struct) Clone() *Struct {
	return &Struct{schema: s.schema, values: append([]any(nil), s.values...)}
}

// Equal reports whether o has an equal schema and equal values.
func (s *Struct) Equal(o *Struct) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil || !s.schema.Equal(o.schema) {
		return false
	}
	for i := range s.values {
		if !ValuesEqual(s.values[i], o.values[i]) {
			return false
		}
	}
	return true
}

// String renders the set fields as "Struct{a=1,b=x}", like Kafka.
func (s *Struct) String() string {
	var b strings.Builder
	b.WriteString("Struct{")
	first := true
	for i, v := range s.values {
		if IsNull(v) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(s.schema.fields[i].name)
		b.WriteByte('=')
		b.WriteString(FormatValue(v))
	}
	b.WriteByte('}')
	return b.String()
}

func (s *Struct) lookup(name string) (Field, error) {
	f, ok := s.schema.Field(name)
	if !ok {
		return Field{}, &DataError{Msg: name + " is not a valid field name"}
	}
	return f, nil
}
