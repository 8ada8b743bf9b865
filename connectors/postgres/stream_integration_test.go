//go:build integration

package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

func TestStreamEnvelopes(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE public.customers (
		id serial PRIMARY KEY,
		first_name varchar(255) NOT NULL,
		last_name text,
		email text UNIQUE,
		status text NOT NULL DEFAULT 'new',
		score numeric(10,2) DEFAULT 0)`)
	d.exec(`COMMENT ON COLUMN public.customers.email IS 'contact address'`)
	d.exec(`INSERT INTO customers (first_name, last_name, email, score) VALUES ('Sally', 'Thomas', 'sally@example.com', 12.5)`)

	r := openTask(t, d.config("skipped.operations", "none"), nil)
	snap := r.pollN(1, 30*time.Second)
	if len(snap) != 1 || opOf(snap[0]) != "r" {
		t.Fatalf("snapshot: %d records, op %q", len(snap), opOf(snap[0]))
	}
	if got := structField(envelopeField(snap[0], "source"), "snapshot"); got != "last" {
		t.Errorf("snapshot marker = %v, want last", got)
	}

	d.exec(`INSERT INTO customers (first_name, last_name, email) VALUES ('George', 'Bailey', 'gbailey@example.com')`)
	d.exec(`UPDATE customers SET last_name = 'Walker' WHERE id = 2`)
	d.exec(`UPDATE customers SET id = 20 WHERE id = 2`)
	d.exec(`DELETE FROM customers WHERE id = 20`)
	d.exec(`TRUNCATE customers`)
	// c, u, d+tombstone+c (key change), d+tombstone, t
	recs := r.pollN(8, 30*time.Second)
	ops := make([]string, len(recs))
	for i, rec := range recs {
		ops[i] = opOf(rec)
		if rec.Value == nil {
			ops[i] = "tombstone"
		}
	}
	want := []string{"c", "u", "d", "tombstone", "c", "d", "tombstone", "t"}
	if strings.Join(ops, ",") != strings.Join(want, ",") {
		t.Fatalf("ops = %v, want %v", ops, want)
	}
	golden(t, "envelopes.golden", goldenRecords(t, append(snap, recs...)))

	// Offsets are Debezium's keys.
	off := recs[0].SourceOffset
	for _, k := range []string{"lsn", "lsn_proc", "lsn_commit", "txId", "ts_usec", "messageType"} {
		if _, ok := off[k]; !ok {
			t.Errorf("stream offset %v lacks %q", off, k)
		}
	}
	if p := recs[0].SourcePartition; p["server"] != d.prefix {
		t.Errorf("partition = %v", p)
	}
}

func TestTruncateSkippedByDefault(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	r := openTask(t, d.config(), nil)
	r.waitStreaming()
	d.exec(`INSERT INTO t VALUES (1)`)
	d.exec(`TRUNCATE t`)
	d.exec(`INSERT INTO t VALUES (2)`)
	recs := r.pollN(2, 30*time.Second)
	for _, rec := range recs {
		if opOf(rec) == "t" {
			t.Fatalf("truncate emitted although skipped.operations defaults to t")
		}
	}
	if got := structField(envelopeField(recs[1], "after"), "id"); got != int32(2) {
		t.Fatalf("second record id = %v", got)
	}
}

func TestReplicaIdentityAndToast(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE def (id int PRIMARY KEY, big text, n int)`)
	d.exec(`CREATE TABLE full_t (id int PRIMARY KEY, big text, n int)`)
	d.exec(`ALTER TABLE full_t REPLICA IDENTITY FULL`)
	// A value large and random enough to be TOASTed out of line.
	big := strings.Repeat(fmt.Sprintf("%x", time.Now().UnixNano()), 1) + randomText(20000)
	d.exec(`INSERT INTO def VALUES (1, $1, 1)`, big)
	d.exec(`INSERT INTO full_t VALUES (1, $1, 1)`, big)
	r := openTask(t, d.config("snapshot.mode", "no_data"), nil)
	r.waitStreaming()
	d.exec(`UPDATE def SET n = 2 WHERE id = 1`)
	d.exec(`UPDATE full_t SET n = 2 WHERE id = 1`)
	d.exec(`DELETE FROM def WHERE id = 1`)
	d.exec(`DELETE FROM full_t WHERE id = 1`)
	recs := dataRecords(r.pollN(6, 30*time.Second))
	byTopic := func(topic, op string) connectors.Record {
		for _, rec := range recs {
			if strings.HasSuffix(rec.Topic, topic) && opOf(rec) == op {
				return rec
			}
		}
		t.Fatalf("no %s record on %s", op, topic)
		return connectors.Record{}
	}
	// DEFAULT: no before on update; the unchanged TOASTed value is the placeholder.
	u := byTopic(".public.def", "u")
	if b := envelopeField(u, "before"); b != nil && b.(*connectors.Struct) != nil {
		t.Errorf("REPLICA IDENTITY DEFAULT update has a before image: %v", b)
	}
	if got := structField(envelopeField(u, "after"), "big"); got != DefaultToastPlaceholder {
		t.Errorf("unchanged TOAST value = %.40v, want the placeholder", got)
	}
	// DEFAULT delete: before holds the key; other columns null.
	del := byTopic(".public.def", "d")
	if got := structField(envelopeField(del, "before"), "id"); got != int32(1) {
		t.Errorf("delete before.id = %v", got)
	}
	if got := structField(envelopeField(del, "before"), "big"); got != nil {
		t.Errorf("delete before.big = %.40v, want null", got)
	}
	// FULL: before and after complete, TOAST value included.
	uf := byTopic(".public.full_t", "u")
	if got := structField(envelopeField(uf, "before"), "n"); got != int32(1) {
		t.Errorf("FULL before.n = %v", got)
	}
	if got := structField(envelopeField(uf, "after"), "big"); got != big {
		t.Errorf("FULL after.big differs from the stored value (%.40v…)", got)
	}
	if got := structField(envelopeField(byTopic(".public.full_t", "d"), "before"), "big"); got != big {
		t.Errorf("FULL delete before.big differs")
	}
}

