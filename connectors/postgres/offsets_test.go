package postgres

import (
	"encoding/json"
	"testing"

	"github.com/jackc/pglogrepl"
)

// roundTrip stores an offset as JSON and reads it back as the runtime
// does (integral numbers become int64 or float64).
func roundTrip(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOffsetsRoundTrip(t *testing.T) {
	m := roundTrip(t, streamOffset(1000, 900, 77, 1700000000000000, "INSERT", 2, nil))
	o, err := decodeOffset(m)
	if err != nil {
		t.Fatal(err)
	}
	if o.lsn != 1000 || o.lsnCommit != 900 || o.txID != 77 || !o.hasTxID || o.eventsAtLSN != 2 || o.snapshot {
		t.Errorf("decoded %+v", o)
	}
	if lsn, ok := flushLSN(m); !ok || lsn != 900 {
		t.Errorf("flushLSN = %v %v, want lsn_commit", lsn, ok)
	}
	snap := roundTrip(t, snapshotOffset(5000, 12, 1, false))
	o, _ = decodeOffset(snap)
	if !o.snapshot || o.snapshotFinished || o.lsn != 5000 {
		t.Errorf("snapshot offset %+v", o)
	}
	if _, ok := flushLSN(snap); ok {
		t.Error("an unfinished snapshot offset allows a flush")
	}
	last := roundTrip(t, snapshotOffset(5000, 12, 1, true))
	if lsn, ok := flushLSN(last); !ok || lsn != 5000 {
		t.Errorf("finished snapshot flushLSN = %v %v", lsn, ok)
	}
	if _, err := decodeOffset(map[string]any{"nolsn": 1}); err == nil {
		t.Error("an offset without lsn decoded")
	}
}

// TestDebeziumOffsetShape reads an offset as Debezium 3.x stores it.
func TestDebeziumOffsetShape(t *testing.T) {
	var m map[string]any
	_ = json.Unmarshal([]byte(`{"transaction_id":null,"lsn_proc":37094192,"messageType":"UPDATE","lsn_commit":37094192,"lsn":37094192,"txId":780,"ts_usec":1700000000000000}`), &m)
	o, err := decodeOffset(m)
	if err != nil {
		t.Fatal(err)
	}
	f := newResumeFilter(o)
	if f.commit != 37094192 || !f.hasTxID || f.txID != 780 {
		t.Errorf("filter %+v", f)
	}
}

func TestResumeFilter(t *testing.T) {
	// Stored: the 2nd event at LSN 120 of transaction 9, whose predecessor
	// ended at 100.
	f := newResumeFilter(storedOffset{lsn: 120, lsnCommit: 100, txID: 9, hasTxID: true, eventsAtLSN: 2})
	if !f.skipTx(90) {
		t.Error("a transaction committed before lsn_commit is not skipped")
	}
	if f.skipTx(150) {
		t.Error("the interrupted transaction is skipped whole")
	}
	for _, c := range []struct {
		lsn  pglogrepl.LSN
		n    int64
		skip bool
	}{{110, 1, true}, {120, 1, true}, {120, 2, true}, {120, 3, false}, {130, 1, false}} {
		g := *f
		if got := g.skipEvent(9, c.lsn, c.n); got != c.skip {
			t.Errorf("event (%d, %d): skip %v, want %v", c.lsn, c.n, got, c.skip)
		}
	}
	// Once an event passes, nothing more is skipped.
	if f.skipEvent(9, 130, 1) || f.skipEvent(9, 110, 1) || f.skipTx(50) {
		t.Error("skipping after the resume point")
	}
	// Another transaction first: nothing of it is skipped.
	g := newResumeFilter(storedOffset{lsn: 120, lsnCommit: 100, txID: 9, hasTxID: true, eventsAtLSN: 2})
	if g.skipEvent(10, 105, 1) {
		t.Error("an event of another transaction skipped")
	}
	// A snapshot position: transactions from lsn on are streamed.
	s := newResumeFilter(storedOffset{snapshot: true, snapshotFinished: true, lsn: 500})
	if !s.skipTx(499) || s.skipTx(500) {
		t.Error("snapshot position filter")
	}
}

func TestIncrementalOffsetKeys(t *testing.T) {
	st := &incrementalState{Tables: []string{"public.a", "public.b"}, LastKey: []string{"10", "x"}, MaxKey: []string{"99", "z"}}
	m := roundTrip(t, st.offsetKeys())
	got, err := decodeIncremental(m[offIncrColls].(string), m[offIncrKey], m[offIncrMax])
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tables) != 2 || got.Tables[1] != "public.b" || got.LastKey[1] != "x" || got.MaxKey[0] != "99" {
		t.Errorf("decoded %+v", got)
	}
	// A Debezium-written key (hex of Java serialisation) restarts the table.
	got, err = decodeIncremental(m[offIncrColls].(string), "aced0005757200", "aced0005")
	if err != nil || got.LastKey != nil || got.MaxKey != nil || len(got.Tables) != 2 {
		t.Errorf("Debezium key: %+v %v", got, err)
	}
}
