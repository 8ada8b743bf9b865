//go:build integration

package jdbc

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Debezium-shaped schemas for table public.orders of server "srv".
var (
	ordersKey = connectors.StructSchema().Name("srv.public.orders.Key").
			Field("id", connectors.Int32Schema).MustBuild()
	ordersRow = connectors.StructSchema().Name("srv.public.orders.Value").Optional().
			Field("id", connectors.Int32Schema).
			Field("name", connectors.OptionalStringSchema).
			Field("qty", connectors.OptionalInt64Schema).MustBuild()
	dbzSource = connectors.StructSchema().Name("io.debezium.connector.postgresql.Source").
			Field("version", connectors.StringSchema).
			Field("connector", connectors.StringSchema).
			Field("name", connectors.StringSchema).
			Field("ts_ms", connectors.Int64Schema).
			Field("db", connectors.StringSchema).
			Field("schema", connectors.StringSchema).
			Field("table", connectors.StringSchema).MustBuild()
	ordersEnvelope = envelopeSchema("srv.public.orders.Envelope", ordersRow)
)

func envelopeSchema(name string, row *connectors.Schema) *connectors.Schema {
	return connectors.StructSchema().Name(name).
		Field("before", row).
		Field("after", row).
		Field("source", dbzSource).
		Field("op", connectors.StringSchema).
		Field("ts_ms", connectors.OptionalInt64Schema).MustBuild()
}

const ordersTopic = "srv.public.orders"

// dbz builds a Debezium change event for orders.
func dbz(tb testing.TB, op string, id int32, before, after []any) connectors.Record {
	tb.Helper()
	src := mustStruct(tb, dbzSource, "2.7.0.Final", "postgresql", "srv", int64(1_700_000_000_000), "inventory", "public", "orders")
	var b, a any
	if before != nil {
		b = mustStruct(tb, ordersRow, before...)
	}
	if after != nil {
		a = mustStruct(tb, ordersRow, after...)
	}
	env := mustStruct(tb, ordersEnvelope, b, a, src, op, int64(1_700_000_000_001))
	var key any
	var keySchema *connectors.Schema = ordersKey
	if op == "t" {
		keySchema = nil
	} else {
		key = mustStruct(tb, ordersKey, id)
	}
	return rec(ordersTopic, keySchema, key, ordersEnvelope, env)
}

func tombstone(tb testing.TB, id int32) connectors.Record {
	return rec(ordersTopic, ordersKey, mustStruct(tb, ordersKey, id), ordersEnvelope, nil)
}

func row(id int32, name any, qty any) []any { return []any{id, name, qty} }

func dbzConfig() map[string]string {
	return map[string]string{
		connectors.KeyConnectorClass: DebeziumClass,
		KeyInsertMode:                "upsert",
		KeyPrimaryKeyMode:            "record_key",
		KeyDeleteEnabled:             "true",
		KeyTruncateEnabled:           "true",
		KeySchemaEvolution:           "basic",
	}
}

func TestDebeziumEnvelopes(t *testing.T) { eachPath(t, testDebeziumEnvelopes) }

