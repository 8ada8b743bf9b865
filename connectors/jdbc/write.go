package jdbc

// The write path: a chunk of ops becomes one transaction, pipelined
// (sent now, confirmed by the next Put or Flush) or run statement by
// statement; refused records are isolated by bisection; transient
// failures are retried.

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/connectors"
)

// writeChunk writes ops in one transaction, retrying transient failures.
func (t *Sink) writeChunk(ctx context.Context, records []connectors.Record, ops []*op, async bool) error {
	for attempt := 0; ; attempt++ {
		err := t.tryChunk(ctx, records, ops, async)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("jdbc sink: write interrupted: %w", ctx.Err())
		}
		transient, schema := isTransient(err), isSchemaError(err)
		if !transient && !schema {
			return err
		}
		if attempt >= t.cfg.MaxRetries {
			return fmt.Errorf("%w: giving up after %d retries (max.retries): %w", ErrRetriesExhausted, attempt, err)
		}
		t.log.Warn("jdbc sink: write failed, retrying", "attempt", attempt+1, "max.retries", t.cfg.MaxRetries, "error", err)
		if schema {
			for _, tb := range t.tables {
				tb.loaded = false
			}
		}
		if transient && t.conn != nil {
			t.dropFlight()
			_ = t.conn.Close(ctx)
			t.conn = nil
		}
		if err := t.sleep(ctx, t.cfg.RetryBackoff); err != nil {
			return fmt.Errorf("jdbc sink: write interrupted: %w", err)
		}
	}
}

// tryChunk is one attempt at writing ops.
func (t *Sink) tryChunk(ctx context.Context, records []connectors.Record, ops []*op, async bool) error {
	live := make([]*op, 0, len(ops))
	for {
		// Anything that needs the connection first waits for the flight.
		if t.needsDB(ops) {
			if err := t.prepare(ctx, records, ops); err != nil {
				return err
			}
		}
		// Values: CPU only, while the database works on the flight.
		live = live[:0]
		for _, o := range ops {
			if o.done {
				continue
			}
			if o.sh != nil && (o.vals == nil || o.ver != o.sh.version) {
				if err := t.convert(&records[o.idx], o); err != nil {
					o.done = true
					if err := t.reject(ctx, &records[o.idx], o.t.id.String(), "", err); err != nil {
						return err
					}
					continue
				}
			}
			live = append(live, o)
		}
		if err := t.finish(ctx); err != nil {
			return err
		}
		// Rewriting a failed flight may have reconnected: bindings and
		// staging tables of the old session are gone.
		if !t.needsDB(ops) {
			break
		}
	}
	steps := t.plan(live)
	if len(steps) == 0 {
		return nil
	}
	if t.canPipeline(steps) {
		t.send(steps, records, live)
		if async {
			return nil
		}
		if err := t.finishSent(ctx); err == nil || !isDataError(err) {
			return err
		}
	} else {
		err := t.inTx(ctx, func(tx pgx.Tx) error { return t.apply(ctx, tx, steps) })
		if err == nil || !isDataError(err) {
			return err
		}
	}
	// Some record's data was refused: find it (them) by halves.
	t.isolating = true
	defer func() { t.isolating = false }()
	return t.inTx(ctx, func(tx pgx.Tx) error { return t.bisect(ctx, tx, records, live) })
}

// prepare gets the connection, the tables, the shapes' bindings and
// staging tables ready for ops.
func (t *Sink) prepare(ctx context.Context, records []connectors.Record, ops []*op) error {
	if err := t.finish(ctx); err != nil {
		return err
	}
	if t.conn == nil || t.conn.IsClosed() {
		if err := t.connect(ctx); err != nil {
			return err
		}
	}
	var order []*table
	byTable := map[*table][]*op{}
	for _, o := range ops {
		if o.done {
			continue
		}
		if _, ok := byTable[o.t]; !ok {
			order = append(order, o.t)
		}
		byTable[o.t] = append(byTable[o.t], o)
	}
	for _, tb := range order {
		if err := t.prepareTable(ctx, records, tb, byTable[tb]); err != nil {
			return err
		}
	}
	for _, o := range ops {
		if st := o.stage(); !o.done && st != nil && !st.created {
			if _, err := t.conn.Exec(ctx, stageSQL(st.name, st.types)); err != nil {
				return fmt.Errorf("jdbc sink: create staging table: %w", err)
			}
			st.created = true
		}
	}
	return nil
}

