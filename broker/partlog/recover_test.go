package partlog

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sluicedata/sluice/broker/vfs"
)

// TestCrashKeepsSynced crashes the machine (every unsynced byte and name
// lost) at many points and checks recovery keeps exactly what was synced,
// in order, and takes appends again.
func TestCrashKeepsSynced(t *testing.T) {
	for _, tc := range []struct {
		name    string
		synced  int // records synced before the crash
		pending int // records appended after the last sync
	}{
		{"nothing", 0, 0},
		{"only unsynced", 0, 50},
		{"synced", 200, 0},
		{"synced and unsynced", 200, 77},
		{"unsynced across rolls", 50, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := memEnv()
			cfg := smallConfig()
			l := e.open(t, cfg)
			g := newGen(100, 50, e.clock.nowMs)
			want := appendN(t, l, g, tc.synced, 7)
			mustSync(t, l)
			appendN(t, l, g, tc.pending, 7)
			e.mem.Crash()

			l2 := e.open(t, cfg)
			got := readAll(t, l2)
			if len(got) < len(want) {
				t.Fatalf("lost synced records: got %d, want at least %d", len(got), len(want))
			}
			equalRecs(t, got[:len(want)], want)
			if l2.EndOffset() != int64(len(got)) {
				t.Fatalf("end offset %d after recovering %d records", l2.EndOffset(), len(got))
			}
			more := appendN(t, l2, g, 20, 4)
			mustSync(t, l2)
			equalRecs(t, readAll(t, l2), append(got, more...))
		})
	}
}

// TestProcessCrashKeepsWritten: a killed process (page cache intact) loses
// nothing it wrote, and recovery makes it durable.
func TestProcessCrashKeepsWritten(t *testing.T) {
	e := memEnv()
	cfg := smallConfig()
	l := e.open(t, cfg)
	g := newGen(100, 50, e.clock.nowMs)
	want := appendN(t, l, g, 300, 7) // never synced, never closed
	_ = l

	l2 := e.open(t, cfg)
	equalRecs(t, readAll(t, l2), want)
	e.mem.Crash() // recovery fsynced what it served
	l3 := e.open(t, cfg)
	equalRecs(t, readAll(t, l3), want)
}

func TestTornTail(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name      string
			damage    func(data []byte) []byte
			keepsLast bool // the damage is after the last batch
		}{
			{"half a batch", func(d []byte) []byte { return d[:len(d)-30] }, false},
			{"garbage after", func(d []byte) []byte { return append(d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 90, 1, 2, 3) }, true},
			{"flipped byte in last batch", func(d []byte) []byte { d[len(d)-5] ^= 0xff; return d }, false},
			{"zeroed tail", func(d []byte) []byte { return append(d, make([]byte, 4096)...) }, true},
			{"length cut", func(d []byte) []byte { return d[:len(d)-len(d)%7-300] }, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := *e
				e.dir = filepath.Join(e.dir, filepath.Base(t.Name()))
				cfg := DefaultConfig()
				l := e.open(t, cfg)
				g := newGen(10, 100, e.clock.nowMs)
				want := appendN(t, l, g, 30, 3)
				mustSync(t, l)
				last := appendN(t, l, g, 3, 3) // the batch that gets damaged
				mustSync(t, l)
				l.Close() // then damage it, and drop the marker as a crash would
				seg := filepath.Join(e.dir, fileName(0, logExt))
				rewrite(t, e.fs, seg, tc.damage)
				if err := e.fs.Remove(filepath.Join(e.dir, cleanShutdownFile)); err != nil {
					t.Fatal(err)
				}
				if tc.keepsLast {
					want = append(want, last...)
				}

				l2 := e.open(t, cfg)
				equalRecs(t, readAll(t, l2), want)
				more := appendN(t, l2, g, 6, 3)
				mustSync(t, l2)
				equalRecs(t, readAll(t, l2), append(want, more...))
			})
		}
	})
}

