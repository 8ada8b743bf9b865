package group

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestJoinSyncHeartbeatLeaveVersions runs one member lifecycle at each
// version combination: a joins alone, b joins and a learns of it from its
// heartbeat, both sync, b leaves, a rejoins alone. Every response is
// encoded and decoded at its version.
func TestJoinSyncHeartbeatLeaveVersions(t *testing.T) {
	for _, v := range []struct{ join, sync, hb, leave int16 }{
		{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 1, 1, 1}, {3, 2, 2, 2}, {4, 3, 3, 3},
		{5, 3, 3, 3}, {6, 4, 4, 4}, {7, 5, 4, 4}, {8, 5, 4, 5}, {9, 5, 4, 5},
	} {
		t.Run(fmt.Sprintf("join_v%d_sync_v%d_hb_v%d_leave_v%d", v.join, v.sync, v.hb, v.leave), func(t *testing.T) {
			h := newHarness(t)
			hb := func(id string, gen int32) int16 {
				return roundTrip(t, h.g.heartbeatReq(h.now, hbReq(v.hb, id, gen))).ErrorCode
			}

			a, wa := h.joinMember(v.join, "ca")
			ja := roundTrip(t, got(t, wa.ch))
			code(t, "a join", ja.ErrorCode, 0)
			if !strings.HasPrefix(a, "ca-") || ja.MemberID != a || ja.LeaderID != a || ja.Generation != 1 || len(ja.Members) != 1 {
				t.Fatalf("a join: member %q leader %q generation %d members %d", ja.MemberID, ja.LeaderID, ja.Generation, len(ja.Members))
			}
			if ja.Protocol == nil || *ja.Protocol != "range" {
				t.Fatalf("a join: protocol %v", ja.Protocol)
			}
			if v.join >= 7 && (ja.ProtocolType == nil || *ja.ProtocolType != "consumer") {
				t.Fatalf("a join: protocol type %v", ja.ProtocolType)
			}
			_, ws := h.g.sync(h.now, syncReq(v.sync, a, 1, map[string]string{a: "A"}))
			sa := roundTrip(t, got(t, ws.ch))
			code(t, "a sync", sa.ErrorCode, 0)
			if string(sa.MemberAssignment) != "A" {
				t.Fatalf("a assignment %q", sa.MemberAssignment)
			}
			if v.sync >= 5 && (*sa.ProtocolType != "consumer" || *sa.Protocol != "range") {
				t.Fatalf("a sync: protocol %v/%v", *sa.ProtocolType, *sa.Protocol)
			}
			code(t, "a heartbeat", hb(a, 1), 0)

			b, wb := h.joinMember(v.join, "cb")
			if !parked(wb.ch) || h.g.state != StatePreparingRebalance {
				t.Fatalf("b's join should wait for a; state %v", h.g.state)
			}
			code(t, "a heartbeat in rebalance", hb(a, 1), kerr.RebalanceInProgress.Code)
			if _, wa = h.g.join(h.now, joinReq(v.join, a), client{id: "ca"}); wa == nil {
				t.Fatal("a's rejoin answered at once")
			}
			ja, jb := roundTrip(t, got(t, wa.ch)), roundTrip(t, got(t, wb.ch))
			code(t, "a rejoin", ja.ErrorCode, 0)
			code(t, "b join", jb.ErrorCode, 0)
			if ja.Generation != 2 || jb.Generation != 2 || ja.LeaderID != a || jb.LeaderID != a || len(ja.Members) != 2 || len(jb.Members) != 0 {
				t.Fatalf("generation 2: a %+v, b %+v", ja, jb)
			}

			_, wsb := h.g.sync(h.now, syncReq(v.sync, b, 2, nil))
			if !parked(wsb.ch) {
				t.Fatal("follower's sync should wait for the leader")
			}
			_, wsa := h.g.sync(h.now, syncReq(v.sync, a, 2, map[string]string{a: "A2", b: "B2"}))
			if sa, sb := roundTrip(t, got(t, wsa.ch)), roundTrip(t, got(t, wsb.ch)); string(sa.MemberAssignment) != "A2" || string(sb.MemberAssignment) != "B2" {
				t.Fatalf("assignments %q %q", sa.MemberAssignment, sb.MemberAssignment)
			}
			code(t, "b old generation", hb(b, 1), kerr.IllegalGeneration.Code)
			code(t, "b heartbeat", hb(b, 2), 0)

			lr := roundTrip(t, h.g.leave(h.now, leaveReq(v.leave, b)))
			code(t, "b leave", lr.ErrorCode, 0)
			if v.leave >= 3 && (len(lr.Members) != 1 || lr.Members[0].MemberID != b || lr.Members[0].ErrorCode != 0) {
				t.Fatalf("leave members %+v", lr.Members)
			}
			code(t, "a heartbeat after leave", hb(a, 2), kerr.RebalanceInProgress.Code)
			_, wa = h.g.join(h.now, joinReq(v.join, a), client{id: "ca"})
			if ja := got(t, wa.ch); ja.Generation != 3 || len(ja.Members) != 1 {
				t.Fatalf("generation 3: %+v", ja)
			}
			code(t, "b after leave", hb(b, 3), kerr.UnknownMemberID.Code)
		})
	}
}

