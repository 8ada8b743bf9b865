package partlog

// This file, errors.go and the exported methods of Log (log.go, append.go,
// sync.go, read.go, timestamp.go, retention.go) and Syncer (syncer.go) are
// the contract the broker codes against. See doc.go for the model and the
// on-disk format.

import (
	"log/slog"
	"time"

	"github.com/sluicedata/sluice/broker/vfs"
)

// Policy is a topic's cleanup.policy.
type Policy int8

const (
	PolicyDelete        Policy = iota + 1 // "delete"
	PolicyCompact                         // "compact"
	PolicyCompactDelete                   // "compact,delete" (either order)
)

// Config is a partition's storage configuration: the Kafka topic configs of
// the same names. Zero values are not defaults: start from DefaultConfig.
type Config struct {
	// CleanupPolicy is cleanup.policy. Default delete.
	CleanupPolicy Policy
	// SegmentBytes is segment.bytes: the active segment rolls when it would
	// grow past it. Default 1 GiB.
	SegmentBytes int64
	// SegmentMs is segment.ms: the active segment rolls when its first batch
	// is older than this. Default 7 days.
	SegmentMs time.Duration
	// RetentionMs is retention.ms; negative means keep forever. Default 7 days.
	RetentionMs time.Duration
	// RetentionBytes is retention.bytes; negative means no limit. Default -1.
	RetentionBytes int64
	// DeleteRetentionMs is delete.retention.ms: how long compaction keeps a
	// tombstone after it has compacted the rest of its key. Default 1 day.
	DeleteRetentionMs time.Duration
	// MinCompactionLagMs is min.compaction.lag.ms: records younger than this
	// are not compacted. Default 0.
	MinCompactionLagMs time.Duration
	// MaxMessageBytes is max.message.bytes: the largest batch accepted.
	// Default 1048588.
	MaxMessageBytes int
	// IndexIntervalBytes is index.interval.bytes: bytes of log between two
	// entries of the sparse indexes. Default 4096.
	IndexIntervalBytes int
	// MinCleanableDirtyRatio is min.cleanable.dirty.ratio. Default 0.5.
	MinCleanableDirtyRatio float64
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		CleanupPolicy:          PolicyDelete,
		SegmentBytes:           1 << 30,
		SegmentMs:              7 * 24 * time.Hour,
		RetentionMs:            7 * 24 * time.Hour,
		RetentionBytes:         -1,
		DeleteRetentionMs:      24 * time.Hour,
		MinCompactionLagMs:     0,
		MaxMessageBytes:        1048588,
		IndexIntervalBytes:     4096,
		MinCleanableDirtyRatio: 0.5,
	}
}

// Options are how a Log is opened, beside its Config.
type Options struct {
	FS     vfs.FS       // default vfs.OS
	Logger *slog.Logger // default discards
	// NoSync makes Sync publish without fsync (tests, or a broker run with
	// durability off). Default false.
	NoSync bool
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// LeaderEpoch is written into every appended batch's
	// partitionLeaderEpoch field. Default 0 (a single broker that is always
	// the leader).
	LeaderEpoch int32
}

// AppendResult is where an appended batch went.
type AppendResult struct {
	Base           int64 // offset of the first record
	LogStartOffset int64
}
