package connectors

import "fmt"

// NewStructUnchecked returns a Struct of schema that holds values, one per
// field in field order, without validating them. It is for decoders on a
// hot path (the JSON converter) that produce each value from the field's
// own schema and so already know what PutField would check: every value
// is null, or the Go representation of its field's schema (a nested
// *Struct carrying that very schema, and so on down).
//
// The Struct takes ownership of values: the caller must not use the slice
// afterwards. A struct built from values that do not match its schema
// breaks the invariant the rest of the runtime relies on; use NewStruct
// and PutField unless the values are known to match. Built with the
// invariants tag (`make test` does), it checks them and panics on a
// mismatch. It panics, as NewStruct does, if schema is not a STRUCT
// schema, or if len(values) is not the number of fields.
func NewStructUnchecked(schema *Schema, values []any) *Struct {
	st := new(Struct)
	InitStructUnchecked(st, schema, values)
	return st
}

// InitStructUnchecked makes the zero Struct *st what NewStructUnchecked
// returns, for decoders that allocate the Structs of a record together
// (make([]Struct, n)) rather than one by one. The same rules apply. It
// panics if st was already initialised: a Struct in use must not change.
func InitStructUnchecked(st *Struct, schema *Schema, values []any) {
	if schema == nil || schema.typ != TypeStruct {
		panic(fmt.Errorf("%w: Not a struct schema: %v", ErrSchema, schema))
	}
	if len(values) != len(schema.fields) {
		panic(fmt.Errorf("%w: %d values for a struct of %d fields", ErrSchema, len(values), len(schema.fields)))
	}
	if st.schema != nil {
		panic(fmt.Errorf("%w: InitStructUnchecked on a Struct in use", ErrSchema))
	}
	st.schema, st.values = schema, values
	if invariants {
		if err := st.Validate(); err != nil {
			panic(fmt.Errorf("%w: NewStructUnchecked with values that do not match the schema %s: %v", ErrSchema, schema.Name(), err))
		}
	}
}
