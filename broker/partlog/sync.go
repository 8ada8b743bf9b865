package partlog

import (
	"fmt"

	"github.com/sluicedata/sluice/broker/vfs"
)

// Sync fsyncs what was appended and advances the high watermark to it.
//
// Appends go on while the fsync runs. With Options.NoSync it publishes
// without fsync. If an fsync fails the high watermark stays where it was,
// and the log fails: Append and Sync return errors wrapping ErrLogFailed
// until it is reopened (see "Durability" in the package doc).
func (l *Log) Sync() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()

	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return ErrClosed
	}
	if err := l.mu.failed; err != nil {
		l.mu.Unlock()
		return err
	}
	target := l.mu.next
	act := l.active()
	actSize := act.size.Load()
	sealed, pending, dirDirty := l.mu.sealed, l.mu.pending, l.mu.dirDirty
	l.mu.sealed, l.mu.pending, l.mu.dirDirty = nil, nil, false
	l.mu.Unlock()

	if target == l.hwm.Load() && len(sealed) == 0 && len(pending) == 0 && !dirDirty {
		return nil
	}
	var err error
	if !l.noSync {
		err = l.fsync(sealed, pending, act, dirDirty)
		if err == nil && len(sealed) > 0 {
			// Every segment before the active one is durable, indexes
			// included: recovery need not scan them. If the state cannot
			// be written (disk full), the old recovery point stays: a
			// crash then costs a longer scan, nothing more.
			if serr := l.saveState(func(p *persisted) { p.recoveryPoint = max(p.recoveryPoint, act.base) }); serr != nil {
				l.logger.Warn("partlog: recovery point not advanced", "segment", act.base, "err", serr)
			}
		}
	}
	for _, f := range pending {
		_ = f.Close() // synced already, or the log fails below
	}
	if err != nil {
		return l.fail(err)
	}
	l.publish(sealed, act, actSize, target)
	return nil
}

// fsync makes sealed segments, pending files, the active segment and, if
// needed, the directory durable.
func (l *Log) fsync(sealed []*segment, pending []vfs.File, act *segment, dirDirty bool) error {
	for _, s := range sealed {
		if err := s.log.Sync(); err != nil {
			return storageErr(err, "fsync segment %d", s.base)
		}
	}
	for _, f := range pending {
		if err := f.Sync(); err != nil {
			return storageErr(err, "fsync %s", f.Name())
		}
	}
	if err := act.log.Sync(); err != nil {
		return storageErr(err, "fsync segment %d", act.base)
	}
	if dirDirty {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return storageErr(err, "fsync directory")
		}
	}
	return nil
}

// publish makes synced data visible to Read and wakes watchers.
// REQUIRES: syncMu held.
func (l *Log) publish(sealed []*segment, act *segment, actSize, target int64) {
	for _, s := range sealed {
		s.pub.Store(s.size.Load())
		s.durable.Store(true)
	}
	if actSize > act.pub.Load() {
		act.pub.Store(actSize)
	}
	if target > l.hwm.Load() {
		l.hwm.Store(target)
		l.notify()
	}
}

// flushLocked is Sync for Close, with mu held: it makes everything
// appended durable and visible.
// REQUIRES: mu and syncMu held.
func (l *Log) flushLocked() error {
	sealed, pending, dirDirty := l.mu.sealed, l.mu.pending, l.mu.dirDirty
	l.mu.sealed, l.mu.pending, l.mu.dirDirty = nil, nil, false
	act := l.active()
	err := l.fsync(sealed, pending, act, dirDirty)
	for _, f := range pending {
		_ = f.Close()
	}
	if err != nil {
		l.mu.failed = fmt.Errorf("%w: %w", ErrLogFailed, err)
		return l.mu.failed
	}
	l.publish(sealed, act, act.size.Load(), l.mu.next)
	return nil
}

// fail marks the log failed after a failed fsync: the kernel may have
// dropped the dirty pages it could not write, so a retried fsync could
// succeed without the data being on disk (the PostgreSQL "fsyncgate"). Only
// a reopen, which reads back what really is on disk, recovers. Compaction
// fails the log too when a step after its commit point fails.
func (l *Log) fail(cause error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.failed == nil {
		l.mu.failed = fmt.Errorf("%w: %w", ErrLogFailed, cause)
		l.logger.Error("partlog: log failed; it refuses writes until reopened", "err", cause)
	}
	return l.mu.failed
}
