package jdbc

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicedata/sluice/connectors"
)

// prepareTable makes tb ready for ops: its definition loaded, the table
// created and columns added as configured, and every shape bound. Records
// that cannot be written to it are rejected (and marked done).
func (t *Sink) prepareTable(ctx context.Context, records []connectors.Record, tb *table, ops []*op) error {
	if !tb.loaded {
		if err := t.reload(ctx, tb); err != nil {
			return err
		}
	}
	if !tb.meta.exists {
		var first *op
		for _, o := range ops {
			if o.kind == changeUpsert {
				first = o
				break
			}
		}
		if first == nil {
			for _, o := range ops {
				o.done = true // deletes and truncates of a table that is not there: nothing to do
			}
			return nil
		}
		if !t.cfg.AutoCreate {
			err := fmt.Errorf("%w: %s (create it, or enable %s)", ErrTableMissing, tb.id.String(), t.autoCreateKey())
			return t.rejectAll(ctx, records, ops, tb, err)
		}
		if err := t.createTable(ctx, records, tb, first); err != nil {
			return err
		}
	}
	// Bind each shape, adding missing columns first.
	seen := map[*shape]bool{}
	for _, o := range ops {
		sh := o.sh
		if sh == nil || seen[sh] {
			continue
		}
		seen[sh] = true
		if sh.version == tb.version {
			continue
		}
		if err := t.evolve(ctx, records, tb, sh, o); err != nil {
			return err
		}
	}
	for sh := range seen {
		if sh.version != tb.version {
			t.bind(tb, sh)
		}
	}
	for _, o := range ops {
		if o.sh != nil && o.sh.bindErr != nil && !o.done {
			o.done = true
			column := ""
			if me, ok := o.sh.bindErr.(*columnError); ok {
				column = me.column
			}
			if err := t.reject(ctx, &records[o.idx], tb.id.String(), column, o.sh.bindErr); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Sink) reload(ctx context.Context, tb *table) error {
	m, err := loadTable(ctx, t.conn, &tb.id, t.q)
	if err != nil {
		return fmt.Errorf("jdbc sink: %w", err)
	}
	tb.meta, tb.loaded = m, true
	tb.version++
	return nil
}

func (t *Sink) rejectAll(ctx context.Context, records []connectors.Record, ops []*op, tb *table, err error) error {
	for _, o := range ops {
		if o.done {
			continue
		}
		o.done = true
		if rerr := t.reject(ctx, &records[o.idx], tb.id.String(), "", err); rerr != nil {
			return rerr
		}
	}
	return nil
}

func (t *Sink) autoCreateKey() string {
	if t.cfg.Flavor == FlavorConfluent {
		return KeyAutoCreate
	}
	return KeySchemaEvolution + "=basic"
}

func (t *Sink) autoEvolveKey() string {
	if t.cfg.Flavor == FlavorConfluent {
		return KeyAutoEvolve
	}
	return KeySchemaEvolution + "=basic"
}

// createTable creates tb from the shape of its first upsert, with the
// primary key of the configured mode.
func (t *Sink) createTable(ctx context.Context, records []connectors.Record, tb *table, first *op) error {
	sh := first.sh
	var cols []ddlColumn
	var pk []string
	for i := range sh.cols {
		sc := &sh.cols[i]
		typ, ok := columnType(sc.schema, sc.value(&records[first.idx], &first.ch, false))
		if !ok {
			err := &columnError{column: sc.name, err: fmt.Errorf("no PostgreSQL type for field %s of schema %s", sc.field, sc.schema)}
			return t.reject(ctx, &records[first.idx], tb.id.String(), sc.name, err)
		}
		c := ddlColumn{name: sc.name, typ: typ, def: defaultLiteral(sc.schema)}
		if sc.pk {
			c.notNull = true
			pk = append(pk, sc.name)
		} else if sc.schema != nil && !sc.schema.Optional() && t.cfg.Flavor == FlavorConfluent {
			c.notNull = true // Confluent creates required fields NOT NULL
		}
		cols = append(cols, c)
	}
	stmt := createTableSQL(&tb.id, cols, pk, t.q)
	if _, err := t.conn.Exec(ctx, stmt); err != nil && !isDuplicateObject(err) {
		return fmt.Errorf("jdbc sink: create table %s: %w (statement: %s)", tb.id.String(), err, stmt)
	}
	t.log.Info("jdbc sink: created table", "table", tb.id.String(), "statement", stmt)
	return t.reload(ctx, tb)
}

func isDuplicateObject(err error) bool {
	switch pgCode(err) {
	case "42P07", "23505", "42701":
		return true // a concurrent task created it first
	}
	return false
}

// evolve adds the shape's columns the table lacks, when auto-evolution
// is on. Otherwise binding reports them.
func (t *Sink) evolve(ctx context.Context, records []connectors.Record, tb *table, sh *shape, sample *op) error {
	if !t.cfg.AutoEvolve || sh.kind != changeUpsert {
		return nil
	}
	added := false
	for i := range sh.cols {
		sc := &sh.cols[i]
		if _, ok := tb.meta.cols[sc.name]; ok {
			continue
		}
		typ, ok := columnType(sc.schema, sc.value(&records[sample.idx], &sample.ch, false))
		if !ok {
			continue // bind reports it
		}
		stmt := addColumnSQL(&tb.id, ddlColumn{name: sc.name, typ: typ, def: defaultLiteral(sc.schema)}, t.q)
		if _, err := t.conn.Exec(ctx, stmt); err != nil && !isDuplicateObject(err) {
			return fmt.Errorf("jdbc sink: add column %q to %s: %w (statement: %s)", sc.name, tb.id.String(), err, stmt)
		}
		t.log.Info("jdbc sink: added column", "table", tb.id.String(), "statement", stmt)
		added = true
	}
	if added {
		return t.reload(ctx, tb)
	}
	return nil
}

// bind resolves a shape against the table's current definition: value
// conversions, the staging table and the statement.
func (t *Sink) bind(tb *table, sh *shape) {
	sh.version = tb.version
	sh.bindErr = nil
	n := len(sh.cols)
	sh.convs = make([]converter, n)
	sh.casts, sh.names = make([]string, n), make([]string, n)
	types := make([]string, n)
	var pk []string
	for i := range sh.cols {
		sc := &sh.cols[i]
		sh.names[i] = sc.name
		c, ok := tb.meta.cols[sc.name]
		if !ok {
			sh.bindErr = &columnError{column: sc.name, err: fmt.Errorf("%w: table %s has no column %q for field %s (add it, or enable %s)",
				ErrColumnMissing, tb.id.String(), sc.name, sc.field, t.autoEvolveKey())}
			return
		}
		conv, binary := converterFor(sc.schema, c.oid, t.loc)
		sh.convs[i] = conv
		if binary {
			types[i] = c.typ
		} else {
			types[i] = "text"
			sh.casts[i] = c.typ
		}
		if sc.pk {
			pk = append(pk, sc.name)
		}
	}
	if tb.meta.relkind == 'v' && !t.cfg.AllowViews {
		sh.bindErr = fmt.Errorf("%s is a view; list VIEW in %s to write to it", tb.id.String(), KeyTableTypes)
		return
	}
	if sh.kind == changeUpsert && t.cfg.InsertMode == InsertModeUpsert && !tb.meta.hasUnique(pk) {
		sh.bindErr = fmt.Errorf("%w: upsert needs a primary key or unique index on (%s) in table %s, which has %s",
			ErrNoUniqueKey, strings.Join(pk, ", "), tb.id.String(), describeKeys(&tb.meta))
		return
	}
	sh.stage = t.stageFor(types)
	// Array columns cannot go through unnest (it would flatten them):
	// such shapes always use the stage.
	// Arrays are cast to the base type, without modifier: an explicit cast
	// to varchar(5) would truncate silently where the insert must fail.
	unnestOK := true
	utypes := make([]string, n)
	for i := range sh.cols {
		c := tb.meta.cols[sh.names[i]]
		if arrayElem(c.oid) != 0 {
			unnestOK = false
		}
		utypes[i] = "text"
		if sh.casts[i] == "" {
			utypes[i] = c.base
		}
	}
	// Debezium's placeholder for unchanged TOASTed values must not
	// overwrite the real value (text and bytea columns).
	sh.keep, sh.keepVal = nil, nil
	if ph := t.cfg.UnavailablePlaceholder; ph != "" && sh.kind == changeUpsert {
		for i := range sh.cols {
			c := tb.meta.cols[sh.names[i]]
			var lit string
			var val any
			switch c.oid {
			case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID:
				lit, val = quoteLiteral(ph), ph
			case pgtype.ByteaOID:
				lit, val = `'\x`+hex.EncodeToString([]byte(ph))+`'::bytea`, []byte(ph)
			default:
				continue
			}
			if sh.cols[i].pk {
				continue
			}
			if sh.keep == nil {
				sh.keep, sh.keepVal = make([]string, n), make([]any, n)
			}
			sh.keep[i], sh.keepVal[i] = lit, val
		}
	}
	build := func(from string) string {
		switch {
		case sh.kind == changeDelete:
			return deleteSQL(tb.sql, sh.names, sh.casts, from, t.q)
		case t.cfg.InsertMode == InsertModeUpdate:
			return updateSQL(tb.sql, sh.names, sh.casts, sh.pkIdx, from, t.q, sh.keep)
		}
		return upsertSQL(tb.sql, sh.names, sh.casts, pk, from, t.q, t.cfg.InsertMode == InsertModeUpsert, sh.keep)
	}
	sh.stmt = build(stageFrom(sh.stage.name))
	sh.unnest = ""
	if unnestOK {
		sh.unnest = build(unnestFrom(utypes))
	}
	if sh.stmt == "" {
		sh.unnest = "" // an update with nothing to set
	}
}

func describeKeys(m *tableMeta) string {
	if len(m.uniques) == 0 {
		return "no primary key or unique index"
	}
	var parts []string
	for _, u := range m.uniques {
		parts = append(parts, "("+strings.Join(u, ", ")+")")
	}
	return "unique keys " + strings.Join(parts, ", ")
}

// stageFor returns the staging table for columns of these types, created
// on first use in this connection.
func (t *Sink) stageFor(types []string) *stage {
	key := strings.Join(types, "\x00")
	if st, ok := t.stages[key]; ok {
		return st
	}
	t.stageSeq++
	st := &stage{name: "sluice_stage_" + strconv.Itoa(t.stageSeq), types: types}
	for i := range types {
		st.cols = append(st.cols, "c"+strconv.Itoa(i))
	}
	t.stages[key] = st
	return st
}
