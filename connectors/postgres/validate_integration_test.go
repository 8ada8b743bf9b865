//go:build integration

package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluicedata/sluice/connectors"
)

// errorsByKey returns the validation errors per key.
func errorsByKey(vals []connectors.ConfigValue) map[string]string {
	out := map[string]string{}
	for _, v := range vals {
		if len(v.Errors) > 0 {
			out[v.Name] = strings.Join(v.Errors, " | ")
		}
	}
	return out
}

func expectError(t *testing.T, errs map[string]string, key, fragment string) {
	t.Helper()
	if !strings.Contains(errs[key], fragment) {
		t.Errorf("%s: error %q does not contain %q (all errors: %v)", key, errs[key], fragment, errs)
	}
}

func TestValidateConfigKeys(t *testing.T) {
	d := newTestDB(t)
	cfg := d.config("snapshot.mode", "sometimes", "plugin.name", "decoderbufs",
		"table.include.list", "public.a", "table.exclude.list", "public.b", "max.queue.size", "10", "max.batch.size", "20",
		"decimal.handling.mode", "exact", "publication.autocreate.mode", "maybe")
	delete(cfg, "topic.prefix")
	errs := errorsByKey(NewConnector().(*Connector).ValidateConfig(context.Background(), cfg))
	expectError(t, errs, KeyTopicPrefix, "Missing required configuration")
	expectError(t, errs, KeySnapshotMode, "sometimes")
	expectError(t, errs, KeyDecimalMode, "exact")
	expectError(t, errs, KeyPubAutocreate, "maybe")
	// Cross-key problems are reported once the keys parse.
	cfg["topic.prefix"] = "p"
	cfg["snapshot.mode"] = "initial"
	cfg["decimal.handling.mode"] = "precise"
	cfg["publication.autocreate.mode"] = "filtered"
	errs = errorsByKey(NewConnector().(*Connector).ValidateConfig(context.Background(), cfg))
	expectError(t, errs, KeyPluginName, "pgoutput")
	expectError(t, errs, KeyTableExclude, "mutually exclusive")
	expectError(t, errs, KeyMaxQueueSize, "larger than max.batch.size")
	if len(errs) != 3 {
		t.Errorf("errors: %v", errs)
	}
}

func TestValidateConfigServer(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE orders (id int PRIMARY KEY)`)
	c := NewConnector().(*Connector)
	ctx := context.Background()
	if errs := errorsByKey(c.ValidateConfig(ctx, d.config("table.include.list", "public.orders"))); len(errs) > 0 {
		t.Fatalf("valid config: %v", errs)
	}
	// A missing table, a missing publication that may not be created.
	errs := errorsByKey(c.ValidateConfig(ctx, d.config("table.include.list", "public.orders,public.nosuch",
		"publication.autocreate.mode", "disabled", "publication.name", "nopub", "signal.data.collection", "public.signals")))
	expectError(t, errs, KeyTableInclude, `"public.nosuch" matches no table`)
	expectError(t, errs, KeyPublication, "CREATE PUBLICATION nopub")
	expectError(t, errs, KeySignalTable, "CREATE TABLE public.signals")

	// A user without REPLICATION, who cannot read the table either.
	role := "norepl_" + d.slot
	d.exec(`CREATE ROLE ` + role + ` LOGIN`)
	t.Cleanup(func() { _, _ = d.conn.Exec(context.Background(), "DROP OWNED BY "+role+"; DROP ROLE "+role) })
	errs = errorsByKey(c.ValidateConfig(ctx, d.config("database.user", role, "publication.autocreate.mode", "filtered")))
	expectError(t, errs, KeyUser, "ALTER ROLE "+role+" WITH REPLICATION")
	expectError(t, errs, KeyUser, "GRANT SELECT ON public.orders")

	// Wrong user, wrong database, nothing listening.
	errs = errorsByKey(c.ValidateConfig(ctx, d.config("database.user", "nosuchuser")))
	expectError(t, errs, KeyUser, `role "nosuchuser" does not exist`)
	errs = errorsByKey(c.ValidateConfig(ctx, d.config("database.dbname", "nosuchdb")))
	expectError(t, errs, KeyDBName, `database "nosuchdb" does not exist`)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	errs = errorsByKey(c.ValidateConfig(ctx, d.config("database.port", fmt.Sprint(port), "database.connect.timeout.ms", "2000")))
	expectError(t, errs, KeyHostname, "cannot connect")
}

// TestOpenSetupErrors checks that a task whose database is not ready
// fails with an error that says how to fix it.
func TestOpenSetupErrors(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE orders (id int PRIMARY KEY)`)
	_, err := tryOpenTask(t, d.config("publication.autocreate.mode", "disabled", "publication.name", "nopub"), nil)
	if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), "CREATE PUBLICATION nopub") {
		t.Errorf("Open with a missing publication: %v", err)
	}
	role := "norepl2_" + d.slot
	d.exec(`CREATE ROLE ` + role + ` LOGIN`)
	t.Cleanup(func() { _, _ = d.conn.Exec(context.Background(), "DROP ROLE "+role) })
	_, err = tryOpenTask(t, d.config("database.user", role), nil)
	if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), "WITH REPLICATION") {
		t.Errorf("Open without REPLICATION: %v", err)
	}
	_, err = tryOpenTask(t, d.config("database.user", "nosuchuser"), nil)
	if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), "database.user") {
		t.Errorf("Open with an unknown user: %v", err)
	}
	if _, err = tryOpenTask(t, d.config("plugin.name", "wal2json"), nil); !errors.Is(err, connectors.ErrInvalidConfig) {
		t.Errorf("Open with plugin wal2json: %v", err)
	}
}

