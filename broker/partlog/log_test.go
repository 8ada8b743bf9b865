package partlog

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker/batch"
)

func TestAppendReadRoundTrip(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		for _, codec := range []batch.Codec{batch.CodecNone, batch.CodecZstd} {
			e := *e
			e.dir += codec.String()
			l := e.open(t, smallConfig())
			g := newGen(1000, 40, e.clock.nowMs)
			g.codec = codec
			var want []rec
			for i, per := range []int{1, 3, 10, 1, 7, 30, 2, 5, 50, 1} {
				want = append(want, appendN(t, l, g, per, per)...)
				if i%3 == 0 {
					mustSync(t, l)
				}
			}
			mustSync(t, l)
			if got := l.HighWatermark(); got != int64(len(want)) {
				t.Fatalf("high watermark %d, want %d", got, len(want))
			}
			equalRecs(t, readAll(t, l), want)

			// Reading from every offset returns the batch holding it first.
			for _, r := range want {
				data, err := l.Read(r.off, 1, nil)
				if err != nil {
					t.Fatal(err)
				}
				got := decode(t, data)
				b, rest, _ := batch.Next(data)
				if len(rest) != 0 {
					t.Fatalf("offset %d, maxBytes 1: %d bytes after the first batch, want one batch (KIP-74)", r.off, len(rest))
				}
				if b.BaseOffset() > r.off || b.LastOffset() < r.off {
					t.Fatalf("offset %d: batch %d..%d does not hold it", r.off, b.BaseOffset(), b.LastOffset())
				}
				if got[r.off-b.BaseOffset()] != r {
					t.Fatalf("offset %d: got %+v, want %+v", r.off, got[r.off-b.BaseOffset()], r)
				}
			}
		}
	})
}

func TestReadBounds(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		l := e.open(t, smallConfig())
		g := newGen(10, 100, e.clock.nowMs)
		want := appendN(t, l, g, 40, 4)
		mustSync(t, l)
		unsynced := appendN(t, l, g, 8, 4)

		tests := []struct {
			name     string
			offset   int64
			maxBytes int
			wantErr  error
			first    int64 // first record offset returned; -1 none
			atMost   int
		}{
			{name: "start", offset: 0, maxBytes: 1 << 20, first: 0},
			{name: "mid batch", offset: 6, maxBytes: 1 << 20, first: 4},
			{name: "tiny maxBytes returns one batch", offset: 9, maxBytes: 1, first: 8, atMost: 1},
			{name: "maxBytes two batches", offset: 0, maxBytes: 2 * len(g.value(0)) * 8, first: 0},
			{name: "at high watermark", offset: 40, maxBytes: 1 << 20, first: -1},
			{name: "unsynced is out of range", offset: 41, maxBytes: 1 << 20, wantErr: ErrOffsetOutOfRange},
			{name: "negative", offset: -1, maxBytes: 1 << 20, wantErr: ErrOffsetOutOfRange},
			{name: "zero maxBytes still one batch", offset: 39, maxBytes: 0, first: 36, atMost: 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				prefix := []byte("keep")
				data, err := l.Read(tt.offset, tt.maxBytes, prefix)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				if !bytes.HasPrefix(data, []byte("keep")) {
					t.Fatalf("dst prefix lost")
				}
				data = data[4:]
				if tt.wantErr != nil || tt.first < 0 {
					if len(data) != 0 {
						t.Fatalf("got %d bytes, want none", len(data))
					}
					return
				}
				got := decode(t, data)
				if got[0].off != tt.first {
					t.Fatalf("first offset %d, want %d", got[0].off, tt.first)
				}
				n := 0
				for rest := data; len(rest) > 0; n++ {
					_, rest, _ = batch.Next(rest)
				}
				if tt.atMost > 0 && n > tt.atMost {
					t.Fatalf("%d batches, want at most %d", n, tt.atMost)
				}
				if n > 1 && len(data) > tt.maxBytes {
					t.Fatalf("%d bytes in %d batches exceed maxBytes %d", len(data), n, tt.maxBytes)
				}
				for _, r := range got {
					if r != want[r.off] {
						t.Fatalf("got %+v, want %+v", r, want[r.off])
					}
				}
			})
		}
		mustSync(t, l)
		equalRecs(t, readAll(t, l), append(want, unsynced...))
	})
}

