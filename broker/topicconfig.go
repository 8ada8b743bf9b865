package broker

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/partlog"
)

// minSegmentBytes is the smallest segment.bytes accepted: partlog's floor,
// room for its segment header (8 bytes) and one batch header (61). Kafka
// 3.x accepted 14, Kafka 4.0 raised the floor to 1 MiB and kept small values
// behind an internal property; Sluice keeps them usable for tests and small
// embedded logs.
const minSegmentBytes = 8 + 61

// topicConfig describes one Kafka topic config: its type, Kafka's default,
// the broker property that supplies the default (its synonym), and how its
// values are checked.
type topicConfig struct {
	name string
	typ  kmsg.ConfigType
	// def is Kafka's default value.
	def string
	// synonym is the broker property the default comes from, "" if none.
	synonym string
	// check validates a value that parsed as typ; nil accepts any.
	check func(v string) string
	// applied reports whether Sluice acts on the config; the others are
	// stored and described for compatibility only.
	applied bool
	doc     string
}

const maxLong = "9223372036854775807"

// topicConfigs is every topic config of Kafka 4.x, sorted by name at init.
var topicConfigs = []topicConfig{
	{name: "cleanup.policy", typ: kmsg.ConfigTypeList, def: "delete", synonym: "log.cleanup.policy", check: oneOfList("compact", "delete"), applied: true,
		doc: "How old log segments are cleaned: delete by retention, compact by key, or both."},
	{name: "compression.type", typ: kmsg.ConfigTypeString, def: "producer", synonym: "compression.type", check: oneOf("producer"), applied: true,
		doc: "Sluice stores batches as the producer compressed them: only producer is accepted."},
	{name: "compression.gzip.level", typ: kmsg.ConfigTypeInt, def: "-1", synonym: "compression.gzip.level", check: gzipLevel,
		doc: "Gzip level for broker-side recompression (unused: Sluice never recompresses)."},
	{name: "compression.lz4.level", typ: kmsg.ConfigTypeInt, def: "9", synonym: "compression.lz4.level", check: between(1, 17),
		doc: "LZ4 level for broker-side recompression (unused: Sluice never recompresses)."},
	{name: "compression.zstd.level", typ: kmsg.ConfigTypeInt, def: "3", synonym: "compression.zstd.level", check: between(-131072, 22),
		doc: "Zstd level for broker-side recompression (unused: Sluice never recompresses)."},
	{name: "delete.retention.ms", typ: kmsg.ConfigTypeLong, def: "86400000", synonym: "log.cleaner.delete.retention.ms", check: atLeast(0), applied: true,
		doc: "How long compaction keeps tombstones."},
	{name: "file.delete.delay.ms", typ: kmsg.ConfigTypeLong, def: "60000", synonym: "log.segment.delete.delay.ms", check: atLeast(0),
		doc: "Delay before a deleted segment's file is removed (Sluice removes at once)."},
	{name: "flush.messages", typ: kmsg.ConfigTypeLong, def: maxLong, synonym: "log.flush.interval.messages", check: atLeast(1),
		doc: "Messages between forced flushes (Sluice syncs per produce round instead)."},
	{name: "flush.ms", typ: kmsg.ConfigTypeLong, def: maxLong, synonym: "log.flush.interval.ms", check: atLeast(0),
		doc: "Time between forced flushes (Sluice syncs per produce round instead)."},
	{name: "follower.replication.throttled.replicas", typ: kmsg.ConfigTypeList, def: "", synonym: "follower.replication.throttled.replicas", check: throttledReplicas,
		doc: "Replicas throttled on the follower side (no replication in Sluice)."},
	{name: "index.interval.bytes", typ: kmsg.ConfigTypeInt, def: "4096", synonym: "log.index.interval.bytes", check: atLeast(0), applied: true,
		doc: "Bytes of log between two offset index entries."},
	{name: "leader.replication.throttled.replicas", typ: kmsg.ConfigTypeList, def: "", synonym: "leader.replication.throttled.replicas", check: throttledReplicas,
		doc: "Replicas throttled on the leader side (no replication in Sluice)."},
	{name: "local.retention.bytes", typ: kmsg.ConfigTypeLong, def: "-2", synonym: "log.local.retention.bytes", check: atLeast(-2),
		doc: "Local retention in bytes under tiered storage (not supported by Sluice)."},
	{name: "local.retention.ms", typ: kmsg.ConfigTypeLong, def: "-2", synonym: "log.local.retention.ms", check: atLeast(-2),
		doc: "Local retention in time under tiered storage (not supported by Sluice)."},
	{name: "max.compaction.lag.ms", typ: kmsg.ConfigTypeLong, def: maxLong, synonym: "log.cleaner.max.compaction.lag.ms", check: atLeast(1),
		doc: "Longest time a record stays uncompacted."},
	{name: "max.message.bytes", typ: kmsg.ConfigTypeInt, def: "1048588", synonym: "message.max.bytes", check: atLeast(0), applied: true,
		doc: "Largest record batch accepted."},
	{name: "message.timestamp.after.max.ms", typ: kmsg.ConfigTypeLong, def: maxLong, synonym: "log.message.timestamp.after.max.ms", check: atLeast(0), applied: true,
		doc: "How far in the future a CreateTime timestamp may be."},
	{name: "message.timestamp.before.max.ms", typ: kmsg.ConfigTypeLong, def: maxLong, synonym: "log.message.timestamp.before.max.ms", check: atLeast(0), applied: true,
		doc: "How far in the past a CreateTime timestamp may be."},
	{name: "message.timestamp.type", typ: kmsg.ConfigTypeString, def: "CreateTime", synonym: "log.message.timestamp.type", check: oneOf("CreateTime", "LogAppendTime"), applied: true,
		doc: "Whether record timestamps are the producer's (CreateTime) or the broker's (LogAppendTime)."},
	{name: "min.cleanable.dirty.ratio", typ: kmsg.ConfigTypeDouble, def: "0.5", synonym: "log.cleaner.min.cleanable.ratio", check: betweenFloat(0, 1), applied: true,
		doc: "Dirty fraction of the log above which compaction runs."},
	{name: "min.compaction.lag.ms", typ: kmsg.ConfigTypeLong, def: "0", synonym: "log.cleaner.min.compaction.lag.ms", check: atLeast(0), applied: true,
		doc: "Records younger than this are not compacted."},
	{name: "min.insync.replicas", typ: kmsg.ConfigTypeInt, def: "1", synonym: "min.insync.replicas", check: atLeast(1), applied: true,
		doc: "Replicas that must acknowledge an acks=all write; above 1 such writes fail with NOT_ENOUGH_REPLICAS on one node."},
	{name: "preallocate", typ: kmsg.ConfigTypeBoolean, def: "false", synonym: "log.preallocate",
		doc: "Preallocate segment files (ignored)."},
	{name: "remote.log.copy.disable", typ: kmsg.ConfigTypeBoolean, def: "false",
		doc: "Tiered storage: stop copying to remote storage (not supported)."},
	{name: "remote.log.delete.on.disable", typ: kmsg.ConfigTypeBoolean, def: "false",
		doc: "Tiered storage: delete remote data when disabled (not supported)."},
	{name: "remote.storage.enable", typ: kmsg.ConfigTypeBoolean, def: "false", check: oneOf("false"),
		doc: "Tiered storage is not supported: only false is accepted."},
	{name: "retention.bytes", typ: kmsg.ConfigTypeLong, def: "-1", synonym: "log.retention.bytes", check: atLeast(-1), applied: true,
		doc: "Largest size a partition's log may grow to before old segments are deleted; -1 is unlimited."},
	{name: "retention.ms", typ: kmsg.ConfigTypeLong, def: "604800000", synonym: "log.retention.ms", check: atLeast(-1), applied: true,
		doc: "How long data is kept before old segments are deleted; -1 is forever."},
	{name: "segment.bytes", typ: kmsg.ConfigTypeInt, def: "1073741824", synonym: "log.segment.bytes", check: atLeast(minSegmentBytes), applied: true,
		doc: "Size at which the active segment rolls."},
	{name: "segment.index.bytes", typ: kmsg.ConfigTypeInt, def: "10485760", synonym: "log.index.size.max.bytes", check: atLeast(4),
		doc: "Maximum size of an offset index file."},
	{name: "segment.jitter.ms", typ: kmsg.ConfigTypeLong, def: "0", synonym: "log.roll.jitter.ms", check: atLeast(0),
		doc: "Random jitter subtracted from segment.ms (ignored)."},
	{name: "segment.ms", typ: kmsg.ConfigTypeLong, def: "604800000", synonym: "log.roll.ms", check: atLeast(1), applied: true,
		doc: "Age at which the active segment rolls."},
	{name: "unclean.leader.election.enable", typ: kmsg.ConfigTypeBoolean, def: "false", synonym: "unclean.leader.election.enable",
		doc: "Allow out-of-sync replicas to become leader (no replication in Sluice)."},
}

