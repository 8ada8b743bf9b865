// Package pgtest gives integration tests and benchmarks a database of
// their own on the PostgreSQL server that `make test` starts
// (internal/testenv/with-servers.sh exports SLUICE_TEST_PG_DSN).
//
// A missing server is a failure, never a skip: the tests that need one
// are meant to run, and a quiet skip would hide that they did not.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the test server's DSN.
const EnvDSN = "SLUICE_TEST_PG_DSN"

// HowToRun is the failure message when EnvDSN is not set.
const HowToRun = EnvDSN + " is not set: run `make test`, or start a private server with " +
	"`d=$(mktemp -d); chmod 755 $d; export " + EnvDSN + "=$(internal/testenv/postgres.sh start $d/pg)` " +
	"from the repository root, or wrap the command: `internal/testenv/with-servers.sh go test -tags integration ./...`"

// DSN returns the test server's maintenance DSN, failing tb when unset.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		tb.Fatal(HowToRun)
	}
	return dsn
}

// Program returns the path of a program of the installed PostgreSQL
// server (pg_recvlogical, pg_ctl, …), the newest if several are.
func Program(tb testing.TB, name string) string {
	tb.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(bins) == 0 {
		tb.Fatalf("%s not found under /usr/lib/postgresql/*/bin (apt-get install postgresql-15)", name)
	}
	return bins[len(bins)-1]
}

// DB is a database created for one test and dropped, with its
// replication slots, when the test ends.
type DB struct {
	tb    testing.TB
	Name  string
	DSN   string    // postgres://… to this database
	Conn  *pgx.Conn // an open connection to it, closed at cleanup
	admin string
}

// NewDB creates a database named after the test on the test server.
func NewDB(tb testing.TB) *DB {
	tb.Helper()
	return NewDBOn(tb, DSN(tb))
}

// NewDBOn creates a database named after the test on the server that
// admin (a DSN to its maintenance database) reaches.
func NewDBOn(tb testing.TB, admin string) *DB {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connect to %s: %v", admin, err)
	}
	defer conn.Close(ctx)
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	base := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(tb.Name()), "_"), "_")
	if len(base) > 48 {
		base = base[len(base)-48:]
	}
	name := "sl_" + base + "_" + hex.EncodeToString(rnd[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvDSN, err)
	}
	u.Path = "/" + name
	d := &DB{tb: tb, Name: name, DSN: u.String(), admin: admin}
	tb.Cleanup(d.drop)
	if d.Conn, err = pgx.Connect(ctx, d.DSN); err != nil {
		tb.Fatalf("connect to %s: %v", d.DSN, err)
	}
	return d
}

// Exec runs sql on the database, failing the test on error.
func (d *DB) Exec(sql string, args ...any) {
	d.tb.Helper()
	if _, err := d.Conn.Exec(context.Background(), sql, args...); err != nil {
		d.tb.Fatalf("%s: %v", sql, err)
	}
}

// Int runs a query returning one integer (count(*), sum(…)).
func (d *DB) Int(sql string, args ...any) int64 {
	d.tb.Helper()
	var n int64
	if err := d.Conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		d.tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

// Connect opens another connection to the database, closed at cleanup.
func (d *DB) Connect() *pgx.Conn {
	d.tb.Helper()
	c, err := pgx.Connect(context.Background(), d.DSN)
	if err != nil {
		d.tb.Fatalf("connect to %s: %v", d.DSN, err)
	}
	d.tb.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// SourceConfig returns the database.* keys of a Debezium Postgres
// connector config for this database.
func (d *DB) SourceConfig() map[string]string {
	u, _ := url.Parse(d.DSN)
	c := map[string]string{
		"database.hostname": u.Hostname(),
		"database.port":     u.Port(),
		"database.user":     u.User.Username(),
		"database.dbname":   d.Name,
		"database.sslmode":  "disable",
	}
	if p, ok := u.User.Password(); ok {
		c["database.password"] = p
	}
	return c
}

// JDBCURL returns jdbc:postgresql://host:port/name for a JDBC sink, and
// the user and password it connects with.
func (d *DB) JDBCURL() (jdbcURL, user, password string) {
	u, _ := url.Parse(d.DSN)
	password, _ = u.User.Password()
	return fmt.Sprintf("jdbc:postgresql://%s/%s?sslmode=disable", u.Host, d.Name), u.User.Username(), password
}

// drop terminates the database's walsenders, drops its slots and the
// database itself.
func (d *DB) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if d.Conn != nil {
		_ = d.Conn.Close(ctx)
	}
	admin, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		d.tb.Logf("drop database %s: %v", d.Name, err)
		return
	}
	defer admin.Close(ctx)
	for i := 0; i < 50; i++ {
		_, _ = admin.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`, d.Name)
		_, err = admin.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, d.Name)
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.Name}.Sanitize()+" WITH (FORCE)"); err != nil {
		d.tb.Logf("drop database %s: %v", d.Name, err)
	}
}
