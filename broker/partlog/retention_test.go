package partlog

import (
	"errors"
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		t.Run("time", func(t *testing.T) {
			e := *e
			e.dir += "-time"
			cfg := smallConfig()
			cfg.RetentionMs = time.Hour
			l := e.open(t, cfg)
			g := newGen(100, 100, e.clock.nowMs)
			old := appendN(t, l, g, 100, 5)
			mustSync(t, l)
			e.clock.advance(50 * time.Minute)
			young := appendN(t, l, g, 100, 5)
			mustSync(t, l)
			if freed, err := l.Clean(); err != nil || freed != 0 {
				t.Fatalf("clean before retention.ms: freed %d, %v", freed, err)
			}
			e.clock.advance(11 * time.Minute)
			size := l.Size()
			freed, err := l.Clean()
			if err != nil {
				t.Fatal(err)
			}
			if freed <= 0 || l.Size() != size-freed {
				t.Fatalf("freed %d, size %d -> %d", freed, size, l.Size())
			}
			start := l.StartOffset()
			// Whole segments go: the one holding both old and young records
			// stays, so the start is at or before the first young record.
			if start <= 0 || start > young[0].off {
				t.Fatalf("start offset %d, want in (0, %d]", start, young[0].off)
			}
			all := append(old, young...)
			equalRecs(t, readAll(t, l), all[start:])
			if _, err := l.Read(start-1, 100, nil); !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("read below the start offset: %v", err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = e.open(t, cfg)
			if l.StartOffset() != start {
				t.Fatalf("start offset %d after reopen, want %d", l.StartOffset(), start)
			}
			equalRecs(t, readAll(t, l), all[start:])
		})
		t.Run("bytes", func(t *testing.T) {
			e := *e
			e.dir += "-bytes"
			cfg := smallConfig()
			cfg.RetentionMs = -1
			cfg.RetentionBytes = 10 << 10
			l := e.open(t, cfg)
			g := newGen(100, 100, e.clock.nowMs)
			all := appendN(t, l, g, 500, 5)
			mustSync(t, l)
			if _, err := l.Clean(); err != nil {
				t.Fatal(err)
			}
			if l.Size() > cfg.RetentionBytes+cfg.SegmentBytes || l.Size() < cfg.RetentionBytes {
				t.Fatalf("size %d after retention to %d bytes", l.Size(), cfg.RetentionBytes)
			}
			start := l.StartOffset()
			equalRecs(t, readAll(t, l), all[start:])
			// A crash after the start offset was persisted keeps it.
			if e.mem != nil {
				e.mem.Crash()
				l = e.open(t, cfg)
				if l.StartOffset() != start {
					t.Fatalf("start offset %d after a crash, want %d", l.StartOffset(), start)
				}
				equalRecs(t, readAll(t, l), all[start:])
			}
		})
		t.Run("rolls an old active segment", func(t *testing.T) {
			e := *e
			e.dir += "-roll"
			cfg := DefaultConfig()
			cfg.SegmentMs = time.Hour
			cfg.RetentionMs = 2 * time.Hour
			l := e.open(t, cfg)
			g := newGen(100, 100, e.clock.nowMs)
			appendN(t, l, g, 10, 5)
			mustSync(t, l)
			e.clock.advance(time.Hour)
			if _, err := l.Clean(); err != nil {
				t.Fatal(err)
			}
			if segmentCount(l) != 2 {
				t.Fatalf("%d segments, want the old active one rolled", segmentCount(l))
			}
			mustSync(t, l)
			e.clock.advance(2 * time.Hour)
			if _, err := l.Clean(); err != nil {
				t.Fatal(err)
			}
			if l.StartOffset() != 10 || l.HighWatermark() != 10 {
				t.Fatalf("start %d hwm %d, want everything expired", l.StartOffset(), l.HighWatermark())
			}
			if data, err := l.Read(10, 100, nil); err != nil || len(data) != 0 {
				t.Fatalf("read at the end of an emptied log: %d bytes, %v", len(data), err)
			}
		})
	})
}

// TestRetentionCrashBetweenSteps: a crash after the start offset was
// persisted but before the segments went leaves them below the start;
// Open removes them.
func TestRetentionCrashBetweenSteps(t *testing.T) {
	e := memEnv()
	cfg := smallConfig()
	cfg.RetentionBytes = 4 << 10
	l := e.open(t, cfg)
	g := newGen(100, 100, e.clock.nowMs)
	all := appendN(t, l, g, 300, 5)
	mustSync(t, l)
	if err := l.saveState(func(p *persisted) { p.start = l.segs[3].base }); err != nil {
		t.Fatal(err)
	}
	start := l.segs[3].base
	e.mem.Crash()
	l = e.open(t, cfg)
	if l.StartOffset() != start || l.segs[0].base != start {
		t.Fatalf("start %d, first segment %d, want %d", l.StartOffset(), l.segs[0].base, start)
	}
	if ok, _ := e.fs.Exists(l.path(fileName(0, logExt))); ok {
		t.Fatal("segment below the start offset still on disk")
	}
	equalRecs(t, readAll(t, l), all[start:])
}
