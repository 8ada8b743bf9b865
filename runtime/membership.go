package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/runtime/assign"
)

// The membership driver keeps this worker in the Connect group: the
// classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup)
// with Kafka Connect's protocol type "connect" and its metadata and
// assignment encodings (package assign), sent as kmsg requests through a
// kgo client, which finds the group coordinator and retries
// NOT_COORDINATOR and the like. kgo's own group consumer is not used: it
// speaks protocol type "consumer" and assigns partitions, not connectors.
//
// One goroutine runs the protocol:
//
//	join ──► sync ──► apply the assignment ──► heartbeat every heartbeat.interval.ms
//	 ▲                                              │ REBALANCE_IN_PROGRESS, a rejoin request
//	 │                                              │ (config change, scheduled delay, revocation)
//	 └──────────── stop revoked work first ◄────────┘
//
// The leader (the member the coordinator names) computes everyone's
// assignment with assign.Assignor after reading the config topic to its
// end. With the cooperative protocols a member keeps its work across a
// rebalance, stops what is revoked before it joins again, and starts what
// is assigned once it has read the config topic as far as the assignment
// was made at.
//
// Each worker joins as a static member (KIP-345) whose instance id is its
// worker id: a worker restarted after a crash takes its place in the group
// at once, instead of waiting for the dead member's session to expire
// (and gets its work back: the assignor gives a returning URL what it
// had). A worker that dies and does not come back is expired after the
// session timeout as any member.
//
// No zombies: a member that the coordinator no longer knows
// (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION) stops everything at once. A
// member that cannot reach the coordinator stops everything when
// session.timeout.ms minus its stop budget (task.shutdown.graceful.timeout.ms
// plus a margin, at most half the session timeout) has passed since the
// last request the coordinator answered: by the time the coordinator
// expires it and another worker may be given its work, its connectors and
// tasks have stopped (or been abandoned).
type member struct {
	cl   *kgo.Client
	host memberHost
	cfg  memberConfig
	log  *slog.Logger

	assignor *assign.Assignor

	// Owned by the loop goroutine.
	memberID      string
	generation    int32
	lastCompleted int32 // generation of the last assignment applied; -1 none
	protocol      assign.Protocol
	owned         []assign.Item      // what this worker runs; nil: nothing from any generation
	ownedAsg      *assign.Assignment // owned, as reported in the metadata
	revoking      []assign.Item      // revoked in the last assignment, maybe still stopping
	lastAlive     time.Time          // when the last request the coordinator answered was sent
	assignedAt    int64              // config offset of the last assignment
	failures      int                // requests failed in a row (to log the first of a streak)

	rejoin   chan struct{} // a rejoin was requested
	stopCh   chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	ctx      context.Context // cancelled by stop
	cancel   context.CancelFunc

	mu struct {
		sync.Mutex
		view       memberView
		changed    chan struct{}
		owners     map[assign.Item]string // leader: who runs what (URL)
		changedPos int64                  // config offset after the latest record that changed the work
		force      bool                   // a rejoin was requested for another reason
	}
}

// memberConfig is what the driver needs from the worker config.
type memberConfig struct {
	group                         string
	url                           string
	instanceID                    string // group.instance.id (KIP-345): the worker id
	protocols                     []assign.Protocol
	session, heartbeat, rebalance time.Duration
	maxDelay                      time.Duration // scheduled.rebalance.max.delay.ms
	stopBudget                    time.Duration // how long stopping everything may take
	syncTimeout                   time.Duration // worker.sync.timeout.ms
}

// memberView is the membership as the rest of the worker sees it.
type memberView struct {
	stable     bool // in a generation whose assignment was applied
	generation int32
	memberID   string
	leader     bool
	leaderURL  string
	protocol   assign.Protocol
}

// memberHost is what the driver needs from the herder.
type memberHost interface {
	// configOffset is how far the config topic was read (-1: nothing).
	configOffset() int64
	// leaderView reads the config topic to its end and returns the work
	// to assign and the offset it was read to.
	leaderView(ctx context.Context) (map[string]int, int64, error)
	// cleanExit reports whether the worker at url stopped its work
	// cleanly before it left.
	cleanExit(url string) bool
	// applyAssignment catches up with the config topic to offset, then
	// runs exactly owned with statuses of generation gen.
	applyAssignment(ctx context.Context, gen int32, offset int64, owned []assign.Item) error
	// stopAll stops everything (the membership is lost).
	stopAll()
	// stillRunning reports whether any of items still has an instance.
	stillRunning(items []assign.Item) bool
	// changed is closed at the herder's next state change.
	changed() <-chan struct{}
	// becameStable is told each time an assignment was applied.
	becameStable(v memberView)
}

