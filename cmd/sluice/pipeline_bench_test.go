package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker/brokertest"
)

const pipelineRecords = 300_000

// BenchmarkWorkerPipeline measures one `sluice worker` process end to end:
// a datagen source (orders) → JsonConverter (schemas on, Kafka's default)
// → the embedded broker → JsonConverter → FileStreamSink, until every
// record is a line of the sink's file. In the same run the same records
// (the bytes the converter wrote to the topic) are produced directly with
// kgo to the same broker, as the baseline. It reports records/s of both and
// their ratio, the worker's resident memory idle after start-up and its
// peak under the load, and the time from process start to REST ready.
// Run it with `make bench`.
func BenchmarkWorkerPipeline(b *testing.B) {
	bin := brokertest.Binary(b)
	for i := 0; i < b.N; i++ {
		data := b.TempDir()
		port, bport := freePort(b), freePort(b)
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		broker := fmt.Sprintf("127.0.0.1:%d", bport)
		start := time.Now()
		p := startWorkerProc(b, bin, url, "--set", "data.dir="+data, "--set", "broker.listen="+broker,
			"--set", "listeners="+url, "--log-level", "warn")
		p.waitHealthy(30 * time.Second)
		ready := time.Since(start)
		time.Sleep(time.Second) // let start-up garbage be collected before reading idle memory
		idle := brokertest.ProcStatusKiB(b, p.cmd.Process.Pid, "VmRSS:")

		out := filepath.Join(data, "orders.out")
		post(b, url, `{"name":"sink","config":{"connector.class":"FileStreamSink","topics":"orders","file":"`+out+`"}}`)
		t0 := time.Now()
		post(b, url, `{"name":"gen","config":{"connector.class":"datagen","kafka.topic":"orders","quickstart":"orders","iterations":"`+
			strconv.Itoa(pipelineRecords)+`","max.interval":"0"}}`)
		deadline := time.Now().Add(5 * time.Minute)
		var count lineCounter
		for count.lines(out) < pipelineRecords {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d records reached the sink in 5 minutes", count.n, pipelineRecords)
			}
			time.Sleep(50 * time.Millisecond)
		}
		pipeline := pipelineRecords / time.Since(t0).Seconds()
		peak := brokertest.ProcStatusKiB(b, p.cmd.Process.Pid, "VmHWM:")

		baseline := kgoBaseline(b, broker)

		b.ReportMetric(pipeline, "pipeline-rec/s")
		b.ReportMetric(baseline, "kgo-produce-rec/s")
		b.ReportMetric(pipeline/baseline, "ratio")
		b.ReportMetric(float64(idle)/1024, "idle-RSS-MiB")
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(ready.Milliseconds()), "ms-to-ready")
		p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
		p.done <- nil
	}
}

// kgoBaseline reads what the pipeline wrote to the topic and produces the
// same values again, pipelineRecords of them, straight from kgo.
func kgoBaseline(b *testing.B, broker string) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cons, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	var values [][]byte
	for len(values) < 10000 {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			b.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { values = append(values, r.Value) })
	}
	cons.Close()

	prod, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic("baseline"), kgo.AllowAutoTopicCreation())
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	t0 := time.Now()
	for i := range pipelineRecords {
		prod.Produce(ctx, &kgo.Record{Value: values[i%len(values)]}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return pipelineRecords / time.Since(t0).Seconds()
}

func post(b *testing.B, url, body string) {
	resp, err := http.Post(url+"/connectors", "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("POST /connectors: %d", resp.StatusCode)
	}
}

// lineCounter counts the lines of a growing file, reading only what was
// appended since the last call: the benchmark must not spend the CPU it
// measures.
type lineCounter struct {
	off int64
	n   int
	buf []byte
}

func (c *lineCounter) lines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return c.n
	}
	defer f.Close()
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	for {
		k, err := f.ReadAt(c.buf, c.off)
		c.n += bytes.Count(c.buf[:k], []byte{'\n'})
		c.off += int64(k)
		if err != nil || k == 0 {
			return c.n
		}
	}
}
