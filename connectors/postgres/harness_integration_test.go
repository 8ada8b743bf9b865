//go:build integration

package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/internal/pgtest"
)

// testDSN returns the server the integration tests use. Under the
// integration tag a missing server is a failure, not a skip.
func testDSN(t testing.TB) string { return pgtest.DSN(t) }

// testDB is a database of its own for one test, so slots and
// publications do not collide. It is dropped at the end.
type testDB struct {
	t      testing.TB
	name   string
	dsn    string // to the test database
	admin  string // to the maintenance database
	conn   *pgx.Conn
	prefix string
	slot   string
}

func newTestDB(t testing.TB) *testDB { return newTestDBOn(t, testDSN(t)) }

func newTestDBOn(t testing.TB, adminDSN string) *testDB {
	t.Helper()
	db := pgtest.NewDBOn(t, adminDSN)
	return &testDB{t: t, name: db.Name, dsn: db.DSN, admin: adminDSN, conn: db.Conn, prefix: "dbserver1", slot: "slot_" + fmt.Sprint(rand.IntN(1_000_000))}
}

func (d *testDB) exec(sql string, args ...any) {
	d.t.Helper()
	if _, err := d.conn.Exec(context.Background(), sql, args...); err != nil {
		d.t.Fatalf("%s: %v", sql, err)
	}
}

// config returns a connector config for the test database, with extra
// key/value pairs applied.
func (d *testDB) config(kv ...string) map[string]string {
	u, _ := url.Parse(d.dsn)
	c := map[string]string{
		"name":                      "pg-" + d.name,
		"connector.class":           ClassName,
		"database.hostname":         u.Hostname(),
		"database.port":             u.Port(),
		"database.user":             u.User.Username(),
		"database.dbname":           d.name,
		"database.sslmode":          "disable",
		"topic.prefix":              d.prefix,
		"slot.name":                 d.slot,
		"plugin.name":               "pgoutput",
		"poll.interval.ms":          "50",
		"status.update.interval.ms": "200",
	}
	if p, ok := u.User.Password(); ok {
		c["database.password"] = p
	}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return c
}

// slotConfirmed returns the slot's confirmed_flush_lsn.
func (d *testDB) slotConfirmed() uint64 {
	d.t.Helper()
	var s *string
	err := d.conn.QueryRow(context.Background(), "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", d.slot).Scan(&s)
	if err != nil || s == nil {
		return 0
	}
	var hi, lo uint64
	fmt.Sscanf(*s, "%X/%X", &hi, &lo)
	return hi<<32 | lo
}

// memOffsets is an in-memory offsets topic: it stores offsets as JSON and
// reads them back as the runtime does (integral numbers as int64).
type memOffsets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemOffsets() *memOffsets { return &memOffsets{m: map[string][]byte{}} }

func (s *memOffsets) store(recs []connectors.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if r.SourcePartition == nil {
			continue
		}
		k, _ := json.Marshal(r.SourcePartition)
		v, err := json.Marshal(r.SourceOffset)
		if err != nil {
			panic(err)
		}
		s.m[string(k)] = v
	}
}

func decodeJSONMap(b []byte) map[string]any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	_ = d.Decode(&m)
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				m[k] = i
			} else if f, err := n.Float64(); err == nil {
				m[k] = f
			}
		}
	}
	return m
}

func (s *memOffsets) committed() []connectors.SourceOffset {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connectors.SourceOffset
	for k, v := range s.m {
		out = append(out, connectors.SourceOffset{Partition: decodeJSONMap([]byte(k)), Offset: decodeJSONMap(v)})
	}
	return out
}

func (s *memOffsets) Offset(_ context.Context, partition map[string]any) (map[string]any, error) {
	k, _ := json.Marshal(partition)
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(k)]
	if !ok {
		return nil, nil
	}
	return decodeJSONMap(v), nil
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// runner drives one task like the runtime does.
type runner struct {
	t      testing.TB
	task   *Task
	store  *memOffsets
	closed bool
}

