package convert

import (
	"encoding/json"
	"flag"
	"runtime"
	"syscall"
	"testing"
	"time"

	c "github.com/sluicedata/sluice/connectors"
)

// Run with
//
//	go test -run '^$' -bench 'FromConnect|ToConnect' -benchmem ./runtime/convert
//
// Each benchmark converts one typical record per op and then, in the same
// run and with the timer stopped, does the same with encoding/json over an
// equivalent Go map (Marshal of the map for FromConnect, Unmarshal into
// map[string]any for ToConnect). It reports that baseline as
// encjson-ns/op and encjson-allocs/op, and ns/op ÷ encjson-ns/op as ratio
// (below 1: faster than encoding/json). cpu-ns/op and cpu-ratio are the
// same from the process's CPU time, which a busy machine disturbs less
// than wall time. -nobaseline skips the baseline, for profiling.

// noBaseline skips the encoding/json baseline, e.g. to profile only the
// converter (-cpuprofile).
var noBaseline = flag.Bool("nobaseline", false, "skip the encoding/json baseline in the converter benchmarks")

// benchRecord is one record shape: a schema, a value, and the equivalent
// Go map for the encoding/json baseline (schema and payload).
type benchRecord struct {
	name    string
	schemas bool
	schema  *c.Schema
	value   any
}

// benchOrderSchema is a datagen-like record (orders/users/pageviews
// quickstarts, merged): strings, ints, a timestamp, a double, a nested
// struct and an optional field left null.
var benchOrderSchema = func() *c.Schema {
	address := c.StructSchema().Name("ksql.address").
		Field("city", c.StringSchema).Field("state", c.StringSchema).Field("zipcode", c.Int64Schema).MustBuild()
	return c.StructSchema().Name("ksql.orders").
		Field("ordertime", c.TimestampSchema).
		Field("orderid", c.Int32Schema).
		Field("itemid", c.StringSchema).
		Field("orderunits", c.Float64Schema).
		Field("userid", c.StringSchema).
		Field("regionid", c.StringSchema).
		Field("gender", c.StringSchema).
		Field("viewtime", c.Int64Schema).
		Field("address", address).
		Field("note", c.OptionalStringSchema).
		MustBuild()
}()

func benchOrder(tb testing.TB) *c.Struct {
	s := benchOrderSchema
	addr := mustStruct(tb, s.Fields()[8].Schema(), "City_84", "State_37", int64(72914))
	return mustStruct(tb, s, c.TimestampFromMillis(1503153618445), int32(1407), "Item_469", 4.6523452332,
		"User_7", "Region_3", "FEMALE", int64(1491), addr, nil)
}

// benchDebezium is a Debezium change event (an insert), with schemas.
func benchDebezium(tb testing.TB) (*c.Schema, any) {
	row := c.StructSchema().Name("dbserver1.inventory.customers.Value").Optional().
		Field("id", c.Int32Schema).Field("first_name", c.StringSchema).Field("last_name", c.StringSchema).
		Field("email", c.StringSchema).Field("created", c.OptionalInt64Schema).MustBuild()
	src := c.StructSchema().Name("io.debezium.connector.postgresql.Source").
		Field("version", c.StringSchema).Field("connector", c.StringSchema).Field("name", c.StringSchema).
		Field("ts_ms", c.Int64Schema).
		Field("snapshot", c.NewSchema(c.TypeString).Optional().Name(c.DebeziumEnum).Version(1).
			Parameter("allowed", "true,last,false,incremental").Default("false").MustBuild()).
		Field("db", c.StringSchema).Field("sequence", c.OptionalStringSchema).
		Field("schema", c.StringSchema).Field("table", c.StringSchema).
		Field("txId", c.OptionalInt64Schema).Field("lsn", c.OptionalInt64Schema).MustBuild()
	block := c.StructSchema().Name("event.block").Version(1).Optional().
		Field("id", c.StringSchema).Field("total_order", c.Int64Schema).Field("data_collection_order", c.Int64Schema).MustBuild()
	env := c.StructSchema().Name("dbserver1.inventory.customers.Envelope").Version(1).
		Field("before", row).Field("after", row).Field("source", src).
		Field("op", c.StringSchema).Field("ts_ms", c.OptionalInt64Schema).Field("transaction", block).MustBuild()
	v := mustStruct(tb, env,
		nil,
		mustStruct(tb, row, int32(1004), "Anne", "Kretchmar", "annek@noanswer.org", int64(1486500577000)),
		mustStruct(tb, src, "2.5.0.Final", "postgresql", "dbserver1", int64(1486500577000), "false", "inventory",
			`["24023119","24023128"]`, "public", "customers", int64(555), int64(24023128)),
		"c", int64(1486500577691), nil)
	return env, v
}

