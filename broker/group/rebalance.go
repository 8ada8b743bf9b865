package group

import (
	"bytes"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file is the membership half of the core: JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup and the rebalance they drive.
//
//	           join / leave / expiry                all joined, or
//	Empty, Stable ───────────────► PreparingRebalance ──────────────► CompletingRebalance
//	   ▲                          ▲     │   rebalance deadline        │      │
//	   │  no member left          │     │                             │      │ leader's SyncGroup
//	   └──────────────────────────┼─────┘                             │      ▼
//	                              └── join (changed) / leave / expiry ┴── Stable

// millis converts a Kafka milliseconds field.
func millis(v int32) time.Duration { return time.Duration(v) * time.Millisecond }

// emptyConsumerAssignment is an encoded ConsumerMemberAssignment with no
// partitions. Kafka forwards an empty byte string to a member the leader
// assigned nothing to, but some clients (kgo among them) fail to decode
// that, so for protocol type "consumer" we send this instead.
var emptyConsumerAssignment = func() []byte {
	a := kmsg.NewConsumerMemberAssignment()
	return a.AppendTo(nil)
}()

// join handles a JoinGroup. It returns either the response, or the waiter
// that receives it when the join phase of the rebalance completes.
func (g *group) join(now time.Time, req *kmsg.JoinGroupRequest, cl client) (*kmsg.JoinGroupResponse, *joinWaiter) {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	fail := func(code int16) (*kmsg.JoinGroupResponse, *joinWaiter) {
		resp.ErrorCode = code
		return resp, nil
	}
	if req.Group == "" {
		return fail(kerr.InvalidGroupID.Code)
	}
	if st := millis(req.SessionTimeoutMillis); st < g.env.cfg.MinSessionTimeout || st > g.env.cfg.MaxSessionTimeout {
		return fail(kerr.InvalidSessionTimeout.Code)
	}
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}

	if req.MemberID == "" {
		if req.InstanceID != nil {
			return g.joinStatic(now, req, cl)
		}
		id := cl.id + "-" + g.env.newID()
		if req.Version >= 4 { // KIP-394: hand out the ID, join with it next
			g.pending[id] = now.Add(millis(req.SessionTimeoutMillis))
			resp.MemberID = id
			return fail(kerr.MemberIDRequired.Code)
		}
		return nil, g.addMember(now, g.newMember(id, req, cl), req)
	}

	if code := g.checkInstance(req.InstanceID, req.MemberID); code != 0 {
		return fail(code)
	}
	if _, ok := g.pending[req.MemberID]; ok {
		delete(g.pending, req.MemberID)
		return nil, g.addMember(now, g.newMember(req.MemberID, req, cl), req)
	}
	m := g.members[req.MemberID]
	if m == nil {
		return fail(kerr.UnknownMemberID.Code)
	}
	switch g.state {
	case StatePreparingRebalance:
		return nil, g.rejoin(now, m, req, cl)
	case StateCompletingRebalance, StateStable:
		// A member that already has the current generation and asks for
		// nothing new gets it again; the leader rejoining in Stable
		// always means "rebalance" (e.g. partitions were added).
		if m.sameProtocols(req.Protocols) && (g.state == StateCompletingRebalance || m.id != g.leader) {
			g.heartbeat(now, m)
			return g.joinResponse(req, m), nil
		}
		return nil, g.rejoin(now, m, req, cl)
	}
	return fail(kerr.UnknownMemberID.Code)
}

// joinStatic handles a JoinGroup with a group instance ID and no member ID
// (KIP-345). An unknown instance joins as a new member, without the
// MEMBER_ID_REQUIRED round trip. A known instance replaces its previous
// member under a new member ID, fencing the old one; in a Stable group with
// unchanged protocol metadata that needs no rebalance: the member gets the
// current generation and its old assignment.
func (g *group) joinStatic(now time.Time, req *kmsg.JoinGroupRequest, cl client) (*kmsg.JoinGroupResponse, *joinWaiter) {
	inst := *req.InstanceID
	m := g.newMember(inst+"-"+g.env.newID(), req, cl)
	old := g.members[g.static[inst]]
	if old == nil {
		delete(g.static, inst)
		return nil, g.addMember(now, m, req)
	}
	m.seq = old.seq
	m.assignment = old.assignment
	g.heartbeat(now, m)
	g.replaceMember(old, m)

	if g.state == StateStable && old.sameProtocols(req.Protocols) {
		if err := g.persistMetadata(); err != nil {
			g.replaceMember(m, old)
			g.env.log.Warn("group metadata not stored; static member not replaced",
				"group", g.name, "instance", inst, "err", err)
			resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return resp, nil
		}
		g.fence(old)
		resp := g.joinResponse(req, m)
		// KIP-814: a replaced leader must not send a new assignment in a
		// Stable group; it receives its old one from SyncGroup.
		resp.SkipAssignment = m.id == g.leader
		return resp, nil
	}
	g.fence(old)
	w := newJoinWaiter(req)
	m.join = w
	g.prepareRebalanceIfSettled(now)
	g.maybeCompleteJoin(now)
	return nil, w
}

