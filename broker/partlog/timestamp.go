package partlog

import (
	"github.com/sluicedata/sluice/broker/batch"
)

// OffsetForTime returns the first offset whose record timestamp is >= ts,
// and that timestamp; ok is false when no record is that late.
//
// Only records below the high watermark count. The segment is found by its
// largest timestamp, the place in it by the time index, then the batches
// are scanned and the first late enough is decoded to find the record.
func (l *Log) OffsetForTime(ts int64) (offset, timestamp int64, ok bool) {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	for _, s := range l.segs {
		if s.maxTimestamp() < ts {
			continue
		}
		s.imu.RLock()
		pos := lookupTimeIndex(s.imu.tidx, ts)
		s.imu.RUnlock()
		limit := s.pub.Load()
		sc := newScanner(s.log, pos, limit, int(min(max(limit-pos, 0), 64<<10)))
		for b, _, more := sc.next(); more; b, _, more = sc.next() {
			if b.MaxTimestamp() < ts {
				continue
			}
			if off, t, found := findRecord(b, func(t int64) bool { return t >= ts }); found {
				return off, t, true
			}
		}
		// A read error or nothing published late enough here: a later
		// segment may still have such records.
	}
	return 0, 0, false
}

// MaxTimestamp returns the largest record timestamp and the offset of the
// record that has it (ListOffsets -3); ok false for an empty log.
//
// Only records below the high watermark count.
func (l *Log) MaxTimestamp() (timestamp, offset int64, ok bool) {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	var best *segment
	var bestTs int64 = noTimestamp
	var bestPos int64
	for _, s := range l.segs {
		ts, pos := s.publishedMax()
		if ts > bestTs {
			best, bestTs, bestPos = s, ts, pos
		}
	}
	if best == nil {
		return 0, 0, false
	}
	sc := newScanner(best.log, bestPos, best.pub.Load(), batch.HeaderSize)
	b, _, more := sc.next()
	if !more {
		return 0, 0, false
	}
	off, t, found := findRecord(b, func(t int64) bool { return t == bestTs })
	if !found {
		// Undecodable records: the batch header is the best answer.
		return bestTs, b.BaseOffset(), true
	}
	return t, off, true
}

// publishedMax returns the largest timestamp among the segment's published
// batches and the position of the batch holding it.
func (s *segment) publishedMax() (ts, pos int64) {
	limit := s.pub.Load()
	s.imu.RLock()
	ts, pos = s.imu.maxTs, int64(s.imu.maxTsPos)
	// The running maximum may sit in a batch not yet published: fall back
	// on the last time index entry that is, and scan from it.
	var from int64 = headerSize
	if ts != noTimestamp && pos >= limit {
		ts = noTimestamp
		for i := len(s.imu.tidx) - 1; i >= 0; i-- {
			if e := s.imu.tidx[i]; int64(e.pos) < limit {
				ts, pos, from = e.ts, int64(e.pos), int64(e.pos)
				break
			}
		}
		s.imu.RUnlock()
		sc := newScanner(s.log, from, limit, int(min(max(limit-from, 0), 64<<10)))
		for b, p, more := sc.next(); more; b, p, more = sc.next() {
			if b.MaxTimestamp() > ts {
				ts, pos = b.MaxTimestamp(), p
			}
		}
		return ts, pos
	}
	s.imu.RUnlock()
	return ts, pos
}

// findRecord decodes b and returns the offset and timestamp of its first
// record whose timestamp satisfies match.
func findRecord(b batch.Batch, match func(int64) bool) (offset, ts int64, ok bool) {
	if b.Attributes()&batch.AttrLogAppendTime != 0 {
		// Every record carries the batch's time.
		if match(b.MaxTimestamp()) {
			return b.BaseOffset(), b.MaxTimestamp(), true
		}
		return 0, 0, false
	}
	recs, err := b.Records()
	if err != nil {
		if match(b.MaxTimestamp()) {
			return b.BaseOffset(), b.MaxTimestamp(), true
		}
		return 0, 0, false
	}
	for _, r := range recs {
		t := b.FirstTimestamp() + r.TimestampDelta
		if match(t) {
			return b.BaseOffset() + int64(r.OffsetDelta), t, true
		}
	}
	return 0, 0, false
}
