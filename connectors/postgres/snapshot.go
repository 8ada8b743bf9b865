package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/sluicedata/sluice/connectors"
)

// TableProgress is the snapshot progress of one table: rows emitted so
// far against the planner's estimate (pg_class.reltuples when the
// snapshot started; -1 when the table was never analysed).
type TableProgress struct {
	Table         string    `json:"table"` // "schema.table"
	RowsDone      int64     `json:"rows_done"`
	RowsEstimated int64     `json:"rows_estimated"`
	Done          bool      `json:"done"`
	Incremental   bool      `json:"incremental"` // an incremental (signalled) snapshot
	Started       time.Time `json:"started,omitzero"`
	Finished      time.Time `json:"finished,omitzero"`
}

// ProgressReporter is the optional capability the Task implements for
// the runtime: snapshot progress per table, for /metrics and the task
// status trace. Progress must be cheap and safe to call concurrently with
// Poll.
type ProgressReporter interface {
	Progress() []TableProgress
}

var (
	_ ProgressReporter            = (*Task)(nil)
	_ connectors.ProgressReporter = (*Task)(nil)
)

// progressTracker holds TableProgress entries for concurrent readers.
type progressTracker struct {
	mu     sync.Mutex
	tables []*TableProgress
}

func (p *progressTracker) reset(entries []TableProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tables = p.tables[:0]
	for i := range entries {
		e := entries[i]
		p.tables = append(p.tables, &e)
	}
}

func (p *progressTracker) add(e TableProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tables = append(p.tables, &e)
}

func (p *progressTracker) update(table string, fn func(*TableProgress)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.tables) - 1; i >= 0; i-- {
		if p.tables[i].Table == table {
			fn(p.tables[i])
			return
		}
	}
}

func (p *progressTracker) snapshot() []TableProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]TableProgress, len(p.tables))
	for i, t := range p.tables {
		out[i] = *t
	}
	return out
}

// snapshotMarker is Debezium's RelationalSnapshotChangeEventSource
// setSnapshotMarker.
func snapshotMarker(firstTable, lastTable, firstInTable, lastInTable bool) string {
	switch {
	case lastInTable && lastTable:
		return snapLast
	case firstInTable && firstTable:
		return snapFirst
	case lastInTable:
		return snapLastInTable
	case firstInTable:
		return snapFirstInTable
	}
	return snapTrue
}

// snapChunk is a range of heap blocks of one table, read by one worker.
type snapChunk struct {
	table int
	from  int64 // first block
	to    int64 // block after the last; -1 for "to the end"
	out   chan []connectors.Record
	err   error // set before out is closed
}

// snapTable is one table of the snapshot.
type snapTable struct {
	id     tableID
	ts     *tableSchema
	source *connectors.Struct // shared source block (snapshot "true")
	est    int64
	blocks int64
	query  string
}

const (
	snapshotBatchRows   = 1024
	snapshotChunkTarget = 50000 // rows per chunk, roughly
	progressLogInterval = 10 * time.Second
)

