package group

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Config configures a Coordinator. The zero value of every field except
// Store selects the default written next to it; the Kafka broker property
// each field mirrors is named in its comment.
type Config struct {
	// Logger receives lifecycle events (generations completed, members
	// expired, store failures that no client is told about). Default
	// discards.
	Logger *slog.Logger

	// Store persists __consumer_offsets records. Required.
	Store Store

	// Now is the clock. Default time.Now. Timers still run on the runtime
	// clock: Now only decides what has expired when they fire.
	Now func() time.Time

	// MinSessionTimeout is group.min.session.timeout.ms: a JoinGroup with a
	// shorter session timeout fails with INVALID_SESSION_TIMEOUT.
	// Default 6s.
	MinSessionTimeout time.Duration

	// MaxSessionTimeout is group.max.session.timeout.ms. Default 30m.
	MaxSessionTimeout time.Duration

	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: how long
	// the first rebalance of an empty group waits for more members, each
	// new member extending the wait by the same delay up to the rebalance
	// timeout. Default 0 (Kafka's is 3s): Sluice favours millisecond
	// start-up of single-member groups.
	InitialRebalanceDelay time.Duration

	// OffsetsRetention is offsets.retention.minutes: committed offsets of a
	// group without members expire this long after the later of the
	// group becoming empty and their commit. Default 7 days.
	OffsetsRetention time.Duration

	// OffsetsRetentionCheckInterval is
	// offsets.retention.check.interval.ms: how often expired offsets, and
	// empty groups left without offsets, are removed. Default 10m.
	OffsetsRetentionCheckInterval time.Duration

	// MaxOffsetMetadataBytes is offset.metadata.max.bytes: a commit whose
	// metadata string is longer fails for that partition with
	// OFFSET_METADATA_TOO_LARGE. Default 4096.
	MaxOffsetMetadataBytes int
}

// Defaults, as named in Config.
const (
	DefaultMinSessionTimeout             = 6 * time.Second
	DefaultMaxSessionTimeout             = 30 * time.Minute
	DefaultOffsetsRetention              = 7 * 24 * time.Hour
	DefaultOffsetsRetentionCheckInterval = 10 * time.Minute
	DefaultMaxOffsetMetadataBytes        = 4096
)

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MinSessionTimeout == 0 {
		cfg.MinSessionTimeout = DefaultMinSessionTimeout
	}
	if cfg.MaxSessionTimeout == 0 {
		cfg.MaxSessionTimeout = DefaultMaxSessionTimeout
	}
	if cfg.OffsetsRetention == 0 {
		cfg.OffsetsRetention = DefaultOffsetsRetention
	}
	if cfg.OffsetsRetentionCheckInterval == 0 {
		cfg.OffsetsRetentionCheckInterval = DefaultOffsetsRetentionCheckInterval
	}
	if cfg.MaxOffsetMetadataBytes == 0 {
		cfg.MaxOffsetMetadataBytes = DefaultMaxOffsetMetadataBytes
	}
	return cfg
}

// Validate reports every problem with cfg at once. Zero fields are valid:
// they select defaults.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}
	if cfg.Store == nil {
		bad("Store", "required")
	}
	if cfg.MinSessionTimeout < 0 {
		bad("MinSessionTimeout", "negative (%v)", cfg.MinSessionTimeout)
	}
	if cfg.MaxSessionTimeout < 0 {
		bad("MaxSessionTimeout", "negative (%v)", cfg.MaxSessionTimeout)
	}
	if d := cfg.withDefaults(); d.MinSessionTimeout > d.MaxSessionTimeout {
		bad("MinSessionTimeout", "%v above MaxSessionTimeout %v", d.MinSessionTimeout, d.MaxSessionTimeout)
	}
	if cfg.InitialRebalanceDelay < 0 {
		bad("InitialRebalanceDelay", "negative (%v)", cfg.InitialRebalanceDelay)
	}
	if cfg.OffsetsRetention < 0 {
		bad("OffsetsRetention", "negative (%v)", cfg.OffsetsRetention)
	}
	if cfg.OffsetsRetentionCheckInterval < 0 {
		bad("OffsetsRetentionCheckInterval", "negative (%v)", cfg.OffsetsRetentionCheckInterval)
	}
	if cfg.MaxOffsetMetadataBytes < 0 {
		bad("MaxOffsetMetadataBytes", "negative (%d)", cfg.MaxOffsetMetadataBytes)
	}
	return errors.Join(errs...)
}
