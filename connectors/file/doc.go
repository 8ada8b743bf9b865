// Package file is Kafka's FileStream connectors, the ones in Kafka's
// quickstart: FileStreamSourceConnector reads lines from a file (or
// standard input) into a topic, FileStreamSinkConnector writes each record
// of some topics as a line to a file (or standard output).
//
// They accept Kafka's configs unchanged (connect-file-source.properties,
// connect-file-sink.properties) and store source offsets exactly as Kafka
// does: partition {"filename": <file>}, offset {"position": <long>}, the
// position after the record's line. A Sluice worker therefore resumes from
// offsets Kafka Connect wrote, and the reverse, for ASCII files.
//
// Differences from Kafka, each on purpose:
//   - position counts bytes. Kafka counts UTF-16 characters but skips that
//     many bytes on restart, which only agrees for ASCII; Sluice agrees
//     with itself for any content.
//   - The source tails the file by re-reading it with a short backoff
//     (10–200 ms) instead of Kafka's fixed 1 s wait, so new lines appear
//     sooner. Standard input ends the task cleanly (connectors.ErrEndOfInput)
//     at end of file; Kafka waits forever.
//   - The sink's Flush fsyncs the file (Kafka only flushes its stream), so
//     committed offsets never run ahead of data on disk. Byte values are
//     written as raw bytes, where Kafka prints a Java object id ("[B@1b6d").
package file
