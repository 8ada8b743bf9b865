package postgres

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

// The cases follow Debezium's: RelationalDatabaseConnectorConfig.
// validateMessageKeyColumnsField, Key.CustomKeyMapper and the
// BinlogConnectorIT shouldRewriteIdentityKey* tests (whitespace around the
// value, a trailing ';').
func TestParseKeyColumns(t *testing.T) {
	cols := []string{"id", "Name", "pk1", "pk2", "pk3", "note"}
	for _, tc := range []struct {
		spec  string
		table tableID
		want  []string // nil: the primary key applies
	}{
		{"inventory.customers:pk1,pk2", tableID{"inventory", "customers"}, []string{"pk1", "pk2"}},
		{"inventory.customers:pk2,pk1", tableID{"inventory", "customers"}, []string{"pk2", "pk1"}}, // the order given
		{"inventory.customers:pk1", tableID{"inventory", "orders"}, nil},
		{"inventory.customers:pk1", tableID{"inventory", "customers_x"}, nil},               // anchored
		{"(.*).purchaseorders:pk3,pk4", tableID{"s", "purchaseorders"}, []string{"pk3"}},    // pk4 does not exist: ignored
		{"(.*).purchaseorders:pk4", tableID{"s", "purchaseorders"}, nil},                    // nothing matches: primary key
		{"   (.*).customers:id,name   ", tableID{"a", "customers"}, []string{"id", "Name"}}, // case-insensitive, trimmed
		{"(.*).customers:id,name;", tableID{"a", "customers"}, []string{"id", "Name"}},      // trailing ';'
		{"INVENTORY.Customers: id , note ", tableID{"inventory", "customers"}, []string{"id", "note"}},
		{"a.t:pk1;b.t:pk2", tableID{"b", "t"}, []string{"pk2"}},
		{"a.t:pk1; b.t:pk2", tableID{"b", "t"}, []string{"pk2"}},
		{"(.*).t:pk.", tableID{"a", "t"}, []string{"pk1", "pk2", "pk3"}}, // columns are regexes, in table order
		{"(.*).t:pk3,pk.", tableID{"a", "t"}, []string{"pk3", "pk1", "pk2"}},
		{"a.t:pk1;(.*):pk2", tableID{"a", "t"}, []string{"pk1", "pk2"}}, // every matching entry contributes
	} {
		m, err := parseKeyColumns(tc.spec)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if got := m.keyColumns(tc.table, cols); !slices.Equal(got, tc.want) {
			t.Errorf("%q on %s: key %q, want %q", tc.spec, tc.table, got, tc.want)
		}
	}
	for _, spec := range []string{"a.t", "a.t:", ":id", "a.t:id;;b.t:id", "a.t:id,", "a.t:id:x", "a.(t:id"} {
		if _, err := parseKeyColumns(spec); err == nil {
			t.Errorf("%q: no error", spec)
		}
	}
	if m, err := parseKeyColumns(""); m != nil || err != nil {
		t.Errorf(`"": %v, %v`, m, err)
	}
}

func TestKeyColumnsConfig(t *testing.T) {
	base := map[string]string{"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p"}
	with := func(v string) map[string]string {
		c := map[string]string{KeyMsgKeyColumns: v}
		for k, x := range base {
			c[k] = x
		}
		return c
	}
	if cfg, err := ParseConfig(with("public.t:a,b")); err != nil || cfg.MessageKeyColumns != "public.t:a,b" {
		t.Fatalf("ParseConfig: %v, %q", err, cfg.MessageKeyColumns)
	}
	for v, want := range map[string]string{
		"public.t":  "public.t has an invalid format (expecting '^\\s*([^:]+):([^:,]+(,[^:,]+)*)\\s*$')",
		"":          "Must not be empty",
		"pub(.t:a":  "is not a valid regular expression",
		"a.t:x;b.t": "b.t has an invalid format",
	} {
		_, err := ParseConfig(with(v))
		var errs connectors.ConfigErrors
		if !errors.As(err, &errs) || len(errs) == 0 || errs[0].Name != KeyMsgKeyColumns || !strings.Contains(errs[0].Message, want) {
			t.Errorf("%q: error %v, want one on %s saying %q", v, err, KeyMsgKeyColumns, want)
		}
	}
	values := (&Connector{}).ValidateConfig(t.Context(), with("public.t"))
	for _, v := range values {
		if v.Name == KeyMsgKeyColumns && len(v.Errors) == 0 {
			t.Errorf("ValidateConfig: no error on %s", KeyMsgKeyColumns)
		}
	}
}

