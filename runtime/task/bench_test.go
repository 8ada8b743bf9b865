package task

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/convert"
)

// Run with a fixed record count, e.g.
//
//	go test -run '^$' -bench Pipeline -benchtime 500000x ./runtime/task
//
// (a -benchtime under 100000x, such as make bench's 1x, runs 200000
// records: the figures are throughput over one run). Each benchmark
// reports the pipeline's records/s, a direct kgo baseline over the same
// records in the same run, and pipeline/baseline; sub-benchmarks run
// JsonConverter with schemas.enable true and false.

// benchN is the number of records a benchmark run moves.
func benchN(b *testing.B) int {
	if b.N < 100_000 {
		return 200_000
	}
	return b.N
}

var benchSchemas = []string{"true", "false"}

var benchSchema = connectors.StructSchema().Name("order").
	Field("id", connectors.Int64Schema).Field("customer", connectors.StringSchema).
	Field("amount", connectors.Float64Schema).Field("status", connectors.StringSchema).MustBuild()

// benchValues are a few prebuilt record values, so that the source costs
// next to nothing.
var benchValues = func() []*connectors.Struct {
	out := make([]*connectors.Struct, 64)
	for i := range out {
		s := connectors.NewStruct(benchSchema)
		_ = s.Put("id", int64(i))
		_ = s.Put("customer", fmt.Sprintf("customer-%04d", i))
		_ = s.Put("amount", float64(i)*1.25)
		_ = s.Put("status", "PAID")
		out[i] = s
	}
	return out
}()

var benchKeys = func() []string {
	out := make([]string, 64)
	for i := range out {
		out[i] = fmt.Sprintf("key-%d", i)
	}
	return out
}()

// fastSource returns total records in batches of 500, then ErrEndOfInput.
type fastSource struct {
	topic string
	total int
	next  int
	part  map[string]any
}

func (s *fastSource) Open(context.Context, connectors.SourceContext, map[string]string) error {
	s.part = map[string]any{"bench": 0}
	return nil
}

func (s *fastSource) Poll(context.Context) ([]connectors.Record, error) {
	if s.next >= s.total {
		return nil, connectors.ErrEndOfInput
	}
	n := min(500, s.total-s.next)
	recs := make([]connectors.Record, n)
	for i := range recs {
		j := s.next + i
		recs[i] = connectors.Record{Topic: s.topic, KeySchema: connectors.StringSchema, Key: benchKeys[j%64],
			ValueSchema: benchSchema, Value: benchValues[j%64],
			SourcePartition: s.part, SourceOffset: map[string]any{"pos": int64(j)}}
	}
	s.next += n
	return recs, nil
}

func (s *fastSource) Commit(context.Context, []connectors.SourceOffset) error { return nil }
func (s *fastSource) Close(context.Context) error                             { return nil }

// benchRecords serialises n records as the JsonConverter (schemas on)
// writes them.
func benchRecords(b *testing.B, topic, schemas string, n int) []*kgo.Record {
	kc, vc := convert.NewJSONConverter(), convert.NewJSONConverter()
	cfg := map[string]string{"schemas.enable": schemas}
	if err := kc.Configure(cfg, true); err != nil {
		b.Fatal(err)
	}
	if err := vc.Configure(cfg, false); err != nil {
		b.Fatal(err)
	}
	var keys, vals [64][]byte
	for i := range 64 {
		keys[i], _ = kc.FromConnect(topic, connectors.StringSchema, benchKeys[i])
		vals[i], _ = vc.FromConnect(topic, benchSchema, benchValues[i])
	}
	out := make([]*kgo.Record, n)
	for i := range out {
		out[i] = &kgo.Record{Topic: topic, Key: keys[i%64], Value: vals[i%64]}
	}
	return out
}

func benchEnv(b *testing.B, addr string) Env {
	env, _, _ := newEnv(b, addr)
	env.Worker.OffsetFlushInterval = time.Second
	return env
}