func testDebeziumEnvelopes(t *testing.T, path func(*Sink)) {
	db := newDB(t)
	task := openTask(t, db, dbzConfig(), nil, path)
	q := "SELECT id, name, qty FROM srv_public_orders"

	putFlush(t, task,
		dbz(t, "c", 1, nil, row(1, "a", int64(1))),
		dbz(t, "c", 2, nil, row(2, "b", int64(2))),
		dbz(t, "r", 3, nil, row(3, nil, nil)),
	)
	equalRows(t, "after create/read", db.dump(t, q), []string{"1|a|1", "2|b|2", "3|NULL|NULL"})
	if got := db.columnTypes(t, "srv_public_orders"); got["id"] != "integer not null" || got["name"] != "text" || got["qty"] != "bigint" {
		t.Errorf("auto-created columns: %v", got)
	}

	putFlush(t, task,
		dbz(t, "u", 1, row(1, "a", int64(1)), row(1, "a2", int64(10))),
		dbz(t, "d", 2, row(2, "b", int64(2)), nil),
		tombstone(t, 2),
	)
	equalRows(t, "after update/delete", db.dump(t, q), []string{"1|a2|10", "3|NULL|NULL"})

	// Truncate, then a create in the same batch.
	putFlush(t, task,
		dbz(t, "t", 0, nil, nil),
		dbz(t, "c", 4, nil, row(4, "d", int64(4))),
	)
	equalRows(t, "after truncate", db.dump(t, q), []string{"4|d|4"})

	// Several changes of one key in one batch: the last wins.
	putFlush(t, task,
		dbz(t, "c", 5, nil, row(5, "e", int64(5))),
		dbz(t, "u", 5, row(5, "e", int64(5)), row(5, "e", int64(9))),
		dbz(t, "d", 5, row(5, "e", int64(9)), nil),
		tombstone(t, 5),
		dbz(t, "c", 5, nil, row(5, "e2", int64(10))),
		// A primary key change: delete, tombstone, create.
		dbz(t, "d", 4, row(4, "d", int64(4)), nil),
		tombstone(t, 4),
		dbz(t, "c", 40, nil, row(40, "d", int64(4))),
	)
	equalRows(t, "after key changes", db.dump(t, q), []string{"40|d|4", "5|e2|10"})

	// A logical decoding message ("m") is ignored.
	putFlush(t, task, dbz(t, "m", 0, nil, nil))
	equalRows(t, "after message", db.dump(t, q), []string{"40|d|4", "5|e2|10"})
}

func TestDebeziumDeleteAndTruncateDisabled(t *testing.T) {
	db := newDB(t)
	cfg := dbzConfig()
	delete(cfg, KeyDeleteEnabled)
	delete(cfg, KeyTruncateEnabled)
	task := openTask(t, db, cfg, nil)
	putFlush(t, task,
		dbz(t, "c", 1, nil, row(1, "a", int64(1))),
		dbz(t, "d", 1, row(1, "a", int64(1)), nil),
		tombstone(t, 1),
		dbz(t, "t", 0, nil, nil),
	)
	equalRows(t, "deletes and truncates skipped", db.dump(t, "SELECT id, name, qty FROM srv_public_orders"), []string{"1|a|1"})
}

func TestFlatRecordsInsertUpsertUpdate(t *testing.T) {
	db := newDB(t)
	flat := connectors.StructSchema().Name("orders.Value").
		Field("id", connectors.Int64Schema).
		Field("note", connectors.OptionalStringSchema).MustBuild()
	db.exec(t, `CREATE TABLE items (id bigint PRIMARY KEY, note text, extra int DEFAULT 7)`)
	r := func(id int64, note string) connectors.Record {
		return rec("items", nil, nil, flat, mustStruct(t, flat, id, note))
	}
	q := "SELECT id, note, extra FROM items"

	t.Run("insert", func(t *testing.T) {
		task := openTask(t, db, map[string]string{connectors.KeyConnectorClass: ConfluentClass}, nil)
		putFlush(t, task, r(1, "one"), r(2, "two"))
		equalRows(t, "inserted", db.dump(t, q), []string{"1|one|7", "2|two|7"})
		// Insert mode is not idempotent: a replay violates the key.
		err := putErr(task, r(1, "again"))
		var re *RecordError
		if !errors.As(err, &re) || re.Table != `"items"` || !strings.Contains(err.Error(), "duplicate key") {
			t.Fatalf("replayed insert: %v", err)
		}
	})
	t.Run("upsert", func(t *testing.T) {
		task := openTask(t, db, map[string]string{connectors.KeyConnectorClass: ConfluentClass,
			KeyInsertMode: "upsert", KeyPKMode: "record_value", KeyPKFields: "id"}, nil)
		putFlush(t, task, r(2, "TWO"), r(3, "three"))
		equalRows(t, "upserted", db.dump(t, q), []string{"1|one|7", "2|TWO|7", "3|three|7"})
	})
	t.Run("update", func(t *testing.T) {
		task := openTask(t, db, map[string]string{connectors.KeyConnectorClass: ConfluentClass,
			KeyInsertMode: "update", KeyPKMode: "record_value", KeyPKFields: "id"}, nil)
		putFlush(t, task, r(1, "ONE"), r(4, "four"))
		equalRows(t, "updated (no new row)", db.dump(t, q), []string{"1|ONE|7", "2|TWO|7", "3|three|7"})
	})
}

