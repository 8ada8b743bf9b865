//go:build integration

package jdbc

import (
	"context"
	"errors"
	"strings"
	"testing"

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

func TestDebeziumEnvelopes(t *testing.T) {
	db := newDB(t)
	task := openTask(t, db, dbzConfig(), nil)
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
		err := task.Put(context.Background(), []connectors.Record{r(1, "again")})
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