func reportRates(b *testing.B, n int, pipeline, baseline time.Duration) {
	p := float64(n) / pipeline.Seconds()
	k := float64(n) / baseline.Seconds()
	b.ReportMetric(p, "records/s")
	b.ReportMetric(k, "kgo-records/s")
	b.ReportMetric(p/k, "ratio")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSourcePipeline: an in-memory source → JsonConverter (schemas
// on, key and value) → the broker, acks=all, idempotent; baseline: the
// same pre-serialised records produced by one kgo client with the same
// settings.
func BenchmarkSourcePipeline(b *testing.B) {
	for _, schemas := range benchSchemas {
		b.Run("schemas="+schemas, func(b *testing.B) { benchSource(b, schemas) })
	}
}

func benchSource(b *testing.B, schemas string) {
	addr := startBroker(b)
	n := benchN(b)
	topic := fmt.Sprintf("bench-src-%d", n)
	createTopic(b, addr, topic, 1)
	env := benchEnv(b, addr)
	src := &fastSource{topic: topic, total: n}
	spec := sourceSpec("bench", map[string]string{
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": schemas,
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": schemas,
	}, src)
	b.ResetTimer()
	start := time.Now()
	tk, err := Start(context.Background(), spec, env)
	if err != nil {
		b.Fatal(err)
	}
	<-tk.Done()
	pipeline := time.Since(start)
	b.StopTimer()
	if err := tk.Err(); err != nil {
		b.Fatal(err)
	}

	recs := benchRecords(b, topic+"-kgo", schemas, n)
	createTopic(b, addr, topic+"-kgo", 1)
	cl := newClient(b, addr, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedBytes(defaultBufferMemory))
	start = time.Now()
	var failed atomic.Int64
	for _, r := range recs {
		cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil || failed.Load() > 0 {
		b.Fatalf("baseline produce: %v (%d failed)", err, failed.Load())
	}
	reportRates(b, n, pipeline, time.Since(start))
}

// countSink counts records and signals when it has seen total.
type countSink struct {
	total int64
	n     atomic.Int64
	done  chan struct{}
}

func (s *countSink) Open(context.Context, connectors.SinkContext, map[string]string) error {
	return nil
}
func (s *countSink) Put(_ context.Context, recs []connectors.Record) error {
	if s.n.Add(int64(len(recs))) == s.total && len(recs) > 0 {
		close(s.done)
	}
	return nil
}
func (s *countSink) Flush(_ context.Context, o map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error) {
	return o, nil
}
func (s *countSink) Close(context.Context) error { return nil }

// BenchmarkSinkPipeline: a topic of JSON records (schemas on) → consumer
// group → JsonConverter → a sink that only counts; baseline: one kgo
// consumer reading the same records.
func BenchmarkSinkPipeline(b *testing.B) {
	for _, schemas := range benchSchemas {
		b.Run("schemas="+schemas, func(b *testing.B) { benchSink(b, schemas) })
	}
}

func benchSink(b *testing.B, schemas string) {
	addr := startBroker(b)
	n := benchN(b)
	topic := fmt.Sprintf("bench-sink-%d", n)
	createTopic(b, addr, topic, 1)
	recs := benchRecords(b, topic, schemas, n)
	cl := newClient(b, addr, kgo.ProducerBatchCompression(kgo.NoCompression()))
	for _, r := range recs {
		cl.Produce(context.Background(), r, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	env := benchEnv(b, addr)
	sink := &countSink{total: int64(n), done: make(chan struct{})}
	spec := sinkSpec("bench", 0, map[string]string{"topics": topic,
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": schemas,
		"value.converter.schemas.enable": schemas}, sink)
	b.ResetTimer()
	start := time.Now()
	tk, err := Start(context.Background(), spec, env)
	if err != nil {
		b.Fatal(err)
	}
	select {
	case <-sink.done:
	case <-tk.Done():
		b.Fatalf("sink task ended: %v", tk.Err())
	}
	pipeline := time.Since(start)
	b.StopTimer()
	stopTask(b, tk)

	cons := newClient(b, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	start = time.Now()
	for got := 0; got < n; {
		fs := cons.PollFetches(context.Background())
		got += fs.NumRecords()
	}
	reportRates(b, n, pipeline, time.Since(start))
}
