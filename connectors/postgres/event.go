package postgres

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/sluicedata/sluice/connectors"
)

// DebeziumVersion is the Debezium release whose event format this
// connector reproduces; it is what source.version says.
const DebeziumVersion = "3.4.3.Final"

// Operation codes of the envelope's op field.
const (
	opCreate   = "c"
	opUpdate   = "u"
	opDelete   = "d"
	opRead     = "r"
	opTruncate = "t"
)

// Snapshot markers of source.snapshot (Debezium's SnapshotRecord).
const (
	snapTrue         = "true"
	snapFirst        = "first"
	snapFirstInTable = "first_in_data_collection"
	snapLastInTable  = "last_in_data_collection"
	snapLast         = "last"
	snapIncremental  = "incremental"
)

// Headers Debezium adds (extended.headers.enabled, on by default since
// 3.2) and for primary key changes.
const (
	headerLogicalName = "__debezium.context.connectorLogicalName"
	headerTaskID      = "__debezium.context.taskId"
	headerConnector   = "__debezium.context.connectorName"
	headerRunID       = "__debezium.context.runId"
	headerNewKey      = "__debezium.newkey"
	headerOldKey      = "__debezium.oldkey"
)

var (
	snapshotSchema = connectors.NewSchema(connectors.TypeString).Name(connectors.DebeziumEnum).Version(1).
			Parameter("allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental").
			Default("false").Optional().MustBuild()

	// sourceSchema is io.debezium.connector.postgresql.Source.
	sourceSchema = connectors.StructSchema().Name("io.debezium.connector.postgresql.Source").Version(1).
			Field("version", connectors.StringSchema).
			Field("connector", connectors.StringSchema).
			Field("name", connectors.StringSchema).
			Field("ts_ms", connectors.Int64Schema).
			Field("snapshot", snapshotSchema).
			Field("db", connectors.StringSchema).
			Field("sequence", connectors.OptionalStringSchema).
			Field("ts_us", connectors.OptionalInt64Schema).
			Field("ts_ns", connectors.OptionalInt64Schema).
			Field("schema", connectors.StringSchema).
			Field("table", connectors.StringSchema).
			Field("txId", connectors.OptionalInt64Schema).
			Field("lsn", connectors.OptionalInt64Schema).
			Field("xmin", connectors.OptionalInt64Schema).
			MustBuild()

	// transactionSchema is the envelope's optional transaction block.
	transactionSchema = connectors.StructSchema().Optional().Name("event.block").Version(1).
				Field("id", connectors.StringSchema).
				Field("total_order", connectors.Int64Schema).
				Field("data_collection_order", connectors.Int64Schema).
				MustBuild()

	heartbeatKeySchema = connectors.StructSchema().Name("io.debezium.connector.common.ServerNameKey").Version(1).
				Field("serverName", connectors.StringSchema).MustBuild()
	heartbeatValueSchema = connectors.StructSchema().Name("io.debezium.connector.common.Heartbeat").Version(1).
				Field("ts_ms", connectors.Int64Schema).MustBuild()
)

var sourceFields = func() (f struct {
	version, connector, name, tsMs, snapshot, db, sequence, tsUs, tsNs, schema, table, txID, lsn, xmin connectors.Field
}) {
	get := func(n string) connectors.Field { x, _ := sourceSchema.Field(n); return x }
	f.version, f.connector, f.name, f.tsMs = get("version"), get("connector"), get("name"), get("ts_ms")
	f.snapshot, f.db, f.sequence, f.tsUs, f.tsNs = get("snapshot"), get("db"), get("sequence"), get("ts_us"), get("ts_ns")
	f.schema, f.table, f.txID, f.lsn, f.xmin = get("schema"), get("table"), get("txId"), get("lsn"), get("xmin")
	return f
}()

// procTime is the processing time of events (envelope ts_ms, ts_us,
// ts_ns), boxed once for many records.
type procTime struct{ ms, us, ns any }

