package group

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// These tests run the driver — goroutines blocked in JoinGroup and
// SyncGroup, real timers — inside synctest bubbles: time is virtual, so a
// 20s rebalance timeout takes no wall time, and synctest fails the test if
// any goroutine is left blocked when it ends (the leak check).

func newBubbleCoordinator(t *testing.T, opts ...func(*Config)) (*Coordinator, *memStore) {
	t.Helper()
	store := &memStore{}
	cfg := Config{Store: store, Logger: discard}
	for _, o := range opts {
		o(&cfg)
	}
	return New(cfg), store
}

// joinV9 joins a new dynamic member through the MEMBER_ID_REQUIRED round
// trip, blocking until its join phase ends.
func joinV9(ctx context.Context, c *Coordinator, group, client string) *kmsg.JoinGroupResponse {
	ctx = WithClient(ctx, client, "/127.0.0.1")
	r := joinReq(9, "")
	r.Group = group
	resp := c.JoinGroup(ctx, r)
	if resp.ErrorCode != kerr.MemberIDRequired.Code {
		return resp
	}
	r2 := joinReq(9, resp.MemberID)
	r2.Group = group
	return c.JoinGroup(ctx, r2)
}

func TestCoordinatorRebalance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newBubbleCoordinator(t)
		defer c.Close()
		ctx := context.Background()

		ja := joinV9(ctx, c, "g", "ca")
		a := ja.MemberID
		code(t, "a join", ja.ErrorCode, 0)
		code(t, "a sync", c.SyncGroup(ctx, syncReq(5, a, 1, map[string]string{a: "A"})).ErrorCode, 0)

		bJoin := async(func() *kmsg.JoinGroupResponse { return joinV9(ctx, c, "g", "cb") })
		synctest.Wait()
		if len(bJoin) != 0 {
			t.Fatal("b's join did not wait for a")
		}
		code(t, "a heartbeat", c.Heartbeat(ctx, hbReq(4, a, 1)).ErrorCode, kerr.RebalanceInProgress.Code)
		ja = c.JoinGroup(ctx, joinReq(9, a))
		jb := <-bJoin
		b := jb.MemberID
		if ja.Generation != 2 || jb.Generation != 2 || len(ja.Members) != 2 {
			t.Fatalf("generation %d/%d", ja.Generation, jb.Generation)
		}

		bSync := async(func() *kmsg.SyncGroupResponse { return c.SyncGroup(ctx, syncReq(5, b, 2, nil)) })
		synctest.Wait()
		if len(bSync) != 0 {
			t.Fatal("b's sync did not wait for the leader")
		}
		c.SyncGroup(ctx, syncReq(5, a, 2, map[string]string{a: "A", b: "B"}))
		if s := <-bSync; string(s.MemberAssignment) != "B" {
			t.Fatalf("b assignment %q", s.MemberAssignment)
		}
	})
}

func TestCoordinatorTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newBubbleCoordinator(t)
		defer c.Close()
		ctx := context.Background()

		a := joinV9(ctx, c, "g", "ca").MemberID
		c.SyncGroup(ctx, syncReq(5, a, 1, map[string]string{a: "A"}))
		bJoin := async(func() *kmsg.JoinGroupResponse { return joinV9(ctx, c, "g", "cb") })
		synctest.Wait()
		c.JoinGroup(ctx, joinReq(9, a))
		b := (<-bJoin).MemberID
		bSync := async(func() *kmsg.SyncGroupResponse { return c.SyncGroup(ctx, syncReq(5, b, 2, nil)) })
		synctest.Wait()
		c.SyncGroup(ctx, syncReq(5, a, 2, map[string]string{a: "A", b: "B"}))
		<-bSync

		// b goes silent; a heartbeats every 3s. b's session (10s) ends.
		start := time.Now()
		for range 3 {
			time.Sleep(3 * time.Second)
			code(t, "a heartbeat", c.Heartbeat(ctx, hbReq(4, a, 2)).ErrorCode, 0)
		}
		time.Sleep(3 * time.Second)
		code(t, "a heartbeat after b expired", c.Heartbeat(ctx, hbReq(4, a, 2)).ErrorCode, kerr.RebalanceInProgress.Code)
		code(t, "b heartbeat", c.Heartbeat(ctx, hbReq(4, b, 2)).ErrorCode, kerr.UnknownMemberID.Code)
		if ja := c.JoinGroup(ctx, joinReq(9, a)); ja.Generation != 3 || len(ja.Members) != 1 {
			t.Fatalf("generation %d, %d members", ja.Generation, len(ja.Members))
		}
		c.SyncGroup(ctx, syncReq(5, a, 3, map[string]string{a: "A"}))

		// c joins; a heartbeats but never rejoins: at the rebalance
		// timeout (20s) a is removed and c's join completes alone.
		start = time.Now()
		cJoin := async(func() *kmsg.JoinGroupResponse { return joinV9(ctx, c, "g", "cc") })
		for range 6 {
			time.Sleep(3 * time.Second)
			code(t, "a heartbeat", c.Heartbeat(ctx, hbReq(4, a, 3)).ErrorCode, kerr.RebalanceInProgress.Code)
		}
		jc := <-cJoin
		if waited := time.Since(start); waited != 20*time.Second || jc.Generation != 4 || len(jc.Members) != 1 {
			t.Fatalf("c joined after %v: generation %d, %d members", waited, jc.Generation, len(jc.Members))
		}

		// c never syncs: removed at the pending-sync deadline (its session
		// ends earlier, at 10s, which also removes it).
		time.Sleep(20 * time.Second)
		d := c.DescribeGroups(ctx, &kmsg.DescribeGroupsRequest{Version: 5, Groups: []string{"g"}})
		if st := d.Groups[0].State; st != "Empty" {
			t.Fatalf("state %s", st)
		}
	})
}

func TestCoordinatorContextCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newBubbleCoordinator(t)
		defer c.Close()
		ctx := context.Background()
		a := joinV9(ctx, c, "g", "ca").MemberID
		c.SyncGroup(ctx, syncReq(5, a, 1, map[string]string{a: "A"}))

		cctx, cancel := context.WithCancel(ctx)
		bJoin := async(func() *kmsg.JoinGroupResponse { return joinV9(cctx, c, "g", "cb") })
		synctest.Wait()
		cancel()
		code(t, "cancelled join", (<-bJoin).ErrorCode, kerr.NotCoordinator.Code)

		// The abandoned member still counts as joined: a's rejoin
		// completes the generation with it, and it is removed when it
		// fails to sync.
		ja := c.JoinGroup(ctx, joinReq(9, a))
		if len(ja.Members) != 2 {
			t.Fatalf("%d members", len(ja.Members))
		}
		c.SyncGroup(ctx, syncReq(5, a, 2, map[string]string{a: "A"}))
		for range 5 {
			time.Sleep(5 * time.Second)
			c.Heartbeat(ctx, hbReq(4, a, 2))
		}
		code(t, "a heartbeat", c.Heartbeat(ctx, hbReq(4, a, 2)).ErrorCode, kerr.RebalanceInProgress.Code)
	})
}

func TestCoordinatorClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newBubbleCoordinator(t)
		ctx := context.Background()
		a := joinV9(ctx, c, "g", "ca").MemberID
		c.SyncGroup(ctx, syncReq(5, a, 1, map[string]string{a: "A"}))
		bJoin := async(func() *kmsg.JoinGroupResponse { return joinV9(ctx, c, "g", "cb") })
		// Group p: p2's SyncGroup waits for the leader p1, which never
		// syncs.
		p1 := joinV9(ctx, c, "p", "p1").MemberID
		p2Join := async(func() *kmsg.JoinGroupResponse { return joinV9(ctx, c, "p", "p2") })
		synctest.Wait()
		jr := joinReq(9, p1)
		jr.Group = "p"
		c.JoinGroup(ctx, jr)
		j2 := <-p2Join
		pSync := async(func() *kmsg.SyncGroupResponse {
			r := syncReq(5, j2.MemberID, j2.Generation, nil)
			r.Group = "p"
			return c.SyncGroup(ctx, r)
		})
		synctest.Wait()
		if len(bJoin) != 0 || len(pSync) != 0 {
			t.Fatal("not parked")
		}

		c.Close()
		c.Close() // idempotent
		code(t, "parked join", (<-bJoin).ErrorCode, kerr.NotCoordinator.Code)
		code(t, "parked sync", (<-pSync).ErrorCode, kerr.NotCoordinator.Code)

		nc := kerr.NotCoordinator.Code
		code(t, "join", c.JoinGroup(ctx, joinReq(9, a)).ErrorCode, nc)
		code(t, "sync", c.SyncGroup(ctx, syncReq(5, a, 1, nil)).ErrorCode, nc)
		code(t, "heartbeat", c.Heartbeat(ctx, hbReq(4, a, 1)).ErrorCode, nc)
		code(t, "leave", c.LeaveGroup(ctx, leaveReq(0, a)).ErrorCode, nc)
		code(t, "commit", c.OffsetCommit(ctx, commitReq(8, a, 1, 1, "t")).Topics[0].Partitions[0].ErrorCode, nc)
		f := kmsg.NewPtrOffsetFetchRequest()
		f.Version, f.Group = 7, "g"
		code(t, "fetch", c.OffsetFetch(ctx, f).ErrorCode, nc)
		code(t, "describe", c.DescribeGroups(ctx, &kmsg.DescribeGroupsRequest{Groups: []string{"g"}}).Groups[0].ErrorCode, nc)
		code(t, "list", c.ListGroups(ctx, kmsg.NewPtrListGroupsRequest()).ErrorCode, nc)
		code(t, "delete", c.DeleteGroups(ctx, &kmsg.DeleteGroupsRequest{Groups: []string{"g"}}).Groups[0].ErrorCode, nc)
		code(t, "offset delete", c.OffsetDelete(ctx, &kmsg.OffsetDeleteRequest{Group: "g"}).ErrorCode, nc)
		if err := c.Load(metadataKey("g"), nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("Load after Close: %v", err)
		}
	})
}

func TestCoordinatorSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, store := newBubbleCoordinator(t, func(cfg *Config) {
			cfg.OffsetsRetention = time.Hour
			cfg.OffsetsRetentionCheckInterval = time.Minute
		})
		defer c.Close()
		ctx := context.Background()
		c.OffsetCommit(ctx, commitReq(8, "", -1, 1, "t"))
		time.Sleep(time.Hour - 30*time.Second) // sweeps every minute: not yet
		if l := c.ListGroups(ctx, kmsg.NewPtrListGroupsRequest()); len(l.Groups) != 1 {
			t.Fatal("expired early")
		}
		time.Sleep(time.Minute)
		if l := c.ListGroups(ctx, kmsg.NewPtrListGroupsRequest()); len(l.Groups) != 0 {
			t.Fatalf("groups %+v", l.Groups)
		}
		if recs := store.records(); len(recs) != 3 || recs[1].Value != nil || recs[2].Value != nil {
			t.Fatalf("records %+v", recs)
		}
	})
}

// TestCoordinatorConcurrent runs members of several groups that join,
// sync, heartbeat, commit and leave concurrently, for the race detector
// and to show nothing deadlocks or leaks.
func TestCoordinatorConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newBubbleCoordinator(t)
		var wg sync.WaitGroup
		for gi := range 3 {
			group := fmt.Sprint("g", gi)
			for mi := range 3 {
				wg.Go(func() { runMember(t, c, group, fmt.Sprint("c", mi), 8) })
			}
		}
		wg.Wait()
		c.Close()
	})
}

// runMember plays a kgo-like member for rounds generations, leaving and
// rejoining every third round.
func runMember(t *testing.T, c *Coordinator, group, client string, rounds int) {
	ctx := WithClient(context.Background(), client, "/127.0.0.1")
	id := ""
	for round := 0; round < rounds; {
		jr := joinReq(9, id)
		jr.Group = group
		j := c.JoinGroup(ctx, jr)
		switch j.ErrorCode {
		case kerr.MemberIDRequired.Code:
			id = j.MemberID
			continue
		case kerr.UnknownMemberID.Code:
			id = ""
			continue
		case 0:
		default:
			t.Errorf("%s/%s join: %v", group, client, kerr.ErrorForCode(j.ErrorCode))
			return
		}
		assign := map[string]string{}
		for _, m := range j.Members {
			assign[m.MemberID] = m.MemberID
		}
		sr := syncReq(5, id, j.Generation, assign)
		sr.Group = group
		s := c.SyncGroup(ctx, sr)
		if s.ErrorCode != 0 {
			continue // a rebalance started: rejoin
		}
		round++
		time.Sleep(time.Second)
		hr := hbReq(4, id, j.Generation)
		hr.Group = group
		c.Heartbeat(ctx, hr)
		cr := commitReq(8, id, j.Generation, int64(round), "t")
		cr.Group = group
		c.OffsetCommit(ctx, cr)
		if round%3 == 0 {
			lr := leaveReq(5, id)
			lr.Group = group
			c.LeaveGroup(ctx, lr)
			id = ""
		}
	}
	lr := leaveReq(5, id)
	lr.Group = group
	c.LeaveGroup(ctx, lr)
}
