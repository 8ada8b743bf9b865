package postgres

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

type msgBuilder []byte

func (b msgBuilder) u8(v byte) msgBuilder    { return append(b, v) }
func (b msgBuilder) u16(v uint16) msgBuilder { return binary.BigEndian.AppendUint16(b, v) }
func (b msgBuilder) u32(v uint32) msgBuilder { return binary.BigEndian.AppendUint32(b, v) }
func (b msgBuilder) u64(v uint64) msgBuilder { return binary.BigEndian.AppendUint64(b, v) }
func (b msgBuilder) str(s string) msgBuilder { return append(append(b, s...), 0) }
func (b msgBuilder) text(s string) msgBuilder {
	return b.u8('t').u32(uint32(len(s))).append([]byte(s))
}
func (b msgBuilder) append(p []byte) msgBuilder { return append(b, p...) }

func TestDecodeMessages(t *testing.T) {
	commit := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	pgMicros := uint64(commit.UnixMicro() - pgEpochMicros)
	bm, err := decodeBegin(msgBuilder{}.u64(0x1000).u64(pgMicros).u32(42))
	if err != nil || bm.finalLSN != 0x1000 || bm.xid != 42 || !bm.commitTime.Equal(commit) {
		t.Fatalf("begin %+v %v", bm, err)
	}
	cm, err := decodeCommit(msgBuilder{}.u8(0).u64(0x1000).u64(0x1030).u64(pgMicros))
	if err != nil || cm.commitLSN != 0x1000 || cm.endLSN != 0x1030 {
		t.Fatalf("commit %+v %v", cm, err)
	}
	rel, err := decodeRelation(msgBuilder{}.u32(16400).str("public").str("t").u8('d').u16(2).
		u8(1).str("id").u32(oidInt4).u32(0xffffffff).
		u8(0).str("name").u32(oidText).u32(0xffffffff))
	if err != nil || rel.oid != 16400 || rel.name != "t" || len(rel.cols) != 2 || !rel.keyFlags[0] || rel.keyFlags[1] || rel.cols[1].TypeMod != -1 {
		t.Fatalf("relation %+v %v", rel, err)
	}
	// An update with the old key, a NULL, and an unchanged TOAST value.
	upd := msgBuilder{}.u8('U').u32(16400).u8('K').u16(2).text("1").u8('n').u8('N').u16(2).text("2").u8('u')
	var ch changeMsg
	if err := decodeChange(upd, &ch); err != nil {
		t.Fatal(err)
	}
	if ch.kind != msgUpdate || ch.oldKind != 'K' || string(ch.new.data[0]) != "2" || ch.new.kinds[1] != tupleUnchanged {
		t.Fatalf("update %+v", ch)
	}
	m := testMapper()
	cfg, _ := ParseConfig(baseConfig())
	f := &schemaFactory{cfg: cfg, filters: newFilters(cfg), types: m}
	ts, err := f.build(&tableMeta{ID: tableID{"public", "t"}, Key: []string{"id"},
		Columns: []catalogColumn{{Name: "id", TypeOID: oidInt4, TypeMod: -1, NotNull: true}, {Name: "name", TypeOID: oidText, TypeMod: -1}}}, rel.cols)
	if err != nil {
		t.Fatal(err)
	}
	row, err := ts.rowOf(&ch.new)
	if err != nil || row[0] != int32(2) || row[1] != unchangedToast {
		t.Fatalf("row %v %v", row, err)
	}
	v := ts.valueStruct(row)
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	if name, _ := v.Get("name"); name != DefaultToastPlaceholder {
		t.Errorf("unchanged TOAST → %v", name)
	}
	old, _ := ts.rowOf(&ch.old)
	k := ts.keyStruct(old)
	if id, _ := k.Get("id"); id != int32(1) {
		t.Errorf("old key %v", k)
	}
	tr, err := decodeTruncate(msgBuilder{}.u32(2).u8(1).u32(16400).u32(16401))
	if err != nil || len(tr.rels) != 2 || tr.options != 1 {
		t.Fatalf("truncate %+v %v", tr, err)
	}
	if _, err := decodeBegin([]byte{1, 2}); err == nil {
		t.Error("short begin decoded")
	}
	if err := decodeChange(msgBuilder{}.u8('I').u32(1).u8('N').u16(3).text("x"), &ch); err == nil {
		t.Error("truncated tuple decoded")
	}
}

func TestEnvelopeOfChange(t *testing.T) {
	cfg, _ := ParseConfig(baseConfig())
	f := &schemaFactory{cfg: cfg, filters: newFilters(cfg), types: testMapper()}
	ts, err := f.build(&tableMeta{ID: tableID{"inventory", "customers"}, Key: []string{"id"},
		Columns: []catalogColumn{{Name: "id", TypeOID: oidInt4, TypeMod: -1, NotNull: true, Default: "nextval('c_id_seq'::regclass)"},
			{Name: "email", TypeOID: oidText, TypeMod: -1, Comment: "contact"}}}, []relColumn{{"id", oidInt4, -1}, {"email", oidText, -1}})
	if err != nil {
		t.Fatal(err)
	}
	if ts.topic != "dbserver1.inventory.customers" || ts.keySchema.Name() != "dbserver1.inventory.customers.Key" ||
		ts.valueSchema.Name() != "dbserver1.inventory.customers.Value" || ts.envelope.Name() != "dbserver1.inventory.customers.Envelope" {
		t.Errorf("names %s %s %s %s", ts.topic, ts.keySchema.Name(), ts.valueSchema.Name(), ts.envelope.Name())
	}
	if v, _ := ts.envelope.Version(); v != 2 {
		t.Errorf("envelope version %d", v)
	}
	var names []string
	for _, fl := range ts.envelope.Fields() {
		names = append(names, fl.Name())
	}
	if got := joinNames(names); got != "before,after,source,transaction,op,ts_ms,ts_us,ts_ns" {
		t.Errorf("envelope fields %s", got)
	}
	eb := newEventBuilder(cfg, 0, "run")
	tmpl := eb.sourceTemplate(time.UnixMicro(1700000000123456), "", 5, true)
	src := sourceFor(tmpl, ts, 100, 120, int64(120))
	recs, err := eb.change(nil, ts, opDelete, []any{int32(7), nil}, nil, src, streamOffset(120, 100, 5, 1, "DELETE", 1, nil), newProcTime(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Value != nil || !recs[1].Key.(*connectors.Struct).Equal(recs[0].Key.(*connectors.Struct)) {
		t.Fatalf("delete + tombstone: %+v", recs)
	}
	s, _ := recs[0].Value.(*connectors.Struct).Get("source")
	for name, want := range map[string]any{"version": DebeziumVersion, "connector": "postgresql", "name": "dbserver1", "db": "inventory",
		"schema": "inventory", "table": "customers", "txId": int64(5), "lsn": int64(120), "ts_ms": int64(1700000000123),
		"ts_us": int64(1700000000123456), "sequence": `["100","120"]`, "snapshot": "false"} {
		if got, _ := s.(*connectors.Struct).Get(name); !connectors.ValuesEqual(got, want) {
			t.Errorf("source.%s = %v, want %v", name, got, want)
		}
	}
}

func joinNames(n []string) string {
	out := ""
	for i, s := range n {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}
