package jdbc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
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
// batch.size records; it returns once they are committed, so Flush only
// has to report offsets. Within a table, the changes of one transaction
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

	tables   map[string]*table
	stages   map[string]*stage
	stageSeq int
	keyBuf   []byte

	// pending holds, per partition, the offset of the first record of a
	// Put that failed: Flush must not commit past it.
	pending map[connectors.TopicPartition]int64

	// sleep waits between retries (replaced in tests).
	sleep func(ctx context.Context, d time.Duration) error
}

var (
	_ connectors.Sink = (*Sink)(nil)
)

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
	norms   []normalizer
	encs    []encoder
	casts   []string
	names   []string // column names, for the stage columns c0…
	stage   *stage
	stmt    string
}

// stage is a TEMP staging table of the current connection.
type stage struct {
	name    string
	types   []string
	cols    []string // c0, c1, …
	created bool
	dirty   bool // has rows in the current transaction
}

// op is one record to apply.
type op struct {
	kind changeKind
	idx  int // in the Put batch
	t    *table
	sh   *shape
	ch   change
	vals []any
	ver  int // shape version vals were converted for
	key  string
	done bool // written or reported: skipped on retries
}

// Open parses the config and connects. An unreachable database is
// retriable; wrong credentials or a missing database are not.
func (t *Sink) Open(ctx context.Context, sc connectors.SinkContext, config map[string]string) error {
	f := FlavorOf(config[connectors.KeyConnectorClass])
	if f == FlavorSluice && t.flavor != 0 {
		f = t.flavor
	}
	cfg, err := ParseFlavor(f, config)
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
	t.conn = conn
	t.stages = map[string]*stage{}
	for _, tb := range t.tables {
		tb.loaded = false
	}
	return nil
}

// Put writes records and commits them before returning.
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

// Flush returns offsets, except for partitions with records of a failed
// Put, which are held at the first of them: everything else Put accepted
// is committed already.
func (t *Sink) Flush(_ context.Context, offsets map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error) {
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
	err := t.conn.Close(ctx)
	t.conn = nil
	if err != nil {
		return fmt.Errorf("jdbc sink: close connection: %w", err)
	}
	return nil
}

func (t *Sink) put(ctx context.Context, records []connectors.Record) error {
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
		if err := t.writeChunk(ctx, records, ops[start:min(start+t.cfg.BatchSize, len(ops))]); err != nil {
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
func (t *Sink) writeChunk(ctx context.Context, records []connectors.Record, ops []*op) error {
	for attempt := 0; ; attempt++ {
		err := t.tryChunk(ctx, records, ops)
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
			_ = t.conn.Close(ctx)
			t.conn = nil
		}
		if err := t.sleep(ctx, t.cfg.RetryBackoff); err != nil {
			return fmt.Errorf("jdbc sink: write interrupted: %w", err)
		}
	}
}

// tryChunk is one attempt at writing ops.
func (t *Sink) tryChunk(ctx context.Context, records []connectors.Record, ops []*op) error {
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
	// Values.
	live := make([]*op, 0, len(ops))
	for _, o := range ops {
		if o.done {
			continue
		}
		if o.sh != nil {
			if o.vals == nil || o.ver != o.sh.version {
				if err := t.convert(&records[o.idx], o); err != nil {
					o.done = true
					if err := t.reject(ctx, &records[o.idx], o.t.id.String(), "", err); err != nil {
						return err
					}
					continue
				}
			}
			if st := o.sh.stage; st != nil && !st.created {
				if _, err := t.conn.Exec(ctx, stageSQL(st.name, st.types)); err != nil {
					return fmt.Errorf("jdbc sink: create staging table: %w", err)
				}
				st.created = true
			}
		}
		live = append(live, o)
	}
	if len(live) == 0 {
		return nil
	}
	err := t.inTx(ctx, func(tx pgx.Tx) error { return t.apply(ctx, tx, live) })
	if err == nil || !isDataError(err) {
		return err
	}
	// Some record's data was refused: find it (them) by halves.
	return t.inTx(ctx, func(tx pgx.Tx) error { return t.bisect(ctx, tx, records, live) })
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
	err = t.apply(ctx, sp, ops)
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
	keys     map[string]*op
}

// apply writes ops (in the open transaction): per table, in order,
// segment by segment.
func (t *Sink) apply(ctx context.Context, tx pgx.Tx, ops []*op) error {
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
				s.keys = map[string]*op{}
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
			cur.keys[o.key] = o
		}
		segs[o.t] = list
	}
	for _, tb := range order {
		for _, s := range segs[tb] {
			if err := t.applySegment(ctx, tx, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Sink) applySegment(ctx context.Context, tx pgx.Tx, s *segment) error {
	if s.truncate {
		if !s.t.meta.exists {
			return nil
		}
		_, err := tx.Exec(ctx, truncateSQL(s.t.sql))
		return err
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
	if len(s.dels) > 0 && s.t.meta.exists {
		if err := t.stageAndRun(ctx, tx, s.del, live(s.dels)); err != nil {
			return err
		}
	}
	if len(s.ups) > 0 {
		if err := t.stageAndRun(ctx, tx, s.up, live(s.ups)); err != nil {
			return err
		}
	}
	return nil
}

// stageAndRun copies rows into the shape's staging table and runs its
// statement.
func (t *Sink) stageAndRun(ctx context.Context, tx pgx.Tx, sh *shape, rows [][]any) error {
	if len(rows) == 0 || sh.stmt == "" {
		return nil
	}
	st := sh.stage
	if st.dirty {
		if _, err := tx.Exec(ctx, "TRUNCATE "+st.name); err != nil {
			return err
		}
	}
	st.dirty = true
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{st.name}, st.cols, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, sh.stmt)
	return err
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
		c, err := sh.norms[i](v)
		if err == nil && c != nil {
			c, err = sh.encs[i](c)
		}
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

// encodeKey renders the primary key values of a row as a map key; equal
// keys mean the same row.
func (t *Sink) encodeKey(vals []any, idx []int) string {
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
