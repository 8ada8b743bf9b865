package postgres

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// tableID names a table.
type tableID struct{ Schema, Name string }

// String returns "schema.table", Debezium's data collection id.
func (t tableID) String() string { return t.Schema + "." + t.Name }

// quoted returns the table as a quoted SQL identifier.
func (t tableID) quoted() string { return quoteIdent(t.Schema) + "." + quoteIdent(t.Name) }

// catalogColumn is one column of a table as the catalog describes it.
type catalogColumn struct {
	Name    string
	TypeOID uint32
	TypeMod int32
	NotNull bool
	Default string // pg_get_expr of the default, "" if none
	Comment string
}

// tableMeta is what the catalog says about a captured table.
type tableMeta struct {
	OID       uint32
	ID        tableID
	Columns   []catalogColumn
	Key       []string // primary key (or replica identity index) columns, in index order
	ReplIdent byte     // relreplident: d default, f full, i index, n nothing
}

func (m *tableMeta) column(name string) (catalogColumn, bool) {
	for _, c := range m.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return catalogColumn{}, false
}

// filters holds the compiled include/exclude lists.
type filters struct {
	schemaIn, schemaEx, tableIn, tableEx, colIn, colEx []*regexp.Regexp
	signal                                             tableID
	keys                                               *keyMapper       // message.key.columns; nil when unset
	snapshotIn                                         []*regexp.Regexp // snapshot.include.collection.list, case-insensitive
}

func compileAll(l []string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, 0, len(l))
	for _, s := range l {
		out = append(out, regexp.MustCompile("^(?:"+s+")$"))
	}
	return out
}