// replaceMember puts m in old's place: same instance, leadership and
// pending-sync status.
func (g *group) replaceMember(old, m *member) {
	delete(g.members, old.id)
	g.members[m.id] = m
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	if g.leader == old.id {
		g.leader = m.id
	}
	if _, ok := g.pendingSync[old.id]; ok {
		delete(g.pendingSync, old.id)
		g.pendingSync[m.id] = struct{}{}
	}
}

// fence answers a replaced static member's parked requests with
// FENCED_INSTANCE_ID.
func (g *group) fence(old *member) {
	if old.join != nil {
		old.join.fail(kerr.FencedInstanceID.Code)
		old.join = nil
	}
	if old.sync != nil {
		old.sync.fail(kerr.FencedInstanceID.Code)
		old.sync = nil
	}
}

// newMember builds a member from its JoinGroup; it is not yet in the group.
func (g *group) newMember(id string, req *kmsg.JoinGroupRequest, cl client) *member {
	g.nextSeq++
	m := &member{id: id, client: cl, seq: g.nextSeq}
	if req.InstanceID != nil {
		inst := *req.InstanceID
		m.instanceID = &inst
	}
	m.update(req, cl)
	return m
}

// update takes the timeouts, protocols and client of a (re)join.
func (m *member) update(req *kmsg.JoinGroupRequest, cl client) {
	m.client = cl
	m.sessionTimeout = millis(req.SessionTimeoutMillis)
	m.rebalanceTimeout = millis(req.RebalanceTimeoutMillis)
	if req.Version == 0 || m.rebalanceTimeout <= 0 { // v0 has no rebalance timeout: Kafka uses the session timeout
		m.rebalanceTimeout = m.sessionTimeout
	}
	m.protocols = make([]kmsg.JoinGroupRequestProtocol, len(req.Protocols))
	for i, p := range req.Protocols {
		m.protocols[i] = kmsg.NewJoinGroupRequestProtocol()
		m.protocols[i].Name = p.Name
		m.protocols[i].Metadata = bytes.Clone(p.Metadata)
	}
}

// addMember adds m, parked in JoinGroup, and starts or joins a rebalance.
func (g *group) addMember(now time.Time, m *member, req *kmsg.JoinGroupRequest) *joinWaiter {
	if len(g.members) == 0 {
		g.protocolType = req.ProtocolType
	}
	g.members[m.id] = m
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	if g.leader == "" {
		g.leader = m.id
	}
	w := newJoinWaiter(req)
	m.join = w
	if g.state == StatePreparingRebalance && g.initial.active {
		g.initial.newMember = true
	}
	g.prepareRebalanceIfSettled(now)
	g.maybeCompleteJoin(now)
	return w
}

// rejoin parks a known member's JoinGroup in the current or a new
// rebalance.
func (g *group) rejoin(now time.Time, m *member, req *kmsg.JoinGroupRequest, cl client) *joinWaiter {
	m.update(req, cl)
	if m.join != nil { // superseded, e.g. a retry on a new connection
		m.join.fail(kerr.RebalanceInProgress.Code)
	}
	w := newJoinWaiter(req)
	m.join = w
	g.prepareRebalanceIfSettled(now)
	g.maybeCompleteJoin(now)
	return w
}

