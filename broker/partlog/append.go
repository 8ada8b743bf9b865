package partlog

import (
	"fmt"
	"math"

	"github.com/sluicedata/sluice/broker/batch"
	"github.com/sluicedata/sluice/broker/vfs"
)

// Append validates one producer batch (magic 2, CRC, max.message.bytes,
// idempotence sequence), sets its base offset and leader epoch in place and
// writes it to the active segment, rolling first if needed. The data is not
// yet durable nor visible to Read: call Sync (usually through a Syncer).
//
// Errors: ErrInvalidBatch (with batch.ErrCorrupt or
// batch.ErrUnsupportedCodec when the bytes are bad), ErrMessageTooLarge,
// ErrDuplicateSequence (then AppendResult.Base is the batch's original
// offset), ErrOutOfOrderSequence, ErrInvalidEpoch, ErrStorage (the write
// failed; the log is unchanged), ErrLogFailed, ErrClosed.
func (l *Log) Append(b []byte) (AppendResult, error) {
	bt := batch.Batch(b)
	// The CRC is checked before taking the lock: producers to one partition
	// do not queue behind each other's checksums.
	if err := bt.Validate(); err != nil {
		return AppendResult{}, fmt.Errorf("%w: %w", ErrInvalidBatch, err)
	}
	if bt.IsControl() {
		return AppendResult{}, fmt.Errorf("%w: control batch from a producer", ErrInvalidBatch)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return AppendResult{}, ErrClosed
	}
	if err := l.mu.failed; err != nil {
		return AppendResult{}, err
	}
	cfg := &l.mu.cfg
	if len(b) > cfg.MaxMessageBytes {
		return AppendResult{}, fmt.Errorf("%w: %d bytes, max.message.bytes is %d", ErrMessageTooLarge, len(b), cfg.MaxMessageBytes)
	}
	if dup, err := l.mu.producers.check(bt); err != nil {
		return AppendResult{Base: dup, LogStartOffset: l.start.Load()}, err
	}

	nowMs := l.now().UnixMilli()
	seg := l.active()
	if l.shouldRoll(seg, bt, nowMs) {
		if err := l.rollLocked(); err != nil {
			return AppendResult{}, err
		}
		seg = l.active()
	}

	base := l.mu.next
	if invariantsOn && base < seg.next() {
		failInvariant("append at offset %d below segment %d's end %d", base, seg.base, seg.next())
	}
	bt.SetBaseOffset(base)
	bt.SetLeaderEpoch(l.epoch)
	pos := seg.size.Load()
	if _, err := seg.log.Write(b); err != nil {
		// A short write (disk full) leaves part of the batch: cut it off so
		// the next append lands at the right place. If even that fails the
		// log is in an unknown state until reopened.
		if terr := seg.log.Truncate(pos); terr != nil {
			l.mu.failed = fmt.Errorf("%w: truncate segment %d after a failed write: %w", ErrLogFailed, seg.base, terr)
		}
		return AppendResult{}, storageErr(err, "append offset %d to segment %d", base, seg.base)
	}
	seg.size.Store(pos + int64(len(b)))
	seg.track(bt, pos, int64(cfg.IndexIntervalBytes), nowMs)
	l.mu.next = bt.LastOffset() + 1
	l.mu.producers.commit(bt)
	return AppendResult{Base: base, LogStartOffset: l.start.Load()}, nil
}

// shouldRoll reports whether b must go to a new segment: the active one
// would grow past segment.bytes, is older than segment.ms, or could not
// index b's offsets (relative offsets are 32-bit). An empty segment never
// rolls. REQUIRES: mu held.
func (l *Log) shouldRoll(seg *segment, b batch.Batch, nowMs int64) bool {
	size := seg.size.Load()
	if size == headerSize {
		return false
	}
	cfg := &l.mu.cfg
	end := size + int64(len(b))
	return end > cfg.SegmentBytes || end > math.MaxUint32 ||
		l.mu.next+int64(b.LastOffsetDelta())-seg.base > math.MaxInt32 ||
		seg.rollTs != noTimestamp && nowMs-seg.rollTs >= cfg.SegmentMs.Milliseconds()
}

// rollLocked seals the active segment and starts a new one at the end
// offset. Nothing is fsynced here: the next Sync does it. On error the log
// is as it was. REQUIRES: mu held.
func (l *Log) rollLocked() error {
	old := l.active()
	base := l.mu.next
	name := l.path(fileName(base, logExt))
	f, err := l.fs.Create(name)
	if err != nil {
		return storageErr(err, "create segment %d", base)
	}
	if _, err := f.Write(logHeader); err != nil {
		_ = f.Close()
		_ = l.fs.Remove(name) // best effort: an empty segment is harmless
		return storageErr(err, "write header of segment %d", base)
	}
	idx, tidx, err := l.createIndexes(old)
	if err != nil {
		_ = f.Close()
		_ = l.fs.Remove(name)
		return err
	}
	seg := newSegment(base, f, headerSize)
	l.segMu.Lock()
	l.segs = append(l.segs, seg)
	l.segMu.Unlock()
	l.mu.sealed = append(l.mu.sealed, old)
	l.mu.pending = append(l.mu.pending, idx, tidx)
	l.mu.dirDirty = true

	// The producer snapshot only shortens the replay at the next Open: if
	// it cannot be written, Open replays further.
	if snap, err := l.writeSnapshot(base); err != nil {
		l.logger.Warn("partlog: producer snapshot not written at roll", "offset", base, "err", err)
	} else {
		l.mu.pending = append(l.mu.pending, snap)
	}
	l.logger.Debug("partlog: rolled segment", "base", base, "previous", old.base, "bytes", old.size.Load())
	return nil
}

// createIndexes writes a segment's index files (not fsynced) and returns
// them open.
func (l *Log) createIndexes(s *segment) (idx, tidx vfs.File, err error) {
	idxData, tidxData := s.encodeIndexes()
	idx, err = l.writeNew(fileName(s.base, indexExt), idxData)
	if err != nil {
		return nil, nil, err
	}
	tidx, err = l.writeNew(fileName(s.base, timeIndexExt), tidxData)
	if err != nil {
		_ = idx.Close()
		return nil, nil, err
	}
	return idx, tidx, nil
}

// writeIndexes writes a segment's index files and, if sync, fsyncs them.
func (l *Log) writeIndexes(s *segment, sync bool) error {
	idx, tidx, err := l.createIndexes(s)
	if err != nil {
		return err
	}
	for _, f := range []vfs.File{idx, tidx} {
		if sync && err == nil {
			if err = f.Sync(); err != nil {
				err = storageErr(err, "fsync %s", f.Name())
			}
		}
		_ = f.Close()
	}
	return err
}

// writeNew creates (or truncates) a file of the partition and writes data
// to it, returning it open for a later fsync.
func (l *Log) writeNew(name string, data []byte) (vfs.File, error) {
	f, err := l.fs.Create(l.path(name))
	if err != nil {
		return nil, storageErr(err, "create %s", name)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return nil, storageErr(err, "write %s", name)
	}
	return f, nil
}
