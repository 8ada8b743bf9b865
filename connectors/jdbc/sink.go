package jdbc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicedata/sluice/connectors"
)

// Sink is the JDBC sink task, writing to PostgreSQL over one connection.
//
// Put classifies each record (flat row, Debezium change event, tombstone),
// groups the batch by table, and writes it in transactions of at most
// batch.size records. The last transaction of a Put is sent pipelined
// and confirmed by the next Put or by Flush, so PostgreSQL applies it
// while the task prepares the next batch; Flush reports offsets only up
// to what is committed. Within a table, the changes of one transaction
// are applied in order: with a primary key in upsert and update modes the
// last change per key wins (what applying them one by one would leave),
// so replaying a batch leaves the table as it was.
//
// A record whose data the database rejects (a constraint, a value that
// does not fit its column) is isolated by applying halves of the
// transaction under savepoints, then reported to SinkContext.Errant, or
// fails the task with a RecordError naming table, column, topic,
// partition and offset. Lost connections, deadlocks and the like are
// retried max.retries times, reconnecting, before the task fails.
type Sink struct {
	flavor   Flavor // from the connector; connector.class wins when it names one
	cfg      Config
	log      *slog.Logger
	errant   connectors.ErrantReporter
	connCfg  *pgx.ConnConfig
	conn     *pgx.Conn
	q        quoter
	filter   fieldFilter
	loc      *time.Location
	collapse bool

	tables    map[string]*table
	names     map[string]string // topic → table name, when the format needs only the topic
	envelopes map[*connectors.Schema]envelopeFields
	stages    map[string]*stage
	stageSeq  int
	keyBuf    []byte
	// unnestMax is the largest run of rows passed as arrays; larger runs
	// are COPYed into the stage (measured: COPY wins above a few thousand
	// rows, unnest below).
	unnestMax int
	// isolating is set while a refused batch is bisected: rows then go
	// through COPY, whose errors name the column.
	isolating bool

	// flight is the last transaction sent but not yet confirmed (see
	// finish); at most one.
	flight *flight

	// pending holds, per partition, the offset of the first record of a
	// Put that failed: Flush must not commit past it.
	pending map[connectors.TopicPartition]int64

	// sleep waits between retries (replaced in tests).
	sleep func(ctx context.Context, d time.Duration) error
}

var _ connectors.Sink = (*Sink)(nil)

// defaultUnnestMax: runs of up to this many rows are passed as arrays.
const defaultUnnestMax = 2000

// table is a destination table and what the task knows about it.
type table struct {
	raw     string
	id      tableID
	sql     string
	meta    tableMeta
	loaded  bool
	version int // bumped each time meta is (re)loaded

	shapes map[shapeKey]*shape
	named  map[string]*shape // schemaless shapes, by field list
	all    []*shape
}

type shapeKey struct {
	kind     changeKind
	key, row *connectors.Schema
}

// shape is one kind of record for a table: its columns, and once bound
// to the table's current definition, how each value is converted, the
// staging table and the statement that moves the staged rows.
type shape struct {
	t         *table
	kind      changeKind // changeUpsert or changeDelete
	cols      []shapeCol
	pkIdx     []int
	keySchema *connectors.Schema
	rowSchema *connectors.Schema

	version int // table version bound to; 0: unbound
	bindErr error
	convs   []converter
	casts   []string
	names   []string // column names, for the stage columns c0…
	stage   *stage
	keep    []string // per column: the TOAST placeholder literal, or ""
	keepVal []any    // per column: the placeholder as converted, or nil
	stmt    string   // reads the stage; "" when there is nothing to do
	unnest  string   // reads unnest($1…); "" when the shape cannot use it
}

// stage is a TEMP staging table of the current connection.
type stage struct {
	name    string
	types   []string
	cols    []string // c0, c1, …
	created bool
	dirty   bool // has rows in the current transaction
}

