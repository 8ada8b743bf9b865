package partlog

import (
	"slices"

	"github.com/sluicedata/sluice/broker/batch"
	"github.com/sluicedata/sluice/broker/vfs"
)

// keepSnapshots is how many producer snapshots are kept: the newest may be
// torn by a crash, the one before it then serves.
const keepSnapshots = 2

// writeSnapshot writes the producer state as of offset (every batch below
// it) to <offset>.snapshot, not fsynced, and returns the file open. It
// removes snapshots beyond the newest keepSnapshots. REQUIRES: mu held.
func (l *Log) writeSnapshot(offset int64) (vfs.File, error) {
	f, err := l.writeNew(fileName(offset, snapshotExt), l.mu.producers.encode(nil))
	if err != nil {
		return nil, err
	}
	if !slices.Contains(l.mu.snapshots, offset) {
		l.mu.snapshots = append(l.mu.snapshots, offset)
		slices.Sort(l.mu.snapshots)
	}
	for len(l.mu.snapshots) > keepSnapshots {
		old := l.mu.snapshots[0]
		l.mu.snapshots = l.mu.snapshots[1:]
		if err := l.fs.Remove(l.path(fileName(old, snapshotExt))); err != nil {
			l.logger.Debug("partlog: old producer snapshot not removed", "offset", old, "err", err)
		}
		l.mu.dirDirty = true
	}
	return f, nil
}

// loadProducers rebuilds the producer state at Open: it loads the newest
// readable snapshot at or below end and replays the headers of the batches
// after it. Snapshots past end (their data was lost in a crash) are
// removed. REQUIRES: exclusive ownership of l (Open).
func (l *Log) loadProducers(snapshots []int64, end int64) error {
	from := l.start.Load()
	l.mu.producers = producers{}
	slices.Sort(snapshots)
	for i := len(snapshots) - 1; i >= 0; i-- {
		off := snapshots[i]
		name := fileName(off, snapshotExt)
		if off > end {
			l.logger.Info("partlog: removing producer snapshot past the end of the log", "file", name, "end", end)
			if err := l.fs.Remove(l.path(name)); err != nil {
				return storageErr(err, "remove %s", name)
			}
			continue
		}
		data, _, err := l.readFile(name)
		if err != nil {
			return err
		}
		ps, err := decodeProducers(data)
		if err != nil {
			l.logger.Warn("partlog: removing unreadable producer snapshot", "file", name, "err", err)
			if err := l.fs.Remove(l.path(name)); err != nil {
				return storageErr(err, "remove %s", name)
			}
			continue
		}
		l.mu.producers = ps
		from = max(from, off)
		l.mu.snapshots = append(l.mu.snapshots[:0], snapshots[:i+1]...)
		break
	}
	return l.replay(from, func(b batch.Batch) { l.mu.producers.commit(b) })
}