func TestMemberIDRequired(t *testing.T) {
	t.Run("reservation expires", func(t *testing.T) {
		h := newHarness(t)
		resp, w := h.g.join(h.now, joinReq(4, ""), client{id: "cl"})
		if w != nil {
			t.Fatal("parked")
		}
		code(t, "first join", roundTrip(t, resp).ErrorCode, kerr.MemberIDRequired.Code)
		if resp.MemberID != "cl-1" {
			t.Fatalf("member ID %q, want cl-1", resp.MemberID)
		}
		code(t, "heartbeat of reserved ID", h.g.heartbeatReq(h.now, hbReq(4, "cl-1", 0)).ErrorCode, kerr.UnknownMemberID.Code)
		h.advance(10 * time.Second) // the session timeout
		resp, _ = h.g.join(h.now, joinReq(4, "cl-1"), client{id: "cl"})
		code(t, "join after expiry", resp.ErrorCode, kerr.UnknownMemberID.Code)
		if !h.g.vacant() {
			t.Fatal("group should be vacant")
		}
	})

	t.Run("reservation holds the rebalance", func(t *testing.T) {
		h := newHarness(t)
		a, b := h.stableTwo(5, 3)
		resp, _ := h.g.join(h.now, joinReq(5, ""), client{id: "cc"})
		c := resp.MemberID
		_, wa := h.g.join(h.now, joinReq(5, a), client{id: "ca"}) // the leader rejoins: rebalance
		_, wb := h.g.join(h.now, joinReq(5, b), client{id: "cb"})
		if !parked(wa.ch) || !parked(wb.ch) {
			t.Fatal("join phase ended before the reserved member joined")
		}
		_, wc := h.g.join(h.now, joinReq(5, c), client{id: "cc"})
		for _, w := range []*joinWaiter{wa, wb, wc} {
			if r := got(t, w.ch); r.ErrorCode != 0 || r.Generation != 3 {
				t.Fatalf("join: %v generation %d", kerr.ErrorForCode(r.ErrorCode), r.Generation)
			}
		}
	})

	t.Run("expired reservation releases the rebalance", func(t *testing.T) {
		h := newHarness(t)
		a, b := h.stableTwo(5, 3)
		h.g.join(h.now, joinReq(5, ""), client{id: "cc"})
		_, wa := h.g.join(h.now, joinReq(5, a), client{id: "ca"})
		_, wb := h.g.join(h.now, joinReq(5, b), client{id: "cb"})
		h.advance(9 * time.Second)
		if !parked(wa.ch) {
			t.Fatal("join phase ended early")
		}
		h.advance(time.Second)
		if r := got(t, wa.ch); r.Generation != 3 || len(r.Members) != 2 {
			t.Fatalf("generation %d with %d members", r.Generation, len(r.Members))
		}
		got(t, wb.ch)
	})
}

