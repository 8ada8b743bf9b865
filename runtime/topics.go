package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// internalTopic describes one of the three internal topics.
type internalTopic struct {
	key        string // the worker key naming it, for messages
	name       string
	partitions int32 // -1: the broker's default
	rf         int16 // -1: the broker's default
	rfDefault  bool  // rf was not configured (Kafka's default of 3)
	configs    map[string]string
}

// internalTopics returns the config, offsets and status topics as the
// config asks for them.
func (c *WorkerConfig) internalTopics() [3]internalTopic {
	return [3]internalTopic{
		{key: "config.storage.topic", name: c.ConfigStorageTopic, partitions: 1,
			rf:        c.internalTopicRF("config.storage.replication.factor", c.ConfigStorageReplicationFactor),
			rfDefault: !c.IsSet("config.storage.replication.factor"), configs: c.ConfigStorageTopicConfigs},
		{key: "offset.storage.topic", name: c.OffsetStorageTopic, partitions: c.internalTopicPartitions("offset.storage.partitions", c.OffsetStoragePartitions),
			rf:        c.internalTopicRF("offset.storage.replication.factor", c.OffsetStorageReplicationFactor),
			rfDefault: !c.IsSet("offset.storage.replication.factor"), configs: c.OffsetStorageTopicConfigs},
		{key: "status.storage.topic", name: c.StatusStorageTopic, partitions: c.internalTopicPartitions("status.storage.partitions", c.StatusStoragePartitions),
			rf:        c.internalTopicRF("status.storage.replication.factor", c.StatusStorageReplicationFactor),
			rfDefault: !c.IsSet("status.storage.replication.factor"), configs: c.StatusStorageTopicConfigs},
	}
}

// ErrTopicNotCompacted is returned when an existing internal topic is not
// compacted: Kafka Connect refuses to start then, because deletion would
// lose connector configs, offsets or statuses.
var ErrTopicNotCompacted = errors.New("runtime: internal topic is not compacted")

// ensureTopics creates the internal topics that do not exist (compacted,
// with the configured partitions and replication) and checks that those
// that exist are compacted and, for the config topic, have one partition.
// It returns each topic's partition count.
//
// A replication factor left at Kafka's default of 3 on a cluster of fewer
// brokers becomes the number of brokers, with a warning (Kafka Connect
// refuses to start instead): a single `sluice broker` or a one-node
// Redpanda works without setting three keys.
func (cl *cluster) ensureTopics(ctx context.Context, topics [3]internalTopic) ([3]int32, error) {
	var counts [3]int32
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.name
	}
	brokers := 0
	if bm, err := cl.admin.BrokerMetadata(ctx); err == nil {
		brokers = len(bm.Brokers)
	}
	for _, t := range topics {
		if t.rfDefault && brokers > 0 && int(t.rf) > brokers {
			cl.log.Warn("fewer brokers than the default replication factor of internal topics; using the number of brokers",
				"topic", t.name, "brokers", brokers, "replication_factor", brokers, "set", strings.TrimSuffix(t.key, "topic")+"replication.factor")
			t.rf = int16(brokers)
		}
		configs := map[string]*string{}
		for k, v := range t.configs {
			configs[k] = &v
		}
		compact := "compact"
		configs["cleanup.policy"] = &compact
		resp, err := cl.admin.CreateTopic(ctx, t.partitions, t.rf, configs, t.name)
		switch {
		case err == nil && resp.Err == nil:
			cl.log.Info("created internal topic", "topic", t.name, "partitions", resp.NumPartitions, "replication_factor", resp.ReplicationFactor)
		case errors.Is(err, kerr.TopicAlreadyExists) || errors.Is(resp.Err, kerr.TopicAlreadyExists):
		case err != nil:
			return counts, fmt.Errorf("create internal topic %s (%s): %w", t.name, t.key, err)
		default:
			return counts, fmt.Errorf("create internal topic %s (%s): %w%s", t.name, t.key, resp.Err, messageSuffix(resp.ErrMessage))
		}
	}
	md, err := cl.admin.Metadata(ctx, names...)
	if err != nil {
		return counts, fmt.Errorf("describe internal topics: %w", err)
	}
	rcs, err := cl.admin.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return counts, fmt.Errorf("describe internal topic configs: %w", err)
	}
	for i, t := range topics {
		td, ok := md.Topics[t.name]
		if !ok || td.Err != nil {
			return counts, fmt.Errorf("internal topic %s (%s) is not available: %v", t.name, t.key, td.Err)
		}
		counts[i] = int32(len(td.Partitions))
		if i == 0 && counts[i] != 1 {
			return counts, fmt.Errorf("topic %s (config.storage.topic) has %d partitions; the config topic must have exactly 1", t.name, counts[i])
		}
		rc, err := rcs.On(t.name, nil)
		if err != nil {
			return counts, fmt.Errorf("describe configs of %s: %w", t.name, err)
		}
		if rc.Err != nil {
			return counts, fmt.Errorf("describe configs of %s: %w", t.name, rc.Err)
		}
		policy := ""
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && c.Value != nil {
				policy = *c.Value
			}
		}
		if !onlyCompact(policy) {
			return counts, fmt.Errorf("%w: topic %s (%s) has cleanup.policy=%s; it must be exactly compact, or the worker would lose data when the broker deletes old segments. Set cleanup.policy=compact on it, or point %s at another topic",
				ErrTopicNotCompacted, t.name, t.key, policy, t.key)
		}
	}
	return counts, nil
}

func onlyCompact(policy string) bool {
	parts := strings.Split(policy, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return slices.Equal(slices.Compact(parts), []string{"compact"})
}

func messageSuffix(m string) string {
	if m == "" {
		return ""
	}
	return ": " + m
}
