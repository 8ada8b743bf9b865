// Package group is the broker's classic consumer-group coordinator: the
// JoinGroup/SyncGroup/Heartbeat/LeaveGroup rebalance protocol, committed
// offsets and the admin requests on groups, with state persisted in Kafka's
// __consumer_offsets record format.
//
// # Use
//
// The protocol server creates one Coordinator with a Store over the
// __consumer_offsets log, replays that log through Load before serving,
// and hands each decoded group request to the method of the same name,
// writing back the response it returns. Requests should carry the
// connection's client ID and address (WithClient). JoinGroup and SyncGroup
// block while the rebalance is in progress; their ctx should end when the
// connection closes. Supported versions: JoinGroup 0-9, SyncGroup 0-5,
// Heartbeat 0-4, LeaveGroup 0-5, OffsetCommit 0-8, OffsetFetch 0-8,
// DescribeGroups 0-5 (6 is answered too), ListGroups 0-4 (5 too),
// DeleteGroups 0-2, OffsetDelete 0. The KIP-848 versions (OffsetCommit and
// OffsetFetch 9+, which carry member epochs and topic IDs) are not, so the
// server must not advertise them.
//
// # Model
//
// A group moves through Kafka's states:
//
//	Empty ──join──► PreparingRebalance ──all joined / rebalance timeout──► CompletingRebalance
//	  ▲                 ▲                                                    │ leader's SyncGroup
//	  └─ nobody left ───┴──────── join with new metadata, leave, expiry ◄── Stable
//
// A rebalance ends when every member has rejoined (and no member ID handed
// out with MEMBER_ID_REQUIRED is still pending), or at the rebalance
// timeout — the largest of the members' — when members that did not
// rejoin are removed. The generation then advances, the protocol is chosen
// by vote among those every member supports, the leader receives every
// member's metadata and the followers park in SyncGroup until the leader
// sends the assignment. A member that never sends SyncGroup is removed
// after the rebalance timeout; a member that stops heartbeating after its
// session timeout. The broker never interprets assignments, so eager and
// cooperative-sticky clients are the same to it: a member of a Stable
// group that rejoins with new metadata starts a new generation, the others
// learn of it from REBALANCE_IN_PROGRESS on Heartbeat and may keep
// committing in the old generation until they rejoin.
//
// Static membership (KIP-345) is supported: a JoinGroup with an instance
// ID needs no MEMBER_ID_REQUIRED round trip; a known instance that joins
// again replaces its previous member under a new member ID, fencing the old
// one (FENCED_INSTANCE_ID), and if the group is Stable and the protocol
// metadata is unchanged it gets the current generation and its previous
// assignment without a rebalance (as leader with SkipAssignment, KIP-814).
// Static members expire like dynamic ones; LeaveGroup v3+ can name them by
// instance ID.
//
// # Persistence
//
// Every durable change is appended to the Store before anyone is told of
// it, as __consumer_offsets records encoded with kmsg:
//
//	key                                  value
//	OffsetCommitKey v1 (group,topic,p)   OffsetCommitValue v3 (offset, leader epoch,
//	                                     metadata, commit timestamp) | nil tombstone
//	GroupMetadataKey v2 (group)          GroupMetadataValue v3 (protocol type, generation,
//	                                     protocol, leader, state timestamp, members with
//	                                     subscription and assignment) | nil tombstone
//
// Offsets are written on commit; group metadata when the leader's
// assignment arrives (the group becomes Stable), when a generation ends
// with no members (Empty), and when a static member is replaced; tombstones
// on DeleteGroups, OffsetDelete and expiry. Load accepts every version of
// these records that Kafka has written and skips other record types.
//
// After a restart, groups come back with their generation, protocol,
// leader, members and assignments, and each member's session timer starts
// afresh (as when a Kafka coordinator loads a group). Clients that
// reconnect and heartbeat within their session timeout carry on without a
// rebalance — kgo and librdkafka simply keep consuming — while members
// that do not come back are expired, which triggers the rebalance that
// Kafka's approach would otherwise force on every group at once.
//
// Committed offsets of groups without members expire OffsetsRetention
// after the later of the group becoming Empty and the commit; a Stable
// consumer group's offsets for topics no member subscribes to expire after
// OffsetsRetention from their commit. An Empty group left with no offsets
// is deleted by the same periodic sweep.
//
// # Structure
//
// The decision logic is deterministic and free of goroutines: group.go,
// rebalance.go, offsets.go, admin.go and records.go are plain methods on a
// group that take the current time, keep deadlines as fields and apply
// them in tick. coordinator.go and handlers.go are the thin driver: one
// mutex and one timer per group, the offsets sweep, and parked requests
// waiting on buffered channels.
package group
