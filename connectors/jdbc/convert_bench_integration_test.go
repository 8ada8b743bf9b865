//go:build integration

package jdbc

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicedata/sluice/connectors"
)

// BenchmarkClientPath measures the task's own CPU per record, without a
// database: classify, convert, plan, and pgx's encoding of the unnest
// arrays (what Put does besides waiting for PostgreSQL).
//
//	go test -tags integration -run '^$' -bench ClientPath -benchmem ./connectors/jdbc/
func BenchmarkClientPath(b *testing.B) {
	props := dbzConfig()
	props[KeyConnectionURL] = "jdbc:postgresql://localhost/x"
	cfg, err := ParseConfig(props)
	if err != nil {
		b.Fatal(err)
	}
	t := &Sink{cfg: cfg, q: quoter{keepCase: cfg.QuoteIdentifiers}, loc: time.UTC, collapse: true,
		tables: map[string]*table{}, stages: map[string]*stage{}, unnestMax: defaultUnnestMax}
	t.filter = newFieldFilter(nil, nil)
	t.envelopes = map[*connectors.Schema]envelopeFields{}
	tb := t.tableFor("srv_public_bench")
	tb.loaded, tb.version = true, 1
	tb.meta = tableMeta{exists: true, relkind: 'r', cols: map[string]*column{}, uniques: [][]string{{"id"}}, pk: []string{"id"}}
	for _, c := range []column{{"id", pgtype.Int8OID, "bigint", "bigint", true}, {"customer_id", pgtype.Int4OID, "integer", "integer", true},
		{"status", pgtype.TextOID, "text", "text", true}, {"amount", pgtype.NumericOID, "numeric(12,2)", "numeric", true},
		{"created_at", pgtype.TimestampOID, "timestamp(6) without time zone", "timestamp without time zone", true},
		{"updated_at", pgtype.TimestamptzOID, "timestamp with time zone", "timestamp with time zone", true},
		{"paid", pgtype.BoolOID, "boolean", "boolean", true}, {"note", pgtype.TextOID, "text", "text", false}} {
		c := c
		tb.meta.cols[c.name] = &c
	}
	recs, _ := benchRecords(b, 5000, 1)
	m := pgtype.NewMap()
	registerTypes(m)
	arrayOID := []uint32{pgtype.Int8ArrayOID, pgtype.Int4ArrayOID, pgtype.TextArrayOID, pgtype.NumericArrayOID,
		pgtype.TimestampArrayOID, pgtype.TimestamptzArrayOID, pgtype.BoolArrayOID, pgtype.TextArrayOID}
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for start := 0; start < len(recs); start += 500 {
			batch := recs[start : start+500]
			ops := make([]op, len(batch))
			live := make([]*op, 0, len(batch))
			for j := range batch {
				c, err := t.classify(&batch[j])
				if err != nil {
					b.Fatal(err)
				}
				o := &ops[j]
				*o = op{kind: c.kind, idx: j, t: t.tableFor(c.table), ch: c}
				if o.sh, err = t.shapeFor(o.t, &batch[j], &o.ch); err != nil {
					b.Fatal(err)
				}
				if o.sh.version != tb.version {
					t.bind(tb, o.sh)
				}
				if err := t.convert(&batch[j], o); err != nil {
					b.Fatal(err)
				}
				live = append(live, o)
			}
			for _, s := range t.plan(live) {
				for c, col := range columns(s.rows, len(s.sh.cols)) {
					if buf, err = m.Encode(arrayOID[c], pgtype.BinaryFormatCode, col, buf[:0]); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/row")
}
