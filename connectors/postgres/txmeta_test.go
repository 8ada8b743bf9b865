package postgres

import (
	"bufio"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/sluicedata/sluice/connectors"
)

// txTestTables returns public.customers (id, name) and public.orders (id,
// qty) as the stream builds their schemas, with provide.transaction.metadata.
func txTestTables(t *testing.T, kv ...string) (Config, *tableSchema, *tableSchema) {
	t.Helper()
	cfg, err := ParseConfig(baseConfig(append([]string{"provide.transaction.metadata", "true", "skipped.operations", "none"}, kv...)...))
	if err != nil {
		t.Fatal(err)
	}
	tm := &typeMapper{decimal: "precise", time: "adaptive", binary: "bytes", interval: "numeric", placeholder: "x",
		types: func(oid uint32) *pgType { return &pgType{OID: oid, Kind: 'b'} }}
	f := &schemaFactory{cfg: cfg, filters: newFilters(cfg), types: tm}
	build := func(name, col string, typ uint32) *tableSchema {
		meta := &tableMeta{ID: tableID{"public", name}, Key: []string{"id"}, Columns: []catalogColumn{
			{Name: "id", TypeOID: oidInt4, TypeMod: -1, NotNull: true}, {Name: col, TypeOID: typ, TypeMod: -1}}}
		ts, err := f.build(meta, catalogColumns(meta))
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	return cfg, build("customers", "name", oidText), build("orders", "qty", oidInt4)
}

// txStream drives a streamer's transaction metadata the way message
// drives it, without a connection.
type txStream struct {
	t   *testing.T
	st  *streamer
	now procTime
}

var txCommitTime = time.Date(2017, 2, 7, 20, 49, 37, 125123000, time.UTC)

// txFinalLSN is the commit record's LSN in txExample (the end of the
// record is 53195900).
const txFinalLSN = 53195890

func newTxStream(t *testing.T, cfg Config, stored *storedOffset) *txStream {
	task := &Task{cfg: cfg, events: newEventBuilder(cfg, 0, "run")}
	st := &streamer{t: task, cfg: cfg, lastCommitEnd: 53195000}
	if cfg.ProvideTransactionMetadata {
		st.tx = newTxMonitor(cfg)
	}
	if stored != nil {
		st.filter = newResumeFilter(*stored)
	}
	return &txStream{t: t, st: st, now: newProcTime(time.Date(2017, 2, 7, 20, 49, 38, 0, time.UTC))}
}

func (x *txStream) begin(xid uint32, lsn pglogrepl.LSN) {
	st := x.st
	st.inTx, st.xid, st.commitTime, st.txSource = true, xid, txCommitTime, nil
	st.lastLSN, st.nAtLSN = 0, 0
	st.skipTx = st.filter.skipTx(txFinalLSN)
	if !st.skipTx && st.tx != nil {
		if err := st.beginTx(context.Background(), lsn); err != nil {
			x.t.Fatal(err)
		}
	}
}

func (x *txStream) change(ts *tableSchema, kind byte, lsn pglogrepl.LSN, oldRow, newRow []any) {
	st := x.st
	n, skip := st.countEvent(lsn)
	if skip {
		return
	}
	op := map[byte]string{msgInsert: opCreate, msgUpdate: opUpdate, msgDelete: opDelete}[kind]
	if st.cfg.skipsChange(op) {
		return
	}
	boxed := any(int64(lsn))
	var err error
	st.pending, err = st.t.events.change(st.pending, ts, op, oldRow, newRow, st.source(ts, lsn, boxed), st.offset(lsn, boxed, kind, n), x.now, st.tx)
	if err != nil {
		x.t.Fatal(err)
	}
}

func (x *txStream) truncate(ts *tableSchema, lsn pglogrepl.LSN) {
	st := x.st
	n, skip := st.countEvent(lsn)
	if skip {
		return
	}
	boxed := any(int64(lsn))
	st.pending = append(st.pending, st.t.events.truncate(ts, st.source(ts, lsn, boxed), st.offset(lsn, boxed, msgTruncate, n), x.now, st.tx))
}

func (x *txStream) commit(end pglogrepl.LSN) {
	st := x.st
	st.inTx = false
	st.lastCommitEnd = end
	st.setPos(storedOffset{lsn: end, lsnCommit: end})
	if st.tx != nil && st.tx.active {
		if err := st.endTx(context.Background(), end, txCommitTime); err != nil {
			x.t.Fatal(err)
		}
	}
}

// txExample is one transaction over both tables: two inserts, a primary
// key change (delete, tombstone, create), a delete (and its tombstone)
// and a truncate.
func txExample(x *txStream, customers, orders *tableSchema) {
	x.begin(571, 53195829)
	x.change(customers, msgInsert, 53195829, nil, []any{int32(1), "Sally"})
	x.change(orders, msgInsert, 53195830, nil, []any{int32(10), int32(3)})
	x.change(customers, msgUpdate, 53195831, []any{int32(1), "Sally"}, []any{int32(2), "Sally"})
	x.change(orders, msgDelete, 53195832, []any{int32(10), nil}, nil)
	x.truncate(customers, 53195833)
	x.commit(53195900)
}

func txField(r connectors.Record, name string) any {
	v, _ := r.Value.(*connectors.Struct).Get(name)
	return v
}

// TestTransactionMetadataGolden renders BEGIN, the data events with their
// transaction block, and END through JsonConverter (schemas.enable=true)
// with their offsets, all values fixed: the bytes Debezium 3.4 writes for
// this transaction.
func TestTransactionMetadataGolden(t *testing.T) {
	cfg, customers, orders := txTestTables(t)
	x := newTxStream(t, cfg, nil)
	txExample(x, customers, orders)
	recs := x.st.pending
	golden(t, "txmeta.golden", renderRecords(t, recs, func(b []byte) []byte { return b }, true))

	var got []string
	for _, r := range recs {
		switch {
		case r.Topic == "dbserver1.transaction":
			got = append(got, txField(r, "status").(string)+" "+txField(r, "id").(string))
		case r.Value == nil:
			got = append(got, "tombstone")
		default:
			tx := envelopeField(r, "transaction").(*connectors.Struct)
			id, _ := tx.Get("id")
			total, _ := tx.Get("total_order")
			dc, _ := tx.Get("data_collection_order")
			got = append(got, strings.Join([]string{opOf(r), id.(string), connectors.FormatValue(total), connectors.FormatValue(dc)}, " "))
		}
	}
	want := []string{
		"BEGIN 571:53195829",
		"c 571:53195829 1 1", "c 571:53195830 2 1",
		"d 571:53195831 3 2", "tombstone", "c 571:53195831 4 3",
		"d 571:53195832 5 2", "tombstone",
		"t 571:53195833 6 4",
		"END 571:53195900",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	end := recs[len(recs)-1]
	if n := txField(end, "event_count"); n != int64(6) {
		t.Errorf("END event_count = %v", n)
	}
	if id := structField(end.Key, "id"); id != "571:53195900" {
		t.Errorf("END key id = %v", id)
	}
	// The PK change's delete and tombstone have the position before the
	// change (and its counts), so that a restart from them replays the
	// whole change; its create has the change's own.
	for _, i := range []int{3, 4} {
		if o := recs[i].SourceOffset; o["transaction_data_collection_order_public.customers"] != int64(1) || o[offLSNEvents] != int64(0) {
			t.Errorf("PK change record %d offset: %v", i, o)
		}
	}
	if o := recs[5].SourceOffset; o["transaction_data_collection_order_public.customers"] != int64(3) || o[offLSNEvents] != int64(1) {
		t.Errorf("PK change create offset: %v", o)
	}
	// Storing END lets Commit confirm the whole transaction; BEGIN, what
	// came before it.
	if lsn, _ := flushLSN(roundTrip(t, end.SourceOffset)); lsn != 53195900 {
		t.Errorf("END flush LSN = %v", lsn)
	}
	if lsn, _ := flushLSN(roundTrip(t, recs[0].SourceOffset)); lsn != 53195000 {
		t.Errorf("BEGIN flush LSN = %v", lsn)
	}
	if x.st.tx.active || x.st.position().txMeta != nil {
		t.Error("transaction still open after END")
	}
}

// TestTransactionMetadataOff checks that without the option nothing
// changes: no BEGIN/END, an empty transaction block, Debezium's offset
// keys only.
func TestTransactionMetadataOff(t *testing.T) {
	cfg, customers, orders := txTestTables(t, "provide.transaction.metadata", "false")
	x := newTxStream(t, cfg, nil)
	x.st.tx = nil
	x.st.inTx, x.st.xid, x.st.commitTime = true, 571, txCommitTime
	x.change(customers, msgInsert, 100, nil, []any{int32(1), "a"})
	x.change(orders, msgDelete, 101, []any{int32(10), nil}, nil)
	for _, r := range x.st.pending {
		if r.Value != nil && envelopeField(r, "transaction") != nil {
			t.Errorf("transaction block without provide.transaction.metadata: %v", r.Value)
		}
		for k := range r.SourceOffset {
			if strings.HasPrefix(k, "transaction") {
				t.Errorf("offset key %q without provide.transaction.metadata", k)
			}
		}
	}
}

// TestTransactionMetadataResume restarts from each stored record of a
// transaction, with transaction metadata and without: nothing is lost;
// BEGIN is not sent again once stored, and the orders and END's counts
// continue from the stored state.
func TestTransactionMetadataResume(t *testing.T) {
	for _, on := range []string{"true", "false"} {
		t.Run("provide.transaction.metadata="+on, func(t *testing.T) { testResume(t, on) })
	}
}

// testResume restarts txExample from the offset of each of its records
// in turn: the records stored plus the replay are the original records,
// and a record that shares its change's position with others makes the
// replay start at the change (a duplicate, never a loss).
func testResume(t *testing.T, txMetadata string) {
	cfg, customers, orders := txTestTables(t, "provide.transaction.metadata", txMetadata)
	ref := newTxStream(t, cfg, nil)
	txExample(ref, customers, orders)
	all := ref.st.pending
	plain := func(b []byte) []byte { return b }
	want := renderRecords(t, all, plain, true)
	for k := 1; k <= len(all); k++ {
		o, err := decodeOffset(roundTrip(t, all[k-1].SourceOffset))
		if err != nil {
			t.Fatal(err)
		}
		x := newTxStream(t, cfg, &o)
		txExample(x, customers, orders)
		replay := x.st.pending
		// A record followed by others of its change (the delete and
		// tombstone of a PK change before its create; a delete before its
		// tombstone) carries the position before the change: the restart
		// replays the whole change, so the stored records before it plus
		// the replay are the original records.
		kept := k
		if a, ok := replayedFrom(all, k-1); ok {
			kept = a
		}
		if got := renderRecords(t, append(all[:kept:kept], replay...), plain, true); string(got) != string(want) {
			t.Errorf("restart after record %d (replay from record %d):\n%s\nwant\n%s", k, kept+1, got, want)
		}
	}
}

// replayedFrom reports, when record i of recs carries the position before
// its change (it is followed by others of the change), the index of the
// change's first record, from which a restart at record i replays.
func replayedFrom(recs []connectors.Record, i int) (int, bool) {
	same := func(j int) bool {
		return reflect.ValueOf(recs[j].SourceOffset).UnsafePointer() == reflect.ValueOf(recs[i].SourceOffset).UnsafePointer()
	}
	a, b := i, i
	for a > 0 && same(a-1) {
		a--
	}
	for b+1 < len(recs) && same(b+1) {
		b++
	}
	if b+1 == len(recs) {
		return 0, false
	}
	o, next := recs[i].SourceOffset, recs[b+1].SourceOffset
	n, ok := o[offLSNEvents].(int64)
	if ok && next[offLSN] == o[offLSN] && next[offTxID] == o[offTxID] && next[offLSNEvents] == n+1 {
		return a, true
	}
	return 0, false
}

// TestTransactionMetadataResumeWithoutStoredState: a stored offset inside
// the transaction but without its metadata state (the option was just
// turned on) gets a BEGIN, and the events after it count from 1.
func TestTransactionMetadataResumeWithoutStoredState(t *testing.T) {
	cfg, customers, orders := txTestTables(t)
	stored := storedOffset{lsn: 53195830, lsnCommit: 53195000, txID: 571, hasTxID: true, eventsAtLSN: 1}
	x := newTxStream(t, cfg, &stored)
	txExample(x, customers, orders)
	recs := x.st.pending
	if len(recs) == 0 || txField(recs[0], "status") != txBegin {
		t.Fatalf("first record is not BEGIN: %v", recs)
	}
	tx := envelopeField(recs[1], "transaction").(*connectors.Struct)
	if total, _ := tx.Get("total_order"); total != int64(1) {
		t.Errorf("first event after BEGIN: total_order %v", total)
	}
	if n := txField(recs[len(recs)-1], "event_count"); n != int64(4) {
		t.Errorf("END event_count = %v, want the 4 events after the stored one", n)
	}
}

// TestDataCollectionsJavaOrder checks END's data_collections against the
// iteration order of Java's HashMap, recorded in testdata.
func TestDataCollectionsJavaOrder(t *testing.T) {
	f, err := os.Open("testdata/javahashmap.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := newTxMonitor(Config{})
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		in, want, _ := strings.Cut(line, "|")
		m.begin(1)
		for _, name := range strings.Split(in, ",") {
			m.event(&tableSchema{collection: name, txCountKey: offTxMetaCountPrefix + name}, map[string]any{offLSN: int64(1)})
		}
		var got []string
		for _, c := range m.dataCollections() {
			v, _ := c.(*connectors.Struct).Get("data_collection")
			got = append(got, v.(string))
		}
		if g := strings.Join(got, ","); g != want {
			t.Errorf("tables %s:\n got %s\nwant %s", in, g, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestJavaHash(t *testing.T) {
	spread := func(h uint32) uint32 { return h ^ h>>16 }
	for s, h := range map[string]int32{"hello": 99162322, "Aa": 2112, "BB": 2112, "": 0, "public.customers": -657108208, "😀": 1772899} {
		if got := javaHash(s); got != spread(uint32(h)) {
			t.Errorf("javaHash(%q) = %d, want %d", s, got, spread(uint32(h)))
		}
	}
}

// TestSkippedUpdatesKeepKeyChanges: skipped.operations applies to the
// operations emitted, as Debezium's dispatcher filters them: with "u"
// skipped, a plain update emits nothing, but a key change still emits
// its delete (and tombstone) and create, counted in the transaction.
func TestSkippedUpdatesKeepKeyChanges(t *testing.T) {
	for _, tc := range []struct {
		skipped string
		want    []string
	}{
		{"u", []string{"BEGIN", "c 1", "d 2", "tombstone", "c 3", "END 3"}},
		{"u,d", []string{"BEGIN", "c 1", "c 2", "END 2"}},
		{"u,c", []string{"BEGIN", "d 1", "tombstone", "END 1"}},
		{"none", []string{"BEGIN", "c 1", "u 2", "d 3", "tombstone", "c 4", "END 4"}},
	} {
		cfg, customers, _ := txTestTables(t, "skipped.operations", tc.skipped)
		x := newTxStream(t, cfg, nil)
		x.begin(600, 1000)
		x.change(customers, msgInsert, 1000, nil, []any{int32(1), "Sally"})
		x.change(customers, msgUpdate, 1001, []any{int32(1), "Sally"}, []any{int32(1), "Sal"})
		x.change(customers, msgUpdate, 1002, []any{int32(1), "Sal"}, []any{int32(2), "Sal"})
		x.commit(1100)
		var got []string
		for _, r := range x.st.pending {
			switch {
			case r.Topic == "dbserver1.transaction" && txField(r, "status") == txBegin:
				got = append(got, "BEGIN")
			case r.Topic == "dbserver1.transaction":
				got = append(got, "END "+connectors.FormatValue(txField(r, "event_count")))
			case r.Value == nil:
				got = append(got, "tombstone")
			default:
				total, _ := envelopeField(r, "transaction").(*connectors.Struct).Get("total_order")
				got = append(got, opOf(r)+" "+connectors.FormatValue(total))
			}
		}
		if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
			t.Errorf("skipped.operations=%s: %s, want %s", tc.skipped, strings.Join(got, ", "), strings.Join(tc.want, ", "))
		}
	}
}