// flight is a pipelined transaction whose outcome is read later, so
// that the next batch is prepared while the database applies this one.
type flight struct {
	results pgx.BatchResults
	cancel  context.CancelFunc
	records []connectors.Record // a copy: the runtime may reuse its batch
	ops     []*op
}

// op is one record to apply.
type op struct {
	kind changeKind
	idx  int // in the Put batch
	t    *table
	sh   *shape
	ch   change
	vals []any
	ver  int  // shape version vals were converted for
	key  any  // the primary key, for collapsing changes of one row
	done bool // written or reported: skipped on retries
}

// Open parses the config and connects. An unreachable database is
// retriable; wrong credentials or a missing database are not.
func (t *Sink) Open(ctx context.Context, sc connectors.SinkContext, config map[string]string) error {
	cfg, err := ParseFlavor(flavorFor(t.flavor, config[connectors.KeyConnectorClass]), config)
	if err != nil {
		return err
	}
	cc, err := cfg.pgxConfig()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", connectors.ErrInvalidConfig, KeyConnectionURL, err)
	}
	t.cfg, t.connCfg = cfg, cc
	t.log = sc.Logger
	if t.log == nil {
		t.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	t.errant = sc.Errant
	t.q = quoter{keepCase: cfg.QuoteIdentifiers}
	t.filter = newFieldFilter(cfg.FieldInclude, cfg.FieldExclude)
	t.loc = cfg.location()
	t.collapse = cfg.InsertMode != InsertModeInsert && (cfg.PrimaryKeyMode == PKRecordKey || cfg.PrimaryKeyMode == PKRecordValue)
	t.tables = map[string]*table{}
	t.envelopes = map[*connectors.Schema]envelopeFields{}
	if t.unnestMax == 0 {
		t.unnestMax = defaultUnnestMax
	}
	t.pending = map[connectors.TopicPartition]int64{}
	if t.sleep == nil {
		t.sleep = sleepCtx
	}
	attempts := max(cfg.ConnectionAttempts, 1)
	for i := 1; ; i++ {
		err = t.connect(ctx)
		if err == nil {
			break
		}
		oerr := openError(&t.cfg, err)
		if i >= attempts || !errors.Is(oerr, connectors.ErrRetriable) || ctx.Err() != nil {
			return oerr
		}
		t.log.Warn("jdbc sink: connecting failed, will retry", "attempt", i, "of", attempts, "error", err)
		if err := t.sleep(ctx, cfg.ConnectionBackoff); err != nil {
			return oerr
		}
	}
	t.log.Info("jdbc sink: connected", "target", cfg.describeTarget(), "flavor", cfg.Flavor.String(),
		"insert.mode", cfg.InsertMode.String(), "pk.mode", cfg.PrimaryKeyMode.String())
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// connect opens a new connection; everything session-bound (staging
// tables, metadata) is forgotten.
func (t *Sink) connect(ctx context.Context) error {
	if t.conn != nil {
		_ = t.conn.Close(ctx)
		t.conn = nil
	}
	conn, err := pgx.ConnectConfig(ctx, t.connCfg)
	if err != nil {
		return err
	}
	registerTypes(conn.TypeMap())
	t.conn = conn
	t.stages = map[string]*stage{}
	for _, tb := range t.tables {
		tb.loaded = false
	}
	return nil
}

// Put writes records in transactions of batch.size records. All but the
// last are committed before Put returns; the last is sent pipelined and
// confirmed by the next Put or Flush (which redo it, isolating refused
// records, if it failed), so that the database applies one batch while
// the task prepares the next.
func (t *Sink) Put(ctx context.Context, records []connectors.Record) error {
	if len(records) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		t.hold(records)
		return err
	}
	if err := t.put(ctx, records); err != nil {
		t.hold(records)
		return err
	}
	clear(t.pending)
	return nil
}

// hold keeps Flush from committing past records of a failed Put.
func (t *Sink) hold(records []connectors.Record) {
	for i := range records {
		tp, off := coordinates(&records[i])
		if cur, ok := t.pending[tp]; !ok || off < cur {
			t.pending[tp] = off
		}
	}
}

