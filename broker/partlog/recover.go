package partlog

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/broker/batch"
)

// recoverChunk is the read size of recovery scans.
const recoverChunk = 1 << 20

// recover brings the directory to a consistent state and loads it. See
// "Recovery" in the package doc. REQUIRES: exclusive ownership of l (Open).
func (l *Log) recover() error {
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return storageErr(err, "list %s", l.dir)
	}
	if names, err = l.finishCompactions(names); err != nil {
		return err
	}

	clean := slices.Contains(names, cleanShutdownFile)
	fresh := false // a new log: nothing to recover, nothing worth saying
	st, err := l.loadState(slices.Contains(names, stateFile))
	if err != nil {
		return err
	}

	var bases, snapshots []int64
	indexes := map[int64][]string{}
	for _, name := range names {
		p, ok := parseName(name)
		if !ok {
			continue
		}
		switch p.ext {
		case logExt:
			bases = append(bases, p.base)
		case indexExt, timeIndexExt:
			indexes[p.base] = append(indexes[p.base], name)
		case snapshotExt:
			snapshots = append(snapshots, p.base)
		}
	}
	slices.Sort(bases)
	for base, files := range indexes {
		if _, found := slices.BinarySearch(bases, base); !found {
			for _, name := range files {
				l.logger.Info("partlog: removing index without a segment", "file", name)
				if err := l.fs.Remove(l.path(name)); err != nil {
					return storageErr(err, "remove %s", name)
				}
			}
		}
	}
	// Segments entirely below the log start offset are what a crash left
	// of a retention pass that had persisted the new start.
	for len(bases) > 1 && bases[1] <= st.start {
		if err := l.removeSegmentFiles(bases[0]); err != nil {
			return err
		}
		bases = bases[1:]
	}
	if len(bases) == 0 {
		if err := l.createFirstSegment(st.start); err != nil {
			return err
		}
		bases = []int64{st.start}
		fresh = true
	}

	for _, base := range bases {
		f, err := l.fs.Open(l.path(fileName(base, logExt)))
		if err != nil {
			return storageErr(err, "open segment %d", base)
		}
		size, err := f.Size()
		if err != nil {
			_ = f.Close()
			return storageErr(err, "stat segment %d", base)
		}
		l.segs = append(l.segs, newSegment(base, f, size))
	}

	// Without the clean-shutdown marker, every segment from the recovery
	// point on may end in a torn or unsynced tail.
	firstScan := len(l.segs)
	if !clean {
		firstScan = l.segmentFor(st.recoveryPoint)
		if !fresh {
			l.logger.Info("partlog: recovering after an unclean shutdown", "from_segment", l.segs[firstScan].base)
		}
	}
	interval := int64(l.mu.cfg.IndexIntervalBytes)
	for i := 0; i < len(l.segs); i++ {
		seg := l.segs[i]
		var damaged bool
		if i >= firstScan {
			damaged, err = l.scanSegment(seg, interval)
		} else {
			damaged, err = l.loadSegment(seg, interval)
		}
		if err != nil {
			return err
		}
		if damaged && i < len(l.segs)-1 {
			// Offsets continue in the next segment: whatever follows a
			// damaged batch cannot be trusted to follow it.
			for _, s := range l.segs[i+1:] {
				l.logger.Warn("partlog: removing segment after a damaged one", "segment", s.base, "damaged", seg.base)
				_ = s.log.Close()
				if err := l.removeSegmentFiles(s.base); err != nil {
					return err
				}
			}
			l.segs = l.segs[:i+1]
		}
	}

	act := l.active()
	end := act.next()
	l.mu.next = end
	if !clean {
		// What recovery kept may never have been fsynced (a process crash
		// keeps the page cache): make it durable before serving it, and
		// write the rebuilt indexes of sealed segments.
		for i := firstScan; i < len(l.segs); i++ {
			s := l.segs[i]
			if err := s.log.Sync(); err != nil {
				return storageErr(err, "fsync segment %d", s.base)
			}
			if s != act {
				if err := l.writeIndexes(s, true); err != nil {
					return err
				}
			}
		}
	}
	start := min(max(st.start, l.segs[0].base), end)
	l.start.Store(start)
	if err := l.loadProducers(snapshots, end); err != nil {
		return err
	}
	for _, s := range l.segs {
		s.pub.Store(s.size.Load())
		s.durable.Store(s != act)
	}
	l.hwm.Store(end)

	if clean {
		if err := l.fs.Remove(l.path(cleanShutdownFile)); err != nil {
			return storageErr(err, "remove %s", cleanShutdownFile)
		}
	}
	// Also fsyncs the directory, making every removal above durable (and
	// the marker's, before any append).
	l.state.p = st
	return l.saveState(func(p *persisted) {
		p.start = start
		p.recoveryPoint = act.base
		p.cleanedTo = min(p.cleanedTo, end)
	})
}

// loadState reads log.state; a missing or damaged one yields a state that
// makes recovery scan everything.
func (l *Log) loadState(exists bool) (persisted, error) {
	if !exists {
		return persisted{}, nil
	}
	data, _, err := l.readFile(stateFile)
	if err != nil {
		return persisted{}, err
	}
	st, err := decodeState(data)
	if err != nil {
		l.logger.Warn("partlog: damaged state file; scanning every segment", "err", err)
		return persisted{}, nil
	}
	return st, nil
}

