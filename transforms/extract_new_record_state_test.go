package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

// debezium builds change events like Debezium's Envelope, for the cases of
// Debezium's ExtractNewRecordStateTest.
type debezium struct {
	t        *testing.T
	record   *connectors.Schema
	source   *connectors.Schema
	txn      *connectors.Schema
	envelope *connectors.Schema
}

func newDebezium(t *testing.T, record *connectors.Schema) *debezium {
	d := &debezium{t: t, record: record}
	d.source = structOf(t, f("lsn", connectors.Int32Schema), f("ts_ms", connectors.OptionalInt64Schema),
		f("ts_us", connectors.OptionalInt64Schema), f("ts_ns", connectors.OptionalInt64Schema),
		f("db", connectors.OptionalStringSchema), f("table", connectors.OptionalStringSchema))
	d.txn = mustBuild(t, connectors.StructSchema().Optional().Name("event.block").Version(1).
		Field("id", connectors.StringSchema).Field("total_order", connectors.Int64Schema).Field("data_collection_order", connectors.Int64Schema))
	optRecord := mustBuild(t, record.Builder().Optional())
	d.envelope = mustBuild(t, connectors.StructSchema().Name("dummy.Envelope").
		Field("before", optRecord).Field("after", optRecord).Field("source", d.source).
		Field("transaction", d.txn).Field("op", connectors.StringSchema).
		Field("ts_ms", connectors.OptionalInt64Schema).Field("ts_us", connectors.OptionalInt64Schema).Field("ts_ns", connectors.OptionalInt64Schema))
	return d
}

func defaultRecordSchema(t *testing.T) *connectors.Schema {
	id := mustBuild(t, connectors.NewSchema(connectors.TypeInt8).Parameter("__debezium.source.column.name", "id").Parameter("__debezium.source.column.type", "int"))
	name := mustBuild(t, connectors.NewSchema(connectors.TypeString).Parameter("__debezium.source.column.name", "name").Parameter("__debezium.source.column.type", "varchar"))
	return structOf(t, f("id", id), f("name", name))
}

func (d *debezium) row(kv ...any) *connectors.Struct {
	opt, _ := d.envelope.Field("after")
	return newStruct(d.t, opt.Schema(), kv...)
}

// event returns a change event record; before/after may be nil.
func (d *debezium) event(op string, before, after *connectors.Struct, withTxn bool) connectors.Record {
	src := newStruct(d.t, d.source, "lsn", int32(1234), "ts_ms", int64(1588252618953), "db", "test_db", "table", "test_table")
	env := newStruct(d.t, d.envelope, "source", src, "op", op, "ts_ms", int64(1710032523000))
	if before != nil {
		_ = env.Put("before", before)
	}
	if after != nil {
		_ = env.Put("after", after)
	}
	if withTxn {
		_ = env.Put("transaction", newStruct(d.t, d.txn, "id", "571", "total_order", int64(42), "data_collection_order", int64(42)))
	}
	return sourceRecord("dummy", nil, nil, d.envelope, env)
}

func (d *debezium) create() connectors.Record {
	return d.event("c", nil, d.row("id", int8(1), "name", "myRecord"), false)
}

func (d *debezium) update() connectors.Record {
	return d.event("u", d.row("id", int8(1), "name", "myRecord"), d.row("id", int8(1), "name", "updatedRecord"), true)
}

func (d *debezium) delete() connectors.Record {
	return d.event("d", d.row("id", int8(1), "name", "myRecord"), nil, false)
}

func (d *debezium) truncate() connectors.Record { return d.event("t", nil, nil, false) }

func tombstone() connectors.Record { return sourceRecord("dummy", nil, nil, nil, nil) }

func unwrap(t *testing.T, cfg map[string]string) Transformation {
	return newTransform(t, "io.debezium.transforms.ExtractNewRecordState", cfg)
}

// header returns the value of the last header key, and whether it exists.
func header(r connectors.Record, key string) (any, bool) {
	h, ok := r.Headers.Last(key)
	return h.Value, ok
}

