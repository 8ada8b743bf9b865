package postgres

import (
	"fmt"
	"strconv"

	"github.com/jackc/pglogrepl"

	"github.com/sluicedata/sluice/connectors"
)

// Offset keys. They are Debezium's (PostgresOffsetContext, SourceInfo and
// the incremental snapshot context), so stored offsets read the same:
//
//	streaming   {"lsn", "lsn_proc", "lsn_commit", "txId", "ts_usec",
//	             "messageType", "lsn_events_processed"}
//	snapshot    {"lsn", "txId", "ts_usec", "snapshot": "INITIAL",
//	             "last_snapshot_record", "snapshot_completed"}
//	incremental {"incremental_snapshot_collections",
//	             "incremental_snapshot_primary_key",
//	             "incremental_snapshot_maximum_key"} added while one runs
//	transaction {"transaction_id",
//	             "transaction_data_collection_order_<schema.table>", …}
//	             added inside a transaction with provide.transaction.metadata
//
// Meanings, in pgoutput terms:
//
//   - lsn: the WAL position of the event (the change record's LSN); for
//     snapshot records, the position streaming continues from.
//   - lsn_commit: the end LSN of the last transaction whose every event
//     came before this one (or, for heartbeats, the idle position). It is
//     what Commit confirms to Postgres as the slot's flush position:
//     transactions committed before it are never sent again.
//   - txId, lsn, lsn_events_processed: locate the event inside its
//     transaction (events sharing an LSN, e.g. from COPY, are counted), so
//     a transaction replayed after a restart resumes right after the last
//     stored event.
//   - transaction_id, transaction_data_collection_order_*: the transaction
//     metadata state after the event (txmeta.go): the xid whose BEGIN event
//     was sent, and its events so far per table; a replayed transaction
//     continues from them.
//
// The incremental snapshot keys are Debezium's names, but the key values
// are stored as a JSON array (Debezium stores Java-serialised bytes in
// hex); a Debezium-written key restarts that table's incremental snapshot.
const (
	offLSN          = "lsn"
	offLSNProc      = "lsn_proc"
	offLSNCommit    = "lsn_commit"
	offTxID         = "txId"
	offTsUsec       = "ts_usec"
	offMsgType      = "messageType"
	offLSNEvents    = "lsn_events_processed"
	offSnapshot     = "snapshot"
	offLastSnapshot = "last_snapshot_record"
	offSnapshotDone = "snapshot_completed"
	offIncrColls    = "incremental_snapshot_collections"
	offIncrKey      = "incremental_snapshot_primary_key"
	offIncrMax      = "incremental_snapshot_maximum_key"

	snapshotTypeInitial = "INITIAL"
)

// storedOffset is a decoded offset.
type storedOffset struct {
	snapshot         bool // written while snapshotting
	snapshotFinished bool // last_snapshot_record or snapshot_completed
	lsn              pglogrepl.LSN
	lsnCommit        pglogrepl.LSN // 0 if absent
	txID             int64
	hasTxID          bool
	eventsAtLSN      int64
	incremental      *incrementalState
	// txMeta is the offset map holding the transaction metadata state
	// (transaction_id and the per-table counts), nil when it has none.
	txMeta map[string]any
}

func asBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

// decodeOffset reads a stored offset map.
func decodeOffset(m map[string]any) (storedOffset, error) {
	var o storedOffset
	lsn, ok := connectors.OffsetInt(m[offLSN])
	if !ok {
		return o, fmt.Errorf("postgres: stored offset %v has no numeric %q", m, offLSN)
	}
	o.lsn = pglogrepl.LSN(lsn)
	if c, ok := connectors.OffsetInt(m[offLSNCommit]); ok {
		o.lsnCommit = pglogrepl.LSN(c)
	}
	if tx, ok := connectors.OffsetInt(m[offTxID]); ok {
		o.txID, o.hasTxID = tx, true
	}
	if n, ok := connectors.OffsetInt(m[offLSNEvents]); ok {
		o.eventsAtLSN = n
	}
	if id, ok := m[offTxMetaID].(string); ok && id != "" {
		o.txMeta = m
	}
	if _, ok := m[offSnapshot]; ok {
		o.snapshot = true
		o.snapshotFinished = asBool(m[offLastSnapshot]) || asBool(m[offSnapshotDone])
	}
	if s, ok := m[offIncrColls].(string); ok && s != "" {
		st, err := decodeIncremental(s, m[offIncrKey], m[offIncrMax])
		if err != nil {
			return o, err
		}
		o.incremental = st
	}
	return o, nil
}

