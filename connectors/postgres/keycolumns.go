package postgres

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/connectors"
)

// message.key.columns, as Debezium's Key.CustomKeyMapper
// (debezium-connector-common, io.debezium.relational.Key) and
// RelationalDatabaseConnectorConfig.validateMessageKeyColumnsField read
// it:
//
//   - entries are separated by ';' (a trailing ';' is allowed: Java's
//     String.split drops trailing empty strings; an empty entry in the
//     middle is invalid);
//   - each entry must match ^\s*([^:]+):([^:,]+(,[^:,]+)*)\s*$, i.e.
//     "<table regex>:<col>,<col>…";
//   - every column becomes the regular expression "<table regex>.<col>"
//     (the column trimmed; the '.' is a regex dot, as in Debezium),
//     matched case-insensitively against the whole "schema.table.column";
//   - the key of a table is, for each of these expressions in the order
//     given, the columns of the table that it matches, in table order; a
//     table none of whose columns match keeps its primary key (or
//     replica identity index), and a table without one gets a key only
//     through this option.
//
// Debezium reports no error for columns that do not exist: such an
// expression matches nothing. The task logs a warning for them (see
// keyColumnNotes).

// keyColumnsPattern is Key.CustomKeyMapper.MSG_KEY_COLUMNS_PATTERN.
var keyColumnsPattern = regexp.MustCompile(`^\s*([^:]+):([^:,]+(,[^:,]+)*)\s*$`)

// keyColumnsEntry is one "<table regex>:<columns>" entry.
type keyColumnsEntry struct {
	table   string           // the table regex as written, trimmed
	tableRe *regexp.Regexp   // it, anchored and case-insensitive (to tell which tables an entry is about)
	columns []string         // the column expressions as written, trimmed
	preds   []*regexp.Regexp // "<table>.<column>", anchored and case-insensitive
}

// keyMapper is a compiled message.key.columns.
type keyMapper struct {
	entries []keyColumnsEntry
}

// parseKeyColumns compiles a message.key.columns value; "" (after
// trimming) yields nil. Errors name the entry and say what is expected,
// with Debezium's wording.
func parseKeyColumns(s string) (*keyMapper, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ";")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	var bad []string
	m := &keyMapper{}
	for _, p := range parts {
		if !keyColumnsPattern.MatchString(p) {
			bad = append(bad, fmt.Sprintf("%s has an invalid format (expecting '%s')", p, keyColumnsPattern))
			continue
		}
		table, cols, _ := strings.Cut(strings.TrimSpace(p), ":")
		e := keyColumnsEntry{table: strings.TrimSpace(table)}
		re, err := regexp.Compile("(?i)^(?:" + e.table + ")$")
		if err != nil {
			bad = append(bad, fmt.Sprintf("%q is not a valid regular expression: %v", e.table, err))
			continue
		}
		e.tableRe = re
		for _, c := range strings.Split(cols, ",") {
			c = strings.TrimSpace(c)
			re, err := regexp.Compile("(?i)^(?:" + e.table + "." + c + ")$")
			if err != nil {
				bad = append(bad, fmt.Sprintf("%q is not a valid regular expression: %v", e.table+"."+c, err))
				continue
			}
			e.columns = append(e.columns, c)
			e.preds = append(e.preds, re)
		}
		m.entries = append(m.entries, e)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return m, nil
}

