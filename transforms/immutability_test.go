package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

// deepCopy copies a Connect value, structs and containers included.
func deepCopy(v any) any {
	switch x := v.(type) {
	case *connectors.Struct:
		if x == nil {
			return x
		}
		c := connectors.NewStruct(x.Schema())
		for _, f := range x.Schema().Fields() {
			_ = c.PutField(f, deepCopy(x.GetFieldWithoutDefault(f)))
		}
		return c
	case map[string]any:
		if x == nil {
			return x
		}
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		if x == nil {
			return x
		}
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = deepCopy(e)
		}
		return c
	case []byte:
		return append([]byte(nil), x...)
	}
	return v
}

// TestTransformsDoNotMutateInput runs every transform over records with
// and without schemas and checks that the input record is unchanged.
func TestTransformsDoNotMutateInput(t *testing.T) {
	d := newDebezium(t, defaultRecordSchema(t))
	row := structOf(t, f("id", connectors.Int64Schema), f("name", connectors.OptionalStringSchema),
		f("ts", connectors.Int64Schema), f("nested", structOf(t, f("x", connectors.Int32Schema))))
	rowValue := func() *connectors.Struct {
		return newStruct(t, row, "id", int64(1), "name", "n", "ts", int64(1000), "nested", newStruct(t, row.Fields()[3].Schema(), "x", int32(2)))
	}
	mapValue := func() map[string]any {
		return map[string]any{"id": int64(1), "name": "n", "ts": int64(1000), "nested": map[string]any{"x": int32(2)}}
	}
	records := []connectors.Record{
		sinkRecord("db.inv.t_1", row, rowValue(), row, rowValue()),
		sinkRecord("db.inv.t_1", nil, mapValue(), nil, mapValue()),
		d.update(), d.delete(), d.create(),
	}
	for i := range records {
		records[i].Headers = connectors.Headers{{Key: "h", Value: "v"}, {Key: "drop", Value: []any{"name"}}}[:2:2]
		records[i].Timestamp = ms(1700000000000)
	}
	configs := []struct {
		class string
		cfg   map[string]string
	}{
		{"Cast$Value", map[string]string{"spec": "id:string"}},
		{"Cast$Key", map[string]string{"spec": "id:int32"}},
		{"ExtractField$Value", map[string]string{"field": "nested"}},
		{"Flatten$Value", nil},
		{"HeaderFrom$Value", map[string]string{"fields": "name", "headers": "n", "operation": "move"}},
		{"HeaderFrom$Key", map[string]string{"fields": "name", "headers": "n", "operation": "copy"}},
		{"HoistField$Value", map[string]string{"field": "wrapped"}},
		{"InsertField$Value", map[string]string{"topic.field": "topic", "timestamp.field": "when"}},
		{"MaskField$Value", map[string]string{"fields": "name,id"}},
		{"ReplaceField$Value", map[string]string{"exclude": "ts", "renames": "name:full_name"}},
		{"SetSchemaMetadata$Value", map[string]string{"schema.name": "renamed"}},
		{"TimestampConverter$Value", map[string]string{"field": "ts", "target.type": "Timestamp"}},
		{"ValueToKey", map[string]string{"fields": "id"}},
		{"InsertHeader", map[string]string{"header": "x", "value.literal": "1"}},
		{"DropHeaders", map[string]string{"headers": "h"}},
		{"RegexRouter", map[string]string{"regex": "(.*)", "replacement": "x.$1"}},
		{"TimestampRouter", nil},
		{"unwrap", map[string]string{"add.fields": "op,lsn", "add.headers": "op", "delete.tombstone.handling.mode": "rewrite",
			"drop.fields.header.name": "drop", "drop.fields.keep.schema.compatible": "false", "drop.fields.from.key": "true", "route.by.field": "name"}},
		{"ByLogicalTableRouter", map[string]string{"topic.regex": "(.*)_(\\d+)", "topic.replacement": "$1"}},
	}
	for _, c := range configs {
		tr := newTransform(t, c.class, c.cfg)
		for i, r := range records {
			key, value := deepCopy(r.Key), deepCopy(r.Value)
			headers := append(connectors.Headers(nil), r.Headers...)
			_, _, _ = tr.Apply(r) // errors are fine; mutation is not
			if !connectors.ValuesEqual(r.Key, key) || !connectors.ValuesEqual(r.Value, value) {
				t.Errorf("%s changed the key or value of record %d", c.class, i)
			}
			if len(r.Headers) != len(headers) || cap(r.Headers) != 2 {
				t.Errorf("%s changed the headers of record %d", c.class, i)
			}
			for j := range headers {
				if r.Headers[j].Key != headers[j].Key || !connectors.ValuesEqual(r.Headers[j].Value, headers[j].Value) {
					t.Errorf("%s changed header %d of record %d", c.class, j, i)
				}
			}
		}
	}
}