// createFirstSegment starts an empty log at base.
func (l *Log) createFirstSegment(base int64) error {
	name := l.path(fileName(base, logExt))
	f, err := l.fs.Create(name)
	if err != nil {
		return storageErr(err, "create segment %d", base)
	}
	_, err = f.Write(logHeader)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return storageErr(err, "write segment %d", base)
	}
	return nil
}

// removeSegmentFiles removes a segment's .log and index files.
func (l *Log) removeSegmentFiles(base int64) error {
	for _, ext := range []string{logExt, indexExt, timeIndexExt} {
		name := l.path(fileName(base, ext))
		if err := l.fs.Remove(name); err != nil {
			if ok, _ := l.fs.Exists(name); ok {
				return storageErr(err, "remove %s", name)
			}
		}
	}
	return nil
}

// checkLogHeader reads and checks a segment's file header.
func checkLogHeader(s *segment) error {
	var h [headerSize]byte
	if n, err := s.log.ReadAt(h[:], 0); n < headerSize {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read header: %w", err)
	}
	return checkHeader(h[:], magicLog)
}

// scanSegment rebuilds a segment's indexes by reading every batch, checking
// length, offsets and CRC, and truncates the segment at the first batch
// that fails. damaged reports a truncation. REQUIRES: exclusive ownership.
func (l *Log) scanSegment(s *segment, interval int64) (damaged bool, err error) {
	s.resetIndexes()
	size := s.size.Load()
	if size < headerSize || checkLogHeader(s) != nil {
		// A segment created just before a crash, whose header never
		// reached the disk: start it again.
		l.logger.Warn("partlog: segment header missing or damaged; emptying segment", "segment", s.base, "bytes", size)
		if err := s.log.Truncate(0); err != nil {
			return false, storageErr(err, "truncate segment %d", s.base)
		}
		if _, err := s.log.Write(logHeader); err != nil {
			return false, storageErr(err, "write header of segment %d", s.base)
		}
		s.size.Store(headerSize)
		return true, nil
	}
	sc := newScanner(s.log, headerSize, size, recoverChunk)
	sc.verify, sc.after, sc.maxLast = true, s.base, s.base+maxRelOffset
	for b, pos, ok := sc.next(); ok; b, pos, ok = sc.next() {
		s.track(b, pos, interval, b.MaxTimestamp())
	}
	if sc.err == nil {
		return false, nil
	}
	if !sc.damaged() {
		return false, storageErr(sc.err, "scan segment %d", s.base)
	}
	l.logger.Warn("partlog: truncating segment at a torn or corrupt batch",
		"segment", s.base, "position", sc.pos, "bytes_dropped", size-sc.pos, "next_offset", s.next(), "reason", sc.err)
	if err := s.log.Truncate(sc.pos); err != nil {
		return true, storageErr(err, "truncate segment %d at %d", s.base, sc.pos)
	}
	s.size.Store(sc.pos)
	return true, nil
}

// loadSegment loads a segment that was durable before the shutdown: its
// index files if they pass the sanity check (else it rebuilds them), then
// the batches after the last index entry, to learn where the segment ends.
func (l *Log) loadSegment(s *segment, interval int64) (damaged bool, err error) {
	if err := checkLogHeader(s); err != nil {
		return false, fmt.Errorf("%w: segment %d: %w", ErrCorrupt, s.base, err)
	}
	size := s.size.Load()
	idx, tidx, err := l.readIndexes(s.base, size)
	if err != nil {
		if errors.Is(err, ErrStorage) {
			return false, err
		}
		l.logger.Warn("partlog: rebuilding index", "segment", s.base, "reason", err)
		// A truncation here is not reported as damage, as below.
		if _, err := l.scanSegment(s, interval); err != nil {
			return false, err
		}
		return false, l.writeIndexes(s, true)
	}
	from := int64(headerSize)
	if n := len(idx); n > 0 {
		from = int64(idx[n-1].pos)
	}
	s.imu.idx, s.imu.tidx = idx, tidx
	if n := len(tidx); n > 0 {
		e := tidx[n-1]
		s.imu.maxTs, s.imu.maxTsRel, s.imu.maxTsPos = e.ts, e.rel, e.pos
	}
	if size > headerSize {
		// segment.ms counts from the first batch.
		var h [batch.HeaderSize]byte
		if n, _ := s.log.ReadAt(h[:], headerSize); n == len(h) {
			s.rollTs = batch.Batch(h[:]).MaxTimestamp()
		}
	}
	// The entries beyond the last one were never needed: the tail after it
	// is shorter than the index interval. track adds none before it is.
	sc := newScanner(s.log, from, size, int(min(size-from, recoverChunk)))
	sc.verify, sc.after, sc.maxLast = true, s.base, s.base+maxRelOffset
	keepRoll := s.rollTs
	s.sinceIdx = -1 // the batch at from is indexed already, even with an interval of 0
	for b, pos, ok := sc.next(); ok; b, pos, ok = sc.next() {
		s.track(b, pos, interval, b.MaxTimestamp())
	}
	if keepRoll != noTimestamp {
		s.rollTs = keepRoll
	}
	if sc.err == nil {
		return false, nil
	}
	if !sc.damaged() {
		return false, storageErr(sc.err, "scan segment %d", s.base)
	}
	l.logger.Error("partlog: truncating a segment that was durable: corrupt batch",
		"segment", s.base, "position", sc.pos, "bytes_dropped", size-sc.pos, "reason", sc.err)
	if err := s.log.Truncate(sc.pos); err != nil {
		return true, storageErr(err, "truncate segment %d at %d", s.base, sc.pos)
	}
	s.size.Store(sc.pos)
	// Not reported as damaged: the segments after this one were durable
	// and stay (offsets may have gaps, as after compaction).
	return false, l.writeIndexes(s, true)
}

