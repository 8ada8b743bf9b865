package broker_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeGroup reads n records of topic as a member of group, committing
// them, and closes its client (leaving the group).
func consumeGroup(t testing.TB, addr, group, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, 60*time.Second)
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group %s consumed %d of %d records before the deadline", group, len(recs), n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		recs = append(recs, fs.Records()...)
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	return recs
}

func TestConsumerGroupOffsetsSurviveRestart(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "grp", 3, nil)
	produceN(t, newClient(t, tb.addr), "grp", "a", 3000)
	checkContiguous(t, consumeGroup(t, tb.addr, "g1", "grp", 3000), values("a", 3000))

	committed := func(addr string) int64 {
		t.Helper()
		offs, err := newAdmin(t, addr).FetchOffsets(testCtx(t, 10*time.Second), "g1")
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
		return sum
	}
	if got := committed(tb.addr); got != 3000 {
		t.Fatalf("committed offsets sum to %d, want 3000", got)
	}

	tb = tb.restart(t)
	if got := committed(tb.addr); got != 3000 {
		t.Fatalf("after restart committed offsets sum to %d, want 3000", got)
	}
	// The group resumes where it committed: only the new records.
	produceN(t, newClient(t, tb.addr), "grp", "b", 30)
	recs := consumeGroup(t, tb.addr, "g1", "grp", 30)
	for _, r := range recs {
		if string(r.Value[:2]) != "b-" {
			t.Fatalf("re-consumed %q after restart", r.Value)
		}
	}
}

func TestConsumerGroupTwoMembers(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "two", 4, nil)
	produceN(t, newClient(t, tb.addr), "two", "m", 4000)

	mk := func() *kgo.Client {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(tb.addr),
			kgo.ConsumerGroup("g2"),
			kgo.ConsumeTopics("two"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.FetchMaxWait(200*time.Millisecond),
			kgo.FetchMaxPartitionBytes(4<<10),
		)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	a, b := mk(), mk()
	ctx := testCtx(t, 60*time.Second)
	seen := map[string]int{}
	for len(seen) < 4000 {
		for _, cl := range []*kgo.Client{a, b} {
			pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			fs := cl.PollFetches(pctx)
			cancel()
			if ctx.Err() != nil {
				t.Fatalf("consumed %d distinct records before the deadline", len(seen))
			}
			fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
		}
	}
	if len(seen) != 4000 {
		t.Fatalf("%d distinct records", len(seen))
	}
	// Both members end up sharing the partitions (DescribeGroups goes
	// through the coordinator too).
	adm := newAdmin(t, tb.addr)
	waitFor(t, 30*time.Second, "a stable group of two members", func() bool {
		for _, cl := range []*kgo.Client{a, b} {
			pctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			cl.PollFetches(pctx) // keep both members polling
			cancel()
		}
		dg, err := adm.DescribeGroups(ctx, "g2")
		if err != nil {
			return false
		}
		g := dg["g2"]
		if g.State != "Stable" || len(g.Members) != 2 {
			return false
		}
		for _, m := range g.Members {
			ca, ok := m.Assigned.AsConsumer()
			if !ok || len(ca.Topics) != 1 || len(ca.Topics[0].Partitions) != 2 {
				return false
			}
		}
		return true
	})
}

