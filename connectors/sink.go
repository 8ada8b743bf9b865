package connectors

import (
	"context"
	"log/slog"
)

// Sink is a sink task (Kafka's SinkTask): it receives records consumed
// from Kafka and writes them to an external system.
//
// Call order: Open → (Put | Flush | OpenPartitions | ClosePartitions)* →
// Close, all from one goroutine, so a sink needs no locking for its own
// state. After Open succeeds, Close is always called exactly once.
//
// Delivery is at least once. The runtime consumes as consumer group
// connect-<connector>, calls Put with batches, and periodically
// (offset.flush.interval.ms), before partitions are revoked, and on
// shutdown calls Flush with the offsets of everything delivered so far.
// It commits to Kafka exactly the offsets Flush returns. After a crash or
// a rebalance, records after the last committed offset are delivered
// again, so writes should be idempotent (upserts by key, deterministic
// object names).
//
// Stopping: the runtime cancels the ctx of any Put in progress and waits
// for it, calls Flush and commits its result, then calls Close.
type Sink interface {
	// Open starts the task with its task config (which includes topics or
	// topics.regex). ctx bounds Open only. An error fails the task
	// (ErrRetriable: retried after a backoff), and Close is not called.
	Open(ctx context.Context, sc SinkContext, config map[string]string) error

	// Put delivers a batch of records, in offset order per partition. It
	// may write them synchronously or buffer them for Flush. When ctx is
	// done Put should return promptly. The batch and its records must not
	// be modified or kept beyond what the task itself needs. Errors:
	// ErrRetriable → the same batch is passed to Put again after a backoff
	// (consumption is paused meanwhile); any other error fails the task.
	// Per-record failures that should go to the dead letter queue are
	// reported with SinkContext.Errant instead.
	Put(ctx context.Context, records []Record) error

	// Flush makes delivered records durable and says what may be committed
	// (Kafka's flush and preCommit in one). offsets holds, for each
	// assigned partition, the offset after the last record given to Put
	// (the next offset to consume, as Kafka commits). Flush returns the
	// offsets safe to commit: offsets itself when everything is durable, a
	// lower offset or a missing partition to hold back (a sink that
	// buffers into files returns the start of its oldest open file). A nil
	// map commits nothing. ErrRetriable: nothing is committed this round.
	// Any other error fails the task.
	Flush(ctx context.Context, offsets map[TopicPartition]int64) (map[TopicPartition]int64, error)

	// Close releases the task's resources. ctx carries the shutdown
	// deadline.
	Close(ctx context.Context) error
}

// PartitionOpener is an optional Sink capability: the task hears about
// partitions newly assigned to it (Kafka's SinkTask.open), before any of
// their records reach Put.
type PartitionOpener interface {
	OpenPartitions(ctx context.Context, partitions []TopicPartition) error
}

// PartitionCloser is an optional Sink capability: the task hears about
// partitions taken away from it by a rebalance or at shutdown (Kafka's
// SinkTask.close), after the final Flush for them, so it can drop their
// buffers and writers.
type PartitionCloser interface {
	ClosePartitions(ctx context.Context, partitions []TopicPartition) error
}

// SinkContext is what the runtime gives a sink task when it opens.
type SinkContext struct {
	// Connector and Task identify the task.
	Connector string
	Task      int
	// Logger is scoped to the task (component, connector, task set).
	// Never nil when built by the runtime.
	Logger *slog.Logger
	// Control lets the task steer consumption.
	Control SinkControl
	// Errant reports records the task failed to write (KIP-610). It is nil
	// unless the connector has a dead letter queue or error logging
	// configured, as in Kafka.
	Errant ErrantReporter
}

// SinkControl is how a sink task steers its consumer (Kafka's
// SinkTaskContext). Its methods may be called only from within the
// task's own methods (Open, Put, Flush, OpenPartitions, ClosePartitions);
// they take effect before the next Put.
type SinkControl interface {
	// Assignment returns the partitions currently assigned to the task.
	Assignment() []TopicPartition
	// Rewind resets consumption of the given partitions to the given
	// offsets, e.g. to resume from offsets the sink stores itself.
	Rewind(offsets map[TopicPartition]int64)
	// Pause stops fetching from the partitions until Resume.
	Pause(partitions ...TopicPartition)
	// Resume undoes Pause.
	Resume(partitions ...TopicPartition)
	// RequestCommit asks for a Flush and offset commit soon, instead of
	// waiting for the next interval.
	RequestCommit()
}

// ErrantReporter sends a record the sink could not write to the
// connector's dead letter queue and/or the error log, according to the
// errors.* settings. The runtime makes sure reported records are durably
// in the DLQ before it commits offsets past them. Safe for concurrent
// use.
type ErrantReporter interface {
	// Report records that r failed with err. It returns an error only if
	// the report itself failed or errors.tolerance=none (then the task
	// should fail with it).
	Report(ctx context.Context, r Record, err error) error
}
