//go:build integration

package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/internal/pgtest"
	"github.com/sluicedata/sluice/runtime/convert"
)

const benchRows = 1_000_000

const benchDDL = `CREATE TABLE bench (id bigint PRIMARY KEY, name text NOT NULL, qty int, price numeric(10,2), created timestamptz)`

// benchInsert inserts rows [from, to] in transactions of 10,000 rows.
func benchInsert(tb testing.TB, d *testDB, from, to int) {
	tb.Helper()
	for a := from; a <= to; a += 10_000 {
		b := min(a+9_999, to)
		d.exec(`INSERT INTO bench SELECT g, 'customer ' || g, g % 100, (g % 100000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second'
			FROM generate_series($1::bigint, $2::bigint) g`, a, b)
	}
}

// jsonSink converts records with JsonConverter (schemas.enable=true), as
// the runtime does before producing them, and counts the bytes. Like the
// runtime's source runner (runtime/task, sourceRunner.send), a poll of 128
// records or more is converted on GOMAXPROCS goroutines, and values are
// written into recycled buffers (the runner recycles a value's buffer
// once the broker acknowledged it; here, at once).
type jsonSink struct {
	key, value *convert.JSONConverter
	bytes      atomic.Int64
}

func newJSONSink(tb testing.TB) *jsonSink {
	s := &jsonSink{key: convert.NewJSONConverter(), value: convert.NewJSONConverter()}
	if err := s.key.Configure(map[string]string{"schemas.enable": "true"}, true); err != nil {
		tb.Fatal(err)
	}
	if err := s.value.Configure(map[string]string{"schemas.enable": "true"}, false); err != nil {
		tb.Fatal(err)
	}
	return s
}