func TestSchemaless(t *testing.T) {
	db := newDB(t)
	task := openTask(t, db, map[string]string{
		connectors.KeyConnectorClass: Alias, KeyInsertMode: "upsert", KeyPKMode: "record_key", KeyDeleteEnabled: "true",
		KeyAutoCreate: "true", KeyAutoEvolve: "true",
	}, nil)
	r := func(key, value map[string]any) connectors.Record { return rec("events", nil, key, nil, value) }
	putFlush(t, task,
		r(map[string]any{"id": int64(1)}, map[string]any{"id": int64(1), "name": "a", "score": 1.5, "ok": true, "tags": []any{"x", "y"}, "meta": map[string]any{"k": int64(1)}}),
		r(map[string]any{"id": int64(2)}, map[string]any{"id": int64(2), "name": "b", "score": 2.5, "ok": false, "tags": []any{}, "meta": nil}),
	)
	types := db.columnTypes(t, "events")
	want := map[string]string{"id": "bigint not null", "name": "text", "score": "double precision", "ok": "boolean", "tags": "text[]", "meta": "jsonb"}
	for k, v := range want {
		if types[k] != v {
			t.Errorf("column %s: %q, want %q (all: %v)", k, types[k], v, types)
		}
	}
	equalRows(t, "schemaless rows", db.dump(t, "SELECT id, name, score, ok, tags::text, meta::text FROM events"),
		[]string{`1|a|1.5|true|{x,y}|{"k": 1}`, "2|b|2.5|false|{}|NULL"})
	// A Debezium envelope without schemas (JsonConverter schemas.enable=false), and a new field.
	env := map[string]any{"before": nil, "after": map[string]any{"id": int64(2), "name": "B", "extra": "new"},
		"source": map[string]any{"db": "x"}, "op": "u", "ts_ms": int64(1)}
	putFlush(t, task, rec("events", nil, map[string]any{"id": int64(2)}, nil, env),
		rec("events", nil, map[string]any{"id": int64(1)}, nil, nil))
	equalRows(t, "after envelope and delete", db.dump(t, "SELECT id, name, extra FROM events"), []string{"2|B|new"})
}

func TestAutoEvolve(t *testing.T) {
	db := newDB(t)
	v1 := connectors.StructSchema().Name("evo.Value").Field("id", connectors.Int32Schema).Field("a", connectors.StringSchema).MustBuild()
	v2 := connectors.StructSchema().Name("evo.Value").Field("id", connectors.Int32Schema).Field("a", connectors.StringSchema).
		Field("b", connectors.OptionalInt64Schema).
		Field("c", connectors.NewSchema(connectors.TypeString).Default("dflt").MustBuild()).MustBuild()
	cfg := map[string]string{connectors.KeyConnectorClass: ConfluentClass, KeyInsertMode: "upsert", KeyPKMode: "record_value",
		KeyPKFields: "id", KeyAutoCreate: "true", KeyAutoEvolve: "true"}
	task := openTask(t, db, cfg, nil)
	// v1 and v2 records in one batch: the table evolves in the middle.
	putFlush(t, task,
		rec("evo", nil, nil, v1, mustStruct(t, v1, int32(1), "x")),
		rec("evo", nil, nil, v2, mustStruct(t, v2, int32(2), "y", int64(7), "z")),
		rec("evo", nil, nil, v1, mustStruct(t, v1, int32(3), "w")),
	)
	types := db.columnTypes(t, "evo")
	if types["a"] != "text not null" || types["b"] != "bigint" || types["c"] != "text" {
		t.Errorf("evolved columns: %v", types)
	}
	equalRows(t, "evolved rows", db.dump(t, "SELECT id, a, b, c FROM evo"), []string{"1|x|NULL|dflt", "2|y|7|z", "3|w|NULL|dflt"})

	// Without evolution a new field is an error naming the column.
	db.exec(t, "CREATE TABLE fixed (id int PRIMARY KEY, a text)")
	strict := openTask(t, db, map[string]string{connectors.KeyConnectorClass: ConfluentClass, KeyInsertMode: "upsert",
		KeyPKMode: "record_value", KeyPKFields: "id", KeyTableNameFormat: "fixed"}, nil)
	err := putErr(strict, rec("evo", nil, nil, v2, mustStruct(t, v2, int32(2), "y", int64(7), "z")))
	var re *RecordError
	if !errors.As(err, &re) || re.Column != "b" || !errors.Is(err, ErrColumnMissing) || !strings.Contains(err.Error(), "auto.evolve") {
		t.Fatalf("missing column: %v", err)
	}
}

