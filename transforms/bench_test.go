package transforms

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// benchChainConfig is a typical CDC sink chain: Debezium's unwrap with
// metadata fields, ReplaceField, InsertField, RegexRouter.
var benchChainConfig = map[string]string{
	"transforms":                     "unwrap,fields,insert,route",
	"transforms.unwrap.type":         "io.debezium.transforms.ExtractNewRecordState",
	"transforms.unwrap.add.fields":   "op,table,lsn,source.ts_ms",
	"transforms.fields.type":         "org.apache.kafka.connect.transforms.ReplaceField$Value",
	"transforms.fields.exclude":      "note",
	"transforms.fields.renames":      "name:full_name",
	"transforms.insert.type":         "org.apache.kafka.connect.transforms.InsertField$Value",
	"transforms.insert.topic.field":  "__topic",
	"transforms.insert.static.field": "region",
	"transforms.insert.static.value": "eu-west-1",
	"transforms.route.type":          "org.apache.kafka.connect.transforms.RegexRouter",
	"transforms.route.regex":         `dbserver1\.inventory\.(.*)`,
	"transforms.route.replacement":   "cdc.$1",
}

// benchEnvelope returns a Debezium PostgreSQL update event for a row of
// eight columns, with its schemas.
func benchEnvelope(tb testing.TB) connectors.Record {
	row := mustBuild(tb, connectors.StructSchema().Name("dbserver1.inventory.customers.Value").Optional().
		Field("id", connectors.Int64Schema).
		Field("name", connectors.StringSchema).
		Field("email", connectors.StringSchema).
		Field("balance", connectors.DecimalSchema(2)).
		Field("created_at", mustBuild(tb, connectors.NewSchema(connectors.TypeInt64).Name(connectors.DebeziumMicroTimestamp).Version(1))).
		Field("active", connectors.BooleanSchema).
		Field("score", connectors.OptionalFloat64Schema).
		Field("note", connectors.OptionalStringSchema))
	source := mustBuild(tb, connectors.StructSchema().Name("io.debezium.connector.postgresql.Source").
		Field("version", connectors.StringSchema).Field("connector", connectors.StringSchema).Field("name", connectors.StringSchema).
		Field("ts_ms", connectors.Int64Schema).Field("snapshot", connectors.OptionalStringSchema).Field("db", connectors.StringSchema).
		Field("sequence", connectors.OptionalStringSchema).Field("schema", connectors.StringSchema).Field("table", connectors.StringSchema).
		Field("txId", connectors.OptionalInt64Schema).Field("lsn", connectors.OptionalInt64Schema).Field("xmin", connectors.OptionalInt64Schema))
	env := mustBuild(tb, connectors.StructSchema().Name("dbserver1.inventory.customers.Envelope").Version(1).
		Field("before", row).Field("after", row).Field("source", source).Field("op", connectors.StringSchema).
		Field("ts_ms", connectors.OptionalInt64Schema))
	keySchema := mustBuild(tb, connectors.StructSchema().Name("dbserver1.inventory.customers.Key").Field("id", connectors.Int64Schema))
	mkRow := func(name string) *connectors.Struct {
		return newStruct(tb, row, "id", int64(1001), "name", name, "email", "sally@example.com",
			"balance", connectors.DecimalFromInt64(123456, 2), "created_at", int64(1700000000000000), "active", true,
			"score", 4.5, "note", "vip")
	}
	src := newStruct(tb, source, "version", "2.7.4.Final", "connector", "postgresql", "name", "dbserver1", "ts_ms", int64(1700000000123),
		"snapshot", "false", "db", "postgres", "sequence", `["24023128","24023128"]`, "schema", "inventory", "table", "customers",
		"txId", int64(555), "lsn", int64(24023128))
	v := newStruct(tb, env, "before", mkRow("Sally"), "after", mkRow("Sally Thomas"), "source", src, "op", "u", "ts_ms", int64(1700000000456))
	r := sourceRecord("dbserver1.inventory.customers", keySchema, newStruct(tb, keySchema, "id", int64(1001)), env, v)
	r.Timestamp = time.UnixMilli(1700000000500)
	return r
}

// benchEnvelopeSchemaless is the same event as JSON without schemas.
func benchEnvelopeSchemaless() connectors.Record {
	mkRow := func(name string) map[string]any {
		return map[string]any{"id": int64(1001), "name": name, "email": "sally@example.com", "balance": "1234.56",
			"created_at": int64(1700000000000000), "active": true, "score": 4.5, "note": "vip"}
	}
	v := map[string]any{
		"before": mkRow("Sally"), "after": mkRow("Sally Thomas"), "op": "u", "ts_ms": int64(1700000000456),
		"source": map[string]any{"version": "2.7.4.Final", "connector": "postgresql", "name": "dbserver1", "ts_ms": int64(1700000000123),
			"snapshot": "false", "db": "postgres", "sequence": `["24023128","24023128"]`, "schema": "inventory", "table": "customers",
			"txId": int64(555), "lsn": int64(24023128), "xmin": nil},
	}
	r := sourceRecord("dbserver1.inventory.customers", nil, map[string]any{"id": int64(1001)}, nil, v)
	r.Timestamp = time.UnixMilli(1700000000500)
	return r
}

// BenchmarkChain measures the typical chain per record; ns/transform is
// ns/op divided by the four transforms (the bar is 1µs).
func BenchmarkChain(b *testing.B) {
	for _, bc := range []struct {
		name string
		rec  connectors.Record
	}{
		{"schema", benchEnvelope(b)},
		{"schemaless", benchEnvelopeSchemaless()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := NewChain(benchChainConfig, BuiltinLookup)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			out, keep, err := c.Apply(bc.rec)
			if err != nil || !keep || out.Topic != "cdc.customers" {
				b.Fatalf("chain: %v %v %q", keep, err, out.Topic)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := c.Apply(bc.rec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.Len()), "ns/transform")
		})
	}
}

// BenchmarkTransform measures single transforms on the unwrapped row.
func BenchmarkTransform(b *testing.B) {
	rec := benchEnvelope(b)
	unwrapped, _, _ := newTransformB(b, "unwrap", nil).Apply(rec)
	for _, bc := range []struct {
		name, class string
		cfg         map[string]string
		in          connectors.Record
	}{
		{"unwrap", "unwrap", nil, rec},
		{"unwrap+add.fields", "unwrap", map[string]string{"add.fields": "op,table,lsn,source.ts_ms"}, rec},
		{"ReplaceField", "ReplaceField$Value", map[string]string{"exclude": "note", "renames": "name:full_name"}, unwrapped},
		{"InsertField", "InsertField$Value", map[string]string{"topic.field": "__topic", "static.field": "region", "static.value": "x"}, unwrapped},
		{"RegexRouter", "RegexRouter", map[string]string{"regex": `dbserver1\.inventory\.(.*)`, "replacement": "cdc.$1"}, unwrapped},
		{"MaskField", "MaskField$Value", map[string]string{"fields": "email"}, unwrapped},
		{"Cast", "Cast$Value", map[string]string{"spec": "id:string"}, unwrapped},
		{"Flatten", "Flatten$Value", nil, rec},
		{"TimestampRouter", "TimestampRouter", nil, unwrapped},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr := newTransformB(b, bc.class, bc.cfg)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := tr.Apply(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func newTransformB(b *testing.B, class string, cfg map[string]string) Transformation {
	p, _ := BuiltinLookup(class)
	tr := p.New().(Transformation)
	if err := tr.Configure(cfg); err != nil {
		b.Fatal(err)
	}
	return tr
}