// snapshot reads every captured table as of one snapshot and queues
// op=r records. exported names a snapshot exported by the slot's
// creation (the slot's consistent point is lsn), or is empty: the tables
// are then read in a fresh REPEATABLE READ snapshot, shared by the
// workers, and streaming starts at lsn (the slot's confirmed position),
// which may replay changes the snapshot already contains.
func (s *session) snapshot(ctx context.Context, exported string, lsn pglogrepl.LSN) error {
	t := s.t
	cfg := t.cfg
	tables, est, err := s.cat.listTables(ctx, t.filters)
	if err != nil {
		return err
	}
	tables = slices.DeleteFunc(tables, func(id tableID) bool { return !t.filters.snapshotted(id) })
	n := cfg.SnapshotMaxThreads
	workers := make([]*pgx.Conn, 0, n)
	defer func() {
		for _, w := range workers {
			_ = w.Close(context.Background())
		}
	}()
	for i := 0; i < n; i++ {
		w, err := connect(ctx, cfg)
		if err != nil {
			return classifyConnectError(cfg, err)
		}
		workers = append(workers, w)
		if _, err := w.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ"); err != nil {
			return fmt.Errorf("postgres: begin snapshot transaction: %w", err)
		}
	}
	// All workers share one snapshot: the slot's exported one, or one the
	// first worker exports.
	name := exported
	for _, w := range workers {
		if name == "" {
			if err := w.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&name); err != nil {
				return fmt.Errorf("postgres: export snapshot: %w", err)
			}
			continue
		}
		if _, err := w.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+strings.ReplaceAll(name, "'", "''")+"'"); err != nil {
			return fmt.Errorf("postgres: import snapshot %s: %w", name, err)
		}
	}
	var txid int64
	var txidp *int64
	var snapTime time.Time
	// As Debezium: the snapshot's transaction id (none on a standby).
	if err := workers[0].QueryRow(ctx, "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE txid_current() END, now()").Scan(&txidp, &snapTime); err != nil {
		return fmt.Errorf("postgres: read snapshot transaction: %w", err)
	}
	if txidp != nil {
		txid = *txidp
	}
	var serverVersion int
	if err := workers[0].QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&serverVersion); err != nil {
		return fmt.Errorf("postgres: read server version: %w", err)
	}
	tidRanges := serverVersion >= 140000 // TID range scans
	offset := snapshotOffset(lsn, txid, snapTime.UnixMicro(), false)
	si := sourceInfo{ts: snapTime, snapshot: snapTrue, lsn: lsn, txID: txid, hasTxID: true}

	// Plan: schemas and chunks.
	var snapTables []*snapTable
	progress := make([]TableProgress, 0, len(tables))
	for _, id := range tables {
		meta, ok, err := s.cat.table(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			continue // dropped meanwhile
		}
		full, err := s.schemas().build(meta, catalogColumns(meta))
		if err != nil {
			return err
		}
		used := full.usedColumns()
		ts, err := s.schemas().build(meta, used)
		if err != nil {
			return err
		}
		st := &snapTable{id: id, ts: ts, est: est[id]}
		cols := make([]string, len(used))
		for i, c := range used {
			cols[i] = quoteIdent(c.Name)
		}
		sel := "1"
		if len(cols) > 0 {
			sel = strings.Join(cols, ", ")
		}
		st.query = "SELECT " + sel + " FROM " + id.quoted()
		if err := workers[0].QueryRow(ctx, "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint",
			id.quoted()).Scan(&st.blocks); err != nil {
			return fmt.Errorf("postgres: size of %s: %w", id, err)
		}
		sic := si
		sic.table = id
		st.source = t.events.source(&sic)
		snapTables = append(snapTables, st)
		estimate := est[id]
		if estimate <= 0 && st.blocks > 0 {
			estimate = -1
		}
		progress = append(progress, TableProgress{Table: id.String(), RowsEstimated: estimate})
	}
	t.progress.reset(progress)
	var chunks []*snapChunk
	for ti, st := range snapTables {
		per := st.blocks
		if tidRanges && st.est > 0 && st.blocks > 0 {
			rowsPerBlock := max(1, st.est/st.blocks)
			per = max(1, snapshotChunkTarget/rowsPerBlock)
		}
		if !tidRanges || per >= st.blocks {
			chunks = append(chunks, &snapChunk{table: ti, from: 0, to: -1})
			continue
		}
		for from := int64(0); from < st.blocks; from += per {
			to := from + per
			if to >= st.blocks {
				to = -1 // the last chunk reads to the end, whatever was added
			}
			chunks = append(chunks, &snapChunk{table: ti, from: from, to: to})
			if to < 0 {
				break
			}
		}
	}
	for _, c := range chunks {
		c.out = make(chan []connectors.Record, 4)
	}
	t.logger.Info("snapshot started", "tables", len(snapTables), "chunks", len(chunks), "threads", n,
		"lsn", lsn.String(), "exported_snapshot", exported != "")

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func(conn *pgx.Conn) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) || wctx.Err() != nil {
					return
				}
				c := chunks[i]
				c.err = s.readChunk(wctx, conn, snapTables[c.table], c, offset)
				close(c.out)
				if c.err != nil {
					cancel()
					return
				}
			}
		}(w)
	}
	err = s.emitSnapshot(ctx, snapTables, chunks, lsn, txid, snapTime)
	cancel()
	wg.Wait()
	if err != nil {
		return err
	}
	for _, w := range workers {
		_, _ = w.Exec(ctx, "COMMIT")
	}
	return nil
}

