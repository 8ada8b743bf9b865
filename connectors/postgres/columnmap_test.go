package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

func TestParseColumnMappers(t *testing.T) {
	cms, errs := parseColumnMappers(map[string]string{
		"column.mask.with.4.chars":          "public.t.b",
		"column.truncate.to.20.chars":       "public.t.a, .*\\.c",
		"column.truncate.to.10.chars":       "public.t.x",
		"column.mask.with.x.chars":          "ignored: not a mapper key",
		"column.truncate.to.3.chars":        "public.t.(",
		"column.mask.with.9999999999.chars": "public.t.a",
	})
	if len(errs) != 2 || !strings.Contains(errs.Error(), "column.truncate.to.3.chars") || !strings.Contains(errs.Error(), "column.mask.with.9999999999.chars") {
		t.Errorf("errors: %v", errs)
	}
	var keys []string
	for _, cm := range cms {
		keys = append(keys, cm.Key)
	}
	if got := strings.Join(keys, " "); got != "column.truncate.to.10.chars column.truncate.to.20.chars column.truncate.to.3.chars column.mask.with.4.chars" {
		t.Errorf("order: %s", got)
	}
	id := tableID{"public", "t"}
	if cm := columnMapperFor(cms, id, "A"); cm == nil || cm.N != 20 {
		t.Errorf("public.t.A (case-insensitive): %+v", cm)
	}
	if cm := columnMapperFor(cms, tableID{"s", "u"}, "c"); cm == nil || cm.N != 20 {
		t.Errorf("s.u.c: %+v", cm)
	}
	if cm := columnMapperFor(cms, id, "ab"); cm != nil {
		t.Errorf("public.t.ab matched (the match is anchored): %+v", cm)
	}
	if cm := columnMapperFor(cms, id, "b"); cm == nil || !cm.Mask {
		t.Errorf("public.t.b: %+v", cm)
	}
}

func TestTruncateValue(t *testing.T) {
	for _, c := range []struct {
		in   any
		n    int
		want any
	}{
		{"abcdef", 3, "abc"}, {"abc", 3, "abc"}, {"", 0, ""}, {"abc", 0, ""},
		{"héllo", 2, "hé"}, // UTF-16 code units, not bytes
		{"a😀b", 2, "a"},    // the pair would be cut: left out whole
		{"a😀b", 3, "a😀"},
		{[]byte{1, 2, 3}, 2, []byte{1, 2}}, {int32(123456), 2, int32(123456)}, {nil, 2, nil},
		{[]any{"abcdef"}, 2, []any{"abcdef"}},
	} {
		if got := truncateValue(c.in, c.n); !connectors.ValuesEqual(got, c.want) {
			t.Errorf("truncate(%v, %d) = %v, want %v", c.in, c.n, got, c.want)
		}
	}
}

func TestColumnLength(t *testing.T) {
	typ := func(oid uint32) *pgType { return &pgType{OID: oid, Kind: 'b'} }
	for _, c := range []struct {
		t      *pgType
		typmod int32
		want   int64
	}{
		{typ(oidText), -1, 2147483647}, {typ(oidVarchar), 24, 20}, {typ(oidBpchar), 9, 5}, {typ(oidInt4), -1, 10},
		{typ(oidNumeric), numericTypmod(8, 2), 8}, {typ(oidNumeric), -1, 131089}, {typ(oidBool), -1, 1},
		{typ(oidTimestamptz), -1, 35}, {typ(oidTimestamp), 3, 26}, {typ(oidDate), -1, 13}, {typ(oidJSONB), -1, 2147483647},
		{&pgType{OID: 1007, Category: 'A', Elem: oidInt4}, -1, 10},
	} {
		if got := columnLength(c.t, c.typmod); got != c.want {
			t.Errorf("length of %d(%d) = %d, want %d", c.t.OID, c.typmod, got, c.want)
		}
	}
}

// TestColumnMappersGolden builds records of a table with truncated and
// masked columns and checks them, through JsonConverter, against a
// golden file: schema parameters on the value fields only, the key
// untouched, nulls masked, non-character columns not masked.
func TestColumnMappersGolden(t *testing.T) {
	cfg, err := ParseConfig(map[string]string{"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p",
		"column.truncate.to.5.chars": "public.t.descr,public.t.code,public.t.n,public.t.b",
		"column.mask.with.4.chars":   "public.t.id,public.t.secret,public.t.note,public.t.mood,public.t.j"})
	if err != nil {
		t.Fatal(err)
	}
	f := &schemaFactory{cfg: cfg, filters: newFilters(cfg), types: testMapper()}
	meta := &tableMeta{ID: tableID{"public", "t"}, Key: []string{"id", "secret"}, Columns: []catalogColumn{
		{Name: "id", TypeOID: oidInt4, TypeMod: -1, NotNull: true},
		{Name: "secret", TypeOID: oidText, TypeMod: -1, NotNull: true},
		{Name: "descr", TypeOID: oidText, TypeMod: -1},
		{Name: "code", TypeOID: oidVarchar, TypeMod: 3 + 4},
		{Name: "n", TypeOID: oidInt8, TypeMod: -1},
		{Name: "b", TypeOID: oidBytea, TypeMod: -1},
		{Name: "note", TypeOID: oidVarchar, TypeMod: -1},
		{Name: "mood", TypeOID: 90001, TypeMod: -1},
		{Name: "j", TypeOID: oidJSONB, TypeMod: -1},
	}}
	ts, err := f.build(meta, catalogColumns(meta))
	if err != nil {
		t.Fatal(err)
	}
	eb := newEventBuilder(cfg, 0, "run")
	src := eb.source(&sourceInfo{ts: time.Unix(0, 0), snapshot: snapTrue, txID: 7, hasTxID: true, table: meta.ID})
	var recs []connectors.Record
	for _, cells := range [][]string{
		{"1", "s3cret", "a long description", "abc", "1234567", `\x0102030405060708`, "a note", "happy", `{"a": 1}`},
		{"2", "x", "short", "", "1", `\x01`, "", "sad", "{}"},
	} {
		row := make([]any, len(cells))
		for i, c := range cells {
			if row[i], err = ts.parseCell(i, []byte(c)); err != nil {
				t.Fatal(err)
			}
		}
		if cells[0] == "2" {
			row[6] = nil // a null is masked too
		}
		recs = append(recs, eb.read(ts, row, src, snapshotOffset(1, 7, 0, false), newProcTime(time.Unix(0, 0))))
	}
	golden(t, "columnmap.golden", goldenRecords(t, recs))
}