// readIndexes reads and checks a segment's index files. An error wrapping
// ErrStorage is an I/O failure; any other means "rebuild".
func (l *Log) readIndexes(base, logSize int64) ([]indexEntry, []timeEntry, error) {
	idxData, found, err := l.readFile(fileName(base, indexExt))
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, errors.New("no offset index")
	}
	tidxData, found, err := l.readFile(fileName(base, timeIndexExt))
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, errors.New("no time index")
	}
	idx, err := decodeIndex(idxData, logSize)
	if err != nil {
		return nil, nil, err
	}
	tidx, err := decodeTimeIndex(tidxData, logSize)
	if err != nil {
		return nil, nil, err
	}
	return idx, tidx, nil
}

// replayChunk is the read size of replay, which reads batch headers only:
// large batches cost one small read each.
const replayChunk = 4 << 10

// replay calls fn with the header of every batch whose base offset is at
// least from. REQUIRES: exclusive ownership of l (Open).
func (l *Log) replay(from int64, fn func(batch.Batch)) error {
	for i := l.segmentFor(from); i < len(l.segs); i++ {
		s := l.segs[i]
		size := s.size.Load()
		pos := s.lookup(from)
		sc := newScanner(s.log, pos, size, int(min(max(size-pos, 0), replayChunk)))
		sc.headers = true
		for b, _, ok := sc.next(); ok; b, _, ok = sc.next() {
			if b.BaseOffset() >= from {
				fn(b)
			}
		}
		if sc.err != nil {
			return storageErr(sc.err, "replay segment %d", s.base)
		}
	}
	return nil
}

// finishCompactions completes what a crash interrupted: a ".cleaned"
// segment was not committed and is deleted; a ".swap" segment was, and
// replaces the segments of its range. It returns the directory's names
// afterwards. See "Compaction" in the package doc.
func (l *Log) finishCompactions(names []string) ([]string, error) {
	changed := false
	for _, name := range names {
		if !strings.HasSuffix(name, cleanedExt) && !strings.HasSuffix(name, tmpExt) {
			continue
		}
		l.logger.Info("partlog: removing leftover of an interrupted write", "file", name)
		if err := l.fs.Remove(l.path(name)); err != nil {
			return nil, storageErr(err, "remove %s", name)
		}
		changed = true
	}
	for _, name := range names {
		p, ok := parseName(name)
		if !ok || p.ext != logExt+swapExt || p.end < 0 {
			continue
		}
		l.logger.Info("partlog: completing an interrupted compaction", "file", name, "first", p.base, "end", p.end)
		if err := l.completeSwap(p.base, p.end, names, nil); err != nil {
			return nil, err
		}
		changed = true
	}
	if !changed {
		return names, nil
	}
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, storageErr(err, "list %s", l.dir)
	}
	return names, nil
}

// completeSwap puts the compacted segment <first>-<end>.log.swap in place
// of the segments whose bases are in [first, end): removes them (and
// their indexes) durably, calls writeIndexes if set, then renames the swap
// file. Without writeIndexes, the new segment's indexes are missing, and
// rebuilt when it is loaded.
func (l *Log) completeSwap(first, end int64, names []string, writeIndexes func() error) error {
	for _, name := range names {
		p, ok := parseName(name)
		if !ok || p.end >= 0 || p.base < first || p.base >= end {
			continue
		}
		if p.ext != logExt && p.ext != indexExt && p.ext != timeIndexExt {
			continue
		}
		if err := l.fs.Remove(l.path(name)); err != nil {
			if ok, _ := l.fs.Exists(l.path(name)); ok {
				return storageErr(err, "remove %s", name)
			}
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return storageErr(err, "fsync directory")
	}
	// Indexes written (and fsynced) before the rename are never torn
	// beside a complete log; if a crash comes first, recovery removes them
	// with the rest of the range.
	if writeIndexes != nil {
		if err := writeIndexes(); err != nil {
			return err
		}
	}
	if err := l.fs.Rename(l.path(swapName(first, end)), l.path(fileName(first, logExt))); err != nil {
		return storageErr(err, "rename %s", swapName(first, end))
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return storageErr(err, "fsync directory")
	}
	return nil
}