func TestLaggardRemovedAtRebalanceTimeout(t *testing.T) {
	h := newHarness(t)
	a, b := h.stableTwo(9, 5)
	c, wc := h.joinMember(9, "cc")
	_, wa := h.g.join(h.now, joinReq(9, a), client{id: "ca"})
	// b keeps heartbeating but never rejoins.
	for range 3 {
		h.advance(5 * time.Second)
		code(t, "b heartbeat", h.g.heartbeatReq(h.now, hbReq(4, b, 2)).ErrorCode, kerr.RebalanceInProgress.Code)
		if !parked(wa.ch) {
			t.Fatal("join phase ended before the rebalance timeout")
		}
	}
	h.advance(5 * time.Second) // 20s: the rebalance timeout
	ja, jc := got(t, wa.ch), got(t, wc.ch)
	if ja.Generation != 3 || jc.Generation != 3 || len(ja.Members) != 2 {
		t.Fatalf("generation %d/%d, %d members", ja.Generation, jc.Generation, len(ja.Members))
	}
	for _, m := range ja.Members {
		if m.MemberID != a && m.MemberID != c {
			t.Fatalf("unexpected member %q", m.MemberID)
		}
	}
	code(t, "laggard heartbeat", h.g.heartbeatReq(h.now, hbReq(4, b, 3)).ErrorCode, kerr.UnknownMemberID.Code)
}

func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	a, b := h.stableTwo(9, 5)
	h.advance(9 * time.Second)
	code(t, "a heartbeat", h.g.heartbeatReq(h.now, hbReq(4, a, 2)).ErrorCode, 0)
	h.advance(time.Second) // b's session ends; a's was renewed
	if h.g.members[b] != nil || h.g.members[a] == nil || h.g.state != StatePreparingRebalance {
		t.Fatalf("after expiry: state %v, members %d", h.g.state, len(h.g.members))
	}
	code(t, "a heartbeat", h.g.heartbeatReq(h.now, hbReq(4, a, 2)).ErrorCode, kerr.RebalanceInProgress.Code)
	code(t, "b heartbeat", h.g.heartbeatReq(h.now, hbReq(4, b, 2)).ErrorCode, kerr.UnknownMemberID.Code)
	_, wa := h.g.join(h.now, joinReq(9, a), client{id: "ca"})
	if r := got(t, wa.ch); r.Generation != 3 || len(r.Members) != 1 {
		t.Fatalf("generation %d, %d members", r.Generation, len(r.Members))
	}
	if d, ok := h.g.nextDeadline(); !ok || !d.Equal(h.now.Add(10*time.Second)) {
		t.Fatalf("next deadline %v %v, want a's renewed session", d, ok)
	}
}

func TestMemberWithoutSyncRemoved(t *testing.T) {
	// Everyone heartbeats every 5s so only the pending-sync deadline can
	// remove anybody.
	setup := func(t *testing.T) (h *harness, a, b, c string) {
		h = newHarness(t)
		a, b = h.stableTwo(9, 5)
		c, wc := h.joinMember(9, "cc")
		_, wa := h.g.join(h.now, joinReq(9, a), client{id: "ca"})
		_, wb := h.g.join(h.now, joinReq(9, b), client{id: "cb"})
		for _, w := range []*joinWaiter{wa, wb, wc} {
			code(t, "join", got(t, w.ch).ErrorCode, 0)
		}
		return h, a, b, c
	}
	heartbeats := func(h *harness, ids ...string) {
		for _, id := range ids {
			code(h.t, "heartbeat", h.g.heartbeatReq(h.now, hbReq(4, id, 3)).ErrorCode, 0)
		}
	}

	t.Run("follower", func(t *testing.T) {
		h, a, b, c := setup(t)
		_, wa := h.g.sync(h.now, syncReq(5, a, 3, map[string]string{a: "A", b: "B", c: "C"}))
		sb, _ := h.g.sync(h.now, syncReq(5, b, 3, nil)) // Stable: answered at once
		got(t, wa.ch)
		code(t, "b sync", sb.ErrorCode, 0)
		for range 3 {
			h.advance(5 * time.Second)
			heartbeats(h, a, b, c)
		}
		h.advance(5 * time.Second)
		if h.g.members[c] != nil || h.g.state != StatePreparingRebalance {
			t.Fatalf("c still a member (state %v)", h.g.state)
		}
		code(t, "a heartbeat", h.g.heartbeatReq(h.now, hbReq(4, a, 3)).ErrorCode, kerr.RebalanceInProgress.Code)
	})

	t.Run("leader", func(t *testing.T) {
		h, a, b, c := setup(t)
		_, wb := h.g.sync(h.now, syncReq(5, b, 3, nil))
		_, wc := h.g.sync(h.now, syncReq(5, c, 3, nil))
		for range 3 {
			h.advance(5 * time.Second)
			heartbeats(h, a)
		}
		h.advance(5 * time.Second)
		code(t, "b sync", got(t, wb.ch).ErrorCode, kerr.RebalanceInProgress.Code)
		code(t, "c sync", got(t, wc.ch).ErrorCode, kerr.RebalanceInProgress.Code)
		if h.g.members[a] != nil || h.g.leader != b {
			t.Fatalf("leader %q, a present %v", h.g.leader, h.g.members[a] != nil)
		}
	})
}

