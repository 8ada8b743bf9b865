package partlog

import (
	"bufio"
	"slices"

	"github.com/sluicedata/sluice/broker/batch"
)

// compactWriteBuffer is the write buffer of a segment being compacted.
const compactWriteBuffer = 1 << 20

// compact runs one compaction pass if the dirty ratio asks for it. See
// "Compaction" in the package doc. REQUIRES: cleanMu held.
func (l *Log) compact() (int64, error) {
	l.mu.Lock()
	if err := l.mu.failed; err != nil {
		l.mu.Unlock()
		return 0, err
	}
	cfg := l.mu.cfg
	segs := slices.Clone(l.segs)
	l.mu.Unlock()
	nowMs := l.now().UnixMilli()
	l.state.Lock()
	cleanedTo := l.state.p.cleanedTo
	l.state.Unlock()

	// Closed, durable segments, up to the first one holding records younger
	// than min.compaction.lag.ms.
	lag := cfg.MinCompactionLagMs.Milliseconds()
	end := 0
	for end < len(segs)-1 && segs[end].durable.Load() &&
		(lag == 0 || segs[end].maxTimestamp() <= nowMs-lag) {
		end++
	}
	if end == 0 {
		return 0, nil
	}
	endOffset := segs[end].base
	var cleanBytes, dirtyBytes int64
	firstDirty := end
	for i := end - 1; i >= 0; i-- {
		if segs[i+1].base <= cleanedTo {
			cleanBytes += segs[i].size.Load() - headerSize
		} else {
			dirtyBytes += segs[i].size.Load() - headerSize
			firstDirty = i
		}
	}
	if dirtyBytes <= 0 || float64(dirtyBytes)/float64(cleanBytes+dirtyBytes) < cfg.MinCleanableDirtyRatio {
		return 0, nil
	}

	c := &cleaner{
		latest:    map[string]int64{},
		dirtyFrom: max(cleanedTo, segs[firstDirty].base),
		horizon:   nowMs - cfg.DeleteRetentionMs.Milliseconds(),
	}
	for _, s := range segs[firstDirty:end] {
		if err := c.index(s); err != nil {
			return 0, err
		}
	}

	var freed int64
	for _, g := range groupSegments(segs[:end], endOffset, cfg.SegmentBytes) {
		n, err := l.compactGroup(g.segs, g.end, c, int64(cfg.IndexIntervalBytes))
		freed += n
		if err != nil {
			return freed, err
		}
	}
	if err := l.saveState(func(p *persisted) { p.cleanedTo = max(p.cleanedTo, endOffset) }); err != nil {
		return freed, err
	}
	l.logger.Debug("partlog: compacted", "end_offset", endOffset, "bytes_freed", freed, "keys", len(c.latest))
	return freed, nil
}

// cleaner decides which records compaction keeps.
type cleaner struct {
	// latest is the offset of the last record of each key in the dirty
	// part of the log (offsets from dirtyFrom on).
	latest    map[string]int64
	dirtyFrom int64
	// horizon (Unix ms) is delete.retention.ms ago: older tombstones go.
	horizon int64
}

// index records the keys of a segment's records.
func (c *cleaner) index(s *segment) error {
	sc := newScanner(s.log, headerSize, s.size.Load(), int(min(s.size.Load(), recoverChunk)))
	for b, _, ok := sc.next(); ok; b, _, ok = sc.next() {
		if b.IsControl() || b.LastOffset() < c.dirtyFrom {
			continue
		}
		recs, err := b.Records()
		if err != nil {
			return corruptErr("segment %d, batch at offset %d: %v", s.base, b.BaseOffset(), err)
		}
		for _, r := range recs {
			if off := b.BaseOffset() + int64(r.OffsetDelta); r.Key != nil && off >= c.dirtyFrom {
				c.latest[string(r.Key)] = off
			}
		}
	}
	if sc.err != nil {
		return storageErr(sc.err, "read segment %d for compaction", s.base)
	}
	return nil
}

// keep reports whether a record survives: it is the last of its key (or
// has no key), and is not a tombstone older than delete.retention.ms.
func (c *cleaner) keep(off int64, r *batch.Record, ts int64) bool {
	if r.Key == nil {
		return true // Kafka refuses these on compacted topics; keep what came
	}
	if last, ok := c.latest[string(r.Key)]; ok && off < last {
		return false
	}
	return r.Value != nil || ts >= c.horizon
}

// filter returns b without the records the cleaner drops: b itself
// (changed false) when it keeps them all, nil when none, else a rebuilt
// batch with the same base offset, lastOffsetDelta, codec and header
// fields.
func (c *cleaner) filter(b batch.Batch) (out batch.Batch, changed bool, err error) {
	if b.IsControl() {
		return b, false, nil
	}
	recs, err := b.Records()
	if err != nil {
		return nil, false, corruptErr("batch at offset %d: %v", b.BaseOffset(), err)
	}
	logAppend := b.Attributes()&batch.AttrLogAppendTime != 0
	kept := recs[:0]
	for i := range recs {
		ts := b.FirstTimestamp() + recs[i].TimestampDelta
		if logAppend {
			ts = b.MaxTimestamp()
		}
		if c.keep(b.BaseOffset()+int64(recs[i].OffsetDelta), &recs[i], ts) {
			kept = append(kept, recs[i])
		}
	}
	switch len(kept) {
	case len(recs):
		return b, false, nil
	case 0:
		return nil, true, nil
	}
	out, err = batch.Build(kept, batch.Options{
		BaseOffset:      b.BaseOffset(),
		LeaderEpoch:     b.LeaderEpoch(),
		Codec:           b.Codec(),
		Attributes:      b.Attributes(),
		FirstTimestamp:  b.FirstTimestamp(),
		MaxTimestamp:    b.MaxTimestamp(),
		LastOffsetDelta: b.LastOffsetDelta(),
		ProducerID:      b.ProducerID(),
		ProducerEpoch:   b.ProducerEpoch(),
		BaseSequence:    b.BaseSequence(),
	})
	return out, true, err
}