func coordinates(r *connectors.Record) (connectors.TopicPartition, int64) {
	if r.OriginalTopic != "" {
		return connectors.TopicPartition{Topic: r.OriginalTopic, Partition: r.OriginalPartition}, r.OriginalOffset
	}
	p, _ := r.KafkaPartition()
	return connectors.TopicPartition{Topic: r.Topic, Partition: p}, r.Offset
}

// Flush waits for the transaction in flight, then returns offsets, except
// for partitions with records of a failed Put, which are held at the
// first of them: everything else Put accepted is committed.
func (t *Sink) Flush(ctx context.Context, offsets map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error) {
	if err := t.finish(ctx); err != nil && ctx.Err() == nil {
		return nil, err
	}
	out := make(map[connectors.TopicPartition]int64, len(offsets))
	for tp, off := range offsets {
		if p, ok := t.pending[tp]; ok && p < off {
			off = p
		}
		out[tp] = off
	}
	return out, nil
}

// Close closes the connection.
func (t *Sink) Close(ctx context.Context) error {
	if t.conn == nil {
		return nil
	}
	if err := t.finish(ctx); err != nil {
		t.log.Warn("jdbc sink: the last batch was not confirmed before closing; it will be delivered again", "error", err)
	}
	err := t.conn.Close(ctx)
	t.conn = nil
	if err != nil {
		return fmt.Errorf("jdbc sink: close connection: %w", err)
	}
	return nil
}

func (t *Sink) put(ctx context.Context, records []connectors.Record) error {
	// The last transaction outlives Put (see flight), and the runtime
	// reuses its batch: keep a copy.
	records = slices.Clone(records)
	buf := make([]op, len(records))
	ops := make([]*op, 0, len(records))
	for i := range records {
		r := &records[i]
		c, err := t.classify(r)
		if err != nil {
			if err := t.reject(ctx, r, "", "", err); err != nil {
				return err
			}
			continue
		}
		if c.kind == changeSkip {
			continue
		}
		o := &buf[i]
		*o = op{kind: c.kind, idx: i, t: t.tableFor(c.table), ch: c}
		if c.kind != changeTruncate {
			sh, err := t.shapeFor(o.t, r, &o.ch)
			if err != nil {
				if err := t.reject(ctx, r, o.t.id.String(), "", err); err != nil {
					return err
				}
				continue
			}
			o.sh = sh
		}
		ops = append(ops, o)
	}
	for start := 0; start < len(ops); start += t.cfg.BatchSize {
		if err := t.writeChunk(ctx, records, ops[start:min(start+t.cfg.BatchSize, len(ops))], true); err != nil {
			return err
		}
	}
	return nil
}

func (t *Sink) tableFor(raw string) *table {
	if tb, ok := t.tables[raw]; ok {
		return tb
	}
	tb := &table{raw: raw, id: parseTableID(raw, t.q), shapes: map[shapeKey]*shape{}, named: map[string]*shape{}}
	tb.sql = tb.id.sql(t.q)
	t.tables[raw] = tb
	return tb
}