func TestReplayIsIdempotent(t *testing.T) { eachPath(t, testReplayIsIdempotent) }

func testReplayIsIdempotent(t *testing.T, path func(*Sink)) {
	db := newDB(t)
	task := openTask(t, db, dbzConfig(), nil, path)
	var batch []connectors.Record
	for i := int32(1); i <= 200; i++ {
		batch = append(batch, dbz(t, "c", i, nil, row(i, "n", int64(i))))
		if i%3 == 0 {
			batch = append(batch, dbz(t, "u", i, nil, row(i, "u", int64(i*10))))
		}
		if i%7 == 0 {
			batch = append(batch, dbz(t, "d", i, row(i, "n", int64(i)), nil), tombstone(t, i))
		}
	}
	putFlush(t, task, batch...)
	q := "SELECT id, name, qty, xmin::text <> '' FROM srv_public_orders"
	first := db.dump(t, q)
	if len(first) != 200-200/7 {
		t.Fatalf("%d rows, want %d", len(first), 200-200/7)
	}
	// The same batch again (a crash before the offsets were committed), in
	// pieces and whole, and through a new task.
	putFlush(t, task, batch[:100]...)
	putFlush(t, task, batch[100:]...)
	again := openTask(t, db, dbzConfig(), nil, path)
	putFlush(t, again, batch...)
	equalRows(t, "after replays", db.dump(t, q), first)
}

func TestPoisonRecordGoesToErrant(t *testing.T) { eachPath(t, testPoisonRecordGoesToErrant) }

