package group

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// memStore is an in-memory Store that can be made to fail.
type memStore struct {
	mu   sync.Mutex
	recs []Record
	fail error
}

func (s *memStore) Append(recs []Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	for _, r := range recs {
		s.recs = append(s.recs, Record{Key: append([]byte(nil), r.Key...), Value: cloneNil(r.Value)})
	}
	return nil
}

func cloneNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func (s *memStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *memStore) records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.recs...)
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// t0 is the harness's start time.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// harness drives one group's core directly with a fake clock.
type harness struct {
	t     *testing.T
	g     *group
	store *memStore
	now   time.Time
}

func newHarness(t *testing.T, opts ...func(*Config)) *harness {
	t.Helper()
	store := &memStore{}
	cfg := Config{Store: store, Logger: discard}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg = cfg.withDefaults()
	var n int
	e := &env{cfg: cfg, store: store, log: discard, newID: func() string { n++; return fmt.Sprint(n) }}
	return &harness{t: t, g: newGroup(e, "g", t0), store: store, now: t0}
}

// advance moves the clock and applies expired deadlines.
func (h *harness) advance(d time.Duration) {
	h.now = h.now.Add(d)
	h.g.tick(h.now)
}

// consumerMeta encodes "consumer" protocol metadata subscribing to topics.
func consumerMeta(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = topics
	return m.AppendTo(nil)
}

// proto is a protocol for joinReq.
func proto(name string, topics ...string) kmsg.JoinGroupRequestProtocol {
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = name
	p.Metadata = consumerMeta(topics...)
	return p
}

// joinReq is a JoinGroup for group "g" with a 10s session timeout and a
// 20s rebalance timeout, by default with the "range" protocol on topic t.
func joinReq(v int16, memberID string, protos ...kmsg.JoinGroupRequestProtocol) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Version = v
	r.Group = "g"
	r.SessionTimeoutMillis = 10_000
	r.RebalanceTimeoutMillis = 20_000
	r.MemberID = memberID
	r.ProtocolType = "consumer"
	if len(protos) == 0 {
		protos = []kmsg.JoinGroupRequestProtocol{proto("range", "t")}
	}
	r.Protocols = protos
	return r
}

func syncReq(v int16, memberID string, gen int32, assign map[string]string) *kmsg.SyncGroupRequest {
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version = v
	r.Group = "g"
	r.MemberID = memberID
	r.Generation = gen
	for _, id := range sortedKeys(assign) {
		a := kmsg.NewSyncGroupRequestGroupAssignment()
		a.MemberID = id
		a.MemberAssignment = []byte(assign[id])
		r.GroupAssignment = append(r.GroupAssignment, a)
	}
	return r
}

func hbReq(v int16, memberID string, gen int32) *kmsg.HeartbeatRequest {
	r := kmsg.NewPtrHeartbeatRequest()
	r.Version = v
	r.Group = "g"
	r.MemberID = memberID
	r.Generation = gen
	return r
}

func leaveReq(v int16, memberIDs ...string) *kmsg.LeaveGroupRequest {
	r := kmsg.NewPtrLeaveGroupRequest()
	r.Version = v
	r.Group = "g"
	if v < 3 {
		r.MemberID = memberIDs[0]
		return r
	}
	for _, id := range memberIDs {
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = id
		r.Members = append(r.Members, m)
	}
	return r
}

// commitReq commits offset o to partition 0 of each topic.
func commitReq(v int16, memberID string, gen int32, o int64, topics ...string) *kmsg.OffsetCommitRequest {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version = v
	r.Group = "g"
	r.MemberID = memberID
	r.Generation = gen
	for _, t := range topics {
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = t
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition = 0
		rp.Offset = o
		rp.LeaderEpoch = 7
		rp.Metadata = kmsg.StringPtr("meta-" + t)
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
	}
	return r
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// got returns the response a waiter received; it fails if none yet.
func got[R any](t *testing.T, ch chan R) R {
	t.Helper()
	select {
	case r := <-ch:
		return r
	default:
		var zero R
		t.Fatalf("request still parked")
		return zero
	}
}

// parked reports whether no response has been sent on ch (without
// consuming one).
func parked[R any](ch chan R) bool { return len(ch) == 0 }

// code checks an error code.
func code(t *testing.T, what string, got, want int16) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: error %v, want %v", what, kerr.ErrorForCode(got), kerr.ErrorForCode(want))
	}
}