// shapeFor finds (or builds) the shape of record r: by schema identity,
// then by schema equality, and for schemaless records by field list.
func (t *Sink) shapeFor(tb *table, r *connectors.Record, c *change) (*shape, error) {
	var k shapeKey
	schemaless := c.row.m != nil || (c.kind == changeDelete && c.key.m != nil)
	if !schemaless {
		k = shapeKey{kind: c.kind, key: c.key.schema, row: c.row.schema}
		if t.cfg.PrimaryKeyMode != PKRecordKey {
			k.key = nil
		}
		if sh, ok := tb.shapes[k]; ok {
			return sh, nil
		}
		for _, sh := range tb.all {
			if sh.kind == k.kind && sh.rowSchema.Equal(k.row) && sh.keySchema.Equal(k.key) && sh.keySchema != nil == (k.key != nil) {
				if len(tb.shapes) > 4096 {
					clear(tb.shapes)
				}
				tb.shapes[k] = sh
				return sh, nil
			}
		}
	}
	var sig string
	if schemaless {
		var b strings.Builder
		b.WriteByte(byte('0' + c.kind))
		for _, p := range []part{c.key, c.row} {
			b.WriteByte(0)
			if p.m != nil {
				for _, f := range keyFields(p) {
					b.WriteString(f)
					b.WriteByte(',')
				}
			} else if p.schema != nil {
				b.WriteString(p.schema.String())
			}
		}
		sig = b.String()
		if sh, ok := tb.named[sig]; ok {
			return sh, nil
		}
	}
	cols, err := t.buildColumns(r, c)
	if err != nil {
		return nil, err
	}
	sh := &shape{t: tb, kind: c.kind, cols: cols, keySchema: k.key, rowSchema: k.row}
	for i := range cols {
		if cols[i].pk {
			sh.pkIdx = append(sh.pkIdx, i)
		}
	}
	if schemaless {
		tb.named[sig] = sh
	} else {
		tb.shapes[k] = sh
	}
	tb.all = append(tb.all, sh)
	return sh, nil
}

// reject handles a record that cannot be written: to the dead letter
// queue when there is one, else as the task's failure.
func (t *Sink) reject(ctx context.Context, r *connectors.Record, table, column string, err error) error {
	var ce *columnError
	if column == "" && errors.As(err, &ce) {
		column = ce.column
	}
	tp, off := coordinates(r)
	re := &RecordError{Table: table, Column: column, Topic: tp.Topic, Partition: tp.Partition, Offset: off, Err: err}
	if t.errant == nil {
		return re
	}
	if rerr := t.errant.Report(ctx, *r, re); rerr != nil {
		return rerr
	}
	t.log.Debug("jdbc sink: record sent to the dead letter queue", "error", re)
	return nil
}

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
	// Anything that needs the connection first waits for the flight.
	if t.needsDB(ops) {
		if err := t.finish(ctx); err != nil {
			return err
		}
		if t.conn == nil || t.conn.IsClosed() {
			if err := t.connect(ctx); err != nil {
				return err
			}
		}
		// Tables: load, create, evolve, bind shapes.
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
	}
	// Values: CPU only, while the database works on the flight.
	live := make([]*op, 0, len(ops))
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
		t.log.Debug("jdbc sink: pipelined batch failed, writing it again", "error", err)
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

// segment is a run of one table's changes that can be applied set-wise:
// a truncate, or deletes and upserts of one shape each.
type segment struct {
	t        *table
	truncate bool
	up, del  *shape
	ups      []*op
	dels     []*op
	keys     map[any]*op
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

// plan turns ops into the statements that apply them: per table, in
// order, segment by segment.
func (t *Sink) plan(ops []*op) []step {
	var order []*table
	segs := map[*table][]*segment{}
	for _, o := range ops {
		list, ok := segs[o.t]
		if !ok {
			order = append(order, o.t)
		}
		var cur *segment
		if len(list) > 0 {
			cur = list[len(list)-1]
		}
		newSeg := func() *segment {
			s := &segment{t: o.t}
			if t.collapse {
				s.keys = make(map[any]*op, len(ops))
			}
			list = append(list, s)
			return s
		}
		switch o.kind {
		case changeTruncate:
			newSeg().truncate = true
			cur = nil
		case changeUpsert:
			if cur == nil || cur.truncate || cur.up != nil && cur.up != o.sh {
				cur = newSeg()
			}
			cur.up = o.sh
			cur.ups = append(cur.ups, o)
		case changeDelete:
			if cur == nil || cur.truncate || cur.del != nil && cur.del != o.sh || !t.collapse && len(cur.ups) > 0 {
				cur = newSeg()
			}
			cur.del = o.sh
			cur.dels = append(cur.dels, o)
		}
		if cur != nil && cur.keys != nil {
			if prev := cur.keys[o.key]; prev != nil && o.sh.keep != nil && prev.sh == o.sh && prev.kind == changeUpsert && o.kind == changeUpsert {
				fillPlaceholders(o, prev)
			}
			cur.keys[o.key] = o
		}
		segs[o.t] = list
	}
	var steps []step
	for _, tb := range order {
		for _, s := range segs[tb] {
			steps = t.segmentSteps(s, steps)
		}
	}
	return steps
}

// fillPlaceholders gives o, which replaces prev in a batch, prev's values
// where o has Debezium's unchanged-TOAST placeholder: the row keeps what
// prev would have written.
func fillPlaceholders(o, prev *op) {
	for i, ph := range o.sh.keepVal {
		if ph == nil || o.vals[i] == nil || prev.vals[i] == nil {
			continue
		}
		if isPlaceholder(o.vals[i], ph) && !isPlaceholder(prev.vals[i], ph) {
			o.vals[i] = prev.vals[i]
		}
	}
}

func isPlaceholder(v, ph any) bool {
	switch p := ph.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == p
	case []byte:
		b, ok := v.([]byte)
		return ok && string(b) == string(p)
	}
	return false
}

