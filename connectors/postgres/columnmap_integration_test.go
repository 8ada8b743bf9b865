//go:build integration

package postgres

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// TestColumnMappersIntegration checks truncation and masking through the
// snapshot and the stream: the value changed, the key not.
func TestColumnMappersIntegration(t *testing.T) {
	d := newTestDB(t)
	d.exec(`CREATE TABLE cm (id text PRIMARY KEY, descr text, code varchar(3), note varchar(40), n int)`)
	d.exec(`INSERT INTO cm VALUES ('k1', 'a long description', 'abc', 'secret', 1234567)`)
	r := openTask(t, d.config("column.truncate.to.5.chars", "public.cm.descr,public.cm.code",
		"column.mask.with.3.chars", "public.cm.id,public.cm.note"), nil)
	snap := r.waitStreaming()
	d.exec(`INSERT INTO cm VALUES ('k2', 'another long one', 'x', NULL, 2)`)
	recs := r.pollN(1, 30*time.Second)
	if len(snap) != 1 {
		t.Fatalf("snapshot: %d records", len(snap))
	}
	for i, c := range []struct {
		rec   connectors.Record
		key   string
		descr string
	}{{snap[0], "k1", "a lon"}, {recs[0], "k2", "anoth"}} {
		if k, _ := c.rec.Key.(*connectors.Struct).Get("id"); k != c.key {
			t.Errorf("record %d: key id %v, want %s (keys are not masked)", i, k, c.key)
		}
		a := envelopeField(c.rec, "after").(*connectors.Struct)
		for f, want := range map[string]any{"id": "***", "descr": c.descr, "note": "***"} {
			if got, _ := a.Get(f); got != want {
				t.Errorf("record %d: %s = %v, want %v", i, f, got, want)
			}
		}
		fd, _ := a.Schema().Field("descr")
		if p, _ := fd.Schema().Parameter("truncateLength"); p != "5" {
			t.Errorf("descr truncateLength %q", p)
		}
		fc, _ := a.Schema().Field("code")
		if _, ok := fc.Schema().Parameter("truncateLength"); ok {
			t.Errorf("varchar(3) has truncateLength; Debezium adds it only when the length exceeds n")
		}
		fn, _ := a.Schema().Field("note")
		if p, _ := fn.Schema().Parameter("masked"); p != "true" {
			t.Errorf("note masked %q", p)
		}
	}
}
