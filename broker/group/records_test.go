package group

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// await returns what ch receives within a generous deadline: the
// condition is "the coordinator answered", not a fixed sleep.
func await[R any](t *testing.T, ch <-chan R) R {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no response")
		panic("unreachable")
	}
}

func async[R any](f func() R) <-chan R {
	ch := make(chan R, 1)
	go func() { ch <- f() }()
	return ch
}

// withGroup runs f on a group's core under its lock.
func withGroup(t *testing.T, c *Coordinator, name string, f func(g *group)) {
	t.Helper()
	s := c.acquire(name, false)
	if s == nil {
		t.Fatalf("no group %q", name)
	}
	defer c.release(s)
	f(s.g)
}

// waitParked waits until n members of the group are parked in JoinGroup
// or SyncGroup.
func waitParked(t *testing.T, c *Coordinator, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var parked int
		withGroup(t, c, name, func(g *group) {
			for _, m := range g.members {
				if m.join != nil || m.sync != nil {
					parked++
				}
			}
		})
		if parked >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d parked members, want %d", parked, n)
		}
		time.Sleep(time.Millisecond) // polling, bounded by the deadline
	}
}

// TestPersistRoundTrip writes groups and offsets through one Coordinator,
// replays its Store into another and expects the same answers, with
// members able to carry on in their generation.
func TestPersistRoundTrip(t *testing.T) {
	ctx := WithClient(context.Background(), "client", "/10.0.0.1")
	c1, store, now := newTestCoordinator(t)

	// Group g: a (dynamic, leader) and b (static "ib"), generation 2.
	r := c1.JoinGroup(ctx, joinReq(9, ""))
	r = c1.JoinGroup(ctx, joinReq(9, r.MemberID))
	a := r.MemberID
	c1.SyncGroup(ctx, syncReq(5, a, 1, map[string]string{a: "A"}))
	jb := joinReq(9, "")
	jb.InstanceID = kmsg.StringPtr("ib")
	bJoin := async(func() *kmsg.JoinGroupResponse { return c1.JoinGroup(ctx, jb) })
	waitParked(t, c1, "g", 1)
	aJoin := async(func() *kmsg.JoinGroupResponse { return c1.JoinGroup(ctx, joinReq(9, a)) })
	b := await(t, bJoin).MemberID
	if r := await(t, aJoin); r.Generation != 2 || len(r.Members) != 2 {
		t.Fatalf("generation %d, %d members", r.Generation, len(r.Members))
	}
	bSync := async(func() *kmsg.SyncGroupResponse {
		r := syncReq(5, b, 2, nil)
		r.InstanceID = kmsg.StringPtr("ib")
		return c1.SyncGroup(ctx, r)
	})
	c1.SyncGroup(ctx, syncReq(5, a, 2, map[string]string{a: "A2", b: "B2"}))
	if r := await(t, bSync); string(r.MemberAssignment) != "B2" {
		t.Fatalf("b assignment %q", r.MemberAssignment)
	}
	for _, p := range c1.OffsetCommit(ctx, commitReq(8, a, 2, 100, "t", "u")).Topics {
		code(t, "commit", p.Partitions[0].ErrorCode, 0)
	}

	// Group s: simple commits only. Group e: a member came and went.
	// Group d: deleted.
	*now = now.Add(time.Second) // well within the 10s sessions
	for _, name := range []string{"s", "e", "d"} {
		req := commitReq(2, "", -1, 5, "t")
		req.Group = name
		c1.OffsetCommit(ctx, req)
	}
	je := joinReq(3, "")
	je.Group = "e"
	re := c1.JoinGroup(ctx, je)
	le := leaveReq(0, re.MemberID)
	le.Group = "e"
	code(t, "leave e", c1.LeaveGroup(ctx, le).ErrorCode, 0)
	dr := c1.DeleteGroups(ctx, &kmsg.DeleteGroupsRequest{Version: 2, Groups: []string{"d"}})
	code(t, "delete d", dr.Groups[0].ErrorCode, 0)

	c2, _, now2 := newTestCoordinator(t)
	*now2 = now.Add(time.Second)
	for _, rec := range store.records() {
		if err := c2.Load(rec.Key, rec.Value); err != nil {
			t.Fatal(err)
		}
	}

	groups := []string{"d", "e", "g", "s"}
	fetchAll := func(c *Coordinator) *kmsg.OffsetFetchResponse {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version = 8
		for _, name := range groups {
			rg := kmsg.NewOffsetFetchRequestGroup()
			rg.Group = name
			req.Groups = append(req.Groups, rg)
		}
		return c.OffsetFetch(ctx, req)
	}
	describe := func(c *Coordinator) *kmsg.DescribeGroupsResponse {
		return c.DescribeGroups(ctx, &kmsg.DescribeGroupsRequest{Version: 5, Groups: groups})
	}
	list := func(c *Coordinator) *kmsg.ListGroupsResponse {
		return c.ListGroups(ctx, &kmsg.ListGroupsRequest{Version: 4})
	}
	if f1, f2 := fetchAll(c1), fetchAll(c2); !reflect.DeepEqual(f1, f2) {
		t.Fatalf("offsets differ after replay:\n%+v\n%+v", f1, f2)
	}
	if d1, d2 := describe(c1), describe(c2); !reflect.DeepEqual(d1, d2) {
		t.Fatalf("groups differ after replay:\n%+v\n%+v", d1, d2)
	}
	if l1, l2 := list(c1), list(c2); !reflect.DeepEqual(l1, l2) || len(l1.Groups) != 3 {
		t.Fatalf("lists differ after replay:\n%+v\n%+v", l1, l2)
	}
	withGroup(t, c2, "e", func(g *group) {
		if g.generation != 2 || g.state != StateEmpty || !g.stateSince.Equal(now.Truncate(time.Millisecond)) {
			t.Fatalf("e: generation %d state %v since %v", g.generation, g.state, g.stateSince)
		}
	})

	// The members carry on without rejoining.
	hb := hbReq(4, b, 2)
	hb.InstanceID = kmsg.StringPtr("ib")
	code(t, "b heartbeat", c2.Heartbeat(ctx, hb).ErrorCode, 0)
	code(t, "commit after restart", c2.OffsetCommit(ctx, commitReq(8, a, 2, 101, "t")).Topics[0].Partitions[0].ErrorCode, 0)
	s := c2.SyncGroup(ctx, syncReq(5, a, 2, nil))
	if s.ErrorCode != 0 || string(s.MemberAssignment) != "A2" {
		t.Fatalf("sync after restart: %v %q", kerr.ErrorForCode(s.ErrorCode), s.MemberAssignment)
	}

	// A restored member that does not come back is expired after its
	// session timeout, with a rebalance.
	*now2 = now2.Add(5 * time.Second)
	code(t, "b heartbeat", c2.Heartbeat(ctx, hb).ErrorCode, 0)
	withGroup(t, c2, "g", func(g *group) {
		g.tick(now2.Add(5 * time.Second)) // a's session ends, b's does not
		if len(g.members) != 1 || g.members[b] == nil || g.state != StatePreparingRebalance {
			t.Fatalf("after expiry: state %v, members %d", g.state, len(g.members))
		}
	})
}

