package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func router(t *testing.T, cfg map[string]string) Transformation {
	return newTransform(t, "io.debezium.transforms.ByLogicalTableRouter", cfg)
}

func TestByLogicalTableRouterConfigErrors(t *testing.T) {
	const class = "ByLogicalTableRouter"
	wantConfigError(t, configureErr(t, class, map[string]string{"topic.regex": "someValidRegex(.*)", "topic.replacement": "$1",
		"key.field.regex": "If this is set, key.field.replacement must be non-empty"}), "key.field.replacement", "key.field.replacement must be non-empty if key.field.regex is set.")
	wantConfigError(t, configureErr(t, class, map[string]string{"topic.regex": "someValidRegex(.*)", "topic.replacement": "$1",
		"key.field.regex": "x", "key.field.replacement": ""}), "key.field.replacement", "must be non-empty")
	wantConfigError(t, configureErr(t, class, map[string]string{"topic.regex": "someValidRegex(.*)"}), "topic.replacement", "Missing required configuration")
	wantConfigError(t, configureErr(t, class, map[string]string{"topic.regex": "someValidRegex(.*)", "topic.replacement": ""}), "topic.replacement", "String must be non-empty")
	wantConfigError(t, configureErr(t, class, map[string]string{"topic.regex": "(", "topic.replacement": "x"}), "topic.regex", "Invalid regex")
}

func TestByLogicalTableRouterKeyReplacement(t *testing.T) {
	for mode, wantName := range map[string]string{
		"avro": "mysql_server_1.inventory.customers_all_shards.Key",
		"none": "mysql-server-1.inventory.customers_all_shards.Key",
	} {
		tr := router(t, map[string]string{"topic.regex": "(.*)customers_shard(.*)", "topic.replacement": "$1customers_all_shards",
			"key.field.name": "shard_id", "key.field.regex": "(.*)customers_shard_(.*)", "key.field.replacement": "$2",
			"schema.name.adjustment.mode": mode})
		keySchema := mustBuild(t, connectors.StructSchema().Name("mysql-server-1.inventory.customers_shard_1.Key").Field("id", connectors.Int64Schema))
		for _, tc := range []struct {
			topic, shard string
			id           int64
		}{
			{"mysql-server-1.inventory.customers_shard_1", "1", 123},
			{"mysql-server-1.inventory.customers_shard_2", "2", 123},
			{"mysql-server-1.inventory.customers_shard_2", "2", 456},
		} {
			out := apply(t, tr, sourceRecord(tc.topic, keySchema, newStruct(t, keySchema, "id", tc.id), nil, nil))
			if out.Topic != "mysql-server-1.inventory.customers_all_shards" {
				t.Errorf("topic %q", out.Topic)
			}
			if out.KeySchema.Name() != wantName {
				t.Errorf("%s: key schema name %q", mode, out.KeySchema.Name())
			}
			fs := out.KeySchema.Fields()
			if len(fs) != 2 || fs[0].Name() != "id" || fs[1].Name() != "shard_id" {
				t.Fatalf("key fields %v", fs)
			}
			eq(t, "id", get(t, out.Key, "id"), tc.id)
			eq(t, "shard_id", get(t, out.Key, "shard_id"), tc.shard)
		}
	}
}

func TestByLogicalTableRouterHeartbeat(t *testing.T) {
	tr := router(t, map[string]string{"topic.regex": "__debezium-heartbeat(.*)", "topic.replacement": "debezium_heartbeat_central", "key.field.name": "originalTopic"})
	keySchema := mustBuild(t, connectors.StructSchema().Name("io.debezium.connector.mysql.ServerNameKey").Field("serverName", connectors.StringSchema))
	for _, server := range []string{"test_server_name_db", "test_server_name_db_2"} {
		out := apply(t, tr, sourceRecord("__debezium-heartbeat."+server, keySchema, newStruct(t, keySchema, "serverName", server), nil, nil))
		if out.Topic != "debezium_heartbeat_central" || out.KeySchema.Name() != "debezium_heartbeat_central.Key" {
			t.Errorf("%q %q", out.Topic, out.KeySchema.Name())
		}
		eq(t, "serverName", get(t, out.Key, "serverName"), server)
		eq(t, "originalTopic", get(t, out.Key, "originalTopic"), "__debezium-heartbeat."+server)
		if out.Value != nil {
			t.Error("value")
		}
	}
}