func (s *jsonSink) put(tb testing.TB, recs []connectors.Record) {
	if s == nil {
		return
	}
	workers := min(runtime.GOMAXPROCS(0), len(recs)/64)
	if len(recs) < 128 || workers < 2 {
		workers = 1
	}
	size := (len(recs) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var n int64
			var buf []byte
			for _, r := range recs[w*size : min((w+1)*size, len(recs))] {
				k, err := s.key.FromConnect(r.Topic, r.KeySchema, r.Key)
				if err != nil {
					errs[w] = err
					return
				}
				v, err := s.value.AppendFromConnect(buf[:0], r.Topic, r.ValueSchema, r.Value)
				if err != nil {
					errs[w] = err
					return
				}
				n += int64(len(k) + len(v))
				if v != nil {
					buf = v
				}
			}
			s.bytes.Add(n)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
}

// benchRounds is how many times each side runs; the best run of each is
// compared, so that a machine shared with other work still gives a fair
// ratio (SLUICE_BENCH_ROUNDS, default 2).
func benchRounds() int {
	if n, err := strconv.Atoi(os.Getenv("SLUICE_BENCH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 2
}

// best keeps the shortest duration.
type best struct{ d time.Duration }

func (b *best) add(d time.Duration) {
	if b.d == 0 || d < b.d {
		b.d = d
	}
}

func (b best) rate() float64 { return benchRows / b.d.Seconds() }

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStreamVsPgRecvlogical streams the same 1M-row insert workload
// (100 transactions of 10,000 rows, five columns) from slots created
// before it, alternately:
//
//	(a) pg_recvlogical -o proto_version=1 -o publication_names=P writing
//	    the raw pgoutput stream to a file (--endpos at the workload's end);
//	(b) this task's Poll loop, every record converted by JsonConverter
//	    (schemas.enable=true) in the polling goroutine, as the runtime
//	    does before producing (the "sluice_json" figures);
//	(c) the Poll loop alone: records ready for the runtime ("sluice").
//
// Each runs benchRounds() times; the best run of each is reported, and
// ratio = (b)/(a), ratio_records = (c)/(a). Timing starts before Open.
func BenchmarkStreamVsPgRecvlogical(b *testing.B) {
	for range b.N {
		b.StopTimer()
		d := newTestDB(b)
		d.exec(benchDDL)
		d.exec(`CREATE PUBLICATION bench_pub FOR ALL TABLES`)
		rounds := benchRounds()
		slot := func(kind string, i int) string { return fmt.Sprintf("%s_%d_%s", kind, i, d.slot) }
		for i := range rounds {
			for _, kind := range []string{"recv", "json", "rec"} {
				d.exec(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, slot(kind, i))
			}
		}
		benchInsert(b, d, 1, benchRows)
		var endLSN string
		if err := d.conn.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&endLSN); err != nil {
			b.Fatal(err)
		}
		var recv, withJSON, records best
		var jsonBytes int64
		var cpuJSON, cpuRec time.Duration
		for i := range rounds {
			out := filepath.Join(b.TempDir(), "recv.out")
			cmd := exec.Command(pgtest.Program(b, "pg_recvlogical"), "-d", d.dsn, "--slot", slot("recv", i), "--start",
				"-o", "proto_version=1", "-o", "publication_names=bench_pub", "--endpos", endLSN, "--no-loop", "-f", out)
			start := time.Now()
			if o, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("pg_recvlogical: %v: %s", err, o)
			}
			recv.add(time.Since(start))
			_ = os.Remove(out)

			for _, kind := range []string{"json", "rec"} {
				cfg := d.config("snapshot.mode", "no_data", "publication.name", "bench_pub", "publication.autocreate.mode", "disabled",
					"slot.name", slot(kind, i))
				var sink *jsonSink
				if kind == "json" {
					sink = newJSONSink(b)
				}
				b.StartTimer()
				c0, start := cpuTime(), time.Now()
				r := openTask(b, cfg, nil)
				n := 0
				for n < benchRows {
					recs, err := r.task.Poll(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					sink.put(b, recs)
					n += len(recs)
				}
				dur, cpu := time.Since(start), cpuTime()-c0
				b.StopTimer()
				r.close()
				if kind == "json" {
					withJSON.add(dur)
					jsonBytes, cpuJSON = sink.bytes.Load(), cpu
				} else {
					records.add(dur)
					cpuRec = cpu
				}
			}
		}
		b.ReportMetric(recv.rate(), "pg_recvlogical_rows/s")
		b.ReportMetric(withJSON.rate(), "sluice_json_rows/s")
		b.ReportMetric(records.rate(), "sluice_rows/s")
		b.ReportMetric(withJSON.rate()/recv.rate(), "ratio")
		b.ReportMetric(records.rate()/recv.rate(), "ratio_records")
		b.Logf("best of %d: pg_recvlogical %v (%.0f rows/s); sluice+JsonConverter %v (%.0f rows/s, %.1f µs CPU/row, %d JSON bytes); "+
			"sluice records %v (%.0f rows/s, %.1f µs CPU/row); ratio %.2f, records ratio %.2f",
			rounds, recv.d, recv.rate(), withJSON.d, withJSON.rate(), float64(cpuJSON.Microseconds())/benchRows, jsonBytes,
			records.d, records.rate(), float64(cpuRec.Microseconds())/benchRows, withJSON.rate()/recv.rate(), records.rate()/recv.rate())
	}
}

// BenchmarkSnapshotVsCopy reads a 1M-row table alternately:
//
//	(a) COPY bench TO STDOUT written to a file;
//	(b) this task's snapshot (snapshot.mode=initial_only, default
//	    snapshot.max.threads) and a Poll loop that converts every record
//	    with JsonConverter ("sluice_json");
//	(c) the same without conversion: records ready for the runtime
//	    ("sluice").
//
// Each runs benchRounds() times; the best run of each is reported, with
// ratio_records = (c)/(a) and ratio_json = (b)/(a).
func BenchmarkSnapshotVsCopy(b *testing.B) {
	for range b.N {
		b.StopTimer()
		d := newTestDB(b)
		d.exec(benchDDL)
		benchInsert(b, d, 1, benchRows)
		d.exec(`VACUUM ANALYZE bench`)
		var copyBest, withJSON, records best
		var cpuJSON, cpuRec time.Duration
		for range benchRounds() {
			f, err := os.Create(filepath.Join(b.TempDir(), "copy.out"))
			if err != nil {
				b.Fatal(err)
			}
			conn, err := pgx.Connect(context.Background(), d.dsn)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			tag, err := conn.PgConn().CopyTo(context.Background(), f, "COPY bench TO STDOUT")
			if err != nil {
				b.Fatal(err)
			}
			copyBest.add(time.Since(start))
			_ = f.Close()
			_ = os.Remove(f.Name())
			_ = conn.Close(context.Background())
			if tag.RowsAffected() != benchRows {
				b.Fatalf("COPY read %d rows", tag.RowsAffected())
			}
			for _, kind := range []string{"json", "rec"} {
				var sink *jsonSink
				if kind == "json" {
					sink = newJSONSink(b)
				}
				b.StartTimer()
				c0, start := cpuTime(), time.Now()
				r := openTask(b, d.config("snapshot.mode", "initial_only"), nil)
				n := 0
				for {
					recs, err := r.task.Poll(context.Background())
					sink.put(b, recs)
					n += len(recs)
					if errors.Is(err, connectors.ErrEndOfInput) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				dur, cpu := time.Since(start), cpuTime()-c0
				b.StopTimer()
				r.close()
				if n != benchRows {
					b.Fatalf("snapshot emitted %d records", n)
				}
				if kind == "json" {
					withJSON.add(dur)
					cpuJSON = cpu
				} else {
					records.add(dur)
					cpuRec = cpu
				}
			}
		}
		b.ReportMetric(copyBest.rate(), "copy_rows/s")
		b.ReportMetric(withJSON.rate(), "sluice_json_rows/s")
		b.ReportMetric(records.rate(), "sluice_rows/s")
		b.ReportMetric(records.rate()/copyBest.rate(), "ratio_records")
		b.ReportMetric(withJSON.rate()/copyBest.rate(), "ratio_json")
		b.Logf("best of %d: COPY TO file %v (%.0f rows/s); sluice snapshot records %v (%.0f rows/s, %.1f µs CPU/row); "+
			"with JsonConverter %v (%.0f rows/s, %.1f µs CPU/row); ratio %.2f, with JSON %.2f",
			benchRounds(), copyBest.d, copyBest.rate(), records.d, records.rate(), float64(cpuRec.Microseconds())/benchRows,
			withJSON.d, withJSON.rate(), float64(cpuJSON.Microseconds())/benchRows, records.rate()/copyBest.rate(), withJSON.rate()/copyBest.rate())
	}
}