// TestConsumerGroupMembersJoinAndLeaveMidStream runs kgo group members
// with the eager range balancer and with cooperative-sticky while a
// producer writes: a second member joins mid-stream, then the first leaves.
// Members commit what they processed before giving partitions up
// (BlockRebalanceOnPoll), so every record must be consumed exactly once.
func TestConsumerGroupMembersJoinAndLeaveMidStream(t *testing.T) {
	for _, tc := range []struct {
		name     string
		balancer kgo.GroupBalancer
	}{
		{"eager-range", kgo.RangeBalancer()},
		{"cooperative-sticky", kgo.CooperativeStickyBalancer()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := startBroker(t, "")
			const topic, minRecords = "stream", 5000
			createTopic(t, tb.addr, topic, 6, nil)
			ctx := testCtx(t, 2*time.Minute)

			var mu sync.Mutex
			seen := map[string]int{}
			by := map[string]int{} // records consumed per member
			count := func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }

			member := func(name string, stop <-chan struct{}, done chan<- struct{}) {
				defer close(done)
				cl := newClient(t, tb.addr,
					kgo.ConsumerGroup("g-"+tc.name),
					kgo.ConsumeTopics(topic),
					kgo.Balancers(tc.balancer),
					kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
					kgo.DisableAutoCommit(),
					kgo.BlockRebalanceOnPoll(),
					kgo.FetchMaxWait(100*time.Millisecond),
					kgo.SessionTimeout(6*time.Second),
					kgo.HeartbeatInterval(100*time.Millisecond), // members learn of a rebalance on their next heartbeat
				)
				defer cl.Close()
				for {
					select {
					case <-stop:
						return
					default:
					}
					pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
					fs := cl.PollFetches(pctx)
					cancel()
					mu.Lock()
					for _, r := range fs.Records() {
						seen[string(r.Value)]++
						by[name]++
					}
					mu.Unlock()
					if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
						t.Errorf("commit: %v", err)
					}
					cl.AllowRebalance()
				}
			}

			// Produce in the background, paced, until the members have
			// joined and left: the join and the leave happen mid-stream
			// however slow the machine is.
			prod := newClient(t, tb.addr, kgo.DefaultProduceTopic(topic))
			var prodErr error
			var prodMu sync.Mutex
			var produced atomic.Int64
			stopProducing, prodDone := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(prodDone)
				for i := 0; ctx.Err() == nil; i++ {
					select {
					case <-stopProducing:
						prod.Flush(ctx)
						return
					default:
					}
					prod.Produce(ctx, &kgo.Record{Value: []byte("r-" + strconv.Itoa(i))}, func(_ *kgo.Record, err error) {
						if err != nil {
							prodMu.Lock()
							prodErr = err
							prodMu.Unlock()
						}
					})
					produced.Add(1)
					if i%1000 == 999 {
						time.Sleep(100 * time.Millisecond)
					}
				}
			}()

			stopA, doneA := make(chan struct{}), make(chan struct{})
			go member("a", stopA, doneA)
			waitUntil(t, ctx, "first member consuming", func() bool { return count() >= minRecords })

			stopB, doneB := make(chan struct{}), make(chan struct{})
			mu.Lock()
			aAtJoin := by["a"]
			mu.Unlock()
			go member("b", stopB, doneB)
			// Both members consume after the join: the newcomer got
			// partitions and the incumbent kept some (under
			// cooperative-sticky it is never stopped).
			waitUntil(t, ctx, "both members consuming after the join", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return by["b"] >= 500 && by["a"] >= aAtJoin+500
			})
			close(stopA) // the first member leaves the group mid-stream
			<-doneA
			mu.Lock()
			atLeave := len(seen)
			mu.Unlock()
			waitUntil(t, ctx, "the second member consuming after the leave", func() bool { return count() >= atLeave+500 })
			close(stopProducing)
			<-prodDone
			total := int(produced.Load())
			waitUntil(t, ctx, "every record consumed after the leave", func() bool { return count() >= total })
			close(stopB)
			<-doneB

			prodMu.Lock()
			if prodErr != nil {
				t.Fatalf("produce: %v", prodErr)
			}
			prodMu.Unlock()
			mu.Lock()
			defer mu.Unlock()
			want := values("r", total)
			for v := range want {
				if seen[v] != 1 {
					t.Fatalf("record %s consumed %d times", v, seen[v])
				}
			}
			t.Logf("consumed by member: %v", by)
			if len(seen) != total {
				t.Fatalf("consumed %d distinct records, want %d", len(seen), total)
			}
		})
	}
}

func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
