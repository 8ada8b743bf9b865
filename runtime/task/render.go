package task

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/convert"
)

// renderSourceRecord renders a source record as the JSON document a
// source-side DLQ record carries (format in the package doc). It never
// fails: what cannot be rendered becomes a string.
func renderSourceRecord(r *connectors.Record) []byte {
	type header struct {
		Key    string          `json:"key"`
		Schema json.RawMessage `json:"schema,omitempty"`
		Value  any             `json:"value"`
	}
	doc := struct {
		Topic           string          `json:"topic"`
		Partition       *int32          `json:"partition"`
		Timestamp       *int64          `json:"timestamp"`
		SourcePartition any             `json:"source_partition"`
		SourceOffset    any             `json:"source_offset"`
		KeySchema       json.RawMessage `json:"key_schema"`
		Key             any             `json:"key"`
		ValueSchema     json.RawMessage `json:"value_schema"`
		Value           any             `json:"value"`
		Headers         []header        `json:"headers"`
	}{
		Topic:           r.Topic,
		Partition:       r.Partition,
		SourcePartition: lenient(r.SourcePartition),
		SourceOffset:    lenient(r.SourceOffset),
		KeySchema:       renderSchema(r.KeySchema),
		Key:             lenient(r.Key),
		ValueSchema:     renderSchema(r.ValueSchema),
		Value:           lenient(r.Value),
		Headers:         []header{},
	}
	if !r.Timestamp.IsZero() {
		ms := r.Timestamp.UnixMilli()
		doc.Timestamp = &ms
	}
	for _, h := range r.Headers {
		var s json.RawMessage
		if h.Schema != nil {
			s = renderSchema(h.Schema)
		}
		doc.Headers = append(doc.Headers, header{Key: h.Key, Schema: s, Value: lenient(h.Value)})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"topic": r.Topic, "error": "record could not be rendered: " + err.Error()})
	}
	return b
}

var schemaRenderer = convert.NewJSONConverter()

// renderSchema is a schema as JsonConverter writes it, or JSON null.
func renderSchema(s *connectors.Schema) json.RawMessage {
	if s == nil {
		return json.RawMessage("null")
	}
	b, err := schemaRenderer.FromConnectSchema(s)
	if err != nil || !json.Valid(b) {
		b, _ = json.Marshal(s.String())
	}
	return b
}

// lenient turns a Connect value into something encoding/json renders:
// structs as objects in field order (as a map: key order is
// encoding/json's), decimals as strings, times as RFC 3339, bytes as
// base64, maps with non-string keys with their keys formatted.
func lenient(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case *connectors.Struct:
		if x == nil {
			return nil
		}
		m := make(map[string]any, len(x.Schema().Fields()))
		for _, f := range x.Schema().Fields() {
			m[f.Name()] = lenient(x.GetFieldWithoutDefault(f))
		}
		return m
	case connectors.Decimal:
		return x.String()
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
		return x
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Sprint(x)
		}
		return x
	case string, bool, int8, int16, int32, int64, int, uint8, uint16, uint32, uint64:
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = lenient(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = lenient(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(lenient(k))] = lenient(e)
		}
		return out
	}
	if _, err := json.Marshal(v); err == nil {
		return v
	}
	return fmt.Sprint(v)
}
