package connectors

import (
	"strings"
)

// Type is the type of a Connect schema, the same twelve types as Kafka
// Connect's Schema.Type. The zero value is not a valid type.
type Type int8

// The schema types. Their String forms are Kafka's enum names (INT8 …
// STRUCT), which is also what error messages print.
const (
	TypeInt8 Type = iota + 1
	TypeInt16
	TypeInt32
	TypeInt64
	TypeFloat32
	TypeFloat64
	TypeBoolean
	TypeString
	TypeBytes
	TypeArray
	TypeMap
	TypeStruct
)

var typeNames = [...]string{
	TypeInt8:    "INT8",
	TypeInt16:   "INT16",
	TypeInt32:   "INT32",
	TypeInt64:   "INT64",
	TypeFloat32: "FLOAT32",
	TypeFloat64: "FLOAT64",
	TypeBoolean: "BOOLEAN",
	TypeString:  "STRING",
	TypeBytes:   "BYTES",
	TypeArray:   "ARRAY",
	TypeMap:     "MAP",
	TypeStruct:  "STRUCT",
}

// String returns Kafka's name for the type, e.g. "INT32".
func (t Type) String() string {
	if t <= 0 || int(t) >= len(typeNames) {
		return "UNKNOWN"
	}
	return typeNames[t]
}

// IsPrimitive reports whether t is neither ARRAY, MAP nor STRUCT.
func (t Type) IsPrimitive() bool { return t >= TypeInt8 && t <= TypeBytes }

// ParseType returns the Type named s (Kafka's enum name, any case).
func ParseType(s string) (Type, bool) {
	for t := TypeInt8; t <= TypeStruct; t++ {
		if strings.EqualFold(typeNames[t], s) {
			return t, true
		}
	}
	return 0, false
}

// Param is one schema parameter. Parameters keep the order in which they
// were added, because Kafka's JsonConverter writes them in that order.
type Param struct {
	Key   string
	Value string
}

// Field is one field of a STRUCT schema: its name, its position and its
// schema. Fields are obtained from a Schema and are immutable.
type Field struct {
	name   string
	index  int
	schema *Schema
}

// Name returns the field name.
func (f Field) Name() string { return f.name }

// Index returns the field's position in its struct schema (0-based).
func (f Field) Index() int { return f.index }

// Schema returns the field's schema.
func (f Field) Schema() *Schema { return f.schema }

// Schema describes a Connect value, like org.apache.kafka.connect.data.Schema.
//
// A Schema is immutable once built (see SchemaBuilder) and safe to share
// between goroutines. A nil *Schema means "no schema" (schemaless data);
// the accessors must not be called on nil, but Equal and String accept it.
type Schema struct {
	typ        Type
	optional   bool
	def        any
	name       string
	version    int32
	hasVersion bool
	doc        string
	params     []Param
	fields     []Field
	fieldIndex map[string]int
	key, value *Schema
}

// Type returns the schema type.
func (s *Schema) Type() Type { return s.typ }

// Optional reports whether null is a valid value.
func (s *Schema) Optional() bool { return s.optional }

// Default returns the default value, or nil if there is none. Its Go type
// follows the value representation described in the package doc.
func (s *Schema) Default() any { return s.def }

// Name returns the schema name ("" if none). For logical types it is the
// logical type's name, e.g. "org.apache.kafka.connect.data.Decimal".
func (s *Schema) Name() string { return s.name }

// Version returns the schema version and whether one was set.
func (s *Schema) Version() (int, bool) { return int(s.version), s.hasVersion }

// Doc returns the schema documentation ("" if none).
func (s *Schema) Doc() string { return s.doc }

// Parameters returns the schema parameters in insertion order. The slice
// must not be modified.
func (s *Schema) Parameters() []Param { return s.params }

// Parameter returns the value of the parameter key and whether it is set.
func (s *Schema) Parameter(key string) (string, bool) {
	for _, p := range s.params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Fields returns the fields of a STRUCT schema in order (nil for other
// types). The slice must not be modified.
func (s *Schema) Fields() []Field { return s.fields }

// Field returns the field called name of a STRUCT schema.
func (s *Schema) Field(name string) (Field, bool) {
	i, ok := s.fieldIndex[name]
	if !ok {
		return Field{}, false
	}
	return s.fields[i], true
}

// KeySchema returns the key schema of a MAP schema (nil for other types).
func (s *Schema) KeySchema() *Schema { return s.key }

// ValueSchema returns the element schema of an ARRAY or the value schema
// of a MAP (nil for other types).
func (s *Schema) ValueSchema() *Schema { return s.value }

// String returns "Schema{name:TYPE}" or "Schema{TYPE}", as Kafka does.
func (s *Schema) String() string {
	if s == nil {
		return "Schema{null}"
	}
	if s.name != "" {
		return "Schema{" + s.name + ":" + s.typ.String() + "}"
	}
	return "Schema{" + s.typ.String() + "}"
}

// Equal reports whether s and o describe the same schema: same type,
// optionality, name, version, doc, parameters (in order), default value,
// fields and key/value schemas. Two nil schemas are equal.
func (s *Schema) Equal(o *Schema) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil {
		return false
	}
	if s.typ != o.typ || s.optional != o.optional || s.name != o.name ||
		s.hasVersion != o.hasVersion || s.version != o.version || s.doc != o.doc ||
		len(s.params) != len(o.params) || len(s.fields) != len(o.fields) {
		return false
	}
	for i := range s.params {
		if s.params[i] != o.params[i] {
			return false
		}
	}
	for i := range s.fields {
		if s.fields[i].name != o.fields[i].name || !s.fields[i].schema.Equal(o.fields[i].schema) {
			return false
		}
	}
	return s.key.Equal(o.key) && s.value.Equal(o.value) && ValuesEqual(s.def, o.def)
}

// Builder returns a SchemaBuilder initialised with a copy of s, for
// deriving a modified schema (e.g. an optional variant, or new metadata).
func (s *Schema) Builder() *SchemaBuilder {
	b := &SchemaBuilder{s: *s}
	b.s.params = append([]Param(nil), s.params...)
	b.s.fields = append([]Field(nil), s.fields...)
	b.s.fieldIndex = nil
	return b
}