func newProcTime(t time.Time) procTime {
	ns := t.UnixNano()
	return procTime{ms: ns / 1e6, us: ns / 1e3, ns: ns}
}

// Boxed operation codes and message types, so that records share them.
var (
	boxedOps = map[string]any{opCreate: opCreate, opUpdate: opUpdate, opDelete: opDelete, opRead: opRead, opTruncate: opTruncate}
)

// unchangedToast marks a column whose TOASTed value Postgres did not send
// because it did not change.
type unchangedToastT struct{}

var unchangedToast any = unchangedToastT{}

// relColumn is one column of a relation as it appears in tuples.
type relColumn struct {
	Name    string
	TypeOID uint32
	TypeMod int32
}

// valueField is one field of the value struct, fed from one tuple column.
type valueField struct {
	rel      int // index in tuples
	field    connectors.Field
	optional bool
	def      any // schema default, nil if none
	fallback any
	toast    any
	// mapValue, when set, converts the value field's value (column
	// truncation or masking, columnmap.go); key fields never have one.
	mapValue func(any) any
}

// tableSchema is the Connect shape of a captured table for one relation
// layout: the key, value and envelope schemas, and how tuple columns feed
// them. It is immutable once built.
type tableSchema struct {
	id          tableID
	relOID      uint32
	topic       string
	cols        []relColumn
	parse       []func([]byte) (any, error) // per tuple column; nil when not emitted
	keySchema   *connectors.Schema          // nil when the table has no key
	valueSchema *connectors.Schema
	envelope    *connectors.Schema
	keyFields   []valueField
	valueFields []valueField
	env         struct{ before, after, source, transaction, op, tsMs, tsUs, tsNs connectors.Field }
	hasKey      bool
	boxSchema   any    // id.Schema, boxed once
	boxTable    any    // id.Name
	collection  string // id.String(), Debezium's data collection name
	txCountKey  string // the offset key of the table's transaction event count
}

// schemaFactory builds tableSchemas from catalog metadata.
type schemaFactory struct {
	cfg     Config
	filters *filters
	types   *typeMapper
}

// topicFor returns Debezium's topic (and schema name prefix) for t:
// prefix.schema.table with characters Kafka rejects replaced by '_'.
func (f *schemaFactory) topicFor(t tableID) string {
	d := f.cfg.TopicDelimiter
	return sanitizeTopic(f.cfg.TopicPrefix + d + t.Schema + d + t.Name)
}