func rewrite(t testing.TB, fs vfs.FS, name string, fn func([]byte) []byte) {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	size, _ := f.Size()
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil {
		t.Fatal(err)
	}
	data = fn(data)
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestIndexRebuilt(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name   string
			damage func(fs vfs.FS, name string)
		}{
			{"missing", func(fs vfs.FS, name string) { _ = fs.Remove(name) }},
			{"torn", func(fs vfs.FS, name string) { rewrite(t, fs, name, func(d []byte) []byte { return d[:len(d)-3] }) }},
			{"out of order", func(fs vfs.FS, name string) {
				rewrite(t, fs, name, func(d []byte) []byte { d[headerSize+3] = 0xff; return d })
			}},
			{"bad magic", func(fs vfs.FS, name string) { rewrite(t, fs, name, func(d []byte) []byte { d[0] = 'X'; return d }) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := *e
				e.dir = filepath.Join(e.dir, tc.name)
				cfg := smallConfig()
				l := e.open(t, cfg)
				g := newGen(100, 50, e.clock.nowMs)
				want := appendN(t, l, g, 200, 4)
				mustSync(t, l)
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				for _, ext := range []string{indexExt, timeIndexExt} {
					tc.damage(e.fs, filepath.Join(e.dir, fileName(0, ext)))
				}
				l2 := e.open(t, cfg)
				equalRecs(t, readAll(t, l2), want)
				if len(l2.segs[0].imu.idx) == 0 || len(l2.segs[0].imu.tidx) == 0 {
					t.Fatalf("index of segment 0 not rebuilt")
				}
				for _, r := range want {
					data, err := l2.Read(r.off, 1, nil)
					if err != nil || decode(t, data)[0].off > r.off {
						t.Fatalf("read %d after index rebuild: %v", r.off, err)
					}
				}
			})
		}
	})
}

// TestDiskFull: a write that fails part way (ENOSPC) leaves the log as it
// was, before and after a reopen.
func TestDiskFull(t *testing.T) {
	for _, short := range []int{0, 10, -1} {
		e := memEnv()
		fault := vfs.NewFault(e.mem)
		o := e.opts()
		o.FS = fault
		cfg := smallConfig()
		l := e.openWith(t, cfg, o)
		g := newGen(100, 50, e.clock.nowMs)
		want := appendN(t, l, g, 50, 5)
		fault.Add(vfs.Rule{Op: vfs.OpWrite, Path: logExt, Short: short, Err: syscall.ENOSPC})
		b, _ := g.next(t, 5)
		_, err := l.Append(b)
		if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrStorage) {
			t.Fatalf("short %d: append on a full disk: %v", short, err)
		}
		g.i -= 5
		want = append(want, appendN(t, l, g, 50, 5)...)
		mustSync(t, l)
		equalRecs(t, readAll(t, l), want)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l2 := e.open(t, cfg)
		equalRecs(t, readAll(t, l2), want)
	}
}

// TestFailedFsync: a failed fsync publishes nothing and fails the log
// until it is reopened.
func TestFailedFsync(t *testing.T) {
	e := memEnv()
	fault := vfs.NewFault(e.mem)
	o := e.opts()
	o.FS = fault
	cfg := smallConfig()
	l := e.openWith(t, cfg, o)
	g := newGen(100, 50, e.clock.nowMs)
	want := appendN(t, l, g, 20, 5)
	mustSync(t, l)
	lost := appendN(t, l, g, 5, 5)
	fault.Add(vfs.Rule{Op: vfs.OpSync, Path: logExt})
	w := l.Watch()
	if err := l.Sync(); !errors.Is(err, ErrLogFailed) || !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("sync: %v", err)
	}
	if l.HighWatermark() != 20 {
		t.Fatalf("high watermark moved to %d after a failed fsync", l.HighWatermark())
	}
	select {
	case <-w:
		t.Fatal("watchers woken by a failed fsync")
	default:
	}
	b, _ := g.next(t, 1)
	if _, err := l.Append(b); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("append to a failed log: %v", err)
	}
	if err := l.Sync(); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("second sync of a failed log: %v", err)
	}
	equalRecs(t, readAll(t, l), want)
	if err := l.Close(); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("close of a failed log: %v", err)
	}

	// A power loss now loses what was never synced; a reopen recovers.
	e.mem.Crash()
	l2 := e.open(t, cfg)
	got := readAll(t, l2)
	if len(got) != len(want) && len(got) != len(want)+len(lost) {
		t.Fatalf("got %d records after reopen, want %d or %d", len(got), len(want), len(want)+len(lost))
	}
	equalRecs(t, got[:len(want)], want)
}

