package partlog

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker/batch"
)

func TestOffsetForTimeAndMaxTimestamp(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		cfg := smallConfig()
		l := e.open(t, cfg)
		if _, _, ok := l.MaxTimestamp(); ok {
			t.Fatal("max timestamp of an empty log")
		}
		if _, _, ok := l.OffsetForTime(0); ok {
			t.Fatal("offset for time in an empty log")
		}
		g := newGen(100, 60, e.clock.nowMs)
		g.codec = batch.CodecLZ4
		var all []rec
		for range 40 {
			all = append(all, appendN(t, l, g, 5, 5)...)
			e.clock.advance(time.Second)
		}
		// A batch from a producer whose clock is behind: timestamps are not
		// monotonic, and the max must still be found.
		e.clock.advance(-time.Hour)
		all = append(all, appendN(t, l, g, 5, 5)...)
		e.clock.advance(time.Hour)
		mustSync(t, l)
		unsynced := appendN(t, l, g, 5, 5)

		check := func(l *Log) {
			t.Helper()
			for _, ts := range []int64{all[0].ts - 1, all[0].ts, all[3].ts, all[77].ts, all[77].ts + 1, all[199].ts, all[200].ts} {
				wantOff, wantTs, wantOK := int64(0), int64(0), false
				for _, r := range all {
					if r.ts >= ts {
						wantOff, wantTs, wantOK = r.off, r.ts, true
						break
					}
				}
				off, got, ok := l.OffsetForTime(ts)
				if off != wantOff || got != wantTs || ok != wantOK {
					t.Fatalf("OffsetForTime(%d) = %d, %d, %v; want %d, %d, %v", ts, off, got, ok, wantOff, wantTs, wantOK)
				}
			}
			if _, _, ok := l.OffsetForTime(unsynced[0].ts + 10); ok {
				t.Fatal("OffsetForTime found an unsynced record")
			}
			best := all[0]
			for _, r := range all {
				if r.ts > best.ts {
					best = r
				}
			}
			ts, off, ok := l.MaxTimestamp()
			if !ok || ts != best.ts || off != best.off {
				t.Fatalf("MaxTimestamp = %d, %d, %v; want %d, %d", ts, off, ok, best.ts, best.off)
			}
		}
		check(l)
		mustSync(t, l)
		all = append(all, unsynced...)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l = e.open(t, cfg)
		unsynced = []rec{{ts: all[len(all)-1].ts}}
		check(l)
	})
}