// keyTestTable is a table without a primary key and one with a composite
// primary key, as the catalog describes them.
func keyTestFactory(t *testing.T, spec string) (*schemaFactory, *tableMeta, *tableMeta) {
	t.Helper()
	cfg, err := ParseConfig(map[string]string{"database.hostname": "h", "database.user": "u", "database.dbname": "d",
		"topic.prefix": "p", KeyMsgKeyColumns: spec, "column.exclude.list": "public.comp.secret"})
	if err != nil {
		t.Fatal(err)
	}
	tm := &typeMapper{decimal: "precise", time: "adaptive", binary: "bytes", interval: "numeric", placeholder: "x",
		types: func(oid uint32) *pgType { return &pgType{OID: oid, Kind: 'b'} }}
	f := &schemaFactory{cfg: cfg, filters: newFilters(cfg), types: tm}
	nopk := &tableMeta{ID: tableID{"public", "nopk"}, ReplIdent: 'd', Columns: []catalogColumn{
		{Name: "code", TypeOID: oidText, TypeMod: -1, NotNull: true}, {Name: "region", TypeOID: oidInt4, TypeMod: -1},
		{Name: "note", TypeOID: oidText, TypeMod: -1}}}
	comp := &tableMeta{ID: tableID{"public", "comp"}, ReplIdent: 'd', Key: []string{"a", "b"}, Columns: []catalogColumn{
		{Name: "a", TypeOID: oidInt4, TypeMod: -1, NotNull: true}, {Name: "b", TypeOID: oidInt4, TypeMod: -1, NotNull: true},
		{Name: "c", TypeOID: oidInt8, TypeMod: -1, NotNull: true}, {Name: "secret", TypeOID: oidText, TypeMod: -1}}}
	return f, nopk, comp
}

func keyFieldNames(ts *tableSchema) []string {
	if ts.keySchema == nil {
		return nil
	}
	var out []string
	for _, f := range ts.keySchema.Fields() {
		out = append(out, f.Name())
	}
	return out
}

func TestMessageKeySchema(t *testing.T) {
	f, nopk, comp := keyTestFactory(t, "public.nopk:region,code;public.comp:c,secret")
	ts, err := f.build(nopk, catalogColumns(nopk))
	if err != nil {
		t.Fatal(err)
	}
	// The key fields have the columns' own schemas (a nullable column is
	// optional), in the order given, and the key struct's name is Debezium's.
	if got := keyFieldNames(ts); !slices.Equal(got, []string{"region", "code"}) || ts.keySchema.Name() != "p.public.nopk.Key" {
		t.Fatalf("nopk key = %v (%s)", got, ts.keySchema.Name())
	}
	if !ts.keySchema.Fields()[0].Schema().Optional() || ts.keySchema.Fields()[1].Schema().Optional() {
		t.Errorf("nopk key optionality: region %v, code %v", ts.keySchema.Fields()[0].Schema().Optional(), ts.keySchema.Fields()[1].Schema().Optional())
	}
	k := ts.keyStruct([]any{"X1", nil, "n"})
	if r, _ := k.Get("region"); r != nil {
		t.Errorf("region = %v", r)
	}
	if c, _ := k.Get("code"); c != "X1" {
		t.Errorf("code = %v", c)
	}

	// A column left out of the value by column.exclude.list can still be
	// in the key, as in Debezium (the key is built from all columns).
	ts, err = f.build(comp, catalogColumns(comp))
	if err != nil {
		t.Fatal(err)
	}
	if got := keyFieldNames(ts); !slices.Equal(got, []string{"c", "secret"}) {
		t.Fatalf("comp key = %v", got)
	}
	if _, ok := ts.valueSchema.Field("secret"); ok {
		t.Errorf("secret is in the value although excluded")
	}
	if got := ts.usedColumns(); len(got) != 4 {
		t.Errorf("snapshot selects %v", got)
	}

	// Without the option: the primary key, and no key without one.
	f, nopk, comp = keyTestFactory(t, "other.t:x")
	if ts, _ := f.build(nopk, catalogColumns(nopk)); ts.hasKey {
		t.Errorf("nopk has a key without message.key.columns: %v", keyFieldNames(ts))
	}
	if ts, _ := f.build(comp, catalogColumns(comp)); !slices.Equal(keyFieldNames(ts), []string{"a", "b"}) {
		t.Errorf("comp key = %v", keyFieldNames(ts))
	}
}

