package broker

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/internal/suggest"
)

// ErrUnknownProperty is returned by Config.Set for a key the broker does not
// know. Kafka's server.properties carries many keys a single node has no use
// for (zookeeper.connect, num.network.threads, ...): callers reading a file
// warn and go on; callers taking a key from the command line fail.
var ErrUnknownProperty = errors.New("broker: unknown property")

// Set applies one Kafka broker property (as in server.properties) to c, by
// its Kafka name. The value is checked for type here and for range by
// Validate.
func (c *Config) Set(key, value string) error {
	set, ok := properties[key]
	if !ok {
		return fmt.Errorf("%w %q%s", ErrUnknownProperty, key, suggestion(key))
	}
	if err := set(c, strings.TrimSpace(value)); err != nil {
		return fmt.Errorf("broker property %s=%q: %w", key, value, err)
	}
	return nil
}

// Properties lists the Kafka property names Set accepts, sorted.
func Properties() []string {
	names := make([]string, 0, len(properties))
	for k := range properties {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func suggestion(key string) string {
	if best := suggest.Closest(key, maps.Keys(properties), 3); best != "" {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return "; `sluice broker --help` lists the known ones"
}

// listenerAddr takes "PLAINTEXT://host:port" (the first of a list) or a bare
// host:port.
func listenerAddr(v string) (string, error) {
	first, _, _ := strings.Cut(v, ",")
	first = strings.TrimSpace(first)
	if _, rest, ok := strings.Cut(first, "://"); ok {
		first = rest
	}
	if first == "" {
		return "", errors.New("empty listener")
	}
	if strings.HasPrefix(first, ":") {
		first = "0.0.0.0" + first
	}
	return first, nil
}

func intProp[T ~int16 | ~int32 | ~int64](field func(*Config) *T, bits int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			return fmt.Errorf("not a %d-bit integer", bits)
		}
		*field(c) = T(n)
		return nil
	}
}

func boolProp(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "true":
			*field(c) = true
		case "false":
			*field(c) = false
		default:
			return errors.New("must be true or false")
		}
		return nil
	}
}

var properties = map[string]func(*Config, string) error{
	"listeners": func(c *Config, v string) (err error) { c.Listen, err = listenerAddr(v); return },
	"advertised.listeners": func(c *Config, v string) (err error) {
		c.AdvertisedAddr, err = listenerAddr(v)
		return
	},
	"log.dirs":                     func(c *Config, v string) error { c.DataDir, _, _ = strings.Cut(v, ","); return nil },
	"log.dir":                      func(c *Config, v string) error { c.DataDir = v; return nil },
	"node.id":                      intProp(func(c *Config) *int32 { return &c.NodeID }, 32),
	"broker.id":                    intProp(func(c *Config) *int32 { return &c.NodeID }, 32),
	"auto.create.topics.enable":    boolProp(func(c *Config) *bool { return &c.AutoCreateTopics }),
	"num.partitions":               intProp(func(c *Config) *int32 { return &c.NumPartitions }, 32),
	"default.replication.factor":   intProp(func(c *Config) *int16 { return &c.DefaultReplicationFactor }, 16),
	"offsets.topic.num.partitions": intProp(func(c *Config) *int32 { return &c.OffsetsTopicNumPartitions }, 32),
	"log.segment.bytes":            intProp(func(c *Config) *int64 { return &c.LogSegmentBytes }, 64),
	"log.roll.ms":                  intProp(func(c *Config) *int64 { return &c.LogRollMs }, 64),
	"log.roll.hours": func(c *Config, v string) error {
		h, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errors.New("not an integer")
		}
		c.LogRollMs = h * 3600 * 1000
		return nil
	},
	"log.retention.ms": intProp(func(c *Config) *int64 { return &c.LogRetentionMs }, 64),
	"log.retention.minutes": func(c *Config, v string) error {
		m, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errors.New("not an integer")
		}
		if m < 0 {
			c.LogRetentionMs = -1
		} else {
			c.LogRetentionMs = m * 60 * 1000
		}
		return nil
	},
	"log.retention.hours":               intProp(func(c *Config) *int64 { return &c.LogRetentionHours }, 64),
	"log.retention.bytes":               intProp(func(c *Config) *int64 { return &c.LogRetentionBytes }, 64),
	"log.cleanup.policy":                func(c *Config, v string) error { c.LogCleanupPolicy = v; return nil },
	"log.cleaner.delete.retention.ms":   intProp(func(c *Config) *int64 { return &c.LogCleanerDeleteRetentionMs }, 64),
	"log.cleaner.min.compaction.lag.ms": intProp(func(c *Config) *int64 { return &c.LogCleanerMinCompactionLagMs }, 64),
	"log.cleaner.min.cleanable.ratio": func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return errors.New("not a number")
		}
		c.LogCleanerMinCleanableRatio = f
		return nil
	},
	"log.index.interval.bytes":         intProp(func(c *Config) *int32 { return &c.LogIndexIntervalBytes }, 32),
	"message.max.bytes":                intProp(func(c *Config) *int32 { return &c.MessageMaxBytes }, 32),
	"log.retention.check.interval.ms":  intProp(func(c *Config) *int64 { return &c.RetentionCheckIntervalMs }, 64),
	"log.cleaner.backoff.ms":           intProp(func(c *Config) *int64 { return &c.CleanerBackoffMs }, 64),
	"socket.request.max.bytes":         intProp(func(c *Config) *int32 { return &c.MaxRequestBytes }, 32),
	"group.min.session.timeout.ms":     intProp(func(c *Config) *int32 { return &c.GroupMinSessionTimeoutMs }, 32),
	"group.max.session.timeout.ms":     intProp(func(c *Config) *int32 { return &c.GroupMaxSessionTimeoutMs }, 32),
	"group.initial.rebalance.delay.ms": intProp(func(c *Config) *int32 { return &c.GroupInitialRebalanceDelayMs }, 32),
	"offsets.retention.minutes":        intProp(func(c *Config) *int32 { return &c.OffsetsRetentionMinutes }, 32),
	// Sluice's own: fsync before acknowledging acks=all (default true).
	"sluice.fsync": boolProp(func(c *Config) *bool { return &c.Fsync }),
}