// step is one statement of a transaction: a truncate, or a run of rows
// of one shape.
type step struct {
	sql  string // TRUNCATE
	sh   *shape
	rows [][]any
}

// useUnnest says whether a run of n rows of sh goes through unnest
// rather than the stage.
func (t *Sink) useUnnest(sh *shape, n int) bool {
	return sh.unnest != "" && n <= t.unnestMax && !t.isolating
}

func (t *Sink) segmentSteps(s *segment, steps []step) []step {
	if s.truncate {
		if s.t.meta.exists {
			steps = append(steps, step{sql: truncateSQL(s.t.sql)})
		}
		return steps
	}
	live := func(list []*op) [][]any {
		rows := make([][]any, 0, len(list))
		for _, o := range list {
			if s.keys != nil && s.keys[o.key] != o {
				continue // superseded by a later change of the same key
			}
			rows = append(rows, o.vals)
		}
		return rows
	}
	if len(s.dels) > 0 && s.t.meta.exists && s.del.stmt != "" {
		if rows := live(s.dels); len(rows) > 0 {
			steps = append(steps, step{sh: s.del, rows: rows})
		}
	}
	if len(s.ups) > 0 && s.up.stmt != "" {
		if rows := live(s.ups); len(rows) > 0 {
			steps = append(steps, step{sh: s.up, rows: rows})
		}
	}
	return steps
}

// columns turns rows into one array per column, for unnest.
func columns(rows [][]any, n int) []any {
	out := make([]any, n)
	flat := make([]any, n*len(rows))
	for c := 0; c < n; c++ {
		col := flat[c*len(rows) : (c+1)*len(rows) : (c+1)*len(rows)]
		for i, r := range rows {
			col[i] = r[c]
		}
		out[c] = col
	}
	return out
}

// runStep executes a step in tx.
func (t *Sink) runStep(ctx context.Context, tx pgx.Tx, s step) error {
	if s.sh == nil {
		_, err := tx.Exec(ctx, s.sql)
		return err
	}
	if t.useUnnest(s.sh, len(s.rows)) {
		_, err := tx.Exec(ctx, s.sh.unnest, columns(s.rows, len(s.sh.cols))...)
		return err
	}
	st := s.sh.stage
	if st.dirty {
		if _, err := tx.Exec(ctx, "TRUNCATE "+st.name); err != nil {
			return err
		}
	}
	st.dirty = true
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{st.name}, st.cols, pgx.CopyFromRows(s.rows)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, s.sh.stmt)
	return err
}

// canPipeline reports whether no step needs COPY.
func (t *Sink) canPipeline(steps []step) bool {
	for _, s := range steps {
		if s.sh != nil && !t.useUnnest(s.sh, len(s.rows)) {
			return false
		}
	}
	return true
}

