package jdbc

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL dialect: identifiers, the catalog, and the statements of
// the write path.
//
// Each run of rows of one shape is moved by one set-based statement,
// reading the rows from s:
//
//	upsert: INSERT INTO t (cols) SELECT … FROM s ON CONFLICT (pk) DO UPDATE SET c = EXCLUDED.c, …
//	insert: INSERT INTO t (cols) SELECT … FROM s
//	update: UPDATE t SET c = s.c, … FROM s WHERE t.pk = s.pk
//	delete: DELETE FROM t USING s WHERE t.pk = s.pk
//
// s is either unnest($1::t0[], $2::t1[], …), one binary array parameter
// per column (runs of up to 2,000 rows: no temporary table, and the
// whole transaction is pipelined in one round trip), or a session-local
// staging table filled by binary COPY (larger runs, where COPY costs less
// CPU; shapes with array columns, which unnest would flatten; and the
// isolation of refused records, where COPY's errors name the column).
// Either way
// values travel with the destination column's type; columns whose type
// pgx cannot encode in binary (enums, domains, timetz, bit, xml, inet,
// arrays when unnested …) travel as text and are cast in the statement.
// Stages are TEMP tables ON COMMIT DELETE ROWS, created once per
// connection and column set.

// quoter renders identifiers. With quoting off, names are folded to lower
// case as PostgreSQL folds unquoted identifiers, then quoted anyway, so
// that reserved words and odd characters cannot break a statement.
type quoter struct{ keepCase bool }

// fold returns the name a table or column gets.
func (q quoter) fold(name string) string {
	if q.keepCase {
		return name
	}
	return lowerASCII(name)
}

// ident quotes an already folded name.
func (q quoter) ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// tableID names a table: schema (empty: the search_path decides) and
// name, both folded.
type tableID struct {
	schema, name string
}

// parseTableID splits a formatted table name on dots: table,
// schema.table, or catalog.schema.table (the catalog, necessarily the
// connected database in PostgreSQL, is dropped).
func parseTableID(raw string, q quoter) tableID {
	parts := strings.Split(raw, ".")
	switch len(parts) {
	case 1:
		return tableID{name: q.fold(parts[0])}
	case 2:
		return tableID{schema: q.fold(parts[0]), name: q.fold(parts[1])}
	}
	n := len(parts)
	return tableID{schema: q.fold(parts[n-2]), name: q.fold(parts[n-1])}
}

func (t *tableID) sql(q quoter) string {
	if t.schema == "" {
		return q.ident(t.name)
	}
	return q.ident(t.schema) + "." + q.ident(t.name)
}

func (t *tableID) String() string {
	if t.schema == "" {
		return strconv.Quote(t.name)
	}
	return strconv.Quote(t.schema) + "." + strconv.Quote(t.name)
}

// column is a destination column as the catalog describes it.
type column struct {
	name    string
	oid     uint32 // type OID
	typ     string // format_type: e.g. "character varying(20)"
	base    string // without the type modifier: "character varying"
	notNull bool
}

// tableMeta is what the catalog says about a table.
type tableMeta struct {
	exists  bool
	relkind byte
	cols    map[string]*column
	order   []string   // column names in attnum order
	pk      []string   // primary key columns
	uniques [][]string // column sets of unique, non-partial, non-expression indexes (pk included)
}

const (
	sqlRegclass = `SELECT c.oid, c.relkind FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)`
	sqlColumns  = `SELECT a.attname, a.atttypid, pg_catalog.format_type(a.atttypid, a.atttypmod), pg_catalog.format_type(a.atttypid, NULL), a.attnotnull
FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`
	sqlUniques = `SELECT i.indisprimary, array_agg(a.attname::text ORDER BY k.ord)
FROM pg_catalog.pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
GROUP BY i.indexrelid, i.indisprimary`
)

// loadTable reads a table's columns and unique keys from the catalog.
func loadTable(ctx context.Context, conn *pgx.Conn, id *tableID, q quoter) (tableMeta, error) {
	var m tableMeta
	var oid uint32
	var kind byte
	err := conn.QueryRow(ctx, sqlRegclass, id.sql(q)).Scan(&oid, &kind)
	if err == pgx.ErrNoRows {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("look up table %s: %w", id, err)
	}
	m.exists, m.relkind = true, kind
	m.cols = map[string]*column{}
	rows, err := conn.Query(ctx, sqlColumns, oid)
	if err != nil {
		return m, fmt.Errorf("read columns of %s: %w", id, err)
	}
	for rows.Next() {
		c := new(column)
		if err := rows.Scan(&c.name, &c.oid, &c.typ, &c.base, &c.notNull); err != nil {
			rows.Close()
			return m, fmt.Errorf("read columns of %s: %w", id, err)
		}
		m.cols[c.name] = c
		m.order = append(m.order, c.name)
	}
	if err := rows.Err(); err != nil {
		return m, fmt.Errorf("read columns of %s: %w", id, err)
	}
	rows, err = conn.Query(ctx, sqlUniques, oid)
	if err != nil {
		return m, fmt.Errorf("read indexes of %s: %w", id, err)
	}
	for rows.Next() {
		var primary bool
		var cols []string
		if err := rows.Scan(&primary, &cols); err != nil {
			rows.Close()
			return m, fmt.Errorf("read indexes of %s: %w", id, err)
		}
		if primary {
			m.pk = cols
		}
		m.uniques = append(m.uniques, cols)
	}
	if err := rows.Err(); err != nil {
		return m, fmt.Errorf("read indexes of %s: %w", id, err)
	}
	return m, nil
}

