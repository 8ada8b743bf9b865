package group

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file is the offsets half of the core: OffsetCommit, OffsetFetch,
// OffsetDelete and retention.

// commit handles an OffsetCommit. Offsets are applied only once Store has
// made them durable.
func (g *group) commit(now time.Time, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	code, m := g.commitCheck(req)

	type pending struct {
		topic, part int // indexes into resp
		tp          topicPartition
		o           offset
	}
	var todo []pending
	var recs []Record
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = code
			if code == 0 {
				o := offset{offset: rp.Offset, leaderEpoch: rp.LeaderEpoch, committed: now.Truncate(time.Millisecond)}
				if rp.Metadata != nil {
					o.metadata = *rp.Metadata
				}
				if req.Version == 1 && rp.Timestamp != -1 { // v1 lets the client set the commit time
					o.committed = time.UnixMilli(rp.Timestamp)
				}
				if req.Version < 6 {
					o.leaderEpoch = -1
				}
				if len(o.metadata) > g.env.cfg.MaxOffsetMetadataBytes {
					sp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
				} else {
					tp := topicPartition{rt.Topic, rp.Partition}
					todo = append(todo, pending{len(resp.Topics), len(st.Partitions), tp, o})
					recs = append(recs, offsetRecord(g.name, tp.topic, tp.partition, o))
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if m != nil {
		g.heartbeat(now, m)
	}
	if len(recs) == 0 {
		return resp
	}
	if err := g.env.store.Append(recs); err != nil {
		g.env.log.Debug("offset commit not stored", "group", g.name, "err", err)
		for _, p := range todo {
			resp.Topics[p.topic].Partitions[p.part].ErrorCode = kerr.CoordinatorNotAvailable.Code
		}
		return resp
	}
	for _, p := range todo {
		g.setOffset(p.tp.topic, p.tp.partition, p.o)
	}
	return resp
}

// commitCheck applies Kafka's OffsetCommit validation: a commit naming a
// generation, member or instance must come from a current member of the
// current generation; an anonymous one (generation -1, no member) is a
// "simple" commit, allowed only while the group is Empty. No commit is
// accepted between the join and sync phases. It returns the error code and
// the committing member, if any.
func (g *group) commitCheck(req *kmsg.OffsetCommitRequest) (int16, *member) {
	var m *member
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		if req.InstanceID != nil {
			if id, ok := g.static[*req.InstanceID]; ok && id != req.MemberID {
				return kerr.FencedInstanceID.Code, nil
			}
		}
		if m = g.members[req.MemberID]; m == nil {
			return kerr.UnknownMemberID.Code, nil
		}
		if req.Generation != g.generation {
			return kerr.IllegalGeneration.Code, nil
		}
	} else if g.state != StateEmpty {
		return kerr.UnknownMemberID.Code, nil
	}
	if g.state == StateCompletingRebalance {
		return kerr.RebalanceInProgress.Code, m
	}
	return 0, m
}

// fetchOffsets answers one group of an OffsetFetch. g may be nil (no such
// group): every requested partition then has offset -1, as in Kafka. nil
// topics asks for every committed offset.
func fetchOffsets(g *group, topics []kmsg.OffsetFetchRequestGroupTopic) []kmsg.OffsetFetchResponseGroupTopic {
	var out []kmsg.OffsetFetchResponseGroupTopic
	part := func(topic string, partition int32) kmsg.OffsetFetchResponseGroupTopicPartition {
		sp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
		sp.Partition = partition
		sp.Offset = -1
		sp.LeaderEpoch = -1
		sp.Metadata = kmsg.StringPtr("")
		if g != nil {
			if o, ok := g.offsets[topic][partition]; ok {
				sp.Offset = o.offset
				sp.LeaderEpoch = o.leaderEpoch
				sp.Metadata = kmsg.StringPtr(o.metadata)
			}
		}
		return sp
	}
	if topics == nil {
		if g == nil {
			return nil
		}
		for _, tp := range g.sortedOffsets() {
			if len(out) == 0 || out[len(out)-1].Topic != tp.topic {
				st := kmsg.NewOffsetFetchResponseGroupTopic()
				st.Topic = tp.topic
				out = append(out, st)
			}
			st := &out[len(out)-1]
			st.Partitions = append(st.Partitions, part(tp.topic, tp.partition))
		}
		return out
	}
	for _, rt := range topics {
		st := kmsg.NewOffsetFetchResponseGroupTopic()
		st.Topic = rt.Topic
		for _, p := range rt.Partitions {
			st.Partitions = append(st.Partitions, part(rt.Topic, p))
		}
		out = append(out, st)
	}
	return out
}

// deleteOffsets handles an OffsetDelete. An Empty group loses every
// requested offset; a consumer group with members keeps those of topics
// its members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC); other groups with
// members refuse with NON_EMPTY_GROUP.
func (g *group) deleteOffsets(req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	subscribed := func(string) bool { return false }
	switch g.state {
	case StateEmpty:
	case StateDead:
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp
	default:
		if g.protocolType != "consumer" {
			resp.ErrorCode = kerr.NonEmptyGroup.Code
			return resp
		}
		topics, known := g.subscribedTopics()
		subscribed = func(t string) bool {
			_, ok := topics[t]
			return ok || !known
		}
	}

	var recs []Record
	var deleted []topicPartition
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = rp.Partition
			if subscribed(rt.Topic) {
				sp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			} else if _, ok := g.offsets[rt.Topic][rp.Partition]; ok {
				deleted = append(deleted, topicPartition{rt.Topic, rp.Partition})
				recs = append(recs, offsetTombstone(g.name, rt.Topic, rp.Partition))
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if len(recs) == 0 {
		return resp
	}
	if err := g.env.store.Append(recs); err != nil {
		g.env.log.Debug("offset delete not stored", "group", g.name, "err", err)
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				sp := &resp.Topics[i].Partitions[j]
				if sp.ErrorCode == 0 && slices.Contains(deleted, topicPartition{resp.Topics[i].Topic, sp.Partition}) {
					sp.ErrorCode = kerr.CoordinatorNotAvailable.Code
				}
			}
		}
		return resp
	}
	for _, tp := range deleted {
		g.deleteOffset(tp.topic, tp.partition)
	}
	return resp
}

