package group

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newTestCoordinator returns a Coordinator over a memStore with a fake
// clock, closed at the end of the test.
func newTestCoordinator(t *testing.T, opts ...func(*Config)) (*Coordinator, *memStore, *time.Time) {
	t.Helper()
	store := &memStore{}
	now := t0
	cfg := Config{Store: store, Logger: discard, Now: func() time.Time { return now }}
	for _, o := range opts {
		o(&cfg)
	}
	c := New(cfg)
	t.Cleanup(c.Close)
	return c, store, &now
}

func TestOffsetCommitChecks(t *testing.T) {
	type reqs struct{ simple, current, old, unknown, anonymous int16 }
	const (
		ok      = 0
		unknown = 25 // UNKNOWN_MEMBER_ID
		illegal = 22 // ILLEGAL_GENERATION
		rebal   = 27 // REBALANCE_IN_PROGRESS
	)
	for _, tc := range []struct {
		name  string
		setup func(h *harness) (member string)
		want  reqs
	}{
		{"new group", func(h *harness) string { return "x" },
			reqs{ok, unknown, unknown, unknown, unknown}},
		{"empty after members left", func(h *harness) string {
			a, b := h.stableTwo(9, 5)
			h.g.leave(h.now, leaveReq(5, a, b))
			return a
		}, reqs{ok, unknown, unknown, unknown, unknown}},
		{"stable", func(h *harness) string { a, _ := h.stableTwo(9, 5); return a },
			reqs{unknown, ok, illegal, unknown, unknown}},
		{"preparing", func(h *harness) string {
			a, _ := h.stableTwo(9, 5)
			h.g.join(h.now, joinReq(9, a), client{id: "ca"})
			return a
		}, reqs{unknown, ok, illegal, unknown, unknown}},
		{"completing", func(h *harness) string {
			a, b := h.stableTwo(9, 5)
			h.g.join(h.now, joinReq(9, a), client{id: "ca"})
			h.g.join(h.now, joinReq(9, b), client{id: "cb"})
			return a
		}, reqs{unknown, rebal, illegal, unknown, unknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			m := tc.setup(h)
			gen := h.g.generation
			for _, r := range []struct {
				name string
				req  *kmsg.OffsetCommitRequest
				want int16
			}{
				{"simple", commitReq(8, "", -1, 1, "t"), tc.want.simple},
				{"v0 simple", commitReq(0, "", -1, 1, "t"), tc.want.simple},
				{"current generation", commitReq(8, m, gen, 1, "t"), tc.want.current},
				{"old generation", commitReq(8, m, gen-1, 1, "t"), tc.want.old},
				{"unknown member", commitReq(8, "nope", gen, 1, "t"), tc.want.unknown},
				{"no member with generation", commitReq(8, "", gen, 1, "t"), tc.want.anonymous},
			} {
				resp := roundTrip(t, h.g.commit(h.now, r.req))
				code(t, r.name, resp.Topics[0].Partitions[0].ErrorCode, r.want)
			}
		})
	}
}