// errMemberStopped ends the loop.
var errMemberStopped = errors.New("runtime: membership stopped")

func newMember(cl *kgo.Client, host memberHost, cfg memberConfig, log *slog.Logger) *member {
	m := &member{cl: cl, host: host, cfg: cfg, log: log.With("component", "membership"),
		assignor:   assign.NewAssignor(cfg.maxDelay, cfg.session),
		generation: -1, lastCompleted: -1, assignedAt: -1,
		rejoin: make(chan struct{}, 1), stopCh: make(chan struct{}), done: make(chan struct{})}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.mu.changed = make(chan struct{})
	m.mu.changedPos = -1
	return m
}

// start runs the driver until close.
func (m *member) start() { go m.run() }

// close stops the driver and leaves the group. The caller has stopped
// this worker's connectors and tasks first, so no one else starts them
// while they still run here.
func (m *member) close(ctx context.Context) {
	m.stopOnce.Do(func() {
		close(m.stopCh)
		m.cancel()
	})
	select {
	case <-m.done:
	case <-ctx.Done():
		return
	}
	m.leave(ctx)
}

func (m *member) stopped() bool {
	select {
	case <-m.stopCh:
		return true
	default:
		return false
	}
}

// requestRejoin asks for a rebalance; it never blocks.
func (m *member) requestRejoin() {
	m.mu.Lock()
	m.mu.force = true
	m.mu.Unlock()
	m.signal()
}

func (m *member) signal() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// workChanged tells that the config record ending at offset pos changed
// the work to assign (a connector added or removed, a task count
// changed): unless the current assignment was made after it, rejoin.
func (m *member) workChanged(pos int64) {
	m.mu.Lock()
	m.mu.changedPos = max(m.mu.changedPos, pos)
	m.mu.Unlock()
	m.signal()
}

// rejoinDue reports (and clears) a pending rejoin request, or whether the
// work changed after the current assignment was made.
func (m *member) rejoinDue() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	due := m.mu.force || m.mu.changedPos > m.assignedAt
	m.mu.force = false
	return due
}

// view returns the membership and a channel closed at its next change.
func (m *member) view() (memberView, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.view, m.mu.changed
}

func (m *member) setView(v memberView, owners map[assign.Item]string) {
	m.mu.Lock()
	m.mu.view = v
	if owners != nil || !v.leader {
		m.mu.owners = owners
	}
	close(m.mu.changed)
	m.mu.changed = make(chan struct{})
	m.mu.Unlock()
}

func (m *member) unstable() {
	m.mu.Lock()
	if !m.mu.view.stable {
		m.mu.Unlock()
		return
	}
	m.mu.view.stable = false
	close(m.mu.changed)
	m.mu.changed = make(chan struct{})
	m.mu.Unlock()
}

// ownerURL returns, on the leader, the URL of the worker that runs it.
func (m *member) ownerURL(it assign.Item) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.mu.owners[it]
	return u, ok
}

// fence checks with the coordinator that generation gen is still current
// and this worker still in it: a Heartbeat answered without error. The
// leader calls it right before writing to the config topic.
func (m *member) fence(ctx context.Context, v memberView) error {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.Generation, req.MemberID, req.InstanceID = m.cfg.group, v.generation, v.memberID, m.instance()
	ctx, cancel := context.WithTimeout(ctx, m.cfg.heartbeat)
	defer cancel()
	resp, err := req.RequestWith(ctx, m.cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		if errors.Is(err, kerr.RebalanceInProgress) {
			m.requestRejoin()
		}
		return err
	}
	return nil
}

func (m *member) run() {
	defer close(m.done)
	backoff := time.Duration(0)
	for !m.stopped() {
		if backoff > 0 && !m.sleep(backoff) {
			return
		}
		err := m.joinAndSync()
		switch {
		case errors.Is(err, errMemberStopped):
			return
		case err != nil:
			m.failed("JoinGroup/SyncGroup", err)
			backoff = min(max(2*backoff, 100*time.Millisecond), 2*time.Second)
			m.checkContact()
			continue
		}
		backoff, m.failures = 0, 0
		if err := m.stable(); errors.Is(err, errMemberStopped) {
			return
		}
	}
}

