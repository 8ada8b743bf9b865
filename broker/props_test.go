package broker

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigSetKafkaProperties(t *testing.T) {
	c := DefaultConfig()
	for k, v := range map[string]string{
		"listeners":             "PLAINTEXT://127.0.0.1:19092",
		"advertised.listeners":  "PLAINTEXT://kafka.local:19092",
		"log.dirs":              "/var/lib/a,/var/lib/b",
		"num.partitions":        "3",
		"log.retention.minutes": "30",
		"log.cleanup.policy":    "compact,delete",
		"sluice.fsync":          "false",
	} {
		if err := c.Set(k, v); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	if c.Listen != "127.0.0.1:19092" || c.AdvertisedAddr != "kafka.local:19092" || c.DataDir != "/var/lib/a" ||
		c.NumPartitions != 3 || c.LogRetentionMs != 30*60*1000 || c.LogCleanupPolicy != "compact,delete" || c.Fsync {
		t.Fatalf("config after Set: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigSetErrors(t *testing.T) {
	c := DefaultConfig()
	err := c.Set("log.retention.msx", "1")
	if !errors.Is(err, ErrUnknownProperty) || !strings.Contains(err.Error(), "did you mean log.retention.ms?") {
		t.Fatalf("unknown key: %v", err)
	}
	err = c.Set("num.partitions", "many")
	if err == nil || !strings.Contains(err.Error(), `num.partitions="many"`) {
		t.Fatalf("bad value: %v", err)
	}
}
