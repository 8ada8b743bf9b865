package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Incremental snapshots (Debezium's DDD-3, after Netflix's DBLog).
//
// An INSERT into the signalling table (signal.data.collection) with type
// 'execute-snapshot' and data {"data-collections": ["schema.table", …],
// "type": "incremental"} starts one; 'stop-snapshot' cancels it. The
// signal arrives through the replication stream, so it takes effect at
// its place in the change order.
//
// Each table is read in primary-key order, in chunks of
// incremental.snapshot.chunk.size rows, while streaming goes on. For a
// chunk the task, between two transactions of the stream:
//
//  1. inserts a low watermark row ('<id>-open', 'snapshot-window-open'),
//  2. reads the chunk (key > last key of the previous chunk, ≤ the
//     table's maximum key when the table's snapshot began) into a buffer,
//  3. inserts a high watermark row ('<id>-close', 'snapshot-window-close').
//
// It then keeps streaming. Between the two watermarks as they come
// through the stream (the "window"), every streamed change to a row in
// the buffer removes that row from the buffer: the change is newer than
// or as new as what the chunk read, and is emitted as usual. At the high
// watermark the rows left in the buffer are emitted as op=r events with
// source.snapshot="incremental". No read event can overwrite a newer
// change, and no row is missed: rows changed before the low watermark are
// in the chunk as of their latest state, and rows changed after the high
// watermark stream after the chunk's events.
//
// Progress (the remaining tables and the last key read) is in every
// offset, so after a restart the snapshot continues with the chunk after
// the last one whose events were stored (that chunk's events may repeat).
// Tables without a primary key (or replica identity index) are skipped
// with a warning.

// Signal types.
const (
	signalExecuteSnapshot = "execute-snapshot"
	signalStopSnapshot    = "stop-snapshot"
	signalWindowOpen      = "snapshot-window-open"
	signalWindowClose     = "snapshot-window-close"
)

// incrementalState is the resumable state of an incremental snapshot.
type incrementalState struct {
	Tables  []string // remaining tables, the current one first
	LastKey []string // text of the last key read from the current table; nil at its start
	MaxKey  []string // text of the current table's maximum key when it began; nil until then
}

type incrCollection struct {
	ID        string  `json:"incremental_snapshot_collections_id"`
	Condition *string `json:"incremental_snapshot_collections_additional_condition"`
	Surrogate *string `json:"incremental_snapshot_collections_surrogate_key"`
}

// offsetKeys returns the offset keys that carry the state.
func (s *incrementalState) offsetKeys() map[string]any {
	if s == nil || len(s.Tables) == 0 {
		return nil
	}
	colls := make([]incrCollection, len(s.Tables))
	for i, t := range s.Tables {
		colls[i] = incrCollection{ID: t}
	}
	b, _ := json.Marshal(colls)
	m := map[string]any{offIncrColls: string(b)}
	if s.LastKey != nil {
		k, _ := json.Marshal(s.LastKey)
		m[offIncrKey] = string(k)
	}
	if s.MaxKey != nil {
		k, _ := json.Marshal(s.MaxKey)
		m[offIncrMax] = string(k)
	}
	return m
}

func decodeIncremental(colls string, key, maxKey any) (*incrementalState, error) {
	var cs []incrCollection
	if err := json.Unmarshal([]byte(colls), &cs); err != nil {
		return nil, fmt.Errorf("postgres: stored offset key %s: %w", offIncrColls, err)
	}
	st := &incrementalState{}
	for _, c := range cs {
		st.Tables = append(st.Tables, c.ID)
	}
	// Keys written by Debezium (hex of Java serialisation) do not parse:
	// the current table then restarts from its first key.
	if s, ok := key.(string); ok {
		var k []string
		if json.Unmarshal([]byte(s), &k) == nil {
			st.LastKey = k
		}
	}
	if s, ok := maxKey.(string); ok && st.LastKey != nil {
		var k []string
		if json.Unmarshal([]byte(s), &k) == nil {
			st.MaxKey = k
		}
	}
	if len(st.Tables) == 0 {
		return nil, nil
	}
	return st, nil
}

