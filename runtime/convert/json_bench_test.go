package convert

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
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

// benchRecord is one record shape: a schema and benchVariants values of
// it, varied as a connector varies them (so that per-field caches see
// realistic repetition).
type benchRecord struct {
	name    string
	schemas bool
	schema  *c.Schema
	value   any   // values[0]
	values  []any // benchVariants of them
}

const benchVariants = 1024

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

// benchOrders returns values as datagen's quickstarts draw them: item
// Item_1..999, city and state from 81 each, user and region from 9,
// gender from 3, times from a year.
func benchOrders(tb testing.TB) []any {
	rng := rand.New(rand.NewPCG(1, 1))
	s := benchOrderSchema
	genders := []string{"MALE", "FEMALE", "OTHER"}
	out := make([]any, benchVariants)
	for i := range out {
		addr := mustStruct(tb, s.Fields()[8].Schema(), fmt.Sprintf("City_%d%d", 1+rng.IntN(9), 1+rng.IntN(9)),
			fmt.Sprintf("State_%d%d", 1+rng.IntN(9), 1+rng.IntN(9)), 10000+rng.Int64N(90000))
		out[i] = mustStruct(tb, s, c.TimestampFromMillis(1487715775521+rng.Int64N(31557589079)), int32(i),
			fmt.Sprintf("Item_%d", 1+rng.IntN(999)), 0.1+rng.Float64()*9.9,
			fmt.Sprintf("User_%d", 1+rng.IntN(9)), fmt.Sprintf("Region_%d", 1+rng.IntN(9)), genders[rng.IntN(3)],
			int64(1+10*i), addr, nil)
	}
	return out
}

// benchDebezium returns Debezium change events (inserts and updates of a
// customers table), with schemas: rows vary, the source block mostly
// does not.
func benchDebezium(tb testing.TB) (*c.Schema, []any) {
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
	rng := rand.New(rand.NewPCG(2, 2))
	first := []string{"Anne", "Sally", "George", "Edward", "Aditya", "Mei", "Olu", "Ingrid"}
	last := []string{"Kretchmar", "Thomas", "Bailey", "Walker", "Rao", "Chen", "Adeyemi", "Larsen"}
	out := make([]any, benchVariants)
	lsn := int64(24023128)
	for i := range out {
		f, l := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		ts := 1486500577000 + int64(i)*37
		after := mustStruct(tb, row, int32(1001+i), f, l, fmt.Sprintf("%s.%s%d@example.com", f, l, i), ts-rng.Int64N(1e9))
		var before any
		op := "c"
		if i%4 == 3 {
			op = "u"
			before = mustStruct(tb, row, int32(1001+i), f, l, fmt.Sprintf("%s%d@example.org", f, i), ts-rng.Int64N(1e9))
		}
		lsn += 1 + rng.Int64N(500)
		out[i] = mustStruct(tb, env, before, after,
			mustStruct(tb, src, "2.5.0.Final", "postgresql", "dbserver1", ts, "false", "inventory",
				fmt.Sprintf(`["%d","%d"]`, lsn-100, lsn), "public", "customers", int64(555+i/8), lsn),
			op, ts+7, nil)
	}
	return env, out
}

func benchRecords(tb testing.TB) []benchRecord {
	dbzSchema, dbz := benchDebezium(tb)
	orders := benchOrders(tb)
	return []benchRecord{
		{name: "datagen/schemas=true", schemas: true, schema: benchOrderSchema, value: orders[0], values: orders},
		{name: "datagen/schemas=false", schemas: false, schema: benchOrderSchema, value: orders[0], values: orders},
		{name: "debezium/schemas=true", schemas: true, schema: dbzSchema, value: dbz[0], values: dbz},
	}
}

func (r benchRecord) conv(tb testing.TB) *JSONConverter {
	if r.schemas {
		return jsonConv(tb)
	}
	return jsonConv(tb, "schemas.enable", "false")
}

// goMaps returns, for each value, the bytes FromConnect writes and the
// generic Go value encoding/json reads from them (map[string]any, []any),
// which marshals to nearly the same JSON.
func (r benchRecord) goMaps(tb testing.TB) ([]any, [][]byte) {
	conv := r.conv(tb)
	maps := make([]any, len(r.values))
	data := make([][]byte, len(r.values))
	for i, v := range r.values {
		b, err := conv.FromConnect("t", r.schema, v)
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(b, &maps[i]); err != nil {
			tb.Fatal(err)
		}
		data[i] = b
	}
	return maps, data
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
func measure(b *testing.B, f func(i int)) float64 {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := range b.N {
		f(i % benchVariants)
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
func baseline(b *testing.B, cpu float64, f func(i int)) {
	if *noBaseline {
		return
	}
	elapsed := b.Elapsed()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start, startCPU := time.Now(), cpuTime()
	for i := range b.N {
		f(i % benchVariants)
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
			maps, data := r.goMaps(b)
			b.SetBytes(int64(len(data[0])))
			cpu := measure(b, func(i int) {
				if _, err := conv.FromConnect("t", r.schema, r.values[i]); err != nil {
					b.Fatal(err)
				}
			})
			baseline(b, cpu, func(i int) {
				if _, err := json.Marshal(maps[i]); err != nil {
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
			_, data := r.goMaps(b)
			b.SetBytes(int64(len(data[0])))
			cpu := measure(b, func(i int) {
				if _, _, err := conv.ToConnect("t", data[i]); err != nil {
					b.Fatal(err)
				}
			})
			baseline(b, cpu, func(i int) {
				var m map[string]any
				if err := json.Unmarshal(data[i], &m); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
