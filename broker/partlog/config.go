package partlog

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/sluicedata/sluice/broker/vfs"
)

// Limits on Config values.
const (
	// minSegmentBytes is the smallest segment.bytes accepted: room for the
	// header and a batch header. Kafka's own floor is 14.
	minSegmentBytes = headerSize + 61
	// maxSegmentBytes keeps every position in a segment a uint32, as the
	// index stores it (Kafka's limit is Int.MaxValue too).
	maxSegmentBytes = math.MaxInt32
)

// Validate reports every problem of the configuration at once, each naming
// its field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("partlog: "+format, args...)) }
	if c.CleanupPolicy < PolicyDelete || c.CleanupPolicy > PolicyCompactDelete {
		bad("CleanupPolicy %d is not delete, compact or compact,delete", c.CleanupPolicy)
	}
	if c.SegmentBytes < minSegmentBytes || c.SegmentBytes > maxSegmentBytes {
		bad("SegmentBytes %d is outside [%d, %d]", c.SegmentBytes, minSegmentBytes, maxSegmentBytes)
	}
	if c.SegmentMs <= 0 {
		bad("SegmentMs %v must be positive", c.SegmentMs)
	}
	if c.DeleteRetentionMs < 0 {
		bad("DeleteRetentionMs %v must not be negative", c.DeleteRetentionMs)
	}
	if c.MinCompactionLagMs < 0 {
		bad("MinCompactionLagMs %v must not be negative", c.MinCompactionLagMs)
	}
	if c.MaxMessageBytes <= 0 {
		bad("MaxMessageBytes %d must be positive", c.MaxMessageBytes)
	}
	if c.IndexIntervalBytes < 0 {
		bad("IndexIntervalBytes %d must not be negative", c.IndexIntervalBytes)
	}
	if c.MinCleanableDirtyRatio < 0 || c.MinCleanableDirtyRatio > 1 {
		bad("MinCleanableDirtyRatio %v is outside [0, 1]", c.MinCleanableDirtyRatio)
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.FS == nil {
		o.FS = vfs.OS
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
