// Package partlog is the on-disk log of one topic partition: segments of
// record batches stored as producers sent them, with sparse offset and time
// indexes, recovery, retention, compaction and idempotent-producer state.
//
// THIS FILE IS THE CONTRACT the broker codes against; the storage
// implementation replaces the stub bodies. See doc.go for the format.
package partlog

import (
	"errors"
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
}

// Sentinel errors.
var (
	ErrOffsetOutOfRange = errors.New("partlog: offset out of range")
	ErrMessageTooLarge  = errors.New("partlog: batch larger than max.message.bytes")
	ErrClosed           = errors.New("partlog: log closed")
	// ErrDuplicateSequence: the batch was appended before; AppendResult.Base
	// holds the offset it got then and the caller answers success.
	ErrDuplicateSequence  = errors.New("partlog: duplicate sequence")
	ErrOutOfOrderSequence = errors.New("partlog: out of order sequence number")
	ErrInvalidEpoch       = errors.New("partlog: producer epoch is stale")
	// ErrCorrupt marks storage that failed a check (wrapped, with detail).
	ErrCorrupt = errors.New("partlog: corrupt storage")
)

// AppendResult is where an appended batch went.
type AppendResult struct {
	Base           int64 // offset of the first record
	LogStartOffset int64
}

// Log is one partition's log. All methods are safe for concurrent use.
type Log struct{}

// Open opens (creating if needed) the log in dir and recovers it: a torn or
// corrupt tail of the active segment is truncated, missing or damaged
// indexes are rebuilt, half-done compactions are rolled forward or back, and
// producer state is rebuilt.
func Open(dir string, cfg Config, opts Options) (*Log, error) { panic("partlog: not implemented") }

// Append validates one producer batch (magic 2, CRC, max.message.bytes,
// idempotence sequence), sets its base offset and leader epoch in place and
// writes it to the active segment, rolling first if needed. The data is not
// yet durable nor visible to Read: call Sync (usually through a Syncer).
func (l *Log) Append(b []byte) (AppendResult, error) { panic("partlog: not implemented") }

// Sync fsyncs what was appended and advances the high watermark to it.
func (l *Log) Sync() error { panic("partlog: not implemented") }

// Read returns whole batches starting with the one that holds offset, up to
// maxBytes (but always at least one batch if any is below the high
// watermark, KIP-74), appended to dst. Reading at the high watermark returns
// dst unchanged; outside [StartOffset, HighWatermark] it returns
// ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int, dst []byte) ([]byte, error) {
	panic("partlog: not implemented")
}

// StartOffset is the log start offset.
func (l *Log) StartOffset() int64 { panic("partlog: not implemented") }

// HighWatermark is the offset after the last durable (synced) record: what
// consumers may read.
func (l *Log) HighWatermark() int64 { panic("partlog: not implemented") }

// EndOffset is the offset the next appended record will get.
func (l *Log) EndOffset() int64 { panic("partlog: not implemented") }

// Watch returns a channel closed when the high watermark next advances (or
// the log closes).
func (l *Log) Watch() <-chan struct{} { panic("partlog: not implemented") }

// OffsetForTime returns the first offset whose record timestamp is >= ts,
// and that timestamp; ok is false when no record is that late.
func (l *Log) OffsetForTime(ts int64) (offset, timestamp int64, ok bool) {
	panic("partlog: not implemented")
}

// MaxTimestamp returns the largest record timestamp and the offset of the
// record that has it (ListOffsets -3); ok false for an empty log.
func (l *Log) MaxTimestamp() (timestamp, offset int64, ok bool) { panic("partlog: not implemented") }

// Size is the bytes of log data on disk.
func (l *Log) Size() int64 { panic("partlog: not implemented") }

// SetConfig changes the configuration (AlterConfigs); it applies from the
// next append, roll, retention or compaction.
func (l *Log) SetConfig(cfg Config) { panic("partlog: not implemented") }

// Clean runs retention and, for compacted topics, compaction, as the
// configuration asks; the broker calls it periodically. It returns how many
// bytes it freed.
func (l *Log) Clean() (int64, error) { panic("partlog: not implemented") }

// Close flushes and closes the log, marking it cleanly shut down.
func (l *Log) Close() error { panic("partlog: not implemented") }

// Delete closes the log and removes its directory.
func (l *Log) Delete() error { panic("partlog: not implemented") }

// Syncer group-commits fsyncs: concurrent callers of Sync share fsync rounds
// across logs, so acks=all durability does not cost throughput.
type Syncer struct{}

// NewSyncer starts a Syncer.
func NewSyncer() *Syncer { panic("partlog: not implemented") }

// Sync returns once every given log has been synced by a round that began
// after the call, or with the first error.
func (s *Syncer) Sync(logs ...*Log) error { panic("partlog: not implemented") }

// Async is Sync without blocking: the channel receives one value (nil or
// the first error) when the round that covers the logs is done.
func (s *Syncer) Async(logs ...*Log) <-chan error { panic("partlog: not implemented") }

// Close stops the Syncer.
func (s *Syncer) Close() { panic("partlog: not implemented") }