// instance returns the group instance id, or nil.
func (m *member) instance() *string {
	if m.cfg.instanceID == "" {
		return nil
	}
	return &m.cfg.instanceID
}

// failed logs a failed request: the first of a streak as a warning, the
// rest at debug level (a broker outage would otherwise flood the log).
func (m *member) failed(what string, err error) {
	m.failures++
	lvl := slog.LevelDebug
	if m.failures == 1 {
		lvl = slog.LevelWarn
	}
	m.log.Log(context.Background(), lvl, what+" failed", "err", err, "in_a_row", m.failures,
		"silent_for", time.Since(m.lastAlive).Round(time.Millisecond))
}

// sleep waits d, or returns false when stopped.
func (m *member) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-m.stopCh:
		return false
	}
}

// lose drops everything this worker runs: the group went on without it.
func (m *member) lose(why string, err error) {
	if m.owned != nil || m.lastCompleted >= 0 {
		m.log.Warn("lost the group membership; stopping every connector and task", "reason", why, "err", err,
			"generation", m.generation)
	}
	m.owned, m.ownedAsg, m.revoking = nil, nil, nil
	m.lastCompleted, m.generation = -1, -1
	m.unstable()
	m.host.stopAll()
	// Rejoin only once everything has stopped: the leader may hand this
	// work to anyone in the next generation.
	m.awaitStopped()
}

// checkContact loses the membership once the coordinator has been out of
// reach for too long to keep work running safely.
func (m *member) checkContact() {
	if m.owned == nil || m.lastAlive.IsZero() {
		return
	}
	if silent := time.Since(m.lastAlive); silent > m.cfg.session-m.cfg.stopBudget {
		m.lose("no answer from the group coordinator", fmt.Errorf("silent for %v (session.timeout.ms %v)", silent.Round(time.Millisecond), m.cfg.session))
	}
}

// metadata returns the JoinGroup protocols with this worker's metadata.
func (m *member) metadata() []kmsg.JoinGroupRequestProtocol {
	offset := m.host.configOffset()
	var out []kmsg.JoinGroupRequestProtocol
	for _, p := range m.cfg.protocols {
		md := assign.Metadata{Version: p, URL: m.cfg.url, ConfigOffset: offset}
		if p.Cooperative() {
			md.Owned = m.ownedAsg
		}
		jp := kmsg.NewJoinGroupRequestProtocol()
		jp.Name, jp.Metadata = p.Name(), md.Encode()
		out = append(out, jp)
	}
	return out
}

