package postgres

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/jackc/pglogrepl"
	"github.com/sluicedata/sluice/connectors"
)

// Transaction metadata (provide.transaction.metadata=true), as Debezium
// 3.4's TransactionMonitor, PostgresTransactionMonitor and
// TransactionContext produce it:
//
//   - When pgoutput's BEGIN message arrives, a BEGIN event goes to
//     <topic.prefix><topic.delimiter><topic.transaction>; at its COMMIT, an
//     END event with the number of events, in total and per table. Every
//     transaction the stream delivers gets the pair, even one none of whose
//     changes is captured (END with event_count 0): pgoutput sends BEGIN
//     and COMMIT for a transaction once one of its changes is in the
//     publication (Postgres 15+; before 15, for every transaction), and
//     Debezium's streaming source emits BEGIN on that message, not lazily
//     before the first captured event.
//   - Every streamed change event (c, u, d, t; not tombstones, heartbeats
//     or snapshot reads) counts, and its envelope's transaction block says
//     its position in the transaction (total_order) and among the events of
//     its table (data_collection_order), both from 1. A primary key change
//     counts twice (its delete and its create).
//   - The id is "<xid>:<lsn>" where lsn is the WAL position of the message
//     being handled (PostgresTransactionMonitor takes the offset's
//     lastSeenLsn): the BEGIN message's for BEGIN, the change's for an
//     event, the end of the commit record for END. It is therefore not the
//     same on the events of one transaction; the xid part is.
//   - The offsets of the BEGIN, END and data events carry the transaction
//     state (TransactionContext.store): "transaction_id" (the xid, a
//     string) and "transaction_data_collection_order_<schema.table>" (the
//     table's events so far) for each table.
//
// Unlike Debezium, whose replayed BEGIN message restarts the counts, a
// transaction replayed after a restart continues from the stored state:
// the BEGIN event is not sent again if it was stored, and the orders and
// the END counts cover the whole transaction.

// Schemas of the transaction metadata topic (Debezium's SchemaFactory).
var (
	txKeySchema = connectors.StructSchema().Name("io.debezium.connector.common.TransactionMetadataKey").Version(1).
			Field("id", connectors.StringSchema).
			MustBuild()
	txCollectionSchema = connectors.StructSchema().Optional().Name("event.collection").Version(1).
				Field("data_collection", connectors.StringSchema).
				Field("event_count", connectors.Int64Schema).
				MustBuild()
	txValueSchema = connectors.StructSchema().Name("io.debezium.connector.common.TransactionMetadataValue").Version(1).
			Field("status", connectors.StringSchema).
			Field("id", connectors.StringSchema).
			Field("event_count", connectors.OptionalInt64Schema).
			Field("data_collections", connectors.ArraySchema(txCollectionSchema).Optional().MustBuild()).
			Field("ts_ms", connectors.Int64Schema).
			MustBuild()
)

// Statuses of the transaction metadata events.
const (
	txBegin = "BEGIN"
	txEnd   = "END"
)

// Offset keys of the transaction state (TransactionContext).
const (
	offTxMetaID          = "transaction_id"
	offTxMetaCountPrefix = "transaction_data_collection_order_"
)

// txCount is the number of events of one table in the current
// transaction.
type txCount struct {
	collection string // "schema.table"
	offsetKey  string // offTxMetaCountPrefix + collection
	hash       uint32 // javaHash(collection)
	n          int64
}

// txMonitor tracks the transaction being streamed: its id and its event
// counts. It belongs to the streamer's goroutine.
type txMonitor struct {
	topic  string
	active bool // a transaction is open (its BEGIN was sent, or stored before a restart)
	xid    uint32
	xidStr string // the xid in decimal: transaction_id
	boxID  any    // xidStr, boxed once
	total  int64
	counts []txCount // in the order the tables first appeared
	// capacity is the table size of the Java HashMap Debezium counts in:
	// it orders data_collections, and clearing the map between
	// transactions keeps it.
	capacity int
	// last is the offset of the transaction's last BEGIN or data event:
	// the state a restarted stream continues from.
	last map[string]any

	id    string // the last id built, for idXID and idLSN
	idXID uint32
	idLSN pglogrepl.LSN
}

