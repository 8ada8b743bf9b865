//go:build integration

package jdbc

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicedata/sluice/connectors"
)

// benchRows is the size of one apply, as the bar is stated.
const benchRows = 100_000

// Debezium change events of a typical table: key id, eight columns of
// common types (bigint, int, text, numeric(12,2), timestamp(6),
// timestamptz, boolean, text).
var (
	benchKey = connectors.StructSchema().Name("srv.public.bench.Key").Field("id", connectors.Int64Schema).MustBuild()
	benchRow = connectors.StructSchema().Name("srv.public.bench.Value").Optional().
			Field("id", connectors.Int64Schema).
			Field("customer_id", connectors.Int32Schema).
			Field("status", connectors.StringSchema).
			Field("amount", connectors.DecimalBuilder(2).Parameter(connectors.DebeziumPrecisionParam, "12").MustBuild()).
			Field("created_at", connectors.NewSchema(connectors.TypeInt64).Name(connectors.DebeziumMicroTimestamp).MustBuild()).
			Field("updated_at", connectors.NewSchema(connectors.TypeString).Name(connectors.DebeziumZonedTimestamp).MustBuild()).
			Field("paid", connectors.BooleanSchema).
			Field("note", connectors.OptionalStringSchema).MustBuild()
	benchEnv = envelopeSchema("srv.public.bench.Envelope", benchRow)
)

const benchDDL = `(id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL, amount numeric(12,2) NOT NULL,
	created_at timestamp(6) NOT NULL, updated_at timestamptz NOT NULL, paid boolean NOT NULL, note text)`

// benchRecords builds n change events (op c) for ids 1..n; gen varies
// the values so that an update pass changes every row.
func benchRecords(tb testing.TB, n, gen int) ([]connectors.Record, [][]any) {
	src := mustStruct(tb, dbzSource, "2.7.0.Final", "postgresql", "srv", int64(1_700_000_000_000), "db", "public", "bench")
	recs := make([]connectors.Record, n)
	raw := make([][]any, n)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	statuses := []string{"new", "paid", "shipped", "delivered"}
	for i := range recs {
		id := int64(i + 1)
		created := base.Add(time.Duration(i) * time.Second)
		updated := created.Add(time.Duration(gen) * time.Minute)
		amount := connectors.DecimalFromInt64(id*100+int64(gen), 2)
		note := fmt.Sprintf("order %d generation %d", id, gen)
		vals := []any{id, int32(id % 5000), statuses[(i+gen)%4], amount, created.UnixMicro(), updated.Format(time.RFC3339Nano), (i+gen)%2 == 0, note}
		after := mustStruct(tb, benchRow, vals...)
		env := mustStruct(tb, benchEnv, nil, after, src, "c", int64(1))
		recs[i] = connectors.Record{Topic: "srv.public.bench", Partition: connectors.PartitionOf(0), Offset: int64(gen*n + i),
			KeySchema: benchKey, Key: mustStruct(tb, benchKey, id), ValueSchema: benchEnv, Value: env}
		raw[i] = []any{id, int32(id % 5000), statuses[(i+gen)%4],
			pgtype.Numeric{Int: big.NewInt(id*100 + int64(gen)), Exp: -2, Valid: true},
			pgtype.Timestamp{Time: created, Valid: true}, updated, (i+gen)%2 == 0, note}
	}
	return recs, raw
}