// hasUnique reports whether a unique index covers exactly cols, which
// ON CONFLICT (cols) needs.
func (m *tableMeta) hasUnique(cols []string) bool {
	for _, u := range m.uniques {
		if len(u) != len(cols) {
			continue
		}
		all := true
		for _, c := range cols {
			found := false
			for _, x := range u {
				if x == c {
					found = true
					break
				}
			}
			if !found {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// stageSQL creates a staging table for columns of the given types.
func stageSQL(name string, types []string) string {
	var b strings.Builder
	b.WriteString("CREATE TEMP TABLE ")
	b.WriteString(name)
	b.WriteString(" (")
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("c" + strconv.Itoa(i) + " " + t)
	}
	b.WriteString(") ON COMMIT DELETE ROWS")
	return b.String()
}

// stageCol renders stage column i for use in a statement, cast to the
// destination type when it is staged as text.
func stageCol(i int, cast string) string {
	s := "s.c" + strconv.Itoa(i)
	if cast != "" {
		s += "::" + cast
	}
	return s
}

// stageFrom is the FROM item of a staging table.
func stageFrom(stage string) string { return stage + " s" }

// unnestFrom is the FROM item of rows passed as one array parameter per
// column: unnest($1::t0[], $2::t1[], …) AS s(c0, c1, …).
func unnestFrom(types []string) string {
	var b strings.Builder
	b.WriteString("unnest(")
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+1) + "::" + t + "[]")
	}
	b.WriteString(") AS s(")
	for i := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("c" + strconv.Itoa(i))
	}
	b.WriteByte(')')
	return b.String()
}

// upsertSQL: INSERT … SELECT … ON CONFLICT (pk) DO UPDATE / DO NOTHING.
// With no pk it is a plain INSERT … SELECT. from is the FROM item of
// the rows, aliased s with columns c0, c1, ….
//
// keep[i], when not empty, is an SQL literal (Debezium's placeholder for
// an unchanged TOASTed value): a row whose column i holds it keeps its
// current value instead.
func upsertSQL(table string, cols []string, casts []string, pk []string, from string, q quoter, conflict bool, keep []string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" AS t (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q.ident(c))
	}
	b.WriteString(") SELECT ")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(stageCol(i, casts[i]))
	}
	b.WriteString(" FROM ")
	b.WriteString(from)
	if !conflict || len(pk) == 0 {
		return b.String()
	}
	b.WriteString(" ON CONFLICT (")
	for i, c := range pk {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q.ident(c))
	}
	b.WriteString(") ")
	var set []string
	isPK := map[string]bool{}
	for _, p := range pk {
		isPK[p] = true
	}
	for i, c := range cols {
		if isPK[c] {
			continue
		}
		v := "EXCLUDED." + q.ident(c)
		if keep != nil && keep[i] != "" {
			v = "CASE WHEN " + v + " = " + keep[i] + " THEN t." + q.ident(c) + " ELSE " + v + " END"
		}
		set = append(set, q.ident(c)+" = "+v)
	}
	if len(set) == 0 {
		b.WriteString("DO NOTHING")
	} else {
		b.WriteString("DO UPDATE SET ")
		b.WriteString(strings.Join(set, ", "))
	}
	return b.String()
}

// updateSQL: UPDATE t SET … FROM stage s WHERE t.pk = s.pk; "" when
// there is nothing to set.
func updateSQL(table string, cols []string, casts []string, pkIdx []int, from string, q quoter, keep []string) string {
	isPK := map[int]bool{}
	for _, i := range pkIdx {
		isPK[i] = true
	}
	var set, where []string
	for i, c := range cols {
		if isPK[i] {
			where = append(where, "t."+q.ident(c)+" = "+stageCol(i, casts[i]))
		} else if keep != nil && keep[i] != "" {
			v := stageCol(i, casts[i])
			set = append(set, q.ident(c)+" = CASE WHEN "+v+" = "+keep[i]+" THEN t."+q.ident(c)+" ELSE "+v+" END")
		} else {
			set = append(set, q.ident(c)+" = "+stageCol(i, casts[i]))
		}
	}
	if len(set) == 0 {
		return ""
	}
	return "UPDATE " + table + " AS t SET " + strings.Join(set, ", ") + " FROM " + from + " WHERE " + strings.Join(where, " AND ")
}

// deleteSQL: DELETE FROM t USING stage s WHERE t.pk = s.pk.
func deleteSQL(table string, cols []string, casts []string, from string, q quoter) string {
	where := make([]string, len(cols))
	for i, c := range cols {
		where[i] = "t." + q.ident(c) + " = " + stageCol(i, casts[i])
	}
	return "DELETE FROM " + table + " AS t USING " + from + " WHERE " + strings.Join(where, " AND ")
}

func truncateSQL(table string) string { return "TRUNCATE TABLE " + table }
