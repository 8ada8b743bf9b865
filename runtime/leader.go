package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/runtime/assign"
)

// The cluster side of the herder: who may write what, and where a request
// goes when this worker is not the one to serve it (connect-rest.md §4).
//
//   - Writes to the config topic (connector configs, deletes, stops,
//     restart requests, task configs, offsets changes) are made by the
//     leader only, each right after it has read the config topic to its
//     end and confirmed with the coordinator (a Heartbeat in its
//     generation) that it still leads: a leader that lost the group
//     cannot write on stale knowledge. Target states (pause, resume) and
//     cluster logger levels are written by any worker, as in Kafka, but
//     only while it is a member of the current generation (the same
//     fence, without the leadership).
//   - Restarts of a connector or a task run on its owner.
//   - Otherwise a method returns a *RedirectError naming the worker to
//     ask, which the REST layer forwards the request to. While the group
//     rebalances, a request waits (sluice.rebalance.request.wait.ms) for
//     it to settle before it answers 409.

// Kafka's 409 messages (connect-rest.md §4).
const (
	msgNoLeader    = "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."
	msgStaleConfig = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"
)

// stableView waits, up to sluice.rebalance.request.wait.ms, until the
// worker is in a generation whose assignment it applied.
func (h *herder) stableView(ctx context.Context) (memberView, error) {
	return h.stableViewUntil(ctx, time.Now().Add(h.cfg.RebalanceRequestWait))
}

func (h *herder) stableViewUntil(ctx context.Context, deadline time.Time) (memberView, error) {
	wait := time.NewTimer(max(time.Until(deadline), 0))
	defer wait.Stop()
	for {
		v, changed := h.member.view()
		if v.stable {
			return v, nil
		}
		select {
		case <-changed:
		case <-wait.C:
			return v, Errorf(ErrConflict, msgNoLeader)
		case <-ctx.Done():
			return v, requestTimeout(ctx.Err())
		case <-h.stopped:
			return v, Errorf(ErrServerError, "Worker is shutting down")
		}
	}
}

// leaderCheck returns nil on the leader, else where to go.
func (h *herder) leaderCheck(ctx context.Context) (memberView, error) {
	return h.leaderCheckUntil(ctx, time.Now().Add(h.cfg.RebalanceRequestWait))
}

func (h *herder) leaderCheckUntil(ctx context.Context, deadline time.Time) (memberView, error) {
	v, err := h.stableViewUntil(ctx, deadline)
	if err != nil {
		return v, err
	}
	if !v.leader {
		if v.leaderURL == "" {
			return v, Errorf(ErrConflict, msgNoLeader)
		}
		return v, &RedirectError{URL: v.leaderURL, Leader: true}
	}
	return v, nil
}

// asLeader runs write on the leader, serialised with the other config
// writes, after reading the config topic to its end and fencing: the
// coordinator confirms this worker still leads its generation. A fence
// that meets a rebalance waits for it to settle and tries again, for up to
// sluice.rebalance.request.wait.ms.
func (h *herder) asLeader(ctx context.Context, write func(ctx context.Context) error) error {
	return h.fenced(ctx, true, write)
}

// asMember is asLeader for the config records any worker writes (target
// states, cluster logger levels, as in Kafka): the writer need not lead,
// but must be a member of the current generation.
func (h *herder) asMember(ctx context.Context, write func(ctx context.Context) error) error {
	return h.fenced(ctx, false, write)
}

func (h *herder) fenced(ctx context.Context, leaderOnly bool, write func(ctx context.Context) error) error {
	deadline := time.Now().Add(h.cfg.RebalanceRequestWait)
	for {
		var v memberView
		var err error
		if leaderOnly {
			v, err = h.leaderCheckUntil(ctx, deadline)
		} else {
			v, err = h.stableViewUntil(ctx, deadline)
		}
		if err != nil {
			return err
		}
		err = h.fencedWrite(ctx, v, write)
		var fe fenceError
		if !errors.As(err, &fe) {
			return err
		}
		if ctx.Err() != nil {
			return requestTimeout(fe.err)
		}
		if !time.Now().Before(deadline) {
			return &Error{Kind: ErrConflict, Message: msgStaleConfig, Err: fe.err}
		}
		// Wait for the membership to move on (or a moment, if the
		// coordinator was merely unreachable).
		_, changed := h.member.view()
		t := time.NewTimer(min(100*time.Millisecond, time.Until(deadline)))
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
		case <-h.stopped:
		}
		t.Stop()
	}
}

// fenceError: the coordinator did not confirm the generation.
type fenceError struct{ err error }

func (e fenceError) Error() string { return "fence: " + e.err.Error() }

func (h *herder) fencedWrite(ctx context.Context, v memberView, write func(ctx context.Context) error) error {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	if err := h.syncConfig(ctx); err != nil {
		return err
	}
	if err := h.member.fence(ctx, v); err != nil {
		return fenceError{err}
	}
	return write(ctx)
}

