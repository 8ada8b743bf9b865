package jdbc

// Planning: ops become statements (steps), per table and in order, with
// the changes of one key collapsed to the last; and values become what
// pgx sends.

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sluicedata/sluice/connectors"
)

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
		steps = t.runSteps(steps, s.del, live(s.dels))
	}
	if len(s.ups) > 0 && s.up.stmt != "" {
		steps = t.runSteps(steps, s.up, live(s.ups))
	}
	return steps
}

// runSteps appends the step of a run of rows.
func (t *Sink) runSteps(steps []step, sh *shape, rows [][]any) []step {
	if len(rows) == 0 {
		return steps
	}
	return append(steps, step{sh: sh, rows: rows})
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
