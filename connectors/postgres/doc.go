// Package postgres is the Postgres change data capture source,
// Debezium's PostgreSQL connector (io.debezium.connector.postgresql.
// PostgresConnector) reimplemented in Go: a Debezium config runs
// unchanged and produces the same events.
//
// # Model
//
// Changes are read by logical replication with the built-in pgoutput
// plugin (protocol version 1) from a replication slot (slot.name) and a
// publication (publication.name). Each change becomes a record on topic
// <topic.prefix>.<schema>.<table> in Debezium's shape: the key is the
// primary key struct, the value an envelope {before, after, source,
// transaction, op, ts_ms, ts_us, ts_ns} whose source block is
// io.debezium.connector.postgresql.Source, with Debezium's semantic types
// (MicroTimestamp, ZonedTimestamp, VariableScaleDecimal, Json, Uuid, Enum,
// …), tombstones after deletes, and Debezium's stored offsets
// ({"server": prefix} → {lsn, lsn_commit, txId, ts_usec, …}). With
// provide.transaction.metadata, BEGIN and END events per transaction go to
// <topic.prefix>.transaction and each change event's transaction block is
// filled, as Debezium's TransactionMonitor does.
//
// # Phases
//
// When the slot is created, it exports a snapshot (CREATE_REPLICATION_SLOT
// … EXPORT_SNAPSHOT). The initial snapshot reads every captured table in
// that snapshot, from several connections that all import it, each
// reading ranges of heap blocks (ctid ranges) of large tables; records
// come out in table and physical order. Streaming then starts at the
// slot's consistent point: what the snapshot saw is exactly what was
// committed before that point, so there is no gap and no overlap. When
// the slot already exists (a snapshot restarted after a crash,
// snapshot.mode=always or when_needed), the snapshot uses a fresh
// snapshot and streaming starts at the slot's confirmed position: changes
// may repeat, none is lost.
//
// # Delivery
//
// The slot's confirmed_flush_lsn is advanced only after Commit reported
// offsets stored: to the lsn_commit of the stored offset (the end of the last
// transaction whose events were all stored), never beyond it. After a
// crash the stream is replayed from there and the events of the stored
// prefix of the interrupted transaction are skipped (by txId, lsn and the
// count of events at that lsn). A slot found ahead of the stored offset, or
// missing, fails the task with what to do. Connection losses are retried
// inside the task with backoff.
//
// # Files
//
//	config.go     Config, ConfigDef, ParseConfig, Validate
//	connector.go  Connector (class name, one task, live ValidateConfig)
//	source.go     Task: Open, Poll, Commit, Close, the producer loop
//	setup.go      connections, error classification, preflight, publication, slot
//	snapshot.go   initial snapshot, parallel ctid chunks, TableProgress
//	stream.go     phase decision, replication loop, changes, truncates
//	decode.go     pgoutput message decoding
//	types.go      Postgres type → Debezium schema and text parser, defaults
//	hstore.go     hstore columns (hstore.handling.mode json and map)
//	columnmap.go  column.truncate.to.<n>.chars, column.mask.with.<n>.chars
//	event.go      envelope, source block, key/value structs, records
//	catalog.go    table and type metadata, filters
//	offsets.go    offset keys, decoding, resume filter
//	heartbeat.go  heartbeats
//	signal.go     incremental snapshots through the signalling table
//	txmeta.go     transaction metadata: BEGIN/END events, transaction block
package postgres
