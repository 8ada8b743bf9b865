package transforms

import (
	"maps"
	"slices"

	"github.com/sluicedata/sluice/connectors"
)

// side selects the part of a record a $Key or $Value variant operates on,
// Kafka's operatingSchema/operatingValue/newRecord.
type side uint8

const (
	keySide side = iota + 1
	valueSide
)

// get returns the operating schema and value.
func (s side) get(r *connectors.Record) (*connectors.Schema, any) {
	if s == keySide {
		return r.KeySchema, r.Key
	}
	return r.ValueSchema, r.Value
}

// set returns r with the operating schema and value replaced. r is a copy
// (Record is a value type), so nothing the caller holds changes.
func (s side) set(r connectors.Record, schema *connectors.Schema, v any) connectors.Record {
	if s == keySide {
		r.KeySchema, r.Key = schema, v
	} else {
		r.ValueSchema, r.Value = schema, v
	}
	return r
}

// className returns base with Kafka's nested-class suffix, e.g.
// "org.apache.kafka.connect.transforms.Cast$Value".
func (s side) className(base string) string {
	if s == keySide {
		return base + "$Key"
	}
	return base + "$Value"
}

// withHeader returns r with a header appended, on a new headers slice so
// the caller's record is untouched.
func withHeader(r connectors.Record, h connectors.Header) connectors.Record {
	hs := make(connectors.Headers, len(r.Headers), len(r.Headers)+1)
	copy(hs, r.Headers)
	r.Headers = append(hs, h)
	return r
}

// isSinkRecord reports whether r came from Kafka (a SinkRecord in Kafka's
// terms). The runtime sets OriginalTopic on every record a sink task
// consumes (KIP-793) and never on source records.
func isSinkRecord(r *connectors.Record) bool { return r.OriginalTopic != "" }

// stringMap returns v as a map[string]any for reading, as Kafka's
// requireMap does: map[string]any as is, map[any]any with string keys
// converted (a copy). ok is false for anything else.
func stringMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, m != nil
	case map[any]any:
		if m == nil {
			return nil, false
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, false
			}
			out[ks] = e
		}
		return out, true
	}
	return nil, false
}

// requireMap is Kafka's Requirements.requireMap.
func requireMap(v any, purpose string) (map[string]any, error) {
	m, ok := stringMap(v)
	if !ok {
		return nil, dataErrorf("Only Map objects supported in absence of schema for [%s], found: %s", purpose, typeName(v))
	}
	return m, nil
}

// requireStruct is Kafka's Requirements.requireStruct.
func requireStruct(v any, purpose string) (*connectors.Struct, error) {
	s, ok := v.(*connectors.Struct)
	if !ok || s == nil {
		return nil, dataErrorf("Only Struct objects supported for [%s], found: %s", purpose, typeName(v))
	}
	return s, nil
}

// requireStructOrNull is requireStruct that lets null through as nil.
func requireStructOrNull(v any, purpose string) (*connectors.Struct, error) {
	if connectors.IsNull(v) {
		return nil, nil
	}
	return requireStruct(v, purpose)
}

// cloneMap returns a copy of m with room for extra more entries.
func cloneMap(m map[string]any, extra int) map[string]any {
	out := make(map[string]any, len(m)+extra)
	maps.Copy(out, m)
	return out
}

// fieldValue reads f from s, applying the field's default to a null value
// when withDefault is set (Kafka's replace.null.with.default).
func fieldValue(s *connectors.Struct, f connectors.Field, withDefault bool) any {
	if withDefault {
		return s.GetField(f)
	}
	return s.GetFieldWithoutDefault(f)
}

// containsString reports whether list holds s.
func containsString(list []string, s string) bool { return slices.Contains(list, s) }