func TestOffsetCommitFetch(t *testing.T) {
	c, store, _ := newTestCoordinator(t)
	ctx := context.Background()
	commit := func(req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
		return roundTrip(t, c.OffsetCommit(ctx, req))
	}

	// v2 has no leader epoch; one partition's metadata is too large.
	req := commitReq(2, "", -1, 10, "t", "u")
	big := kmsg.NewOffsetCommitRequestTopicPartition()
	big.Partition = 1
	big.Metadata = kmsg.StringPtr(string(make([]byte, 4097)))
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, big)
	resp := commit(req)
	code(t, "t/0", resp.Topics[0].Partitions[0].ErrorCode, 0)
	code(t, "t/1", resp.Topics[0].Partitions[1].ErrorCode, kerr.OffsetMetadataTooLarge.Code)
	code(t, "u/0", resp.Topics[1].Partitions[0].ErrorCode, 0)
	if n := len(store.records()); n != 2 {
		t.Fatalf("%d records stored, want 2", n)
	}

	fetch := func(v int16, group string, topics map[string][]int32) *kmsg.OffsetFetchResponse {
		r := kmsg.NewPtrOffsetFetchRequest()
		r.Version = v
		r.Group = group
		if topics != nil {
			r.Topics = []kmsg.OffsetFetchRequestTopic{}
			for _, name := range sortedKeys(map[string]string{"t": "", "u": ""}) {
				if ps, ok := topics[name]; ok {
					rt := kmsg.NewOffsetFetchRequestTopic()
					rt.Topic, rt.Partitions = name, ps
					r.Topics = append(r.Topics, rt)
				}
			}
		}
		return roundTrip(t, c.OffsetFetch(ctx, r))
	}
	type po struct {
		offset int64
		epoch  int32
		meta   string
	}
	flat := func(ts []kmsg.OffsetFetchResponseTopic) map[string]po {
		m := map[string]po{}
		for _, t := range ts {
			for _, p := range t.Partitions {
				m[fmt.Sprintf("%s/%d", t.Topic, p.Partition)] = po{p.Offset, p.LeaderEpoch, *p.Metadata}
			}
		}
		return m
	}

	r := fetch(1, "g", map[string][]int32{"t": {0, 1}})
	if got := flat(r.Topics); fmt.Sprint(got) != fmt.Sprint(map[string]po{"t/0": {10, -1, "meta-t"}, "t/1": {-1, -1, ""}}) {
		t.Fatalf("v1 fetch: %v", got)
	}

	// v8 commits carry the leader epoch; v5+ fetches return it.
	commit(commitReq(8, "", -1, 11, "t"))
	r = fetch(5, "g", map[string][]int32{"t": {0}})
	if got := flat(r.Topics); got["t/0"] != (po{11, 7, "meta-t"}) {
		t.Fatalf("v5 fetch: %v", got)
	}

	// null topics (v2+) = all, sorted.
	r = fetch(7, "g", nil)
	if got := flat(r.Topics); len(r.Topics) != 2 || r.Topics[0].Topic != "t" || got["u/0"].offset != 10 || got["t/0"].offset != 11 {
		t.Fatalf("v7 fetch all: %+v", r.Topics)
	}

	// v8 batches groups; unknown groups have no offsets and no error.
	r8 := kmsg.NewPtrOffsetFetchRequest()
	r8.Version = 8
	for _, name := range []string{"g", "missing"} {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = name
		r8.Groups = append(r8.Groups, rg)
	}
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = "missing"
	rt := kmsg.NewOffsetFetchRequestGroupTopic()
	rt.Topic, rt.Partitions = "t", []int32{0}
	rg.Topics = append(rg.Topics, rt)
	r8.Groups = append(r8.Groups, rg)
	resp8 := roundTrip(t, c.OffsetFetch(ctx, r8))
	if len(resp8.Groups) != 3 || len(resp8.Groups[0].Topics) != 2 || len(resp8.Groups[1].Topics) != 0 ||
		resp8.Groups[2].Topics[0].Partitions[0].Offset != -1 || resp8.Groups[2].ErrorCode != 0 {
		t.Fatalf("v8 fetch: %+v", resp8.Groups)
	}

	// A commit with a generation to a group that does not exist is stale,
	// and creates nothing.
	stale := commitReq(8, "m", 3, 1, "t")
	stale.Group = "nogroup"
	code(t, "stale commit", commit(stale).Topics[0].Partitions[0].ErrorCode, kerr.IllegalGeneration.Code)
	if l := c.ListGroups(ctx, kmsg.NewPtrListGroupsRequest()); len(l.Groups) != 1 {
		t.Fatalf("groups %+v", l.Groups)
	}
}

func TestOffsetCommitStoreFailure(t *testing.T) {
	h := newHarness(t)
	code(t, "commit", h.g.commit(h.now, commitReq(8, "", -1, 1, "t")).Topics[0].Partitions[0].ErrorCode, 0)
	h.store.setFail(errors.New("disk full"))
	code(t, "failed commit", h.g.commit(h.now, commitReq(8, "", -1, 2, "t")).Topics[0].Partitions[0].ErrorCode, kerr.CoordinatorNotAvailable.Code)
	if o := h.g.offsets["t"][0].offset; o != 1 {
		t.Fatalf("offset %d after a failed commit, want 1", o)
	}
}

func TestOffsetDelete(t *testing.T) {
	ctx := context.Background()
	del := func(group string, topics ...string) *kmsg.OffsetDeleteRequest {
		r := kmsg.NewPtrOffsetDeleteRequest()
		r.Group = group
		for _, t := range topics {
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = t
			rp := kmsg.NewOffsetDeleteRequestTopicPartition()
			rt.Partitions = append(rt.Partitions, rp)
			r.Topics = append(r.Topics, rt)
		}
		return r
	}

	t.Run("coordinator", func(t *testing.T) {
		c, store, _ := newTestCoordinator(t)
		code(t, "empty group ID", c.OffsetDelete(ctx, del("", "t")).ErrorCode, kerr.InvalidGroupID.Code)
		code(t, "unknown group", c.OffsetDelete(ctx, del("g", "t")).ErrorCode, kerr.GroupIDNotFound.Code)
		c.OffsetCommit(ctx, commitReq(8, "", -1, 5, "t", "u"))
		resp := roundTrip(t, c.OffsetDelete(ctx, del("g", "t")))
		code(t, "delete", resp.ErrorCode, 0)
		code(t, "delete t/0", resp.Topics[0].Partitions[0].ErrorCode, 0)
		last := store.records()[len(store.records())-1]
		if last.Value != nil || string(last.Key) != string(offsetKey("g", "t", 0)) {
			t.Fatalf("last record %x=%x, want a tombstone for g t/0", last.Key, last.Value)
		}
		// Deleting the last offset of a group that never had members
		// removes the group.
		c.OffsetDelete(ctx, del("g", "u"))
		d := c.DescribeGroups(ctx, &kmsg.DescribeGroupsRequest{Version: 5, Groups: []string{"g"}})
		if d.Groups[0].State != "Dead" {
			t.Fatalf("group state %s", d.Groups[0].State)
		}
	})

	t.Run("subscribed topic", func(t *testing.T) {
		h := newHarness(t)
		a, _ := h.stableTwo(9, 5) // both subscribe to t
		h.g.commit(h.now, commitReq(8, a, 2, 5, "t", "u"))
		resp := h.g.deleteOffsets(del("g", "t", "u"))
		code(t, "group", resp.ErrorCode, 0)
		code(t, "t", resp.Topics[0].Partitions[0].ErrorCode, kerr.GroupSubscribedToTopic.Code)
		code(t, "u", resp.Topics[1].Partitions[0].ErrorCode, 0)
		if _, ok := h.g.offsets["u"]; ok {
			t.Fatal("u kept")
		}
		if _, ok := h.g.offsets["t"]; !ok {
			t.Fatal("t deleted")
		}
	})

	t.Run("non-consumer group with members", func(t *testing.T) {
		h := newHarness(t)
		r := joinReq(0, "")
		r.ProtocolType = "connect"
		_, w := h.g.join(h.now, r, client{id: "ca"})
		got(t, w.ch)
		code(t, "delete", h.g.deleteOffsets(del("g", "t")).ErrorCode, kerr.NonEmptyGroup.Code)
	})
}