func newTxMonitor(cfg Config) *txMonitor {
	return &txMonitor{topic: cfg.TopicPrefix + cfg.TopicDelimiter + cfg.TransactionTopic}
}

// begin opens transaction xid with no events.
func (m *txMonitor) begin(xid uint32) {
	m.active, m.xid, m.xidStr = true, xid, strconv.FormatUint(uint64(xid), 10)
	m.boxID = m.xidStr
	m.total, m.counts, m.last = 0, m.counts[:0], nil
}

// restore opens transaction xid with the counts stored in offset, as
// Debezium's TransactionContext.load does (into a new map).
func (m *txMonitor) restore(xid uint32, offset map[string]any) {
	m.begin(xid)
	m.capacity = 0
	var names []string
	for k := range offset {
		if strings.HasPrefix(k, offTxMetaCountPrefix) {
			names = append(names, k[len(offTxMetaCountPrefix):])
		}
	}
	slices.Sort(names)
	for _, name := range names {
		n, _ := connectors.OffsetInt(offset[offTxMetaCountPrefix+name])
		m.add(txCount{collection: name, offsetKey: offTxMetaCountPrefix + name, hash: javaHash(name), n: n})
		m.total += n
	}
	m.last = offset
}

// end closes the transaction.
func (m *txMonitor) end() { m.active, m.last = false, nil }

// add appends a table, growing capacity as Java's HashMap.putVal grows
// its table: at the first insertion (16), when the size passes three
// quarters of it, and when a bucket that already holds 8 keys gets a
// ninth while the table is smaller than 64 (treeifyBin resizes instead).
func (m *txMonitor) add(c txCount) {
	if m.capacity == 0 {
		m.capacity = 16
	}
	mask := uint32(m.capacity - 1)
	inBucket := 0
	for i := range m.counts {
		if m.counts[i].hash&mask == c.hash&mask {
			inBucket++
		}
	}
	m.counts = append(m.counts, c)
	if inBucket >= 8 && m.capacity < 64 {
		m.capacity *= 2
	}
	if len(m.counts) > m.capacity/4*3 {
		m.capacity *= 2
	}
}

// event counts an event of ts, writes the transaction state into its
// offset (whose lsn is the event's) and returns its transaction block.
func (m *txMonitor) event(ts *tableSchema, offset map[string]any) *connectors.Struct {
	i := -1
	for j := range m.counts {
		if m.counts[j].collection == ts.collection {
			i = j
			break
		}
	}
	if i < 0 {
		m.add(txCount{collection: ts.collection, offsetKey: ts.txCountKey, hash: javaHash(ts.collection)})
		i = len(m.counts) - 1
	}
	m.counts[i].n++
	m.total++
	lsn, _ := offset[offLSN].(int64)
	block := connectors.NewStructUnchecked(transactionSchema, []any{m.idAt(pglogrepl.LSN(lsn)), m.total, m.counts[i].n})
	m.stamp(offset)
	return block
}

// stamp writes the transaction state into offset, which becomes the
// state to resume from.
func (m *txMonitor) stamp(offset map[string]any) {
	offset[offTxMetaID] = m.boxID
	for i := range m.counts {
		offset[m.counts[i].offsetKey] = m.counts[i].n
	}
	m.last = offset
}

// carry writes the transaction state, if a transaction is open, into the
// offset of a record that is not counted (an incremental snapshot row
// emitted inside the transaction). m may be nil.
func (m *txMonitor) carry(offset map[string]any) {
	if m == nil || !m.active {
		return
	}
	offset[offTxMetaID] = m.boxID
	for i := range m.counts {
		offset[m.counts[i].offsetKey] = m.counts[i].n
	}
}

// offsetKeys is how many keys stamp adds to an offset. m may be nil.
func (m *txMonitor) offsetKeys() int {
	if m == nil {
		return 0
	}
	return 1 + len(m.counts)
}

// idAt returns the transaction id as PostgresTransactionMonitor writes it
// for a message at lsn: "<xid>:<lsn>".
func (m *txMonitor) idAt(lsn pglogrepl.LSN) string {
	if m.id == "" || m.idLSN != lsn || m.idXID != m.xid {
		m.id, m.idXID, m.idLSN = m.xidStr+":"+strconv.FormatUint(uint64(lsn), 10), m.xid, lsn
	}
	return m.id
}

