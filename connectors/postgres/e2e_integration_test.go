//go:build integration

package postgres_test

// End to end: a Debezium config posted to a running worker (the embedded
// broker, the REST API), changes read back from the topic as Kafka
// Connect's JsonConverter wrote them, offsets through the REST API, and
// the slot confirmed after the runtime stored them.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors/postgres"
	"github.com/sluicedata/sluice/plugins"
	"github.com/sluicedata/sluice/rest"
	"github.com/sluicedata/sluice/runtime"
)

func TestEndToEndThroughREST(t *testing.T) {
	dsn := os.Getenv("SLUICE_TEST_PG_DSN")
	if dsn == "" {
		t.Fatal("SLUICE_TEST_PG_DSN is not set: run `make test` (see connectors/postgres/README.md)")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := fmt.Sprintf("sluice_e2e_%d", rand.IntN(1_000_000))
	slot := "e2e_" + strings.TrimPrefix(db, "sluice_e2e_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for i := 0; i < 50; i++ {
			_, _ = admin.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, slot)
			if _, err := admin.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, slot); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	})
	u, _ := url.Parse(dsn)
	u.Path = "/" + db
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE TABLE customers (id serial PRIMARY KEY, first_name text NOT NULL, email text)`)
	exec(`INSERT INTO customers (first_name, email) VALUES ('Sally', 'sally@example.com')`)

	// A worker with the plugin registered, as plugins.Builtin will.
	dir := t.TempDir()
	srv := httptest.NewUnstartedServer(nil)
	cfg := runtime.DefaultWorkerConfig()
	for k, v := range map[string]string{
		"data.dir": filepath.Join(dir, "data"), "broker.listen": "127.0.0.1:0", "broker.sluice.fsync": "false",
		"listeners": "http://" + srv.Listener.Addr().String(), "offset.flush.interval.ms": "200",
		"offset.storage.partitions": "1", "task.shutdown.graceful.timeout.ms": "2000",
	} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatalf("worker config %s: %v", k, err)
		}
	}
	reg := plugins.Builtin()
	if err := reg.Register(plugins.Plugin{Class: postgres.ClassName, Kind: plugins.KindSource, Aliases: []string{postgres.Alias},
		New: func() any { return postgres.NewConnector() }}); err != nil && !strings.Contains(err.Error(), "already") {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	var logMu = make(chan struct{}, 1)
	handler := slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu <- struct{}{}
		defer func() { <-logMu }()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelInfo})
	w, err := runtime.NewWorker(cfg, runtime.Options{Levels: runtime.NewLogLevels(handler, slog.LevelInfo), Registry: reg,
		Version: "e2e", WorkerID: srv.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = rest.New(w.Herder(), rest.Options{})
	srv.Start()
	defer srv.Close()
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.Start(startCtx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = w.Close(cctx)
		if t.Failed() {
			logMu <- struct{}{}
			t.Logf("worker log:\n%s", logs.String())
			<-logMu
		}
	}()

	call := func(method, path string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = strings.NewReader(string(b))
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	// The config a Debezium user would post, unchanged.
	connCfg := map[string]string{
		"connector.class":                "io.debezium.connector.postgresql.PostgresConnector",
		"tasks.max":                      "1",
		"database.hostname":              u.Hostname(),
		"database.port":                  u.Port(),
		"database.user":                  u.User.Username(),
		"database.password":              "unused",
		"database.dbname":                db,
		"topic.prefix":                   "dbserver1",
		"plugin.name":                    "pgoutput",
		"slot.name":                      slot,
		"table.include.list":             "public.customers",
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "true",
		"value.converter.schemas.enable": "true",
		"status.update.interval.ms":      "500",
	}
	connCfg["name"] = "inventory"
	if code, body := call("PUT", "/connector-plugins/PostgresConnector/config/validate", connCfg); code != 200 || !strings.Contains(string(body), `"error_count":0`) {
		t.Fatalf("validate: %d %.2000s", code, body)
	}
	if code, body := call("POST", "/connectors", map[string]any{"name": "inventory", "config": connCfg}); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	waitUntil(t, 60*time.Second, "the task to run", func() bool {
		_, body := call("GET", "/connectors/inventory/status", nil)
		return strings.Count(string(body), `"RUNNING"`) == 2
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.BrokerAddr()), kgo.ConsumeTopics("dbserver1.public.customers"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	type event struct {
		key, value []byte
	}
	var got []event
	read := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for len(got) < n && time.Now().Before(deadline) {
			fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			fs := cl.PollFetches(fctx)
			cancel()
			fs.EachRecord(func(r *kgo.Record) { got = append(got, event{r.Key, r.Value}) })
		}
	}
	// RUNNING comes before the slot exists: changes made before the
	// snapshot are in the snapshot, not streamed. Wait for the snapshot's
	// record, so the changes below are streamed.
	read(1)
	if len(got) != 1 {
		t.Fatalf("read %d records from the topic, want the snapshot's 1", len(got))
	}
	exec(`INSERT INTO customers (first_name, email) VALUES ('George', 'gbailey@example.com')`)
	exec(`UPDATE customers SET email = 'george@example.com' WHERE id = 2`)
	exec(`DELETE FROM customers WHERE id = 1`)
	read(5)
	if len(got) != 5 {
		t.Fatalf("read %d records from the topic, want 5 (r, c, u, d, tombstone)", len(got))
	}
	var ops []string
	for _, e := range got {
		if e.value == nil {
			ops = append(ops, "tombstone")
			continue
		}
		var env struct {
			Schema struct {
				Name string `json:"name"`
			} `json:"schema"`
			Payload struct {
				Op     string          `json:"op"`
				After  json.RawMessage `json:"after"`
				Source struct {
					Connector string `json:"connector"`
					Name      string `json:"name"`
					Table     string `json:"table"`
				} `json:"source"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(e.value, &env); err != nil {
			t.Fatalf("value is not JsonConverter JSON: %v: %s", err, e.value)
		}
		if env.Schema.Name != "dbserver1.public.customers.Envelope" || env.Payload.Source.Connector != "postgresql" ||
			env.Payload.Source.Name != "dbserver1" || env.Payload.Source.Table != "customers" {
			t.Errorf("envelope %s", e.value)
		}
		ops = append(ops, env.Payload.Op)
		if !strings.Contains(string(e.key), `"name":"dbserver1.public.customers.Key"`) {
			t.Errorf("key %s", e.key)
		}
	}
	if strings.Join(ops, ",") != "r,c,u,d,tombstone" {
		t.Fatalf("ops %v", ops)
	}
	// The runtime stored the offsets (Debezium's keys) and called Commit:
	// the slot follows, up to the stored lsn_commit and never beyond it.
	storedCommit := func() int64 {
		_, body := call("GET", "/connectors/inventory/offsets", nil)
		var offs struct {
			Offsets []struct {
				Partition map[string]any `json:"partition"`
				Offset    map[string]any `json:"offset"`
			} `json:"offsets"`
		}
		if json.Unmarshal(body, &offs) != nil || len(offs.Offsets) != 1 || offs.Offsets[0].Partition["server"] != "dbserver1" {
			return 0
		}
		c, _ := offs.Offsets[0].Offset["lsn_commit"].(float64)
		return int64(c)
	}
	waitUntil(t, 30*time.Second, "the slot to confirm the stored position", func() bool {
		var confirmed int64
		_ = admin.QueryRow(ctx, "SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&confirmed)
		stored := storedCommit() // read second: it only grows
		if confirmed > stored && stored > 0 {
			t.Fatalf("the slot confirmed %X, beyond the stored lsn_commit %X", confirmed, stored)
		}
		return stored > 0 && confirmed == stored
	})
	if code, body := call("DELETE", "/connectors/inventory", nil); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