func testPoisonRecordGoesToErrant(t *testing.T, path func(*Sink)) {
	db := newDB(t)
	db.exec(t, "CREATE TABLE srv_public_orders (id int PRIMARY KEY, name varchar(5), qty bigint CHECK (qty >= 0))")
	errant := &errantLog{}
	cfg := dbzConfig()
	cfg[KeySchemaEvolution] = "none"
	cfg[KeyBatchSize] = "50"
	task := openTask(t, db, cfg, errant, path)
	var batch []connectors.Record
	for i := int32(1); i <= 120; i++ {
		name, qty := "ok", int64(i)
		switch i {
		case 17:
			name = "too long for varchar(5)"
		case 64:
			qty = -1 // violates the check constraint
		}
		batch = append(batch, dbz(t, "c", i, nil, row(i, name, qty)))
	}
	putFlush(t, task, batch...)
	if got := db.dump(t, "SELECT count(*) FROM srv_public_orders"); got[0] != "118" {
		t.Fatalf("%s rows written, want 118", got[0])
	}
	if len(errant.recs) != 2 {
		t.Fatalf("errant got %d records: %v", len(errant.errs), errant.errs)
	}
	for i, want := range []struct {
		offset int64
		column string
		msg    string
	}{{batch[16].Offset, "name", "value too long"}, {batch[63].Offset, "", "check constraint"}} {
		var re *RecordError
		if errant.recs[i].Offset != want.offset || !errors.As(errant.errs[i], &re) || re.Column != want.column ||
			re.Table != `"srv_public_orders"` || !strings.Contains(re.Error(), want.msg) {
			t.Errorf("errant %d: offset %d, %v; want offset %d column %q %q", i, errant.recs[i].Offset, errant.errs[i], want.offset, want.column, want.msg)
		}
	}

	// Without a dead letter queue the task fails, naming table, column and record.
	strict := openTask(t, db, cfg, nil, path)
	fine := dbz(t, "c", 499, nil, row(499, "fine", int64(1)))
	bad := dbz(t, "c", 500, nil, row(500, "much too long", int64(1)))
	err := putErr(strict, fine, bad)
	var re *RecordError
	if !errors.As(err, &re) || re.Column != "name" || re.Offset != bad.Offset || re.Topic != ordersTopic {
		t.Fatalf("Put with a poison record and no DLQ: %v", err)
	}
	for _, want := range []string{`"srv_public_orders"`, `column "name"`, ordersTopic + "-0", "value too long"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// Flush holds the partition at the failed batch.
	tp := connectors.TopicPartition{Topic: ordersTopic}
	got, _ := strict.Flush(context.Background(), map[connectors.TopicPartition]int64{tp: bad.Offset + 1})
	if got[tp] != fine.Offset {
		t.Errorf("Flush after a failed Put returned %d, want %d", got[tp], fine.Offset)
	}
	// Client-side conversion failures are per record too.
	errant2 := &errantLog{}
	conv := openTask(t, db, map[string]string{connectors.KeyConnectorClass: Alias, KeyInsertMode: "upsert",
		KeyPKMode: "record_value", KeyPKFields: "id", KeyTableNameFormat: "srv_public_orders"}, errant2)
	putFlush(t, conv, rec("x", nil, nil, nil, map[string]any{"id": "not a number", "name": "n"}),
		rec("x", nil, nil, nil, map[string]any{"id": int64(900), "name": "n"}))
	if len(errant2.errs) != 1 || !strings.Contains(errant2.errs[0].Error(), `column "id"`) {
		t.Errorf("conversion failure: %v", errant2.errs)
	}
}

func TestOpenErrors(t *testing.T) {
	db := newDB(t)
	open := func(cfg map[string]string) error {
		task := NewConnector().NewTask()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := task.Open(ctx, connectors.SinkContext{Logger: testLogger(t)}, cfg)
		if err == nil {
			_ = task.Close(ctx)
		}
		return err
	}
	u, _ := url.Parse(os.Getenv("SLUICE_TEST_PG_DSN"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()
	for _, c := range []struct {
		name      string
		cfg       map[string]string
		retriable bool
		want      []string
	}{
		{"not postgres", map[string]string{KeyConnectionURL: "jdbc:mysql://localhost/db"}, false,
			[]string{"connection.url", "PostgreSQL only", "jdbc:mysql"}},
		{"unreachable", map[string]string{KeyConnectionURL: "jdbc:postgresql://" + closedPort + "/db", KeyConnectionUsername: "me"}, true,
			[]string{"cannot connect to PostgreSQL at me@" + closedPort + "/db", "connection.url"}},
		{"unknown user", map[string]string{KeyConnectionURL: "jdbc:postgresql://" + u.Host + "/" + db.name, KeyConnectionUsername: "nobody_here",
			KeyConnectionPassword: "secret"}, false,
			[]string{"refused the credentials", "connection.username", "connection.password", `"nobody_here"`}},
		{"confluent user key", map[string]string{connectors.KeyConnectorClass: ConfluentClass, KeyConnectionURL: "jdbc:postgresql://" + u.Host + "/" + db.name,
			KeyConnectionUser: "nobody_here", KeyConnectionAttempts: "1"}, false,
			[]string{"refused the credentials", "connection.user "}},
		{"unknown database", map[string]string{KeyConnectionURL: "jdbc:postgresql://" + u.Host + "/no_such_db?user=postgres"}, false,
			[]string{"does not exist", "no_such_db"}},
		{"bad config", map[string]string{KeyConnectionURL: db.jdbcURL, KeyInsertMode: "upsert", KeyDeleteEnabled: "true"}, false,
			[]string{"insert.mode", "delete.enabled", "record_key"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := open(c.cfg)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			t.Logf("Open: %v", err)
			if errors.Is(err, connectors.ErrRetriable) != c.retriable {
				t.Errorf("retriable = %v, want %v: %v", !c.retriable, c.retriable, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestTableNaming(t *testing.T) {
	db := newDB(t)
	db.exec(t, "CREATE SCHEMA inventory")
	flat := connectors.StructSchema().Field("Id", connectors.Int32Schema).Field("Name", connectors.StringSchema).MustBuild()
	v := mustStruct(t, flat, int32(1), "x")
	// Debezium: dots become underscores, unquoted names are folded.
	dbzTask := openTask(t, db, map[string]string{connectors.KeyConnectorClass: DebeziumClass, KeySchemaEvolution: "basic"}, nil)
	putFlush(t, dbzTask, rec("Srv.Public.Orders", nil, nil, flat, v))
	equalRows(t, "debezium naming", db.dump(t, `SELECT id, name FROM srv_public_orders`), []string{"1|x"})
	// Debezium with ${source.*} placeholders and quoted identifiers.
	srcTask := openTask(t, db, map[string]string{connectors.KeyConnectorClass: DebeziumClass, KeySchemaEvolution: "basic",
		KeyQuoteIdentifiers: "true", KeyTableNameFormat: "inventory.${source.table}_copy"}, nil)
	putFlush(t, srcTask, dbz(t, "c", 1, nil, row(1, "a", int64(1))))
	equalRows(t, "source placeholders", db.dump(t, `SELECT id, name FROM inventory.orders_copy`), []string{"1|a"})
	// Confluent: a dotted name is schema.table (the catalog part dropped); quoting keeps case.
	cfTask := openTask(t, db, map[string]string{connectors.KeyConnectorClass: ConfluentClass, KeyAutoCreate: "true"}, nil)
	putFlush(t, cfTask, rec("db.inventory.Orders", nil, nil, flat, v))
	equalRows(t, "confluent naming", db.dump(t, `SELECT "Id", "Name" FROM inventory."Orders"`), []string{"1|x"})
	// Confluent with quote.sql.identifiers=never and a format.
	cfLower := openTask(t, db, map[string]string{connectors.KeyConnectorClass: ConfluentClass, KeyAutoCreate: "true",
		KeyQuoteSQLIdentifiers: "never", KeyTableNameFormat: "kafka_${topic}"}, nil)
	putFlush(t, cfLower, rec("Things", nil, nil, flat, v))
	equalRows(t, "confluent unquoted", db.dump(t, `SELECT id, name FROM kafka_things`), []string{"1|x"})
}

func TestKafkaPrimaryKeyAndFieldFilters(t *testing.T) {
	db := newDB(t)
	flat := connectors.StructSchema().Field("a", connectors.Int32Schema).Field("b", connectors.StringSchema).Field("secret", connectors.StringSchema).MustBuild()
	task := openTask(t, db, map[string]string{connectors.KeyConnectorClass: ConfluentClass, KeyAutoCreate: "true",
		KeyInsertMode: "upsert", KeyPKMode: "kafka", KeyFieldsWhitelist: "a,b"}, nil)
	r1 := rec("kt", nil, nil, flat, mustStruct(t, flat, int32(1), "x", "hide"))
	r2 := rec("kt", nil, nil, flat, mustStruct(t, flat, int32(2), "y", "hide"))
	putFlush(t, task, r1, r2)
	putFlush(t, task, r1, r2) // replay: same coordinates, same rows
	types := db.columnTypes(t, "kt")
	if _, ok := types["secret"]; ok || types["__connect_topic"] != "text not null" || types["__connect_offset"] != "bigint not null" {
		t.Errorf("columns: %v", types)
	}
	equalRows(t, "kafka pk", db.dump(t, "SELECT __connect_topic, __connect_partition, __connect_offset, a, b FROM kt"),
		[]string{"kt|0|" + itoa(r1.Offset) + "|1|x", "kt|0|" + itoa(r2.Offset) + "|2|y"})

	// Debezium's field.exclude.list matches topic:field.
	ex := openTask(t, db, map[string]string{connectors.KeyConnectorClass: DebeziumClass, KeySchemaEvolution: "basic",
		KeyFieldExcludeList: "kt2:secret"}, nil)
	putFlush(t, ex, rec("kt2", nil, nil, flat, mustStruct(t, flat, int32(1), "x", "hide")))
	if _, ok := db.columnTypes(t, "kt2")["secret"]; ok {
		t.Error("excluded field became a column")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCancelledPutHoldsOffsets(t *testing.T) {
	db := newDB(t)
	task := openTask(t, db, dbzConfig(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := dbz(t, "c", 1, nil, row(1, "a", int64(1)))
	start := time.Now()
	if err := task.Put(ctx, []connectors.Record{r}); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("cancelled Put took %v", d)
	}
	tp := connectors.TopicPartition{Topic: ordersTopic}
	got, _ := task.Flush(context.Background(), map[connectors.TopicPartition]int64{tp: r.Offset + 1})
	if got[tp] != r.Offset {
		t.Errorf("Flush = %d, want %d (the record was not written)", got[tp], r.Offset)
	}
	putFlush(t, task, r) // redelivered: written, and Flush no longer holds
}

// TestToastPlaceholderKeepsValue: Debezium sends unchanged TOASTed
// columns as __debezium_unavailable_value; the row keeps its value.
func TestToastPlaceholderKeepsValue(t *testing.T) { eachPath(t, testToastPlaceholderKeepsValue) }

func testToastPlaceholderKeepsValue(t *testing.T, path func(*Sink)) {
	db := newDB(t)
	task := openTask(t, db, dbzConfig(), nil, path)
	const ph = DefaultUnavailablePlaceholder
	q := "SELECT id, name, qty FROM srv_public_orders"
	putFlush(t, task, dbz(t, "c", 1, nil, row(1, "big text", int64(1))))
	putFlush(t, task, dbz(t, "u", 1, nil, row(1, ph, int64(2))))
	equalRows(t, "placeholder in a later batch", db.dump(t, q), []string{"1|big text|2"})
	// Insert and placeholder update in one batch: the inserted value stays.
	putFlush(t, task, dbz(t, "c", 2, nil, row(2, "other", int64(1))), dbz(t, "u", 2, nil, row(2, ph, int64(3))))
	equalRows(t, "placeholder in the same batch", db.dump(t, q), []string{"1|big text|2", "2|other|3"})
	// Turned off, the placeholder is written as it is.
	cfg := dbzConfig()
	cfg[KeyUnavailablePlaceholder] = ""
	plain := openTask(t, db, cfg, nil, path)
	putFlush(t, plain, dbz(t, "u", 1, nil, row(1, ph, int64(4))))
	equalRows(t, "placeholder off", db.dump(t, q), []string{"1|" + ph + "|4", "2|other|3"})
}

func TestToastPlaceholderBytea(t *testing.T) {
	db := newDB(t)
	db.exec(t, "CREATE TABLE blobs (id int PRIMARY KEY, b bytea, n int)")
	schema := connectors.StructSchema().Field("id", connectors.Int32Schema).Field("b", connectors.OptionalBytesSchema).
		Field("n", connectors.Int32Schema).MustBuild()
	task := openTask(t, db, map[string]string{connectors.KeyConnectorClass: ConfluentClass, KeyInsertMode: "upsert",
		KeyPKMode: "record_value", KeyPKFields: "id"}, nil)
	putFlush(t, task, rec("blobs", nil, nil, schema, mustStruct(t, schema, int32(1), []byte{1, 2}, int32(1))))
	putFlush(t, task, rec("blobs", nil, nil, schema, mustStruct(t, schema, int32(1), []byte(DefaultUnavailablePlaceholder), int32(2))))
	equalRows(t, "bytea placeholder", db.dump(t, "SELECT id, encode(b, 'hex'), n FROM blobs"), []string{"1|0102|2"})
}

// TestReconnectsAfterConnectionLoss: the server ends the task's session
// (as a restart or failover would) while a batch is in flight and
// between batches; the task reconnects, rewrites, and loses nothing.
func TestReconnectsAfterConnectionLoss(t *testing.T) {
	db := newDB(t)
	cfg := dbzConfig()
	cfg[KeyFlushRetryDelayMs] = "10"
	task := openTask(t, db, cfg, nil)
	kill := func() {
		t.Helper()
		// The flight may hold the connection: the pid is the task's own.
		db.exec(t, "SELECT pg_terminate_backend($1)", int32(task.conn.PgConn().PID()))
	}
	var all []string
	for round := int32(0); round < 3; round++ {
		var batch []connectors.Record
		for i := int32(1); i <= 50; i++ {
			id := round*100 + i
			batch = append(batch, dbz(t, "c", id, nil, row(id, "x", int64(id))))
			all = append(all, strconv.Itoa(int(id)))
		}
		if err := task.Put(context.Background(), batch); err != nil {
			t.Fatalf("Put after the session was killed: %v", err)
		}
		kill()
	}
	putFlush(t, task, dbz(t, "c", 999, nil, row(999, "x", int64(999))))
	all = append(all, "999")
	equalRows(t, "every row after reconnects", db.dump(t, "SELECT id FROM srv_public_orders"), all)
}
