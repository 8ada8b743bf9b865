package group

import (
	"bytes"
	"cmp"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file holds the deterministic core: a group's state and the plain
// methods that move it. Nothing here starts goroutines, arms timers or
// reads the clock: every method that depends on time takes now, deadlines
// are fields, and tick applies whatever has expired. The only side effects
// are Store.Append calls and non-blocking sends on parked requests'
// buffered channels. coordinator.go is the thin driver around it.

// env is what every group of one Coordinator shares.
type env struct {
	cfg   Config // with defaults applied
	store Store
	log   *slog.Logger
	newID func() string // the random part of member IDs
}

// client identifies the connection a request came on (see WithClient).
type client struct {
	id, host string
}

// joinWaiter is a parked JoinGroup. Exactly one response is ever sent on ch
// (buffered, so the send never blocks even if the caller has gone).
type joinWaiter struct {
	req *kmsg.JoinGroupRequest
	ch  chan *kmsg.JoinGroupResponse
}

func newJoinWaiter(req *kmsg.JoinGroupRequest) *joinWaiter {
	return &joinWaiter{req: req, ch: make(chan *kmsg.JoinGroupResponse, 1)}
}

// fail answers w with an error and no group information.
func (w *joinWaiter) fail(code int16) {
	resp := w.req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.ErrorCode = code
	w.ch <- resp
}

// syncWaiter is a parked SyncGroup, as joinWaiter.
type syncWaiter struct {
	req *kmsg.SyncGroupRequest
	ch  chan *kmsg.SyncGroupResponse
}

func newSyncWaiter(req *kmsg.SyncGroupRequest) *syncWaiter {
	return &syncWaiter{req: req, ch: make(chan *kmsg.SyncGroupResponse, 1)}
}

func (w *syncWaiter) fail(code int16) {
	resp := w.req.ResponseKind().(*kmsg.SyncGroupResponse)
	resp.ErrorCode = code
	w.ch <- resp
}

// member is one member of a group.
type member struct {
	id         string
	instanceID *string // static membership (KIP-345); nil for dynamic members
	client     client
	seq        uint64 // join order: picks leaders and orders output deterministically

	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocols        []kmsg.JoinGroupRequestProtocol // in the member's preference order

	assignment []byte // from the leader's SyncGroup for the current generation

	// join is set while the member has (re)joined the current rebalance
	// and waits for its JoinGroup response; sync while it waits in
	// SyncGroup for the leader's assignment. Both exempt it from session
	// expiry: the rebalance and pending-sync deadlines bound the waits.
	join *joinWaiter
	sync *syncWaiter

	heartbeatDeadline time.Time // session expiry, when neither join nor sync is set
}

// metadataFor returns the member's metadata for protocol and whether the
// member supports it.
func (m *member) metadataFor(protocol string) ([]byte, bool) {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata, true
		}
	}
	return nil, false
}

// sameProtocols reports whether a rejoin carries exactly the protocols (names,
// order and metadata) the member last joined with.
func (m *member) sameProtocols(ps []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(m.protocols, ps, func(a, b kmsg.JoinGroupRequestProtocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// offset is one committed offset.
type offset struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	committed   time.Time // commit timestamp, millisecond precision
}

// group is one classic consumer group.
type group struct {
	env  *env
	name string

	state      State
	stateSince time.Time // when state was entered; for Empty, what retention counts from

	protocolType string // of the members; kept while Empty, replaced by the next first member
	protocol     string // chosen for the current generation; "" while none
	generation   int32
	leader       string

	members map[string]*member
	static  map[string]string    // instance ID → member ID
	pending map[string]time.Time // member IDs handed out with MEMBER_ID_REQUIRED → expiry
	nextSeq uint64

	// PreparingRebalance: when the join phase ends regardless of laggards.
	rebalanceDeadline time.Time
	// initial is the group.initial.rebalance.delay state of a rebalance
	// that started from Empty.
	initial struct {
		active    bool
		newMember bool          // a member joined during the current delay
		remaining time.Duration // of the rebalance timeout, for extensions
	}

	// pendingSync holds the members that got a JoinGroup response for the
	// current generation but have not sent SyncGroup; those still in it at
	// syncDeadline are removed (Kafka's pending-sync timeout).
	pendingSync  map[string]struct{}
	syncDeadline time.Time

	offsets map[string]map[int32]offset // topic → partition → commit
}

func newGroup(e *env, name string, now time.Time) *group {
	return &group{
		env:        e,
		name:       name,
		state:      StateEmpty,
		stateSince: now,
		members:    make(map[string]*member),
		static:     make(map[string]string),
		pending:    make(map[string]time.Time),
		offsets:    make(map[string]map[int32]offset),
	}
}

// vacant reports whether the group holds nothing worth keeping: it was
// created by a request that then failed, or every trace of it has expired.
// The driver forgets vacant groups.
func (g *group) vacant() bool {
	return g.state == StateEmpty && g.generation == 0 && g.protocolType == "" &&
		len(g.members) == 0 && len(g.pending) == 0 && len(g.offsets) == 0
}

// sortedMembers returns the members in join order.
func (g *group) sortedMembers() []*member {
	ms := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *member) int { return cmp.Compare(a.seq, b.seq) })
	return ms
}