func TestRecordFormat(t *testing.T) {
	h := newHarness(t)
	a, _ := h.stableTwo(9, 5)
	h.g.commit(h.now, commitReq(8, a, 2, 42, "t"))
	recs := h.store.records()

	meta, off := recs[len(recs)-2], recs[len(recs)-1]
	k := kmsg.NewGroupMetadataKey()
	v := kmsg.NewGroupMetadataValue()
	if err := errors.Join(k.ReadFrom(meta.Key), v.ReadFrom(meta.Value)); err != nil {
		t.Fatal(err)
	}
	if k.Version != 2 || k.Group != "g" || v.Version != 3 || v.ProtocolType != "consumer" || *v.Protocol != "range" ||
		v.Generation != 2 || *v.Leader != a || len(v.Members) != 2 || v.CurrentStateTimestamp != t0.UnixMilli() {
		t.Fatalf("group metadata %+v %+v", k, v)
	}
	m := v.Members[0]
	if m.MemberID != a || m.ClientID != "ca" || m.SessionTimeoutMillis != 10_000 || m.RebalanceTimeoutMillis != 20_000 ||
		string(m.Subscription) != string(consumerMeta("t")) || string(m.Assignment) != "A" {
		t.Fatalf("member %+v", m)
	}

	ok := kmsg.NewOffsetCommitKey()
	ov := kmsg.NewOffsetCommitValue()
	if err := errors.Join(ok.ReadFrom(off.Key), ov.ReadFrom(off.Value)); err != nil {
		t.Fatal(err)
	}
	if ok.Version != 1 || ok.Group != "g" || ok.Topic != "t" || ok.Partition != 0 || ov.Version != 3 ||
		ov.Offset != 42 || ov.LeaderEpoch != 7 || ov.Metadata != "meta-t" || ov.CommitTimestamp != t0.UnixMilli() {
		t.Fatalf("offset commit %+v %+v", ok, ov)
	}
}