// joinAndSync runs one rebalance: it waits for revoked work to stop (or
// stops everything, with the eager protocol), joins, assigns if leader,
// syncs and applies the assignment.
func (m *member) joinAndSync() error {
	m.unstable()
	m.mu.Lock()
	m.mu.force = false
	m.mu.Unlock()
	if m.protocol.Cooperative() {
		m.awaitRevoked()
	} else if m.owned != nil {
		m.owned, m.ownedAsg = nil, nil
		m.host.stopAll()
		m.awaitStopped()
	}
	if m.stopped() {
		return errMemberStopped
	}

	req := kmsg.NewPtrJoinGroupRequest()
	req.Group = m.cfg.group
	req.SessionTimeoutMillis = int32(m.cfg.session.Milliseconds())
	req.RebalanceTimeoutMillis = int32(m.cfg.rebalance.Milliseconds())
	req.ProtocolType = assign.ProtocolType
	req.InstanceID = m.instance()
	var resp *kmsg.JoinGroupResponse
	for {
		req.MemberID = m.memberID
		req.Protocols = m.metadata()
		ctx, cancel := context.WithTimeout(m.ctx, m.cfg.rebalance+m.cfg.session)
		sent := time.Now()
		var err error
		resp, err = req.RequestWith(ctx, m.cl)
		cancel()
		if m.stopped() {
			return errMemberStopped
		}
		if err != nil {
			return err
		}
		err = kerr.ErrorForCode(resp.ErrorCode)
		switch {
		case err == nil:
			m.lastAlive = sent
		case errors.Is(err, kerr.MemberIDRequired):
			m.memberID = resp.MemberID
			continue
		case errors.Is(err, kerr.UnknownMemberID):
			m.memberID = ""
			m.lose("the coordinator does not know this member", err)
			continue
		case errors.Is(err, kerr.RebalanceInProgress):
			continue
		case errors.Is(err, kerr.FencedInstanceID):
			m.log.Error("another worker joined the group with this worker's id (rest.advertised.host.name and port must differ between workers)",
				"instance_id", m.cfg.instanceID)
			m.lose("fenced by another worker with the same id", err)
			return err
		case errors.Is(err, kerr.InconsistentGroupProtocol), errors.Is(err, kerr.InvalidSessionTimeout), errors.Is(err, kerr.GroupMaxSizeReached):
			m.log.Error("the group coordinator refused this worker", "group", m.cfg.group, "err", err)
			return err
		default:
			return err
		}
		break
	}
	m.memberID, m.generation = resp.MemberID, resp.Generation
	proto := assign.Eager
	if resp.Protocol != nil {
		var ok bool
		if proto, ok = assign.ParseProtocol(*resp.Protocol); !ok {
			return fmt.Errorf("the group chose unknown protocol %q", *resp.Protocol)
		}
	}
	leader := resp.LeaderID == resp.MemberID

	// The group fell back to the eager protocol (a worker that speaks only
	// it joined) while this worker kept its work from a cooperative
	// generation: the others assume everything stopped before the join.
	// Stop it before syncing, and as the leader, assign nothing this once
	// and rebalance again when everyone has stopped.
	downgrade := !proto.Cooperative() && m.protocol.Cooperative() && m.lastCompleted >= 0
	if !proto.Cooperative() && len(m.owned) > 0 {
		m.log.Info("the group speaks the eager protocol now; stopping everything before the assignment")
		m.owned, m.ownedAsg = nil, nil
		m.host.stopAll()
		m.awaitStopped()
	}

	var assignments []kmsg.SyncGroupRequestGroupAssignment
	var owners map[assign.Item]string
	if leader && !resp.SkipAssignment { // KIP-814: a static leader rejoining a stable group keeps the assignments
		assignments, owners = m.lead(resp, proto, downgrade)
		if downgrade {
			time.AfterFunc(m.cfg.stopBudget, m.requestRejoin)
		}
	}

	sreq := kmsg.NewPtrSyncGroupRequest()
	sreq.Group, sreq.Generation, sreq.MemberID, sreq.InstanceID = m.cfg.group, m.generation, m.memberID, m.instance()
	sreq.ProtocolType, sreq.Protocol = kmsg.StringPtr(assign.ProtocolType), kmsg.StringPtr(proto.Name())
	sreq.GroupAssignment = assignments
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.rebalance+m.cfg.session)
	sent := time.Now()
	sresp, err := sreq.RequestWith(ctx, m.cl)
	cancel()
	if m.stopped() {
		return errMemberStopped
	}
	if err == nil {
		err = kerr.ErrorForCode(sresp.ErrorCode)
	}
	switch {
	case err == nil:
		m.lastAlive = sent
	case errors.Is(err, kerr.RebalanceInProgress):
		return err
	case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.FencedInstanceID):
		if errors.Is(err, kerr.UnknownMemberID) {
			m.memberID = ""
		}
		m.lose("SyncGroup refused", err)
		return err
	default:
		return err
	}
	a, err := assign.DecodeAssignment(sresp.MemberAssignment)
	if err != nil {
		m.log.Error("undecodable assignment from the leader", "err", err)
		return err
	}
	return m.apply(a, proto, leader, owners)
}