// segGroup is segments compacted into one.
type segGroup struct {
	segs []*segment
	end  int64 // base offset of the segment after the group
}

// groupSegments splits consecutive segments into groups whose total size
// fits segment.bytes and whose offsets fit one segment's 32-bit range.
func groupSegments(segs []*segment, endOffset, segmentBytes int64) []segGroup {
	var groups []segGroup
	for i := 0; i < len(segs); {
		j, size := i+1, segs[i].size.Load()
		for j < len(segs) {
			next := segs[j].size.Load() - headerSize
			after := endOffset
			if j+1 < len(segs) {
				after = segs[j+1].base
			}
			if size+next > segmentBytes || after-segs[i].base > maxRelOffset {
				break
			}
			size += next
			j++
		}
		end := endOffset
		if j < len(segs) {
			end = segs[j].base
		}
		groups = append(groups, segGroup{segs: segs[i:j], end: end})
		i = j
	}
	return groups
}

// compactGroup rewrites a group of segments as one, without the records
// the cleaner drops, and swaps it in atomically:
//
//  1. write <first>.log.cleaned and fsync it;
//  2. rename it to <first>-<end>.log.swap and fsync the directory: the
//     commit point, after which recovery rolls forward;
//  3. serve the new segment instead of the old ones;
//  4. remove the old segments' files and fsync the directory;
//  5. write the new segment's indexes and fsync them;
//  6. rename the swap file to <first>.log and fsync the directory.
//
// A single segment from which nothing is dropped is left alone.
// REQUIRES: cleanMu held.
func (l *Log) compactGroup(group []*segment, end int64, c *cleaner, interval int64) (int64, error) {
	first := group[0].base
	cleanedName := fileName(first, logExt+cleanedExt)
	f, err := l.fs.Create(l.path(cleanedName))
	if err != nil {
		return 0, storageErr(err, "create %s", cleanedName)
	}
	ns := newSegment(first, f, headerSize)
	discard := func(err error) (int64, error) {
		_ = f.Close()
		_ = l.fs.Remove(l.path(cleanedName)) // best effort; Open removes leftovers
		return 0, err
	}
	w := bufio.NewWriterSize(f, compactWriteBuffer)
	if _, err := w.Write(logHeader); err != nil {
		return discard(storageErr(err, "write %s", cleanedName))
	}
	pos := int64(headerSize)
	var oldBytes int64
	changed := len(group) > 1
	for _, s := range group {
		oldBytes += s.size.Load()
		sc := newScanner(s.log, headerSize, s.size.Load(), int(min(s.size.Load(), recoverChunk)))
		for b, _, ok := sc.next(); ok; b, _, ok = sc.next() {
			out, dropped, err := c.filter(b)
			if err != nil {
				return discard(err)
			}
			changed = changed || dropped
			if out == nil {
				continue
			}
			if _, err := w.Write(out); err != nil {
				return discard(storageErr(err, "write %s", cleanedName))
			}
			ns.track(out, pos, interval, out.MaxTimestamp())
			pos += int64(len(out))
		}
		if sc.err != nil {
			return discard(storageErr(sc.err, "read segment %d for compaction", s.base))
		}
	}
	if !changed {
		return discard(nil)
	}
	if err := w.Flush(); err != nil {
		return discard(storageErr(err, "write %s", cleanedName))
	}
	if err := f.Sync(); err != nil {
		return discard(storageErr(err, "fsync %s", cleanedName))
	}
	ns.size.Store(pos)
	ns.pub.Store(pos)
	ns.durable.Store(true)

	swap := swapName(first, end)
	if err := l.fs.Rename(l.path(cleanedName), l.path(swap)); err != nil {
		return discard(storageErr(err, "rename %s", cleanedName))
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		// The swap may or may not be durable: only a reopen knows which.
		_ = f.Close()
		return 0, l.fail(storageErr(err, "fsync directory for %s", swap))
	}

	l.mu.Lock()
	l.segMu.Lock()
	i := slices.Index(l.segs, group[0])
	l.segs = slices.Replace(l.segs, i, i+len(group), ns)
	l.segMu.Unlock()
	l.mu.Unlock()
	for _, s := range group {
		_ = s.log.Close() // readers moved to the new segment; nothing to lose
	}

	// From here a failure leaves the directory for recovery to finish: the
	// log fails, so that it is reopened.
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return 0, l.fail(storageErr(err, "list %s", l.dir))
	}
	if err := l.completeSwap(first, end, names, func() error { return l.writeIndexes(ns, true) }); err != nil {
		return 0, l.fail(err)
	}
	return oldBytes - pos, nil
}