// needsDB reports whether ops need the connection before their values
// can be converted: a connection, table definitions, bindings or staging
// tables are missing.
func (t *Sink) needsDB(ops []*op) bool {
	if t.conn == nil || t.conn.IsClosed() {
		return true
	}
	for _, o := range ops {
		if o.done {
			continue
		}
		if !o.t.loaded || o.sh != nil && o.sh.version != o.t.version {
			return true
		}
		if st := o.stage(); st != nil && !st.created {
			return true
		}
	}
	return false
}

func (o *op) stage() *stage {
	if o.sh == nil {
		return nil
	}
	return o.sh.stage
}

// send starts steps as one pipelined transaction: BEGIN, the
// statements, COMMIT, in one round trip; finish reads the outcome.
func (t *Sink) send(steps []step, records []connectors.Record, ops []*op) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	for _, s := range steps {
		if s.sh == nil {
			b.Queue(s.sql)
		} else {
			b.Queue(s.sh.unnest, columns(s.rows, len(s.sh.cols))...)
		}
	}
	b.Queue("COMMIT")
	fctx, cancel := context.WithCancel(context.Background())
	t.flight = &flight{results: t.conn.SendBatch(fctx, b), cancel: cancel, records: records, ops: ops}
}

// finishSent reads the outcome of the flight just sent, without redoing
// it on failure.
func (t *Sink) finishSent(ctx context.Context) error {
	f := t.flight
	t.flight = nil
	return t.settle(ctx, f)
}

// settle waits for a flight's outcome; on failure the transaction is
// rolled back.
func (t *Sink) settle(ctx context.Context, f *flight) error {
	stop := context.AfterFunc(ctx, f.cancel)
	err := f.results.Close()
	stop()
	f.cancel()
	if err != nil && !t.conn.IsClosed() && t.conn.PgConn().TxStatus() != 'I' {
		if _, rerr := t.conn.Exec(ctx, "ROLLBACK"); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("jdbc sink: write interrupted: %w", ctx.Err())
	}
	return err
}

// finish confirms the flight, if any. When it failed, its records are
// written again synchronously: refused records isolated, transient
// failures retried. An error means they are not written; Flush then
// holds their partitions.
func (t *Sink) finish(ctx context.Context) error {
	f := t.flight
	if f == nil {
		return nil
	}
	t.flight = nil
	err := t.settle(ctx, f)
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		if isTransient(err) {
			t.log.Warn("jdbc sink: the database lost a batch in flight, writing it again", "error", err)
		} else {
			t.log.Debug("jdbc sink: a batch in flight failed, writing it again", "error", err)
		}
		err = t.writeChunk(ctx, f.records, f.ops, false)
	}
	if err != nil {
		t.hold(f.records)
		return &flightError{err: err}
	}
	return nil
}

// dropFlight abandons the flight (the connection is being closed): its
// records are held.
func (t *Sink) dropFlight() {
	if f := t.flight; f != nil {
		t.flight = nil
		f.cancel()
		_ = f.results.Close()
		t.hold(f.records)
	}
}

func (t *Sink) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := t.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		for _, st := range t.stages {
			st.dirty = false
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// bisect applies ops under a savepoint; when the database refuses their
// data it applies each half in turn, down to single records, which are
// rejected.
func (t *Sink) bisect(ctx context.Context, tx pgx.Tx, records []connectors.Record, ops []*op) error {
	if len(ops) == 0 {
		return nil
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	err = t.apply(ctx, sp, t.plan(ops))
	if err == nil {
		return sp.Commit(ctx)
	}
	if rerr := sp.Rollback(ctx); rerr != nil {
		return rerr
	}
	if !isDataError(err) {
		return err
	}
	if len(ops) == 1 {
		o := ops[0]
		o.done = true
		column := ""
		if o.sh != nil {
			column = pgColumn(err, o.sh.names)
		}
		return t.reject(ctx, &records[o.idx], o.t.id.String(), column, err)
	}
	mid := len(ops) / 2
	if err := t.bisect(ctx, tx, records, ops[:mid]); err != nil {
		return err
	}
	return t.bisect(ctx, tx, records, ops[mid:])
}

// apply runs steps in tx.
func (t *Sink) apply(ctx context.Context, tx pgx.Tx, steps []step) error {
	for _, s := range steps {
		if err := t.runStep(ctx, tx, s); err != nil {
			return err
		}
	}
	return nil
}
