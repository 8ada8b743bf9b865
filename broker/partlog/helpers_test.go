package partlog

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker/batch"
	"github.com/sluicedata/sluice/broker/vfs"
)

// env is where one test runs: a filesystem, a partition directory and a
// clock.
type env struct {
	name  string
	fs    vfs.FS
	mem   *vfs.Mem // nil for the OS filesystem
	dir   string
	clock *clock
}

// clock is a settable Options.Now.
type clock struct{ ms atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ms.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	return c
}
func (c *clock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *clock) nowMs() int64            { return c.ms.Load() }
func (c *clock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// eachFS runs fn against the OS filesystem and the memory one: the
// conformance suite every backend passes.
func eachFS(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("os", func(t *testing.T) {
		t.Parallel()
		fn(t, &env{name: "os", fs: vfs.OS, dir: filepath.Join(t.TempDir(), "topic-0"), clock: newClock()})
	})
	t.Run("mem", func(t *testing.T) {
		t.Parallel()
		m := vfs.NewMem()
		fn(t, &env{name: "mem", fs: m, mem: m, dir: "/data/topic-0", clock: newClock()})
	})
}

func memEnv() *env {
	m := vfs.NewMem()
	return &env{name: "mem", fs: m, mem: m, dir: "/data/topic-0", clock: newClock()}
}

func (e *env) opts() Options { return Options{FS: e.fs, Now: e.clock.now} }

func (e *env) open(t testing.TB, cfg Config) *Log {
	t.Helper()
	return e.openWith(t, cfg, e.opts())
}

func (e *env) openWith(t testing.TB, cfg Config, o Options) *Log {
	t.Helper()
	l, err := Open(e.dir, cfg, o)
	if err != nil {
		t.Fatalf("open %s: %v", e.dir, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// smallConfig rolls often and indexes densely, so that small tests cover
// many segments and index entries.
func smallConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 4 << 10
	c.IndexIntervalBytes = 256
	return c
}

// rec is one record as a test sees it.
type rec struct {
	off   int64
	key   string // "" for a null key
	value string // "<nil>" for a tombstone
	ts    int64
}

const nilValue = "<nil>"

// gen builds producer batches of records numbered from its counter:
// key "k<i % keys>", value "v<i>" padded to size bytes.
type gen struct {
	i     int
	keys  int
	size  int
	codec batch.Codec
	ts    func() int64
	// tombstone, if set, says which records (by number) are tombstones
	tombstone func(i int) bool
	// idempotent producer fields; pid -1 for none
	pid   int64
	epoch int16
	seq   int32
}

func newGen(keys, size int, ts func() int64) *gen {
	return &gen{keys: keys, size: size, ts: ts, pid: -1, epoch: -1}
}

func (g *gen) value(i int) []byte {
	v := fmt.Appendf(nil, "v%d", i)
	for len(v) < g.size {
		v = append(v, '.')
	}
	return v
}

// next returns a batch of n records and the records it holds (offsets
// relative to the batch).
func (g *gen) next(t testing.TB, n int) (batch.Batch, []rec) {
	t.Helper()
	ts := g.ts()
	recs := make([]batch.Record, n)
	want := make([]rec, n)
	for j := range recs {
		k := fmt.Appendf(nil, "k%d", g.i%max(g.keys, 1))
		v := g.value(g.i)
		want[j] = rec{off: int64(j), key: string(k), value: string(v), ts: ts + int64(j)}
		if g.tombstone != nil && g.tombstone(g.i) {
			v = nil
			want[j].value = nilValue
		}
		recs[j] = batch.Record{OffsetDelta: int32(j), TimestampDelta: int64(j), Key: k, Value: v}
		g.i++
	}
	seq := int32(-1)
	if g.pid >= 0 {
		seq = g.seq
		g.seq += int32(n)
	}
	b, err := batch.Build(recs, batch.Options{
		Codec: g.codec, FirstTimestamp: ts, MaxTimestamp: ts + int64(n-1), LastOffsetDelta: -1,
		ProducerID: g.pid, ProducerEpoch: g.epoch, BaseSequence: seq,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b, want
}

// appendN appends batches of per records until n records are written and
// returns them with their offsets.
func appendN(t testing.TB, l *Log, g *gen, n, per int) []rec {
	t.Helper()
	var out []rec
	for n > 0 {
		k := min(per, n)
		b, recs := g.next(t, k)
		res, err := l.Append(b)
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		for _, r := range recs {
			r.off += res.Base
			out = append(out, r)
		}
		n -= k
	}
	return out
}

func mustSync(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// decode turns what Read returned into records.
func decode(t testing.TB, data []byte) []rec {
	t.Helper()
	var out []rec
	for len(data) > 0 {
		b, rest, err := batch.Next(data)
		if err != nil {
			t.Fatalf("read returned a bad batch: %v", err)
		}
		if !b.CheckCRC() {
			t.Fatalf("read returned a batch with a bad crc at offset %d", b.BaseOffset())
		}
		recs, err := b.Records()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			v := nilValue
			if r.Value != nil {
				v = string(r.Value)
			}
			ts := b.FirstTimestamp() + r.TimestampDelta
			out = append(out, rec{off: b.BaseOffset() + int64(r.OffsetDelta), key: string(r.Key), value: v, ts: ts})
		}
		data = rest
	}
	return out
}

// readAll reads every record from the start offset to the high watermark,
// as a consumer would.
func readAll(t testing.TB, l *Log) []rec {
	t.Helper()
	var out []rec
	off := l.StartOffset()
	for off < l.HighWatermark() {
		data, err := l.Read(off, 64<<10, nil)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		if len(data) == 0 {
			t.Fatalf("read %d below the high watermark %d returned nothing", off, l.HighWatermark())
		}
		for _, r := range decode(t, data) {
			if r.off >= off {
				out = append(out, r)
				off = r.off + 1
			}
		}
		// Compaction may leave offsets past a batch's last record.
		last, _, _ := batch.Next(data)
		for rest := data; len(rest) > 0; {
			last, rest, _ = batch.Next(rest)
		}
		off = max(off, last.LastOffset()+1)
	}
	return out
}

func equalRecs(t testing.TB, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d\nfirst got %v\nfirst want %v", len(got), len(want), head(got), head(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func head(r []rec) []rec { return r[:min(len(r), 3)] }