func randomText(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	seed := uint64(time.Now().UnixNano())
	for i := range b {
		seed = seed*6364136223846793005 + 1442695040888963407
		b[i] = letters[(seed>>33)%uint64(len(letters))]
	}
	return string(b)
}

func TestNewColumnMidStream(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE items (id int PRIMARY KEY, name text)`)
	r := openTask(t, d.config("snapshot.mode", "no_data"), nil)
	r.waitStreaming()
	d.exec(`INSERT INTO items VALUES (1, 'a')`)
	first := r.pollN(1, 30*time.Second)
	d.exec(`ALTER TABLE items ADD COLUMN price numeric(8,2) NOT NULL DEFAULT 1.50`)
	d.exec(`INSERT INTO items VALUES (2, 'b', 9.99)`)
	d.exec(`UPDATE items SET name = 'aa' WHERE id = 1`)
	recs := r.pollN(2, 30*time.Second)
	if _, ok := first[0].ValueSchema.Field("after"); !ok {
		t.Fatal("no after field")
	}
	after := func(rec connectors.Record) *connectors.Struct {
		return envelopeField(rec, "after").(*connectors.Struct)
	}
	if _, ok := after(first[0]).Schema().Field("price"); ok {
		t.Fatal("first record already has price")
	}
	f, ok := after(recs[0]).Schema().Field("price")
	if !ok {
		t.Fatalf("record after ALTER TABLE lacks the new column: %v", after(recs[0]))
	}
	if f.Schema().Name() != connectors.DecimalLogicalName || f.Schema().Optional() {
		t.Errorf("price schema = %v optional=%v", f.Schema(), f.Schema().Optional())
	}
	if def, ok := f.Schema().Default().(connectors.Decimal); !ok || def.String() != "1.50" {
		t.Errorf("price default = %v", f.Schema().Default())
	}
	if got := structField(after(recs[0]), "price"); got.(connectors.Decimal).String() != "9.99" {
		t.Errorf("price = %v", got)
	}
	if got := structField(after(recs[1]), "price"); got.(connectors.Decimal).String() != "1.50" {
		t.Errorf("price of the old row after update = %v", got)
	}
}

func TestHeartbeatAdvancesIdleSlot(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE captured (id int PRIMARY KEY)`)
	d.exec(`CREATE TABLE other (id int PRIMARY KEY)`)
	r := openTask(t, d.config("snapshot.mode", "no_data", "table.include.list", "public.captured", "heartbeat.interval.ms", "200"), nil)
	r.waitStreaming()
	start := d.slotConfirmed()
	// Only uncaptured changes: without heartbeats no offset could be
	// committed and the slot would hold the WAL.
	for i := 0; i < 20; i++ {
		d.exec(`INSERT INTO other VALUES ($1)`, i)
	}
	var beats []connectors.Record
	waitFor(t, 30*time.Second, "the slot to move past the uncaptured changes", func() bool {
		recs, err := r.task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			if !strings.HasPrefix(rec.Topic, "__debezium-heartbeat."+d.prefix) {
				t.Fatalf("unexpected record on %s", rec.Topic)
			}
			beats = append(beats, rec)
		}
		r.commit(recs)
		return d.slotConfirmed() > start+1000
	})
	hb := beats[len(beats)-1]
	if hb.KeySchema.Name() != "io.debezium.connector.common.ServerNameKey" || hb.ValueSchema.Name() != "io.debezium.connector.common.Heartbeat" {
		t.Errorf("heartbeat schemas %v %v", hb.KeySchema, hb.ValueSchema)
	}
	if v := structField(hb.Key, "serverName"); v != d.prefix {
		t.Errorf("heartbeat key = %v", v)
	}
}