func (g *group) setState(s State, now time.Time) {
	g.state = s
	g.stateSince = now
}

// maxRebalanceTimeout is the group's rebalance timeout: the largest of its
// members'.
func (g *group) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// checkInstance validates a request's group instance ID against the static
// membership map: 0, UNKNOWN_MEMBER_ID for an unknown instance, or
// FENCED_INSTANCE_ID when the instance now belongs to another member ID.
func (g *group) checkInstance(instanceID *string, memberID string) int16 {
	if instanceID == nil {
		return 0
	}
	id, ok := g.static[*instanceID]
	if !ok {
		return kerr.UnknownMemberID.Code
	}
	if id != memberID {
		return kerr.FencedInstanceID.Code
	}
	return 0
}

// expirable reports whether m's session timer runs.
func (m *member) expirable() bool { return m.join == nil && m.sync == nil }

// nextDeadline returns the earliest time tick has work to do, and false if
// nothing is scheduled.
func (g *group) nextDeadline() (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if g.state == StatePreparingRebalance {
		consider(g.rebalanceDeadline)
	}
	if len(g.pendingSync) > 0 {
		consider(g.syncDeadline)
	}
	for _, t := range g.pending {
		consider(t)
	}
	for _, m := range g.members {
		if m.expirable() {
			consider(m.heartbeatDeadline)
		}
	}
	return next, !next.IsZero()
}

// tick applies every deadline that has passed at now: the end of the join
// phase, the pending-sync timeout, expired MEMBER_ID_REQUIRED reservations
// and expired sessions. Deadlines are processed in a fixed order, members
// in join order.
func (g *group) tick(now time.Time) {
	for range 1000 { // each pass clears or pushes back what it handles
		switch {
		case g.state == StatePreparingRebalance && !g.rebalanceDeadline.IsZero() && !now.Before(g.rebalanceDeadline):
			g.onRebalanceDeadline(now)
		case len(g.pendingSync) > 0 && !g.syncDeadline.IsZero() && !now.Before(g.syncDeadline):
			g.onSyncDeadline(now)
		case g.expirePending(now):
		case g.expireSessions(now):
		default:
			return
		}
	}
	g.env.log.Error("group: tick did not settle", "group", g.name, "state", g.state)
}

// expirePending drops MEMBER_ID_REQUIRED reservations whose session timeout
// passed without the member joining. It reports whether it dropped any.
func (g *group) expirePending(now time.Time) bool {
	var expired []string
	for id, t := range g.pending {
		if !now.Before(t) {
			expired = append(expired, id)
		}
	}
	if len(expired) == 0 {
		return false
	}
	for _, id := range expired {
		delete(g.pending, id)
	}
	g.maybeCompleteJoin(now)
	return true
}

// expireSessions removes the members whose session timed out. It reports
// whether it removed any.
func (g *group) expireSessions(now time.Time) bool {
	var expired bool
	for _, m := range g.sortedMembers() {
		if g.members[m.id] == m && m.expirable() && !now.Before(m.heartbeatDeadline) {
			g.env.log.Info("group member session expired", "group", g.name, "member", m.id,
				"session_timeout", m.sessionTimeout, "generation", g.generation)
			g.removeMember(now, m)
			expired = true
		}
	}
	return expired
}

// heartbeat restarts m's session timer.
func (g *group) heartbeat(now time.Time, m *member) {
	m.heartbeatDeadline = now.Add(m.sessionTimeout)
}
