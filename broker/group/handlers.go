package group

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file is the request API: each method takes a decoded request (its
// version set), locks the group it names, runs the core and returns the
// filled response. A Coordinator that is closed answers NOT_COORDINATOR,
// which makes clients look the coordinator up again.

var closedCode = kerr.NotCoordinator.Code

func (c *Coordinator) now() time.Time { return c.env.cfg.Now() }

// JoinGroup handles JoinGroup v0-9. It blocks until the rebalance the
// member joins completes (at most the group's rebalance timeout), ctx is
// done (the connection closed) or the Coordinator closes; the last two
// answer NOT_COORDINATOR, a response the caller normally discards. A
// member whose JoinGroup is abandoned stays in the rebalance: it is
// removed later if it does not send SyncGroup.
func (c *Coordinator) JoinGroup(ctx context.Context, req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	fail := func(code int16) *kmsg.JoinGroupResponse {
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = code
		return resp
	}
	if req.Group == "" {
		return fail(kerr.InvalidGroupID.Code)
	}
	s := c.acquire(req.Group, true)
	if s == nil {
		return fail(closedCode)
	}
	resp, w := s.g.join(c.now(), req, clientOf(ctx))
	c.release(s)
	if resp != nil {
		return resp
	}
	select {
	case resp := <-w.ch:
		return resp
	case <-ctx.Done():
	case <-c.done:
	}
	return fail(closedCode)
}

// SyncGroup handles SyncGroup v0-5. A follower's call blocks until the
// leader's SyncGroup delivers the assignment, a new rebalance starts, ctx
// is done or the Coordinator closes.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	fail := func(code int16) *kmsg.SyncGroupResponse {
		resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = code
		return resp
	}
	s := c.acquire(req.Group, false)
	if s == nil {
		if c.closed.Load() {
			return fail(closedCode)
		}
		resp, _ := newGroup(&c.env, req.Group, c.now()).sync(c.now(), req)
		return resp
	}
	resp, w := s.g.sync(c.now(), req)
	c.release(s)
	if resp != nil {
		return resp
	}
	select {
	case resp := <-w.ch:
		return resp
	case <-ctx.Done():
	case <-c.done:
	}
	return fail(closedCode)
}

// Heartbeat handles Heartbeat v0-4.
func (c *Coordinator) Heartbeat(ctx context.Context, req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	s := c.acquire(req.Group, false)
	if s == nil {
		if c.closed.Load() {
			resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
			resp.ErrorCode = closedCode
			return resp
		}
		return newGroup(&c.env, req.Group, c.now()).heartbeatReq(c.now(), req)
	}
	defer c.release(s)
	return s.g.heartbeatReq(c.now(), req)
}

// LeaveGroup handles LeaveGroup v0-5 (v3+ batches members, by member or
// instance ID).
func (c *Coordinator) LeaveGroup(ctx context.Context, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	s := c.acquire(req.Group, false)
	if s == nil {
		if c.closed.Load() {
			resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
			resp.ErrorCode = closedCode
			return resp
		}
		return newGroup(&c.env, req.Group, c.now()).leave(c.now(), req)
	}
	defer c.release(s)
	return s.g.leave(c.now(), req)
}

// OffsetCommit handles OffsetCommit v0-8. The offsets are durable in the
// Store before it returns success.
func (c *Coordinator) OffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	// Only a simple commit (generation < 0) creates a group: a generation
	// of a group that does not exist is stale (Kafka answers
	// ILLEGAL_GENERATION below v9).
	s := c.acquire(req.Group, req.Generation < 0)
	if s == nil {
		code := kerr.IllegalGeneration.Code
		if c.closed.Load() {
			code = closedCode
		}
		return failCommit(req, code)
	}
	defer c.release(s)
	return s.g.commit(c.now(), req)
}

