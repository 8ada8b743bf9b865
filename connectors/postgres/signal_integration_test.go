//go:build integration

package postgres

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

const signalDDL = `CREATE TABLE public.dbz_signal (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))`

// TestIncrementalSnapshot triggers an incremental snapshot through the
// signalling table while the table changes, and checks that snapshot
// reads and streamed changes together reproduce the table, with the
// reads marked "incremental".
func TestIncrementalSnapshot(t *testing.T) {
	d := newTestDB(t)
	const n = 20_000
	loadBig(t, d, n)
	d.exec(signalDDL)
	cfg := d.config("snapshot.mode", "no_data", "signal.data.collection", "public.dbz_signal",
		"incremental.snapshot.chunk.size", "1000", "table.include.list", "public.big")
	r := openTask(t, cfg, nil)
	r.waitStreaming()
	stop := startWriter(t, d, n)
	d.exec(`INSERT INTO dbz_signal VALUES ('sig-1', 'execute-snapshot', '{"data-collections": ["public.big"], "type": "incremental"}')`)
	var recs []connectors.Record
	waitFor(t, 120*time.Second, "the incremental snapshot to finish", func() bool {
		recs = append(recs, r.quiet(100*time.Millisecond)...)
		p := r.task.Progress()
		return len(p) == 1 && p[0].Done
	})
	stop()
	d.exec(`INSERT INTO big VALUES (-1, 0, 'sentinel')`)
	recs = append(recs, untilSentinel(r)...)

	reads := map[int32]int{}
	for _, rec := range recs {
		if rec.Topic != d.prefix+".public.big" && rec.Value != nil {
			t.Fatalf("record on %s (the signalling table is not captured)", rec.Topic)
		}
		if opOf(rec) == "r" {
			if m := structField(envelopeField(rec, "source"), "snapshot"); m != "incremental" {
				t.Fatalf("read marked %v", m)
			}
			if lsn := structField(envelopeField(rec, "source"), "lsn"); lsn != nil {
				t.Fatalf("incremental read has source.lsn %v (Debezium leaves it out)", lsn)
			}
			reads[structField(envelopeField(rec, "after"), "id").(int32)]++
		}
	}
	for id, c := range reads {
		if c > 1 {
			t.Fatalf("row %d read %d times", id, c)
		}
	}
	if len(reads) < n/2 {
		t.Fatalf("only %d rows read", len(reads))
	}
	got := map[int32]int32{}
	materialize(t, got, recs)
	// Rows never changed during the run exist only through their read.
	want := tableState(t, d)
	for id, v := range want {
		if g, ok := got[id]; !ok || g != v {
			t.Fatalf("row %d: materialized %v (present %v), table %d", id, g, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("materialized %d rows, table has %d", len(got), len(want))
	}
	p := r.task.Progress()
	if !p[0].Incremental || p[0].RowsDone != int64(len(reads)) {
		t.Errorf("progress %+v, reads %d", p, len(reads))
	}
}

// TestIncrementalSnapshotResumes stops the task during an incremental
// snapshot and checks the restarted task continues from the stored chunk
// instead of starting over.
func TestIncrementalSnapshotResumes(t *testing.T) {
	d := newTestDB(t)
	const n = 10_000
	loadBig(t, d, n)
	d.exec(signalDDL)
	cfg := d.config("snapshot.mode", "no_data", "signal.data.collection", "public.dbz_signal",
		"incremental.snapshot.chunk.size", "500", "table.include.list", "public.big")
	store := newMemOffsets()
	r := openTask(t, cfg, store)
	r.waitStreaming()
	d.exec(`INSERT INTO dbz_signal VALUES ('sig-2', 'execute-snapshot', '{"data-collections": ["public\\.b.*"]}')`)
	first := r.pollN(3000, 60*time.Second)
	r.commit(first)
	r.close()

	r2 := openTask(t, cfg, store)
	var rest []connectors.Record
	waitFor(t, 120*time.Second, "the resumed incremental snapshot to finish", func() bool {
		rest = append(rest, r2.quiet(100*time.Millisecond)...)
		for _, p := range r2.task.Progress() {
			if p.Done {
				return true
			}
		}
		return false
	})
	rest = append(rest, r2.quiet(500*time.Millisecond)...)
	ids := map[int32]bool{}
	for _, rec := range append(first, rest...) {
		if opOf(rec) == "r" {
			ids[structField(envelopeField(rec, "after"), "id").(int32)] = true
		}
	}
	if len(ids) != n {
		t.Fatalf("%d distinct rows read across the restart, want %d", len(ids), n)
	}
	if total := len(first) + len(rest); total > n+1000 {
		t.Errorf("%d reads for %d rows: the snapshot started over instead of resuming", total, n)
	}
}