func TestKeyColumnNotes(t *testing.T) {
	f, nopk, comp := keyTestFactory(t, "public.nopk:code,nosuch;public.comp:a,c")
	notes := keyColumnNotes(f.filters.keys, []*tableMeta{nopk, comp})
	want := []string{
		`message.key.columns: "public.nopk:nosuch" matches no column of public.nopk`,
		`the key of public.nopk uses code, which Postgres does not send in the old row of updates and deletes because it has no primary key`,
		`the key of public.comp uses c, which Postgres does not send`,
	}
	if len(notes) != len(want) {
		t.Fatalf("notes:\n%s", strings.Join(notes, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(notes[i], w) {
			t.Errorf("note %d = %q, want it to contain %q", i, notes[i], w)
		}
	}
	if !strings.Contains(notes[1], `ALTER TABLE public.nopk REPLICA IDENTITY FULL`) {
		t.Errorf("note lacks the fix: %q", notes[1])
	}
	nopk.ReplIdent, comp.ReplIdent = 'f', 'f'
	if notes := keyColumnNotes(f.filters.keys, []*tableMeta{nopk, comp}); len(notes) != 1 {
		t.Errorf("with REPLICA IDENTITY FULL: %q", notes)
	}
}

// snapshot.include.collection.list matches as Debezium's
// determineDataCollectionsToBeSnapshotted: anchored, case-insensitive, on
// schema.table or its double-quoted form.
func TestSnapshotIncludeList(t *testing.T) {
	cfg, err := ParseConfig(map[string]string{"database.hostname": "h", "database.user": "u", "database.dbname": "d",
		"topic.prefix": "p", KeySnapshotInclude: `PUBLIC.Orders, inv\..*,"s"\."T"`})
	if err != nil {
		t.Fatal(err)
	}
	f := newFilters(cfg)
	for tbl, want := range map[tableID]bool{
		{"public", "orders"}: true, {"public", "orders2"}: false, {"inv", "x"}: true, {"s", "T"}: true, {"s", "U"}: false,
	} {
		if got := f.snapshotted(tbl); got != want {
			t.Errorf("%s: snapshotted %v, want %v", tbl, got, want)
		}
	}
	if f := newFilters(Config{}); !f.snapshotted(tableID{"a", "b"}) {
		t.Errorf("without the list every captured table is snapshotted")
	}
	_, err = ParseConfig(map[string]string{"database.hostname": "h", "database.user": "u", "database.dbname": "d",
		"topic.prefix": "p", KeySnapshotInclude: `public.(`})
	var errs connectors.ConfigErrors
	if !errors.As(err, &errs) || errs[0].Name != KeySnapshotInclude {
		t.Errorf("invalid regex: %v", err)
	}
}
