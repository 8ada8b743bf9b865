//go:build integration

package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// txDescribe names a record of a stream with transaction metadata
// independently of the run: BEGIN/END with their counts, data events with
// their orders, tombstones.
func txDescribe(r connectors.Record) string {
	if isTxRecord(r) {
		s := fmt.Sprintf("%v", structField(r.Value, "status"))
		if s == txEnd {
			s += fmt.Sprintf(" %v", structField(r.Value, "event_count"))
			for _, c := range structField(r.Value, "data_collections").([]any) {
				s += fmt.Sprintf(" %v=%v", structField(c, "data_collection"), structField(c, "event_count"))
			}
		}
		return s
	}
	table := r.Topic[strings.LastIndex(r.Topic, ".")+1:]
	if r.Value == nil {
		return "tombstone " + table
	}
	tx := envelopeField(r, "transaction")
	return fmt.Sprintf("%s %s %v/%v", opOf(r), table, structField(tx, "total_order"), structField(tx, "data_collection_order"))
}

func isTxRecord(r connectors.Record) bool {
	return r.ValueSchema != nil && r.ValueSchema.Name() == "io.debezium.connector.common.TransactionMetadataValue"
}

func txDescribeAll(recs []connectors.Record) string {
	s := make([]string, len(recs))
	for i, r := range recs {
		s[i] = txDescribe(r)
	}
	return strings.Join(s, "\n")
}

// checkTxIDs checks the ids of one transaction's records against
// PostgresTransactionMonitor's "<xid>:<lsn>": the xid is source.txId, the
// lsn that of the message (the event's source.lsn; END's offset lsn), and
// every offset says transaction_id=<xid>. It returns the xid.
func checkTxIDs(t *testing.T, recs []connectors.Record) string {
	t.Helper()
	begin := recs[0]
	xid, _, _ := strings.Cut(structField(begin.Value, "id").(string), ":")
	if structField(begin.Key, "id") != structField(begin.Value, "id") {
		t.Errorf("BEGIN key %v, value id %v", structField(begin.Key, "id"), structField(begin.Value, "id"))
	}
	for _, r := range recs {
		if r.SourceOffset["transaction_id"] != xid {
			t.Errorf("%s: offset transaction_id %v, want %s", txDescribe(r), r.SourceOffset["transaction_id"], xid)
		}
		if r.Value == nil || isTxRecord(r) {
			continue
		}
		src := envelopeField(r, "source")
		want := fmt.Sprintf("%v:%v", structField(src, "txId"), structField(src, "lsn"))
		if got := structField(envelopeField(r, "transaction"), "id"); got != want || !strings.HasPrefix(want, xid+":") {
			t.Errorf("%s: transaction.id %v, want %s (xid %s)", txDescribe(r), got, want, xid)
		}
	}
	end := recs[len(recs)-1]
	if want := fmt.Sprintf("%s:%v", xid, end.SourceOffset["lsn"]); structField(end.Value, "id") != want || structField(end.Key, "id") != want {
		t.Errorf("END id %v (key %v), want %s", structField(end.Value, "id"), structField(end.Key, "id"), want)
	}
	if end.SourceOffset["lsn_commit"] != end.SourceOffset["lsn"] {
		t.Errorf("END offset %v: lsn_commit is not the end of the transaction", end.SourceOffset)
	}
	return xid
}