func TestProtocolVote(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members [][]string // each member's protocols, preferred first
		want    string
	}{
		{"single member", [][]string{{"range", "roundrobin"}}, "range"},
		{"majority", [][]string{{"range", "roundrobin"}, {"roundrobin", "range"}, {"roundrobin", "range"}}, "roundrobin"},
		{"tie goes to the leader", [][]string{{"range", "roundrobin"}, {"roundrobin", "range"}}, "range"},
		{"only the common one", [][]string{{"cooperative-sticky", "range"}, {"range"}, {"cooperative-sticky", "range"}}, "range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.InitialRebalanceDelay = time.Second })
			var ws []*joinWaiter
			for i, names := range tc.members {
				var ps []kmsg.JoinGroupRequestProtocol
				for _, n := range names {
					ps = append(ps, proto(n, "t"))
				}
				_, w := h.joinMember(9, fmt.Sprint("c", i), ps...)
				ws = append(ws, w)
			}
			h.advance(2 * time.Second) // the delay, extended once for the later members
			for _, w := range ws {
				if r := got(t, w.ch); r.ErrorCode != 0 || *r.Protocol != tc.want {
					t.Fatalf("protocol %q (%v), want %q", *r.Protocol, kerr.ErrorForCode(r.ErrorCode), tc.want)
				}
			}
		})
	}
}

func TestJoinValidation(t *testing.T) {
	other := joinReq(9, "")
	other.ProtocolType = "connect"
	for _, tc := range []struct {
		name     string
		existing bool // a member with protocol "range" joined first
		req      func() *kmsg.JoinGroupRequest
		want     int16
	}{
		{"empty group ID", false, func() *kmsg.JoinGroupRequest { r := joinReq(9, ""); r.Group = ""; return r }, kerr.InvalidGroupID.Code},
		{"session below min", false, func() *kmsg.JoinGroupRequest { r := joinReq(9, ""); r.SessionTimeoutMillis = 5999; return r }, kerr.InvalidSessionTimeout.Code},
		{"session above max", false, func() *kmsg.JoinGroupRequest { r := joinReq(9, ""); r.SessionTimeoutMillis = 30*60*1000 + 1; return r }, kerr.InvalidSessionTimeout.Code},
		{"no protocol type", false, func() *kmsg.JoinGroupRequest { r := joinReq(9, ""); r.ProtocolType = ""; return r }, kerr.InconsistentGroupProtocol.Code},
		{"no protocols", false, func() *kmsg.JoinGroupRequest { r := joinReq(9, ""); r.Protocols = nil; return r }, kerr.InconsistentGroupProtocol.Code},
		{"unknown member", false, func() *kmsg.JoinGroupRequest { return joinReq(9, "nope") }, kerr.UnknownMemberID.Code},
		{"other protocol type", true, func() *kmsg.JoinGroupRequest { return other }, kerr.InconsistentGroupProtocol.Code},
		{"no common protocol", true, func() *kmsg.JoinGroupRequest { return joinReq(9, "", proto("sticky", "t")) }, kerr.InconsistentGroupProtocol.Code},
		{"unknown instance with member ID", true, func() *kmsg.JoinGroupRequest {
			r := joinReq(9, "x")
			r.InstanceID = kmsg.StringPtr("i")
			return r
		}, kerr.UnknownMemberID.Code},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.existing {
				_, w := h.joinMember(9, "ca")
				got(t, w.ch)
			}
			resp, w := h.g.join(h.now, tc.req(), client{id: "cx"})
			if w != nil {
				t.Fatal("parked")
			}
			code(t, "join", resp.ErrorCode, tc.want)
			if !tc.existing && !h.g.vacant() {
				t.Fatal("a failed join left state behind")
			}
		})
	}
}

