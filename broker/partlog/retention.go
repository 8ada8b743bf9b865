package partlog

import (
	"slices"
)

// Clean runs retention and, for compacted topics, compaction, as the
// configuration asks; the broker calls it periodically. It returns how many
// bytes it freed.
//
// Retention (cleanup.policy delete) removes whole segments from the
// oldest, never the active one, while their largest timestamp is older
// than retention.ms or the log without them still holds retention.bytes;
// the log start offset moves to the first segment kept, and is persisted
// before any file goes. An active segment older than segment.ms is rolled
// first, so that it can go at a later pass. Only segments wholly below the
// high watermark are touched. Compaction is described in the package doc.
func (l *Log) Clean() (int64, error) {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	if l.closed.Load() {
		return 0, ErrClosed
	}
	freed, err := l.retain()
	if err != nil {
		return freed, err
	}
	if p := l.Config().CleanupPolicy; p == PolicyCompact || p == PolicyCompactDelete {
		n, err := l.compact()
		freed += n
		if err != nil {
			return freed, err
		}
	}
	return freed, nil
}

// retain runs time and size retention. REQUIRES: cleanMu held.
func (l *Log) retain() (int64, error) {
	l.mu.Lock()
	if err := l.mu.failed; err != nil {
		l.mu.Unlock()
		return 0, err
	}
	cfg := l.mu.cfg
	nowMs := l.now().UnixMilli()
	if act := l.active(); act.size.Load() > headerSize && act.rollTs != noTimestamp &&
		nowMs-act.rollTs >= cfg.SegmentMs.Milliseconds() {
		if err := l.rollLocked(); err != nil {
			l.mu.Unlock()
			return 0, err
		}
	}
	n := 0
	if cfg.CleanupPolicy != PolicyCompact {
		n = l.expiredLocked(cfg, nowMs)
	}
	if n == 0 {
		l.mu.Unlock()
		return 0, nil
	}
	newStart := max(l.segs[n].base, l.start.Load())
	l.mu.Unlock()

	// The new start is durable before any segment goes: a crash in between
	// leaves segments below it, which Open removes.
	if err := l.saveState(func(p *persisted) {
		p.start = newStart
		p.cleanedTo = max(p.cleanedTo, newStart)
	}); err != nil {
		return 0, err
	}

	l.mu.Lock()
	l.segMu.Lock()
	victims := slices.Clone(l.segs[:n])
	l.segs = slices.Delete(l.segs, 0, n)
	l.start.Store(newStart)
	l.segMu.Unlock()
	l.mu.dirDirty = true
	l.mu.Unlock()

	var freed int64
	for _, s := range victims {
		freed += s.size.Load()
		_ = s.log.Close() // read-only from here; nothing to lose
		if err := l.removeSegmentFiles(s.base); err != nil {
			return freed, err
		}
		l.logger.Debug("partlog: retention removed segment", "segment", s.base, "bytes", s.size.Load())
	}
	return freed, nil
}

// expiredLocked returns how many segments, from the oldest, retention
// removes. REQUIRES: mu held.
func (l *Log) expiredLocked(cfg Config, nowMs int64) int {
	var total int64
	for _, s := range l.segs {
		total += s.size.Load()
	}
	n := 0
	for ; n < len(l.segs)-1; n++ {
		s := l.segs[n]
		if !s.durable.Load() {
			break // a Sync has yet to fsync it
		}
		byTime := cfg.RetentionMs >= 0 && s.maxTimestamp() < nowMs-cfg.RetentionMs.Milliseconds()
		bySize := cfg.RetentionBytes >= 0 && total-s.size.Load() >= cfg.RetentionBytes
		if !byTime && !bySize {
			break
		}
		total -= s.size.Load()
	}
	return n
}