// apply acts on this member's assignment.
func (m *member) apply(a assign.Assignment, proto assign.Protocol, leader bool, owners map[assign.Item]string) error {
	if a.Error == assign.ConfigMismatch {
		m.log.Info("the leader has not read the config topic as far as this worker; catching up and rejoining", "offset", a.ConfigOffset)
		ctx, cancel := context.WithTimeout(m.ctx, m.cfg.syncTimeout)
		m.host.leaderView(ctx)
		cancel()
		return errors.New("config offset mismatch")
	}
	view := memberView{stable: true, generation: m.generation, memberID: m.memberID, leader: leader, leaderURL: a.LeaderURL, protocol: proto}
	if m.generation == m.lastCompleted {
		// The coordinator handed back the generation this worker has
		// already applied (a rejoin with nothing new): nothing changes.
		m.setView(view, owners)
		return nil
	}
	owned := slices.Clone(a.Assigned)
	if proto.Cooperative() {
		keep := slices.DeleteFunc(slices.Clone(m.owned), func(it assign.Item) bool { return slices.Contains(a.Revoked, it) })
		owned = append(keep, owned...)
	}
	slices.SortFunc(owned, assign.Item.Compare)
	owned = slices.Compact(owned)
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.syncTimeout)
	err := m.host.applyAssignment(ctx, m.generation, a.ConfigOffset, owned)
	cancel()
	if err != nil {
		m.log.Warn("could not apply the assignment (behind the config topic); rejoining", "generation", m.generation, "err", err)
		return err
	}
	m.protocol, m.lastCompleted, m.assignedAt = proto, m.generation, a.ConfigOffset
	m.owned = owned
	if m.owned == nil {
		m.owned = []assign.Item{}
	}
	m.ownedAsg = &assign.Assignment{Version: proto, Leader: a.Leader, LeaderURL: a.LeaderURL, ConfigOffset: a.ConfigOffset, Assigned: m.owned}
	m.revoking = a.Revoked
	defer m.host.becameStable(view)
	m.log.Info("joined the group", "generation", m.generation, "protocol", proto.Name(), "leader", leader, "leader_url", a.LeaderURL,
		"assigned", len(a.Assigned), "revoked", len(a.Revoked), "owned", len(m.owned), "delay_ms", a.Delay)
	m.setView(view, owners)
	if len(a.Revoked) > 0 {
		m.requestRejoin() // once they have stopped, let the leader give them away
	}
	if a.Delay > 0 {
		d := time.Duration(a.Delay) * time.Millisecond
		gen := m.generation
		time.AfterFunc(d, func() {
			if v, _ := m.view(); v.generation == gen {
				m.requestRejoin()
			}
		})
	}
	return nil
}

// lead computes every member's assignment; with holdBack (the first eager
// generation after cooperative ones) it assigns nothing.
func (m *member) lead(resp *kmsg.JoinGroupResponse, proto assign.Protocol, holdBack bool) ([]kmsg.SyncGroupRequestGroupAssignment, map[assign.Item]string) {
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.syncTimeout)
	work, offset, err := m.host.leaderView(ctx)
	cancel()
	var members []assign.Member
	urls := map[string]string{}
	maxOffset := offset
	for _, rm := range resp.Members {
		md, derr := assign.DecodeMetadata(rm.ProtocolMetadata)
		if derr != nil {
			m.log.Warn("undecodable metadata of a group member; it is assumed to run nothing", "member", rm.MemberID, "err", derr)
		}
		mem := assign.Member{ID: rm.MemberID, URL: md.URL}
		if md.Owned != nil {
			mem.Owned = md.Owned.Assigned
		}
		members = append(members, mem)
		urls[rm.MemberID] = md.URL
		maxOffset = max(maxOffset, md.ConfigOffset)
	}
	out := func(per map[string]assign.Assignment) []kmsg.SyncGroupRequestGroupAssignment {
		var res []kmsg.SyncGroupRequestGroupAssignment
		for _, mem := range members {
			a := per[mem.ID]
			a.Version, a.Leader, a.LeaderURL = proto, m.memberID, m.cfg.url
			ga := kmsg.NewSyncGroupRequestGroupAssignment()
			ga.MemberID, ga.MemberAssignment = mem.ID, a.Encode()
			res = append(res, ga)
		}
		return res
	}
	if err != nil || offset < maxOffset {
		m.log.Warn("cannot assign: the config topic is not read as far as a member has", "offset", offset, "member_offset", maxOffset, "err", err)
		per := map[string]assign.Assignment{}
		for _, mem := range members {
			per[mem.ID] = assign.Assignment{Error: assign.ConfigMismatch, ConfigOffset: maxOffset}
		}
		return out(per), nil
	}
	per := map[string]assign.Assignment{}
	for _, mem := range members {
		per[mem.ID] = assign.Assignment{ConfigOffset: offset} // also for members given nothing
	}
	owners := map[assign.Item]string{}
	if proto.Cooperative() {
		res := m.assignor.Assign(assign.Input{Now: time.Now(), Generation: resp.Generation, LastCompleted: m.lastCompleted,
			Members: members, Connectors: work, CleanExit: m.host.cleanExit})
		delay := int32(0)
		if res.Delay > 0 {
			delay = int32((res.Delay + time.Millisecond - 1) / time.Millisecond)
		}
		for id, ma := range res.Members {
			per[id] = assign.Assignment{ConfigOffset: offset, Assigned: ma.Assigned, Revoked: ma.Revoked, Delay: delay}
			for _, it := range ma.Owned {
				owners[it] = urls[id]
			}
		}
	} else if !holdBack {
		ids := make([]string, 0, len(members))
		for _, mem := range members {
			ids = append(ids, mem.ID)
		}
		for id, items := range assign.AssignEager(ids, work) {
			per[id] = assign.Assignment{ConfigOffset: offset, Assigned: items}
			for _, it := range items {
				owners[it] = urls[id]
			}
		}
	}
	return out(per), owners
}