func (s *incrementalState) clone() *incrementalState {
	if s == nil {
		return nil
	}
	return &incrementalState{Tables: append([]string(nil), s.Tables...),
		LastKey: append([]string(nil), s.LastKey...), MaxKey: append([]string(nil), s.MaxKey...)}
}

// incrementalRun is the in-memory side of a running incremental snapshot.
type incrementalRun struct {
	state  *incrementalState
	cached map[string]any // offsetKeys of state; nil when stale

	chunkID    string
	windowOpen bool
	waiting    bool // watermarks written, waiting for the high one
	table      tableID
	ts         *tableSchema
	keyTypes   []uint32
	keyCols    []string
	buffer     []incrRow
	index      map[string]int // key → position in buffer
	nextLast   []string       // the last key of the buffered chunk
	tableDone  bool           // the buffered chunk is the table's last
}

type incrRow struct {
	key     *connectors.Struct
	value   *connectors.Struct
	removed bool
}

// keyString renders the key columns of a row for deduplication.
func keyString(ts *tableSchema, row []any) string {
	var b strings.Builder
	for i, f := range ts.keyFields {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(connectors.FormatValue(row[f.rel]))
	}
	return b.String()
}

// dedup drops buffered chunk rows that a streamed change supersedes.
func (r *incrementalRun) dedup(ts *tableSchema, oldRow, newRow []any) {
	if !r.windowOpen || ts.id != r.table || len(r.index) == 0 {
		return
	}
	for _, row := range [][]any{oldRow, newRow} {
		if row == nil {
			continue
		}
		if i, ok := r.index[keyString(ts, row)]; ok {
			r.buffer[i].removed = true
			delete(r.index, keyString(ts, row))
		}
	}
}

// signal handles an insert into the signalling table.
func (st *streamer) signal(ctx context.Context, rs *relState, cm *changeMsg) error {
	if rs.ts == nil {
		return nil
	}
	get := func(name string) string {
		for i, c := range rs.msg.cols {
			if c.Name == name && i < len(cm.new.data) && cm.new.kinds[i] == tupleText {
				return string(cm.new.data[i])
			}
		}
		return ""
	}
	id, typ, data := get("id"), get("type"), get("data")
	switch typ {
	case signalWindowOpen, signalWindowClose:
		r := st.incr
		if r == nil || !r.waiting {
			return nil
		}
		if typ == signalWindowOpen && id == r.chunkID+"-open" {
			r.windowOpen = true
		}
		if typ == signalWindowClose && id == r.chunkID+"-close" {
			return st.closeWindow(ctx)
		}
		return nil
	case signalExecuteSnapshot:
		var d struct {
			Collections []string `json:"data-collections"`
			Type        string   `json:"type"`
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			st.t.logger.Warn("ignoring execute-snapshot signal with unreadable data", "id", id, "data", data, "error", err)
			return nil
		}
		if d.Type != "" && !strings.EqualFold(d.Type, "incremental") {
			st.t.logger.Warn("ignoring execute-snapshot signal: only incremental snapshots are supported", "id", id, "type", d.Type)
			return nil
		}
		tables, err := st.resolveCollections(ctx, d.Collections)
		if err != nil {
			return err
		}
		if len(tables) == 0 {
			st.t.logger.Warn("execute-snapshot signal names no captured table", "id", id, "data-collections", d.Collections)
			return nil
		}
		st.t.logger.Info("incremental snapshot requested", "id", id, "tables", tables)
		if st.incr == nil {
			st.incr = &incrementalRun{state: &incrementalState{}}
		}
		st.incr.state.Tables = append(st.incr.state.Tables, tables...)
		st.incr.changed()
		_, est, _ := st.s.cat.listTables(ctx, st.t.filters)
		for _, t := range tables {
			e := int64(-1)
			for id, n := range est {
				if id.String() == t {
					e = n
				}
			}
			st.t.progress.add(TableProgress{Table: t, RowsEstimated: e, Incremental: true})
		}
	case signalStopSnapshot:
		if st.incr == nil {
			return nil
		}
		var d struct {
			Collections []string `json:"data-collections"`
		}
		_ = json.Unmarshal([]byte(data), &d)
		st.t.logger.Info("incremental snapshot stop requested", "id", id, "data-collections", d.Collections)
		if len(d.Collections) == 0 {
			st.incr.state.Tables = nil
		} else {
			var keep []string
			for _, t := range st.incr.state.Tables {
				if !matchesAny(d.Collections, t) {
					keep = append(keep, t)
				}
			}
			if len(keep) == 0 || len(st.incr.state.Tables) > 0 && keep[0] != st.incr.state.Tables[0] {
				st.incr.state.LastKey, st.incr.state.MaxKey = nil, nil
				st.incr.reset()
			}
			st.incr.state.Tables = keep
		}
		st.incr.changed()
		if len(st.incr.state.Tables) == 0 {
			st.incr.reset()
			st.incr = nil
		}
	default:
		if typ != "" {
			st.t.logger.Info("signal ignored (not supported)", "id", id, "type", typ)
		}
	}
	return nil
}

func matchesAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if p == s {
			return true
		}
		if re, err := regexp.Compile("^(?:" + p + ")$"); err == nil && re.MatchString(s) {
			return true
		}
	}
	return false
}

// resolveCollections returns the captured tables the signal names.
func (st *streamer) resolveCollections(ctx context.Context, colls []string) ([]string, error) {
	all, _, err := st.s.cat.listTables(ctx, st.t.filters)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range colls {
		for _, t := range all {
			if matchesAny([]string{c}, t.String()) && !containsStr(out, t.String()) {
				out = append(out, t.String())
			}
		}
	}
	return out, nil
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (r *incrementalRun) reset() {
	r.chunkID, r.windowOpen, r.waiting = "", false, false
	r.buffer, r.index, r.nextLast, r.tableDone = nil, nil, nil, false
}

// incrementalStep starts the next chunk when none is in flight. It runs
// between transactions.
func (st *streamer) incrementalStep(ctx context.Context) error {
	r := st.incr
	if r == nil || r.waiting {
		return nil
	}
	for len(r.state.Tables) > 0 {
		name := r.state.Tables[0]
		if r.ts == nil || r.table.String() != name {
			ok, err := st.startIncrementalTable(ctx, name)
			if err != nil {
				return err
			}
			if !ok {
				st.finishIncrementalTable()
				continue
			}
		}
		if r.state.MaxKey == nil {
			// An empty table.
			st.finishIncrementalTable()
			continue
		}
		return st.readIncrementalChunk(ctx)
	}
	st.t.logger.Info("incremental snapshot completed")
	st.incr = nil
	st.setPos(st.curPos)
	return nil
}

// startIncrementalTable prepares the schema and key of a table; false
// means the table cannot be snapshotted incrementally (gone, or no key).
func (st *streamer) startIncrementalTable(ctx context.Context, name string) (bool, error) {
	r := st.incr
	schema, table, _ := splitQualified(name)
	id := tableID{schema, table}
	meta, ok, err := st.s.cat.table(ctx, id)
	if err != nil {
		return false, err
	}
	if !ok {
		st.t.logger.Warn("incremental snapshot: table no longer exists; skipped", "table", name)
		return false, nil
	}
	keyCols := st.t.filters.messageKey(meta, catalogColumns(meta))
	if len(keyCols) == 0 {
		st.t.logger.Warn("incremental snapshot: table has no primary key (and message.key.columns names none of its columns); skipped", "table", name)
		return false, nil
	}
	full, err := st.s.schemas().build(meta, catalogColumns(meta))
	if err != nil {
		return false, err
	}
	ts, err := st.s.schemas().build(meta, full.usedColumns())
	if err != nil {
		return false, err
	}
	r.table, r.ts = id, ts
	r.keyCols = keyCols
	r.keyTypes = make([]uint32, len(keyCols))
	for i, k := range keyCols {
		c, _ := meta.column(k)
		r.keyTypes[i] = c.TypeOID
	}
	now := time.Now()
	st.t.progress.update(name, func(p *TableProgress) {
		if p.Started.IsZero() {
			p.Started = now
		}
	})
	if r.state.MaxKey == nil {
		order := make([]string, len(keyCols))
		for i, k := range keyCols {
			order[i] = quoteIdent(k) + " DESC"
		}
		q := "SELECT " + quoteCols(keyCols) + " FROM " + id.quoted() + " ORDER BY " + strings.Join(order, ", ") + " LIMIT 1"
		rr := st.s.conn.PgConn().ExecParams(ctx, q, nil, nil, nil, nil)
		for rr.NextRow() {
			vals := rr.Values()
			r.state.MaxKey = make([]string, len(vals))
			for i, v := range vals {
				r.state.MaxKey[i] = string(v)
			}
		}
		if _, err := rr.Close(); err != nil {
			return false, fmt.Errorf("postgres: incremental snapshot of %s: %w", name, err)
		}
		r.state.LastKey = nil
		r.changed()
	}
	st.t.logger.Info("incremental snapshot of table started", "table", name)
	return true, nil
}

func quoteCols(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quoteIdent(c)
	}
	return strings.Join(q, ", ")
}