func TestExpireOffsets(t *testing.T) {
	const week = 7 * 24 * time.Hour

	t.Run("simple commits", func(t *testing.T) {
		h := newHarness(t)
		h.g.commit(h.now, commitReq(8, "", -1, 1, "t"))
		if h.g.expire(h.now.Add(week-time.Millisecond)) || len(h.g.offsets) != 1 {
			t.Fatal("expired early")
		}
		if !h.g.expire(h.now.Add(week)) || len(h.g.offsets) != 0 || h.g.state != StateDead {
			t.Fatalf("not expired: state %v, %d topics", h.g.state, len(h.g.offsets))
		}
		recs := h.store.records()
		if len(recs) != 3 || recs[1].Value != nil || recs[2].Value != nil || string(recs[2].Key) != string(metadataKey("g")) {
			t.Fatalf("records %+v", recs)
		}
	})

	t.Run("empty group counts from the later of empty and commit", func(t *testing.T) {
		h := newHarness(t)
		a, b := h.stableTwo(9, 5)
		h.g.commit(h.now, commitReq(8, a, 2, 1, "t"))
		h.now = h.now.Add(3 * 24 * time.Hour)
		h.g.leave(h.now, leaveReq(5, a, b))
		if h.g.state != StateEmpty {
			t.Fatalf("state %v", h.g.state)
		}
		if h.g.expire(t0.Add(week)) || len(h.g.offsets) != 1 {
			t.Fatal("expired counting from the commit")
		}
		if !h.g.expire(h.now.Add(week)) || len(h.g.offsets) != 0 {
			t.Fatal("not expired a week after the group emptied")
		}
	})

	t.Run("stable consumer group loses unsubscribed topics", func(t *testing.T) {
		h := newHarness(t)
		a, _ := h.stableTwo(9, 5)
		h.g.commit(h.now, commitReq(8, a, 2, 1, "t", "u"))
		if h.g.expire(h.now.Add(week)) {
			t.Fatal("stable group removed")
		}
		if _, ok := h.g.offsets["t"]; !ok || len(h.g.offsets) != 1 {
			t.Fatalf("offsets %v", h.g.offsets)
		}
	})

	t.Run("store failure keeps everything", func(t *testing.T) {
		h := newHarness(t)
		h.g.commit(h.now, commitReq(8, "", -1, 1, "t"))
		h.store.setFail(errors.New("disk full"))
		if h.g.expire(h.now.Add(week)) || len(h.g.offsets) != 1 {
			t.Fatal("expired without storing tombstones")
		}
	})
}

func TestOffsetDeleteStoreFailure(t *testing.T) {
	h := newHarness(t)
	h.g.commit(h.now, commitReq(8, "", -1, 1, "t"))
	h.store.setFail(errors.New("disk full"))
	r := kmsg.NewPtrOffsetDeleteRequest()
	r.Group = "g"
	rt := kmsg.NewOffsetDeleteRequestTopic()
	rt.Topic = "t"
	rt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}, {Partition: 1}}
	r.Topics = append(r.Topics, rt)
	resp := h.g.deleteOffsets(r)
	code(t, "committed partition", resp.Topics[0].Partitions[0].ErrorCode, kerr.CoordinatorNotAvailable.Code)
	code(t, "partition without commit", resp.Topics[0].Partitions[1].ErrorCode, 0)
	if len(h.g.offsets) != 1 {
		t.Fatal("offset deleted without its tombstone")
	}
}
