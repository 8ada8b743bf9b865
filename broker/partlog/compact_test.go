package partlog

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker/batch"
	"github.com/sluicedata/sluice/broker/vfs"
)

// compacted is the model of one compaction pass over records below end:
// the last record of each key stays, unless it is a tombstone older than
// horizon; records from end on are untouched.
func compacted(all []rec, end, horizon int64) []rec {
	latest := map[string]int64{}
	for _, r := range all {
		if r.off < end {
			latest[r.key] = r.off
		}
	}
	var out []rec
	for _, r := range all {
		if r.off >= end || latest[r.key] == r.off && (r.value != nilValue || r.ts >= horizon) {
			out = append(out, r)
		}
	}
	return out
}

func compactConfig() Config {
	cfg := smallConfig()
	cfg.CleanupPolicy = PolicyCompact
	cfg.SegmentBytes = 2 << 10
	cfg.MinCleanableDirtyRatio = 0.01
	return cfg
}

func activeBase(l *Log) int64 {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	return l.active().base
}

func TestCompaction(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		for _, codec := range []batch.Codec{batch.CodecNone, batch.CodecGzip, batch.CodecSnappy, batch.CodecLZ4, batch.CodecZstd} {
			t.Run(codec.String(), func(t *testing.T) {
				e := *e
				e.dir += "-" + codec.String()
				cfg := compactConfig()
				l := e.open(t, cfg)
				g := newGen(17, 30, e.clock.nowMs)
				g.codec = codec
				// Compressed batches are rebuilt one by one, and some codecs
				// are slow to set up (lz4): fewer, larger batches.
				per := 6
				if codec != batch.CodecNone {
					per = 40
				}
				all := appendN(t, l, g, 600, per)
				mustSync(t, l)
				end := activeBase(l)
				size := l.Size()
				freed, err := l.Clean()
				if err != nil {
					t.Fatal(err)
				}
				want := compacted(all, end, 0)
				if freed <= 0 || l.Size() != size-freed {
					t.Fatalf("freed %d, size %d -> %d", freed, size, l.Size())
				}
				equalRecs(t, readAll(t, l), want)
				// Offsets keep their values: a read at a removed offset
				// starts at the next record kept.
				for _, r := range want {
					data, err := l.Read(r.off, 1, nil)
					if err != nil {
						t.Fatal(err)
					}
					got := decode(t, data)
					if i := indexOf(got, r.off); i < 0 || got[i] != r {
						t.Fatalf("read %d after compaction: %v", r.off, head(got))
					}
				}
				if ts, off, ok := l.OffsetForTime(all[300].ts); !ok || off < 300 {
					t.Fatalf("offset for time after compaction: %d %d %v", off, ts, ok)
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				l = e.open(t, cfg)
				equalRecs(t, readAll(t, l), want)

				// A second pass with nothing new to clean does nothing.
				if freed, err := l.Clean(); err != nil || freed != 0 {
					t.Fatalf("second pass: freed %d, %v", freed, err)
				}
				// New records make the log dirty again.
				all = append(want, appendN(t, l, g, 300, per)...)
				mustSync(t, l)
				end = activeBase(l)
				if _, err := l.Clean(); err != nil {
					t.Fatal(err)
				}
				equalRecs(t, readAll(t, l), compacted(all, end, 0))
			})
		}
	})
}

func indexOf(rs []rec, off int64) int {
	for i, r := range rs {
		if r.off == off {
			return i
		}
	}
	return -1
}