// TestServerRestartAndWalLevel restarts a private server under a
// streaming task, which must reconnect and continue with nothing lost or
// repeated; then sets wal_level=replica and checks the errors.
func TestServerRestartAndWalLevel(t *testing.T) {
	c := startCluster(t)
	d := newTestDBOn(t, c.dsn)
	d.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	cfg := d.config("snapshot.mode", "no_data")
	r := openTask(t, cfg, nil)
	r.waitStreaming()
	for i := 1; i <= 5; i++ {
		d.exec(`INSERT INTO t VALUES ($1)`, i)
	}
	got := r.pollN(5, 30*time.Second)
	// A fast shutdown waits for the client to confirm what it was sent;
	// that happens once the offsets are stored.
	r.commit(got)

	c.pgctl(t, "restart", "-m", "fast", "-w")
	// The task notices, reconnects with backoff and goes on.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i := 6; i <= 10; i++ {
		if _, err := conn.Exec(ctx, `INSERT INTO t VALUES ($1)`, i); err != nil {
			t.Fatal(err)
		}
	}
	got = append(got, r.pollN(5, 60*time.Second)...)
	got = append(got, r.quiet(300*time.Millisecond)...)
	if len(got) != 10 {
		t.Fatalf("got %d records across the restart, want 10", len(got))
	}
	for i, rec := range got {
		if id := structField(envelopeField(rec, "after"), "id"); id != int32(i+1) {
			t.Fatalf("record %d has id %v", i, id)
		}
	}
	r.close()

	// A wrong password (the private cluster can require one).
	if _, err := conn.Exec(ctx, `CREATE ROLE pwuser LOGIN REPLICATION PASSWORD 'right'`); err != nil {
		t.Fatal(err)
	}
	hba := filepath.Join(c.dir, "pg", "data", "pg_hba.conf")
	old, err := os.ReadFile(hba)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hba, append([]byte("host all pwuser 127.0.0.1/32 scram-sha-256\n"), old...), 0o600); err != nil {
		t.Fatal(err)
	}
	c.pgctl(t, "reload")
	errs := errorsByKey(NewConnector().(*Connector).ValidateConfig(ctx, d.config("database.user", "pwuser", "database.password", "wrong")))
	expectError(t, errs, KeyPassword, "password authentication failed")
	if _, err := tryOpenTask(t, d.config("database.user", "pwuser", "database.password", "wrong"), nil); !errors.Is(err, ErrSetup) ||
		!strings.Contains(err.Error(), "check database.user and database.password") {
		t.Errorf("Open with a wrong password: %v", err)
	}
	if errs := errorsByKey(NewConnector().(*Connector).ValidateConfig(ctx, d.config("database.user", "pwuser", "database.password", "right"))); errs[KeyPassword] != "" {
		t.Errorf("right password: %v", errs)
	}

	// wal_level=replica: Validate and Open say what to do.
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET wal_level = replica"); err != nil {
		t.Fatal(err)
	}
	d.conn.Close(ctx)
	// The slot would keep a logical-level server from starting: drop it.
	waitFor(t, 30*time.Second, "the slot to be released and dropped", func() bool {
		_, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", d.slot)
		return err == nil
	})
	c.pgctl(t, "restart", "-m", "fast", "-w")
	d.conn, err = pgx.Connect(ctx, d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	errs = errorsByKey(NewConnector().(*Connector).ValidateConfig(ctx, cfg))
	expectError(t, errs, KeyHostname, "wal_level is replica; set wal_level=logical")
	if _, err := tryOpenTask(t, cfg, nil); !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), "wal_level=logical") {
		t.Errorf("Open with wal_level=replica: %v", err)
	}
}
