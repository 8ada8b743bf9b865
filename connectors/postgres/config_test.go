package postgres

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

func baseConfig(kv ...string) map[string]string {
	c := map[string]string{
		"database.hostname": "db.example.com",
		"database.user":     "debezium",
		"database.password": "secret",
		"database.dbname":   "inventory",
		"topic.prefix":      "dbserver1",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return c
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(baseConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Hostname: "db.example.com", Port: 5432, User: "debezium", Password: "secret", DBName: "inventory", SSLMode: "prefer",
		ConnectTimeout: 30 * time.Second, TopicPrefix: "dbserver1", TopicDelimiter: ".", PluginName: "pgoutput",
		SlotName: "debezium", SlotMaxRetries: 6, SlotRetryDelay: 10 * time.Second, Publication: "dbz_publication",
		PublicationAutocreate: "all_tables", SnapshotMode: "initial", SnapshotFetchSize: 10240, SnapshotMaxThreads: 4,
		HeartbeatTopicPrefix: "__debezium-heartbeat", TombstonesOnDelete: true, DecimalMode: "precise",
		TimePrecision: "adaptive", BinaryMode: "bytes", IntervalMode: "numeric", MaxBatchSize: 2048, MaxQueueSize: 8192,
		PollInterval: 500 * time.Millisecond, StatusInterval: 10 * time.Second, SkippedOps: []string{"t"},
		ToastPlaceholder: "__debezium_unavailable_value", SignalChannels: []string{"source"}, IncrementalChunkSize: 1024,
		TransactionTopic: "transaction",
	}
	if cfg.String() != want.String() {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
	if !cfg.skipped("t") || cfg.skipped("c") {
		t.Error("skipped.operations default is not t")
	}
}

// String renders a Config for comparison in tests.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString(c.Hostname + "|" + c.User + "|" + c.DBName + "|" + c.SSLMode + "|" + c.TopicPrefix + "|" + c.TopicDelimiter)
	b.WriteString("|" + c.PluginName + "|" + c.SlotName + "|" + c.Publication + "|" + c.PublicationAutocreate + "|" + c.SnapshotMode)
	b.WriteString("|" + c.HeartbeatTopicPrefix + "|" + c.DecimalMode + "|" + c.TimePrecision + "|" + c.BinaryMode + "|" + c.IntervalMode)
	b.WriteString("|" + c.ToastPlaceholder + "|" + strings.Join(c.SkippedOps, ",") + "|" + strings.Join(c.SignalChannels, ","))
	b.WriteString("|" + c.TransactionTopic)
	for _, d := range []time.Duration{c.ConnectTimeout, c.SlotRetryDelay, c.PollInterval, c.StatusInterval, c.HeartbeatInterval} {
		b.WriteString("|" + d.String())
	}
	for _, n := range []int{c.Port, c.SlotMaxRetries, c.SnapshotFetchSize, c.SnapshotMaxThreads, c.MaxBatchSize, c.MaxQueueSize, c.IncrementalChunkSize} {
		b.WriteString("|" + time.Duration(n).String())
	}
	if c.TombstonesOnDelete {
		b.WriteString("|tombstones")
	}
	if c.ProvideTransactionMetadata {
		b.WriteString("|txmeta")
	}
	return b.String()
}

func TestConfigDebeziumNames(t *testing.T) {
	// A typical Debezium config, unchanged.
	cfg, err := ParseConfig(baseConfig(
		"connector.class", "io.debezium.connector.postgresql.PostgresConnector",
		"tasks.max", "1", "plugin.name", "pgoutput", "slot.name", "inventory_slot",
		"publication.autocreate.mode", "filtered", "table.include.list", "inventory.customers,inventory.orders",
		"snapshot.mode", "never", "heartbeat.interval.ms", "10000", "decimal.handling.mode", "string",
		"time.precision.mode", "connect", "binary.handling.mode", "base64", "tombstones.on.delete", "false",
		"skipped.operations", "none", "key.converter", "org.apache.kafka.connect.json.JsonConverter",
		"provide.transaction.metadata", "true", "topic.transaction", "tx-events"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SnapshotMode != SnapshotNoData {
		t.Errorf("snapshot.mode=never → %q, want no_data", cfg.SnapshotMode)
	}
	if cfg.HeartbeatInterval != 10*time.Second || cfg.TombstonesOnDelete || cfg.skipped("t") {
		t.Errorf("parsed %+v", cfg)
	}
	if !cfg.ProvideTransactionMetadata || cfg.TransactionTopic != "tx-events" {
		t.Errorf("provide.transaction.metadata / topic.transaction = %v / %q", cfg.ProvideTransactionMetadata, cfg.TransactionTopic)
	}
	if len(cfg.TableInclude) != 2 || cfg.TableInclude[1] != "inventory.orders" {
		t.Errorf("table.include.list = %v", cfg.TableInclude)
	}
}

func TestConfigValidateReportsEverything(t *testing.T) {
	_, err := ParseConfig(map[string]string{
		"database.port": "99999", "snapshot.mode": "sometimes", "plugin.name": "pgoutput",
		"table.include.list": "(", "binary.handling.mode": "octal",
	})
	var errs connectors.ConfigErrors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	keys := map[string]bool{}
	for _, e := range errs {
		keys[e.Name] = true
	}
	for _, k := range []string{KeyHostname, KeyUser, KeyDBName, KeyTopicPrefix, KeyPort, KeySnapshotMode, KeyTableInclude, KeyBinaryMode} {
		if !keys[k] {
			t.Errorf("no error for %s in %v", k, err)
		}
	}
	if !errors.Is(err, connectors.ErrInvalidConfig) {
		t.Error("not ErrInvalidConfig")
	}
}

func TestConfigCrossKeys(t *testing.T) {
	cases := []struct {
		kv       []string
		key, msg string
	}{
		{[]string{"plugin.name", "decoderbufs"}, KeyPluginName, "pgoutput"},
		{[]string{"database.sslcert", "/c.pem"}, KeySSLKey, "set database.sslkey"},
		{[]string{"database.sslkey", "/k.pk8"}, KeySSLCert, "set database.sslcert"},
		{[]string{"plugin.name", "wal2json"}, KeyPluginName, "pgoutput"},
		{[]string{"table.include.list", "a.b", "table.exclude.list", "c.d"}, KeyTableExclude, "mutually exclusive"},
		{[]string{"column.include.list", "a.b.c", "column.exclude.list", "c.d.e"}, KeyColumnExclude, "mutually exclusive"},
		{[]string{"max.queue.size", "100", "max.batch.size", "100"}, KeyMaxQueueSize, "larger than max.batch.size"},
		{[]string{"slot.name", "Bad-Slot"}, KeySlotName, "lower-case"},
		{[]string{"signal.data.collection", "nodot"}, KeySignalTable, "schema.table"},
		{[]string{"signal.enabled.channels", "source,kafka"}, KeySignalChannels, "source"},
		{[]string{"provide.transaction.metadata", "true", "topic.transaction", "tx events"}, KeyTxTopic, "topic names"},
		{[]string{"topic.transaction", ""}, KeyTxTopic, "non-empty"},
		{[]string{"topic.prefix", "bad prefix"}, KeyTopicPrefix, "topic names"},
	}
	for _, c := range cases {
		_, err := ParseConfig(baseConfig(c.kv...))
		var errs connectors.ConfigErrors
		if !errors.As(err, &errs) {
			t.Errorf("%v: err = %v", c.kv, err)
			continue
		}
		found := false
		for _, e := range errs {
			if e.Name == c.key && strings.Contains(e.Message, c.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: no %s error containing %q in %v", c.kv, c.key, c.msg, err)
		}
	}
}

func TestConnectorContract(t *testing.T) {
	c := NewConnector()
	if c.Config() == nil {
		t.Fatal("no ConfigDef")
	}
	if err := c.Start(t.Context(), connectors.ConnectorContext{}, baseConfig()); err != nil {
		t.Fatal(err)
	}
	tcs, err := c.TaskConfigs(5)
	if err != nil || len(tcs) != 1 || tcs[0]["topic.prefix"] != "dbserver1" {
		t.Fatalf("TaskConfigs(5) = %v, %v", tcs, err)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.NewTask().(*Task); !ok {
		t.Fatal("NewTask is not a *Task")
	}
	if err := c.Start(t.Context(), connectors.ConnectorContext{}, map[string]string{}); err == nil {
		t.Fatal("Start accepted an empty config")
	}
	var _ ProgressReporter = c.NewTask().(*Task)
}

func TestConnString(t *testing.T) {
	cfg, _ := ParseConfig(baseConfig("database.password", "p@ss word/:", "database.port", "6543"))
	s := cfg.connString()
	if !strings.HasPrefix(s, "postgres://debezium:p%40ss%20word%2F%3A@db.example.com:6543/inventory?") {
		t.Errorf("connString = %s", s)
	}
}
