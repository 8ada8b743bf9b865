//go:build integration

package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// hstoreRows are the rows TestHstore inserts: id, h (nullable), hn (NOT
// NULL).
var hstoreRows = []string{
	`(%d, '"a"=>"1", "b"=>NULL, "q"=>"x y"', '')`,
	`(%d, '"k\"ey"=>"back\\slash", "é"=>"日本", "tab"=>"t` + "\t" + `x` + "\n" + `"', '"z"=>"1"')`,
	`(%d, NULL, '"n"=>NULL')`,
}

// TestHstore checks hstore columns in both hstore.handling.mode values,
// through the snapshot (rows 1-3) and the stream (rows 11-13, same
// values), against a golden file, and an unchanged TOASTed hstore.
func TestHstore(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE EXTENSION hstore`)
	d.exec(`CREATE TABLE hs (id int PRIMARY KEY, h hstore, hn hstore NOT NULL, other int)`)
	d.exec(`ALTER TABLE hs ALTER COLUMN h SET STORAGE EXTERNAL`)
	for i, row := range hstoreRows {
		d.exec(`INSERT INTO hs (id, h, hn) VALUES ` + fmt.Sprintf(row, i+1))
	}
	var b bytes.Buffer
	for n, mode := range []string{HStoreJSON, HStoreMap} {
		t.Run(mode, func(t *testing.T) {
			d.exec(`DELETE FROM hs WHERE id > 3`)
			kv := []string{"slot.name", fmt.Sprintf("%s_%d", d.slot, n)}
			if mode != HStoreJSON { // json is the default
				kv = append(kv, "hstore.handling.mode", mode)
			}
			r := openTask(t, d.config(kv...), nil)
			snap := r.waitStreaming()
			base := 10 * (n + 1)
			for i, row := range hstoreRows {
				d.exec(`INSERT INTO hs (id, h, hn) VALUES ` + fmt.Sprintf(row, base+i+1))
			}
			// An hstore stored out of line that the update does not change:
			// Postgres does not send it.
			d.exec(fmt.Sprintf(`INSERT INTO hs (id, h, hn) SELECT %d, hstore(array_agg('key' || g), array_agg(md5(g::text))), '' FROM generate_series(1, 200) g`, base+9))
			d.exec(fmt.Sprintf(`UPDATE hs SET other = 1 WHERE id = %d`, base+9))
			recs := r.pollN(len(hstoreRows)+2, 30*time.Second)
			if len(snap) != len(hstoreRows) {
				t.Fatalf("snapshot: %d records", len(snap))
			}
			for i := range hstoreRows {
				a1 := envelopeField(snap[i], "after").(*connectors.Struct)
				a2 := envelopeField(recs[i], "after").(*connectors.Struct)
				if !a1.Schema().Equal(a2.Schema()) {
					t.Errorf("snapshot and stream value schemas differ:\n%v\n%v", a1.Schema(), a2.Schema())
				}
				for _, f := range []string{"h", "hn"} {
					v1, _ := a1.Get(f)
					v2, _ := a2.Get(f)
					if !connectors.ValuesEqual(v1, v2) {
						t.Errorf("row %d %s: snapshot %s, stream %s", i+1, f, connectors.FormatValue(v1), connectors.FormatValue(v2))
					}
				}
			}
			upd := recs[len(hstoreRows)+1]
			if opOf(upd) != opUpdate {
				t.Fatalf("last record op %s", opOf(upd))
			}
			h, _ := envelopeField(upd, "after").(*connectors.Struct).Get("h")
			want := any(`{"__debezium_unavailable_value":"__debezium_unavailable_value"}`)
			if mode == HStoreMap {
				want = map[string]any{DefaultToastPlaceholder: DefaultToastPlaceholder}
			}
			if !connectors.ValuesEqual(h, want) {
				t.Errorf("unchanged TOASTed hstore = %s, want %s", connectors.FormatValue(h), connectors.FormatValue(want))
			}
			fmt.Fprintf(&b, "hstore.handling.mode=%s\n", mode)
			for i, rec := range append(append(snap, recs[:len(hstoreRows)]...), upd) {
				schema, after := afterJSON(t, rec)
				if i == 0 {
					fmt.Fprintf(&b, "value schema: %s\n", schema)
				}
				fmt.Fprintf(&b, "%s %s\n", opOf(rec), after)
			}
		})
	}
	golden(t, "hstore.golden", b.Bytes())
}

// afterJSON returns the JSON of the value schema and of the after image
// of a change record, as JsonConverter writes them.
func afterJSON(t *testing.T, rec connectors.Record) (schema, after string) {
	t.Helper()
	_, v := jsonOf(t, rec)
	var m struct {
		Schema struct {
			Fields []json.RawMessage `json:"fields"`
		} `json:"schema"`
		Payload struct {
			After json.RawMessage `json:"after"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(v, &m); err != nil {
		t.Fatal(err)
	}
	return string(m.Schema.Fields[1]), string(m.Payload.After)
}