func TestLSNConfirmedOnlyOnCommit(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	r := openTask(t, d.config("snapshot.mode", "no_data"), nil)
	r.waitStreaming()
	start := d.slotConfirmed()
	for i := 0; i < 10; i++ {
		d.exec(`INSERT INTO t VALUES ($1)`, i)
	}
	recs := r.pollN(10, 30*time.Second)
	time.Sleep(600 * time.Millisecond) // several status updates
	if got := d.slotConfirmed(); got != start {
		t.Fatalf("slot confirmed %X before any Commit (was %X)", got, start)
	}
	r.commit(recs[:5])
	want := uint64(recs[4].SourceOffset["lsn_commit"].(int64))
	waitFor(t, 10*time.Second, "the slot to confirm the committed offset", func() bool { return d.slotConfirmed() == want })
	r.commit(recs)
	// With everything stored the idle slot may confirm past the last
	// transaction too.
	want = uint64(recs[9].SourceOffset["lsn_commit"].(int64))
	waitFor(t, 10*time.Second, "the slot to confirm the second offset", func() bool { return d.slotConfirmed() >= want })
}

func TestSlotAheadOfOffsetFails(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	store := newMemOffsets()
	cfg := d.config("snapshot.mode", "no_data")
	r := openTask(t, cfg, store)
	r.waitStreaming()
	d.exec(`INSERT INTO t VALUES (1)`)
	recs := r.pollN(1, 30*time.Second)
	store.store(recs) // stored, but never confirmed
	r.close()
	// Another consumer moves the slot past the stored offset.
	d.exec(`INSERT INTO t VALUES (2)`)
	d.exec(`INSERT INTO t VALUES (3)`)
	var lsn string
	if err := d.conn.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the slot to be released", func() bool {
		var active bool
		_ = d.conn.QueryRow(context.Background(), "SELECT active FROM pg_replication_slots WHERE slot_name = $1", d.slot).Scan(&active)
		return !active
	})
	d.exec(`SELECT pg_replication_slot_advance($1, $2::pg_lsn)`, d.slot, lsn)

	r2 := openTask(t, cfg, store)
	err := r2.pollErr(30 * time.Second)
	if !errors.Is(err, ErrSlotAhead) {
		t.Fatalf("Poll error = %v, want ErrSlotAhead", err)
	}
	if !strings.Contains(err.Error(), "snapshot.mode=when_needed") {
		t.Errorf("error does not say what to do: %v", err)
	}
	r2.close()

	// when_needed recovers with a snapshot.
	cfg["snapshot.mode"] = "when_needed"
	r3 := openTask(t, cfg, store)
	got := r3.pollN(3, 30*time.Second)
	for _, rec := range got {
		if opOf(rec) != "r" {
			t.Fatalf("when_needed: op %s, want snapshot reads", opOf(rec))
		}
	}
}

func TestSlotMissingFails(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	store := newMemOffsets()
	cfg := d.config("snapshot.mode", "no_data")
	r := openTask(t, cfg, store)
	r.waitStreaming()
	d.exec(`INSERT INTO t VALUES (1)`)
	r.commit(r.pollN(1, 30*time.Second))
	r.close()
	waitFor(t, 10*time.Second, "the slot to be released", func() bool {
		_, err := d.conn.Exec(context.Background(), "SELECT pg_drop_replication_slot($1)", d.slot)
		return err == nil
	})
	r2 := openTask(t, cfg, store)
	if err := r2.pollErr(30 * time.Second); !errors.Is(err, ErrSlotMissing) {
		t.Fatalf("Poll error = %v, want ErrSlotMissing", err)
	}
}

func TestSlotDropOnStop(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	r := openTask(t, d.config("snapshot.mode", "no_data", "slot.drop.on.stop", "true"), nil)
	r.waitStreaming()
	exists := func() bool {
		var n int
		_ = d.conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", d.slot).Scan(&n)
		return n == 1
	}
	if !exists() {
		t.Fatal("no slot while streaming")
	}
	r.close()
	if exists() {
		t.Fatal("slot.drop.on.stop=true left the slot behind")
	}
}