func sanitizeTopic(s string) string {
	if validTopicChars(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// build returns the schema of table meta for tuples laid out as cols.
// Columns that are in cols but not in the catalog (a column added after
// the catalog was read) are optional with no default.
func (f *schemaFactory) build(meta *tableMeta, cols []relColumn) (*tableSchema, error) {
	ts := &tableSchema{id: meta.ID, relOID: meta.OID, topic: f.topicFor(meta.ID), cols: cols,
		parse: make([]func([]byte) (any, error), len(cols)), boxSchema: meta.ID.Schema, boxTable: meta.ID.Name,
		collection: meta.ID.String()}
	ts.txCountKey = offTxMetaCountPrefix + ts.collection
	prefix := ts.topic
	schemaName := func(suffix string) string { return adjustName(f.cfg.SchemaNameAdjustment, false, prefix+suffix) }
	fieldName := func(column string) string { return adjustName(f.cfg.FieldNameAdjustment, true, column) }
	keyB := connectors.StructSchema().Name(schemaName(".Key"))
	valB := connectors.StructSchema().Name(schemaName(".Value"))
	type planned struct {
		rel    int
		schema *connectors.Schema
		vf     valueField
	}
	byName := map[string]planned{}
	var valueOrder []planned
	for i, c := range cols {
		mp, err := f.types.mapType(c.TypeOID, c.TypeMod)
		if errors.Is(err, errNoMapping) {
			continue // Debezium leaves such columns out
		}
		if err != nil {
			return nil, err
		}
		cc, known := meta.column(c.Name)
		optional := !known || !cc.NotNull
		b := mp.builder()
		if optional {
			b = b.Optional()
		}
		if known && cc.Comment != "" {
			b = b.Doc(cc.Comment)
		}
		var def any
		if known {
			if def = defaultValue(mp, cc.Default); def != nil {
				b = b.Default(def)
			}
		}
		s, err := b.Build()
		if err != nil {
			// A default Debezium would accept but the schema rejects: drop it.
			s, err = mp.builder().Build()
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", meta.ID, c.Name, err)
			}
			def = nil
		}
		ts.parse[i] = mp.parse
		if mp.bind != nil {
			ts.parse[i] = mp.bind(s)
		}
		p := planned{rel: i, schema: s, vf: valueField{rel: i, optional: optional, def: def, fallback: mp.fallback, toast: mp.toast}}
		byName[c.Name] = p
		if f.filters.columnIncluded(meta.ID, c.Name) {
			if cm := columnMapperFor(f.cfg.ColumnMappers, meta.ID, c.Name); cm != nil {
				// The value field only: Debezium builds keys without the mappers.
				vb := s.Builder()
				p.vf.mapValue = cm.apply(vb, f.types.resolve(c.TypeOID), c.TypeMod)
				if p.schema, err = vb.Build(); err != nil {
					return nil, fmt.Errorf("%s.%s: %w", meta.ID, c.Name, err)
				}
			}
			valueOrder = append(valueOrder, p)
		}
	}
	for _, p := range valueOrder {
		valB = valB.Field(fieldName(cols[p.rel].Name), p.schema)
	}
	for _, k := range f.filters.messageKey(meta, cols) {
		p, ok := byName[k]
		if !ok {
			continue
		}
		keyB = keyB.Field(fieldName(k), p.schema)
		ts.keyFields = append(ts.keyFields, p.vf)
	}
	var err error
	if ts.valueSchema, err = valB.Optional().Build(); err != nil {
		return nil, fmt.Errorf("%s: value schema: %w", meta.ID, err)
	}
	for i, p := range valueOrder {
		p.vf.field = ts.valueSchema.Fields()[i]
		ts.valueFields = append(ts.valueFields, p.vf)
	}
	if len(ts.keyFields) > 0 {
		if ts.keySchema, err = keyB.Build(); err != nil {
			return nil, fmt.Errorf("%s: key schema: %w", meta.ID, err)
		}
		for i := range ts.keyFields {
			ts.keyFields[i].field = ts.keySchema.Fields()[i]
		}
		ts.hasKey = true
	}
	ts.envelope, err = connectors.StructSchema().Name(schemaName(".Envelope")).Version(2).
		Field("before", ts.valueSchema).
		Field("after", ts.valueSchema).
		Field("source", sourceSchema).
		Field("transaction", transactionSchema).
		Field("op", connectors.StringSchema).
		Field("ts_ms", connectors.OptionalInt64Schema).
		Field("ts_us", connectors.OptionalInt64Schema).
		Field("ts_ns", connectors.OptionalInt64Schema).
		Build()
	if err != nil {
		return nil, fmt.Errorf("%s: envelope schema: %w", meta.ID, err)
	}
	get := func(n string) connectors.Field { x, _ := ts.envelope.Field(n); return x }
	ts.env.before, ts.env.after, ts.env.source, ts.env.op = get("before"), get("after"), get("source"), get("op")
	ts.env.transaction = get("transaction")
	ts.env.tsMs, ts.env.tsUs, ts.env.tsNs = get("ts_ms"), get("ts_us"), get("ts_ns")
	return ts, nil
}

// catalogColumns is the tuple layout of a snapshot query: every catalog
// column, in order.
func catalogColumns(meta *tableMeta) []relColumn {
	out := make([]relColumn, len(meta.Columns))
	for i, c := range meta.Columns {
		out[i] = relColumn{Name: c.Name, TypeOID: c.TypeOID, TypeMod: c.TypeMod}
	}
	return out
}

// sameLayout reports whether a relation message describes the layout ts
// was built for.
func (ts *tableSchema) sameLayout(cols []relColumn) bool {
	if len(cols) != len(ts.cols) {
		return false
	}
	for i := range cols {
		if cols[i] != ts.cols[i] {
			return false
		}
	}
	return true
}

// parseTuple converts the text of each column into its Connect value.
// raw[i] is nil for SQL NULL; toast[i] marks an unchanged TOASTed value.
// The row has one entry per tuple column.
func (ts *tableSchema) parseCell(i int, raw []byte) (any, error) {
	p := ts.parse[i]
	if p == nil {
		return nil, nil
	}
	v, err := p(raw)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", ts.id, ts.cols[i].Name, err)
	}
	return v, nil
}