// dataCollections returns END's data_collections in the iteration order
// of the Java HashMap Debezium counts in: by bucket (the key's hash
// modulo the table size), then by insertion. (A bucket that Java turns
// into a tree, 9 or more colliding tables in a map of 64 buckets or more,
// may iterate in another order.)
func (m *txMonitor) dataCollections() []any {
	order := make([]int, len(m.counts))
	for i := range order {
		order[i] = i
	}
	mask := uint32(m.capacity - 1)
	slices.SortStableFunc(order, func(a, b int) int {
		return int(m.counts[a].hash&mask) - int(m.counts[b].hash&mask)
	})
	out := make([]any, len(order))
	for j, i := range order {
		out[j] = connectors.NewStructUnchecked(txCollectionSchema, []any{m.counts[i].collection, m.counts[i].n})
	}
	return out
}

// javaHash is what Java's HashMap.hash computes for a String key:
// String.hashCode over UTF-16 code units, its high half folded into the
// low.
func javaHash(s string) uint32 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			h = 31*h + uint32(r1)
			h = 31*h + uint32(r2)
			continue
		}
		h = 31*h + uint32(r)
	}
	return h ^ h>>16
}

// txRecord returns the BEGIN or END event of m's transaction, at lsn,
// committed at commitTime. Like Debezium's it has no headers and no
// partition.
func (b *eventBuilder) txRecord(m *txMonitor, status string, lsn pglogrepl.LSN, commitTime time.Time, offset map[string]any) connectors.Record {
	id := m.idAt(lsn)
	vals := []any{status, id, nil, nil, floorDiv(commitTime.UnixMicro(), 1000)}
	if status == txEnd {
		vals[2], vals[3] = m.total, m.dataCollections()
	}
	return connectors.Record{
		Topic:           m.topic,
		KeySchema:       txKeySchema,
		Key:             connectors.NewStructUnchecked(txKeySchema, []any{id}),
		ValueSchema:     txValueSchema,
		Value:           connectors.NewStructUnchecked(txValueSchema, vals),
		SourcePartition: b.partition,
		SourceOffset:    offset,
	}
}

// beginTx handles pgoutput's BEGIN message, at lsn, of a transaction that
// was not entirely stored: it queues the BEGIN event, or, when the stored
// offset is inside this transaction with its BEGIN event stored,
// continues the stored counts.
func (st *streamer) beginTx(ctx context.Context, lsn pglogrepl.LSN) error {
	if stored, ok := st.filter.resumeTx(st.xid); ok {
		st.tx.restore(st.xid, stored)
		return nil
	}
	st.tx.begin(st.xid)
	off := st.offset(lsn, any(int64(lsn)), msgBegin, 0)
	delete(off, offLSNEvents)
	st.tx.stamp(off)
	// The events of the transaction come after this position (at a
	// greater lsn, or at the same one with a count from 1).
	st.setPos(storedOffset{lsn: lsn, lsnCommit: st.lastCommitEnd, txID: int64(st.xid), hasTxID: true})
	return st.add(ctx, st.t.events.txRecord(st.tx, txBegin, lsn, st.commitTime, off))
}

// endTx handles the COMMIT message, at lsn (the end of the commit
// record), of the open transaction: it queues the END event, whose offset
// is the position after the transaction.
func (st *streamer) endTx(ctx context.Context, lsn pglogrepl.LSN, commitTime time.Time) error {
	off := st.offset(lsn, any(int64(lsn)), msgCommit, 0)
	delete(off, offLSNEvents)
	st.tx.stamp(off)
	rec := st.t.events.txRecord(st.tx, txEnd, lsn, commitTime, off)
	st.tx.end()
	return st.add(ctx, rec)
}

// position returns the position after the last message handled, with
// the open transaction's metadata state. (Outside a transaction the
// position has none, except the stored position the stream started from.)
func (st *streamer) position() *storedOffset {
	pos := st.curPos
	if st.tx != nil && st.tx.active {
		pos.txMeta = st.tx.last
	}
	return &pos
}
