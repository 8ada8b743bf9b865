package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/sluicedata/sluice/broker/partlog"
	"github.com/sluicedata/sluice/broker/vfs"
)

// Config configures a Broker. Start from DefaultConfig (a zero Config is not
// valid) and, when loading a file, unmarshal on top of it so that absent
// fields keep their defaults. Each field names the Kafka broker property it
// stands for. Durations are integers in the unit their name ends with, as in
// Kafka's properties.
type Config struct {
	// Listen is the TCP address ListenAndServe binds (Kafka: listeners).
	// Default "127.0.0.1:9092".
	Listen string `json:"listen"`
	// AdvertisedAddr is the host:port handed to clients in Metadata and
	// DescribeCluster (Kafka: advertised.listeners). Default: the address
	// the broker actually listens on, so the real port when Listen ends in
	// ":0". Set it when clients reach the broker through NAT or Docker.
	AdvertisedAddr string `json:"advertised_addr"`
	// DataDir is where partitions and broker metadata live (Kafka:
	// log.dirs, a single directory). Required.
	DataDir string `json:"data_dir"`
	// NodeID is this broker's id (Kafka: node.id / broker.id). Default 0.
	NodeID int32 `json:"node_id"`
	// AutoCreateTopics creates unknown topics on Metadata (when the client
	// allows it) and Produce (Kafka: auto.create.topics.enable). Default
	// true.
	AutoCreateTopics bool `json:"auto_create_topics"`
	// NumPartitions is the partition count of auto-created topics and of
	// CreateTopics asking for -1 (Kafka: num.partitions). Default 1.
	NumPartitions int32 `json:"num_partitions"`
	// DefaultReplicationFactor is the replication factor reported for
	// topics created with -1 (Kafka: default.replication.factor). A single
	// node can only hold one replica, so it must be 1. Default 1.
	DefaultReplicationFactor int16 `json:"default_replication_factor"`
	// OffsetsTopicNumPartitions is the partition count of __consumer_offsets
	// when the broker first creates it (Kafka: offsets.topic.num.partitions,
	// whose default of 50 suits a cluster, not one node). Default 1.
	OffsetsTopicNumPartitions int32 `json:"offsets_topic_num_partitions"`

	// LogSegmentBytes is the default segment.bytes (Kafka:
	// log.segment.bytes). Default 1073741824.
	LogSegmentBytes int64 `json:"log_segment_bytes"`
	// LogRollMs is the default segment.ms (Kafka: log.roll.ms). Default
	// 604800000 (7 days, Kafka's log.roll.hours=168).
	LogRollMs int64 `json:"log_roll_ms"`
	// LogRetentionMs is the default retention.ms (Kafka: log.retention.ms);
	// -1 keeps data forever and 0 means unset: LogRetentionHours applies.
	// Default 0.
	LogRetentionMs int64 `json:"log_retention_ms"`
	// LogRetentionHours is the default retention in hours when
	// LogRetentionMs is 0 (Kafka: log.retention.hours). Default 168.
	LogRetentionHours int64 `json:"log_retention_hours"`
	// LogRetentionBytes is the default retention.bytes per partition; -1
	// means no limit (Kafka: log.retention.bytes). Default -1.
	LogRetentionBytes int64 `json:"log_retention_bytes"`
	// LogCleanupPolicy is the default cleanup.policy: "delete", "compact"
	// or "compact,delete" (Kafka: log.cleanup.policy). Default "delete".
	LogCleanupPolicy string `json:"log_cleanup_policy"`
	// LogCleanerDeleteRetentionMs is the default delete.retention.ms
	// (Kafka: log.cleaner.delete.retention.ms). Default 86400000.
	LogCleanerDeleteRetentionMs int64 `json:"log_cleaner_delete_retention_ms"`
	// LogCleanerMinCompactionLagMs is the default min.compaction.lag.ms
	// (Kafka: log.cleaner.min.compaction.lag.ms). Default 0.
	LogCleanerMinCompactionLagMs int64 `json:"log_cleaner_min_compaction_lag_ms"`
	// LogCleanerMinCleanableRatio is the default min.cleanable.dirty.ratio
	// (Kafka: log.cleaner.min.cleanable.ratio). Default 0.5.
	LogCleanerMinCleanableRatio float64 `json:"log_cleaner_min_cleanable_ratio"`
	// LogIndexIntervalBytes is the default index.interval.bytes (Kafka:
	// log.index.interval.bytes). Default 4096.
	LogIndexIntervalBytes int32 `json:"log_index_interval_bytes"`
	// MessageMaxBytes is the default max.message.bytes, the largest record
	// batch accepted (Kafka: message.max.bytes). Default 1048588.
	MessageMaxBytes int32 `json:"message_max_bytes"`

	// Fsync makes produce acknowledgements with acks=all wait for fsync.
	// false skips fsync entirely (partlog NoSync): data survives a broker
	// crash but not a machine crash. Kafka has no direct equivalent (it
	// leaves fsync to the OS and relies on replication). Default true.
	Fsync bool `json:"fsync"`
	// RetentionCheckIntervalMs is how often retention runs on every
	// partition (Kafka: log.retention.check.interval.ms). Default 300000.
	RetentionCheckIntervalMs int64 `json:"retention_check_interval_ms"`
	// CleanerBackoffMs is how often compacted partitions are cleaned
	// (Kafka: log.cleaner.backoff.ms). Default 15000.
	CleanerBackoffMs int64 `json:"cleaner_backoff_ms"`
	// MaxRequestBytes is the largest request accepted; a larger size
	// prefix closes the connection (Kafka: socket.request.max.bytes).
	// Default 104857600.
	MaxRequestBytes int32 `json:"max_request_bytes"`

	// GroupMinSessionTimeoutMs is the smallest session timeout a consumer
	// group member may ask for (Kafka: group.min.session.timeout.ms).
	// Default 6000.
	GroupMinSessionTimeoutMs int32 `json:"group_min_session_timeout_ms"`
	// GroupMaxSessionTimeoutMs is the largest session timeout a member may
	// ask for (Kafka: group.max.session.timeout.ms). Default 1800000.
	GroupMaxSessionTimeoutMs int32 `json:"group_max_session_timeout_ms"`
	// GroupInitialRebalanceDelayMs is how long the first rebalance of an
	// empty group waits for more members (Kafka:
	// group.initial.rebalance.delay.ms, default 3000 there). Default 0:
	// Sluice runs embedded, where a worker starts in milliseconds and its
	// tasks join together; a 3 s wait would dominate start-up.
	GroupInitialRebalanceDelayMs int32 `json:"group_initial_rebalance_delay_ms"`
	// OffsetsRetentionMinutes is how long committed offsets of an empty
	// group are kept (Kafka: offsets.retention.minutes). Default 10080.
	OffsetsRetentionMinutes int32 `json:"offsets_retention_minutes"`

	// Logger receives the broker's logs. Default: discard.
	Logger *slog.Logger `json:"-"`
	// FS is the filesystem under DataDir. Default vfs.OS.
	FS vfs.FS `json:"-"`
}