// readChunk reads one chunk in text format and builds its records.
func (s *session) readChunk(ctx context.Context, conn *pgx.Conn, st *snapTable, c *snapChunk, offset map[string]any) error {
	q := st.query
	switch {
	case c.from == 0 && c.to < 0:
	case c.to < 0:
		q += fmt.Sprintf(" WHERE ctid >= '(%d,0)'::tid", c.from)
	default:
		q += fmt.Sprintf(" WHERE ctid >= '(%d,0)'::tid AND ctid < '(%d,0)'::tid", c.from, c.to)
	}
	rr := conn.PgConn().ExecParams(ctx, q, nil, nil, nil, nil)
	ts := st.ts
	events := s.t.events
	batch := make([]connectors.Record, 0, snapshotBatchRows)
	now := newProcTime(s.t.now())
	row := make([]any, len(ts.cols))
	for rr.NextRow() {
		vals := rr.Values()
		clear(row)
		for i, v := range vals {
			if v == nil || i >= len(row) {
				continue
			}
			x, err := ts.parseCell(i, v)
			if err != nil {
				_, _ = rr.Close()
				return err
			}
			row[i] = x
		}
		batch = append(batch, events.read(ts, row, st.source, offset, now))
		if len(batch) == snapshotBatchRows {
			select {
			case c.out <- batch:
			case <-ctx.Done():
				_, _ = rr.Close()
				return ctx.Err()
			}
			batch = make([]connectors.Record, 0, snapshotBatchRows)
			now = newProcTime(s.t.now())
		}
	}
	if _, err := rr.Close(); err != nil {
		return fmt.Errorf("postgres: snapshot of %s: %w", st.id, err)
	}
	if len(batch) > 0 {
		select {
		case c.out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// emitSnapshot queues the chunks' records in table and chunk order,
// setting Debezium's snapshot markers (first, first_in_data_collection,
// last_in_data_collection, last). Like Debezium, it holds back one record
// so that the very last one is marked "last" and carries the offset with
// last_snapshot_record=true.
func (s *session) emitSnapshot(ctx context.Context, tables []*snapTable, chunks []*snapChunk, lsn pglogrepl.LSN, txid int64, snapTime time.Time) error {
	t := s.t
	inProgress := &storedOffset{snapshot: true, lsn: lsn, txID: txid, hasTxID: true}
	pending := make([]connectors.Record, 0, t.cfg.MaxBatchSize)
	var held *connectors.Record
	var heldFirst, heldLast bool
	var heldTable int
	lastLog := t.now()
	var total int64
	flush := func() error {
		b := pending
		pending = make([]connectors.Record, 0, t.cfg.MaxBatchSize)
		return t.emit(ctx, b, inProgress)
	}
	ci := 0
	for ti, st := range tables {
		first := true
		var count int64
		now := t.now()
		t.progress.update(st.id.String(), func(p *TableProgress) { p.Started = now })
		t.logger.Info("snapshotting table", "table", st.id.String(), "rows_estimated", st.est, "table_number", ti+1, "tables", len(tables))
		for ; ci < len(chunks) && chunks[ci].table == ti; ci++ {
			c := chunks[ci]
			for b := range c.out {
				for i := range b {
					if held != nil {
						if m := snapshotMarker(heldTable == 0, heldTable == len(tables)-1, heldFirst, heldLast); m != snapTrue {
							setSnapshotMarker(held, m)
						}
						pending = append(pending, *held)
						if len(pending) >= t.cfg.MaxBatchSize {
							if err := flush(); err != nil {
								return err
							}
						}
					}
					held, heldFirst, heldLast, heldTable = &b[i], first, false, ti
					first = false
				}
				count += int64(len(b))
				n := count
				t.progress.update(st.id.String(), func(p *TableProgress) { p.RowsDone = n })
				if now := t.now(); now.Sub(lastLog) >= progressLogInterval {
					lastLog = now
					s.logProgress()
				}
			}
			if c.err != nil {
				return fmt.Errorf("postgres: snapshot of %s: %w", st.id, c.err)
			}
		}
		if held != nil && heldTable == ti {
			heldLast = true
		}
		total += count
		now = t.now()
		n := count
		t.progress.update(st.id.String(), func(p *TableProgress) { p.Done, p.Finished, p.RowsDone = true, now, n })
		t.logger.Info("snapshot of table finished", "table", st.id.String(), "rows", n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if held != nil {
		setSnapshotMarker(held, snapLast)
		held.SourceOffset = snapshotOffset(lsn, txid, snapTime.UnixMicro(), true)
		pending = append(pending, *held)
	}
	done := &storedOffset{snapshot: true, snapshotFinished: true, lsn: lsn, txID: txid, hasTxID: true}
	if err := t.emit(ctx, pending, done); err != nil {
		return err
	}
	t.logger.Info("snapshot completed", "tables", len(tables), "rows", total, "lsn", lsn.String())
	return nil
}

// setSnapshotMarker replaces a snapshot record's shared source block by a
// copy with the given marker.
func setSnapshotMarker(r *connectors.Record, marker string) {
	env, ok := r.Value.(*connectors.Struct)
	if !ok {
		return
	}
	src, _ := env.Get("source")
	s, ok := src.(*connectors.Struct)
	if !ok {
		return
	}
	c := s.Clone()
	_ = c.Put("snapshot", marker)
	e := env.Clone()
	_ = e.Put("source", c)
	r.Value = e
}

func (s *session) logProgress() {
	for _, p := range s.t.progress.snapshot() {
		if p.Done || p.Started.IsZero() {
			continue
		}
		attrs := []any{"table", p.Table, "rows_done", p.RowsDone, "rows_estimated", p.RowsEstimated}
		if p.RowsEstimated > 0 {
			attrs = append(attrs, "percent", fmt.Sprintf("%.1f", 100*float64(p.RowsDone)/float64(p.RowsEstimated)))
		}
		if el := s.t.now().Sub(p.Started).Seconds(); el > 0 {
			attrs = append(attrs, "rows_per_second", int64(float64(p.RowsDone)/el))
		}
		s.t.logger.Info("snapshot progress", attrs...)
	}
}

// usedColumns returns the columns that feed the key or the value, in
// tuple order: what a snapshot query selects.
func (ts *tableSchema) usedColumns() []relColumn {
	used := make([]bool, len(ts.cols))
	for _, f := range ts.valueFields {
		used[f.rel] = true
	}
	for _, f := range ts.keyFields {
		used[f.rel] = true
	}
	var out []relColumn
	for i, c := range ts.cols {
		if used[i] {
			out = append(out, c)
		}
	}
	return slices.Clip(out)
}
