package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

// Keys Sluice does not implement fail ParseConfig (and so POST
// /connectors and /validate) on their own name, unless they hold the
// value Sluice's behaviour matches; tuning keys are accepted.
func TestUnsupportedDebeziumKeys(t *testing.T) {
	base := map[string]string{"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p"}
	with := func(kv ...string) map[string]string {
		c := map[string]string{}
		for k, v := range base {
			c[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}
	for _, kv := range [][2]string{
		{"column.mask.hash.SHA-256.with.salt.CzQMA0cB5K", "public.t.c"},
		{"column.mask.hash.v2.SHA-256.with.salt.CzQMA0cB5K", "public.t.c"},
		{"column.propagate.source.type", ".*"},
		{"datatype.propagate.source.type", ".+\\.VARCHAR"},
		{"snapshot.select.statement.overrides", "public.t"},
		{"snapshot.select.statement.overrides.public.t", "SELECT * FROM t WHERE x"},
		{"converters", "isbn"},
		{"event.processing.failure.handling.mode", "skip"},
		{"publish.via.partition.root", "true"},
		{"extended.headers.enabled", "false"},
		{"topic.naming.strategy", "io.debezium.schema.DefaultTopicNamingStrategy"},
	} {
		_, err := ParseConfig(with(kv[0], kv[1]))
		var errs connectors.ConfigErrors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Name != kv[0] || !strings.Contains(errs[0].Message, "Sluice does not implement "+kv[0]) {
			t.Errorf("%s=%s: %v", kv[0], kv[1], err)
		}
	}
	for _, kv := range [][2]string{
		{"schema.name.adjustment.mode", "none"},
		{"schema.name.adjustment.mode", "avro"},
		{"field.name.adjustment.mode", "avro_unicode"},
		{"hstore.handling.mode", "JSON"},
		{"hstore.handling.mode", "map"},
		{"column.truncate.to.20.chars", "public.t.c"},
		{"column.mask.with.8.chars", "public.t.c"},
		{"event.processing.failure.handling.mode", "fail"},
		{"extended.headers.enabled", "true"},
		{"topic.naming.strategy", "io.debezium.schema.SchemaTopicNamingStrategy"},
		{"max.queue.size.in.bytes", "1000000"},
		{"custom.metric.tags", "env=prod"},
		{"snapshot.locking.mode", "shared"},
	} {
		if _, err := ParseConfig(with(kv[0], kv[1])); err != nil {
			t.Errorf("%s=%s: %v", kv[0], kv[1], err)
		}
	}
	if _, err := ParseConfig(with("hstore.handling.mode", "array")); err == nil || !strings.Contains(err.Error(), "hstore.handling.mode") {
		t.Errorf("hstore.handling.mode=array: %v", err)
	}
	// Reported with the other errors, and through ValidateConfig.
	_, err := ParseConfig(with("database.port", "x", "converters", "a"))
	if err == nil || !strings.Contains(err.Error(), "converters") || !strings.Contains(err.Error(), "database.port") {
		t.Errorf("both errors: %v", err)
	}
	var found bool
	for _, v := range (&Connector{}).ValidateConfig(t.Context(), with("converters", "a")) {
		found = found || v.Name == "converters" && len(v.Errors) == 1
	}
	if !found {
		t.Errorf("ValidateConfig does not report converters")
	}
}