func TestByLogicalTableRouterNullKeyAndNoUniqueness(t *testing.T) {
	tr := router(t, map[string]string{"topic.regex": "(.*)customers_shard(.*)", "topic.replacement": "$1customers_all_shards",
		"key.field.name": "shard_id", "key.field.regex": "(.*)customers_shard_(.*)", "key.field.replacement": "$2"})
	out := apply(t, tr, sourceRecord("mysql-server-1.inventory.customers_shard_1", nil, nil, nil, nil))
	if out.Topic != "mysql-server-1.inventory.customers_all_shards" || out.Key != nil || out.KeySchema != nil {
		t.Errorf("%+v", out)
	}
	out = apply(t, tr, sourceRecord("unrelated", nil, nil, nil, nil))
	if out.Topic != "unrelated" {
		t.Errorf("unmatched topic became %q", out.Topic)
	}

	tr = router(t, map[string]string{"topic.regex": `(.*).dbz_shard_\d+.(.*)`, "topic.replacement": "dbz_core.$2", "key.enforce.uniqueness": "false"})
	for _, shard := range []string{"s21.dbz_shard_21", "s22.dbz_shard_22"} {
		keySchema := mustBuild(t, connectors.StructSchema().Name(shard+".address.Key").Field("id", connectors.Int64Schema))
		out := apply(t, tr, sourceRecord(shard+".address", keySchema, newStruct(t, keySchema, "id", int64(123)), nil, nil))
		if out.Topic != "dbz_core.address" || out.KeySchema.Name() != "dbz_core.address.Key" || len(out.KeySchema.Fields()) != 1 {
			t.Errorf("%q %v", out.Topic, out.KeySchema)
		}
		eq(t, "id", get(t, out.Key, "id"), int64(123))
	}
}

func TestByLogicalTableRouterEnvelope(t *testing.T) {
	tr := router(t, map[string]string{"topic.regex": `db\.inventory\.customers_(\d+)`, "topic.replacement": "db.inventory.customers"})
	d := newDebezium(t, defaultRecordSchema(t))
	r := d.update()
	r.Topic = "db.inventory.customers_7"
	out := apply(t, tr, r)
	if out.ValueSchema.Name() != "db.inventory.customers.Envelope" {
		t.Errorf("envelope name %q", out.ValueSchema.Name())
	}
	after, _ := out.ValueSchema.Field("after")
	before, _ := out.ValueSchema.Field("before")
	if after.Schema().Name() != "db.inventory.customers.Value" || after.Schema() != before.Schema() || !after.Schema().Optional() {
		t.Errorf("value schema %v", after.Schema())
	}
	eq(t, "after.name", get(t, get(t, out.Value, "after"), "name"), "updatedRecord")
	eq(t, "op", get(t, out.Value, "op"), "u")
	if err := connectors.ValidateValue(out.ValueSchema, out.Value); err != nil {
		t.Error(err)
	}
	// Non-CDC values are left as they are.
	tr = router(t, map[string]string{"topic.regex": "(.*)", "topic.replacement": "$1_rerouted"})
	keySchema := mustBuild(t, connectors.StructSchema().Name("io.debezium.connector.mysql.SchemaChangeKey").Field("databaseName", connectors.StringSchema))
	valueSchema := mustBuild(t, connectors.StructSchema().Name("io.debezium.connector.mysql.SchemaChangeValue").Field("databaseName", connectors.OptionalStringSchema))
	value := newStruct(t, valueSchema, "databaseName", "my-db")
	out = apply(t, tr, sourceRecord("schema_changes", keySchema, newStruct(t, keySchema, "databaseName", "my-db"), valueSchema, value))
	if out.Topic != "schema_changes_rerouted" || out.Value != any(value) {
		t.Errorf("%q %v", out.Topic, out.Value)
	}
}

func TestAvroName(t *testing.T) {
	for in, want := range map[string]string{"a-b.c": "a_b.c", "1abc": "_1abc", "ok_name.x9": "ok_name.x9", "": ""} {
		if got := avroName(in, false); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
	if got := avroName("a-b", true); got != "a_u002db" {
		t.Errorf("unicode: %q", got)
	}
}