func benchRecords(tb testing.TB) []benchRecord {
	dbzSchema, dbzValue := benchDebezium(tb)
	return []benchRecord{
		{name: "datagen/schemas=true", schemas: true, schema: benchOrderSchema, value: benchOrder(tb)},
		{name: "datagen/schemas=false", schemas: false, schema: benchOrderSchema, value: benchOrder(tb)},
		{name: "debezium/schemas=true", schemas: true, schema: dbzSchema, value: dbzValue},
	}
}

func (r benchRecord) conv(tb testing.TB) *JSONConverter {
	if r.schemas {
		return jsonConv(tb)
	}
	return jsonConv(tb, "schemas.enable", "false")
}

// goMap returns the record as the generic Go value encoding/json would
// marshal to (nearly) the same JSON: the bytes FromConnect writes, parsed
// by encoding/json into map[string]any and []any.
func (r benchRecord) goMap(tb testing.TB) (any, []byte) {
	b, err := r.conv(tb).FromConnect("t", r.schema, r.value)
	if err != nil {
		tb.Fatal(err)
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m, b
}

// cpuTime returns the CPU time the process has used (all threads, GC
// included). On a busy machine it measures cost better than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs the benchmark's own loop, f, b.N times and reports its CPU
// time per op as cpu-ns/op. It returns that figure.
func measure(b *testing.B, f func()) float64 {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for range b.N {
		f()
	}
	cpu := float64(cpuTime()-start) / float64(b.N)
	b.StopTimer()
	b.ReportMetric(cpu, "cpu-ns/op")
	return cpu
}

// baseline times f over b.N iterations with the benchmark timer stopped
// and reports it next to the benchmark's own figures: encjson-ns/op,
// encjson-allocs/op, ratio (ns/op ÷ encjson-ns/op) and cpu-ratio (the
// same from CPU time, steadier on a busy machine).
func baseline(b *testing.B, cpu float64, f func()) {
	if *noBaseline {
		return
	}
	elapsed := b.Elapsed()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start, startCPU := time.Now(), cpuTime()
	for range b.N {
		f()
	}
	d, dCPU := time.Since(start), cpuTime()-startCPU
	runtime.ReadMemStats(&after)
	ns := float64(d.Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "encjson-ns/op")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "encjson-allocs/op")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/ns, "ratio")
	b.ReportMetric(cpu/(float64(dCPU.Nanoseconds())/float64(b.N)), "cpu-ratio")
}

// BenchmarkFromConnect measures JSONConverter.FromConnect on typical
// records, against encoding/json.Marshal of the equivalent map.
func BenchmarkFromConnect(b *testing.B) {
	for _, r := range benchRecords(b) {
		b.Run(r.name, func(b *testing.B) {
			conv := r.conv(b)
			m, out := r.goMap(b)
			b.SetBytes(int64(len(out)))
			cpu := measure(b, func() {
				if _, err := conv.FromConnect("t", r.schema, r.value); err != nil {
					b.Fatal(err)
				}
			})
			baseline(b, cpu, func() {
				if _, err := json.Marshal(m); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkToConnect measures JSONConverter.ToConnect on typical records
// (the schema part identical record after record, as on a real topic),
// against encoding/json.Unmarshal into map[string]any.
func BenchmarkToConnect(b *testing.B) {
	for _, r := range benchRecords(b) {
		b.Run(r.name, func(b *testing.B) {
			conv := r.conv(b)
			_, data := r.goMap(b)
			b.SetBytes(int64(len(data)))
			cpu := measure(b, func() {
				if _, _, err := conv.ToConnect("t", data); err != nil {
					b.Fatal(err)
				}
			})
			baseline(b, cpu, func() {
				var m map[string]any
				if err := json.Unmarshal(data, &m); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
