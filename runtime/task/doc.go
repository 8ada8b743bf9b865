// Package task runs one source or sink task of a connector: the path of a
// record between a connector and Kafka, offsets, error handling and the
// dead letter queue, back-pressure and metrics. The herder (package
// runtime) starts a task with Start and steers it with Pause, Resume and
// Stop; everything else happens inside.
//
// # Source tasks
//
//	Poll ─► transforms ─► key/value/header converters ─► kgo Produce (acks=all, idempotent)
//	                                                         │ ack (promise)
//	submitted-records tracker ◄───────────────────────────────┘
//	   │ every offset.flush.interval.ms and on stop
//	   ▼
//	OffsetStore.Store (durable) ─► Source.Commit
//
// A polled record's SourceOffset becomes committable only when the broker
// acknowledged it and every earlier record of the same source partition
// (Kafka's SubmittedRecords, see submitted.go). Records dropped by a
// transform, or skipped under errors.tolerance=all, count as acknowledged.
// Produce blocks when the producer holds buffer.memory bytes (default 8
// MiB) or max.buffered.records records that the broker has not
// acknowledged yet, so a slow broker slows Poll instead of filling memory.
// A record's explicit Kafka partition and timestamp are kept; otherwise
// Kafka's default partitioner applies. Topics are created on first use
// per the connector's topic.creation.* groups (KIP-158) when it sets
// topic.creation.default.replication.factor and .partitions.
//
// # Sink tasks
//
//	kgo consumer group connect-<name> ─► converters ─► transforms ─► Put
//	   ▲                                                          │
//	   └── CommitOffsetsSync(exactly what Flush returned) ◄── Flush(offsets delivered)
//
// Each poll of at most max.poll.records records becomes one Put (an empty
// Put when nothing arrived, as Kafka does, so sinks can rotate files on
// time). Offsets are flushed and committed every offset.flush.interval.ms,
// when the task asks (SinkControl.RequestCommit), before partitions are
// revoked, and on stop. Rebalances (cooperative-sticky) only happen between
// two batches: the consumer blocks them from a poll until the batch is
// done (kgo.BlockRebalanceOnPoll), so no commit ever crosses one. A Put
// that fails with connectors.ErrRetriable is retried with the same batch
// after an exponential backoff, without fetching more: for as long as it
// takes, as in Kafka, or, beyond Kafka, at most errors.retry.timeout when
// that is positive. A revoked partition's records leave the retried batch.
//
// # Errors (KIP-298)
//
// Conversion and transformation failures go through one handler: failures
// matching connectors.ErrRetriable are retried with exponential backoff
// (300 ms doubling up to errors.retry.delay.max.ms) for errors.retry.timeout
// (0: no retry, -1: forever); then errors.tolerance decides. With none the
// task fails with a *RecordError naming the stage, class, topic, partition
// and offset; with all the record is skipped, counted, logged
// (errors.log.enable) and sent to the dead letter queue
// (errors.deadletterqueue.topic.name), which is created if missing.
//
// Sink DLQ records are the original consumed records, byte for byte (key,
// value, headers, timestamp), with Kafka's context headers when
// errors.deadletterqueue.context.headers.enable is true:
//
//	__connect.errors.topic                 original topic
//	__connect.errors.partition             original partition (decimal)
//	__connect.errors.offset                original offset (decimal)
//	__connect.errors.connector.name        connector
//	__connect.errors.task.id               task number (decimal)
//	__connect.errors.stage                 KEY_CONVERTER, VALUE_CONVERTER, HEADER_CONVERTER, TRANSFORMATION, TASK_PUT, …
//	__connect.errors.class.name            the converter, transform or task that failed
//	__connect.errors.exception.class.name  the Go type of the error, e.g. *connectors.DataError
//	__connect.errors.exception.message     the error message
//	__connect.errors.exception.stacktrace  the error chain, one "Type: message" per line, causes as "Caused by: …"
//
// Records a sink reports through SinkContext.Errant (KIP-610) go to the
// same queue; the runtime waits for every DLQ write to be acknowledged
// before it commits offsets past them.
//
// Beyond Kafka Connect, source tasks honour the same keys: a record whose
// transformation or conversion fails is skipped under tolerance=all and,
// with a DLQ topic configured, written there. Such a record has no Kafka
// bytes yet, so the DLQ record has a null key and, as value, a JSON
// document of what could be rendered:
//
//	{"topic":"orders","partition":null,"timestamp":1700000000000,
//	 "source_partition":{…},"source_offset":{…},
//	 "key_schema":<JsonConverter schema JSON or null>,"key":<value as JSON>,
//	 "value_schema":…,"value":…,
//	 "headers":[{"key":"h","value":…}]}
//
// Values are rendered leniently (structs as objects, bytes as base64,
// decimals as strings, times as RFC 3339), so even a value that does not
// match its schema is readable. The context headers are those above, with
// __connect.errors.topic the target topic and partition and offset -1. The
// source offset of such a record becomes committable once its DLQ write is
// acknowledged.
//
// # Client properties
//
// Producers and consumers take the worker's producer.* / consumer.*
// properties overlaid with the connector's producer.override.* /
// consumer.override.*, mapped to kgo options (clientprops.go): acks,
// enable.idempotence, linger.ms, batch.size, compression.type,
// buffer.memory, max.in.flight.requests.per.connection,
// delivery.timeout.ms, request.timeout.ms, retries, client.id; group.id,
// max.poll.records, fetch.max.bytes, max.partition.fetch.bytes,
// fetch.min.bytes, fetch.max.wait.ms, auto.offset.reset,
// session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms,
// isolation.level, group.protocol, group.instance.id, client.rack,
// partition.assignment.strategy. Two Sluice keys expose kgo's bounds:
// max.buffered.records (producer, default 8192: records in flight hold
// memory until acknowledged) and max.concurrent.fetches (consumer,
// default 2). Defaults follow Kafka Connect (acks=all, idempotent,
// auto.offset.reset=earliest, cooperative-sticky), except fetch.max.bytes,
// 16 MiB instead of 50 MiB, to bound a sink's memory; buffer.memory,
// 8 MiB instead of 32 MiB, for the same reason; and compression.type,
// snappy (kgo's default) instead of none: JsonConverter's records carry
// their schema, and snappy shrinks a Debezium event ~10× on the wire
// and on disk for less CPU than moving the uncompressed bytes costs
// (BenchmarkWorkerCDC: 7.3 µs of worker CPU per row instead of 9.4).
// Every Kafka client reads snappy; compression.type=none restores
// Kafka's default.
// The bound is on fetched bytes: compressed batches take their
// decompressed size in memory, so highly compressed topics may want a
// lower fetch.max.bytes.
//
// # Metrics
//
// Metrics (NewMetrics) are labelled connector and task, all named
// sluice_task_*: source_records_polled_total,
// source_records_produced_total, sink_records_consumed_total,
// sink_records_put_total, batch_size_records (histogram),
// offset_commit_seconds (histogram), offset_commit_failures_total,
// sink_lag_records, errors_total{stage}, records_skipped_total,
// dlq_records_total and state{state=running|paused|failed}. A task that
// stops cleanly removes its series; a failed one keeps them.
//
// # Status
//
// StatusListener.Running follows a successful Open and every Resume,
// Paused a Pause that took effect, Failed a failure once the task has
// cleaned up (flushed, committed and closed what it could, as Kafka
// does) or after the shutdown timeout if that hangs. A failure after Stop
// was called is not reported; it is returned by Err.
//
// # Stopping
//
// Stop cancels the running Poll or Put, then stores offsets and commits
// within the deadline of its context (task.shutdown.graceful.timeout.ms
// when it has none). A task that does not finish in time is abandoned: its
// Kafka clients are closed so it can neither produce, commit nor hold its
// partitions, it never reports status again, and Stop returns an error
// matching ErrAbandoned. Its goroutine is left to return on its own.
package task