// joinMember joins a new dynamic member to h's group, doing the
// MEMBER_ID_REQUIRED round trip for v4+. It returns the member ID and the
// waiter of its join, which already holds the response if the join phase
// completed at once. Client IDs must be unique within a test.
func (h *harness) joinMember(v int16, clientID string, protos ...kmsg.JoinGroupRequestProtocol) (string, *joinWaiter) {
	h.t.Helper()
	cl := client{id: clientID, host: "/127.0.0.1"}
	id := ""
	if v >= 4 {
		resp, w := h.g.join(h.now, joinReq(v, "", protos...), cl)
		if w != nil {
			h.t.Fatal("v4+ first join parked")
		}
		code(h.t, "first join", resp.ErrorCode, kerr.MemberIDRequired.Code)
		id = resp.MemberID
	}
	resp, w := h.g.join(h.now, joinReq(v, id, protos...), cl)
	if resp != nil {
		h.t.Fatalf("join answered at once: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	if id == "" {
		for mid, m := range h.g.members {
			if m.client.id == clientID {
				id = mid
			}
		}
	}
	return id, w
}

// roundTrip encodes resp at its version and decodes it again, failing on
// errors: it proves the response is well formed for that version.
func roundTrip[R kmsg.Response](t *testing.T, resp R) R {
	t.Helper()
	b := resp.AppendTo(nil)
	again := resp.RequestKind().ResponseKind().(R)
	again.SetVersion(resp.GetVersion())
	if err := again.ReadFrom(b); err != nil {
		t.Fatalf("%T v%d does not round-trip: %v", resp, resp.GetVersion(), err)
	}
	return again
}

// stableTwo brings h's group to Stable generation 2 with members a (leader,
// assigned "A") and b (assigned "B"), joining at version v and syncing at
// sv, and returns their IDs.
func (h *harness) stableTwo(v, sv int16) (a, b string) {
	h.t.Helper()
	h.g.env.cfg.InitialRebalanceDelay = 0
	a, wa := h.joinMember(v, "ca")
	ra := got(h.t, wa.ch)
	code(h.t, "a join", ra.ErrorCode, 0)
	_, ws := h.g.sync(h.now, syncReq(sv, a, ra.Generation, map[string]string{a: "A"}))
	code(h.t, "a sync", got(h.t, ws.ch).ErrorCode, 0)

	b, wb := h.joinMember(v, "cb")
	if !parked(wb.ch) {
		h.t.Fatal("b's join should wait for a")
	}
	ra2, wa2 := h.g.join(h.now, joinReq(v, a), client{id: "ca"})
	if ra2 != nil {
		h.t.Fatalf("a's rejoin answered at once: %v", kerr.ErrorForCode(ra2.ErrorCode))
	}
	ja, jb := got(h.t, wa2.ch), got(h.t, wb.ch)
	code(h.t, "a rejoin", ja.ErrorCode, 0)
	code(h.t, "b join", jb.ErrorCode, 0)
	_, wsb := h.g.sync(h.now, syncReq(sv, b, jb.Generation, nil))
	_, wsa := h.g.sync(h.now, syncReq(sv, a, ja.Generation, map[string]string{a: "A", b: "B"}))
	code(h.t, "a sync", got(h.t, wsa.ch).ErrorCode, 0)
	code(h.t, "b sync", got(h.t, wsb.ch).ErrorCode, 0)
	if h.g.state != StateStable {
		h.t.Fatalf("state %v, want Stable", h.g.state)
	}
	return a, b
}