func init() {
	slices.SortFunc(topicConfigs, func(a, b topicConfig) int { return strings.Compare(a.name, b.name) })
}

// lookupTopicConfig finds a topic config by name.
func lookupTopicConfig(name string) (*topicConfig, bool) {
	i, ok := slices.BinarySearchFunc(topicConfigs, name, func(c topicConfig, n string) int { return strings.Compare(c.name, n) })
	if !ok {
		return nil, false
	}
	return &topicConfigs[i], true
}

// validateTopicConfig checks one name=value pair like Kafka's
// LogConfig.validate, returning an ErrInvalidConfig with Kafka's message.
func validateTopicConfig(name string, value *string) error {
	tc, ok := lookupTopicConfig(name)
	if !ok {
		return errorf(ErrInvalidConfig, "Unknown topic config name: %s", name)
	}
	if value == nil {
		return errorf(ErrInvalidConfig, "Null value not supported for topic configs: %s", name)
	}
	v := strings.TrimSpace(*value)
	invalid := func(reason string) error {
		return errorf(ErrInvalidConfig, "Invalid value %s for configuration %s: %s", *value, name, reason)
	}
	switch tc.typ {
	case kmsg.ConfigTypeInt:
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			return invalid("Not a number of type INT")
		}
	case kmsg.ConfigTypeLong:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return invalid("Not a number of type LONG")
		}
	case kmsg.ConfigTypeDouble:
		if f, err := strconv.ParseFloat(v, 64); err != nil || math.IsNaN(f) {
			return invalid("Not a number of type DOUBLE")
		}
	case kmsg.ConfigTypeBoolean:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return invalid("Expected value to be either true or false")
		}
	}
	if tc.check != nil {
		if reason := tc.check(v); reason != "" {
			return invalid(reason)
		}
	}
	return nil
}

