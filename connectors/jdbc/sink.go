package jdbc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	// unnestMax is the largest run of rows passed as unnest arrays, in a
	// transaction pipelined in one round trip and confirmed later; larger
	// runs are COPYed into the stage. Measured with BenchmarkSinkApply
	// (CPU per row, robust on a busy machine): unnest costs less than
	// COPY up to about 2,000 rows, COPY less above (5,000 rows: 5.2 µs
	// against 6.2 µs of client and server CPU per inserted row). <= 0:
	// always COPY.
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

// defaultUnnestMax is the default unnestMax.
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
