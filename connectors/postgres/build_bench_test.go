package postgres

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/convert"
)

// benchTable is the five-column table of the benchmarks, as the task
// builds its schema.
func benchTable(b *testing.B) (Config, *tableMeta, *tableSchema) {
	cfg, _ := ParseConfig(map[string]string{"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p"})
	tm := &typeMapper{decimal: "precise", time: "adaptive", binary: "bytes", interval: "numeric", placeholder: "x",
		types: func(oid uint32) *pgType { return &pgType{OID: oid, Kind: 'b'} }}
	f := &schemaFactory{cfg: cfg, filters: newFilters(cfg), types: tm}
	meta := &tableMeta{ID: tableID{"public", "bench"}, Key: []string{"id"}, Columns: []catalogColumn{
		{Name: "id", TypeOID: oidInt8, TypeMod: -1, NotNull: true}, {Name: "name", TypeOID: oidText, TypeMod: -1, NotNull: true},
		{Name: "qty", TypeOID: oidInt4, TypeMod: -1}, {Name: "price", TypeOID: oidNumeric, TypeMod: (10<<16 | 2) + 4},
		{Name: "created", TypeOID: oidTimestamptz, TypeMod: -1}}}
	ts, err := f.build(meta, catalogColumns(meta))
	if err != nil {
		b.Fatal(err)
	}
	return cfg, meta, ts
}

// benchRecord is a streamed insert into a five-column table, as built by
// the task.
func benchRecord(b *testing.B) connectors.Record {
	cfg, meta, ts := benchTable(b)
	row := []any{int64(12345), "customer 12345", int32(45), connectors.DecimalFromInt64(12345, 2), "2024-01-01T03:25:45.000000Z"}
	eb := newEventBuilder(cfg, 0, "run")
	si := &sourceInfo{ts: time.Now(), lastCommit: 123456789, lsn: 123456999, txID: 777, hasTxID: true, table: meta.ID}
	recs, err := eb.change(nil, ts, opCreate, nil, row, eb.source(si), streamOffset(1, 2, 3, 4, "INSERT", 1, nil), newProcTime(time.Now()), nil)
	if err != nil {
		b.Fatal(err)
	}
	return recs[0]
}

// BenchmarkJSONConvertRecord converts one change record with
// JsonConverter (schemas.enable=true), as the runtime does before
// producing it.
func BenchmarkJSONConvertRecord(b *testing.B) {
	r := benchRecord(b)
	kc, vc := convert.NewJSONConverter(), convert.NewJSONConverter()
	kc.Configure(map[string]string{"schemas.enable": "true"}, true)
	vc.Configure(map[string]string{"schemas.enable": "true"}, false)
	b.ReportAllocs()
	for b.Loop() {
		k, _ := kc.FromConnect(r.Topic, r.KeySchema, r.Key)
		v, _ := vc.FromConnect(r.Topic, r.ValueSchema, r.Value)
		_, _ = k, v
	}
}

// BenchmarkBuildRecord decodes a pgoutput tuple and builds its change
// record (key, value, source block, envelope, offset).
func BenchmarkBuildRecord(b *testing.B) {
	cfg, _, ts := benchTable(b)
	eb := newEventBuilder(cfg, 0, "run")
	tmpl := eb.sourceTemplate(time.Now(), "", 777, true)
	now := newProcTime(time.Now())
	tup := tuple{kinds: []byte("ttttt"), data: [][]byte{[]byte("12345"), []byte("customer 12345"), []byte("45"), []byte("123.45"), []byte("2024-01-01 03:25:45+00")}}
	b.ReportAllocs()
	var out []connectors.Record
	for b.Loop() {
		row, _ := ts.rowOf(&tup)
		src := sourceFor(tmpl, ts, 123456789, 123456999, int64(123456999))
		out, _ = eb.change(out[:0], ts, opCreate, nil, row, src, streamOffset(1, 2, 3, 4, "INSERT", 1, nil), now, nil)
	}
}

// BenchmarkBuildSnapshotRecord parses a snapshot row (text format, as the
// snapshot reads it) and builds its read record.
func BenchmarkBuildSnapshotRecord(b *testing.B) {
	cfg, meta, ts := benchTable(b)
	eb := newEventBuilder(cfg, 0, "run")
	src := eb.source(&sourceInfo{ts: time.Now(), snapshot: snapTrue, txID: 777, hasTxID: true, table: meta.ID})
	offset := snapshotOffset(123456789, 777, time.Now().UnixMicro(), false)
	now := newProcTime(time.Now())
	cells := [][]byte{[]byte("12345"), []byte("customer 12345"), []byte("45"), []byte("123.45"), []byte("2024-01-01 03:25:45+00")}
	row := make([]any, len(ts.cols))
	b.ReportAllocs()
	for b.Loop() {
		clear(row)
		for i, c := range cells {
			row[i], _ = ts.parseCell(i, c)
		}
		_ = eb.read(ts, row, src, offset, now)
	}
}

// BenchmarkBuildRecordTxMetadata is BenchmarkBuildRecord with
// provide.transaction.metadata: the transaction block and the
// transaction state in the offset.
func BenchmarkBuildRecordTxMetadata(b *testing.B) {
	cfg, _, ts := benchTable(b)
	eb := newEventBuilder(cfg, 0, "run")
	tmpl := eb.sourceTemplate(time.Now(), "", 777, true)
	now := newProcTime(time.Now())
	tup := tuple{kinds: []byte("ttttt"), data: [][]byte{[]byte("12345"), []byte("customer 12345"), []byte("45"), []byte("123.45"), []byte("2024-01-01 03:25:45+00")}}
	tx := newTxMonitor(cfg)
	tx.begin(777)
	b.ReportAllocs()
	var out []connectors.Record
	for b.Loop() {
		row, _ := ts.rowOf(&tup)
		src := sourceFor(tmpl, ts, 123456789, 123456999, int64(123456999))
		out, _ = eb.change(out[:0], ts, opCreate, nil, row, src, streamOffset(1, 2, 3, 4, "INSERT", 1, nil), now, tx)
	}
}
