package group

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record is one record of the __consumer_offsets log. A nil Value is a
// tombstone: it deletes the key.
type Record struct{ Key, Value []byte }

// Store persists __consumer_offsets records for a Coordinator.
//
// Append must not return before recs are durable (fsynced), in order, and
// should write one call's records atomically (as one batch): a failed
// Append must leave none of them, since the Coordinator then answers with an
// error and does not apply them. Append is called concurrently for
// different groups, never concurrently for the same group, and with that
// group's lock held, so it must not call back into the Coordinator.
type Store interface {
	Append(recs []Record) error
}

// Key versions of __consumer_offsets records (the key's first int16):
// 0 and 1 are offset commits, 2 group metadata. Newer record types
// (KIP-848, share groups, ...) are skipped by Load.
const (
	offsetKeyVersion   = 1
	metadataKeyVersion = 2
	offsetValueVersion = 3 // offset, leader epoch, metadata, commit timestamp
	groupValueVersion  = 3 // with instance IDs and state timestamp
)

func offsetKey(group, topic string, partition int32) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version = offsetKeyVersion
	k.Group, k.Topic, k.Partition = group, topic, partition
	return k.AppendTo(nil)
}

func offsetRecord(group, topic string, partition int32, o offset) Record {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetValueVersion
	v.Offset = o.offset
	v.LeaderEpoch = o.leaderEpoch
	v.Metadata = o.metadata
	v.CommitTimestamp = o.committed.UnixMilli()
	return Record{Key: offsetKey(group, topic, partition), Value: v.AppendTo(nil)}
}

func offsetTombstone(group, topic string, partition int32) Record {
	return Record{Key: offsetKey(group, topic, partition)}
}

func metadataKey(group string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version = metadataKeyVersion
	k.Group = group
	return k.AppendTo(nil)
}

// metadataRecord encodes the group's generation, protocol, leader and
// members (with the selected protocol's metadata and their assignments).
func (g *group) metadataRecord() Record {
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupValueVersion
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	if g.protocol != "" {
		v.Protocol = kmsg.StringPtr(g.protocol)
	}
	if g.leader != "" {
		v.Leader = kmsg.StringPtr(g.leader)
	}
	v.CurrentStateTimestamp = g.stateSince.UnixMilli()
	for _, m := range g.sortedMembers() {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID = m.id
		vm.InstanceID = m.instanceID
		vm.ClientID = m.client.id
		vm.ClientHost = m.client.host
		vm.RebalanceTimeoutMillis = int32(m.rebalanceTimeout / time.Millisecond)
		vm.SessionTimeoutMillis = int32(m.sessionTimeout / time.Millisecond)
		vm.Subscription, _ = m.metadataFor(g.protocol)
		vm.Assignment = m.assignment
		v.Members = append(v.Members, vm)
	}
	return Record{Key: metadataKey(g.name), Value: v.AppendTo(nil)}
}

// persistMetadata stores the group's metadata record.
func (g *group) persistMetadata() error {
	return g.env.store.Append([]Record{g.metadataRecord()})
}

// loaded is one decoded __consumer_offsets record.
type loaded struct {
	group string
	skip  bool // a record type this coordinator does not keep

	// offset commit (meta == false)
	topic     string
	partition int32
	offset    *offset // nil: tombstone

	// group metadata (meta == true)
	meta  bool
	value *kmsg.GroupMetadataValue // nil: tombstone
}

// decodeRecord decodes a __consumer_offsets record.
func decodeRecord(key, value []byte) (loaded, error) {
	if len(key) < 2 {
		return loaded{}, fmt.Errorf("%w: key of %d bytes", ErrInvalidRecord, len(key))
	}
	switch version := int16(binary.BigEndian.Uint16(key)); version {
	case 0, 1:
		k := kmsg.NewOffsetCommitKey()
		if err := k.ReadFrom(key); err != nil {
			return loaded{}, fmt.Errorf("%w: offset commit key: %w", ErrInvalidRecord, err)
		}
		l := loaded{group: k.Group, topic: k.Topic, partition: k.Partition}
		if value == nil {
			return l, nil
		}
		v := kmsg.NewOffsetCommitValue()
		if err := v.ReadFrom(value); err != nil {
			return loaded{}, fmt.Errorf("%w: offset commit value for %s %s/%d: %w", ErrInvalidRecord, k.Group, k.Topic, k.Partition, err)
		}
		o := offset{offset: v.Offset, leaderEpoch: v.LeaderEpoch, metadata: v.Metadata, committed: time.UnixMilli(v.CommitTimestamp)}
		if v.Version < 3 {
			o.leaderEpoch = -1
		}
		l.offset = &o
		return l, nil
	case 2:
		k := kmsg.NewGroupMetadataKey()
		if err := k.ReadFrom(key); err != nil {
			return loaded{}, fmt.Errorf("%w: group metadata key: %w", ErrInvalidRecord, err)
		}
		l := loaded{group: k.Group, meta: true}
		if value == nil {
			return l, nil
		}
		v := kmsg.NewGroupMetadataValue()
		if err := v.ReadFrom(value); err != nil {
			return loaded{}, fmt.Errorf("%w: group metadata value for %s: %w", ErrInvalidRecord, k.Group, err)
		}
		l.value = &v
		return l, nil
	default:
		return loaded{skip: true}, nil
	}
}

