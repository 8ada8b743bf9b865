package assign

import (
	"maps"
	"slices"
	"time"
)

// Member is one worker in a rebalance, as its JoinGroup metadata tells.
type Member struct {
	// ID is the group member id.
	ID string
	// URL is the worker's advertised REST URL; a worker restarted on the
	// same address has the same URL under a new member id.
	URL string
	// Owned is what the worker runs (from its metadata's allocation).
	Owned []Item
}

// Input is one rebalance as the leader sees it.
type Input struct {
	// Now is the time of the rebalance.
	Now time.Time
	// Generation is the generation being assigned.
	Generation int32
	// LastCompleted is the last generation this worker completed (whose
	// assignment it received), -1 if none. When it is not the generation
	// the assignor last assigned, that round never took effect (or another
	// worker led it) and the assignor's memory is dropped.
	LastCompleted int32
	// Members are the group's members.
	Members []Member
	// Connectors are the configured connectors and their task counts (the
	// committed task configs; 0 for a STOPPED connector or one whose tasks
	// were never generated).
	Connectors map[string]int
	// CleanExit tells, by URL, whether a worker that left is known to
	// have stopped its work cleanly first (it reported everything it ran
	// as UNASSIGNED). Work of a worker that vanished otherwise has already
	// been idle for a session timeout when its loss is detected. Nil: no
	// worker exited cleanly. It must be a pure function of its argument.
	CleanExit func(url string) bool
}

// MemberAssignment is one member's part of a Result.
type MemberAssignment struct {
	// Assigned is what the member starts, in addition to what it keeps.
	Assigned []Item
	// Revoked is what it stops.
	Revoked []Item
	// Owned is everything it runs once the round is applied (kept plus
	// assigned).
	Owned []Item
}

// Result is the assignment of one rebalance.
type Result struct {
	// Members holds every member's assignment, by member id.
	Members map[string]MemberAssignment
	// Delay, when positive, asks every member to rejoin after it: lost
	// work waits for its worker to come back, or a revocation is held
	// back to stop a rebalance storm.
	Delay time.Duration
}

// Assignor is the leader's incremental cooperative assignor (KIP-415): a
// deterministic state machine without I/O, stepped once per rebalance
// with what the members report and what the config topic holds. It keeps,
// between the rebalances it leads, what it gave each member and which
// work went missing when. The rules, in order:
//
//   - Work nobody should run any more (deleted connectors and tasks) is
//     revoked; work run by several members is kept by one (its previous
//     owner) and revoked from the others.
//   - Work assigned in the previous round that no member reports is lost.
//     If the member it was given to is still in the group it simply never
//     started it, and it is assigned again now. If a worker with the same
//     URL has rejoined (a restart), that worker gets it back at once.
//     Otherwise it waits for its worker to come back until
//     scheduled.rebalance.max.delay.ms after the worker was last known
//     alive: the moment of the rebalance for a worker that exited cleanly,
//     a session timeout earlier for one that vanished (it was silent for
//     that long before the coordinator expired it). Then it is reassigned.
//   - New work (and work revoked in the previous round) goes to the least
//     loaded members: connectors by connector count, tasks by task count,
//     ties to the member with the fewest tasks of the same connector.
//   - While no lost work is waiting, members above their fair share
//     (connectors and tasks counted apart) have the excess revoked; it is
//     assigned in the next round, after they have stopped it. A
//     revocation right after another is held back with a growing delay
//     (40 ms, 1.6 s, then the maximum delay), so joins in quick
//     succession do not storm.
//
// Nothing that runs where it may stay is ever stopped: a join or a leave
// moves only what must move.
type Assignor struct {
	maxDelay       time.Duration
	sessionTimeout time.Duration

	generation  int32             // the generation prev was assigned in; -1 none
	prev        map[Item]owner    // what each member was given in that round (after revocations)
	lost        map[Item]lostWork // lost work waiting for its worker
	revokedLast bool              // the last round revoked for balance
	successive  int               // revoking rounds in a row
	revokeAfter time.Time         // balance revocations wait until then
}

type owner struct{ id, url string }

type lostWork struct {
	url      string
	deadline time.Time
}

// NewAssignor returns an assignor with the given
// scheduled.rebalance.max.delay.ms and session.timeout.ms.
func NewAssignor(maxDelay, sessionTimeout time.Duration) *Assignor {
	return &Assignor{maxDelay: maxDelay, sessionTimeout: sessionTimeout, generation: -1}
}