// keyColumns returns the message key columns of table t whose columns
// are cols (in table order), or nil when message.key.columns does not
// name any of them (the primary key applies).
func (m *keyMapper) keyColumns(t tableID, cols []string) []string {
	if m == nil {
		return nil
	}
	prefix := t.String() + "."
	var out []string
	for _, e := range m.entries {
		for _, re := range e.preds {
			for _, c := range cols {
				// Debezium would fail on a column matched twice (a
				// duplicate key field); it is kept once.
				if re.MatchString(prefix+c) && !slices.Contains(out, c) {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// messageKey returns the key columns of meta for tuples laid out as cols:
// message.key.columns when it names columns of the table, else the
// primary key (or replica identity index).
func (f *filters) messageKey(meta *tableMeta, cols []relColumn) []string {
	if f.keys == nil {
		return meta.Key
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	if k := f.keys.keyColumns(meta.ID, names); len(k) > 0 {
		return k
	}
	return meta.Key
}

// keyColumnsValidator validates message.key.columns in the ConfigDef.
type keyColumnsValidator struct{}

func (keyColumnsValidator) Validate(name string, v any) error {
	s, ok := v.(string)
	if !ok {
		return nil // unset
	}
	if strings.TrimSpace(s) == "" {
		return connectors.NewConfigError(name, s, "Must not be empty")
	}
	if _, err := parseKeyColumns(s); err != nil {
		return connectors.NewConfigError(name, s, err.Error())
	}
	return nil
}

func (keyColumnsValidator) String() string {
	return "<schema.table regex>:<column>,<column>;… (e.g. inventory.customers:pk1,pk2;(.*).purchaseorders:pk3,pk4)"
}

// keyColumnNotes returns what the user should know about the captured
// tables that message.key.columns names (metas): columns it names that a
// table does not have, and key columns that Postgres does not send in
// the old row of updates and deletes because they are not in the
// table's replica identity (REPLICA IDENTITY FULL sends them). The task
// logs them as warnings; none changes the events, which are Debezium's.
func keyColumnNotes(m *keyMapper, metas []*tableMeta) []string {
	if m == nil {
		return nil
	}
	var notes []string
	for _, meta := range metas {
		names := make([]string, len(meta.Columns))
		for i, c := range meta.Columns {
			names[i] = c.Name
		}
		var about bool
		for _, e := range m.entries {
			if !e.tableRe.MatchString(meta.ID.String()) {
				continue
			}
			about = true
			for i, re := range e.preds {
				if !slices.ContainsFunc(names, func(c string) bool { return re.MatchString(meta.ID.String() + "." + c) }) {
					notes = append(notes, fmt.Sprintf("message.key.columns: %q matches no column of %s (Debezium ignores it too)", e.table+":"+e.columns[i], meta.ID))
				}
			}
		}
		key := m.keyColumns(meta.ID, names)
		if !about || len(key) == 0 || meta.ReplIdent == 'f' {
			continue
		}
		ident := meta.Key // the primary key, else the replica identity index
		if meta.ReplIdent == 'n' {
			ident = nil
		}
		var missing []string
		for _, k := range key {
			if !slices.Contains(ident, k) {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			continue
		}
		why := "they are not in its replica identity"
		if len(ident) == 0 {
			why = "it has no primary key or replica identity index (Postgres rejects its UPDATEs and DELETEs while they are published)"
		}
		notes = append(notes, fmt.Sprintf("message.key.columns: the key of %s uses %s, which Postgres does not send in the old row of "+
			"updates and deletes because %s: delete events would carry null (or zero) key values; run ALTER TABLE %s REPLICA IDENTITY FULL",
			meta.ID, strings.Join(missing, ", "), why, sqlIdent(meta.ID.Schema)+"."+sqlIdent(meta.ID.Name)))
	}
	return notes
}

// readKeyColumnNotes reads the captured tables that message.key.columns
// is about and returns keyColumnNotes for them.
func readKeyColumnNotes(ctx context.Context, conn *pgx.Conn, f *filters) ([]string, error) {
	if f.keys == nil {
		return nil, nil
	}
	cat := newCatalog(conn)
	tables, _, err := cat.listTables(ctx, f)
	if err != nil {
		return nil, err
	}
	var metas []*tableMeta
	for _, t := range tables {
		if !slices.ContainsFunc(f.keys.entries, func(e keyColumnsEntry) bool { return e.tableRe.MatchString(t.String()) }) {
			continue
		}
		meta, ok, err := cat.table(ctx, t)
		if err != nil {
			return nil, err
		}
		if ok {
			metas = append(metas, meta)
		}
	}
	return keyColumnNotes(f.keys, metas), nil
}