// BenchmarkSinkApply measures the sink applying 100k Debezium change
// events as upserts, in Puts of putSize records, against raw pgx COPY of
// the same rows into the same table definition, in the same run:
//
//	go test -tags integration -run '^$' -bench SinkApply -benchtime 3x ./connectors/jdbc/
//
// insert: the rows are new (the table is emptied before each pass);
// update: every row exists and changes. put=500 is the runtime's default
// max.poll.records, put=5000 a raised one. path=auto is what the sink
// does (unnest arrays for runs of up to 2000 rows, pipelined; COPY into
// the stage above); path=copy and path=unnest force one way, to keep the
// choice measured. client-cpu-ns/row and server-cpu-ns/row (the
// PostgreSQL backend's CPU, from /proc) are what a busy machine does not
// distort. rows/s is the sink's rate; copy-rows/s the baseline's; ratio
// = sink / COPY.
func BenchmarkSinkApply(b *testing.B) {
	db := newDB(b)
	db.exec(b, "CREATE TABLE srv_public_bench "+benchDDL)
	db.exec(b, "CREATE TABLE copy_baseline "+benchDDL)
	ctx := context.Background()
	cols := []string{"id", "customer_id", "status", "amount", "created_at", "updated_at", "paid", "note"}

	copyRate := func(b *testing.B, raw [][]any) float64 {
		db.exec(b, "TRUNCATE copy_baseline")
		start := time.Now()
		if _, err := db.conn.CopyFrom(ctx, pgx.Identifier{"copy_baseline"}, cols, pgx.CopyFromRows(raw)); err != nil {
			b.Fatal(err)
		}
		return float64(len(raw)) / time.Since(start).Seconds()
	}

	paths := []struct {
		name      string
		unnestMax int
	}{{"auto", defaultUnnestMax}, {"copy", -1}, {"unnest", 1 << 30}}
	for _, mode := range []string{"insert", "update"} {
		for _, putSize := range []int{500, 5000} {
			for _, path := range paths {
				b.Run(fmt.Sprintf("%s/put=%d/path=%s", mode, putSize, path.name), func(b *testing.B) {
					cfg := dbzConfig()
					cfg[KeyBatchSize] = strconv.Itoa(max(putSize, DebeziumBatchSize))
					task := openTask(b, db, cfg, nil, withPath(path.unnestMax))
					recs0, _ := benchRecords(b, benchRows, 0)
					var sinkTime, clientCPU, serverCPU time.Duration
					var copyRates []float64
					pid := int(task.conn.PgConn().PID())
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						gen := i + 1
						if mode == "insert" {
							db.exec(b, "TRUNCATE srv_public_bench")
						} else if i == 0 {
							db.exec(b, "TRUNCATE srv_public_bench")
							putAll(b, task, recs0, 5000)
							if _, err := task.Flush(ctx, nil); err != nil {
								b.Fatal(err)
							}
						}
						recs, raw := benchRecords(b, benchRows, gen)
						copyRates = append(copyRates, copyRate(b, raw))
						b.StartTimer()
						start, c0, s0 := time.Now(), processCPU(), backendCPU(pid)
						putAll(b, task, recs, putSize)
						if _, err := task.Flush(ctx, nil); err != nil {
							b.Fatal(err)
						}
						sinkTime += time.Since(start)
						clientCPU += processCPU() - c0
						serverCPU += backendCPU(pid) - s0
					}
					b.StopTimer()
					var n int
					if err := db.conn.QueryRow(ctx, "SELECT count(*) FROM srv_public_bench WHERE note LIKE '%generation "+strconv.Itoa(b.N)+"'").Scan(&n); err != nil || n != benchRows {
						b.Fatalf("%d rows of the last generation, want %d (%v)", n, benchRows, err)
					}
					rate := float64(b.N*benchRows) / sinkTime.Seconds()
					var copySum float64
					for _, r := range copyRates {
						copySum += r
					}
					copyAvg := copySum / float64(len(copyRates))
					b.ReportMetric(rate, "rows/s")
					b.ReportMetric(copyAvg, "copy-rows/s")
					b.ReportMetric(rate/copyAvg, "ratio")
					b.ReportMetric(0, "ns/op")
					rows := float64(b.N * benchRows)
					b.ReportMetric(float64(clientCPU.Nanoseconds())/rows, "client-cpu-ns/row")
					if serverCPU > 0 {
						b.ReportMetric(float64(serverCPU.Nanoseconds())/rows, "server-cpu-ns/row")
					}
					b.Logf("%s put=%d path=%s: sink %.0f rows/s, raw COPY %.0f rows/s, ratio %.2f", mode, putSize, path.name, rate, copyAvg, rate/copyAvg)
				})
			}
		}
	}
}

func putAll(tb testing.TB, task *Sink, recs []connectors.Record, putSize int) {
	for start := 0; start < len(recs); start += putSize {
		if err := task.Put(context.Background(), recs[start:min(start+putSize, len(recs))]); err != nil {
			tb.Fatalf("Put: %v", err)
		}
	}
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU is the CPU time of a PostgreSQL backend on this machine
// (0 when /proc cannot tell).
func backendCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	sy, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+sy) * time.Second / 100 // USER_HZ
}