// TestRejoinWhileStable covers what cooperative-sticky clients do: rejoin
// a Stable group, keep committing in the old generation while the others
// catch up, then settle in a new generation.
func TestRejoinWhileStable(t *testing.T) {
	h := newHarness(t)
	a, b := h.stableTwo(9, 5)

	// A follower rejoining with unchanged metadata gets the current
	// generation back without a rebalance.
	r, w := h.g.join(h.now, joinReq(9, b), client{id: "cb"})
	if w != nil || r.ErrorCode != 0 || r.Generation != 2 || len(r.Members) != 0 || h.g.state != StateStable {
		t.Fatalf("unchanged rejoin: %+v, state %v", r, h.g.state)
	}

	// With changed metadata (owned partitions moved) it rebalances.
	_, wb := h.g.join(h.now, joinReq(9, b, proto("range", "t", "u")), client{id: "cb"})
	if !parked(wb.ch) || h.g.state != StatePreparingRebalance {
		t.Fatalf("state %v", h.g.state)
	}
	for _, p := range h.g.commit(h.now, commitReq(8, a, 2, 10, "t")).Topics[0].Partitions {
		code(t, "commit during rebalance", p.ErrorCode, 0)
	}
	code(t, "a heartbeat", h.g.heartbeatReq(h.now, hbReq(4, a, 2)).ErrorCode, kerr.RebalanceInProgress.Code)
	_, wa := h.g.join(h.now, joinReq(9, a), client{id: "ca"})
	ja, jb := got(t, wa.ch), got(t, wb.ch)
	if ja.Generation != 3 || jb.Generation != 3 {
		t.Fatalf("generations %d %d", ja.Generation, jb.Generation)
	}
	for _, m := range ja.Members {
		if m.MemberID == b && string(m.ProtocolMetadata) != string(consumerMeta("t", "u")) {
			t.Fatal("leader did not get b's new metadata")
		}
	}
	_, wsb := h.g.sync(h.now, syncReq(5, b, 3, nil))
	_, wsa := h.g.sync(h.now, syncReq(5, a, 3, map[string]string{a: "A", b: "B"}))
	got(t, wsa.ch)
	got(t, wsb.ch)

	// The leader rejoining a Stable group always rebalances.
	if _, w := h.g.join(h.now, joinReq(9, a), client{id: "ca"}); w == nil || h.g.state != StatePreparingRebalance {
		t.Fatalf("leader rejoin: state %v", h.g.state)
	}
}

func TestSyncAndHeartbeatErrors(t *testing.T) {
	h := newHarness(t)
	a, b := h.stableTwo(9, 5)
	withProto := func(r *kmsg.SyncGroupRequest, typ, name string) *kmsg.SyncGroupRequest {
		r.ProtocolType, r.Protocol = kmsg.StringPtr(typ), kmsg.StringPtr(name)
		return r
	}
	for _, tc := range []struct {
		name string
		req  *kmsg.SyncGroupRequest
		want int16
	}{
		{"ok", withProto(syncReq(5, b, 2, nil), "consumer", "range"), 0},
		{"empty group", func() *kmsg.SyncGroupRequest { r := syncReq(5, b, 2, nil); r.Group = ""; return r }(), kerr.InvalidGroupID.Code},
		{"unknown member", syncReq(5, "nope", 2, nil), kerr.UnknownMemberID.Code},
		{"old generation", syncReq(5, b, 1, nil), kerr.IllegalGeneration.Code},
		{"other protocol type", withProto(syncReq(5, b, 2, nil), "connect", "range"), kerr.InconsistentGroupProtocol.Code},
		{"other protocol", withProto(syncReq(5, b, 2, nil), "consumer", "sticky"), kerr.InconsistentGroupProtocol.Code},
	} {
		resp, w := h.g.sync(h.now, tc.req)
		if w != nil {
			t.Fatalf("%s: parked", tc.name)
		}
		code(t, tc.name, resp.ErrorCode, tc.want)
	}
	for _, tc := range []struct {
		name string
		req  *kmsg.HeartbeatRequest
		want int16
	}{
		{"ok", hbReq(4, a, 2), 0},
		{"empty group", func() *kmsg.HeartbeatRequest { r := hbReq(4, a, 2); r.Group = ""; return r }(), kerr.InvalidGroupID.Code},
		{"unknown member", hbReq(4, "nope", 2), kerr.UnknownMemberID.Code},
		{"future generation", hbReq(4, a, 3), kerr.IllegalGeneration.Code},
		{"unknown instance", func() *kmsg.HeartbeatRequest { r := hbReq(4, a, 2); r.InstanceID = kmsg.StringPtr("i"); return r }(), kerr.UnknownMemberID.Code},
	} {
		code(t, tc.name, h.g.heartbeatReq(h.now, tc.req).ErrorCode, tc.want)
	}

	// Between join and sync: heartbeats are fine, syncs of the
	// preparing group are refused.
	h.g.join(h.now, joinReq(9, a), client{id: "ca"})
	resp, _ := h.g.sync(h.now, syncReq(5, b, 2, nil))
	code(t, "sync while preparing", resp.ErrorCode, kerr.RebalanceInProgress.Code)
	_, wb := h.g.join(h.now, joinReq(9, b), client{id: "cb"})
	got(t, wb.ch)
	code(t, "heartbeat while completing", h.g.heartbeatReq(h.now, hbReq(4, b, 3)).ErrorCode, 0)
}