// fieldValue is the value of field vf for the cell v: a missing value
// resolved (fieldValueOf), then the column mapper's conversion.
func fieldValue(vf *valueField, v any) any {
	if vf.mapValue != nil {
		return vf.mapValue(fieldValueOf(vf, v))
	}
	return fieldValueOf(vf, v)
}

// fieldValueOf resolves an unchanged TOASTed value to the placeholder and
// a null in a required field to its default or fallback.
func fieldValueOf(vf *valueField, v any) any {
	if v == unchangedToast {
		if vf.toast != nil {
			return vf.toast
		}
		v = nil
	}
	if v == nil && !vf.optional {
		if vf.def != nil {
			return vf.def
		}
		return vf.fallback
	}
	return v
}

// valueStruct builds the value (before or after) from a row.
//
// The row's cells come from the parsers chosen with each field's schema
// (typeMapper), and fieldValue falls back to the schema's default or the
// mapping's own zero value: they match the schema by construction, so
// the struct is built without validating each field again (a sixth of the
// snapshot's CPU went there). The invariants build tag checks it.
func (ts *tableSchema) valueStruct(row []any) *connectors.Struct {
	vals := make([]any, len(ts.valueFields))
	for i := range ts.valueFields {
		vf := &ts.valueFields[i]
		vals[i] = fieldValue(vf, row[vf.rel])
	}
	return connectors.NewStructUnchecked(ts.valueSchema, vals)
}

// keyStruct builds the key from a row, or nil if the table has no key,
// as valueStruct builds the value.
func (ts *tableSchema) keyStruct(row []any) *connectors.Struct {
	if !ts.hasKey {
		return nil
	}
	vals := make([]any, len(ts.keyFields))
	for i := range ts.keyFields {
		vf := &ts.keyFields[i]
		vals[i] = fieldValue(vf, row[vf.rel])
	}
	return connectors.NewStructUnchecked(ts.keySchema, vals)
}

// sourceInfo is the content of one event's source block.
type sourceInfo struct {
	ts         time.Time // commit time (streaming) or snapshot time
	snapshot   string    // "" when streaming
	lastCommit pglogrepl.LSN
	lsn        pglogrepl.LSN
	txID       int64
	hasTxID    bool
	table      tableID
}

// eventBuilder assembles records in Debezium's shape.
type eventBuilder struct {
	cfg       Config
	partition map[string]any
	headers   connectors.Headers // context headers, shared read-only
	boxName   any                // topic.prefix, boxed once
	boxDB     any                // database.dbname
}

func newEventBuilder(cfg Config, taskID int, runID string) *eventBuilder {
	b := &eventBuilder{cfg: cfg, partition: map[string]any{"server": cfg.TopicPrefix}, boxName: cfg.TopicPrefix, boxDB: cfg.DBName}
	b.headers.Add(headerLogicalName, connectors.StringSchema, cfg.TopicPrefix)
	b.headers.Add(headerTaskID, connectors.StringSchema, strconv.Itoa(taskID))
	b.headers.Add(headerConnector, connectors.StringSchema, "postgresql")
	b.headers.Add(headerRunID, connectors.StringSchema, runID)
	return b
}