// supportsProtocols reports whether a member with this protocol type and
// these protocols may join: any non-empty set for a group without members,
// else the group's type and at least one protocol every member supports.
func (g *group) supportsProtocols(protocolType string, ps []kmsg.JoinGroupRequestProtocol) bool {
	if len(g.members) == 0 {
		return protocolType != "" && len(ps) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	return slices.ContainsFunc(ps, func(p kmsg.JoinGroupRequestProtocol) bool {
		return g.allSupport(p.Name)
	})
}

func (g *group) allSupport(protocol string) bool {
	for _, m := range g.members {
		if _, ok := m.metadataFor(protocol); !ok {
			return false
		}
	}
	return true
}

// prepareRebalanceIfSettled starts a rebalance unless one is preparing.
func (g *group) prepareRebalanceIfSettled(now time.Time) {
	switch g.state {
	case StateEmpty, StateStable, StateCompletingRebalance:
		g.prepareRebalance(now)
	}
}

// prepareRebalance moves the group to PreparingRebalance: parked SyncGroups
// of an unfinished generation fail with REBALANCE_IN_PROGRESS and the join
// deadline is set — the rebalance timeout, or for a group leaving Empty the
// initial rebalance delay.
func (g *group) prepareRebalance(now time.Time) {
	if g.state == StateCompletingRebalance {
		for _, m := range g.sortedMembers() {
			m.assignment = nil
			if m.sync != nil {
				m.sync.fail(kerr.RebalanceInProgress.Code)
				m.sync = nil
				g.heartbeat(now, m)
			}
		}
	}
	g.pendingSync = nil
	g.syncDeadline = time.Time{}
	fromEmpty := g.state == StateEmpty
	g.setState(StatePreparingRebalance, now)

	rt := g.maxRebalanceTimeout()
	g.initial.active, g.initial.newMember, g.initial.remaining = false, false, 0
	if delay := g.env.cfg.InitialRebalanceDelay; fromEmpty && delay > 0 {
		g.initial.active = true
		g.initial.remaining = max(rt-delay, 0)
		rt = min(rt, delay)
	}
	g.rebalanceDeadline = now.Add(rt)
}

// maybeCompleteJoin ends the join phase if every member has rejoined and no
// MEMBER_ID_REQUIRED member is still on its way. The initial rebalance
// delay is never cut short.
func (g *group) maybeCompleteJoin(now time.Time) {
	if g.state != StatePreparingRebalance || g.initial.active || len(g.pending) > 0 {
		return
	}
	for _, m := range g.members {
		if m.join == nil {
			return
		}
	}
	g.completeJoin(now)
}

// onRebalanceDeadline ends the join phase, or extends the initial delay if
// members are still arriving.
func (g *group) onRebalanceDeadline(now time.Time) {
	if in := &g.initial; in.active && in.newMember && in.remaining > 0 {
		delay := min(g.env.cfg.InitialRebalanceDelay, in.remaining)
		in.remaining = max(in.remaining-g.env.cfg.InitialRebalanceDelay, 0)
		in.newMember = false
		// From the old deadline, not now, so that a late tick does not
		// stretch the delay.
		g.rebalanceDeadline = g.rebalanceDeadline.Add(delay)
		return
	}
	g.completeJoin(now)
}

// completeJoin ends the join phase: members that did not rejoin are
// removed, the generation advances, a protocol is chosen and every joined
// member gets its JoinGroup response (the leader with all members'
// metadata). With no member left the group becomes Empty.
func (g *group) completeJoin(now time.Time) {
	g.initial.active, g.initial.newMember, g.initial.remaining = false, false, 0
	g.rebalanceDeadline = time.Time{}
	for _, m := range g.sortedMembers() {
		if m.join == nil {
			g.env.log.Info("group member removed: did not rejoin in time", "group", g.name, "member", m.id)
			g.dropMember(m)
		}
	}
	if g.generation == math.MaxInt32 {
		g.generation = 0
	}
	g.generation++

	ms := g.sortedMembers()
	if len(ms) == 0 {
		g.protocol, g.leader = "", ""
		g.setState(StateEmpty, now)
		if err := g.persistMetadata(); err != nil {
			g.env.log.Warn("group metadata not stored", "group", g.name, "generation", g.generation, "err", err)
		}
		g.env.log.Info("group empty", "group", g.name, "generation", g.generation)
		return
	}
	if g.members[g.leader] == nil {
		g.leader = ms[0].id
	}
	g.protocol = g.selectProtocol(ms)
	g.setState(StateCompletingRebalance, now)
	g.pendingSync = make(map[string]struct{}, len(ms))
	for _, m := range ms {
		g.pendingSync[m.id] = struct{}{}
	}
	g.syncDeadline = now.Add(g.maxRebalanceTimeout())
	for _, m := range ms {
		w := m.join
		m.join = nil
		g.heartbeat(now, m)
		w.ch <- g.joinResponse(w.req, m)
	}
	g.env.log.Info("group generation joined", "group", g.name, "generation", g.generation,
		"protocol", g.protocol, "leader", g.leader, "members", len(ms))
}

// selectProtocol picks the protocol for a new generation (ms in join
// order): among the protocols every member supports, each member votes for
// the first in its own preference order; the most votes win, ties going to
// the leader's preference.
func (g *group) selectProtocol(ms []*member) string {
	leader := g.members[g.leader]
	var candidates []string
	for _, p := range leader.protocols {
		if g.allSupport(p.Name) {
			candidates = append(candidates, p.Name)
		}
	}
	if len(candidates) == 0 { // supportsProtocols admits no such member
		g.env.log.Error("group has no protocol all members support", "group", g.name)
		return leader.protocols[0].Name
	}
	votes := make(map[string]int, len(candidates))
	for _, m := range ms {
		for _, p := range m.protocols {
			if slices.Contains(candidates, p.Name) {
				votes[p.Name]++
				break
			}
		}
	}
	best := candidates[0]
	for _, c := range candidates[1:] {
		if votes[c] > votes[best] {
			best = c
		}
	}
	return best
}

// joinResponse is m's successful JoinGroup response for the current
// generation.
func (g *group) joinResponse(req *kmsg.JoinGroupRequest, m *member) *kmsg.JoinGroupResponse {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = g.generation
	resp.ProtocolType = kmsg.StringPtr(g.protocolType)
	resp.Protocol = kmsg.StringPtr(g.protocol)
	resp.LeaderID = g.leader
	resp.MemberID = m.id
	if m.id == g.leader {
		for _, o := range g.sortedMembers() {
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID = o.id
			rm.InstanceID = o.instanceID
			rm.ProtocolMetadata, _ = o.metadataFor(g.protocol)
			resp.Members = append(resp.Members, rm)
		}
	}
	return resp
}

// dropMember removes m without starting a rebalance; its parked requests
// fail with UNKNOWN_MEMBER_ID.
func (g *group) dropMember(m *member) {
	if m.join != nil {
		m.join.fail(kerr.UnknownMemberID.Code)
		m.join = nil
	}
	if m.sync != nil {
		m.sync.fail(kerr.UnknownMemberID.Code)
		m.sync = nil
	}
	delete(g.members, m.id)
	delete(g.pendingSync, m.id)
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if ms := g.sortedMembers(); len(ms) > 0 {
			g.leader = ms[0].id
		}
	}
}