// normalizeConfigValue is the stored form of a valid value: trimmed, and
// booleans and lists canonicalised the way Kafka prints them.
func normalizeConfigValue(name, v string) string {
	v = strings.TrimSpace(v)
	tc, ok := lookupTopicConfig(name)
	if !ok {
		return v
	}
	switch tc.typ {
	case kmsg.ConfigTypeBoolean:
		return strings.ToLower(v)
	case kmsg.ConfigTypeList:
		return strings.Join(splitList(v), ",")
	}
	return v
}

func atLeast(min int64) func(string) string {
	return func(v string) string {
		n, _ := strconv.ParseInt(v, 10, 64)
		if n < min {
			return fmt.Sprintf("Value must be at least %d", min)
		}
		return ""
	}
}

func between(min, max int64) func(string) string {
	return func(v string) string {
		n, _ := strconv.ParseInt(v, 10, 64)
		if n < min {
			return fmt.Sprintf("Value must be at least %d", min)
		}
		if n > max {
			return fmt.Sprintf("Value must be no more than %d", max)
		}
		return ""
	}
}

func betweenFloat(min, max float64) func(string) string {
	return func(v string) string {
		f, _ := strconv.ParseFloat(v, 64)
		if f < min {
			return fmt.Sprintf("Value must be at least %v", min)
		}
		if f > max {
			return fmt.Sprintf("Value must be no more than %v", max)
		}
		return ""
	}
}

func gzipLevel(v string) string {
	n, _ := strconv.ParseInt(v, 10, 64)
	if n == -1 || (n >= 1 && n <= 9) {
		return ""
	}
	return "Value must be between 1 and 9, or -1"
}

func oneOf(valid ...string) func(string) string {
	return func(v string) string {
		if slices.Contains(valid, v) {
			return ""
		}
		return "String must be one of: " + strings.Join(valid, ", ")
	}
}

func oneOfList(valid ...string) func(string) string {
	return func(v string) string {
		items := splitList(v)
		if len(items) == 0 {
			return "List must contain at least one of: " + strings.Join(valid, ", ")
		}
		for _, it := range items {
			if !slices.Contains(valid, it) {
				return "String must be one of: " + strings.Join(valid, ", ")
			}
		}
		return ""
	}
}

// throttledReplicas accepts Kafka's syntax: "", "*", or a list of
// partition:broker pairs.
func throttledReplicas(v string) string {
	if v == "" || v == "*" {
		return ""
	}
	for _, p := range splitList(v) {
		a, b, ok := strings.Cut(p, ":")
		if _, err := strconv.Atoi(strings.TrimSpace(a)); !ok || err != nil {
			return "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
		}
		if _, err := strconv.Atoi(strings.TrimSpace(b)); err != nil {
			return "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
		}
	}
	return ""
}