func TestAppendRejects(t *testing.T) {
	e := memEnv()
	cfg := smallConfig()
	cfg.MaxMessageBytes = 2000
	l := e.open(t, cfg)
	g := newGen(10, 100, e.clock.nowMs)
	good, _ := g.next(t, 1)
	big, _ := g.next(t, 30)
	bad := append(batch.Batch(nil), good...)
	bad[len(bad)-1] ^= 1
	two := append(append([]byte(nil), good...), good...)
	control, _ := batch.Build([]batch.Record{{Key: []byte("k")}}, batch.Options{Attributes: batch.AttrControl, LastOffsetDelta: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	tests := []struct {
		name string
		b    []byte
		want []error
	}{
		{"crc", bad, []error{ErrInvalidBatch, batch.ErrCorrupt}},
		{"two batches", two, []error{ErrInvalidBatch, batch.ErrCorrupt}},
		{"truncated", good[:len(good)-3], []error{ErrInvalidBatch, batch.ErrCorrupt}},
		{"control", control, []error{ErrInvalidBatch}},
		{"too large", big, []error{ErrMessageTooLarge}},
	}
	for _, tt := range tests {
		_, err := l.Append(tt.b)
		for _, w := range tt.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: err %v, want %v", tt.name, err, w)
			}
		}
	}
	if l.EndOffset() != 0 {
		t.Fatalf("rejected batches moved the end offset to %d", l.EndOffset())
	}
}

func TestRoll(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		t.Run("size", func(t *testing.T) {
			e := *e
			e.dir += "-size"
			l := e.open(t, smallConfig())
			g := newGen(100, 100, e.clock.nowMs)
			want := appendN(t, l, g, 400, 5)
			mustSync(t, l)
			n := segmentCount(l)
			if n < 10 {
				t.Fatalf("%d segments, want many for 4 KiB segments", n)
			}
			for _, s := range l.segs[:n-1] {
				if s.size.Load() > l.Config().SegmentBytes {
					t.Fatalf("segment %d has %d bytes, over segment.bytes", s.base, s.size.Load())
				}
			}
			equalRecs(t, readAll(t, l), want)
		})
		t.Run("time", func(t *testing.T) {
			e := *e
			e.dir += "-time"
			cfg := DefaultConfig()
			cfg.SegmentMs = time.Hour
			l := e.open(t, cfg)
			g := newGen(100, 100, e.clock.nowMs)
			want := appendN(t, l, g, 10, 5)
			e.clock.advance(59 * time.Minute)
			want = append(want, appendN(t, l, g, 5, 5)...)
			if n := segmentCount(l); n != 1 {
				t.Fatalf("%d segments before segment.ms, want 1", n)
			}
			e.clock.advance(time.Minute)
			want = append(want, appendN(t, l, g, 5, 5)...)
			if n := segmentCount(l); n != 2 {
				t.Fatalf("%d segments after segment.ms, want 2", n)
			}
			mustSync(t, l)
			equalRecs(t, readAll(t, l), want)
		})
	})
}

func segmentCount(l *Log) int {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	return len(l.segs)
}

func TestReopenClean(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		cfg := smallConfig()
		l := e.open(t, cfg)
		g := newGen(100, 60, e.clock.nowMs)
		want := appendN(t, l, g, 300, 6)
		mustSync(t, l)
		segs := segmentCount(l)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(nil); !errors.Is(err, ErrInvalidBatch) && !errors.Is(err, ErrClosed) {
			t.Fatalf("append after close: %v", err)
		}
		b, _ := g.next(t, 1)
		if _, err := l.Append(b); !errors.Is(err, ErrClosed) {
			t.Fatalf("append after close: %v", err)
		}

		l = e.open(t, cfg)
		if got := segmentCount(l); got != segs {
			t.Fatalf("%d segments after reopen, want %d", got, segs)
		}
		if l.HighWatermark() != 300 || l.EndOffset() != 300 {
			t.Fatalf("hwm %d end %d after reopen, want 300", l.HighWatermark(), l.EndOffset())
		}
		equalRecs(t, readAll(t, l), want)
		want = append(want, appendN(t, l, g, 30, 6)...)
		mustSync(t, l)
		equalRecs(t, readAll(t, l), want)
	})
}

func TestWatch(t *testing.T) {
	e := memEnv()
	l := e.open(t, DefaultConfig())
	g := newGen(10, 10, e.clock.nowMs)
	w := l.Watch()
	appendN(t, l, g, 1, 1)
	select {
	case <-w:
		t.Fatal("watch fired before the high watermark moved")
	default:
	}
	mustSync(t, l)
	<-w // closed by the sync: a hang here fails by timeout
	w = l.Watch()
	mustSync(t, l) // nothing new: no wake-up
	select {
	case <-w:
		t.Fatal("watch fired without progress")
	default:
	}
	_ = l.Close()
	<-w
	<-l.Watch()
}