func TestCompactionTombstones(t *testing.T) {
	e := memEnv()
	cfg := compactConfig()
	cfg.DeleteRetentionMs = time.Hour
	l := e.open(t, cfg)
	g := newGen(10, 20, e.clock.nowMs)
	// Records 200..209 delete every key.
	g.tombstone = func(i int) bool { return i >= 200 && i < 210 }
	all := appendN(t, l, g, 210, 5)
	g.tombstone = nil
	g.keys = 1000 // then other keys (k10..), so that the tombstones end up in closed segments
	g.i = 1010
	all = append(all, appendN(t, l, g, 100, 5)...)
	mustSync(t, l)
	end := activeBase(l)
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	want := compacted(all, end, e.clock.nowMs()-time.Hour.Milliseconds())
	got := readAll(t, l)
	equalRecs(t, got, want)
	tombs := 0
	for _, r := range got {
		if r.value == nilValue {
			tombs++
		}
	}
	if tombs != 10 {
		t.Fatalf("%d tombstones kept before delete.retention.ms, want 10", tombs)
	}

	// After delete.retention.ms the next pass drops them (new records make
	// it run).
	e.clock.advance(time.Hour + time.Second)
	all = append(got, appendN(t, l, g, 100, 5)...)
	mustSync(t, l)
	end = activeBase(l)
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	got = readAll(t, l)
	equalRecs(t, got, compacted(all, end, e.clock.nowMs()-time.Hour.Milliseconds()))
	for _, r := range got {
		if r.value == nilValue {
			t.Fatalf("tombstone %+v kept after delete.retention.ms", r)
		}
	}
}

func TestCompactionSkips(t *testing.T) {
	t.Run("min compaction lag", func(t *testing.T) {
		e := memEnv()
		cfg := compactConfig()
		cfg.MinCompactionLagMs = time.Hour
		l := e.open(t, cfg)
		g := newGen(5, 20, e.clock.nowMs)
		all := appendN(t, l, g, 300, 5)
		mustSync(t, l)
		if freed, err := l.Clean(); err != nil || freed != 0 {
			t.Fatalf("compacted records younger than the lag: freed %d, %v", freed, err)
		}
		equalRecs(t, readAll(t, l), all)
		e.clock.advance(time.Hour + time.Second)
		end := activeBase(l)
		if _, err := l.Clean(); err != nil {
			t.Fatal(err)
		}
		equalRecs(t, readAll(t, l), compacted(all, end, 0))
	})
	t.Run("dirty ratio", func(t *testing.T) {
		e := memEnv()
		cfg := compactConfig()
		cfg.MinCleanableDirtyRatio = 0.9
		l := e.open(t, cfg)
		g := newGen(1000, 20, e.clock.nowMs) // unique keys: compaction frees nothing
		appendN(t, l, g, 300, 5)
		mustSync(t, l)
		if _, err := l.Clean(); err != nil {
			t.Fatal(err)
		}
		l.state.Lock()
		cleaned := l.state.p.cleanedTo
		l.state.Unlock()
		if cleaned == 0 {
			t.Fatal("first pass (all dirty) did not run")
		}
		g.keys = 2
		all := readAll(t, l)
		all = append(all, appendN(t, l, g, 20, 5)...)
		mustSync(t, l)
		if freed, err := l.Clean(); err != nil || freed != 0 {
			t.Fatalf("ran below min.cleanable.dirty.ratio: freed %d, %v", freed, err)
		}
		equalRecs(t, readAll(t, l), all)
	})
	t.Run("delete policy", func(t *testing.T) {
		e := memEnv()
		cfg := compactConfig()
		cfg.CleanupPolicy = PolicyDelete
		cfg.RetentionMs = -1
		l := e.open(t, cfg)
		g := newGen(2, 20, e.clock.nowMs)
		all := appendN(t, l, g, 300, 5)
		mustSync(t, l)
		if freed, err := l.Clean(); err != nil || freed != 0 {
			t.Fatalf("delete policy compacted: freed %d, %v", freed, err)
		}
		equalRecs(t, readAll(t, l), all)
	})
}