// splitList splits a comma-separated config list, trimming items and
// dropping empty ones.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// brokerDefault is the broker-level value a topic config falls back to: the
// broker Config's value of the synonym, and whether the operator changed it
// from Kafka's default (then DescribeConfigs reports STATIC_BROKER_CONFIG).
func (c *Config) brokerDefault(tc *topicConfig) (value string, static bool) {
	v := tc.def
	switch tc.name {
	case "cleanup.policy":
		v = strings.Join(splitList(c.LogCleanupPolicy), ",")
	case "delete.retention.ms":
		v = strconv.FormatInt(c.LogCleanerDeleteRetentionMs, 10)
	case "index.interval.bytes":
		v = strconv.FormatInt(int64(c.LogIndexIntervalBytes), 10)
	case "max.message.bytes":
		v = strconv.FormatInt(int64(c.MessageMaxBytes), 10)
	case "min.cleanable.dirty.ratio":
		v = strconv.FormatFloat(c.LogCleanerMinCleanableRatio, 'g', -1, 64)
	case "min.compaction.lag.ms":
		v = strconv.FormatInt(c.LogCleanerMinCompactionLagMs, 10)
	case "retention.bytes":
		v = strconv.FormatInt(c.LogRetentionBytes, 10)
	case "retention.ms":
		v = strconv.FormatInt(c.retentionMs(), 10)
	case "segment.bytes":
		v = strconv.FormatInt(c.LogSegmentBytes, 10)
	case "segment.ms":
		v = strconv.FormatInt(c.LogRollMs, 10)
	}
	return v, v != tc.def
}

// effectiveConfig returns the value of every topic config for a topic with
// the given overrides.
func (c *Config) effectiveConfig(overrides map[string]string, name string) string {
	if v, ok := overrides[name]; ok {
		return v
	}
	tc, ok := lookupTopicConfig(name)
	if !ok {
		return ""
	}
	v, _ := c.brokerDefault(tc)
	return v
}

// logConfig builds the partlog configuration of a topic with the given
// overrides (already validated).
func (c *Config) logConfig(overrides map[string]string) partlog.Config {
	get := func(name string) string { return c.effectiveConfig(overrides, name) }
	i64 := func(name string) int64 { n, _ := strconv.ParseInt(get(name), 10, 64); return n }
	lc := partlog.DefaultConfig()
	if p, err := parsePolicy(get("cleanup.policy")); err == nil {
		lc.CleanupPolicy = p
	}
	lc.SegmentBytes = i64("segment.bytes")
	lc.SegmentMs = ms(i64("segment.ms"))
	lc.RetentionMs = ms(i64("retention.ms"))
	lc.RetentionBytes = i64("retention.bytes")
	lc.DeleteRetentionMs = ms(i64("delete.retention.ms"))
	lc.MinCompactionLagMs = ms(i64("min.compaction.lag.ms"))
	// Kafka accepts max.message.bytes=0 (nothing fits); partlog wants a
	// positive limit that behaves the same.
	lc.MaxMessageBytes = int(max(i64("max.message.bytes"), 1))
	lc.IndexIntervalBytes = int(i64("index.interval.bytes"))
	lc.MinCleanableDirtyRatio, _ = strconv.ParseFloat(get("min.cleanable.dirty.ratio"), 64)
	return lc
}

// produceConfig is what the produce path needs from a topic's configs,
// parsed once per config change.
type produceConfig struct {
	logAppendTime     bool
	timestampAfterMs  int64
	timestampBeforeMs int64
	minInsyncReplicas int64
	maxMessageBytes   int64
}

func (c *Config) produceConfig(overrides map[string]string) produceConfig {
	get := func(name string) string { return c.effectiveConfig(overrides, name) }
	i64 := func(name string) int64 { n, _ := strconv.ParseInt(get(name), 10, 64); return n }
	return produceConfig{
		logAppendTime:     get("message.timestamp.type") == "LogAppendTime",
		timestampAfterMs:  i64("message.timestamp.after.max.ms"),
		timestampBeforeMs: i64("message.timestamp.before.max.ms"),
		minInsyncReplicas: i64("min.insync.replicas"),
		maxMessageBytes:   i64("max.message.bytes"),
	}
}