// resumeFilter drops events of a replayed stream that were already
// stored: transactions committed before commit, and in transaction txID
// the events up to (lsn, eventsAtLSN).
type resumeFilter struct {
	commit      pglogrepl.LSN
	txID        uint32
	hasTxID     bool
	lsn         pglogrepl.LSN
	eventsAtLSN int64
	txMeta      map[string]any // the stored transaction metadata state, if any
	passed      bool           // the stored event has been passed: nothing more to skip
}

func newResumeFilter(o storedOffset) *resumeFilter {
	f := &resumeFilter{commit: o.lsnCommit}
	if o.snapshot || o.lsnCommit == 0 {
		// A snapshot offset (or one without lsn_commit): stream from lsn.
		f.commit = o.lsn
		return f
	}
	if o.hasTxID {
		f.txID, f.hasTxID = uint32(o.txID), true
		f.lsn, f.eventsAtLSN = o.lsn, o.eventsAtLSN
		f.txMeta = o.txMeta
	}
	return f
}

// resumeTx returns the stored transaction metadata state when transaction
// xid, beginning now, is the one the stored offset is in and its BEGIN
// event was stored: the stream continues it rather than beginning it
// again.
func (f *resumeFilter) resumeTx(xid uint32) (map[string]any, bool) {
	if f == nil || f.passed || !f.hasTxID || f.txID != xid || f.txMeta == nil {
		return nil, false
	}
	if id, _ := f.txMeta[offTxMetaID].(string); id != strconv.FormatUint(uint64(xid), 10) {
		return nil, false
	}
	return f.txMeta, true
}

// skipTx reports whether the whole transaction committing at commitLSN
// was already stored.
func (f *resumeFilter) skipTx(commitLSN pglogrepl.LSN) bool {
	if f == nil || f.passed {
		return false
	}
	return commitLSN < f.commit
}

// skipEvent reports whether the n-th event at lsn of transaction xid was
// already stored. The first event that is not ends all skipping.
func (f *resumeFilter) skipEvent(xid uint32, lsn pglogrepl.LSN, n int64) bool {
	if f == nil || f.passed {
		return false
	}
	if f.hasTxID && xid == f.txID && (lsn < f.lsn || lsn == f.lsn && n <= f.eventsAtLSN) {
		return true
	}
	f.passed = true
	return false
}

// streamOffset returns the offset of a streamed change.
func streamOffset(lsn, commit pglogrepl.LSN, xid uint32, tsUsec int64, msgType string, n int64, incr map[string]any) map[string]any {
	m := make(map[string]any, 8+len(incr))
	m[offLSN] = int64(lsn)
	m[offLSNProc] = int64(lsn)
	m[offLSNCommit] = int64(commit)
	m[offTxID] = int64(xid)
	m[offTsUsec] = tsUsec
	m[offMsgType] = msgType
	m[offLSNEvents] = n
	for k, v := range incr {
		m[k] = v
	}
	return m
}

// idleOffset returns the offset of a heartbeat at a transaction boundary.
func idleOffset(pos pglogrepl.LSN, tsUsec int64, incr map[string]any) map[string]any {
	m := make(map[string]any, 4+len(incr))
	m[offLSN] = int64(pos)
	m[offLSNProc] = int64(pos)
	m[offLSNCommit] = int64(pos)
	m[offTsUsec] = tsUsec
	for k, v := range incr {
		m[k] = v
	}
	return m
}

// snapshotOffset returns the offset of an initial snapshot record.
func snapshotOffset(lsn pglogrepl.LSN, txID int64, tsUsec int64, last bool) map[string]any {
	return map[string]any{
		offLSN:          int64(lsn),
		offTxID:         txID,
		offTsUsec:       tsUsec,
		offSnapshot:     snapshotTypeInitial,
		offLastSnapshot: last,
		offSnapshotDone: false,
	}
}

// flushLSN returns the LSN an offset lets Commit confirm to Postgres.
func flushLSN(m map[string]any) (pglogrepl.LSN, bool) {
	if c, ok := connectors.OffsetInt(m[offLSNCommit]); ok && c > 0 {
		return pglogrepl.LSN(c), true
	}
	if _, snap := m[offSnapshot]; snap {
		// A snapshot position is where streaming starts: everything
		// before it is in the snapshot.
		if asBool(m[offLastSnapshot]) || asBool(m[offSnapshotDone]) {
			if l, ok := connectors.OffsetInt(m[offLSN]); ok && l > 0 {
				return pglogrepl.LSN(l), true
			}
		}
		return 0, false
	}
	return 0, false
}

// sameOffset reports whether two decoded offsets name the same position.
func sameOffset(a, b storedOffset) bool {
	return a.lsn == b.lsn && a.lsnCommit == b.lsnCommit && a.txID == b.txID && a.hasTxID == b.hasTxID &&
		a.eventsAtLSN == b.eventsAtLSN && a.snapshot == b.snapshot && a.snapshotFinished == b.snapshotFinished
}
