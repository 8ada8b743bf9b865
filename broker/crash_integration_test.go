//go:build integration

package broker_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker/brokertest"
)

// TestCrashAcksAllLosesNothing kills a `sluice broker` process with SIGKILL
// several times while an idempotent kgo producer writes with acks=all, and
// restarts it on the same directory. Every record the broker acknowledged
// must be there afterwards, once, and in the order it was produced within
// its partition. The producer keeps its producer ID across the restarts, so
// its retries of batches that were written but not acknowledged must be
// deduplicated by the recovered producer state.
func TestCrashAcksAllLosesNothing(t *testing.T) {
	p := brokertest.StartProcess(t, "--set", "num.partitions=4")
	const topic = "crash"

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(p.Addr),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordRetries(1<<30),
		kgo.RetryTimeout(2*time.Minute),
		kgo.ProducerLinger(time.Millisecond),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.AllowAutoTopicCreation(),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	var mu sync.Mutex
	acked := map[uint64]int32{} // sequence number → partition
	var failed []error
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var produced uint64
	go func() {
		defer wg.Done()
		for seq := uint64(0); ctx.Err() == nil; seq++ {
			v := make([]byte, 100)
			binary.BigEndian.PutUint64(v, seq)
			cl.Produce(ctx, &kgo.Record{Value: v}, func(r *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if ctx.Err() == nil {
						failed = append(failed, err)
					}
					return
				}
				acked[binary.BigEndian.Uint64(r.Value)] = r.Partition
			})
			mu.Lock()
			produced = seq
			mu.Unlock()
		}
	}()

	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for round := 1; round <= 4; round++ {
		target := ackedCount() + 20000
		brokertest.Eventually(t, time.Minute, fmt.Sprintf("round %d: %d acks", round, target), func() bool { return ackedCount() >= target })
		p.Kill()
		p.Start()
	}
	target := ackedCount() + 20000
	brokertest.Eventually(t, time.Minute, "acks after the last restart", func() bool { return ackedCount() >= target })
	cancel()
	wg.Wait()
	cl.Flush(context.Background())

	mu.Lock()
	defer mu.Unlock()
	if len(failed) > 0 {
		t.Fatalf("%d produce errors, first: %v", len(failed), failed[0])
	}
	t.Logf("produced %d, acknowledged %d across 4 kill -9 restarts", produced, len(acked))

	cons, err := kgo.NewClient(kgo.SeedBrokers(p.Addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	seen := map[uint64]int{}
	last := map[int32]uint64{}
	deadline := time.Now().Add(2 * time.Minute)
	missing := func() int {
		n := 0
		for s := range acked {
			if seen[s] == 0 {
				n++
			}
		}
		return n
	}
	for missing() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged records missing after restart", missing())
		}
		fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
		fs := cons.PollFetches(fctx)
		fcancel()
		fs.EachError(func(_ string, _ int32, err error) {
			if err != context.DeadlineExceeded {
				t.Fatalf("fetch: %v", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			s := binary.BigEndian.Uint64(r.Value)
			seen[s]++
			if seen[s] > 1 {
				t.Fatalf("record %d served twice (partition %d offset %d)", s, r.Partition, r.Offset)
			}
			if prev, ok := last[r.Partition]; ok && s < prev {
				t.Fatalf("partition %d: record %d after %d: out of order", r.Partition, s, prev)
			}
			last[r.Partition] = s
			if want, ok := acked[s]; ok && want != r.Partition {
				t.Fatalf("record %d acknowledged on partition %d, served on %d", s, want, r.Partition)
			}
		})
	}
}