// TestTransactionMetadataStream: a transaction over two tables gives
// BEGIN, its events with their orders, and END with the counts; a
// transaction without captured changes gives nothing; transactions get
// distinct ids.
func TestTransactionMetadataStream(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE public.customers (id int PRIMARY KEY, name text NOT NULL)`)
	d.exec(`CREATE TABLE public.orders (id int PRIMARY KEY, qty int)`)
	d.exec(`CREATE TABLE public.other (id int PRIMARY KEY)`)
	// filtered: public.other is not in the publication, so Postgres 15+
	// sends nothing for its transactions.
	r := openTask(t, d.config("snapshot.mode", "no_data", "provide.transaction.metadata", "true",
		"table.include.list", "public.customers,public.orders", "publication.autocreate.mode", "filtered"), nil)
	r.waitStreaming()
	ctx := context.Background()

	tx, err := d.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO customers VALUES (1, 'Sally')`,
		`INSERT INTO orders VALUES (10, 1)`,
		`INSERT INTO customers VALUES (2, 'George')`,
		`UPDATE orders SET qty = 2 WHERE id = 10`,
		`DELETE FROM customers WHERE id = 1`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	first := r.pollN(8, 30*time.Second)
	want := strings.Join([]string{
		"BEGIN",
		"c customers 1/1", "c orders 2/1", "c customers 3/2", "u orders 4/2", "d customers 5/3", "tombstone customers",
		"END 5 public.customers=3 public.orders=2",
	}, "\n")
	if got := txDescribeAll(first); got != want {
		t.Fatalf("records:\n%s\nwant:\n%s", got, want)
	}
	if first[0].Topic != d.prefix+".transaction" || first[0].KeySchema.Name() != "io.debezium.connector.common.TransactionMetadataKey" ||
		first[0].ValueSchema.Name() != "io.debezium.connector.common.TransactionMetadataValue" || len(first[0].Headers) != 0 {
		t.Errorf("BEGIN record: topic %s, schemas %s %s, headers %v", first[0].Topic, first[0].KeySchema.Name(), first[0].ValueSchema.Name(), first[0].Headers)
	}
	if ts := structField(first[0].Value, "ts_ms"); ts != structField(envelopeField(first[1], "source"), "ts_ms") {
		t.Errorf("BEGIN ts_ms %v is not the commit time %v", ts, structField(envelopeField(first[1], "source"), "ts_ms"))
	}
	xid1 := checkTxIDs(t, first)
	if xid1 != strconv.FormatInt(structField(envelopeField(first[1], "source"), "txId").(int64), 10) {
		t.Errorf("transaction id %s is not source.txId", xid1)
	}
	golden(t, "txmeta_stream.golden", goldenRecords(t, first))

	// No captured change: nothing, not even BEGIN/END.
	empty, err := d.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	d.exec(`INSERT INTO other VALUES (1)`)
	d.exec(`SELECT txid_current()`) // a transaction with an xid and no change
	if got := r.quiet(time.Second); len(got) != 0 {
		t.Fatalf("transactions without captured changes produced:\n%s", txDescribeAll(got))
	}

	d.exec(`INSERT INTO orders VALUES (11, 5)`)
	second := r.pollN(3, 30*time.Second)
	if got := txDescribeAll(second); got != "BEGIN\nc orders 1/1\nEND 1 public.orders=1" {
		t.Fatalf("second transaction:\n%s", got)
	}
	if xid2 := checkTxIDs(t, second); xid2 == xid1 {
		t.Errorf("two transactions with the id %s", xid1)
	}
	if structField(second[0].Value, "id") == structField(first[0].Value, "id") {
		t.Errorf("two BEGIN events with the id %v", structField(second[0].Value, "id"))
	}
}

// TestTransactionMetadataUncapturedInPublication: a transaction whose
// changes are in the publication but not captured (FOR ALL TABLES,
// table.include.list) gives BEGIN and END with no event, as Debezium's
// (it emits BEGIN on pgoutput's BEGIN message).
func TestTransactionMetadataUncapturedInPublication(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE public.captured (id int PRIMARY KEY)`)
	d.exec(`CREATE TABLE public.other (id int PRIMARY KEY)`)
	r := openTask(t, d.config("snapshot.mode", "no_data", "provide.transaction.metadata", "true",
		"table.include.list", "public.captured", "topic.transaction", "tx"), nil)
	r.waitStreaming()
	d.exec(`INSERT INTO other VALUES (1)`)
	got := r.pollN(2, 30*time.Second)
	if desc := txDescribeAll(got); desc != "BEGIN\nEND 0" {
		t.Fatalf("records:\n%s", desc)
	}
	if got[0].Topic != d.prefix+".tx" {
		t.Errorf("topic %s, want %s.tx", got[0].Topic, d.prefix)
	}
	if dc, ok := structField(got[1].Value, "data_collections").([]any); !ok || len(dc) != 0 {
		t.Errorf("END data_collections = %#v, want []", structField(got[1].Value, "data_collections"))
	}
}

// TestTransactionMetadataRestart kills the task after each record of a
// transaction (nothing stored after it) and checks that the restarted task
// delivers the rest with the same transaction metadata: no second BEGIN,
// orders and END counts over the whole transaction.
func TestTransactionMetadataRestart(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE a (id int PRIMARY KEY, v int)`)
	d.exec(`CREATE TABLE b (id int PRIMARY KEY, v int)`)
	cfg := d.config("snapshot.mode", "no_data", "provide.transaction.metadata", "true", "tombstones.on.delete", "false")
	first := openTask(t, cfg, nil)
	first.waitStreaming()
	ctx := context.Background()
	tx, err := d.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO a VALUES (1, 0)`, `INSERT INTO b VALUES (1, 0)`, `INSERT INTO a VALUES (2, 0)`,
		`UPDATE b SET v = 1`, `DELETE FROM a WHERE id = 1`, `INSERT INTO b VALUES (2, 0)`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	d.exec(`INSERT INTO a VALUES (3, 0)`)
	const total = 8 + 3
	ref := first.pollN(total, 30*time.Second)
	first.close()
	full := func(r connectors.Record) string {
		s := txDescribe(r)
		if isTxRecord(r) {
			return s + fmt.Sprintf(" %v", structField(r.Value, "id"))
		}
		return s + fmt.Sprintf(" %v %v", structField(envelopeField(r, "transaction"), "id"), structField(envelopeField(r, "after"), "id"))
	}
	for k := 1; k < total; k++ {
		store := newMemOffsets()
		store.store(ref[:k])
		r := openTask(t, cfg, store)
		got := r.pollN(total-k, 30*time.Second)
		got = append(got, r.quiet(300*time.Millisecond)...)
		var g, w []string
		for _, rec := range got {
			g = append(g, full(rec))
		}
		for _, rec := range ref[k:] {
			w = append(w, full(rec))
		}
		if strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Errorf("restart after record %d:\n%s\nwant:\n%s", k, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
		r.close()
	}
}