// sequenceString is Debezium's source.sequence: a JSON array of the last
// commit LSN and the event LSN, as strings (null when unknown).
func sequenceString(lastCommit, lsn pglogrepl.LSN) string {
	var buf [64]byte
	b := append(buf[:0], '[')
	for i, v := range [2]pglogrepl.LSN{lastCommit, lsn} {
		if i > 0 {
			b = append(b, ',')
		}
		if v == 0 {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '"')
		b = strconv.AppendUint(b, uint64(v), 10)
		b = append(b, '"')
	}
	return string(append(b, ']'))
}

func (b *eventBuilder) source(si *sourceInfo) *connectors.Struct {
	s := b.sourceTemplate(si.ts, si.snapshot, si.txID, si.hasTxID && si.snapshot != snapIncremental)
	f := &sourceFields
	_ = s.PutField(f.sequence, sequenceString(si.lastCommit, si.lsn))
	_ = s.PutField(f.schema, si.table.Schema)
	_ = s.PutField(f.table, si.table.Name)
	if si.snapshot != snapIncremental && si.lsn != 0 {
		_ = s.PutField(f.lsn, int64(si.lsn))
	}
	return s
}

// sourceTemplate returns a source block with the fields shared by the
// events of one transaction (or snapshot); sourceFor completes a copy of
// it per event.
func (b *eventBuilder) sourceTemplate(ts time.Time, snapshot string, txID int64, hasTxID bool) *connectors.Struct {
	s := connectors.NewStruct(sourceSchema)
	f := &sourceFields
	us := ts.UnixMicro()
	_ = s.PutField(f.version, DebeziumVersion)
	_ = s.PutField(f.connector, "postgresql")
	_ = s.PutField(f.name, b.boxName)
	_ = s.PutField(f.tsMs, floorDiv(us, 1000))
	if snapshot != "" {
		_ = s.PutField(f.snapshot, snapshot)
	}
	_ = s.PutField(f.db, b.boxDB)
	_ = s.PutField(f.tsUs, us)
	_ = s.PutField(f.tsNs, us*1000)
	if hasTxID {
		_ = s.PutField(f.txID, txID)
	}
	return s
}

// sourceFor completes a copy of a transaction's source template for one
// event of table ts at lsn.
func sourceFor(tmpl *connectors.Struct, ts *tableSchema, lastCommit, lsn pglogrepl.LSN, boxedLSN any) *connectors.Struct {
	s := tmpl.Clone()
	f := &sourceFields
	_ = s.PutField(f.sequence, sequenceString(lastCommit, lsn))
	_ = s.PutField(f.schema, ts.boxSchema)
	_ = s.PutField(f.table, ts.boxTable)
	_ = s.PutField(f.lsn, boxedLSN)
	return s
}

// envelope builds the envelope value; tx is its transaction block (nil
// without transaction metadata).
func (b *eventBuilder) envelope(ts *tableSchema, op string, before, after, source, tx *connectors.Struct, now procTime) *connectors.Struct {
	// Field order of the envelope schema built in build: before, after,
	// source, transaction, op, ts_ms, ts_us, ts_ns.
	vals := make([]any, envelopeFields)
	if before != nil {
		vals[ts.env.before.Index()] = before
	}
	if after != nil {
		vals[ts.env.after.Index()] = after
	}
	vals[ts.env.source.Index()] = source
	if tx != nil {
		vals[ts.env.transaction.Index()] = tx
	}
	vals[ts.env.op.Index()] = boxedOps[op]
	vals[ts.env.tsMs.Index()], vals[ts.env.tsUs.Index()], vals[ts.env.tsNs.Index()] = now.ms, now.us, now.ns
	return connectors.NewStructUnchecked(ts.envelope, vals)
}

// envelopeFields is the number of fields of an envelope schema.
const envelopeFields = 8