// TestCompactionCrashAtEveryStep crashes (power loss) at every filesystem
// operation of a compaction pass, reopens, and checks the log reads as
// either before or after compaction: never a loss, never a duplicate.
func TestCompactionCrashAtEveryStep(t *testing.T) {
	for _, tc := range []struct {
		name         string
		segmentBytes int64 // small: several groups; large: one
	}{
		{"one group", 1 << 20},
		{"several groups", 2 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := compactConfig()
			cfg.SegmentMs = time.Minute
			cfg.SegmentBytes = tc.segmentBytes
			setup := func() (*env, *vfs.Fault, *Log, []rec, int64) {
				e := memEnv()
				fault := vfs.NewFault(e.mem)
				o := e.opts()
				o.FS = fault
				l, err := Open(e.dir, cfg, o)
				if err != nil {
					t.Fatal(err)
				}
				g := newGen(13, 30, e.clock.nowMs)
				g.codec = batch.CodecSnappy
				var all []rec
				for range 6 { // six segments, by time
					all = append(all, appendN(t, l, g, 60, 6)...)
					e.clock.advance(time.Minute)
				}
				all = append(all, appendN(t, l, g, 6, 6)...)
				mustSync(t, l)
				return e, fault, l, all, activeBase(l)
			}

			e, fault, l, all, end := setup()
			before := fault.Ops()
			if _, err := l.Clean(); err != nil {
				t.Fatal(err)
			}
			steps := fault.Ops() - before
			after := compacted(all, end, 0)
			equalRecs(t, readAll(t, l), after)
			l.Close()
			if steps < 8 {
				t.Fatalf("only %d filesystem operations in a compaction", steps)
			}

			sawBefore, sawAfter := false, false
			for k := 0; k < steps; k++ {
				e, fault, l, all, _ := setup()
				fault.Add(vfs.Rule{Skip: k, Halt: true})
				_, err := l.Clean()
				if err == nil && fault.Halted() {
					t.Fatalf("step %d: clean succeeded on a halted filesystem", k)
				}
				e.mem.Crash()
				l2, err := Open(e.dir, cfg, e.opts())
				if err != nil {
					t.Fatalf("crash at step %d: reopen: %v", k, err)
				}
				got := readAll(t, l2)
				switch {
				case sameRecs(got, all):
					sawBefore = true
				case sameRecs(got, after):
					sawAfter = true
				default:
					// Some groups done, others not: still only records of
					// the log, in order, each once, and every survivor of
					// the compaction.
					if err := between(got, all, after); err != nil {
						t.Fatalf("crash at step %d: %v", k, err)
					}
					if tc.name == "one group" {
						t.Fatalf("crash at step %d: neither before nor after compaction", k)
					}
				}
				// The reopened log works, and compacts to the same result.
				if _, err := l2.Clean(); err != nil {
					t.Fatalf("crash at step %d: clean after reopen: %v", k, err)
				}
				equalRecs(t, readAll(t, l2), after)
				l2.Close()
			}
			if !sawBefore || !sawAfter {
				t.Fatalf("crash points never showed before (%v) or after (%v) compaction", sawBefore, sawAfter)
			}
			_ = e
		})
	}
}

func sameRecs(a, b []rec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// between checks before ⊇ got ⊇ after, by offset, with equal records.
func between(got, before, after []rec) error {
	byOff := map[int64]rec{}
	for _, r := range before {
		byOff[r.off] = r
	}
	seen := map[int64]bool{}
	last := int64(-1)
	for _, r := range got {
		if r.off <= last {
			return fmt.Errorf("offset %d after %d", r.off, last)
		}
		last = r.off
		if byOff[r.off] != r {
			return fmt.Errorf("record %+v was never written", r)
		}
		seen[r.off] = true
	}
	for _, r := range after {
		if !seen[r.off] {
			return fmt.Errorf("record %+v lost", r)
		}
	}
	return nil
}

func TestCompactionLeftovers(t *testing.T) {
	e := memEnv()
	cfg := compactConfig()
	l := e.open(t, cfg)
	g := newGen(5, 20, e.clock.nowMs)
	all := appendN(t, l, g, 100, 5)
	mustSync(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A .cleaned file is an uncommitted compaction: it goes.
	f, err := e.fs.Create(l.path(fileName(0, logExt+cleanedExt)))
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half written"))
	f.Close()
	l = e.open(t, cfg)
	equalRecs(t, readAll(t, l), all)
	if ok, _ := e.fs.Exists(l.path(fileName(0, logExt+cleanedExt))); ok {
		t.Fatal(".cleaned leftover not removed")
	}
	if _, err := l.Read(-5, 1, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatal(err)
	}
}