// convert computes an op's column values for its shape's binding.
func (t *Sink) convert(r *connectors.Record, o *op) error {
	sh := o.sh
	vals := o.vals
	if cap(vals) < len(sh.cols) {
		vals = make([]any, len(sh.cols))
	}
	vals = vals[:len(sh.cols)]
	for i := range sh.cols {
		sc := &sh.cols[i]
		v := sc.value(r, &o.ch, t.cfg.ApplyDefaults)
		if connectors.IsNull(v) {
			if sc.pk {
				return &columnError{column: sc.name, err: errors.New("the primary key value is null")}
			}
			vals[i] = nil
			continue
		}
		c, err := sh.convs[i](v)
		if err != nil {
			return &columnError{column: sc.name, err: fmt.Errorf("field %s: %w", sc.field, err)}
		}
		vals[i] = c
	}
	o.vals, o.ver = vals, sh.version
	if t.collapse {
		o.key = t.encodeKey(vals, sh.pkIdx)
	}
	return nil
}

// encodeKey returns the primary key values of a row as a map key; equal
// keys mean the same row. A single column of a comparable scalar type is
// its own key; anything else is rendered into a string.
func (t *Sink) encodeKey(vals []any, idx []int) any {
	if len(idx) == 1 {
		switch v := vals[idx[0]].(type) {
		case int64, int32, int16, string, bool, pgtype.UUID:
			return v
		}
	}
	b := t.keyBuf[:0]
	for _, i := range idx {
		switch x := vals[i].(type) {
		case int64:
			b = strconv.AppendInt(append(b, 'i'), x, 10)
		case int32:
			b = strconv.AppendInt(append(b, 'i'), int64(x), 10)
		case int16:
			b = strconv.AppendInt(append(b, 'i'), int64(x), 10)
		case string:
			b = strconv.AppendInt(append(b, 's'), int64(len(x)), 10)
			b = append(append(b, ':'), x...)
		case []byte:
			b = strconv.AppendInt(append(b, 'b'), int64(len(x)), 10)
			b = append(append(b, ':'), x...)
		case pgtype.Numeric:
			b = append(b, 'n')
			b = append(b, normNumeric(x)...)
		case smallDecimal:
			b = append(b, 'n')
			b = append(b, normNumeric(pgtype.Numeric{Int: big.NewInt(x.unscaled), Exp: -x.scale})...)
		case pgtype.UUID:
			b = append(append(b, 'u'), x.Bytes[:]...)
		case pgtype.Timestamp:
			b = strconv.AppendInt(append(b, 't'), x.Time.UnixNano(), 10)
		case pgtype.Timestamptz:
			b = strconv.AppendInt(append(b, 'T'), x.Time.UnixNano(), 10)
		case pgtype.Date:
			b = strconv.AppendInt(append(b, 'd'), x.Time.Unix(), 10)
		default:
			s := fmt.Sprintf("%T:%v", x, x)
			b = strconv.AppendInt(append(b, 'x'), int64(len(s)), 10)
			b = append(append(b, ':'), s...)
		}
		b = append(b, 0)
	}
	t.keyBuf = b
	return string(b)
}

// normNumeric renders a numeric without trailing zeros, so 1.5 and 1.50
// are one key, as they are one value in PostgreSQL.
func normNumeric(n pgtype.Numeric) string {
	if n.NaN || n.Int == nil {
		return "NaN"
	}
	i, exp := new(big.Int).Set(n.Int), n.Exp
	ten, r := big.NewInt(10), new(big.Int)
	for i.Sign() != 0 {
		q, m := new(big.Int).QuoRem(i, ten, r)
		if m.Sign() != 0 {
			break
		}
		i, exp = q, exp+1
	}
	if i.Sign() == 0 {
		exp = 0
	}
	return i.String() + "e" + strconv.Itoa(int(exp))
}
