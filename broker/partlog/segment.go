package partlog

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/sluicedata/sluice/broker/batch"
	"github.com/sluicedata/sluice/broker/vfs"
)

// noTimestamp is a segment's largest timestamp before it has any batch.
const noTimestamp = math.MinInt64

// segment is one .log file of a partition and its in-memory indexes.
//
// Only the log's writer (holding Log.mu) changes a segment; readers use the
// atomics and, for the indexes, imu. A segment other than the last one
// (the active one) never changes, except by compaction, which replaces it
// with a new segment object.
type segment struct {
	base int64
	log  vfs.File

	size atomic.Int64 // bytes in the .log file, header included
	pub  atomic.Int64 // bytes readers may see: every batch below the high watermark
	// durable is set once the segment is sealed and a Sync has fsynced it
	// with its indexes: only then may retention or compaction touch it (a
	// Sync still running may be fsyncing it otherwise).
	durable atomic.Bool

	imu struct {
		sync.RWMutex
		idx  []indexEntry
		tidx []timeEntry
		next int64 // offset after the last batch; base when empty
		// maxTs is the largest batch maxTimestamp, in the batch at
		// maxTsPos whose base offset is base+maxTsRel.
		maxTs    int64
		maxTsRel uint32
		maxTsPos uint32
	}

	// Writer-only state. REQUIRES: Log.mu held.
	rollTs    int64 // ms: segment.ms counts from here; noTimestamp before the first batch
	sinceIdx  int64 // log bytes since the last offset index entry
	sinceTidx int64 // log bytes since the last time index entry
}

func newSegment(base int64, f vfs.File, size int64) *segment {
	s := &segment{base: base, log: f, rollTs: noTimestamp}
	s.size.Store(size)
	s.imu.next = base
	s.imu.maxTs = noTimestamp
	return s
}

// track records a batch written at pos in the indexes, as Append and index
// rebuilds do. REQUIRES: Log.mu held (or exclusive ownership).
func (s *segment) track(b batch.Batch, pos int64, interval int64, nowMs int64) {
	rel := uint32(b.BaseOffset() - s.base)
	maxTs := b.MaxTimestamp()
	if s.rollTs == noTimestamp {
		s.rollTs = nowMs
	}
	s.imu.Lock()
	if s.sinceIdx >= interval {
		if n := len(s.imu.idx); invariantsOn && n > 0 && (s.imu.idx[n-1].rel >= rel || int64(s.imu.idx[n-1].pos) >= pos) {
			failInvariant("segment %d: index entry %d@%d after %d@%d", s.base, rel, pos, s.imu.idx[n-1].rel, s.imu.idx[n-1].pos)
		}
		s.imu.idx = append(s.imu.idx, indexEntry{rel: rel, pos: uint32(pos)})
		s.sinceIdx = 0
	}
	if maxTs > s.imu.maxTs {
		s.imu.maxTs, s.imu.maxTsRel, s.imu.maxTsPos = maxTs, rel, uint32(pos)
	}
	if s.sinceTidx >= interval {
		s.addTimeEntryLocked()
		s.sinceTidx = 0
	}
	s.imu.next = b.LastOffset() + 1
	s.imu.Unlock()
	s.sinceIdx += int64(len(b))
	s.sinceTidx += int64(len(b))
}

// addTimeEntryLocked appends the segment's largest timestamp to the time
// index, unless it is there already. REQUIRES: s.imu held.
func (s *segment) addTimeEntryLocked() {
	n := len(s.imu.tidx)
	if s.imu.maxTs == noTimestamp || n > 0 && s.imu.tidx[n-1].ts >= s.imu.maxTs {
		return
	}
	s.imu.tidx = append(s.imu.tidx, timeEntry{ts: s.imu.maxTs, rel: s.imu.maxTsRel, pos: s.imu.maxTsPos})
}

// next returns the offset after the segment's last batch.
func (s *segment) next() int64 {
	s.imu.RLock()
	defer s.imu.RUnlock()
	return s.imu.next
}

// maxTimestamp returns the largest batch timestamp of the segment.
func (s *segment) maxTimestamp() int64 {
	s.imu.RLock()
	defer s.imu.RUnlock()
	return s.imu.maxTs
}

// lookup returns the position of a batch at or before the one holding
// offset.
func (s *segment) lookup(offset int64) int64 {
	if offset <= s.base {
		return headerSize
	}
	rel := uint32(min(offset-s.base, math.MaxUint32))
	s.imu.RLock()
	defer s.imu.RUnlock()
	return lookupIndex(s.imu.idx, rel)
}

// encodeIndexes finishes the time index (its last entry then holds the
// segment's largest timestamp) and returns both index files' contents.
func (s *segment) encodeIndexes() (idx, tidx []byte) {
	s.imu.Lock()
	defer s.imu.Unlock()
	s.addTimeEntryLocked()
	return encodeIndex(nil, s.imu.idx), encodeTimeIndex(nil, s.imu.tidx)
}

// resetIndexes forgets the in-memory indexes before a rebuild.
// REQUIRES: exclusive ownership of s.
func (s *segment) resetIndexes() {
	s.imu.Lock()
	s.imu.idx, s.imu.tidx = s.imu.idx[:0], s.imu.tidx[:0]
	s.imu.next = s.base
	s.imu.maxTs = noTimestamp
	s.imu.Unlock()
	s.rollTs, s.sinceIdx, s.sinceTidx = noTimestamp, 0, 0
}
