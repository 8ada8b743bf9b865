package group

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Coordinator is the classic group coordinator of one broker: every group
// and its committed offsets. Its methods are safe for concurrent use.
//
// Locking: c.mu guards the groups map; each slot.mu guards one group. A
// goroutine holding a slot.mu may take c.mu (to forget the group), never
// the reverse.
type Coordinator struct {
	env    env
	closed atomic.Bool
	done   chan struct{} // closed by Close: releases parked requests

	mu struct {
		sync.Mutex
		groups map[string]*slot
		sweep  *time.Timer
	}
}

// slot holds one group and the timer that drives its deadlines.
type slot struct {
	mu    sync.Mutex
	g     *group      // REQUIRES: mu held
	timer *time.Timer // REQUIRES: mu held
	gone  bool        // forgotten by the Coordinator; look the name up again
}

// New returns a Coordinator. It panics if cfg.Validate fails: call that
// first to report configuration errors.
func New(cfg Config) *Coordinator {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Errorf("group.New: %w", err))
	}
	cfg = cfg.withDefaults()
	c := &Coordinator{
		env: env{
			cfg:   cfg,
			store: cfg.Store,
			log:   cfg.Logger.With("component", "group-coordinator"),
			newID: randomUUID,
		},
		done: make(chan struct{}),
	}
	c.mu.Lock() // sweep takes c.mu first, so it cannot see c.mu.sweep unset
	defer c.mu.Unlock()
	c.mu.groups = make(map[string]*slot)
	c.mu.sweep = time.AfterFunc(cfg.OffsetsRetentionCheckInterval, c.sweep)
	return c
}

// Close stops every timer and releases parked JoinGroup and SyncGroup
// calls with NOT_COORDINATOR. Requests after Close fail the same way. The
// Store is not used after Close returns. Close is idempotent.
func (c *Coordinator) Close() {
	c.mu.Lock()
	if c.closed.Swap(true) {
		c.mu.Unlock()
		return
	}
	close(c.done)
	c.mu.sweep.Stop()
	slots := make([]*slot, 0, len(c.mu.groups))
	for _, s := range c.mu.groups {
		slots = append(slots, s)
	}
	c.mu.Unlock()
	// Taking each lock also waits out any request or timer that is
	// still using the Store.
	for _, s := range slots {
		s.mu.Lock()
		if s.timer != nil {
			s.timer.Stop()
		}
		s.mu.Unlock()
	}
}

// Load applies one __consumer_offsets record during startup replay, in log
// order, before the Coordinator serves requests; value nil is a
// tombstone. Offset commit (key versions 0, 1) and group metadata (2)
// records are applied; other record types are skipped. A record that does
// not decode returns an error wrapping ErrInvalidRecord and is not applied.
//
// Groups restored with members are Stable and keep their generation,
// leader and assignments; each member's session timer starts at Load, so a
// member that heartbeats within its session timeout continues without a
// rebalance.
func (c *Coordinator) Load(key, value []byte) error {
	l, err := decodeRecord(key, value)
	if err != nil || l.skip {
		return err
	}
	s := c.acquire(l.group, true)
	if s == nil {
		return ErrClosed
	}
	defer c.release(s)
	s.g.load(c.env.cfg.Now(), l)
	return nil
}

// acquire returns the named group's slot, locked and with expired deadlines
// applied, creating the group if create is set; nil if it does not exist
// or the Coordinator is closed.
func (c *Coordinator) acquire(name string, create bool) *slot {
	for {
		c.mu.Lock()
		if c.closed.Load() {
			c.mu.Unlock()
			return nil
		}
		s := c.mu.groups[name]
		if s == nil {
			if !create {
				c.mu.Unlock()
				return nil
			}
			s = &slot{g: newGroup(&c.env, name, c.env.cfg.Now())}
			c.mu.groups[name] = s
		}
		c.mu.Unlock()
		s.mu.Lock()
		if !s.gone {
			// Deadlines that passed while the timer was on its way
			// apply before the request, so answers do not depend on
			// timer latency.
			s.g.tick(c.env.cfg.Now())
			return s
		}
		s.mu.Unlock() // deleted meanwhile: a new group may take the name
	}
}

// release re-arms the group's timer for its next deadline, forgets the
// group if it is dead or vacant, and unlocks the slot.
// REQUIRES: s.mu held.
func (c *Coordinator) release(s *slot) {
	defer s.mu.Unlock()
	if s.g.state == StateDead || s.g.vacant() {
		s.gone = true
		if s.timer != nil {
			s.timer.Stop()
		}
		c.mu.Lock()
		if c.mu.groups[s.g.name] == s {
			delete(c.mu.groups, s.g.name)
		}
		c.mu.Unlock()
		return
	}
	c.arm(s)
}

// arm schedules the slot's timer for the group's next deadline.
// REQUIRES: s.mu held.
func (c *Coordinator) arm(s *slot) {
	next, ok := s.g.nextDeadline()
	if !ok || c.closed.Load() {
		if s.timer != nil {
			s.timer.Stop()
		}
		return
	}
	d := max(next.Sub(c.env.cfg.Now()), 0)
	if s.timer == nil {
		s.timer = time.AfterFunc(d, func() { c.fire(s) })
		return
	}
	s.timer.Reset(d)
}

// fire runs when a group's timer expires.
func (c *Coordinator) fire(s *slot) {
	s.mu.Lock()
	if s.gone || c.closed.Load() {
		s.mu.Unlock()
		return
	}
	s.g.tick(c.env.cfg.Now())
	c.release(s)
}

// sweep expires offsets and removes empty groups without offsets, then
// re-arms itself.
func (c *Coordinator) sweep() {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return
	}
	names := make([]string, 0, len(c.mu.groups))
	for name := range c.mu.groups {
		names = append(names, name)
	}
	c.mu.Unlock()
	slices.Sort(names)
	for _, name := range names {
		if s := c.acquire(name, false); s != nil {
			s.g.expire(c.env.cfg.Now())
			c.release(s)
		}
	}
	c.mu.Lock()
	if !c.closed.Load() {
		c.mu.sweep.Reset(c.env.cfg.OffsetsRetentionCheckInterval)
	}
	c.mu.Unlock()
}

// snapshot returns the slots of every group, sorted by name.
func (c *Coordinator) snapshot() []*slot {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.mu.groups))
	for name := range c.mu.groups {
		names = append(names, name)
	}
	slices.Sort(names)
	slots := make([]*slot, len(names))
	for i, name := range names {
		slots[i] = c.mu.groups[name]
	}
	return slots
}

type clientKey struct{}

// WithClient returns ctx carrying the client ID and host of the connection
// a request arrived on. JoinGroup uses them to build member IDs (Kafka's
// "<client.id>-<uuid>") and DescribeGroups reports them; the server should
// attach them to the context of every group request.
func WithClient(ctx context.Context, clientID, clientHost string) context.Context {
	return context.WithValue(ctx, clientKey{}, client{id: clientID, host: clientHost})
}

func clientOf(ctx context.Context) client {
	cl, _ := ctx.Value(clientKey{}).(client)
	return cl
}

// randomUUID returns a random (version 4) UUID in its text form.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