func failCommit(req *kmsg.OffsetCommitRequest, code int16) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// OffsetFetch handles OffsetFetch v0-8: one group up to v7, a batch of
// groups from v8; null topics (v2+) ask for every committed offset.
// Partitions without a commit have offset -1. Without transactions no
// offset is ever unstable, so RequireStable changes nothing.
func (c *Coordinator) OffsetFetch(ctx context.Context, req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			sg := kmsg.NewOffsetFetchResponseGroup()
			sg.Group = rg.Group
			sg.Topics, sg.ErrorCode = c.fetchGroup(rg.Group, rg.Topics)
			resp.Groups = append(resp.Groups, sg)
		}
		return resp
	}

	var topics []kmsg.OffsetFetchRequestGroupTopic
	if req.Topics != nil {
		topics = make([]kmsg.OffsetFetchRequestGroupTopic, 0, len(req.Topics))
		for _, rt := range req.Topics {
			t := kmsg.NewOffsetFetchRequestGroupTopic()
			t.Topic, t.Partitions = rt.Topic, rt.Partitions
			topics = append(topics, t)
		}
	}
	got, code := c.fetchGroup(req.Group, topics)
	resp.ErrorCode = code
	for _, gt := range got {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = gt.Topic
		for _, gp := range gt.Partitions {
			sp := kmsg.NewOffsetFetchResponseTopicPartition()
			sp.Partition = gp.Partition
			sp.Offset = gp.Offset
			sp.LeaderEpoch = gp.LeaderEpoch
			sp.Metadata = gp.Metadata
			sp.ErrorCode = gp.ErrorCode
			if req.Version < 2 { // no group-level error code before v2
				sp.ErrorCode = code
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// fetchGroup answers one group of an OffsetFetch and its error code.
func (c *Coordinator) fetchGroup(name string, topics []kmsg.OffsetFetchRequestGroupTopic) ([]kmsg.OffsetFetchResponseGroupTopic, int16) {
	s := c.acquire(name, false)
	if s == nil {
		if c.closed.Load() {
			return fetchOffsets(nil, topics), closedCode
		}
		return fetchOffsets(nil, topics), 0
	}
	defer c.release(s)
	return fetchOffsets(s.g, topics), 0
}

// DescribeGroups handles DescribeGroups v0-5 (v6 reports unknown groups
// with GROUP_ID_NOT_FOUND).
func (c *Coordinator) DescribeGroups(ctx context.Context, req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, name := range req.Groups {
		s := c.acquire(name, false)
		if s == nil {
			dg := describeMissing(name, req.Version, req.IncludeAuthorizedOperations)
			if c.closed.Load() {
				dg = kmsg.NewDescribeGroupsResponseGroup()
				dg.Group = name
				dg.ErrorCode = closedCode
			}
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		resp.Groups = append(resp.Groups, s.g.describe(req.IncludeAuthorizedOperations))
		c.release(s)
	}
	return resp
}

// ListGroups handles ListGroups v0-4 (v4 filters by state,
// case-insensitively; v5 by type, every group being "classic"). Groups are
// listed by name.
func (c *Coordinator) ListGroups(ctx context.Context, req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if c.closed.Load() {
		resp.ErrorCode = closedCode
		return resp
	}
	var states []State
	for _, name := range req.StatesFilter {
		states = append(states, parseState(name))
	}
	if len(req.TypesFilter) > 0 && !slices.ContainsFunc(req.TypesFilter, func(t string) bool {
		return strings.EqualFold(t, "classic")
	}) {
		return resp
	}
	for _, s := range c.snapshot() {
		s.mu.Lock()
		if !s.gone && !s.g.vacant() && (len(states) == 0 || slices.Contains(states, s.g.state)) {
			resp.Groups = append(resp.Groups, s.g.listed())
		}
		s.mu.Unlock()
	}
	return resp
}

// DeleteGroups handles DeleteGroups v0-2: each group must be Empty
// (NON_EMPTY_GROUP otherwise) and exist (GROUP_ID_NOT_FOUND); its
// metadata and offsets are tombstoned in the Store.
func (c *Coordinator) DeleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, name := range req.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = name
		if s := c.acquire(name, false); s != nil {
			dg.ErrorCode = s.g.deleteGroup(c.now())
			c.release(s)
		} else if c.closed.Load() {
			dg.ErrorCode = closedCode
		} else {
			dg.ErrorCode = kerr.GroupIDNotFound.Code
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

// OffsetDelete handles OffsetDelete v0.
func (c *Coordinator) OffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	s := c.acquire(req.Group, false)
	if s == nil {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		if c.closed.Load() {
			resp.ErrorCode = closedCode
		}
		return resp
	}
	defer c.release(s)
	return s.g.deleteOffsets(req)
}
