package connectors

import (
	"fmt"
)

// SchemaBuilder builds an immutable Schema, like Kafka's SchemaBuilder.
// Methods chain; the first mistake (a duplicate field, a field on a
// non-struct type) is remembered and returned by Build.
//
//	user := connectors.StructSchema().Name("shop.public.users.Value").
//		Field("id", connectors.Int32Schema).
//		Field("email", connectors.OptionalStringSchema).
//		MustBuild()
//
// A SchemaBuilder is not safe for concurrent use.
type SchemaBuilder struct {
	s   Schema
	err error
}

// NewSchema starts a required schema of type t. Use ArraySchema, MapSchema
// and StructSchema for the container types.
func NewSchema(t Type) *SchemaBuilder {
	b := &SchemaBuilder{s: Schema{typ: t}}
	if t < TypeInt8 || t > TypeStruct {
		b.err = fmt.Errorf("%w: invalid schema type %d", ErrSchema, t)
	}
	return b
}

// StructSchema starts a required STRUCT schema with no fields.
func StructSchema() *SchemaBuilder { return NewSchema(TypeStruct) }

// ArraySchema starts a required ARRAY schema of elem.
func ArraySchema(elem *Schema) *SchemaBuilder {
	b := NewSchema(TypeArray)
	if elem == nil {
		b.err = fmt.Errorf("%w: valueSchema cannot be null", ErrSchema)
	}
	b.s.value = elem
	return b
}

// MapSchema starts a required MAP schema from key to value.
func MapSchema(key, value *Schema) *SchemaBuilder {
	b := NewSchema(TypeMap)
	switch {
	case key == nil:
		b.err = fmt.Errorf("%w: keySchema cannot be null", ErrSchema)
	case value == nil:
		b.err = fmt.Errorf("%w: valueSchema cannot be null", ErrSchema)
	}
	b.s.key, b.s.value = key, value
	return b
}

// Optional makes null a valid value.
func (b *SchemaBuilder) Optional() *SchemaBuilder { b.s.optional = true; return b }

// Required makes null an invalid value (the default).
func (b *SchemaBuilder) Required() *SchemaBuilder { b.s.optional = false; return b }

// Name sets the schema name.
func (b *SchemaBuilder) Name(name string) *SchemaBuilder { b.s.name = name; return b }

// Version sets the schema version.
func (b *SchemaBuilder) Version(v int) *SchemaBuilder {
	b.s.version, b.s.hasVersion = int32(v), true
	return b
}

// Doc sets the schema documentation.
func (b *SchemaBuilder) Doc(doc string) *SchemaBuilder { b.s.doc = doc; return b }

// Parameter sets a parameter. A new key is appended; an existing key keeps
// its position and gets the new value.
func (b *SchemaBuilder) Parameter(key, value string) *SchemaBuilder {
	for i := range b.s.params {
		if b.s.params[i].Key == key {
			b.s.params[i].Value = value
			return b
		}
	}
	b.s.params = append(b.s.params, Param{Key: key, Value: value})
	return b
}

// Default sets the default value. It is validated against the schema by
// Build ("Invalid default value").
func (b *SchemaBuilder) Default(v any) *SchemaBuilder { b.s.def = v; return b }

// Field appends a field to a STRUCT schema.
func (b *SchemaBuilder) Field(name string, schema *Schema) *SchemaBuilder {
	if b.err != nil {
		return b
	}
	switch {
	case b.s.typ != TypeStruct:
		b.err = fmt.Errorf("%w: Cannot create fields on type %s", ErrSchema, b.s.typ)
	case schema == nil:
		b.err = fmt.Errorf("%w: fieldSchema for field %s cannot be null", ErrSchema, name)
	default:
		for _, f := range b.s.fields {
			if f.name == name {
				b.err = fmt.Errorf("%w: Cannot create field because of field name duplication %s", ErrSchema, name)
				return b
			}
		}
		b.s.fields = append(b.s.fields, Field{name: name, index: len(b.s.fields), schema: schema})
	}
	return b
}

// Build returns the schema, or the first error met while building it.
func (b *SchemaBuilder) Build() (*Schema, error) {
	if b.err != nil {
		return nil, b.err
	}
	s := b.s
	s.params = append([]Param(nil), b.s.params...)
	if s.typ == TypeStruct {
		s.fields = append([]Field(nil), b.s.fields...)
		s.fieldIndex = make(map[string]int, len(s.fields))
		for i := range s.fields {
			s.fields[i].index = i
			s.fieldIndex[s.fields[i].name] = i
		}
		if s.fields == nil {
			s.fields = []Field{}
		}
	}
	if s.def != nil {
		if err := ValidateValue(&s, s.def); err != nil {
			return nil, fmt.Errorf("%w: Invalid default value: %w", ErrSchema, err)
		}
	}
	return &s, nil
}

// MustBuild is Build for schemas known to be valid, such as package-level
// variables; it panics on error.
func (b *SchemaBuilder) MustBuild() *Schema {
	s, err := b.Build()
	if err != nil {
		panic(fmt.Errorf("connectors: MustBuild: %w", err))
	}
	return s
}

// Predefined schemas for the primitive types, like Kafka's
// Schema.INT32_SCHEMA and Schema.OPTIONAL_INT32_SCHEMA.
var (
	Int8Schema    = NewSchema(TypeInt8).MustBuild()
	Int16Schema   = NewSchema(TypeInt16).MustBuild()
	Int32Schema   = NewSchema(TypeInt32).MustBuild()
	Int64Schema   = NewSchema(TypeInt64).MustBuild()
	Float32Schema = NewSchema(TypeFloat32).MustBuild()
	Float64Schema = NewSchema(TypeFloat64).MustBuild()
	BooleanSchema = NewSchema(TypeBoolean).MustBuild()
	StringSchema  = NewSchema(TypeString).MustBuild()
	BytesSchema   = NewSchema(TypeBytes).MustBuild()

	OptionalInt8Schema    = NewSchema(TypeInt8).Optional().MustBuild()
	OptionalInt16Schema   = NewSchema(TypeInt16).Optional().MustBuild()
	OptionalInt32Schema   = NewSchema(TypeInt32).Optional().MustBuild()
	OptionalInt64Schema   = NewSchema(TypeInt64).Optional().MustBuild()
	OptionalFloat32Schema = NewSchema(TypeFloat32).Optional().MustBuild()
	OptionalFloat64Schema = NewSchema(TypeFloat64).Optional().MustBuild()
	OptionalBooleanSchema = NewSchema(TypeBoolean).Optional().MustBuild()
	OptionalStringSchema  = NewSchema(TypeString).Optional().MustBuild()
	OptionalBytesSchema   = NewSchema(TypeBytes).Optional().MustBuild()
)
