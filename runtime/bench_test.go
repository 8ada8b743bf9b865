package runtime

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWorkerStartInProcess measures NewWorker + Start (embedded
// broker, internal topics created) until the herder answers healthy, in
// this process. BenchmarkWorkerStart in cmd/sluice measures the same from
// process start to REST ready.
func BenchmarkWorkerStartInProcess(b *testing.B) {
	reg := testRegistry(b)
	for i := 0; i < b.N; i++ {
		cfg := testConfig(b, b.TempDir())
		w, err := NewWorker(cfg, Options{Registry: reg})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		if hl := w.Herder().Health(context.Background()); hl.Status != "healthy" {
			b.Fatal(hl)
		}
		b.StopTimer()
		w.Close(context.Background())
		b.StartTimer()
	}
}

// BenchmarkDatagenToFile runs the demo pipeline of the README through one
// worker: datagen (orders, no delay) → embedded broker → FileStreamSink,
// JsonConverter with schemas, and reports records/s end to end.
func BenchmarkDatagenToFile(b *testing.B) {
	const records = 200_000
	w := startWorker(b, func(c *WorkerConfig, _ *Options) { c.OffsetFlushInterval = time.Second })
	h := w.Herder()
	ctx := context.Background()
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		topic := fmt.Sprintf("orders-%d", i)
		out := filepath.Join(dir, topic)
		start := time.Now()
		if _, err := h.CreateConnector(ctx, topic+"-sink", map[string]string{"connector.class": "FileStreamSink", "topics": topic, "file": out}, ""); err != nil {
			b.Fatal(err)
		}
		if _, err := h.CreateConnector(ctx, topic, map[string]string{"connector.class": "datagen", "kafka.topic": topic,
			"quickstart": "orders", "iterations": fmt.Sprint(records), "max.interval": "0"}, ""); err != nil {
			b.Fatal(err)
		}
		var c lineCounter
		for c.lines(out) < records {
			time.Sleep(20 * time.Millisecond)
		}
		d := time.Since(start)
		b.ReportMetric(float64(records)/d.Seconds(), "records/s")
	}
}

// lineCounter counts the lines of a growing file, reading only what was
// appended since the last call, so the benchmark does not spend the CPU it
// measures.
type lineCounter struct {
	off int64
	n   int
}

func (c *lineCounter) lines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return c.n
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		k, err := f.ReadAt(buf, c.off)
		c.n += bytes.Count(buf[:k], []byte{'\n'})
		c.off += int64(k)
		if err != nil || k == 0 {
			return c.n
		}
	}
}
