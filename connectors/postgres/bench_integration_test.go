//go:build integration

package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluicedata/sluice/connectors"
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

func pgBin(tb testing.TB, name string) string {
	tb.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(bins) == 0 {
		tb.Fatalf("%s not found (apt-get install postgresql-15)", name)
	}
	return bins[len(bins)-1]
}

// jsonRecords converts records as the runtime would before producing
// them, and returns the bytes written.
type jsonSink struct {
	key, value *convert.JSONConverter
	bytes      int64
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
	if os.Getenv("SLUICE_BENCH_NOJSON") != "" {
		return
	}
	for _, r := range recs {
		k, err := s.key.FromConnect(r.Topic, r.KeySchema, r.Key)
		if err != nil {
			tb.Fatal(err)
		}
		v, err := s.value.FromConnect(r.Topic, r.ValueSchema, r.Value)
		if err != nil {
			tb.Fatal(err)
		}
		s.bytes += int64(len(k) + len(v))
	}
}

// BenchmarkStreamVsPgRecvlogical streams the same 1M-row insert workload
// (100 transactions of 10,000 rows) from two slots created before it:
// (a) pg_recvlogical with pgoutput writing the raw stream to a file, and
// (b) this task's Poll loop with every record converted by JsonConverter
// (schemas.enable=true). It reports each rate and (b)/(a).
func BenchmarkStreamVsPgRecvlogical(b *testing.B) {
	for range b.N {
		b.StopTimer()
		d := newTestDB(b)
		d.exec(benchDDL)
		d.exec(`CREATE PUBLICATION bench_pub FOR ALL TABLES`)
		recvSlot := "recv_" + d.slot
		d.exec(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, recvSlot)
		d.exec(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, d.slot)
		benchInsert(b, d, 1, benchRows)
		var endLSN string
		if err := d.conn.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&endLSN); err != nil {
			b.Fatal(err)
		}

		// (a) pg_recvlogical.
		out := filepath.Join(b.TempDir(), "recv.out")
		cmd := exec.Command(pgBin(b, "pg_recvlogical"), "-d", d.dsn, "--slot", recvSlot, "--start",
			"-o", "proto_version=1", "-o", "publication_names=bench_pub", "--endpos", endLSN, "--no-loop", "-f", out)
		start := time.Now()
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pg_recvlogical: %v: %s", err, o)
		}
		recvDur := time.Since(start)
		st, _ := os.Stat(out)

		// (b) the task.
		cfg := d.config("snapshot.mode", "no_data", "publication.name", "bench_pub", "publication.autocreate.mode", "disabled")
		sink := newJSONSink(b)
		b.StartTimer()
		start = time.Now()
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
		ourDur := time.Since(start)
		b.StopTimer()
		r.close()

		recvRate := float64(benchRows) / recvDur.Seconds()
		ourRate := float64(benchRows) / ourDur.Seconds()
		b.ReportMetric(recvRate, "pg_recvlogical_rows/s")
		b.ReportMetric(ourRate, "sluice_rows/s")
		b.ReportMetric(ourRate/recvRate, "ratio")
		b.Logf("pg_recvlogical: %d rows in %v (%.0f rows/s, %d bytes); sluice+JsonConverter: %d records in %v (%.0f rows/s, %d JSON bytes); ratio %.2f",
			benchRows, recvDur, recvRate, st.Size(), n, ourDur, ourRate, sink.bytes, ourRate/recvRate)
	}
}

// BenchmarkSnapshotVsCopy reads a 1M-row table (a) with COPY … TO STDOUT
// written to a file, and (b) with this task's snapshot (initial_only,
// snapshot.max.threads at its default) and a Poll loop converting every
// record with JsonConverter. It reports each rate and (b)/(a).
func BenchmarkSnapshotVsCopy(b *testing.B) {
	for range b.N {
		b.StopTimer()
		d := newTestDB(b)
		d.exec(benchDDL)
		benchInsert(b, d, 1, benchRows)
		d.exec(`VACUUM ANALYZE bench`)

		// (a) COPY to a file.
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
		copyDur := time.Since(start)
		_ = f.Close()
		_ = conn.Close(context.Background())
		if tag.RowsAffected() != benchRows {
			b.Fatalf("COPY read %d rows", tag.RowsAffected())
		}

		// (b) the snapshot.
		sink := newJSONSink(b)
		b.StartTimer()
		start = time.Now()
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
		snapDur := time.Since(start)
		b.StopTimer()
		r.close()
		if n != benchRows {
			b.Fatalf("snapshot emitted %d records", n)
		}
		copyRate := float64(benchRows) / copyDur.Seconds()
		snapRate := float64(benchRows) / snapDur.Seconds()
		b.ReportMetric(copyRate, "copy_rows/s")
		b.ReportMetric(snapRate, "sluice_rows/s")
		b.ReportMetric(snapRate/copyRate, "ratio")
		b.Logf("COPY TO file: %d rows in %v (%.0f rows/s); sluice snapshot+JsonConverter: %d records in %v (%.0f rows/s, %d JSON bytes); ratio %.2f",
			benchRows, copyDur, copyRate, n, snapDur, snapRate, sink.bytes, snapRate/copyRate)
	}
}

var _ = fmt.Sprint
var _ = strings.TrimSpace