// Kafka's defaults, where Sluice's differ or where DescribeConfigs needs
// them.
const (
	kafkaRetentionHours = 168
	defaultMaxRequest   = 104857600
)

// DefaultConfig returns the defaults documented on each Config field.
// DataDir is left empty: it has no sensible default.
func DefaultConfig() Config {
	return Config{
		Listen:                       "127.0.0.1:9092",
		AutoCreateTopics:             true,
		NumPartitions:                1,
		DefaultReplicationFactor:     1,
		OffsetsTopicNumPartitions:    1,
		LogSegmentBytes:              1 << 30,
		LogRollMs:                    7 * 24 * 3600 * 1000,
		LogRetentionMs:               0,
		LogRetentionHours:            kafkaRetentionHours,
		LogRetentionBytes:            -1,
		LogCleanupPolicy:             "delete",
		LogCleanerDeleteRetentionMs:  24 * 3600 * 1000,
		LogCleanerMinCompactionLagMs: 0,
		LogCleanerMinCleanableRatio:  0.5,
		LogIndexIntervalBytes:        4096,
		MessageMaxBytes:              1048588,
		Fsync:                        true,
		RetentionCheckIntervalMs:     300000,
		CleanerBackoffMs:             15000,
		MaxRequestBytes:              defaultMaxRequest,
		GroupMinSessionTimeoutMs:     6000,
		GroupMaxSessionTimeoutMs:     1800000,
		GroupInitialRebalanceDelayMs: 0,
		OffsetsRetentionMinutes:      10080,
	}
}