// routeToOwner returns nil when this worker runs it, else where to go:
// the owner, from the leader; the leader, from anyone else.
func (h *herder) routeToOwner(ctx context.Context, it assign.Item) error {
	v, err := h.stableView(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	owns := h.mu.m.ownsConn(it.Connector)
	if !it.IsConnector() {
		owns = h.mu.m.ownsTask(TaskID{Connector: it.Connector, Task: int(it.Task)})
	}
	h.mu.Unlock()
	switch {
	case owns:
		return nil
	case !v.leader:
		if v.leaderURL == "" {
			return Errorf(ErrConflict, msgNoLeader)
		}
		return &RedirectError{URL: v.leaderURL, Leader: true}
	}
	if u, ok := h.member.ownerURL(it); ok && u != h.url {
		return &RedirectError{URL: u}
	}
	// Assigned to no one yet, or to this worker in a generation it has
	// not applied: a rebalance is under way.
	return Errorf(ErrConflict, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
}

// memberView is the membership (zero before the worker has started).
func (h *herder) memberView() memberView {
	select {
	case <-h.ready:
		v, _ := h.member.view()
		return v
	default:
		return memberView{}
	}
}

// --- memberHost ---

// configOffset is how far the machine has seen the config topic: the
// offset after the last record whose events it has taken.
func (h *herder) configOffset() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mu.configApplied
}

func (h *herder) leaderView(ctx context.Context) (map[string]int, int64, error) {
	if err := h.syncConfig(ctx); err != nil {
		return nil, -1, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// The work and the offset of one consistent view.
	return h.mu.m.workload(), h.mu.configApplied, nil
}

func (h *herder) cleanExit(u string) bool { return h.status.cleanExit(workerIDOf(u)) }

// workerIDOf turns a worker URL into its worker id (host:port).
func workerIDOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
}

func (h *herder) applyAssignment(ctx context.Context, gen int32, offset int64, owned []assign.Item) error {
	if h.configOffset() < offset {
		if err := h.syncConfig(ctx); err != nil {
			return err
		}
		if pos := h.configOffset(); pos < offset {
			return fmt.Errorf("config topic read to %d, the assignment was made at %d", pos, offset)
		}
	}
	var ev evAssignment
	for _, it := range owned {
		if it.IsConnector() {
			ev.Connectors = append(ev.Connectors, it.Connector)
		} else {
			ev.Tasks = append(ev.Tasks, TaskID{Connector: it.Connector, Task: int(it.Task)})
		}
	}
	h.status.setGeneration(gen)
	h.post(ev)
	return nil
}

func (h *herder) becameStable(v memberView) {
	h.metrics.rebalances.Inc()
	h.metrics.generation.Set(float64(v.generation))
	leader := 0.0
	if v.leader {
		leader = 1
	}
	h.metrics.leader.Set(leader)
	if v.leader && v.protocol >= assign.Sessioned {
		go h.maybeRotateSessionKey()
	}
}

func (h *herder) stopAll() { h.post(evAssignment{}) }

func (h *herder) stillRunning(items []assign.Item) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if items == nil {
		return !h.mu.m.idle()
	}
	var conns []string
	var tasks []TaskID
	for _, it := range items {
		if it.IsConnector() {
			conns = append(conns, it.Connector)
		} else {
			tasks = append(tasks, TaskID{Connector: it.Connector, Task: int(it.Task)})
		}
	}
	return h.mu.m.running(conns, tasks)
}

func (h *herder) changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mu.changed
}

// --- task configs ---

// taskConfigsRetry bounds how long a connector's new task configs are
// offered to the leader before the connector is failed (and restarted
// with backoff, generating them again).
const taskConfigsRetry = 60 * time.Second

// publishTaskConfigs hands task configs generated by connector instance
// inc to the leader (this worker, or another through its internal REST
// endpoint), retrying through rebalances. seq numbers the connector's
// publications: a newer one supersedes this one.
func (h *herder) publishTaskConfigs(name string, configs []map[string]string, inc, seq uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), taskConfigsRetry)
	defer cancel()
	backoff := 50 * time.Millisecond
	for {
		h.mu.Lock()
		c := h.mu.m.conns[name]
		current := c != nil && c.inc == inc && h.mu.publishing[name] == seq
		h.mu.Unlock()
		if !current {
			return // replaced, stopped or superseded meanwhile
		}
		err := h.putTaskConfigs(ctx, name, configs)
		var rd *RedirectError
		if errors.As(err, &rd) {
			err = h.internal.putTaskConfigs(ctx, rd.URL, name, configs)
		}
		if err == nil || errors.Is(err, ErrNotFound) {
			return
		}
		h.log.Debug("task configs not written yet; retrying", "connector", name, "err", err)
		select {
		case <-time.After(backoff):
		case <-h.stopped:
			return
		case <-ctx.Done():
			h.post(evConnectorFailed{Name: name, Inc: inc, Err: fmt.Errorf("write task configs to %s: %w", h.cfg.ConfigStorageTopic, err)})
			return
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// putTaskConfigs writes a connector's task configs and their commit
// record on the leader.
func (h *herder) putTaskConfigs(ctx context.Context, name string, configs []map[string]string) error {
	if err := h.awaitReady(ctx); err != nil {
		return err
	}
	return h.asLeader(ctx, func(ctx context.Context) error {
		if !h.snapshot(name).exists {
			return notFound(name)
		}
		recs := make([]*kgo.Record, 0, len(configs)+1)
		for i, c := range configs {
			recs = append(recs, &kgo.Record{Key: []byte(taskKey(TaskID{name, i})), Value: encodeProperties(c)})
		}
		recs = append(recs, &kgo.Record{Key: []byte(keyCommit + name), Value: encodeCommit(len(configs))})
		if err := h.configLog.SendAll(ctx, recs); err != nil {
			return h.kafkaError(ctx, "write the task configs", err)
		}
		h.log.Info("task configs written", "connector", name, "tasks", len(configs))
		return nil
	})
}