func openTask(t testing.TB, cfg map[string]string, store *memOffsets) *runner {
	t.Helper()
	r, err := tryOpenTask(t, cfg, store)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

func tryOpenTask(t testing.TB, cfg map[string]string, store *memOffsets) (*runner, error) {
	t.Helper()
	c := NewConnector()
	ctx := context.Background()
	if err := c.Start(ctx, connectors.ConnectorContext{Name: cfg["name"], Logger: testLogger(t)}, cfg); err != nil {
		return nil, err
	}
	tcs, err := c.TaskConfigs(3)
	if err != nil || len(tcs) != 1 {
		t.Fatalf("TaskConfigs: %v, %d configs", err, len(tcs))
	}
	_ = c.Stop(ctx)
	task := c.NewTask().(*Task)
	if store == nil {
		store = newMemOffsets()
	}
	if err := task.Open(ctx, connectors.SourceContext{Connector: cfg["name"], Logger: testLogger(t), Offsets: store}, tcs[0]); err != nil {
		return nil, err
	}
	r := &runner{t: t, task: task, store: store}
	t.Cleanup(r.close)
	return r, nil
}

// poll polls until want returns true for everything polled so far, or
// the timeout; it fails the test on a Poll error or timeout.
func (r *runner) poll(timeout time.Duration, want func([]connectors.Record) bool) []connectors.Record {
	r.t.Helper()
	var got []connectors.Record
	deadline := time.Now().Add(timeout)
	for !want(got) {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out after %v with %d records", timeout, len(got))
		}
		recs, err := r.task.Poll(context.Background())
		if err != nil {
			r.t.Fatalf("Poll: %v", err)
		}
		got = append(got, recs...)
	}
	return got
}

// pollN polls until at least n records arrived.
func (r *runner) pollN(n int, timeout time.Duration) []connectors.Record {
	r.t.Helper()
	return r.poll(timeout, func(g []connectors.Record) bool { return len(g) >= n })
}

// pollErr polls until Poll returns an error.
func (r *runner) pollErr(timeout time.Duration) error {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := r.task.Poll(context.Background()); err != nil {
			return err
		}
	}
	r.t.Fatalf("no error within %v", timeout)
	return nil
}

// quiet polls for d and returns what arrived.
func (r *runner) quiet(d time.Duration) []connectors.Record {
	r.t.Helper()
	var got []connectors.Record
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		recs, err := r.task.Poll(context.Background())
		if err != nil {
			r.t.Fatalf("Poll: %v", err)
		}
		got = append(got, recs...)
	}
	return got
}

// waitStreaming waits until the task streams from the slot, polling
// meanwhile; it returns what was polled (the snapshot).
func (r *runner) waitStreaming() []connectors.Record {
	r.t.Helper()
	return r.poll(60*time.Second, func([]connectors.Record) bool { return r.task.streaming.Load() })
}

// commit stores the offsets of recs and calls Commit, like an offset
// flush.
func (r *runner) commit(recs []connectors.Record) {
	r.t.Helper()
	r.store.store(recs)
	if err := r.task.Commit(context.Background(), r.store.committed()); err != nil {
		r.t.Fatalf("Commit: %v", err)
	}
}

func (r *runner) close() {
	if r.closed {
		return
	}
	r.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.task.Close(ctx); err != nil {
		r.t.Errorf("Close: %v", err)
	}
}

// waitFor polls cond until it holds or the timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dataRecords drops heartbeats.
func dataRecords(recs []connectors.Record) []connectors.Record {
	var out []connectors.Record
	for _, r := range recs {
		if !strings.HasPrefix(r.Topic, "__debezium-heartbeat") {
			out = append(out, r)
		}
	}
	return out
}

// privateCluster starts a Postgres cluster of its own (for tests that
// restart or reconfigure the server) with internal/testenv/postgres.sh,
// and returns its DSN and a restart function.
type cluster struct {
	dir string
	dsn string
}

func startCluster(t testing.TB) *cluster {
	t.Helper()
	testDSN(t) // the same requirement as every integration test
	script, _ := filepath.Abs("../../internal/testenv/postgres.sh")
	dir, err := os.MkdirTemp("", "sluice-pg-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	out, err := exec.Command(script, "start", filepath.Join(dir, "pg")).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("start private cluster: %v: %s", err, ee.Stderr)
		}
		t.Fatalf("start private cluster: %v", err)
	}
	c := &cluster{dir: dir, dsn: strings.TrimSpace(string(out))}
	t.Cleanup(func() {
		_ = exec.Command(script, "stop", filepath.Join(dir, "pg")).Run()
		_ = os.RemoveAll(dir)
	})
	return c
}

// pgctl runs pg_ctl on the private cluster as the postgres user.
func (c *cluster) pgctl(t testing.TB, args ...string) {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Fatal("pg_ctl not found")
	}
	full := append([]string{"-D", filepath.Join(c.dir, "pg", "data"), "-l", filepath.Join(c.dir, "pg", "log")}, args...)
	cmd := exec.Command(bins[len(bins)-1], full...)
	if os.Getuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", bins[len(bins)-1]}, full...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %v: %v: %s", args, err, out)
	}
}
