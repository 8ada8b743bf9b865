package partlog

import (
	"errors"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedata/sluice/broker/vfs"
)

// Log is one partition's log. All methods are safe for concurrent use.
//
// Locking (acquire in this order; none is held across another log's):
//
//	cleanMu  serialises Clean and Close
//	syncMu   serialises Sync (prepare, fsync, publish)
//	mu       the writer: Append, roll, Sync's prepare, config, producers
//	segMu    the segment list: Read holds it shared; changing the list
//	         takes it exclusively, with mu held
//	segment.imu, state, watch  leaves
type Log struct {
	dir    string
	fs     vfs.FS
	logger *slog.Logger
	now    func() time.Time
	noSync bool
	epoch  int32

	// Published state, read without locks.
	hwm    atomic.Int64
	start  atomic.Int64
	closed atomic.Bool

	segMu sync.RWMutex
	// segs are the segments by base offset; the last is the active one.
	// REQUIRES: segMu (shared) or mu to read; both to change.
	segs []*segment

	mu struct {
		sync.Mutex
		cfg       Config
		next      int64 // offset of the next appended record
		failed    error // set when an fsync failed: the log refuses writes
		producers producers
		// sealed are segments rolled since the last Sync: their logs still
		// need an fsync.
		sealed []*segment
		// pending are index and snapshot files written since the last
		// Sync: fsync, then close.
		pending  []vfs.File
		dirDirty bool // files were created or removed since the last Sync
		// snapshots are the offsets of the producer snapshot files, sorted.
		snapshots []int64
	}

	syncMu  sync.Mutex
	cleanMu sync.Mutex

	state struct {
		sync.Mutex
		p       persisted
		written bool
	}

	watch struct {
		sync.Mutex
		ch chan struct{}
	}
}

// Open opens (creating if needed) the log in dir and recovers it: a torn or
// corrupt tail of the active segment is truncated, missing or damaged
// indexes are rebuilt, half-done compactions are rolled forward or back, and
// producer state is rebuilt.
func Open(dir string, cfg Config, opts Options) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	l := &Log{
		dir:    dir,
		fs:     opts.FS,
		logger: opts.Logger.With("partition", dir),
		now:    opts.Now,
		noSync: opts.NoSync,
		epoch:  opts.LeaderEpoch,
	}
	l.mu.cfg = cfg
	l.mu.producers = producers{}
	if err := l.fs.MkdirAll(dir); err != nil {
		return nil, storageErr(err, "create %s", dir)
	}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, err
	}
	return l, nil
}

// active returns the segment appends go to. REQUIRES: mu or segMu held.
func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// segmentFor returns the index of the segment that would hold offset: the
// last one whose base is at most offset, or 0. REQUIRES: mu or segMu held.
func (l *Log) segmentFor(offset int64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset })
	return max(i-1, 0)
}

// StartOffset is the log start offset.
func (l *Log) StartOffset() int64 { return l.start.Load() }

// HighWatermark is the offset after the last durable (synced) record: what
// consumers may read.
func (l *Log) HighWatermark() int64 { return l.hwm.Load() }

// EndOffset is the offset the next appended record will get.
func (l *Log) EndOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.next
}

// Watch returns a channel closed when the high watermark next advances (or
// the log closes).
func (l *Log) Watch() <-chan struct{} {
	l.watch.Lock()
	defer l.watch.Unlock()
	if l.watch.ch == nil {
		l.watch.ch = make(chan struct{})
		if l.closed.Load() {
			close(l.watch.ch)
		}
	}
	return l.watch.ch
}

// notify wakes the watchers.
func (l *Log) notify() {
	l.watch.Lock()
	defer l.watch.Unlock()
	if l.watch.ch != nil {
		close(l.watch.ch)
		l.watch.ch = nil
	}
}

// Size is the bytes of log data on disk.
func (l *Log) Size() int64 {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size.Load()
	}
	return n
}

// Config returns the configuration in force.
func (l *Log) Config() Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.cfg
}

// SetConfig changes the configuration (AlterConfigs); it applies from the
// next append, roll, retention or compaction.
//
// A configuration that fails [Config.Validate] is not applied, and the
// previous one stays in force: validate before calling.
func (l *Log) SetConfig(cfg Config) {
	if err := cfg.Validate(); err != nil {
		l.logger.Warn("partlog: ignoring invalid configuration", "err", err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.cfg = cfg
}

// Close flushes and closes the log, marking it cleanly shut down.
//
// The shutdown is clean only when everything is made durable: a log whose
// fsync failed (or that fails now) is closed without the marker and
// recovered at the next Open; the error is returned.
func (l *Log) Close() error {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Swap(true) {
		return ErrClosed
	}
	defer l.notify()
	err := l.mu.failed
	if err == nil {
		err = l.shutdownLocked()
	}
	l.closeFiles()
	return err
}

// shutdownLocked makes everything durable and writes the clean-shutdown
// marker. REQUIRES: mu and syncMu held.
func (l *Log) shutdownLocked() error {
	if err := l.flushLocked(); err != nil {
		return err
	}
	act := l.active()
	if err := l.writeIndexes(act, true); err != nil {
		return err
	}
	f, err := l.writeSnapshot(l.mu.next)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return storageErr(err, "sync producer snapshot")
	}
	if err := l.saveState(func(p *persisted) { p.recoveryPoint = act.base }); err != nil {
		return err
	}
	return l.writeFileAtomic(cleanShutdownFile, appendHeader(nil, magicClean))
}

// closeFiles closes every file the log holds, waiting for readers.
func (l *Log) closeFiles() {
	l.segMu.Lock()
	defer l.segMu.Unlock()
	for _, s := range l.segs {
		_ = s.log.Close() // nothing to do about it: the data was synced or will be recovered
	}
	l.segs = nil
	for _, f := range l.mu.pending {
		_ = f.Close()
	}
	l.mu.pending = nil
}

// Delete closes the log and removes its directory.
func (l *Log) Delete() error {
	if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) {
		l.logger.Info("partlog: deleting a log that did not close cleanly", "err", err)
	}
	if err := l.fs.RemoveAll(l.dir); err != nil {
		return storageErr(err, "remove %s", l.dir)
	}
	return nil
}