// Validate reports every problem of c at once, each naming its field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidBrokerConfig, field, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("Listen", "%q is not host:port: %v", c.Listen, err)
	}
	if c.AdvertisedAddr != "" {
		if _, port, err := net.SplitHostPort(c.AdvertisedAddr); err != nil {
			bad("AdvertisedAddr", "%q is not host:port: %v", c.AdvertisedAddr, err)
		} else if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			bad("AdvertisedAddr", "port %q is not a number in 1..65535", port)
		}
	}
	if c.DataDir == "" {
		bad("DataDir", "required")
	}
	if c.NodeID < 0 {
		bad("NodeID", "%d is negative", c.NodeID)
	}
	if c.NumPartitions < 1 {
		bad("NumPartitions", "%d is less than 1", c.NumPartitions)
	}
	if c.DefaultReplicationFactor != 1 {
		bad("DefaultReplicationFactor", "%d: a single broker holds exactly 1 replica", c.DefaultReplicationFactor)
	}
	if c.OffsetsTopicNumPartitions < 1 {
		bad("OffsetsTopicNumPartitions", "%d is less than 1", c.OffsetsTopicNumPartitions)
	}
	if c.LogSegmentBytes < minSegmentBytes || c.LogSegmentBytes > 1<<31-1 {
		bad("LogSegmentBytes", "%d is not in %d..%d", c.LogSegmentBytes, minSegmentBytes, 1<<31-1)
	}
	if c.LogRollMs < 1 {
		bad("LogRollMs", "%d is less than 1", c.LogRollMs)
	}
	if c.LogRetentionMs < -1 {
		bad("LogRetentionMs", "%d is less than -1", c.LogRetentionMs)
	}
	if c.LogRetentionMs == 0 && c.LogRetentionHours < 1 {
		bad("LogRetentionHours", "%d is less than 1 (and LogRetentionMs is unset)", c.LogRetentionHours)
	}
	if c.LogRetentionBytes < -1 {
		bad("LogRetentionBytes", "%d is less than -1", c.LogRetentionBytes)
	}
	if _, err := parsePolicy(c.LogCleanupPolicy); err != nil {
		bad("LogCleanupPolicy", "%q: must be delete, compact or compact,delete", c.LogCleanupPolicy)
	}
	if c.LogCleanerDeleteRetentionMs < 0 {
		bad("LogCleanerDeleteRetentionMs", "%d is negative", c.LogCleanerDeleteRetentionMs)
	}
	if c.LogCleanerMinCompactionLagMs < 0 {
		bad("LogCleanerMinCompactionLagMs", "%d is negative", c.LogCleanerMinCompactionLagMs)
	}
	if c.LogCleanerMinCleanableRatio < 0 || c.LogCleanerMinCleanableRatio > 1 {
		bad("LogCleanerMinCleanableRatio", "%v is not in 0..1", c.LogCleanerMinCleanableRatio)
	}
	if c.LogIndexIntervalBytes < 0 {
		bad("LogIndexIntervalBytes", "%d is negative", c.LogIndexIntervalBytes)
	}
	if c.MessageMaxBytes < 0 {
		bad("MessageMaxBytes", "%d is negative", c.MessageMaxBytes)
	}
	if c.RetentionCheckIntervalMs < 1 {
		bad("RetentionCheckIntervalMs", "%d is less than 1", c.RetentionCheckIntervalMs)
	}
	if c.CleanerBackoffMs < 1 {
		bad("CleanerBackoffMs", "%d is less than 1", c.CleanerBackoffMs)
	}
	if c.MaxRequestBytes < 1 {
		bad("MaxRequestBytes", "%d is less than 1", c.MaxRequestBytes)
	}
	if c.GroupMinSessionTimeoutMs < 1 {
		bad("GroupMinSessionTimeoutMs", "%d is less than 1", c.GroupMinSessionTimeoutMs)
	}
	if c.GroupMaxSessionTimeoutMs < c.GroupMinSessionTimeoutMs {
		bad("GroupMaxSessionTimeoutMs", "%d is less than GroupMinSessionTimeoutMs %d", c.GroupMaxSessionTimeoutMs, c.GroupMinSessionTimeoutMs)
	}
	if c.GroupInitialRebalanceDelayMs < 0 {
		bad("GroupInitialRebalanceDelayMs", "%d is negative", c.GroupInitialRebalanceDelayMs)
	}
	if c.OffsetsRetentionMinutes < 1 {
		bad("OffsetsRetentionMinutes", "%d is less than 1", c.OffsetsRetentionMinutes)
	}
	return errors.Join(errs...)
}

// retentionMs is the effective default retention.ms.
func (c *Config) retentionMs() int64 {
	if c.LogRetentionMs != 0 {
		return c.LogRetentionMs
	}
	return c.LogRetentionHours * 3600 * 1000
}

// ms converts Kafka milliseconds to a Duration, keeping negatives (which
// mean "no limit") negative and saturating instead of overflowing.
func ms(v int64) time.Duration {
	const maxMs = int64(1<<63-1) / int64(time.Millisecond)
	switch {
	case v > maxMs:
		return time.Duration(1<<63 - 1)
	case v < -maxMs:
		return time.Duration(-1 << 63)
	}
	return time.Duration(v) * time.Millisecond
}

// parsePolicy parses a cleanup.policy value: a comma-separated list of
// "delete" and "compact".
func parsePolicy(s string) (partlog.Policy, error) {
	var del, compact bool
	for _, p := range splitList(s) {
		switch p {
		case "delete":
			del = true
		case "compact":
			compact = true
		default:
			return 0, fmt.Errorf("unknown policy %q", p)
		}
	}
	switch {
	case del && compact:
		return partlog.PolicyCompactDelete, nil
	case compact:
		return partlog.PolicyCompact, nil
	case del:
		return partlog.PolicyDelete, nil
	}
	return 0, errors.New("empty policy")
}