// record wraps a change event into a Record.
func (b *eventBuilder) record(ts *tableSchema, key *connectors.Struct, value *connectors.Struct, offset map[string]any, extra ...connectors.Header) connectors.Record {
	r := connectors.Record{
		Topic:           ts.topic,
		ValueSchema:     ts.envelope,
		Value:           value,
		SourcePartition: b.partition,
		SourceOffset:    offset,
		Headers:         b.headers,
	}
	if len(extra) > 0 {
		// Debezium adds the context headers after the record's own.
		r.Headers = append(append(connectors.Headers(nil), extra...), b.headers...)
	}
	if ts.hasKey && key != nil {
		r.KeySchema, r.Key = ts.keySchema, key
	}
	return r
}

// read returns the snapshot record (op r) of row. Its key, value and
// envelope structs share one allocation and their values another: a
// snapshot builds millions of these, and allocation is most of its cost.
// row is not retained.
func (b *eventBuilder) read(ts *tableSchema, row []any, src *connectors.Struct, offset map[string]any, now procTime) connectors.Record {
	nv, nk := len(ts.valueFields), len(ts.keyFields)
	vals := make([]any, nv+nk+envelopeFields)
	structs := new([3]connectors.Struct)
	value, key, env := vals[:nv:nv], vals[nv:nv+nk:nv+nk], vals[nv+nk:]
	for i := range ts.valueFields {
		vf := &ts.valueFields[i]
		value[i] = fieldValue(vf, row[vf.rel])
	}
	connectors.InitStructUnchecked(&structs[0], ts.valueSchema, value)
	env[ts.env.after.Index()] = &structs[0]
	env[ts.env.source.Index()] = src
	env[ts.env.op.Index()] = boxedOps[opRead]
	env[ts.env.tsMs.Index()], env[ts.env.tsUs.Index()], env[ts.env.tsNs.Index()] = now.ms, now.us, now.ns
	connectors.InitStructUnchecked(&structs[2], ts.envelope, env)
	var k *connectors.Struct
	if ts.hasKey {
		for i := range ts.keyFields {
			vf := &ts.keyFields[i]
			key[i] = fieldValue(vf, row[vf.rel])
		}
		connectors.InitStructUnchecked(&structs[1], ts.keySchema, key)
		k = &structs[1]
	}
	return b.record(ts, k, &structs[2], offset)
}

// tombstone returns the tombstone following a delete record.
func tombstone(del connectors.Record) connectors.Record {
	t := del
	t.ValueSchema, t.Value = nil, nil
	return t
}