// awaitRevoked waits (bounded by the stop budget) until revoked work has
// stopped, heartbeating meanwhile is not needed: the budget is below the
// session timeout.
func (m *member) awaitRevoked() {
	if len(m.revoking) == 0 {
		return
	}
	deadline := time.NewTimer(m.cfg.stopBudget)
	defer deadline.Stop()
	for m.host.stillRunning(m.revoking) {
		select {
		case <-m.host.changed():
		case <-deadline.C:
			m.log.Warn("revoked connectors or tasks did not stop in time; rejoining anyway")
			return
		case <-m.stopCh:
			return
		}
	}
	m.revoking = nil
}

// awaitStopped waits (bounded) until everything has stopped.
func (m *member) awaitStopped() {
	deadline := time.NewTimer(m.cfg.stopBudget)
	defer deadline.Stop()
	for m.host.stillRunning(nil) {
		select {
		case <-m.host.changed():
		case <-deadline.C:
			return
		case <-m.stopCh:
			return
		}
	}
}

// stable heartbeats until a rebalance is due; it returns nil to rejoin.
func (m *member) stable() error {
	interval := m.cfg.heartbeat
	next := time.Now().Add(interval)
	if m.rejoinDue() {
		return nil
	}
	for {
		wait := time.Until(next)
		timer := time.NewTimer(max(wait, 0))
		select {
		case <-m.stopCh:
			timer.Stop()
			return errMemberStopped
		case <-m.rejoin:
			timer.Stop()
			if m.rejoinDue() {
				return nil
			}
			continue
		case <-timer.C:
		}
		sent := time.Now()
		err := m.heartbeat()
		switch {
		case err == nil:
			m.lastAlive, m.failures = sent, 0
			next = sent.Add(interval)
		case errors.Is(err, kerr.RebalanceInProgress):
			m.lastAlive = sent
			return nil
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.FencedInstanceID):
			if errors.Is(err, kerr.UnknownMemberID) {
				m.memberID = ""
			}
			m.lose("the coordinator expired this member", err)
			return nil
		default:
			m.failed("heartbeat", err)
			m.checkContact()
			if m.owned == nil && m.lastCompleted < 0 {
				return nil // lost: rejoin
			}
			next = time.Now().Add(min(interval, 500*time.Millisecond)) // retry soon
		}
	}
}

func (m *member) heartbeat() error {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.Generation, req.MemberID, req.InstanceID = m.cfg.group, m.generation, m.memberID, m.instance()
	ctx, cancel := context.WithTimeout(m.ctx, max(m.cfg.heartbeat, time.Second))
	defer cancel()
	resp, err := req.RequestWith(ctx, m.cl)
	if err != nil {
		return err
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}

// leave sends LeaveGroup, so that the others rebalance at once rather
// than after the session timeout.
func (m *member) leave(ctx context.Context) {
	if m.memberID == "" {
		return
	}
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group, req.MemberID = m.cfg.group, m.memberID
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID, lm.InstanceID = m.memberID, m.instance()
	lm.Reason = kmsg.StringPtr("the worker is shutting down")
	req.Members = append(req.Members, lm)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, m.cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		m.log.Warn("LeaveGroup failed; the others rebalance when the session times out", "err", err)
		return
	}
	m.log.Info("left the group", "generation", m.generation)
}
