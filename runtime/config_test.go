package runtime

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/plugins"
)

func TestDefaultWorkerConfigIsValid(t *testing.T) {
	c := DefaultWorkerConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() {
		t.Error("the default config should run the embedded broker")
	}
	if c.GroupID != "connect-cluster" || c.ConfigStorageTopic != "connect-configs" || c.OffsetStorageTopic != "connect-offsets" ||
		c.StatusStorageTopic != "connect-status" || c.Listeners[0] != "http://127.0.0.1:8083" {
		t.Errorf("defaults: %+v", c)
	}
	if c.OffsetFlushInterval != time.Minute || c.OffsetFlushTimeout != 5*time.Second || c.TaskShutdownGracefulTimeout != 5*time.Second {
		t.Errorf("Kafka's timing defaults: %v %v %v", c.OffsetFlushInterval, c.OffsetFlushTimeout, c.TaskShutdownGracefulTimeout)
	}
	if c.OffsetStoragePartitions != 25 || c.StatusStoragePartitions != 5 || c.ConfigStorageReplicationFactor != 3 {
		t.Errorf("Kafka's topic defaults: %d %d %d", c.OffsetStoragePartitions, c.StatusStoragePartitions, c.ConfigStorageReplicationFactor)
	}
}

func TestParseWorkerConfig(t *testing.T) {
	props := map[string]string{
		"bootstrap.servers":                  "k1:9092, k2:9092",
		"group.id":                           "g",
		"key.converter":                      "org.apache.kafka.connect.storage.StringConverter",
		"key.converter.schemas.enable":       "false",
		"value.converter.schemas.enable":     "false",
		"offset.flush.interval.ms":           "10000",
		"config.storage.topic":               "cfg",
		"config.storage.replication.factor":  "1",
		"config.storage.min.insync.replicas": "1",
		"offset.storage.partitions":          "3",
		"producer.linger.ms":                 "5",
		"consumer.max.poll.records":          "100",
		"admin.request.timeout.ms":           "1000",
		"config.providers":                   "file",
		"config.providers.file.class":        "org.apache.kafka.common.config.provider.FileConfigProvider",
		"listeners":                          "http://0.0.0.0:8083",
		"sasl.jaas.config":                   "x",
		"sluice.task.restart.max.attempts":   "5",
		"broker.num.partitions":              "3",
		"some.plugin.setting":                "y",
	}
	c, err := ParseWorkerConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	if c.Embedded() || !slices.Equal(c.BootstrapServers, []string{"k1:9092", "k2:9092"}) {
		t.Errorf("bootstrap.servers = %q", c.BootstrapServers)
	}
	if c.GroupID != "g" || c.KeyConverter != "org.apache.kafka.connect.storage.StringConverter" || c.ValueConverter != plugins.JSONConverterClass {
		t.Errorf("group/converters: %q %q %q", c.GroupID, c.KeyConverter, c.ValueConverter)
	}
	if c.ConverterConfigs["key.converter.schemas.enable"] != "false" || c.ConverterConfigs["value.converter.schemas.enable"] != "false" {
		t.Errorf("converter configs: %v", c.ConverterConfigs)
	}
	if c.OffsetFlushInterval != 10*time.Second || c.ConfigStorageTopic != "cfg" || c.ConfigStorageReplicationFactor != 1 || c.OffsetStoragePartitions != 3 {
		t.Errorf("storage: %+v", c)
	}
	if c.ConfigStorageTopicConfigs["min.insync.replicas"] != "1" {
		t.Errorf("topic configs: %v", c.ConfigStorageTopicConfigs)
	}
	if c.Producer["linger.ms"] != "5" || c.Consumer["max.poll.records"] != "100" || c.Admin["request.timeout.ms"] != "1000" {
		t.Errorf("client configs: %v %v %v", c.Producer, c.Consumer, c.Admin)
	}
	if !slices.Equal(c.ConfigProviders, []string{"file"}) || c.ConfigProviderConfigs["file.class"] == "" {
		t.Errorf("providers: %v %v", c.ConfigProviders, c.ConfigProviderConfigs)
	}
	if c.TaskRestartMaxAttempts != 5 || c.Broker["num.partitions"] != "3" {
		t.Errorf("sluice keys: %d %v", c.TaskRestartMaxAttempts, c.Broker)
	}
	if !slices.Equal(c.Unknown, []string{"some.plugin.setting"}) {
		t.Errorf("Unknown = %v", c.Unknown)
	}
}