// Owner returns the URL of the member that item was given to in the last
// round this assignor led, or "".
func (a *Assignor) Owner(it Item) string { return a.prev[it].url }

// revokeBackoff is the hold-back before revocation number n (n ≥ 1) of a
// streak: 40 ms × 40^(n-1), at most the maximum delay (Kafka's
// KAFKA-12495 backoff).
func (a *Assignor) revokeBackoff(n int) time.Duration {
	d := 40 * time.Millisecond
	for i := 1; i < n && d < a.maxDelay; i++ {
		d *= 40
	}
	return min(d, a.maxDelay)
}

// member is a member's state while a round is computed.
type member struct {
	Member
	owned  map[Item]bool
	next   map[Item]bool // what it will run
	revoke []Item
}

func (m *member) count(connector bool) int {
	n := 0
	for it := range m.next {
		if it.IsConnector() == connector {
			n++
		}
	}
	return n
}

func (m *member) countOf(connector string) int {
	n := 0
	for it := range m.next {
		if !it.IsConnector() && it.Connector == connector {
			n++
		}
	}
	return n
}

// Assign computes one rebalance's assignment.
func (a *Assignor) Assign(in Input) Result {
	now := in.Now
	if a.generation != in.LastCompleted {
		a.prev, a.lost = nil, nil
	}
	configured := map[Item]bool{}
	for c, n := range in.Connectors {
		configured[Item{c, ConnectorTask}] = true
		for t := range n {
			configured[Item{c, int32(t)}] = true
		}
	}
	members := make([]*member, len(in.Members))
	byID := map[string]*member{}
	for i, m := range slices.SortedFunc(slices.Values(in.Members), func(x, y Member) int {
		return compareStrings(x.ID, y.ID)
	}) {
		mm := &member{Member: m, owned: map[Item]bool{}, next: map[Item]bool{}}
		for _, it := range m.Owned {
			mm.owned[it] = true
		}
		members[i] = mm
		byID[m.ID] = mm
	}

	// Deleted and duplicated work is revoked; the rest is kept.
	holders := map[Item][]*member{}
	for _, m := range members {
		for _, it := range sortItems(slices.Collect(maps.Keys(m.owned))) {
			if !configured[it] {
				m.revoke = append(m.revoke, it)
				continue
			}
			holders[it] = append(holders[it], m)
		}
	}
	for it, hs := range holders {
		keep := hs[0]
		for _, h := range hs {
			if h.ID == a.prev[it].id {
				keep = h
			}
		}
		for _, h := range hs {
			if h == keep {
				h.next[it] = true
			} else {
				h.revoke = append(h.revoke, it)
			}
		}
	}

	// Lost and new work.
	var toAssign []Item
	var waitUntil time.Time
	lost := map[Item]lostWork{}
	for _, it := range sortItems(slices.Collect(maps.Keys(configured))) {
		if len(holders[it]) > 0 {
			continue
		}
		prev, wasAssigned := a.prev[it]
		lw, wasLost := a.lost[it]
		switch {
		case wasAssigned && byID[prev.id] != nil:
			// Its member is still here and never started it.
			toAssign = append(toAssign, it)
			continue
		case wasAssigned:
			lw = lostWork{url: prev.url, deadline: now.Add(a.maxDelay)}
			if in.CleanExit == nil || !in.CleanExit(prev.url) {
				lw.deadline = lw.deadline.Add(-a.sessionTimeout)
			}
		case !wasLost:
			toAssign = append(toAssign, it) // new, or revoked last round
			continue
		}
		if back := memberAt(members, lw.url); back != nil {
			back.next[it] = true // its worker is back
			continue
		}
		if a.maxDelay <= 0 || !now.Before(lw.deadline) {
			toAssign = append(toAssign, it)
			continue
		}
		lost[it] = lw
		if waitUntil.IsZero() || lw.deadline.Before(waitUntil) {
			waitUntil = lw.deadline
		}
	}

	// Balance, unless lost work is waiting.
	var delay time.Duration
	if len(lost) > 0 {
		delay = waitUntil.Sub(now)
	} else if len(members) > 0 {
		revocations := a.balanceRevocations(members, configured)
		switch {
		case len(revocations) == 0:
			a.revokedLast, a.successive = false, 0
		case a.revokedLast:
			a.successive++
			wait := a.revokeBackoff(a.successive)
			a.revokeAfter, a.revokedLast = now.Add(wait), false
			delay = wait
		case now.Before(a.revokeAfter):
			delay = a.revokeAfter.Sub(now)
		default:
			for _, m := range members {
				for _, it := range revocations[m] {
					delete(m.next, it)
					if m.owned[it] {
						m.revoke = append(m.revoke, it)
					} else {
						toAssign = append(toAssign, it) // given back this round, not started yet
					}
				}
			}
			a.revokedLast = true
		}
	}

	if len(members) > 0 {
		assignLeastLoaded(members, toAssign)
	}

	res := Result{Members: map[string]MemberAssignment{}, Delay: delay}
	a.prev = map[Item]owner{}
	for _, m := range members {
		var ma MemberAssignment
		for it := range m.next {
			a.prev[it] = owner{id: m.ID, url: m.URL}
			ma.Owned = append(ma.Owned, it)
			if !m.owned[it] {
				ma.Assigned = append(ma.Assigned, it)
			}
		}
		ma.Owned, ma.Assigned, ma.Revoked = sortItems(ma.Owned), sortItems(ma.Assigned), sortItems(m.revoke)
		res.Members[m.ID] = ma
	}
	a.lost = lost
	a.generation = in.Generation
	return res
}

