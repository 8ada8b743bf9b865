package task

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

func off(n int) map[string]any { return map[string]any{"n": n} }

// committableNs returns partition key → offset n of a committable() call.
func committableNs(s *submitted) map[string]int {
	out := map[string]int{}
	for _, ko := range s.committable() {
		out[ko.key] = ko.Offset["n"].(int)
	}
	return out
}

func TestSubmittedOutOfOrderAcks(t *testing.T) {
	s := newSubmitted()
	pa, pb := map[string]any{"p": "a"}, map[string]any{"p": "b"}
	var keys partitionKeys
	ka, kb := keys.key(pa), keys.key(pb)
	a := []subHandle{s.submit(ka, pa, off(1)), s.submit(ka, pa, off(2)), s.submit(ka, pa, off(3))}
	b := []subHandle{s.submit(kb, pb, off(10)), s.submit(kb, pb, off(11))}
	steps := []struct {
		ack  subHandle
		want map[string]int // committable after the ack
	}{
		{a[2], map[string]int{}},        // 3 acked, 1 and 2 not: nothing
		{b[1], map[string]int{}},        // 11 before 10: nothing
		{a[0], map[string]int{ka: 1}},   // 1: a up to 1
		{b[0], map[string]int{kb: 11}},  // 10: b up to 11
		{a[1], map[string]int{ka: 3}},   // 2: a up to 3 (3 was acked before)
		{a[1], map[string]int{}},        // double ack: nothing new
		{subHandle{}, map[string]int{}}, // untracked
	}
	for i, st := range steps {
		s.ack(st.ack)
		got := committableNs(s)
		if fmt.Sprint(got) != fmt.Sprint(st.want) {
			t.Fatalf("step %d: committable %v, want %v", i, got, st.want)
		}
	}
	if s.pending() != 0 {
		t.Fatalf("pending %d", s.pending())
	}
	if len(s.parts) != 0 {
		t.Fatalf("%d empty partitions kept", len(s.parts))
	}
}

// A record without an offset holds back later offsets of its partition
// until acknowledged, but does not change the stored offset itself.
func TestSubmittedNilOffsetIsABarrier(t *testing.T) {
	s := newSubmitted()
	p := map[string]any{"p": 1}
	k := (&partitionKeys{}).key(p)
	h1, h2, h3 := s.submit(k, p, off(1)), s.submit(k, p, nil), s.submit(k, p, off(3))
	s.ack(h1)
	s.ack(h3)
	if got := committableNs(s); got[k] != 1 {
		t.Fatalf("committable %v, want 1", got)
	}
	s.ack(h2)
	if got := committableNs(s); got[k] != 3 {
		t.Fatalf("committable %v, want 3", got)
	}
	if h := s.submit("", nil, off(9)); h.q != nil {
		t.Fatal("a record without a source partition must not be tracked")
	}
}

// Random acknowledgement orders never make an offset committable before
// every earlier record of its partition is acknowledged.
func TestSubmittedRandomOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		s := newSubmitted()
		var keys partitionKeys
		const parts, per = 3, 1000
		type rec struct {
			h    subHandle
			part int
			n    int
		}
		var all []rec
		for i := 0; i < per; i++ {
			for p := 0; p < parts; p++ {
				pm := map[string]any{"p": p}
				all = append(all, rec{s.submit(keys.key(pm), pm, off(i)), p, i})
			}
		}
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		acked := make([][]bool, parts)
		for p := range acked {
			acked[p] = make([]bool, per)
		}
		last := map[string]int{}
		for i, r := range all {
			s.ack(r.h)
			acked[r.part][r.n] = true
			if i%97 != 0 && i != len(all)-1 {
				continue
			}
			for _, ko := range s.committable() {
				n := ko.Offset["n"].(int)
				p := ko.Partition["p"].(int)
				for j := 0; j <= n; j++ {
					if !acked[p][j] {
						t.Fatalf("offset %d of partition %d committable while %d is unacknowledged", n, p, j)
					}
				}
				if n <= last[ko.key] && last[ko.key] != 0 {
					t.Fatalf("offset went back from %d to %d", last[ko.key], n)
				}
				last[ko.key] = n
			}
		}
		for _, n := range last {
			if n != per-1 {
				t.Fatalf("final offsets %v, want %d everywhere", last, per-1)
			}
		}
	}
}

func TestPartitionKeys(t *testing.T) {
	var k partitionKeys
	a := map[string]any{"x": 1, "y": "z"}
	b := map[string]any{"y": "z", "x": 1}
	if k.key(a) != k.key(b) || k.key(a) != `{"x":1,"y":"z"}` {
		t.Fatalf("keys %q %q", k.key(a), k.key(b))
	}
	if k.key(nil) != "" {
		t.Fatal("nil partition")
	}
}

func TestRetryPolicy(t *testing.T) {
	start := time.Unix(0, 0)
	noJitter := func(time.Duration) time.Duration { return 0 }
	for _, tc := range []struct {
		name    string
		p       retryPolicy
		attempt int
		elapsed time.Duration
		want    time.Duration
		ok      bool
	}{
		{"no retries", retryPolicy{timeout: 0, maxDelay: time.Minute}, 1, 0, 0, false},
		{"first", retryPolicy{timeout: time.Minute, maxDelay: time.Minute}, 1, 0, 300 * time.Millisecond, true},
		{"doubling", retryPolicy{timeout: time.Minute, maxDelay: time.Minute}, 3, 0, 1200 * time.Millisecond, true},
		{"capped with jitter floor", retryPolicy{timeout: time.Hour, maxDelay: time.Second}, 10, 0, 500 * time.Millisecond, true},
		{"deadline shortens", retryPolicy{timeout: time.Second, maxDelay: time.Minute}, 3, 900 * time.Millisecond, 100 * time.Millisecond, true},
		{"deadline passed", retryPolicy{timeout: time.Second, maxDelay: time.Minute}, 3, time.Second, 0, false},
		{"forever", retryPolicy{timeout: -1, maxDelay: time.Second}, 50, 1000 * time.Hour, 500 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := tc.p.delay(tc.attempt, start, start.Add(tc.elapsed), noJitter)
			if d != tc.want || ok != tc.ok {
				t.Fatalf("delay = %v, %v; want %v, %v", d, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestErrorClassAndTrace(t *testing.T) {
	base := &connectors.DataError{Msg: "bad value", Err: fmt.Errorf("cause")}
	err := fmt.Errorf("convert: %w", base)
	if got := errorClass(err); got != "*connectors.DataError" {
		t.Fatalf("errorClass = %q", got)
	}
	want := "*fmt.wrapError: convert: bad value: cause\n" +
		"Caused by: *connectors.DataError: bad value: cause\n" +
		"Caused by: *errors.errorString: cause"
	if got := errorTrace(err); got != want {
		t.Fatalf("errorTrace =\n%s\nwant\n%s", got, want)
	}
}

func TestClientProps(t *testing.T) {
	_, err := producerOpts(map[string]string{"linger.ms": "x", "acks": "2", "compression.type": "zstd"}, "producer.override.")
	if err == nil || !connectorsIsInvalid(err) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"producer.override.linger.ms", "producer.override.acks"} {
		if !containsStr(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
	cc, err := consumerOpts(map[string]string{"group.id": "g", "max.poll.records": "7",
		"partition.assignment.strategy": "org.apache.kafka.clients.consumer.RangeAssignor"}, "consumer.override.", "connect-x")
	if err != nil || cc.groupID != "g" || cc.maxPollRecords != 7 {
		t.Fatalf("consumer config %+v, %v", cc, err)
	}
}
