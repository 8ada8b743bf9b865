// Package jdbc is the JDBC sink connector for PostgreSQL targets, under
// Debezium's class name (io.debezium.connector.jdbc.JdbcSinkConnector),
// Confluent's (io.confluent.connect.jdbc.JdbcSinkConnector) and Sluice's
// alias jdbc-sink: connector configs copied from either product run
// unchanged (README.md lists the keys of each).
//
// # Model
//
// A task holds one PostgreSQL connection. Each record becomes a change of
// one table (record.go): a Debezium change event is understood directly
// (c/r/u write the after image, d deletes by key, t truncates, tombstones
// delete when delete.enabled), any other struct or JSON object is a row.
// The destination table comes from table.name.format; its columns from
// the primary key mode (kafka coordinates, key fields or value fields)
// and the value fields.
//
// Records of one kind (same table, same schemas) share a shape: its
// columns, bound to the table's definition (per-column converters from
// Connect values to PostgreSQL values, convert.go), a TEMP staging table
// and the statement that moves staged rows into the table (postgres.go).
// Missing tables and columns are created or added when configured
// (ddl.go). A batch is written per table in order, as runs of rows of one
// shape: COPY into the stage, then one INSERT … ON CONFLICT, UPDATE or
// DELETE … USING statement (sink.go). With a primary key in upsert or
// update mode only the last change per key in a batch is written, which
// is what applying every change in turn would leave: replays are
// idempotent, so at-least-once delivery gives exactly-once results.
//
// Transactions hold at most batch.size records. Small runs of rows are
// passed as one array parameter per column (unnest) and the transaction
// is pipelined in one round trip; its outcome is read by the next Put or
// by Flush, so the database works while the task converts the next
// batch. Large runs are COPYed into a TEMP staging table. Flush reports
// offsets only up to what is committed. A record the database refuses is found
// by applying halves of the transaction under savepoints, and reported to
// the dead letter queue (SinkContext.Errant) or fails the task with a
// RecordError naming table, column and record. Transient failures are
// retried (max.retries / flush.max.retries), reconnecting.
package jdbc
