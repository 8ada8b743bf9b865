package connectors

import (
	"context"
	"log/slog"
)

// Source is a source task (Kafka's SourceTask): it reads from an external
// system and returns records for the runtime to produce to Kafka.
//
// Call order: Open → Poll … → Close. Poll is called from one goroutine,
// never concurrently with itself. Commit (and CommitRecord, see
// RecordCommitter) are called from another goroutine and may run
// concurrently with Poll, but never concurrently with each other. After
// Open succeeds, Close is always called, exactly once, after the last
// Poll and the last Commit have returned.
//
// Delivery is at least once. The runtime produces each returned record
// (after transforms and conversion); once the broker acknowledged every
// record of a source partition up to some record, that record's
// SourceOffset becomes eligible, and the runtime writes eligible offsets
// to the offsets topic periodically (offset.flush.interval.ms) and on
// shutdown. Only after they are stored does it call Commit. A source
// confirms its position upstream (a replication slot's LSN, a queue ack)
// in Commit, never earlier, so a crash replays rather than loses data.
//
// Stopping: the runtime cancels Poll's ctx and waits for Poll to return,
// then stores the offsets of acknowledged records, calls Commit with them,
// and calls Close.
type Source interface {
	// Open starts the task with its task config (from the connector's
	// TaskConfigs). It reads where to resume from sc.Offsets. ctx bounds
	// Open only. An error fails the task (ErrRetriable: retried after a
	// backoff), and Close is not called.
	Open(ctx context.Context, sc SourceContext, config map[string]string) error

	// Poll returns the next batch of records. It should block until at
	// least one record is available, until ctx is done, or for an interval
	// of its choice, and then may return an empty batch; the runtime calls
	// Poll again immediately. When ctx is done Poll must return promptly;
	// the records it returns with a nil error are still delivered.
	// Returned records and their maps must not be modified afterwards.
	// Errors: ErrRetriable → polled again after a backoff; ErrEndOfInput →
	// no more polls, offsets committed, task closed, not a failure; any
	// other error fails the task.
	Poll(ctx context.Context) ([]Record, error)

	// Commit tells the task that the given offsets are durably stored: for
	// each source partition, the latest stored offset. The task may now
	// release or acknowledge everything up to them upstream. It is called
	// after each offset flush that stored something new, and once more on
	// shutdown. An error is logged and the runtime calls Commit again after
	// the next flush (the offsets stay stored); a task must therefore
	// treat Commit as idempotent and monotonic.
	Commit(ctx context.Context, committed []SourceOffset) error

	// Close releases the task's resources. ctx carries the shutdown
	// deadline (task.shutdown.graceful.timeout.ms).
	Close(ctx context.Context) error
}

// SourceOffset is the stored offset of one source partition.
type SourceOffset struct {
	Partition map[string]any
	Offset    map[string]any
}

// RecordCommitter is an optional Source capability (Kafka's
// SourceTask.commitRecord): the task hears about every record once the
// broker has acknowledged it, or once a transform dropped it (md nil).
// Called in production order per partition, possibly concurrently with
// Poll; it must be fast and must not block. Offsets are not yet stored at
// that point: upstream confirmation still belongs in Commit.
type RecordCommitter interface {
	CommitRecord(ctx context.Context, r Record, md *RecordMetadata) error
}

// SourceContext is what the runtime gives a source task when it opens.
type SourceContext struct {
	// Connector and Task identify the task.
	Connector string
	Task      int
	// Logger is scoped to the task (component, connector, task set).
	// Never nil when built by the runtime.
	Logger *slog.Logger
	// Offsets reads this connector's committed source offsets.
	Offsets OffsetReader
}