// TestCrashAtEveryStep runs appends, rolls, syncs, retention and a clean
// close on a filesystem that dies (tearing the write in flight) at each of
// its operations in turn, then loses power. Recovery must keep every
// record a successful Sync acknowledged, and nothing that was not written:
// what it serves is a prefix of the appended records, from the start
// offset on.
func TestCrashAtEveryStep(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 8 << 10
	cfg.RetentionMs = -1
	workload := func(l *Log, g *gen, written *[]rec, acked *int64) error {
		for i := 0; i < 12; i++ {
			b, recs := g.next(t, 1+i%4)
			res, err := l.Append(b)
			if err != nil {
				return err
			}
			for _, r := range recs {
				r.off += res.Base
				*written = append(*written, r)
			}
			if i%3 == 2 {
				if err := l.Sync(); err != nil {
					return err
				}
				*acked = l.HighWatermark()
			}
			if i == 7 {
				if _, err := l.Clean(); err != nil {
					return err
				}
			}
		}
		return l.Close()
	}
	run := func(haltAt int) (steps int, halted bool) {
		e := memEnv()
		fault := vfs.NewFault(e.mem)
		o := e.opts()
		o.FS = fault
		l, err := Open(e.dir, cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		g := newGen(20, 300, e.clock.nowMs)
		var written []rec
		var acked int64
		written = appendN(t, l, g, 60, 4) // some history first
		mustSync(t, l)
		acked = l.HighWatermark()
		start := fault.Ops()
		if haltAt >= 0 {
			fault.Add(vfs.Rule{Skip: haltAt, Halt: true, Short: -1})
		}
		err = workload(l, g, &written, &acked)
		if haltAt < 0 {
			if err != nil {
				t.Fatal(err)
			}
			return fault.Ops() - start, false
		}
		e.mem.Crash()
		l2, err := Open(e.dir, cfg, e.opts())
		if err != nil {
			t.Fatalf("crash at step %d: reopen: %v", haltAt, err)
		}
		defer l2.Close()
		got := readAll(t, l2)
		if l2.HighWatermark() < acked {
			t.Fatalf("crash at step %d: high watermark %d below the acknowledged %d", haltAt, l2.HighWatermark(), acked)
		}
		for i, r := range got {
			want := written[int(l2.StartOffset())+i]
			if r != want {
				t.Fatalf("crash at step %d: record %d is %+v, want %+v", haltAt, i, r, want)
			}
		}
		// The log takes appends again.
		more := appendN(t, l2, g, 4, 4)
		mustSync(t, l2)
		if all := readAll(t, l2); all[len(all)-1] != more[3] {
			t.Fatalf("crash at step %d: append after recovery not read back", haltAt)
		}
		return 0, fault.Halted()
	}
	steps, _ := run(-1)
	t.Logf("%d filesystem operations, a crash at each", steps)
	if steps < 20 {
		t.Fatalf("workload took only %d filesystem operations", steps)
	}
	for k := 0; k < steps; k++ {
		if _, halted := run(k); !halted {
			t.Fatalf("step %d never reached", k)
		}
	}
}