func TestWorkerConfigErrorsNameTheirKeys(t *testing.T) {
	_, err := ParseWorkerConfig(map[string]string{
		"offset.flush.interval.ms":           "soon",
		"config.storage.topic":               "bad topic",
		"status.storage.topic":               "connect-offsets",
		"offset.storage.replication.factor":  "0",
		"listeners":                          "ftp://x:1",
		"exactly.once.source.support":        "enabled",
		"topic.tracking.enable":              "yes",
		"group.id":                           " ",
		"sluice.task.restart.max.backoff.ms": "10",
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"offset.flush.interval.ms", "config.storage.topic", "status.storage.topic", "offset.storage.replication.factor",
		"listeners", "exactly.once.source.support", "topic.tracking.enable", "group.id", "sluice.task.restart.max.backoff.ms"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
	if !strings.Contains(err.Error(), "Invalid value soon for configuration offset.flush.interval.ms: Not a number of type LONG") {
		t.Errorf("not Kafka's wording:\n%v", err)
	}
}

func TestWorkerConfigTypos(t *testing.T) {
	c := DefaultWorkerConfig()
	for key, want := range map[string]string{
		"ofset.flush.interval.ms":         "offset.flush.interval.ms",
		"bootstrap.server":                "bootstrap.servers",
		"config.storage.topik":            "config.storage.topic",
		"sluice.task.restart.max.attempt": "sluice.task.restart.max.attempts",
	} {
		err := c.Set(key, "1")
		if !errors.Is(err, ErrUnknownWorkerKey) || !strings.Contains(err.Error(), "did you mean "+want+"?") {
			t.Errorf("Set(%q) = %v, want a suggestion of %s", key, err, want)
		}
	}
	// Unrelated keys are only recorded.
	if err := c.Set("rest.extension.something.else", "x"); err != nil {
		t.Error(err)
	}
	if !slices.Contains(c.Unknown, "rest.extension.something.else") {
		t.Errorf("Unknown = %v", c.Unknown)
	}
}

func TestInternalTopicReplicationWithEmbeddedBroker(t *testing.T) {
	c := DefaultWorkerConfig()
	if rf := c.internalTopics()[0].rf; rf != -1 {
		t.Errorf("embedded, unset: rf = %d, want -1 (the broker's default)", rf)
	}
	c.Set("config.storage.replication.factor", "1")
	if rf := c.internalTopics()[0].rf; rf != 1 {
		t.Errorf("embedded, set: rf = %d, want 1", rf)
	}
	if p := c.internalTopics()[1].partitions; p != 1 {
		t.Errorf("embedded, unset: offsets partitions = %d, want 1", p)
	}
	c.Set("bootstrap.servers", "k:9092")
	if rf := c.internalTopics()[1].rf; rf != 3 {
		t.Errorf("external, unset: rf = %d, want Kafka's 3", rf)
	}
	if p := c.internalTopics()[1].partitions; p != 25 {
		t.Errorf("external, unset: offsets partitions = %d, want Kafka's 25", p)
	}
}

func TestAdvertisedWorkerID(t *testing.T) {
	c := DefaultWorkerConfig()
	if got := AdvertisedWorkerID(&c, nil); got != "127.0.0.1:8083" {
		t.Errorf("default = %q", got)
	}
	c.RestAdvertisedHostName, c.RestAdvertisedPort = "worker-1", 9999
	if got := AdvertisedWorkerID(&c, nil); got != "worker-1:9999" {
		t.Errorf("advertised = %q", got)
	}
}
