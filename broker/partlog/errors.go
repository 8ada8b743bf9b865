package partlog

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of these (and,
// for I/O failures, the cause as well), so callers use errors.Is.
var (
	// ErrOffsetOutOfRange: the offset is below StartOffset or above the
	// high watermark (Kafka OFFSET_OUT_OF_RANGE).
	ErrOffsetOutOfRange = errors.New("partlog: offset out of range")
	// ErrMessageTooLarge: the batch is larger than max.message.bytes
	// (Kafka MESSAGE_TOO_LARGE).
	ErrMessageTooLarge = errors.New("partlog: batch larger than max.message.bytes")
	// ErrClosed: the log (or the Syncer) was closed.
	ErrClosed = errors.New("partlog: log closed")
	// ErrDuplicateSequence: the batch was appended before; AppendResult.Base
	// holds the offset it got then and the caller answers success.
	ErrDuplicateSequence = errors.New("partlog: duplicate sequence")
	// ErrOutOfOrderSequence: the batch's first sequence does not follow the
	// producer's last one (Kafka OUT_OF_ORDER_SEQUENCE_NUMBER).
	ErrOutOfOrderSequence = errors.New("partlog: out of order sequence number")
	// ErrInvalidEpoch: the producer's epoch is older than one already seen
	// (Kafka INVALID_PRODUCER_EPOCH).
	ErrInvalidEpoch = errors.New("partlog: producer epoch is stale")
	// ErrCorrupt marks storage that failed a check (wrapped, with detail).
	ErrCorrupt = errors.New("partlog: corrupt storage")
	// ErrInvalidBatch: Append was given something that is not one valid
	// producer batch: bad framing, magic, CRC or codec (it then also wraps
	// batch.ErrCorrupt or batch.ErrUnsupportedCodec, Kafka CORRUPT_MESSAGE),
	// or a control batch (Kafka INVALID_RECORD).
	ErrInvalidBatch = errors.New("partlog: invalid batch")
	// ErrStorage marks a failed filesystem operation (disk full, I/O
	// error); the cause is wrapped too. The broker answers
	// KAFKA_STORAGE_ERROR.
	ErrStorage = errors.New("partlog: storage error")
	// ErrLogFailed: an fsync failed, so what the kernel holds for the log
	// can no longer be trusted (its dirty pages may have been dropped).
	// The log refuses appends and syncs until it is reopened, which
	// recovers it from what is on disk. Also wraps ErrStorage.
	ErrLogFailed = errors.New("partlog: log failed, reopen to recover")
)

// storageErr wraps an I/O failure with ErrStorage, what was being done and
// the cause.
func storageErr(cause error, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %w", ErrStorage, fmt.Sprintf(format, args...), cause)
}

// corruptErr reports a failed check of stored data.
func corruptErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