func TestStaticMembership(t *testing.T) {
	h := newHarness(t)
	static := func(v int16, memberID string, protos ...kmsg.JoinGroupRequestProtocol) *kmsg.JoinGroupRequest {
		r := joinReq(v, memberID, protos...)
		r.InstanceID = kmsg.StringPtr("i1")
		return r
	}

	// A static member joins without the MEMBER_ID_REQUIRED round trip.
	r, wa := h.g.join(h.now, static(5, ""), client{id: "ca"})
	if r != nil {
		t.Fatalf("static join answered at once: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	ja := got(t, wa.ch)
	a := ja.MemberID
	if !strings.HasPrefix(a, "i1-") || ja.Members[0].InstanceID == nil || *ja.Members[0].InstanceID != "i1" {
		t.Fatalf("static member %q, members %+v", a, ja.Members)
	}
	_, ws := h.g.sync(h.now, syncReq(5, a, 1, map[string]string{a: "A"}))
	got(t, ws.ch)
	b, wb := h.joinMember(5, "cb")
	_, wa = h.g.join(h.now, static(5, a), client{id: "ca"})
	got(t, wa.ch)
	got(t, wb.ch)
	_, wsb := h.g.sync(h.now, syncReq(5, b, 2, nil))
	_, wsa := h.g.sync(h.now, syncReq(5, a, 2, map[string]string{a: "A", b: "B"}))
	got(t, wsa.ch)
	got(t, wsb.ch)
	stored := len(h.store.records())

	// The instance restarts: same metadata, new member ID, same
	// generation, no rebalance.
	r, w := h.g.join(h.now, static(9, ""), client{id: "ca"})
	if w != nil {
		t.Fatal("restarted static member parked")
	}
	r = roundTrip(t, r)
	a2 := r.MemberID
	if r.ErrorCode != 0 || a2 == a || !strings.HasPrefix(a2, "i1-") || r.Generation != 2 || r.LeaderID != a2 || !r.SkipAssignment || len(r.Members) != 2 {
		t.Fatalf("static rejoin: %+v", r)
	}
	if h.g.state != StateStable || len(h.store.records()) != stored+1 {
		t.Fatalf("state %v, %d new records", h.g.state, len(h.store.records())-stored)
	}
	old := hbReq(4, a, 2)
	old.InstanceID = kmsg.StringPtr("i1")
	code(t, "old instance heartbeat", h.g.heartbeatReq(h.now, old).ErrorCode, kerr.FencedInstanceID.Code)
	code(t, "new instance heartbeat", h.g.heartbeatReq(h.now, hbReq(4, a2, 2)).ErrorCode, 0)
	code(t, "other member heartbeat", h.g.heartbeatReq(h.now, hbReq(4, b, 2)).ErrorCode, 0)
	s, _ := h.g.sync(h.now, syncReq(5, a2, 2, map[string]string{a2: "ignored"}))
	if s.ErrorCode != 0 || string(s.MemberAssignment) != "A" {
		t.Fatalf("sync after static rejoin: %v %q", kerr.ErrorForCode(s.ErrorCode), s.MemberAssignment)
	}
	fenced := commitReq(8, a, 2, 1, "t")
	fenced.InstanceID = kmsg.StringPtr("i1")
	code(t, "fenced commit", h.g.commit(h.now, fenced).Topics[0].Partitions[0].ErrorCode, kerr.FencedInstanceID.Code)

	// Restarting with other metadata rebalances.
	if _, w := h.g.join(h.now, static(9, "", proto("range", "t", "u")), client{id: "ca"}); w == nil || h.g.state != StatePreparingRebalance {
		t.Fatalf("changed static rejoin: state %v", h.g.state)
	}

	// Leaving by instance ID.
	lr := leaveReq(5)
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.InstanceID = kmsg.StringPtr("i1")
	lm.MemberID = "wrong"
	lr.Members = append(lr.Members, lm)
	code(t, "leave with another member ID", h.g.leave(h.now, lr).Members[0].ErrorCode, kerr.FencedInstanceID.Code)
	lr.Members[0].MemberID = ""
	code(t, "leave by instance", h.g.leave(h.now, lr).Members[0].ErrorCode, 0)
	code(t, "leave again", h.g.leave(h.now, lr).Members[0].ErrorCode, kerr.UnknownMemberID.Code)
	if _, ok := h.g.static["i1"]; ok {
		t.Fatal("instance still mapped")
	}
}

func TestInitialRebalanceDelay(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.InitialRebalanceDelay = 3 * time.Second })
	_, wa := h.joinMember(9, "ca")
	h.advance(2 * time.Second)
	_, wb := h.joinMember(9, "cb")
	h.advance(time.Second) // b arrived during the delay: extended by 3s
	h.advance(2999 * time.Millisecond)
	if !parked(wa.ch) || !parked(wb.ch) {
		t.Fatal("join phase ended during the extended delay")
	}
	h.advance(time.Millisecond)
	if ja, jb := got(t, wa.ch), got(t, wb.ch); ja.Generation != 1 || len(ja.Members) != 2 || jb.Generation != 1 {
		t.Fatalf("generation %d with %d members", ja.Generation, len(ja.Members))
	}

	// The delay applies only to a group leaving Empty.
	h2 := newHarness(t, func(c *Config) { c.InitialRebalanceDelay = 3 * time.Second })
	_, w := h2.joinMember(9, "ca")
	h2.advance(3 * time.Second)
	got(t, w.ch)
	_, w = h2.joinMember(9, "cb")
	if parked(w.ch) == false {
		t.Fatal("b joined without a")
	}
}

