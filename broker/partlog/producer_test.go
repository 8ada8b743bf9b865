package partlog

import (
	"errors"
	"math"
	"testing"

	"github.com/sluicedata/sluice/broker/batch"
)

// idemBatch builds a batch of n records from producer pid/epoch starting at
// sequence seq.
func idemBatch(t testing.TB, pid int64, epoch int16, seq int32, n int) batch.Batch {
	t.Helper()
	recs := make([]batch.Record, n)
	for i := range recs {
		recs[i] = batch.Record{OffsetDelta: int32(i), Key: []byte("k"), Value: []byte("v")}
	}
	b, err := batch.Build(recs, batch.Options{LastOffsetDelta: -1, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, FirstTimestamp: 1, MaxTimestamp: 1})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIdempotence(t *testing.T) {
	type step struct {
		pid      int64
		epoch    int16
		seq      int32
		n        int
		wantErr  error
		wantBase int64 // for successes and duplicates
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{7, 0, 0, 2, nil, 0}, {7, 0, 2, 3, nil, 2}, {7, 0, 5, 1, nil, 5}}},
		{"unknown producer accepts any sequence", []step{{7, 0, 1000, 2, nil, 0}, {7, 0, 1002, 1, nil, 2}}},
		{"duplicate of the last", []step{{7, 0, 0, 2, nil, 0}, {7, 0, 2, 3, nil, 2}, {7, 0, 2, 3, ErrDuplicateSequence, 2}}},
		{"duplicate of an older one", []step{{7, 0, 0, 2, nil, 0}, {7, 0, 2, 3, nil, 2}, {7, 0, 5, 1, nil, 5}, {7, 0, 0, 2, ErrDuplicateSequence, 0}}},
		{"only the last five are remembered", []step{
			{7, 0, 0, 1, nil, 0}, {7, 0, 1, 1, nil, 1}, {7, 0, 2, 1, nil, 2}, {7, 0, 3, 1, nil, 3},
			{7, 0, 4, 1, nil, 4}, {7, 0, 5, 1, nil, 5}, {7, 0, 0, 1, ErrOutOfOrderSequence, 0}, {7, 0, 1, 1, ErrDuplicateSequence, 1},
		}},
		{"gap", []step{{7, 0, 0, 2, nil, 0}, {7, 0, 3, 1, ErrOutOfOrderSequence, 0}}},
		{"overlap is not a duplicate", []step{{7, 0, 0, 2, nil, 0}, {7, 0, 1, 2, ErrOutOfOrderSequence, 0}}},
		{"stale epoch", []step{{7, 3, 0, 1, nil, 0}, {7, 2, 1, 1, ErrInvalidEpoch, 0}}},
		{"new epoch starts over", []step{{7, 0, 0, 5, nil, 0}, {7, 1, 0, 1, nil, 5}, {7, 1, 1, 1, nil, 6}, {7, 0, 5, 1, ErrInvalidEpoch, 0}}},
		{"producers are independent", []step{{7, 0, 0, 1, nil, 0}, {8, 0, 0, 1, nil, 1}, {7, 0, 1, 1, nil, 2}, {8, 0, 0, 1, ErrDuplicateSequence, 1}}},
		{"sequence wraps", []step{{7, 0, math.MaxInt32 - 1, 2, nil, 0}, {7, 0, 0, 1, nil, 2}, {7, 0, math.MaxInt32 - 1, 2, ErrDuplicateSequence, 0}}},
		{"batch across the wrap", []step{{7, 0, math.MaxInt32, 3, nil, 0}, {7, 0, 2, 1, nil, 3}}},
		{"no producer id, no checks", []step{{-1, -1, -1, 1, nil, 0}, {-1, -1, -1, 1, nil, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := memEnv()
			l := e.open(t, DefaultConfig())
			for i, s := range tt.steps {
				res, err := l.Append(idemBatch(t, s.pid, s.epoch, s.seq, s.n))
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d: err %v, want %v", i, err, s.wantErr)
				}
				if (err == nil || errors.Is(err, ErrDuplicateSequence)) && res.Base != s.wantBase {
					t.Fatalf("step %d: base %d, want %d", i, res.Base, s.wantBase)
				}
			}
		})
	}
}

// TestIdempotenceSurvivesReopen: producer state comes back from snapshots
// and replay, after a clean close, after a crash, and across rolls.
func TestIdempotenceSurvivesReopen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reopen func(e *env, l *Log)
	}{
		{"clean", func(e *env, l *Log) { l.Close() }},
		{"crash", func(e *env, l *Log) { e.mem.Crash() }},
		{"crash without snapshots", func(e *env, l *Log) {
			e.mem.Crash()
			for _, off := range l.mu.snapshots {
				_ = e.fs.Remove(l.path(fileName(off, snapshotExt)))
			}
		}},
		{"damaged snapshot", func(e *env, l *Log) {
			l.Close()
			rewrite(t, e.fs, l.path(fileName(l.mu.snapshots[len(l.mu.snapshots)-1], snapshotExt)), func(d []byte) []byte {
				d[len(d)-1] ^= 1
				return d
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := memEnv()
			cfg := smallConfig()
			l := e.open(t, cfg)
			var seq int32
			var lastBase int64 // of producer 2's last batch
			for i := 0; i < 100; i++ {
				// Several producers, so that snapshots at rolls matter.
				pid := int64(i % 3)
				res, err := l.Append(idemBatch(t, pid, 0, seq, 4))
				if err != nil {
					t.Fatal(err)
				}
				if pid == 2 {
					seq += 4
					lastBase = res.Base
				}
			}
			mustSync(t, l)
			if segmentCount(l) < 3 {
				t.Fatalf("want several segments, got %d", segmentCount(l))
			}
			tc.reopen(e, l)

			l2 := e.open(t, cfg)
			last := seq - 4
			res, err := l2.Append(idemBatch(t, 2, 0, last, 4))
			if !errors.Is(err, ErrDuplicateSequence) || res.Base != lastBase {
				t.Fatalf("retry of the last batch after reopen: base %d err %v, want %d, duplicate", res.Base, err, lastBase)
			}
			if _, err := l2.Append(idemBatch(t, 2, 0, seq+1, 4)); !errors.Is(err, ErrOutOfOrderSequence) {
				t.Fatalf("gap after reopen: %v", err)
			}
			if _, err := l2.Append(idemBatch(t, 2, 0, seq, 4)); err != nil {
				t.Fatalf("next batch after reopen: %v", err)
			}
		})
	}
}

// TestReplayLargeBatches: replay reads only batch headers, stepping over
// batches larger than its read size.
func TestReplayLargeBatches(t *testing.T) {
	e := memEnv()
	cfg := DefaultConfig()
	l := e.open(t, cfg)
	g := newGen(10, 3000, e.clock.nowMs)
	g.pid, g.epoch, g.seq = 42, 1, 0
	var last batch.Batch
	var lastBase int64
	for range 20 {
		b, _ := g.next(t, 5) // ~15 KB
		last = append(last[:0], b...)
		res, err := l.Append(b)
		if err != nil {
			t.Fatal(err)
		}
		lastBase = res.Base
	}
	mustSync(t, l)
	e.mem.Crash() // no snapshot: replay from the start
	l2 := e.open(t, cfg)
	if res, err := l2.Append(last); !errors.Is(err, ErrDuplicateSequence) || res.Base != lastBase {
		t.Fatalf("retry after replay: %d %v, want %d, duplicate", res.Base, err, lastBase)
	}
}
