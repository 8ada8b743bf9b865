//go:build integration

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicedata/sluice/broker/brokertest"
	"github.com/sluicedata/sluice/internal/pgtest"
)

const (
	cdcBenchRows = 1_000_000
	// cdcBenchDDL is the table of the Postgres connector's own benchmarks
	// (connectors/postgres/bench_integration_test.go), so that the figures
	// compare.
	cdcBenchDDL = `CREATE TABLE cdc (id bigint PRIMARY KEY, name text NOT NULL, qty int, price numeric(10,2), created timestamptz)`
	// cdcBenchInsert inserts rows [$1, $2] in one transaction.
	cdcBenchInsert = `INSERT INTO cdc SELECT g, 'customer ' || g, g % 100, (g % 100000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second'
		FROM generate_series($1::bigint, $2::bigint) g`
)

// BenchmarkWorkerCDC measures one `sluice worker` process (embedded
// broker) running the Debezium Postgres source with JsonConverter
// (schemas on), in two phases, each in a fresh process:
//
//   - stream: the connector streams (its initial snapshot of the empty
//     table done) and is paused; 1,000,000 rows are inserted in 100
//     transactions of 10,000; timed from resuming it until all 1,000,000
//     change events are on the topic (sum of its end offsets).
//   - snapshot: a fresh connector (snapshot.mode=initial_only) reads the
//     same table, now of 1,000,000 rows; timed from POST /connectors until
//     all rows are on its topic.
//   - sink: in the same worker, the Debezium JDBC sink (upsert by record
//     key) applies those 1,000,000 events to another database; timed from
//     POST /connectors until the table there has every row. The baseline
//     is COPY FROM of the same rows into the same table definition.
//
// The worker's resident memory (VmRSS) is sampled every 100 ms while
// each phase runs, and its peak (VmHWM) read at the end; the bar is
// 150 MB. The baselines: pg_recvlogical writing the same WAL (from a
// pgoutput slot created before the inserts) to a file, timed from start
// to --endpos, so that both read WAL already written; COPY of the table
// to a file for the snapshot. Ratios are Sluice's rate over the
// baseline's. Run it with `make bench`, or:
//
//	internal/testenv/with-servers.sh go test -tags integration -run '^$' -bench WorkerCDC -benchtime 1x ./cmd/sluice/
func BenchmarkWorkerCDC(b *testing.B) {
	bin := brokertest.Binary(b)
	recvlogical := pgtest.Program(b, "pg_recvlogical")
	for range b.N {
		d := pgtest.NewDB(b)
		d.Exec(cdcBenchDDL)

		// Stream.
		p, broker := startCDCWorker(b, bin, benchWorkerArgs()...)
		adm := newBrokerAdmin(b, broker)
		pid := p.cmd.Process.Pid
		restCreateConnector(b, p.url, "cdc", debeziumSourceConfig(d, map[string]string{
			"topic.prefix": "cdc", "table.include.list": "public.cdc", "slot.name": d.Name, "snapshot.mode": "initial",
		}))
		waitFor(b, time.Minute, "the connector streaming", func() error {
			if d.Int(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active`, d.Name) == 0 {
				return fmt.Errorf("slot %s not active", d.Name)
			}
			return p.requireConnectors(b, "cdc")
		})
		idle := brokertest.ProcStatusKiB(b, pid, "VmRSS:")
		recvSlot := d.Name + "_recv"
		d.Exec(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, recvSlot)

		// The connector is paused while the rows are inserted, so that it
		// reads the same WAL as pg_recvlogical does afterwards: written,
		// with the machine to itself.
		if code, err := call("PUT", p.url+"/connectors/cdc/pause", nil, nil); err != nil || code != 202 {
			b.Fatalf("pause: %d %v", code, err)
		}
		waitFor(b, time.Minute, "the task PAUSED", func() error {
			var st connStatus
			if _, err := call("GET", p.url+"/connectors/cdc/status", nil, &st); err != nil {
				return err
			}
			if len(st.Tasks) != 1 || st.Tasks[0].State != "PAUSED" {
				return fmt.Errorf("status %+v", st)
			}
			return nil
		})
		ctx := context.Background()
		conn := d.Connect()
		t0 := time.Now()
		for a := 1; a <= cdcBenchRows; a += 10_000 {
			if _, err := conn.Exec(ctx, cdcBenchInsert, a, a+9_999); err != nil {
				b.Fatalf("insert: %v", err)
			}
		}
		insertTook := time.Since(t0)
		var endLSN string
		if err := conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&endLSN); err != nil {
			b.Fatal(err)
		}
		cpu0 := procCPU(b, pid)
		start := time.Now()
		if code, err := call("PUT", p.url+"/connectors/cdc/resume", nil, nil); err != nil || code != 202 {
			b.Fatalf("resume: %d %v", code, err)
		}
		streamed, streamRSS := waitOnTopic(b, adm, pid, "cdc.public.cdc", start)
		streamHWM := brokertest.ProcStatusKiB(b, pid, "VmHWM:")
		streamCPU := procCPU(b, pid) - cpu0
		stopWorker(b, p)

		out := filepath.Join(b.TempDir(), "recvlogical.out")
		cmd := exec.Command(recvlogical, "-d", d.DSN, "--slot", recvSlot, "--start", "-o", "proto_version=1",
			"-o", "publication_names=dbz_publication", "--endpos", endLSN, "--no-loop", "-f", out)
		t0 = time.Now()
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pg_recvlogical: %v: %s", err, o)
		}
		baseline := time.Since(t0)

		// Snapshot, in a fresh worker; the baseline is COPY of the table
		// to a file.
		d.Exec(`VACUUM ANALYZE cdc`)
		copyFile, err := os.Create(filepath.Join(b.TempDir(), "copy.out"))
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		if _, err := conn.PgConn().CopyTo(ctx, copyFile, "COPY cdc TO STDOUT"); err != nil {
			b.Fatal(err)
		}
		copyTook := time.Since(t0)
		_ = copyFile.Close()
		p, broker = startCDCWorker(b, bin, benchWorkerArgs()...)
		adm = newBrokerAdmin(b, broker)
		pid = p.cmd.Process.Pid
		start, cpu0 = time.Now(), procCPU(b, pid)
		restCreateConnector(b, p.url, "snap", debeziumSourceConfig(d, map[string]string{
			"topic.prefix": "snap", "table.include.list": "public.cdc", "slot.name": d.Name + "_snap", "snapshot.mode": "initial_only",
		}))
		snapshotted, snapshotRSS := waitOnTopic(b, adm, pid, "snap.public.cdc", start)
		snapshotHWM := brokertest.ProcStatusKiB(b, pid, "VmHWM:")
		snapshotCPU := procCPU(b, pid) - cpu0

		// Sink, in the same worker: the JDBC sink applies the snapshot's
		// 1M events to another database; the baseline is COPY FROM of
		// the file COPY TO wrote, into the same table definition.
		tgt := pgtest.NewDB(b)
		tgt.Exec(strings.Replace(cdcBenchDDL, "cdc", "copied", 1))
		tconn := tgt.Connect()
		copyFile, err = os.Open(copyFile.Name())
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		if _, err := tconn.PgConn().CopyFrom(ctx, copyFile, "COPY copied FROM STDIN"); err != nil {
			b.Fatal(err)
		}
		copyFromTook := time.Since(t0)
		_ = copyFile.Close()
		url, user, password := tgt.JDBCURL()
		start, cpu0 = time.Now(), procCPU(b, pid)
		restCreateConnector(b, p.url, "sink", map[string]string{
			"connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector", "topics": "snap.public.cdc",
			"connection.url": url, "connection.username": user, "connection.password": password,
			"insert.mode": "upsert", "primary.key.mode": "record_key", "delete.enabled": "true", "schema.evolution": "basic",
			"table.name.format": "cdc",
			"key.converter":     "org.apache.kafka.connect.json.JsonConverter", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
		})
		waitFor(b, 10*time.Minute, "the sink to write every row", func() error {
			if err := p.requireConnectors(b, "sink"); err != nil {
				return err
			}
			var n int64
			if err := tconn.QueryRow(ctx, `SELECT count(*) FROM cdc`).Scan(&n); err != nil {
				return err // the sink has not created the table yet
			}
			if n < cdcBenchRows {
				return fmt.Errorf("%d rows", n)
			}
			return nil
		})
		sunk := time.Since(start)
		sinkCPU := procCPU(b, pid) - cpu0
		sinkHWM := brokertest.ProcStatusKiB(b, pid, "VmHWM:")
		stopWorker(b, p)

		rate := func(d time.Duration) float64 { return cdcBenchRows / d.Seconds() }
		mib := func(kib int64) float64 { return float64(kib) / 1024 }
		b.ReportMetric(rate(streamed), "stream_rows/s")
		b.ReportMetric(rate(baseline), "pg_recvlogical_rows/s")
		b.ReportMetric(rate(streamed)/rate(baseline), "ratio")
		b.ReportMetric(mib(streamHWM), "stream_peak_RSS_MiB")
		b.ReportMetric(rate(sunk), "sink_rows/s")
		b.ReportMetric(rate(copyFromTook), "copy_from_rows/s")
		b.ReportMetric(rate(sunk)/rate(copyFromTook), "sink_ratio")
		b.ReportMetric(rate(snapshotted), "snapshot_rows/s")
		b.ReportMetric(rate(copyTook), "copy_rows/s")
		b.ReportMetric(rate(snapshotted)/rate(copyTook), "snapshot_ratio")
		b.ReportMetric(mib(snapshotHWM), "snapshot_peak_RSS_MiB")
		perRow := func(d time.Duration) float64 { return float64(d.Microseconds()) / cdcBenchRows }
		b.ReportMetric(perRow(streamCPU), "stream_worker_CPU_µs/row")
		b.ReportMetric(perRow(snapshotCPU), "snapshot_worker_CPU_µs/row")
		b.Logf("stream: %d rows inserted in %v with the connector paused, all on the topic %v after resuming (%.0f rows/s, worker CPU %.1f µs/row); "+
			"pg_recvlogical reads the same WAL in %v (%.0f rows/s): ratio %.2f; RSS %.0f MiB idle, at most %.0f MiB sampled, peak %.0f MiB. "+
			"snapshot: %v (%.0f rows/s, worker CPU %.1f µs/row); COPY TO file %v (%.0f rows/s): ratio %.2f; RSS at most %.0f MiB sampled, peak %.0f MiB",
			cdcBenchRows, insertTook.Round(time.Millisecond), streamed.Round(time.Millisecond), rate(streamed), perRow(streamCPU),
			baseline.Round(time.Millisecond), rate(baseline), rate(streamed)/rate(baseline), mib(idle), mib(streamRSS), mib(streamHWM),
			snapshotted.Round(time.Millisecond), rate(snapshotted), perRow(snapshotCPU), copyTook.Round(time.Millisecond), rate(copyTook),
			rate(snapshotted)/rate(copyTook), mib(snapshotRSS), mib(snapshotHWM))
		b.Logf("sink: the JDBC sink upserts the snapshot's %d events into another database in %v (%.0f rows/s, worker CPU %.1f µs/row); "+
			"COPY FROM of the same rows %v (%.0f rows/s): ratio %.2f; worker peak RSS %.0f MiB",
			cdcBenchRows, sunk.Round(time.Millisecond), rate(sunk), perRow(sinkCPU), copyFromTook.Round(time.Millisecond),
			rate(copyFromTook), rate(sunk)/rate(copyFromTook), mib(sinkHWM))
	}
}

// benchWorkerArgs are the benchmark's worker flags, with a --set for each
// key=value in SLUICE_BENCH_WORKER_SET (space-separated), to compare
// settings: SLUICE_BENCH_WORKER_SET='producer.compression.type=lz4'.
func benchWorkerArgs() []string {
	args := []string{"--log-level", "warn"}
	for _, kv := range strings.Fields(os.Getenv("SLUICE_BENCH_WORKER_SET")) {
		args = append(args, "--set", kv)
	}
	return args
}

// waitOnTopic waits until cdcBenchRows records are on topic, sampling
// the worker's VmRSS every 100 ms, and returns the time since start and
// the largest sample (KiB).
func waitOnTopic(b *testing.B, adm *kadm.Client, pid int, topic string, start time.Time) (time.Duration, int64) {
	b.Helper()
	var rss int64
	deadline := start.Add(5 * time.Minute)
	for {
		rss = max(rss, brokertest.ProcStatusKiB(b, pid, "VmRSS:"))
		n := topicRecords(adm, topic)
		if n >= cdcBenchRows {
			return time.Since(start), rss
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d records on %s after 5 minutes", n, cdcBenchRows, topic)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopWorker stops a worker with SIGTERM and waits for it to exit.
func stopWorker(b *testing.B, p *workerProc) {
	b.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		b.Fatalf("worker still running 30 s after SIGTERM")
	}
	p.done <- nil // for the cleanup's wait
}

// procCPU is the user and system CPU time the process has used so far
// (/proc/<pid>/stat, in clock ticks of 10 ms).
func procCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("/proc/%d/stat: %q", pid, data)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
