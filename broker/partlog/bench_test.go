package partlog

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/broker/batch"
)

// benchBatch is a ~16 KiB batch of 100-byte records, as a producer with
// linger and batch.size=16384 sends it.
func benchBatch(b *testing.B) (batch.Batch, int) {
	const recSize, n = 100, 150
	recs := make([]batch.Record, n)
	for i := range recs {
		recs[i] = batch.Record{OffsetDelta: int32(i), Key: fmt.Appendf(nil, "key-%06d", i), Value: make([]byte, recSize-10)}
	}
	bt, err := batch.Build(recs, batch.Options{LastOffsetDelta: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, FirstTimestamp: 1, MaxTimestamp: 1})
	if err != nil {
		b.Fatal(err)
	}
	return bt, n
}

// BenchmarkAppendSync appends 16 KiB batches of 100-byte records to a log
// on the real filesystem, with one group-committed fsync every
// batchesPerSync batches, and reports records/s.
func BenchmarkAppendSync(b *testing.B) {
	for _, perSync := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("batchesPerSync=%d", perSync), func(b *testing.B) {
			bt, n := benchBatch(b)
			cfg := DefaultConfig()
			cfg.SegmentBytes = 256 << 20
			l, err := Open(filepath.Join(b.TempDir(), "p"), cfg, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			b.SetBytes(int64(len(bt)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := l.Append(bt); err != nil {
					b.Fatal(err)
				}
				if (i+1)%perSync == 0 {
					if err := l.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := l.Sync(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
	// Producers on 8 partitions, each waiting for its own append to be
	// durable (acks=all) through one Syncer: group commit at work.
	b.Run("syncer-8-partitions", func(b *testing.B) {
		bt, n := benchBatch(b)
		cfg := DefaultConfig()
		cfg.SegmentBytes = 256 << 20
		s := NewSyncer()
		defer s.Close()
		dir := b.TempDir()
		var logs []*Log
		for p := range 8 {
			l, err := Open(filepath.Join(dir, fmt.Sprint("p", p)), cfg, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			logs = append(logs, l)
		}
		var mu sync.Mutex
		next := 0
		b.SetBytes(int64(len(bt)))
		b.SetParallelism(8) // many producers per core: they wait on fsync
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			mu.Lock()
			l := logs[next%len(logs)]
			next++
			mu.Unlock()
			own := append(batch.Batch(nil), bt...)
			for pb.Next() {
				if _, err := l.Append(own); err != nil {
					b.Error(err)
					return
				}
				if err := s.Sync(l); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
	})
}

// BenchmarkAppend is the append path alone: validation, idempotence
// bookkeeping and the write, with no fsync (the page cache absorbs it).
func BenchmarkAppend(b *testing.B) {
	bt, n := benchBatch(b)
	cfg := DefaultConfig()
	cfg.SegmentBytes = 256 << 20
	l, err := Open(filepath.Join(b.TempDir(), "p"), cfg, Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		b.StopTimer() // Close fsyncs what the page cache holds
		l.Close()
	}()
	b.SetBytes(int64(len(bt)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := l.Append(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRead reads a 64 MiB log from start to end, 1 MiB per Read, as a
// consumer catching up does.
func BenchmarkRead(b *testing.B) {
	bt, n := benchBatch(b)
	cfg := DefaultConfig()
	cfg.SegmentBytes = 16 << 20
	l, err := Open(filepath.Join(b.TempDir(), "p"), cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var total int64
	for total < 64<<20 {
		if _, err := l.Append(bt); err != nil {
			b.Fatal(err)
		}
		total += int64(len(bt))
	}
	if err := l.Sync(); err != nil {
		b.Fatal(err)
	}
	end := l.HighWatermark()
	buf := make([]byte, 0, 2<<20)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for off := int64(0); off < end; {
			data, err := l.Read(off, 1<<20, buf[:0])
			if err != nil {
				b.Fatal(err)
			}
			for rest := data; len(rest) > 0; {
				var last batch.Batch
				last, rest, _ = batch.Next(rest)
				off = last.LastOffset() + 1
			}
		}
	}
	b.ReportMetric(float64(b.N)*float64(end)/b.Elapsed().Seconds(), "records/s")
	_ = n
}