func TestLeave(t *testing.T) {
	h := newHarness(t)
	a, b := h.stableTwo(9, 5)
	before := len(h.store.records())
	lr := roundTrip(t, h.g.leave(h.now, leaveReq(5, a, b, "nope")))
	var codes []int16
	for _, m := range lr.Members {
		codes = append(codes, m.ErrorCode)
	}
	if fmt.Sprint(codes) != fmt.Sprint([]int16{0, 0, kerr.UnknownMemberID.Code}) {
		t.Fatalf("codes %v", codes)
	}
	// Everyone left: the generation ends Empty, which is stored.
	if h.g.state != StateEmpty || h.g.generation != 3 || len(h.store.records()) != before+1 {
		t.Fatalf("state %v generation %d", h.g.state, h.g.generation)
	}
	code(t, "v0 unknown", h.g.leave(h.now, leaveReq(0, "nope")).ErrorCode, kerr.UnknownMemberID.Code)
	code(t, "empty group", func() int16 { r := leaveReq(0, "x"); r.Group = ""; return h.g.leave(h.now, r).ErrorCode }(), kerr.InvalidGroupID.Code)

	// Leaving with a reserved (MEMBER_ID_REQUIRED) ID drops the reservation.
	resp, _ := h.g.join(h.now, joinReq(9, ""), client{id: "cc"})
	code(t, "leave reserved", h.g.leave(h.now, leaveReq(3, resp.MemberID)).Members[0].ErrorCode, 0)
	if len(h.g.pending) != 0 {
		t.Fatal("reservation kept")
	}
}