func newFilters(c Config) *filters {
	f := &filters{
		schemaIn: compileAll(c.SchemaInclude), schemaEx: compileAll(c.SchemaExclude),
		tableIn: compileAll(c.TableInclude), tableEx: compileAll(c.TableExclude),
		colIn: compileAll(c.ColumnInclude), colEx: compileAll(c.ColumnExclude),
	}
	if s, t, ok := splitQualified(c.SignalTable); ok {
		f.signal = tableID{s, t}
	}
	f.keys, _ = parseKeyColumns(c.MessageKeyColumns) // validated by Config.Validate
	for _, s := range c.SnapshotInclude {
		f.snapshotIn = append(f.snapshotIn, regexp.MustCompile("(?i)^(?:"+s+")$"))
	}
	return f
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

var systemSchemas = map[string]bool{"pg_catalog": true, "information_schema": true}

// captured reports whether changes of table t are emitted.
func (f *filters) captured(t tableID) bool {
	if systemSchemas[t.Schema] || strings.HasPrefix(t.Schema, "pg_toast") || strings.HasPrefix(t.Schema, "pg_temp") {
		return false
	}
	if len(f.schemaIn) > 0 && !anyMatch(f.schemaIn, t.Schema) {
		return false
	}
	if anyMatch(f.schemaEx, t.Schema) {
		return false
	}
	if len(f.tableIn) > 0 && !anyMatch(f.tableIn, t.String()) {
		return false
	}
	return !anyMatch(f.tableEx, t.String())
}

// snapshotted reports whether the initial snapshot reads captured table
// t: snapshot.include.collection.list is unset, or one of its entries
// matches "schema.table" or "\"schema\".\"table\"", as Debezium's
// AbstractSnapshotChangeEventSource.determineDataCollectionsToBeSnapshotted
// matches them.
func (f *filters) snapshotted(t tableID) bool {
	if len(f.snapshotIn) == 0 {
		return true
	}
	return anyMatch(f.snapshotIn, t.String()) || anyMatch(f.snapshotIn, `"`+t.Schema+`"."`+t.Name+`"`)
}

// columnIncluded reports whether column col of t is in the value.
func (f *filters) columnIncluded(t tableID, col string) bool {
	full := t.String() + "." + col
	if len(f.colIn) > 0 && !anyMatch(f.colIn, full) {
		return false
	}
	return !anyMatch(f.colEx, full)
}

// catalog reads table and type metadata over a regular connection. It is
// safe for concurrent use; queries are serialised on the connection.
type catalog struct {
	mu    sync.Mutex
	conn  *pgx.Conn
	types map[uint32]*pgType
}

func newCatalog(conn *pgx.Conn) *catalog { return &catalog{conn: conn} }

// loadTypes reads pg_type and pg_enum.
func (c *catalog) loadTypes(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loadTypesLocked(ctx)
}

// REQUIRES: c.mu held.
func (c *catalog) loadTypesLocked(ctx context.Context) error {
	rows, err := c.conn.Query(ctx, `SELECT t.oid, t.typname, n.nspname, t.typtype, t.typcategory, t.typelem, t.typbasetype
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace`)
	if err != nil {
		return fmt.Errorf("read pg_type: %w", err)
	}
	types := map[uint32]*pgType{}
	for rows.Next() {
		var t pgType
		var kind, cat string
		if err := rows.Scan(&t.OID, &t.Name, &t.Schema, &kind, &cat, &t.Elem, &t.Base); err != nil {
			rows.Close()
			return fmt.Errorf("read pg_type: %w", err)
		}
		t.Kind, t.Category = kind[0], cat[0]
		types[t.OID] = &t
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read pg_type: %w", err)
	}
	rows, err = c.conn.Query(ctx, `SELECT enumtypid, enumlabel FROM pg_enum ORDER BY enumtypid, enumsortorder`)
	if err != nil {
		return fmt.Errorf("read pg_enum: %w", err)
	}
	for rows.Next() {
		var oid uint32
		var label string
		if err := rows.Scan(&oid, &label); err != nil {
			rows.Close()
			return fmt.Errorf("read pg_enum: %w", err)
		}
		if t := types[oid]; t != nil {
			t.Labels = append(t.Labels, label)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read pg_enum: %w", err)
	}
	c.types = types
	return nil
}

// typeOf returns the type with oid, re-reading the catalog once if it is
// unknown (a type created after start). It returns nil if there is none.
func (c *catalog) typeOf(ctx context.Context, oid uint32) *pgType {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.types[oid]; ok {
		return t
	}
	if err := c.loadTypesLocked(ctx); err != nil {
		return nil
	}
	return c.types[oid]
}

// refreshTypes re-reads the types (e.g. after an enum gained a label).
func (c *catalog) refreshTypes(ctx context.Context) error { return c.loadTypes(ctx) }

// listTables returns the ordinary tables (and leaf partitions) of the
// database that f captures, sorted by name, and their estimated row
// counts.
func (c *catalog) listTables(ctx context.Context, f *filters) ([]tableID, map[tableID]int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, err := c.conn.Query(ctx, `SELECT n.nspname, c.relname, c.reltuples::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND c.relpersistence = 'p'
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`)
	if err != nil {
		return nil, nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []tableID
	est := map[tableID]int64{}
	for rows.Next() {
		var t tableID
		var n int64
		if err := rows.Scan(&t.Schema, &t.Name, &n); err != nil {
			return nil, nil, fmt.Errorf("list tables: %w", err)
		}
		if f.captured(t) {
			out = append(out, t)
			est[t] = max(n, 0)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list tables: %w", err)
	}
	slices.SortFunc(out, func(a, b tableID) int { return strings.Compare(a.String(), b.String()) })
	return out, est, nil
}

// table reads the metadata of t; found is false if the table does not
// exist.
func (c *catalog) table(ctx context.Context, t tableID) (*tableMeta, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var oid uint32
	var ident string
	err := c.conn.QueryRow(ctx, `SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`, t.Schema, t.Name).Scan(&oid, &ident)
	if err == pgx.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read metadata of %s: %w", t, err)
	}
	m, err := c.tableByOIDLocked(ctx, oid)
	if err != nil {
		return nil, false, err
	}
	return m, m != nil, nil
}

// tableByOID reads the metadata of the table with oid, or nil if it is
// gone.
func (c *catalog) tableByOID(ctx context.Context, oid uint32) (*tableMeta, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tableByOIDLocked(ctx, oid)
}

// REQUIRES: c.mu held.
func (c *catalog) tableByOIDLocked(ctx context.Context, oid uint32) (*tableMeta, error) {
	m := &tableMeta{OID: oid}
	var ident string
	err := c.conn.QueryRow(ctx, `SELECT n.nspname, c.relname, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.oid = $1`, oid).Scan(&m.ID.Schema, &m.ID.Name, &ident)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read metadata of table oid %d: %w", oid, err)
	}
	m.ReplIdent = ident[0]
	rows, err := c.conn.Query(ctx, `SELECT a.attname, a.atttypid, a.atttypmod, a.attnotnull,
			COALESCE(pg_get_expr(d.adbin, d.adrelid), ''), COALESCE(col_description(a.attrelid, a.attnum), '')
		FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", m.ID, err)
	}
	for rows.Next() {
		var col catalogColumn
		if err := rows.Scan(&col.Name, &col.TypeOID, &col.TypeMod, &col.NotNull, &col.Default, &col.Comment); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read columns of %s: %w", m.ID, err)
		}
		m.Columns = append(m.Columns, col)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", m.ID, err)
	}
	// The key: the primary key, else the replica identity index.
	rows, err = c.conn.Query(ctx, `SELECT a.attname FROM pg_index i
		CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`, oid)
	if err != nil {
		return nil, fmt.Errorf("read primary key of %s: %w", m.ID, err)
	}
	m.Key, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read primary key of %s: %w", m.ID, err)
	}
	if len(m.Key) == 0 {
		rows, err = c.conn.Query(ctx, `SELECT a.attname FROM pg_index i
			CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
			WHERE i.indrelid = $1 AND i.indisreplident ORDER BY k.ord`, oid)
		if err != nil {
			return nil, fmt.Errorf("read replica identity of %s: %w", m.ID, err)
		}
		m.Key, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("read replica identity of %s: %w", m.ID, err)
		}
	}
	return m, nil
}
