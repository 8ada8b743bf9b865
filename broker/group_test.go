package broker_test

import (
	"context"
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