// change appends the records of one row change (op c, u, d or r) to out:
// PK changes become delete (+ tombstone) and create, deletes get a
// tombstone when configured, as Debezium emits them.
//
// tx, when transaction metadata is on (nil otherwise), counts each event
// (a PK change's delete and create apart; tombstones do not count), and
// writes the transaction state into its offset: offset, which must be
// the caller's own, or a copy of it for the create of a PK change.
func (b *eventBuilder) change(out []connectors.Record, ts *tableSchema, op string, oldRow, newRow []any, src *connectors.Struct, offset map[string]any, now procTime, tx *txMonitor) (res []connectors.Record, err error) {
	var before, after, oldKey, newKey *connectors.Struct
	if oldRow != nil {
		before, oldKey = ts.valueStruct(oldRow), ts.keyStruct(oldRow)
	}
	if newRow != nil {
		after, newKey = ts.valueStruct(newRow), ts.keyStruct(newRow)
	}
	// A change that becomes several records (a delete and its tombstone;
	// a key change's delete, tombstone and create) has one position in
	// the stream. Only its last record carries it; the others carry the
	// position before the change, so that a restart from any of them
	// replays the whole change (a duplicate) rather than skipping the
	// records not yet stored (a loss).
	var prev map[string]any
	if op == opDelete && b.cfg.TombstonesOnDelete || op == opUpdate && oldKey != nil && !oldKey.Equal(newKey) {
		prev = positionBefore(offset, tx)
		start := len(out)
		defer func() {
			for i := start; i < len(res)-1; i++ {
				res[i].SourceOffset = prev
			}
		}()
	}
	// event counts an emitted event in the transaction metadata and
	// returns its transaction block (nil when that is off).
	event := func(off map[string]any) *connectors.Struct {
		if tx == nil {
			return nil
		}
		return tx.event(ts, off)
	}
	switch op {
	case opCreate, opRead:
		return append(out, b.record(ts, newKey, b.envelope(ts, op, nil, after, src, event(offset), now), offset)), nil
	case opUpdate:
		if oldKey == nil || oldKey.Equal(newKey) {
			if b.cfg.skipped(opUpdate) {
				return out, nil
			}
			return append(out, b.record(ts, newKey, b.envelope(ts, op, before, after, src, event(offset), now), offset)), nil
		}
		// A key change: delete under the old key, create under the new.
		// skipped.operations applies to each, as Debezium's dispatcher
		// filters the operations emitted, not the update.
		skipDel := b.cfg.skipped(opDelete)
		if !skipDel {
			del := b.record(ts, oldKey, b.envelope(ts, opDelete, before, nil, src, event(offset), now), offset,
				connectors.Header{Key: headerNewKey, Schema: ts.keySchema, Value: newKey})
			out = append(out, del)
			if b.cfg.TombstonesOnDelete {
				out = append(out, tombstone(del))
			}
		}
		if b.cfg.skipped(opCreate) {
			return out, nil
		}
		if tx != nil && !skipDel {
			offset = maps.Clone(offset) // the delete's holds its own count
		}
		return append(out, b.record(ts, newKey, b.envelope(ts, opCreate, nil, after, src, event(offset), now), offset,
			connectors.Header{Key: headerOldKey, Schema: ts.keySchema, Value: oldKey})), nil
	case opDelete:
		del := b.record(ts, oldKey, b.envelope(ts, op, before, nil, src, event(offset), now), offset)
		out = append(out, del)
		if b.cfg.TombstonesOnDelete {
			out = append(out, tombstone(del))
		}
		return out, nil
	}
	return out, fmt.Errorf("%w: operation %q", ErrProtocol, op)
}

// positionBefore returns the offset of the position just before the
// change whose offset is offset: the same transaction and LSN with one
// event fewer processed at that LSN, and the transaction metadata state
// (tx, nil when off) before the change was counted.
func positionBefore(offset map[string]any, tx *txMonitor) map[string]any {
	prev := maps.Clone(offset)
	if n, ok := offset[offLSNEvents].(int64); ok && n > 0 {
		prev[offLSNEvents] = n - 1
	}
	tx.carry(prev)
	return prev
}

// truncate returns the truncate event of a table: no key, no before or
// after. tx counts it as change does.
func (b *eventBuilder) truncate(ts *tableSchema, src *connectors.Struct, offset map[string]any, now procTime, tx *txMonitor) connectors.Record {
	var block *connectors.Struct
	if tx != nil {
		block = tx.event(ts, offset)
	}
	r := b.record(ts, nil, b.envelope(ts, opTruncate, nil, nil, src, block, now), offset)
	r.KeySchema, r.Key = nil, nil
	return r
}

// heartbeat returns a heartbeat record carrying offset. Debezium sends
// heartbeats to partition 0, without context headers.
func (b *eventBuilder) heartbeat(offset map[string]any, now time.Time) connectors.Record {
	key := connectors.NewStruct(heartbeatKeySchema)
	_ = key.Put("serverName", b.cfg.TopicPrefix)
	val := connectors.NewStruct(heartbeatValueSchema)
	_ = val.Put("ts_ms", now.UnixMilli())
	return connectors.Record{
		Topic:           b.cfg.HeartbeatTopicPrefix + b.cfg.TopicDelimiter + b.cfg.TopicPrefix,
		KeySchema:       heartbeatKeySchema,
		Key:             key,
		ValueSchema:     heartbeatValueSchema,
		Value:           val,
		Partition:       connectors.PartitionOf(0),
		SourcePartition: b.partition,
		SourceOffset:    offset,
	}
}
