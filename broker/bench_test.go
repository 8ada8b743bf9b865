package broker_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker/brokertest"
)

const (
	benchRecords    = 1_000_000
	benchPartitions = 4
	benchValueSize  = 100
)

// BenchmarkBrokerVsKfake produces and consumes one million 100-byte records
// with kgo (acks=all, idempotent, fsync on for Sluice) over four partitions,
// against (a) a `sluice broker` process and (b) franz-go's in-memory kfake
// cluster, in the same run, and reports records/s, MB/s, the ratios and the
// Sluice broker's peak resident memory. Run it with `make bench`.
func BenchmarkBrokerVsKfake(b *testing.B) {
	var sp, sc, kp, kc, rss float64
	for i := 0; i < b.N; i++ {
		p := brokertest.StartProcess(b, "--set", fmt.Sprintf("num.partitions=%d", benchPartitions))
		sp += produceRate(b, p.Addr)
		sc += consumeRate(b, p.Addr)
		rss += peakRSSMiB(b, p)
		p.Stop()

		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(benchPartitions, "bench"))
		if err != nil {
			b.Fatal(err)
		}
		kp += produceRate(b, c.ListenAddrs()...)
		kc += consumeRate(b, c.ListenAddrs()...)
		c.Close()
	}
	n := float64(b.N)
	mb := float64(benchValueSize) / 1e6
	b.ReportMetric(sp/n, "sluice-produce-rec/s")
	b.ReportMetric(sp/n*mb, "sluice-produce-MB/s")
	b.ReportMetric(kp/n, "kfake-produce-rec/s")
	b.ReportMetric(sp/kp, "produce-ratio")
	b.ReportMetric(sc/n, "sluice-consume-rec/s")
	b.ReportMetric(sc/n*mb, "sluice-consume-MB/s")
	b.ReportMetric(kc/n, "kfake-consume-rec/s")
	b.ReportMetric(sc/kc, "consume-ratio")
	b.ReportMetric(rss/n, "sluice-peak-RSS-MiB")
}

func produceRate(b *testing.B, addrs ...string) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic("bench"),
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
	value := make([]byte, benchValueSize)
	errs := make(chan error, 1)
	start := time.Now()
	for range benchRecords {
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

func consumeRate(b *testing.B, addrs ...string) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics("bench"),
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

// peakRSSMiB reads VmHWM, the peak resident set of the broker process.
func peakRSSMiB(b *testing.B, p *brokertest.Proc) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM")
	return 0
}