// load applies a decoded record: later records replace earlier ones and
// tombstones delete.
func (g *group) load(now time.Time, l loaded) {
	if l.meta {
		g.loadMetadata(now, l.value)
		return
	}
	if l.offset == nil {
		g.deleteOffset(l.topic, l.partition)
		return
	}
	g.setOffset(l.topic, l.partition, *l.offset)
}

// loadMetadata restores the group from its metadata record. Members are
// restored with fresh session timers from now (Kafka does the same when a
// coordinator loads a group): after a broker restart they carry on with
// their generation and assignment if they heartbeat in time, and are
// expired, with a rebalance, if not.
func (g *group) loadMetadata(now time.Time, v *kmsg.GroupMetadataValue) {
	clear(g.members)
	clear(g.static)
	clear(g.pending)
	g.pendingSync, g.syncDeadline, g.rebalanceDeadline = nil, time.Time{}, time.Time{}
	g.protocolType, g.protocol, g.leader, g.generation = "", "", "", 0
	g.setState(StateEmpty, now)
	if v == nil {
		return
	}
	g.protocolType = v.ProtocolType
	g.generation = v.Generation
	since := now
	if v.CurrentStateTimestamp >= 0 {
		since = time.UnixMilli(v.CurrentStateTimestamp)
	}
	if len(v.Members) == 0 {
		g.setState(StateEmpty, since)
		return
	}
	if v.Protocol != nil {
		g.protocol = *v.Protocol
	}
	for _, vm := range v.Members {
		g.nextSeq++
		m := &member{
			id:               vm.MemberID,
			client:           client{id: vm.ClientID, host: vm.ClientHost},
			seq:              g.nextSeq,
			sessionTimeout:   millis(vm.SessionTimeoutMillis),
			rebalanceTimeout: millis(vm.RebalanceTimeoutMillis),
			assignment:       bytes.Clone(vm.Assignment),
		}
		if m.rebalanceTimeout <= 0 {
			m.rebalanceTimeout = m.sessionTimeout
		}
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = g.protocol, bytes.Clone(vm.Subscription)
		m.protocols = []kmsg.JoinGroupRequestProtocol{p}
		if vm.InstanceID != nil {
			inst := *vm.InstanceID
			m.instanceID = &inst
			g.static[inst] = m.id
		}
		g.heartbeat(now, m)
		g.members[m.id] = m
	}
	if v.Leader != nil && g.members[*v.Leader] != nil {
		g.leader = *v.Leader
	} else {
		g.leader = g.sortedMembers()[0].id
	}
	g.setState(StateStable, since)
}

// setOffset records a commit.
func (g *group) setOffset(topic string, partition int32, o offset) {
	ps := g.offsets[topic]
	if ps == nil {
		ps = make(map[int32]offset)
		g.offsets[topic] = ps
	}
	ps[partition] = o
}

// deleteOffset forgets a commit.
func (g *group) deleteOffset(topic string, partition int32) {
	ps := g.offsets[topic]
	delete(ps, partition)
	if len(ps) == 0 {
		delete(g.offsets, topic)
	}
}

// sortedOffsets returns the group's commits ordered by topic and partition.
func (g *group) sortedOffsets() []topicPartition {
	var tps []topicPartition
	for t, ps := range g.offsets {
		for p := range ps {
			tps = append(tps, topicPartition{t, p})
		}
	}
	slices.SortFunc(tps, func(a, b topicPartition) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return cmp.Compare(a.partition, b.partition)
	})
	return tps
}

type topicPartition struct {
	topic     string
	partition int32
}
