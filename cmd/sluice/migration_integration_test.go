//go:build integration

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/broker/brokertest"
	"github.com/sluicedata/sluice/internal/pgtest"
)

const migrationRows = 1_000_000

// migrationDDL is the source table: one column of each type a migration
// commonly carries, with nulls, and a text column TOASTed out of line in a
// few rows (updates that leave it alone send Debezium's unavailable-value
// placeholder, which the sink must not write).
const migrationDDL = `CREATE TABLE mig (
	id      bigint PRIMARY KEY,
	name    text NOT NULL,
	code    varchar(32),
	qty     integer,
	price   numeric(12,2),
	active  boolean,
	created timestamptz,
	day     date,
	attrs   jsonb,
	ref     uuid,
	note    text)`

// migrationFill inserts rows [from, to]; one in 10,000 gets a 6,400-byte
// incompressible note, stored out of line.
const migrationFill = `INSERT INTO mig
SELECT g, 'customer ' || g, 'C-' || (g % 997),
	CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 1000)::int END,
	(g % 1000000) / 100.0,
	CASE WHEN g % 11 = 0 THEN NULL ELSE g % 2 = 0 END,
	'2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' + (g % 1000) * interval '1 microsecond',
	'2000-01-01'::date + (g % 10000)::int,
	CASE WHEN g % 13 = 0 THEN NULL ELSE jsonb_build_object('g', g, 'tag', 't' || (g % 10), 'ok', g % 3 = 0) END,
	md5(g::text)::uuid,
	CASE WHEN g % 10000 = 0 THEN (SELECT string_agg(md5(g::text || '/' || i), '') FROM generate_series(1, 200) i) END
FROM generate_series($1::bigint, $2::bigint) g`

// migrationRowText is one row as canonical text, each column cast to the
// source's type (the sink creates varchar as text, for instance) and the
// instant in UTC, so that both sides compare whatever types the sink chose.
const migrationRowText = `format('%s|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L', id, name, code::text, qty::integer,
	price::numeric(12,2), active::boolean, to_char(created::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
	day::date, attrs::jsonb, ref::uuid, note)`

