// Package partlog is the on-disk log of one topic partition: segments of
// record batches stored as producers sent them, with sparse offset and time
// indexes, recovery, retention, compaction and idempotent-producer state.
//
// # Model
//
// A [Log] is a directory of segments. Each segment holds the record batches
// of a range of offsets, starting at its base offset; the last segment is
// the active one, where [Log.Append] writes. Three offsets describe a log:
//
//	StartOffset <= HighWatermark <= EndOffset
//	     |               |              |
//	     |  readable     |  appended,   |
//	     |  (durable)    |  not synced  |
//
// Append validates a producer's batch, gives it the next offsets by
// rewriting its baseOffset (and partitionLeaderEpoch) in place, and writes
// it with one write call: no fsync, no per-record work, no allocation. The
// batch is then neither durable nor visible. [Log.Sync] fsyncs and moves the
// high watermark; [Log.Read] serves only below it, so consumers never see
// data a crash could take back. A [Syncer] shares fsyncs between the
// producers of many partitions (group commit). [Log.Watch] wakes long-polling
// fetches when the high watermark moves.
//
// # Directory
//
//	<dir>/
//	  00000000000000000000.log        segment: batches from offset 0
//	  00000000000000000000.index      its sparse offset index
//	  00000000000000000000.timeindex  its time index
//	  00000000000000004711.log        the next segment, from offset 4711 ...
//	  00000000000000004711.snapshot   producer state for offsets < 4711
//	  log.state                       start offset, recovery point, cleaner checkpoint
//	  clean-shutdown                  present only while the log is closed cleanly
//
// Offsets in names are zero-padded to 20 digits, so names sort as offsets
// do. Transient names: "<base>.log.cleaned" (a compaction being written),
// "<first>-<end>.log.swap" (a committed compaction not yet in place) and
// "<name>.tmp" (a small file before its atomic rename).
//
// # Files
//
// Every file starts with an 8-byte header; positions in a .log count it,
// so the first batch is at position 8. Integers are big-endian.
//
//	+--------+--------+--------+
//	| magic  | version| 0      |
//	| 4      | 2      | 2      |
//	+--------+--------+--------+
//	magic: "SLOG" .log, "SIDX" .index, "STIX" .timeindex, "SPID" .snapshot,
//	       "SSTA" log.state, "SCLN" clean-shutdown. version: 1.
//
// A .log file is the header, then record batches (magic 2) exactly as the
// producer sent them, with only baseOffset and partitionLeaderEpoch
// rewritten. Those two fields lie before the CRC-32C's range, so the CRC
// stays the producer's and is checked by recovery and by consumers:
//
//	+--------+-------------------------+-------------------------+---
//	| header | batch (61-byte header + | batch                   | ...
//	|   8    |   records)              |                         |
//	+--------+-------------------------+-------------------------+---
//	          ^ baseOffset, batchLength, partitionLeaderEpoch, magic, crc, ...
//
// The batch itself is described in package batch. Its length field frames
// it; its CRC-32C, magic and offsets are what recovery checks.
//
// A .index file maps a batch's base offset to its position, one entry every
// index.interval.bytes of log. Offsets are relative to the segment's base,
// so a segment spans at most 2^31-1 offsets and 2^31-1 bytes:
//
//	+--------+-----------+-----------+-----------+-----------+---
//	| header | relOffset | position  | relOffset | position  | ...
//	|   8    |  uint32   |  uint32   |  uint32   |  uint32   |
//	+--------+-----------+-----------+-----------+-----------+---
//
// A .timeindex file records, at the same interval, the largest batch
// timestamp seen so far and the batch holding it; its last entry is the
// segment's largest timestamp (retention.ms and ListOffsets -3 use it).
// Every record before an entry's batch has a timestamp at most the entry's,
// so a search for time T starts at the last entry below T:
//
//	+--------+-----------+-----------+-----------+---
//	| header | timestamp | relOffset | position  | ...
//	|   8    |  int64 ms |  uint32   |  uint32   |
//	+--------+-----------+-----------+-----------+---
//
// Indexes are kept in memory and written whole when a segment is sealed
// (rolled) and on Close; the active segment's are rebuilt by recovery. An
// index is checked when loaded (whole entries, offsets and positions
// strictly increasing and inside the log) and rebuilt from the log if the
// check fails or the file is missing.
//
// A .snapshot file is the idempotent-producer state for every batch below
// its offset, written at each roll and on Close (the two newest are kept):
//
//	header | count uint32 | count x producer | crc32c uint32 (of all before)
//	producer: id int64 | epoch int16 | n uint8 | n x (firstSeq int32,
//	          lastSeq int32, baseOffset int64, lastOffset int64)
//
// log.state holds what must survive restarts, replaced atomically
// (write .tmp, fsync, rename, fsync the directory):
//
//	header | logStartOffset int64 | recoveryPoint int64 | cleanedTo int64 | crc32c uint32
//
// The recovery point is the base of the first segment recovery must scan:
// every segment before it was fsynced with its indexes. cleanedTo is the
// compaction checkpoint: offsets below it were compacted.
//
// # Durability
//
// Sync fsyncs the segments sealed since the last Sync, their index and
// snapshot files, the active segment, and the directory if files came or
// went; then it publishes: the high watermark moves and watchers wake.
// After a roll is synced, the recovery point moves to the active segment.
// With Options.NoSync, Sync publishes without fsync.
//
// A failed fsync is not retried: Linux may drop the dirty pages it failed
// to write and report success to the next fsync. The high watermark stays,
// and the log fails: Append and Sync return errors wrapping [ErrLogFailed]
// until the log is reopened, which reads back what is really on disk. A
// failed write (disk full) is different: Append truncates the partial
// batch away and returns an error wrapping [ErrStorage] and the cause; the
// log stays consistent and usable.
//
// # Recovery
//
// Open first finishes interrupted work: ".tmp" and ".cleaned" files are
// removed, ".swap" files rolled forward (see Compaction). Segments wholly
// below the persisted start offset (retention interrupted) are removed.
// If the clean-shutdown marker is missing, every segment from the recovery
// point on is scanned: each batch's length, offsets and CRC-32C are checked,
// the segment is truncated at the first torn or corrupt batch, segments
// after a truncated one are removed (none of their data was ever
// acknowledged: a sealed segment is fsynced before anything after it is
// published), indexes are rebuilt and what was kept is fsynced before it is
// served. Other segments load their indexes, rebuilt if missing or failing
// the check. The producer state is the newest readable snapshot plus a
// replay of the batch headers after it. Recovery actions are logged at
// Info or Warn with the partition directory.
//
// # Idempotent producers
//
// Per producer ID the log keeps the epoch and the last five batches
// (first and last sequence, base and last offset), Kafka's rules:
// producer ID < 0 is not checked; an epoch below the known one is
// [ErrInvalidEpoch]; a higher epoch, or an unknown producer, starts over at
// any sequence; a batch equal to one of the last five (same first and last
// sequence) is [ErrDuplicateSequence] with the offset it got then; else
// the first sequence must follow the last one (wrapping after MaxInt32),
// or it is [ErrOutOfOrderSequence].
//
// # Retention and compaction
//
// [Log.Clean] applies retention (see its doc) and, for compacted topics,
// compaction. Compaction works on closed segments wholly below the high
// watermark and not younger than min.compaction.lag.ms, and runs when the
// dirty part (past cleanedTo) is at least min.cleanable.dirty.ratio of
// them. It maps each key of the dirty part to its last offset, then
// rewrites consecutive segments, grouped up to segment.bytes, keeping the
// last record of each key (records with a null key are kept) and dropping
// tombstones older than delete.retention.ms. Batches with nothing dropped
// are copied as they are; others are rebuilt with their codec, base offset,
// lastOffsetDelta and header fields, so offsets keep their values (with
// gaps). A group is swapped in so that a crash at any point leaves either
// the old segments or the new one, never both or neither:
//
//	(1) write <first>.log.cleaned, fsync            crash: removed at Open
//	(2) rename to <first>-<end>.log.swap, fsync dir  commit point
//	(3) serve the new segment
//	(4) remove the old segments' files, fsync dir    crash: Open redoes (4), (6)
//	(5) write its indexes, fsync them                 and rebuilds the indexes
//	(6) rename the .swap to <first>.log, fsync dir
//
// # Invariants
//
// Built with the invariants tag (make test), the package checks offsets
// are monotonic on append and index entries ordered, panicking on
// violation.
package partlog