// subscribedTopics decodes the topics the members subscribe to from their
// "consumer" protocol metadata for the current protocol. known is false
// when that is not possible (no protocol chosen yet, a member without
// metadata for it, or metadata that does not decode): callers must then
// assume every topic is subscribed.
func (g *group) subscribedTopics() (topics map[string]struct{}, known bool) {
	if g.protocolType != "consumer" || g.protocol == "" {
		return nil, false
	}
	topics = make(map[string]struct{})
	for _, m := range g.members {
		md, ok := m.metadataFor(g.protocol)
		if !ok {
			return nil, false
		}
		cm := kmsg.NewConsumerMemberMetadata()
		if err := cm.ReadFrom(md); err != nil {
			return nil, false
		}
		for _, t := range cm.Topics {
			topics[t] = struct{}{}
		}
	}
	return topics, true
}

// expire removes committed offsets past retention (Kafka's offset
// expiration, KIP-211), writing tombstones first:
//   - a group that never had members (simple commits only): retention
//     counts from each commit;
//   - an Empty group: from the later of the group becoming Empty and the
//     commit (Kafka counts from the former alone, which can expire an
//     offset committed a moment ago to a long-empty group);
//   - a Stable consumer group: offsets of topics no member subscribes to,
//     from each commit.
//
// An Empty group left with no offsets and no pending member is then
// deleted (group metadata tombstone) and expire reports true: the caller
// forgets it.
func (g *group) expire(now time.Time) (dead bool) {
	retention := g.env.cfg.OffsetsRetention
	var base func(topic string, o offset) (time.Time, bool)
	switch {
	case g.protocolType == "" && len(g.members) == 0:
		base = func(_ string, o offset) (time.Time, bool) { return o.committed, true }
	case g.state == StateEmpty:
		base = func(_ string, o offset) (time.Time, bool) {
			if o.committed.After(g.stateSince) {
				return o.committed, true
			}
			return g.stateSince, true
		}
	case g.state == StateStable && g.protocolType == "consumer":
		topics, known := g.subscribedTopics()
		if !known {
			return false
		}
		base = func(t string, o offset) (time.Time, bool) {
			_, sub := topics[t]
			return o.committed, !sub
		}
	default:
		return false
	}

	var expired []topicPartition
	var recs []Record
	for _, tp := range g.sortedOffsets() {
		from, ok := base(tp.topic, g.offsets[tp.topic][tp.partition])
		if ok && now.Sub(from) >= retention {
			expired = append(expired, tp)
			recs = append(recs, offsetTombstone(g.name, tp.topic, tp.partition))
		}
	}
	if len(recs) > 0 {
		if err := g.env.store.Append(recs); err != nil {
			g.env.log.Warn("expired offsets not removed", "group", g.name, "err", err)
			return false
		}
		for _, tp := range expired {
			g.deleteOffset(tp.topic, tp.partition)
		}
		g.env.log.Info("group offsets expired", "group", g.name, "partitions", len(expired))
	}

	if g.state != StateEmpty || len(g.offsets) > 0 || len(g.pending) > 0 {
		return false
	}
	if err := g.env.store.Append([]Record{{Key: metadataKey(g.name)}}); err != nil {
		g.env.log.Warn("empty group not removed", "group", g.name, "err", err)
		return false
	}
	g.setState(StateDead, now)
	g.env.log.Info("group removed: empty without offsets", "group", g.name)
	return true
}
