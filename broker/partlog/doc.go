// Package partlog is the on-disk log of one topic partition: segments of
// record batches stored as producers sent them, with sparse offset and time
// indexes, recovery, retention, compaction and idempotent-producer state.
//
// The full format description is being written; see the file headers.
package partlog
