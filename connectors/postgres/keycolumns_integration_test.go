//go:build integration

package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// TestMessageKeyColumns: message.key.columns gives a table without a
// primary key a key, and replaces a composite primary key, in snapshot
// and streamed events, key changes included, as JsonConverter writes
// them.
func TestMessageKeyColumns(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE public.nopk (code text NOT NULL, region int, note text)`)
	d.exec(`ALTER TABLE public.nopk REPLICA IDENTITY FULL`)
	d.exec(`CREATE TABLE public.comp (a int, b int, c int NOT NULL, v text, PRIMARY KEY (a, b))`)
	d.exec(`ALTER TABLE public.comp REPLICA IDENTITY FULL`)
	d.exec(`CREATE TABLE public.plain (a int, b int, v text, PRIMARY KEY (a, b))`)
	d.exec(`CREATE TABLE public.other (x int)`)
	d.exec(`INSERT INTO nopk VALUES ('A', 1, 'x')`)
	d.exec(`INSERT INTO comp VALUES (1, 1, 10, 'v')`)
	d.exec(`INSERT INTO plain VALUES (1, 2, 'v')`)

	r := openTask(t, d.config(KeyMsgKeyColumns, " public.nopk:CODE, region ; public.comp:c;", "table.include.list", "public.nopk,public.comp,public.plain"), nil)
	snap := r.waitStreaming()
	d.exec(`INSERT INTO nopk VALUES ('B', NULL, 'y')`)
	d.exec(`UPDATE nopk SET note = 'z' WHERE code = 'A'`)
	d.exec(`UPDATE nopk SET region = 2 WHERE code = 'A'`)
	d.exec(`DELETE FROM nopk WHERE code = 'B'`)
	d.exec(`UPDATE comp SET v = 'w' WHERE a = 1`)
	d.exec(`UPDATE comp SET c = 11 WHERE a = 1`)
	d.exec(`DELETE FROM comp WHERE a = 1`)
	d.exec(`UPDATE plain SET v = 'w'`)
	recs := append(snap, r.pollN(17-len(snap), 30*time.Second)...)

	nopkKey := `{"type":"struct","fields":[{"type":"string","optional":false,"field":"code"},{"type":"int32","optional":true,"field":"region"}],"optional":false,"name":"dbserver1.public.nopk.Key"}`
	compKey := `{"type":"struct","fields":[{"type":"int32","optional":false,"field":"c"}],"optional":false,"name":"dbserver1.public.comp.Key"}`
	plainKey := `{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"},{"type":"int32","optional":false,"field":"b"}],"optional":false,"name":"dbserver1.public.plain.Key"}`
	want := []struct{ table, op, schema, payload string }{
		{"comp", "r", compKey, `{"c":10}`},
		{"nopk", "r", nopkKey, `{"code":"A","region":1}`},
		{"plain", "r", plainKey, `{"a":1,"b":2}`},
		{"nopk", "c", nopkKey, `{"code":"B","region":null}`},
		{"nopk", "u", nopkKey, `{"code":"A","region":1}`},
		{"nopk", "d", nopkKey, `{"code":"A","region":1}`}, // a key change
		{"nopk", "tombstone", nopkKey, `{"code":"A","region":1}`},
		{"nopk", "c", nopkKey, `{"code":"A","region":2}`},
		{"nopk", "d", nopkKey, `{"code":"B","region":null}`},
		{"nopk", "tombstone", nopkKey, `{"code":"B","region":null}`},
		{"comp", "u", compKey, `{"c":10}`},
		{"comp", "d", compKey, `{"c":10}`},
		{"comp", "tombstone", compKey, `{"c":10}`},
		{"comp", "c", compKey, `{"c":11}`},
		{"comp", "d", compKey, `{"c":11}`},
		{"comp", "tombstone", compKey, `{"c":11}`},
		{"plain", "u", plainKey, `{"a":1,"b":2}`},
	}
	recs = dataRecords(recs)
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		rec := recs[i]
		op := opOf(rec)
		if rec.Value == nil {
			op = "tombstone"
		}
		if rec.Topic != "dbserver1.public."+w.table || op != w.op {
			t.Errorf("record %d: %s op %s, want %s op %s", i, rec.Topic, op, w.table, w.op)
			continue
		}
		k, v := jsonOf(t, rec)
		var env struct {
			Schema  json.RawMessage `json:"schema"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(k, &env); err != nil {
			t.Fatalf("record %d key %s: %v", i, k, err)
		}
		if string(env.Schema) != w.schema || string(env.Payload) != w.payload {
			t.Errorf("record %d (%s %s) key:\n got %s\nwant {\"schema\":%s,\"payload\":%s}", i, w.table, w.op, k, w.schema, w.payload)
		}
		// The value is unchanged by the option: the whole row.
		if w.table == "comp" && (op == "d" || op == "u") && !strings.Contains(string(v), `"before":{"a":1,"b":1,"c":`) {
			t.Errorf("record %d value: %s", i, v)
		}
	}
	// The primary key change headers carry the new and old message keys.
	for _, i := range []int{5, 7} {
		var found bool
		for _, h := range recs[i].Headers {
			if h.Key == headerNewKey || h.Key == headerOldKey {
				found = true
				if h.Schema != recs[i].KeySchema {
					t.Errorf("record %d header %s has schema %v", i, h.Key, h.Schema)
				}
			}
		}
		if !found {
			t.Errorf("record %d has no key change header", i)
		}
	}
}

// TestMessageKeyColumnsNotes: the task warns about key columns outside
// the replica identity and about columns that do not exist.
func TestMessageKeyColumnsNotes(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE public.nopk (code text NOT NULL, note text)`)
	d.exec(`CREATE TABLE public.full_nopk (code text NOT NULL)`)
	d.exec(`ALTER TABLE public.full_nopk REPLICA IDENTITY FULL`)
	d.exec(`CREATE TABLE public.comp (a int, b int, c int, PRIMARY KEY (a, b))`)
	cfg, err := ParseConfig(d.config(KeyMsgKeyColumns, "public.nopk:code;public.full_nopk:code;public.comp:b,missing"))
	if err != nil {
		t.Fatal(err)
	}
	notes, err := readKeyColumnNotes(context.Background(), d.conn, newFilters(cfg))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(notes, "\n")
	for _, w := range []string{
		`"public.comp:missing" matches no column of public.comp`,
		`the key of public.nopk uses code, which Postgres does not send in the old row of updates and deletes because it has no primary key`,
		`ALTER TABLE public.nopk REPLICA IDENTITY FULL`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("notes lack %q:\n%s", w, got)
		}
	}
	if len(notes) != 2 {
		t.Errorf("%d notes:\n%s", len(notes), got)
	}
	// The task opens all the same (Debezium accepts the config).
	r := openTask(t, d.config(KeyMsgKeyColumns, "public.nopk:code"), nil)
	r.waitStreaming()
	d.exec(`INSERT INTO nopk VALUES ('A', 'x')`)
	recs := dataRecords(r.pollN(1, 30*time.Second))
	if k, _ := recs[0].Key.(*connectors.Struct); k == nil {
		t.Fatalf("no key: %+v", recs[0])
	} else if c, _ := k.Get("code"); c != "A" {
		t.Errorf("key code = %v", c)
	}
}

// TestSnapshotIncludeCollectionList: the initial snapshot reads only the
// listed tables; streaming captures all the captured tables.
func TestSnapshotIncludeCollectionList(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE public.a (id int PRIMARY KEY)`)
	d.exec(`CREATE TABLE public.b (id int PRIMARY KEY)`)
	d.exec(`CREATE TABLE public.c (id int PRIMARY KEY)`)
	d.exec(`INSERT INTO a VALUES (1), (2)`)
	d.exec(`INSERT INTO b VALUES (1)`)
	d.exec(`INSERT INTO c VALUES (1)`)
	r := openTask(t, d.config("table.include.list", "public.a,public.b", KeySnapshotInclude, "PUBLIC.B,public.c"), nil)
	snap := r.pollN(1, 30*time.Second)
	snap = append(snap, r.waitStreaming()...)
	if len(snap) != 1 || snap[0].Topic != "dbserver1.public.b" || opOf(snap[0]) != "r" {
		t.Fatalf("snapshot: %d records, first %s", len(snap), snap[0].Topic)
	}
	if m := structField(envelopeField(snap[0], "source"), "snapshot"); m != "last" {
		t.Errorf("snapshot marker %v, want last (the only table snapshotted)", m)
	}
	d.exec(`INSERT INTO a VALUES (3)`)
	d.exec(`INSERT INTO b VALUES (2)`)
	d.exec(`INSERT INTO c VALUES (2)`)
	recs := dataRecords(r.pollN(2, 30*time.Second))
	recs = append(recs, dataRecords(r.quiet(500*time.Millisecond))...)
	var topics []string
	for _, rec := range recs {
		topics = append(topics, rec.Topic+":"+opOf(rec))
	}
	if got := strings.Join(topics, ","); got != "dbserver1.public.a:c,dbserver1.public.b:c" {
		t.Errorf("streamed %s", got)
	}
}