// memberAt returns the member with the given URL, or nil.
func memberAt(members []*member, url string) *member {
	if url == "" {
		return nil
	}
	for _, m := range members {
		if m.URL == url {
			return m
		}
	}
	return nil
}

// balanceRevocations returns what must be revoked so that no member runs
// more than its fair share of connectors, and of tasks: total / members,
// plus one for as many members as the remainder, given to the members
// that run the most already (so the fewest move).
func (a *Assignor) balanceRevocations(members []*member, configured map[Item]bool) map[*member][]Item {
	out := map[*member][]Item{}
	for _, connectors := range []bool{true, false} {
		total := 0
		for it := range configured {
			if it.IsConnector() == connectors {
				total++
			}
		}
		lo, extra := total/len(members), total%len(members)
		order := slices.Clone(members)
		slices.SortStableFunc(order, func(x, y *member) int { return y.count(connectors) - x.count(connectors) })
		for i, m := range order {
			allowed := lo
			if i < extra {
				allowed++
			}
			for n := m.count(connectors) - allowed; n > 0; n-- {
				it := pickRevocation(m, connectors, out[m])
				out[m] = append(out[m], it)
			}
		}
	}
	return out
}

// pickRevocation chooses what to take from an overloaded member: the
// highest-numbered task of the connector it runs most tasks of (so each
// connector's tasks spread out), or its last connector.
func pickRevocation(m *member, connectors bool, already []Item) Item {
	var best Item
	bestN := -1
	for _, it := range sortItems(slices.Collect(maps.Keys(m.next))) {
		if it.IsConnector() != connectors || slices.Contains(already, it) {
			continue
		}
		n := 0
		if !connectors {
			n = m.countOf(it.Connector)
		}
		if n >= bestN {
			best, bestN = it, n
		}
	}
	return best
}

// assignLeastLoaded gives each item to the member with the fewest items
// of its kind (connectors or tasks); ties go to the member with the fewest
// tasks of the same connector, then the fewest tasks overall, then the
// lowest member id.
func assignLeastLoaded(members []*member, items []Item) {
	for _, it := range items {
		var best *member
		for _, m := range members {
			if best == nil || lessLoaded(m, best, it) {
				best = m
			}
		}
		best.next[it] = true
	}
}

func lessLoaded(m, o *member, it Item) bool {
	if a, b := m.count(it.IsConnector()), o.count(it.IsConnector()); a != b {
		return a < b
	}
	if a, b := m.countOf(it.Connector), o.countOf(it.Connector); a != b {
		return a < b
	}
	if a, b := m.count(false), o.count(false); a != b {
		return a < b
	}
	return m.ID < o.ID
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AssignEager is the assignment of the Eager protocol: every member gave
// up everything, and everything configured is dealt out round-robin over
// the members in member id order, each connector followed by its tasks.
func AssignEager(memberIDs []string, connectors map[string]int) map[string][]Item {
	ids := slices.Sorted(slices.Values(memberIDs))
	out := make(map[string][]Item, len(ids))
	if len(ids) == 0 {
		return out
	}
	i := 0
	give := func(it Item) {
		out[ids[i%len(ids)]] = append(out[ids[i%len(ids)]], it)
		i++
	}
	for _, c := range slices.Sorted(maps.Keys(connectors)) {
		give(Item{c, ConnectorTask})
		for t := range connectors[c] {
			give(Item{c, int32(t)})
		}
	}
	return out
}