// removeMember removes m (left, expired or never synced) and rebalances.
func (g *group) removeMember(now time.Time, m *member) {
	g.dropMember(m)
	g.prepareRebalanceIfSettled(now)
	g.maybeCompleteJoin(now)
}

// onSyncDeadline removes the members that got a JoinGroup response but
// never sent SyncGroup, and rebalances without them.
func (g *group) onSyncDeadline(now time.Time) {
	ids := make([]string, 0, len(g.pendingSync))
	for _, m := range g.sortedMembers() {
		if _, ok := g.pendingSync[m.id]; ok {
			ids = append(ids, m.id)
		}
	}
	g.pendingSync, g.syncDeadline = nil, time.Time{}
	for _, id := range ids {
		g.env.log.Info("group member removed: no SyncGroup in time", "group", g.name, "member", id)
		g.dropMember(g.members[id])
	}
	g.prepareRebalanceIfSettled(now)
	g.maybeCompleteJoin(now)
}

// sync handles a SyncGroup. It returns either the response, or the waiter
// that receives it when the leader's assignment arrives.
func (g *group) sync(now time.Time, req *kmsg.SyncGroupRequest) (*kmsg.SyncGroupResponse, *syncWaiter) {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	fail := func(code int16) (*kmsg.SyncGroupResponse, *syncWaiter) {
		resp.ErrorCode = code
		return resp, nil
	}
	if req.Group == "" {
		return fail(kerr.InvalidGroupID.Code)
	}
	if code := g.checkInstance(req.InstanceID, req.MemberID); code != 0 {
		return fail(code)
	}
	m := g.members[req.MemberID]
	switch {
	case m == nil:
		return fail(kerr.UnknownMemberID.Code)
	case req.Generation != g.generation:
		return fail(kerr.IllegalGeneration.Code)
	case req.ProtocolType != nil && *req.ProtocolType != g.protocolType,
		req.Protocol != nil && *req.Protocol != g.protocol:
		return fail(kerr.InconsistentGroupProtocol.Code)
	}
	switch g.state {
	case StatePreparingRebalance:
		return fail(kerr.RebalanceInProgress.Code)
	case StateCompletingRebalance:
		g.synced(m)
		if m.sync != nil {
			m.sync.fail(kerr.RebalanceInProgress.Code)
		}
		w := newSyncWaiter(req)
		m.sync = w
		if m.id == g.leader {
			g.completeSync(now, req.GroupAssignment)
		}
		return nil, w
	case StateStable:
		g.synced(m)
		g.heartbeat(now, m)
		return g.syncResponse(req, m), nil
	}
	return fail(kerr.UnknownMemberID.Code)
}