func wantDropped(t *testing.T, tr Transformation, r connectors.Record, what string) {
	t.Helper()
	_, keep, err := tr.Apply(r)
	if err != nil || keep {
		t.Errorf("%s: keep=%v err=%v, want dropped", what, keep, err)
	}
}

func TestUnwrapTombstones(t *testing.T) {
	for mode, kept := range map[string]bool{"drop": false, "tombstone": false, "rewrite": false, "rewrite-with-tombstone": true, "delete-to-tombstone": false} {
		tr := unwrap(t, map[string]string{"delete.tombstone.handling.mode": mode})
		_, keep, err := tr.Apply(tombstone())
		if err != nil || keep != kept {
			t.Errorf("%s: keep=%v err=%v", mode, keep, err)
		}
	}
	for cfg, kept := range map[string]bool{"": false, "true": false, "false": true} {
		props := map[string]string{}
		if cfg != "" {
			props["drop.tombstones"] = cfg
		}
		_, keep, _ := unwrap(t, props).Apply(tombstone())
		if keep != kept {
			t.Errorf("drop.tombstones=%q: keep=%v", cfg, keep)
		}
	}
}

func TestUnwrapTruncateDropped(t *testing.T) {
	d := newDebezium(t, defaultRecordSchema(t))
	wantDropped(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": "tombstone"}), d.truncate(), "truncate")
}

func TestUnwrapDeletes(t *testing.T) {
	d := newDebezium(t, defaultRecordSchema(t))
	wantDropped(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": "drop"}), d.delete(), "drop")

	out := apply(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": "tombstone"}), d.delete())
	if out.Value != nil || out.ValueSchema == nil {
		t.Errorf("tombstone mode: %v %v", out.ValueSchema, out.Value)
	}
	out = apply(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": "delete-to-tombstone"}), d.delete())
	if out.Value != nil || out.ValueSchema != nil {
		t.Errorf("delete-to-tombstone: %v %v", out.ValueSchema, out.Value)
	}
	for _, mode := range []string{"rewrite", "rewrite-with-tombstone"} {
		out = apply(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": mode}), d.delete())
		eq(t, mode+" __deleted", get(t, out.Value, "__deleted"), "true")
		eq(t, mode+" name", get(t, out.Value, "name"), "myRecord")
		if err := connectors.ValidateValue(out.ValueSchema, out.Value); err != nil {
			t.Error(err)
		}
	}
	// No configuration: Debezium 3's default, tombstone.
	out = apply(t, unwrap(t, nil), d.delete())
	if out.Value != nil {
		t.Errorf("default: %v", out.Value)
	}
	// The deprecated keys select Debezium 2's legacy handling.
	wantDropped(t, unwrap(t, map[string]string{"drop.tombstones": "false"}), d.delete(), "legacy default")
	wantDropped(t, unwrap(t, map[string]string{"delete.handling.mode": "drop"}), d.delete(), "legacy drop")
	out = apply(t, unwrap(t, map[string]string{"delete.handling.mode": "none"}), d.delete())
	if out.Value != nil {
		t.Errorf("legacy none: %v", out.Value)
	}
	out = apply(t, unwrap(t, map[string]string{"delete.handling.mode": "REWRITE"}), d.delete())
	eq(t, "legacy rewrite", get(t, out.Value, "__deleted"), "true")
	// The new key wins over the deprecated ones.
	out = apply(t, unwrap(t, map[string]string{"drop.tombstones": "false", "delete.tombstone.handling.mode": "rewrite"}), d.delete())
	eq(t, "new key wins", get(t, out.Value, "__deleted"), "true")
}

func TestUnwrapCreate(t *testing.T) {
	d := newDebezium(t, defaultRecordSchema(t))
	r := d.create()
	r.Headers.Add("application/debezium-test-header", connectors.StringSchema, "shouldPropagatePreviousRecordHeaders")
	out := apply(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": "tombstone"}), r)
	eq(t, "id", get(t, out.Value, "id"), int8(1))
	eq(t, "name", get(t, out.Value, "name"), "myRecord")
	if len(out.Headers) != 1 {
		t.Errorf("headers %v", out.Headers)
	}
	after, _ := d.envelope.Field("after")
	if out.ValueSchema != after.Schema() {
		t.Error("value schema is not the after schema")
	}

	out = apply(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": "rewrite", "add.headers": "op"}), d.create())
	eq(t, "__deleted", get(t, out.Value, "__deleted"), "false")
	if v, _ := header(out, "__op"); len(out.Headers) != 1 || v != "c" {
		t.Errorf("headers %v", out.Headers)
	}
}

func TestUnwrapOptionalDefault(t *testing.T) {
	schema := structOf(t, f("id", connectors.Int8Schema), f("name", mustBuild(t, connectors.NewSchema(connectors.TypeString).Optional().Default("default_str"))))
	d := newDebezium(t, schema)
	r := d.event("c", nil, d.row("id", int8(1), "name", nil), false)
	out := apply(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": "tombstone"}), r)
	eq(t, "name", getRaw(t, out.Value, "name"), nil)
	// Rewriting copies fields with defaults applied, as Debezium's
	// InsertField delegate does, unless replace.null.with.default=false.
	out = apply(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": "rewrite"}), r)
	eq(t, "rewrite", getRaw(t, out.Value, "name"), "default_str")
	out = apply(t, unwrap(t, map[string]string{"delete.tombstone.handling.mode": "rewrite", "replace.null.with.default": "false"}), r)
	eq(t, "rewrite no default", getRaw(t, out.Value, "name"), nil)
}

func TestUnwrapIgnoresOtherRecords(t *testing.T) {
	tr := unwrap(t, map[string]string{"delete.tombstone.handling.mode": "tombstone", "add.headers": "op,source.lsn"})
	named := mustBuild(t, connectors.StructSchema().Name("unknown").Field("id", connectors.Int8Schema))
	unnamed := structOf(t, f("id", connectors.Int8Schema))
	heartbeat := mustBuild(t, connectors.StructSchema().Name("io.debezium.connector.common.Heartbeat").Field("ts_ms", connectors.Int64Schema))
	for _, r := range []connectors.Record{
		sourceRecord("dummy", nil, nil, named, newStruct(t, named, "id", int8(1))),
		sourceRecord("dummy", nil, nil, unnamed, newStruct(t, unnamed, "id", int8(1))),
		sourceRecord("op.with.heartbeat", nil, nil, heartbeat, newStruct(t, heartbeat, "ts_ms", int64(1))),
		sourceRecord("dummy", nil, nil, nil, map[string]any{"id": 1}),
		sourceRecord("dummy", nil, nil, connectors.StringSchema, "text"),
	} {
		out := apply(t, tr, r)
		if !connectors.ValuesEqual(out.Value, r.Value) || out.ValueSchema != r.ValueSchema || len(out.Headers) != 0 {
			t.Errorf("changed %v", r.ValueSchema)
		}
	}
}

func TestUnwrapAddFields(t *testing.T) {
	d := newDebezium(t, defaultRecordSchema(t))
	tr := unwrap(t, map[string]string{"delete.tombstone.handling.mode": "tombstone", "add.fields": "op"})
	out := apply(t, tr, d.create())
	eq(t, "__op", get(t, out.Value, "__op"), "c")
	if err := connectors.ValidateValue(out.ValueSchema, out.Value); err != nil {
		t.Error(err)
	}
	// Records with a changed table schema get their own derived schema.
	for _, v := range []int64{1694587158123, 1694587158789} {
		d2 := newDebezium(t, structOf(t, f("id", connectors.Int8Schema), f("name", connectors.StringSchema), f("started_at", connectors.OptionalInt64Schema)))
		out = apply(t, tr, d2.event("c", nil, d2.row("id", int8(1), "name", "myRecord", "started_at", v), false))
		eq(t, "started_at", get(t, out.Value, "started_at"), v)
		eq(t, "__op", get(t, out.Value, "__op"), "c")
	}

	out = apply(t, unwrap(t, map[string]string{"add.fields": "ts_ms"}), d.create())
	eq(t, "__ts_ms", get(t, out.Value, "__ts_ms"), int64(1710032523000))
	out = apply(t, unwrap(t, map[string]string{"add.fields": "source.ts_ms"}), d.create())
	eq(t, "__source_ts_ms", get(t, out.Value, "__source_ts_ms"), int64(1588252618953))

	out = apply(t, unwrap(t, map[string]string{"add.fields": "op , lsn,id", "add.fields.prefix": "prefix."}), d.update())
	eq(t, "prefix.op", get(t, out.Value, "prefix.op"), "u")
	eq(t, "prefix.lsn", get(t, out.Value, "prefix.lsn"), int32(1234))
	eq(t, "prefix.id", get(t, out.Value, "prefix.id"), "571")

	out = apply(t, unwrap(t, map[string]string{"add.fields": "op,lsn,id"}), d.create())
	eq(t, "__op", get(t, out.Value, "__op"), "c")
	eq(t, "__lsn", get(t, out.Value, "__lsn"), int32(1234))
	eq(t, "__id (no transaction)", get(t, out.Value, "__id"), nil)

	out = apply(t, unwrap(t, map[string]string{"add.fields": "op,source.lsn,transaction.id,transaction.total_order,table"}), d.update())
	eq(t, "__op", get(t, out.Value, "__op"), "u")
	eq(t, "__source_lsn", get(t, out.Value, "__source_lsn"), int32(1234))
	eq(t, "__transaction_id", get(t, out.Value, "__transaction_id"), "571")
	eq(t, "__transaction_total_order", get(t, out.Value, "__transaction_total_order"), int64(42))
	eq(t, "__table", get(t, out.Value, "__table"), "test_table")
	fl, _ := out.ValueSchema.Field("__source_lsn")
	if !fl.Schema().Optional() || fl.Schema().Type() != connectors.TypeInt32 {
		t.Errorf("added field schema %v", fl.Schema())
	}

	// Unknown fields are skipped.
	out = apply(t, unwrap(t, map[string]string{"add.fields": "notExisting,op:OP", "add.fields.prefix": ""}), d.update())
	if _, ok := out.ValueSchema.Field("notExisting"); ok {
		t.Error("unknown field added")
	}
	eq(t, "OP", get(t, out.Value, "OP"), "u")
}

func TestUnwrapFieldAndHeaderMapping(t *testing.T) {
	d := newDebezium(t, defaultRecordSchema(t))
	tr := unwrap(t, map[string]string{"delete.tombstone.handling.mode": "tombstone",
		"add.fields": "op:OP, lsn:LSN, id:ID, source.lsn:source_lsn, transaction.total_order:TOTAL_ORDER", "add.fields.prefix": "",
		"add.headers": "op, source.lsn:source_lsn, transaction.id:TXN_ID, transaction.total_order:TOTAL_ORDER", "add.headers.prefix": "prefix."})
	out := apply(t, tr, d.update())
	for name, want := range map[string]any{"OP": "u", "LSN": int32(1234), "ID": "571", "source_lsn": int32(1234), "TOTAL_ORDER": int64(42)} {
		eq(t, name, get(t, out.Value, name), want)
	}
	if len(out.Headers) != 4 {
		t.Fatalf("headers %v", out.Headers)
	}
	for name, want := range map[string]any{"prefix.op": "u", "prefix.source_lsn": int32(1234), "prefix.TXN_ID": "571", "prefix.TOTAL_ORDER": int64(42)} {
		v, _ := header(out, name)
		eq(t, name, v, want)
	}
	h, _ := out.Headers.Last("prefix.source_lsn")
	if h.Schema == nil || h.Schema.Type() != connectors.TypeInt32 || !h.Schema.Optional() {
		t.Errorf("header schema %v", h.Schema)
	}
}

func TestUnwrapAddHeaders(t *testing.T) {
	d := newDebezium(t, defaultRecordSchema(t))
	out := apply(t, unwrap(t, map[string]string{"add.headers": "op , lsn,id"}), d.update())
	if len(out.Headers) != 3 {
		t.Fatalf("headers %v", out.Headers)
	}
	for name, want := range map[string]any{"__op": "u", "__lsn": int32(1234), "__id": "571"} {
		v, _ := header(out, name)
		eq(t, name, v, want)
	}
	out = apply(t, unwrap(t, map[string]string{"add.headers": "op,lsn,id"}), d.create())
	if len(out.Headers) != 3 {
		t.Fatalf("headers %v", out.Headers)
	}
	if v, ok := header(out, "__id"); !ok || v != nil {
		t.Errorf("__id = %v %v, want a null header", v, ok)
	}
	in := d.create()
	apply(t, unwrap(t, map[string]string{"add.headers": "op"}), in)
	if len(in.Headers) != 0 {
		t.Error("input headers changed")
	}
}

func TestUnwrapRouteByField(t *testing.T) {
	d := newDebezium(t, defaultRecordSchema(t))
	tr := unwrap(t, map[string]string{"delete.tombstone.handling.mode": "tombstone", "route.by.field": "name"})
	if got := apply(t, tr, d.create()).Topic; got != "myRecord" {
		t.Errorf("create: %q", got)
	}
	if got := apply(t, tr, d.update()).Topic; got != "updatedRecord" {
		t.Errorf("update: %q", got)
	}
	if got := apply(t, tr, d.delete()).Topic; got != "myRecord" {
		t.Errorf("delete: %q", got)
	}
}

func TestUnwrapDeleteRewriteWithHeadersAndFields(t *testing.T) {
	d := newDebezium(t, defaultRecordSchema(t))
	tr := unwrap(t, map[string]string{"delete.tombstone.handling.mode": "rewrite-with-tombstone", "add.headers": "op,source.lsn"})
	out := apply(t, tr, d.delete())
	eq(t, "__deleted", get(t, out.Value, "__deleted"), "true")
	if v, _ := header(out, "__op"); v != "d" {
		t.Errorf("__op %v", v)
	}
	if v, _ := header(out, "__source_lsn"); v != int32(1234) {
		t.Errorf("__source_lsn %v", v)
	}
	out = apply(t, tr, tombstone())
	if v, _ := header(out, "__op"); v != "d" || out.Value != nil {
		t.Errorf("tombstone: %v %v", out.Headers, out.Value)
	}

	for _, mode := range []string{"rewrite", "rewrite-with-tombstone"} {
		tr = unwrap(t, map[string]string{"delete.tombstone.handling.mode": mode, "add.fields": "op,lsn,source.lsn"})
		out = apply(t, tr, d.delete())
		eq(t, "__deleted", get(t, out.Value, "__deleted"), "true")
		eq(t, "__op", get(t, out.Value, "__op"), "d")
		eq(t, "__lsn", get(t, out.Value, "__lsn"), int32(1234))
		eq(t, "__source_lsn", get(t, out.Value, "__source_lsn"), int32(1234))
	}
}

func TestUnwrapDropFields(t *testing.T) {
	schema := structOf(t, f("id", connectors.Int8Schema), f("name", mustBuild(t, connectors.NewSchema(connectors.TypeString).Optional().Default("default_str"))))
	keySchema := structOf(t, f("id", connectors.Int8Schema))
	d := newDebezium(t, schema)
	withDrop := func(r connectors.Record) connectors.Record {
		r.Headers.Add("drop-fields", nil, []any{"id", "name"})
		return r
	}
	create := func(withKey bool) connectors.Record {
		r := d.event("c", nil, d.row("id", int8(1), "name", nil), false)
		if withKey {
			r.KeySchema, r.Key = keySchema, newStruct(t, keySchema, "id", int8(1))
		}
		return withDrop(r)
	}
	// Compatible: only optional fields go; the key is untouched.
	tr := unwrap(t, map[string]string{"delete.tombstone.handling.mode": "drop", "drop.fields.header.name": "drop-fields"})
	out := apply(t, tr, create(true))
	if _, ok := out.ValueSchema.Field("name"); ok {
		t.Error("optional name kept")
	}
	eq(t, "id", get(t, out.Value, "id"), int8(1))
	eq(t, "key id", get(t, out.Key, "id"), int8(1))
	wantDropped(t, tr, withDrop(d.event("d", d.row("id", int8(1)), nil, false)), "delete")

	// Not compatible, with the key: everything named goes.
	tr = unwrap(t, map[string]string{"delete.tombstone.handling.mode": "drop", "drop.fields.header.name": "drop-fields",
		"drop.fields.keep.schema.compatible": "false", "drop.fields.from.key": "true"})
	out = apply(t, tr, create(true))
	if len(out.ValueSchema.Fields()) != 0 || len(out.KeySchema.Fields()) != 0 {
		t.Errorf("value %v key %v", out.ValueSchema.Fields(), out.KeySchema.Fields())
	}
	out = apply(t, tr, create(false))
	if out.Key != nil || out.KeySchema != nil {
		t.Error("null key changed")
	}
}

func TestUnwrapSchemaless(t *testing.T) {
	env := func(op string, before, after map[string]any) connectors.Record {
		m := map[string]any{"op": op, "source": map[string]any{"lsn": int64(1234), "table": "t"}, "ts_ms": int64(7),
			"transaction": nil}
		m["before"], m["after"] = nilIfEmpty(before), nilIfEmpty(after)
		return sourceRecord("dummy", nil, nil, nil, m)
	}
	row := map[string]any{"id": int64(1), "name": "myRecord"}
	tr := unwrap(t, map[string]string{"add.fields": "op,table,source.lsn,id", "add.headers": "op"})
	out := apply(t, tr, env("c", nil, row))
	eq(t, "create", out.Value, map[string]any{"id": int64(1), "name": "myRecord", "__op": "c", "__table": "t", "__source_lsn": int64(1234), "__id": nil})
	if v, _ := header(out, "__op"); v != "c" {
		t.Errorf("header %v", v)
	}
	if len(row) != 2 {
		t.Error("input row changed")
	}
	out = apply(t, tr, env("d", row, nil))
	if out.Value != nil {
		t.Errorf("delete: %v", out.Value)
	}
	wantDropped(t, tr, env("t", nil, nil), "truncate")
	tr = unwrap(t, map[string]string{"delete.tombstone.handling.mode": "rewrite", "route.by.field": "name"})
	out = apply(t, tr, env("d", row, nil))
	eq(t, "rewrite", out.Value, map[string]any{"id": int64(1), "name": "myRecord", "__deleted": "true"})
	if out.Topic != "myRecord" {
		t.Errorf("topic %q", out.Topic)
	}
	out = apply(t, tr, env("u", row, map[string]any{"id": int64(1), "name": "x"}))
	eq(t, "update", out.Value, map[string]any{"id": int64(1), "name": "x", "__deleted": "false"})
}

func nilIfEmpty(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

func TestUnwrapConfigErrors(t *testing.T) {
	const class = "ExtractNewRecordState"
	wantConfigError(t, configureErr(t, class, map[string]string{"delete.tombstone.handling.mode": "keep"}), "delete.tombstone.handling.mode",
		"String must be one of (case insensitive): DROP, TOMBSTONE, REWRITE, REWRITE-WITH-TOMBSTONE, DELETE-TO-TOMBSTONE")
	wantConfigError(t, configureErr(t, class, map[string]string{"delete.handling.mode": "keep"}), "delete.handling.mode", "String must be one of")
	wantConfigError(t, configureErr(t, class, map[string]string{"drop.tombstones": "yes"}), "drop.tombstones", "Expected value to be either true or false")
	wantConfigError(t, configureErr(t, class, map[string]string{"add.fields": "a:b:c"}), "add.fields", "Unexpected field name: a:b:c")
}
