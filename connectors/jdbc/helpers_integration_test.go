//go:build integration

package jdbc

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/internal/pgtest"
)

// testDB is a private database on the test server.
type testDB struct {
	name    string
	jdbcURL string // jdbc:postgresql://host:port/name?user=…
	conn    *pgx.Conn
}

// newDB creates a database for one test and drops it afterwards.
func newDB(tb testing.TB) *testDB {
	tb.Helper()
	d := pgtest.NewDB(tb)
	u, user, _ := d.JDBCURL()
	return &testDB{name: d.Name, jdbcURL: u + "&user=" + url.QueryEscape(user), conn: d.Conn}
}

func (db *testDB) exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if _, err := db.conn.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// dump returns the rows of a query as strings "a|b|c", sorted.
func (db *testDB) dump(tb testing.TB, sql string) []string {
	tb.Helper()
	rows, err := db.conn.Query(context.Background(), sql)
	if err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			tb.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func (db *testDB) columnTypes(tb testing.TB, table string) map[string]string {
	tb.Helper()
	rows, err := db.conn.Query(context.Background(),
		`SELECT a.attname, format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
		 FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`, table)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			tb.Fatal(err)
		}
		out[n] = t
	}
	return out
}

// errantLog is a connectors.ErrantReporter that keeps what it is given.
type errantLog struct {
	mu   sync.Mutex
	recs []connectors.Record
	errs []error
}

func (e *errantLog) Report(_ context.Context, r connectors.Record, err error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recs = append(e.recs, r)
	e.errs = append(e.errs, err)
	return nil
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// openTask opens a sink task with config (connection.url filled in).
func openTask(tb testing.TB, db *testDB, config map[string]string, errant connectors.ErrantReporter, opts ...func(*Sink)) *Sink {
	tb.Helper()
	cfg := map[string]string{KeyConnectionURL: db.jdbcURL, connectors.KeyName: "jdbc-test"}
	for k, v := range config {
		cfg[k] = v
	}
	task := NewConnector().NewTask().(*Sink)
	for _, o := range opts {
		o(task)
	}
	sc := connectors.SinkContext{Connector: "jdbc-test", Logger: testLogger(tb), Errant: errant}
	if errant == nil {
		sc.Errant = nil
	}
	if err := task.Open(context.Background(), sc, cfg); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = task.Close(context.Background()) })
	return task
}

// putFlush puts records and flushes, checking Flush returns the offsets.
func putFlush(tb testing.TB, task *Sink, recs ...connectors.Record) {
	tb.Helper()
	ctx := context.Background()
	if err := task.Put(ctx, recs); err != nil {
		tb.Fatalf("Put: %v", err)
	}
	offsets := map[connectors.TopicPartition]int64{}
	for _, r := range recs {
		tp, off := coordinates(&r)
		offsets[tp] = off + 1
	}
	got, err := task.Flush(ctx, offsets)
	if err != nil {
		tb.Fatalf("Flush: %v", err)
	}
	for tp, off := range offsets {
		if got[tp] != off {
			tb.Errorf("Flush returned %d for %v, want %d", got[tp], tp, off)
		}
	}
}

var offsetSeq int64

// rec builds a sink record of topic partition 0 with the next offset.
func rec(topic string, keySchema *connectors.Schema, key any, valueSchema *connectors.Schema, value any) connectors.Record {
	offsetSeq++
	return connectors.Record{Topic: topic, Partition: connectors.PartitionOf(0), Offset: offsetSeq,
		KeySchema: keySchema, Key: key, ValueSchema: valueSchema, Value: value,
		Timestamp: time.UnixMilli(1_700_000_000_000), TimestampType: connectors.CreateTime,
		OriginalTopic: topic, OriginalOffset: offsetSeq}
}

func mustStruct(tb testing.TB, s *connectors.Schema, vals ...any) *connectors.Struct {
	tb.Helper()
	st, err := connectors.StructOf(s, vals...)
	if err != nil {
		tb.Fatalf("StructOf(%v): %v", s, err)
	}
	return st
}

func equalRows(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		tb.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// withPath sets how runs of rows travel: through unnest arrays (small
// runs, the default) or COPY into the stage.
func withPath(unnestMax int) func(*Sink) { return func(s *Sink) { s.unnestMax = unnestMax } }

// eachPath runs f with rows passed as arrays (the default for small
// runs), through COPY, and mixed (runs over 7 rows through COPY, smaller
// ones as arrays, in one transaction).
func eachPath(t *testing.T, f func(t *testing.T, path func(*Sink))) {
	t.Run("unnest", func(t *testing.T) { f(t, withPath(defaultUnnestMax)) })
	t.Run("copy", func(t *testing.T) { f(t, withPath(-1)) })
	t.Run("mixed", func(t *testing.T) { f(t, withPath(7)) })
}

// putErr puts records and flushes, returning the first error: a batch is
// confirmed by the next Put or Flush, so a failure may show in either.
func putErr(task *Sink, recs ...connectors.Record) error {
	ctx := context.Background()
	if err := task.Put(ctx, recs); err != nil {
		return err
	}
	offsets := map[connectors.TopicPartition]int64{}
	for _, r := range recs {
		tp, off := coordinates(&r)
		offsets[tp] = max(offsets[tp], off+1)
	}
	_, err := task.Flush(ctx, offsets)
	return err
}