// synced takes m off the pending-sync list.
func (g *group) synced(m *member) {
	delete(g.pendingSync, m.id)
	if len(g.pendingSync) == 0 {
		g.pendingSync, g.syncDeadline = nil, time.Time{}
	}
}

// completeSync stores the leader's assignment with the group metadata and,
// once that is durable, makes the group Stable and answers every parked
// SyncGroup. If the store fails the parked SyncGroups get
// COORDINATOR_NOT_AVAILABLE and the group rebalances.
func (g *group) completeSync(now time.Time, assignments []kmsg.SyncGroupRequestGroupAssignment) {
	byMember := make(map[string][]byte, len(assignments))
	for _, a := range assignments {
		byMember[a.MemberID] = a.MemberAssignment
	}
	ms := g.sortedMembers()
	for _, m := range ms {
		m.assignment = bytes.Clone(byMember[m.id])
		if len(m.assignment) == 0 && g.protocolType == "consumer" {
			m.assignment = bytes.Clone(emptyConsumerAssignment)
		}
	}
	g.setState(StateStable, now) // the stored metadata describes the Stable group
	if err := g.persistMetadata(); err != nil {
		g.env.log.Warn("group metadata not stored; rebalancing", "group", g.name, "generation", g.generation, "err", err)
		g.state = StateCompletingRebalance
		for _, m := range ms {
			if m.sync != nil {
				m.sync.fail(kerr.CoordinatorNotAvailable.Code)
				m.sync = nil
				g.heartbeat(now, m)
			}
		}
		g.prepareRebalance(now)
		g.maybeCompleteJoin(now)
		return
	}
	for _, m := range ms {
		if w := m.sync; w != nil {
			m.sync = nil
			g.heartbeat(now, m)
			w.ch <- g.syncResponse(w.req, m)
		}
	}
	g.env.log.Info("group stable", "group", g.name, "generation", g.generation, "members", len(ms))
}

// syncResponse is m's successful SyncGroup response.
func (g *group) syncResponse(req *kmsg.SyncGroupRequest, m *member) *kmsg.SyncGroupResponse {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	resp.ProtocolType = kmsg.StringPtr(g.protocolType)
	resp.Protocol = kmsg.StringPtr(g.protocol)
	resp.MemberAssignment = m.assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp
}

// heartbeatReq handles a Heartbeat.
func (g *group) heartbeatReq(now time.Time, req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	resp.ErrorCode = g.heartbeatCode(now, req)
	return resp
}

func (g *group) heartbeatCode(now time.Time, req *kmsg.HeartbeatRequest) int16 {
	if req.Group == "" {
		return kerr.InvalidGroupID.Code
	}
	if code := g.checkInstance(req.InstanceID, req.MemberID); code != 0 {
		return code
	}
	m := g.members[req.MemberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case req.Generation != g.generation:
		return kerr.IllegalGeneration.Code
	}
	switch g.state {
	case StatePreparingRebalance:
		g.heartbeat(now, m)
		return kerr.RebalanceInProgress.Code
	case StateCompletingRebalance, StateStable:
		g.heartbeat(now, m)
		return 0
	}
	return kerr.UnknownMemberID.Code
}

// leave handles a LeaveGroup: v0-2 name one member, v3+ a batch, each by
// member ID or (static members) by instance ID.
func (g *group) leave(now time.Time, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	leaving := req.Members
	if req.Version < 3 {
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = req.MemberID
		leaving = []kmsg.LeaveGroupRequestMember{m}
	}
	for _, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID = lm.MemberID
		rm.InstanceID = lm.InstanceID
		rm.ErrorCode = g.leaveOne(now, lm.MemberID, lm.InstanceID)
		resp.Members = append(resp.Members, rm)
	}
	if req.Version < 3 {
		resp.ErrorCode = resp.Members[0].ErrorCode
		resp.Members = nil
	}
	return resp
}

func (g *group) leaveOne(now time.Time, memberID string, instanceID *string) int16 {
	if instanceID != nil {
		id, ok := g.static[*instanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID.Code
		case memberID != "" && memberID != id:
			return kerr.FencedInstanceID.Code
		}
		memberID = id
	}
	if _, ok := g.pending[memberID]; ok {
		delete(g.pending, memberID)
		g.maybeCompleteJoin(now)
		return 0
	}
	m := g.members[memberID]
	if m == nil {
		return kerr.UnknownMemberID.Code
	}
	g.env.log.Info("group member left", "group", g.name, "member", m.id)
	g.removeMember(now, m)
	return 0
}