// finishIncrementalTable moves to the next table.
func (st *streamer) finishIncrementalTable() {
	r := st.incr
	if len(r.state.Tables) > 0 {
		name := r.state.Tables[0]
		now := time.Now()
		st.t.progress.update(name, func(p *TableProgress) { p.Done, p.Finished = true, now })
		st.t.logger.Info("incremental snapshot of table finished", "table", name)
		r.state.Tables = r.state.Tables[1:]
	}
	r.state.LastKey, r.state.MaxKey = nil, nil
	r.table, r.ts = tableID{}, nil
	r.reset()
	r.changed()
}

// readIncrementalChunk writes the low watermark, reads a chunk and
// writes the high watermark.
func (st *streamer) readIncrementalChunk(ctx context.Context) error {
	r := st.incr
	sig := st.t.filters.signal
	r.chunkID = newUUID()
	insert := "INSERT INTO " + sig.quoted() + " (id, type, data) VALUES ($1, $2, $3)"
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	if !st.s.syncCommit {
		// Logical decoding sees a commit only once its WAL is flushed: with
		// synchronous_commit=off a watermark would wait for the WAL writer.
		if _, err := st.s.conn.Exec(ctx, "SET synchronous_commit = on"); err == nil {
			st.s.syncCommit = true
		}
	}
	if _, err := st.s.conn.Exec(ctx, insert, r.chunkID+"-open", signalWindowOpen, `{"openWindowTimestamp": "`+ts+`"}`); err != nil {
		return setupError(fmt.Sprintf("write the incremental snapshot low watermark into %s (the task's user needs INSERT on it)", sig), err)
	}
	n := len(r.keyCols)
	var where []string
	params := make([][]byte, 0, 2*n)
	oids := make([]uint32, 0, 2*n)
	ph := func(vals []string) string {
		ps := make([]string, len(vals))
		for i, v := range vals {
			params = append(params, []byte(v))
			oids = append(oids, r.keyTypes[i])
			ps[i] = fmt.Sprintf("$%d", len(params))
		}
		return "(" + strings.Join(ps, ", ") + ")"
	}
	keyTuple := "(" + quoteCols(r.keyCols) + ")"
	if r.state.LastKey != nil {
		where = append(where, keyTuple+" > "+ph(r.state.LastKey))
	}
	where = append(where, keyTuple+" <= "+ph(r.state.MaxKey))
	cols := make([]string, len(r.ts.cols))
	for i, c := range r.ts.cols {
		cols[i] = quoteIdent(c.Name)
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + r.table.quoted() + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + quoteCols(r.keyCols) + fmt.Sprintf(" LIMIT %d", st.cfg.IncrementalChunkSize)
	// The key columns' positions among the selected columns.
	keyPos := make([]int, n)
	for i, k := range r.keyCols {
		for j, c := range r.ts.cols {
			if c.Name == k {
				keyPos[i] = j
			}
		}
	}
	rr := st.s.conn.PgConn().ExecParams(ctx, q, params, oids, nil, nil)
	r.buffer, r.index, r.nextLast = nil, map[string]int{}, nil
	for rr.NextRow() {
		vals := rr.Values()
		row := make([]any, len(r.ts.cols))
		for i, v := range vals {
			if v == nil {
				continue
			}
			x, err := r.ts.parseCell(i, v)
			if err != nil {
				_, _ = rr.Close()
				return err
			}
			row[i] = x
		}
		value, key := r.ts.valueStruct(row), r.ts.keyStruct(row)
		r.index[keyString(r.ts, row)] = len(r.buffer)
		r.buffer = append(r.buffer, incrRow{key: key, value: value})
		last := make([]string, n)
		for i, p := range keyPos {
			last[i] = string(vals[p])
		}
		r.nextLast = last
	}
	if _, err := rr.Close(); err != nil {
		return fmt.Errorf("postgres: incremental snapshot chunk of %s: %w", r.table, err)
	}
	r.tableDone = len(r.buffer) < st.cfg.IncrementalChunkSize || equalStrings(r.nextLast, r.state.MaxKey)
	if _, err := st.s.conn.Exec(ctx, insert, r.chunkID+"-close", signalWindowClose, `{"openWindowTimestamp": "`+ts+`", "closeWindowTimestamp": "`+time.Now().UTC().Format(time.RFC3339Nano)+`"}`); err != nil {
		return setupError(fmt.Sprintf("write the incremental snapshot high watermark into %s", sig), err)
	}
	r.waiting = true
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// closeWindow emits the chunk rows no streamed change superseded.
func (st *streamer) closeWindow(ctx context.Context) error {
	r := st.incr
	lsn := st.curPos.lsn
	prevOffsetKeys := r.keys()
	// The chunk is done: the state after it goes on its last record.
	if r.nextLast != nil {
		r.state.LastKey = r.nextLast
		r.changed()
	}
	table := r.table.String()
	done := r.tableDone
	var recs []connectors.Record
	var emitted int64
	si := &sourceInfo{ts: time.Now(), snapshot: snapIncremental, lastCommit: st.lastCommitEnd, lsn: lsn, table: r.table}
	src := st.t.events.source(si)
	for _, row := range r.buffer {
		if row.removed {
			continue
		}
		off := streamOffset(lsn, st.lastCommitEnd, st.xid, st.commitTime.UnixMicro(), "INSERT", st.nAtLSN, prevOffsetKeys)
		st.tx.carry(off)
		recs = append(recs, st.t.events.record(r.ts, row.key, st.t.events.envelope(r.ts, opRead, nil, row.value, src, nil, newProcTime(time.Now())), off))
		emitted++
	}
	if done {
		st.finishIncrementalTable()
	} else {
		r.reset()
	}
	if len(recs) > 0 {
		// The last record carries the state after the chunk.
		off := streamOffset(lsn, st.lastCommitEnd, st.xid, st.commitTime.UnixMicro(), "INSERT", st.nAtLSN, st.incr.keys())
		st.tx.carry(off)
		recs[len(recs)-1].SourceOffset = off
	}
	st.t.progress.update(table, func(p *TableProgress) { p.RowsDone += emitted })
	st.setPos(st.curPos)
	return st.add(ctx, recs...)
}

// keys returns the offset keys of the current state (cached); r may be
// nil.
func (r *incrementalRun) keys() map[string]any {
	if r == nil {
		return nil
	}
	if r.cached == nil {
		r.cached = r.state.offsetKeys()
		if r.cached == nil {
			r.cached = map[string]any{}
		}
	}
	return r.cached
}

// changed drops the cached offset keys after the state changed.
func (r *incrementalRun) changed() { r.cached = nil }