func TestLoad(t *testing.T) {
	offKey := func(version int16, group, topic string, p int32) []byte {
		k := kmsg.NewOffsetCommitKey()
		k.Version, k.Group, k.Topic, k.Partition = version, group, topic, p
		return k.AppendTo(nil)
	}
	offValue := func(version int16, offset int64) []byte {
		v := kmsg.NewOffsetCommitValue()
		v.Version, v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp, v.ExpireTimestamp = version, offset, 3, "m", 1000, 2000
		return v.AppendTo(nil)
	}
	groupValue := func(version int16) []byte {
		v := kmsg.NewGroupMetadataValue()
		v.Version, v.ProtocolType, v.Generation = version, "consumer", 4
		v.Protocol, v.Leader = kmsg.StringPtr("range"), kmsg.StringPtr("m1")
		v.CurrentStateTimestamp = 5000
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID, vm.ClientID, vm.ClientHost = "m1", kmsg.StringPtr("i1"), "c", "h"
		vm.SessionTimeoutMillis, vm.RebalanceTimeoutMillis = 7000, 9000
		vm.Subscription, vm.Assignment = consumerMeta("t"), []byte("A")
		v.Members = append(v.Members, vm)
		return v.AppendTo(nil)
	}

	for version := int16(0); version <= 4; version++ {
		t.Run(fmt.Sprintf("offset value v%d", version), func(t *testing.T) {
			c, _, _ := newTestCoordinator(t)
			if err := c.Load(offKey(version%2, "g", "t", 1), offValue(version, 9)); err != nil {
				t.Fatal(err)
			}
			withGroup(t, c, "g", func(g *group) {
				want := offset{offset: 9, leaderEpoch: -1, metadata: "m", committed: time.UnixMilli(1000)}
				if version >= 3 {
					want.leaderEpoch = 3
				}
				if o := g.offsets["t"][1]; o != want {
					t.Fatalf("offset %+v, want %+v", o, want)
				}
			})
		})
		t.Run(fmt.Sprintf("group value v%d", version), func(t *testing.T) {
			c, _, now := newTestCoordinator(t)
			if err := c.Load(metadataKey("g"), groupValue(version)); err != nil {
				t.Fatal(err)
			}
			withGroup(t, c, "g", func(g *group) {
				m := g.members["m1"]
				if g.state != StateStable || g.generation != 4 || g.protocol != "range" || g.leader != "m1" || m == nil {
					t.Fatalf("group %+v", g)
				}
				wantRT := 9 * time.Second
				if version == 0 {
					wantRT = 7 * time.Second // v0 has no rebalance timeout
				}
				if m.rebalanceTimeout != wantRT || !m.heartbeatDeadline.Equal(now.Add(7*time.Second)) || string(m.assignment) != "A" {
					t.Fatalf("member %+v", m)
				}
				if (version >= 3) != (g.static["i1"] == "m1") {
					t.Fatalf("static %v", g.static)
				}
			})
		})
	}

	t.Run("tombstones", func(t *testing.T) {
		c, _, _ := newTestCoordinator(t)
		load := func(k, v []byte) {
			if err := c.Load(k, v); err != nil {
				t.Fatal(err)
			}
		}
		load(metadataKey("g"), groupValue(3))
		load(offKey(1, "g", "t", 0), offValue(3, 1))
		load(offKey(1, "g", "t", 0), nil)
		load(offKey(1, "g", "u", 0), offValue(3, 2))
		load(metadataKey("g"), nil)
		withGroup(t, c, "g", func(g *group) {
			if g.state != StateEmpty || g.generation != 0 || len(g.members) != 0 || len(g.offsets) != 1 || g.offsets["u"][0].offset != 2 {
				t.Fatalf("group %+v", g)
			}
		})
		load(offKey(1, "g", "u", 0), nil)
		if c.acquire("g", false) != nil {
			t.Fatal("group kept without metadata or offsets")
		}
	})

	t.Run("skipped and invalid", func(t *testing.T) {
		c, _, _ := newTestCoordinator(t)
		if err := c.Load([]byte{0, 3, 1, 2}, []byte{9}); err != nil {
			t.Fatalf("newer record type: %v", err)
		}
		for _, tc := range []struct{ key, value []byte }{
			{[]byte{0}, nil},
			{offKey(1, "g", "t", 0)[:5], nil},
			{offKey(1, "g", "t", 0), []byte{0, 3, 0}},
			{metadataKey("g"), []byte{0, 3}},
		} {
			if err := c.Load(tc.key, tc.value); !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("Load(%x, %x) = %v, want ErrInvalidRecord", tc.key, tc.value, err)
			}
		}
		if l := c.ListGroups(context.Background(), kmsg.NewPtrListGroupsRequest()); len(l.Groups) != 0 {
			t.Fatalf("groups %+v", l.Groups)
		}
	})
}
