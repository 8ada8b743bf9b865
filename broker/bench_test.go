package broker_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/broker/brokertest"
)

// brokerConfig shortens broker.Config in the tests of this package.
type brokerConfig = broker.Config

const (
	benchRecords    = 1_000_000
	benchPartitions = 4
	benchValueSize  = 100
)

// BenchmarkBrokerVsKfake produces and consumes one million 100-byte
// records with kgo (acks=all, idempotent, fsync on for Sluice) over four
// partitions, against (a) a `sluice broker` process, (b) Sluice's broker
// in-process, as kfake runs, and (c) franz-go's in-memory kfake cluster, in
// the same run. Each round uses a fresh topic and the order of the three
// rotates from round to round, so that neither warm-up nor the page cache
// favours one; the best of three rounds counts. It reports records/s, MB/s,
// the ratios to kfake and the Sluice process's peak resident memory. Run it
// with `make bench`.
func BenchmarkBrokerVsKfake(b *testing.B) {
	const rounds = 3
	p := brokertest.StartProcess(b, "--set", fmt.Sprintf("num.partitions=%d", benchPartitions))
	_, inproc := brokertest.Start(b, func(c *brokerConfig) { c.NumPartitions = benchPartitions })
	kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(benchPartitions), kfake.AllowAutoTopicCreation())
	if err != nil {
		b.Fatal(err)
	}
	defer kf.Close()
	targets := []struct {
		name  string
		addrs []string
	}{{"sluice", []string{p.Addr}}, {"sluice-inproc", []string{inproc}}, {"kfake", kf.ListenAddrs()}}
	best := map[string]float64{}
	keep := func(k string, v float64) { best[k] = max(best[k], v) }
	for i := 0; i < b.N; i++ {
		for r := range rounds {
			topic := fmt.Sprintf("bench-%d-%d", i, r)
			for j := range targets {
				t := targets[(j+r)%len(targets)]
				keep(t.name+"-produce", produceRate(b, topic, t.addrs...))
				keep(t.name+"-consume", consumeRate(b, topic, t.addrs...))
			}
		}
	}
	mb := float64(benchValueSize) / 1e6
	for _, op := range []string{"produce", "consume"} {
		s, in, k := best["sluice-"+op], best["sluice-inproc-"+op], best["kfake-"+op]
		b.ReportMetric(s, "sluice-"+op+"-rec/s")
		b.ReportMetric(s*mb, "sluice-"+op+"-MB/s")
		b.ReportMetric(in, "sluice-inproc-"+op+"-rec/s")
		b.ReportMetric(k, "kfake-"+op+"-rec/s")
		b.ReportMetric(s/k, op+"-ratio")
		b.ReportMetric(in/k, "inproc-"+op+"-ratio")
	}
	b.ReportMetric(float64(brokertest.ProcStatusKiB(b, p.Pid(), "VmHWM:"))/1024, "sluice-peak-RSS-MiB")
}

func produceRate(b *testing.B, topic string, addrs ...string) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(1<<18), kgo.AllowAutoTopicCreation(),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	// Warm the connections and the topic metadata outside the timing.
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("warm")}).FirstErr(); err != nil {
		b.Fatal(err)
	}
	// Distinct random values: compression cannot shrink them, so the broker
	// stores and serves the full 100 bytes a record.
	values := make([]byte, benchRecords*benchValueSize)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(values); i += 8 {
		binary.LittleEndian.PutUint64(values[i:], rng.Uint64())
	}
	errs := make(chan error, 1)
	start := time.Now()
	for i := range benchRecords {
		value := values[i*benchValueSize : (i+1)*benchValueSize : (i+1)*benchValueSize]
		cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return benchRecords / el.Seconds()
}

func consumeRate(b *testing.B, topic string, addrs ...string) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	n := 0
	for n < benchRecords+1 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			b.Fatalf("after %d records: %v", n, err)
		}
		n += fs.NumRecords()
	}
	return float64(n) / time.Since(start).Seconds()
}