func TestEmptyAssignment(t *testing.T) {
	for _, typ := range []string{"consumer", "connect"} {
		t.Run(typ, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.InitialRebalanceDelay = time.Second })
			ra := joinReq(0, "")
			ra.ProtocolType = typ
			_, wa := h.g.join(h.now, ra, client{id: "ca"})
			_, wb := h.g.join(h.now, ra, client{id: "cb"})
			h.advance(2 * time.Second)
			ja, jb := got(t, wa.ch), got(t, wb.ch)
			_, wsb := h.g.sync(h.now, syncReq(0, jb.MemberID, 1, nil))
			_, wsa := h.g.sync(h.now, syncReq(0, ja.MemberID, 1, map[string]string{ja.MemberID: "A"}))
			got(t, wsa.ch)
			assignment := got(t, wsb.ch).MemberAssignment
			if typ == "connect" {
				if len(assignment) != 0 {
					t.Fatalf("assignment %q", assignment)
				}
				return
			}
			a := kmsg.NewConsumerMemberAssignment()
			if err := a.ReadFrom(assignment); err != nil || len(a.Topics) != 0 {
				t.Fatalf("assignment %x: %v", assignment, err)
			}
		})
	}
}

func TestSyncStoreFailure(t *testing.T) {
	h := newHarness(t)
	a, b := h.stableTwo(9, 5)
	h.g.join(h.now, joinReq(9, a), client{id: "ca"})
	_, wb := h.g.join(h.now, joinReq(9, b), client{id: "cb"})
	got(t, wb.ch)
	h.store.setFail(fmt.Errorf("disk full"))
	_, wsb := h.g.sync(h.now, syncReq(5, b, 3, nil))
	_, wsa := h.g.sync(h.now, syncReq(5, a, 3, map[string]string{a: "A", b: "B"}))
	code(t, "leader sync", got(t, wsa.ch).ErrorCode, kerr.CoordinatorNotAvailable.Code)
	code(t, "follower sync", got(t, wsb.ch).ErrorCode, kerr.CoordinatorNotAvailable.Code)
	if h.g.state != StatePreparingRebalance {
		t.Fatalf("state %v", h.g.state)
	}
}

func TestStaticReplacementEdges(t *testing.T) {
	static := func(memberID string) *kmsg.JoinGroupRequest {
		r := joinReq(9, memberID)
		r.InstanceID = kmsg.StringPtr("i1")
		return r
	}
	setup := func(t *testing.T) (*harness, string) {
		h := newHarness(t)
		_, w := h.g.join(h.now, static(""), client{id: "ca"})
		a := got(t, w.ch).MemberID
		_, ws := h.g.sync(h.now, syncReq(5, a, 1, map[string]string{a: "A"}))
		got(t, ws.ch)
		return h, a
	}

	t.Run("store failure keeps the old member", func(t *testing.T) {
		h, a := setup(t)
		h.store.setFail(errors.New("disk full"))
		r, _ := h.g.join(h.now, static(""), client{id: "ca"})
		code(t, "rejoin", r.ErrorCode, kerr.CoordinatorNotAvailable.Code)
		if h.g.static["i1"] != a || h.g.members[a] == nil || len(h.g.members) != 1 || h.g.leader != a {
			t.Fatalf("static %v, leader %q", h.g.static, h.g.leader)
		}
	})

	t.Run("parked join of the old member is fenced", func(t *testing.T) {
		h, a := setup(t)
		b, wb := h.joinMember(9, "cb")
		_, wa := h.g.join(h.now, static(a), client{id: "ca"})
		got(t, wa.ch)
		got(t, wb.ch)
		_, wsa := h.g.sync(h.now, syncReq(5, a, 2, map[string]string{a: "A", b: "B"}))
		got(t, wsa.ch)

		// a (the leader) rejoins and waits for b; meanwhile its instance
		// restarts.
		_, wold := h.g.join(h.now, static(a), client{id: "ca"})
		if !parked(wold.ch) {
			t.Fatal("old join not parked")
		}
		_, wnew := h.g.join(h.now, static(""), client{id: "ca"})
		code(t, "old join", got(t, wold.ch).ErrorCode, kerr.FencedInstanceID.Code)
		_, wb = h.g.join(h.now, joinReq(9, b), client{id: "cb"})
		jn, jb := got(t, wnew.ch), got(t, wb.ch)
		if jn.ErrorCode != 0 || jn.MemberID == a || jn.Generation != 3 || jn.LeaderID != jn.MemberID || jb.Generation != 3 {
			t.Fatalf("new join: %+v", jn)
		}
	})
}