// TestMigrationMillionRows migrates a table of a million rows of mixed
// types from one PostgreSQL database to another through a `sluice worker`
// process (embedded broker, connectors created over REST): the Debezium
// source snapshots it while a writer commits inserts, updates (of rows
// the snapshot has not reached yet too, of TOASTed rows, of keys) and
// deletes, and the JDBC sink (upsert by record key, deletes, table
// auto-created) applies the events. It ends when the target table has the
// same rows with the same content as the source.
func TestMigrationMillionRows(t *testing.T) {
	bin := brokertest.Binary(t)
	src, dst := pgtest.NewDB(t), pgtest.NewDB(t)
	t0 := time.Now()
	src.Exec(migrationDDL)
	src.Exec(migrationFill, 1, migrationRows)
	src.Exec(`VACUUM ANALYZE mig`)
	t.Logf("source table of %d rows created in %v", migrationRows, time.Since(t0).Round(time.Millisecond))

	p, broker := startCDCWorker(t, bin)
	const topic = "mig.public.mig"
	slot := src.Name // slot names are cluster-wide: the database's name is unique
	start := time.Now()
	restCreateConnector(t, p.url, "mig-source", debeziumSourceConfig(src, map[string]string{
		"topic.prefix":       "mig",
		"table.include.list": "public.mig",
		"slot.name":          slot,
		"snapshot.mode":      "initial",
	}))
	url, user, password := dst.JDBCURL()
	restCreateConnector(t, p.url, "mig-sink", map[string]string{
		"connector.class":                "io.debezium.connector.jdbc.JdbcSinkConnector",
		"topics":                         topic,
		"connection.url":                 url,
		"connection.username":            user,
		"connection.password":            password,
		"insert.mode":                    "upsert",
		"primary.key.mode":               "record_key",
		"delete.enabled":                 "true",
		"auto.create":                    "true",
		"schema.evolution":               "basic",
		"table.name.format":              "mig_target",
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "true",
		"value.converter.schemas.enable": "true",
	})

	// The writer starts once the slot exists: the snapshot then holds
	// exactly the rows above, and everything the writer commits is
	// streamed after them.
	waitFor(t, 60*time.Second, "the source's replication slot", func() error {
		if src.Int(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot) == 0 {
			return fmt.Errorf("no slot %s yet", slot)
		}
		return p.requireConnectors(t, "mig-source")
	})
	adm := newBrokerAdmin(t, broker)
	w := startMigrationWriter(t, src, uint64(start.UnixNano()))

	// Go on writing until the snapshot is all on the topic (the first
	// migrationRows records), and for 40 transactions after.
	firstOnTopic := int64(-1)
	waitFor(t, 3*time.Minute, "the snapshot on the topic", func() error {
		w.check(t)
		if firstOnTopic < 0 && w.rounds() > 0 {
			firstOnTopic = topicRecords(adm, topic)
		}
		if n := topicRecords(adm, topic); n < migrationRows {
			return fmt.Errorf("%d of %d snapshot records on %s", n, migrationRows, topic)
		}
		return p.requireConnectors(t, "mig-source", "mig-sink")
	})
	snapshotDone := time.Since(start)
	after := w.rounds() + 40
	waitFor(t, time.Minute, "the writer's last transactions", func() error {
		w.check(t)
		if n := w.rounds(); n < after {
			return fmt.Errorf("%d of %d transactions", n, after)
		}
		return nil
	})
	if err := w.stop(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	t.Logf("writer: %d transactions (the first committed when %d of %d snapshot records were on the topic): %s",
		w.rounds(), firstOnTopic, migrationRows, w.summary())

	wantCount, wantSum := migrationChecksum(t, src.Conn, "mig")
	var gotCount int64
	var gotSum string
	deadline := time.Now().Add(4 * time.Minute)
	for {
		_ = p.requireConnectors(t, "mig-source", "mig-sink")
		if dst.Int(`SELECT count(*) FROM pg_class WHERE relname = 'mig_target'`) == 1 {
			if gotCount = dst.Int(`SELECT count(*) FROM mig_target`); gotCount == wantCount {
				if _, gotSum = migrationChecksum(t, dst.Conn, "mig_target"); gotSum == wantSum {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the target has %d rows (source %d), checksum %s (source %s); first differences:\n%s",
				time.Since(start).Round(time.Second), gotCount, wantCount, gotSum, wantSum, migrationDiff(t, src.Conn, dst.Conn))
		}
		time.Sleep(250 * time.Millisecond)
	}
	took := time.Since(start)
	var types []string
	rows, err := dst.Conn.Query(context.Background(), `SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = 'mig_target'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)
	if err == nil {
		types, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("migrated %d rows plus %d changes in %v (snapshot on the topic after %v): %.0f rows/s; the sink created (%s)",
		migrationRows, w.changes(), took.Round(time.Millisecond), snapshotDone.Round(time.Millisecond),
		float64(migrationRows+w.changes())/took.Seconds(), strings.Join(types, ", "))
}

// migrationWriter commits transactions of inserts, updates and deletes to
// the source table until stopped.
type migrationWriter struct {
	conn     *pgx.Conn
	rnd      *rand.Rand
	halt     chan struct{} // closed by stop
	done     chan struct{} // closed when run returns, after err is set
	err      error
	stopOnce sync.Once

	mu struct {
		sync.Mutex
		n, ins, upd, del, moved int64 // transactions and rows committed
	}
}

// startMigrationWriter starts a writer on its own connection to db; it
// is stopped at the latest when the test ends.
func startMigrationWriter(t *testing.T, db *pgtest.DB, seed uint64) *migrationWriter {
	w := &migrationWriter{conn: db.Connect(), rnd: rand.New(rand.NewPCG(seed, 1)),
		halt: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.err = w.run()
	}()
	t.Cleanup(func() { _ = w.stop() }) // before the connection closes
	t.Logf("writer seed %d", seed)
	return w
}

// stop stops the writer and returns its error.
func (w *migrationWriter) stop() error {
	w.stopOnce.Do(func() { close(w.halt) })
	<-w.done
	return w.err
}

// check fails the test if the writer stopped with an error.
func (w *migrationWriter) check(t *testing.T) {
	t.Helper()
	select {
	case <-w.done:
		if w.err != nil {
			t.Fatalf("writer: %v", w.err)
		}
	default:
	}
}

func (w *migrationWriter) rounds() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mu.n
}

func (w *migrationWriter) changes() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mu.ins + w.mu.upd + w.mu.del + w.mu.moved
}

func (w *migrationWriter) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return fmt.Sprintf("%d inserted, %d updated, %d deleted, %d keys changed", w.mu.ins, w.mu.upd, w.mu.del, w.mu.moved)
}

// run writes one transaction every 50 ms. Round r inserts ids
// 2,000,000 + 200r…, updates random rows (half of them in the last tenth
// of the table, which the snapshot reads last), rows with a TOASTed note
// (leaving the note alone), rows inserted in earlier rounds, deletes random
// rows, and moves a few rows to a new key.
func (w *migrationWriter) run() error {
	ctx := context.Background()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for r := 0; ; r++ {
		select {
		case <-w.halt:
			return nil
		case <-tick.C:
		}
		tx, err := w.conn.Begin(ctx)
		if err != nil {
			return err
		}
		var ins, upd, del, moved int64
		exec := func(n *int64, sql string, args ...any) {
			if err != nil {
				return
			}
			var tag interface{ RowsAffected() int64 }
			tag, err = tx.Exec(ctx, sql, args...)
			if err == nil {
				*n += tag.RowsAffected()
			}
		}
		from := int64(2_000_000 + 200*r)
		exec(&ins, migrationFill, from, from+199)
		ids := make([]int64, 0, 300)
		for range 150 {
			ids = append(ids, 900_001+w.rnd.Int64N(100_000))
			ids = append(ids, 1+w.rnd.Int64N(migrationRows))
		}
		exec(&upd, `UPDATE mig SET name = name || '*', qty = CASE WHEN qty % 5 = 0 THEN NULL ELSE coalesce(qty, 0) + 1 END,
			price = coalesce(price, 0) + 0.01, active = NOT coalesce(active, false), created = created + interval '1.5 ms',
			day = day + 1, attrs = coalesce(attrs, '{}') || jsonb_build_object('round', $2::int), code = NULL
			WHERE id = ANY($1)`, ids, r)
		toasted := []int64{10_000 * (1 + w.rnd.Int64N(100)), 10_000 * (1 + w.rnd.Int64N(100))}
		exec(&upd, `UPDATE mig SET qty = coalesce(qty, 0) + 1, name = name || '#' WHERE id = ANY($1)`, toasted)
		if r > 0 {
			lo := int64(2_000_000 + 200*w.rnd.IntN(r) + w.rnd.IntN(180))
			exec(&upd, `UPDATE mig SET price = price + 1, ref = gen_random_uuid() WHERE id BETWEEN $1 AND $2`, lo, lo+19)
		}
		del1 := make([]int64, 0, 100)
		for range 100 {
			del1 = append(del1, 1+w.rnd.Int64N(migrationRows))
		}
		exec(&del, `DELETE FROM mig WHERE id = ANY($1)`, del1)
		// Keys 500,001… move to 5,000,001…: Debezium sends a delete, a
		// tombstone and a create.
		exec(&moved, `UPDATE mig SET id = id + 4500000, name = name || '>' WHERE id BETWEEN $1 AND $2`,
			int64(500_001+5*r), int64(500_001+5*r+4))
		if err == nil {
			err = tx.Commit(ctx)
		}
		if err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("round %d: %w", r, err)
		}
		w.mu.Lock()
		w.mu.n++
		w.mu.ins += ins
		w.mu.upd += upd
		w.mu.del += del
		w.mu.moved += moved
		w.mu.Unlock()
	}
}

// migrationChecksum returns the table's row count and the md5 of its
// rows' canonical texts in key order.
func migrationChecksum(t *testing.T, conn *pgx.Conn, table string) (int64, string) {
	t.Helper()
	var n int64
	var sum string
	err := conn.QueryRow(context.Background(), `SELECT count(*), coalesce(md5(string_agg(md5(`+migrationRowText+`), '' ORDER BY id)), '')
		FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n, &sum)
	if err != nil {
		t.Fatalf("checksum of %s: %v", table, err)
	}
	return n, sum
}

// migrationDiff lists the first keys whose rows differ between the source
// and target tables, with both rows' texts.
func migrationDiff(t *testing.T, src, dst *pgx.Conn) string {
	t.Helper()
	read := func(conn *pgx.Conn, table string) map[int64]string {
		rows, err := conn.Query(context.Background(), `SELECT id, `+migrationRowText+` FROM `+table)
		if err != nil {
			return map[int64]string{-1: err.Error()}
		}
		defer rows.Close()
		m := map[int64]string{}
		for rows.Next() {
			var id int64
			var s string
			if err := rows.Scan(&id, &s); err != nil {
				return map[int64]string{-1: err.Error()}
			}
			m[id] = s
		}
		if err := rows.Err(); err != nil {
			m[-1] = err.Error()
		}
		return m
	}
	want, got := read(src, "mig"), read(dst, "mig_target")
	var diffs []int64
	for id, s := range want {
		if got[id] != s {
			diffs = append(diffs, id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			diffs = append(diffs, id)
		}
	}
	slices.Sort(diffs)
	var b strings.Builder
	fmt.Fprintf(&b, "%d keys differ\n", len(diffs))
	row := func(m map[int64]string, id int64) string {
		if s, ok := m[id]; ok {
			return s
		}
		return "(no row)"
	}
	for _, id := range diffs[:min(len(diffs), 8)] {
		fmt.Fprintf(&b, "  id %d\n    source %.300s\n    target %.300s\n", id, row(want, id), row(got, id))
	}
	return b.String()
}
