package assign

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// ProtocolType is the JoinGroup protocol type of Kafka Connect workers.
const ProtocolType = "connect"

// Protocol is a Connect subprotocol: its number is the version written at
// the head of metadata and assignments.
type Protocol int16

const (
	// Eager is protocol version 0, named "default" in JoinGroup: every
	// member gives up everything before each rebalance.
	Eager Protocol = 0
	// Compatible is version 1 (KIP-415): incremental cooperative
	// rebalancing; members report what they run and keep it.
	Compatible Protocol = 1
	// Sessioned is version 2 (KIP-507): Compatible plus a session key in
	// the config topic with which internal REST requests are signed.
	Sessioned Protocol = 2
)

var protocolNames = [...]string{"default", "compatible", "sessioned"}

// Name is the protocol's name in JoinGroup.
func (p Protocol) Name() string {
	if p < 0 || int(p) >= len(protocolNames) {
		return fmt.Sprintf("connect-v%d", int16(p))
	}
	return protocolNames[p]
}

func (p Protocol) String() string { return p.Name() }

// Cooperative reports whether members keep their work across rebalances.
func (p Protocol) Cooperative() bool { return p >= Compatible }

// ParseProtocol returns the protocol of a JoinGroup protocol name.
func ParseProtocol(name string) (Protocol, bool) {
	for i, n := range protocolNames {
		if n == name {
			return Protocol(i), true
		}
	}
	return 0, false
}

// Protocols returns what a worker with connect.protocol = mode (eager,
// compatible or sessioned, any case) offers in JoinGroup, preferred
// first, as Kafka Connect orders them; nil for an unknown mode.
func Protocols(mode string) []Protocol {
	switch strings.ToLower(mode) {
	case "eager":
		return []Protocol{Eager}
	case "compatible":
		return []Protocol{Compatible, Eager}
	case "sessioned":
		return []Protocol{Sessioned, Compatible, Eager}
	}
	return nil
}

// ConnectorTask is the task number that stands for the connector instance
// itself in an assignment (Kafka's CONNECTOR_TASK).
const ConnectorTask int32 = -1

// Item is one unit of work: a connector instance (Task == ConnectorTask)
// or one of its tasks.
type Item struct {
	Connector string
	Task      int32
}

// IsConnector reports whether the item is a connector instance.
func (i Item) IsConnector() bool { return i.Task == ConnectorTask }

func (i Item) String() string {
	if i.IsConnector() {
		return i.Connector
	}
	return fmt.Sprintf("%s-%d", i.Connector, i.Task)
}

// Compare orders items by connector, then task (the connector first).
func (i Item) Compare(o Item) int {
	if c := strings.Compare(i.Connector, o.Connector); c != 0 {
		return c
	}
	return cmp.Compare(i.Task, o.Task)
}

// sortItems sorts and removes duplicates.
func sortItems(items []Item) []Item {
	slices.SortFunc(items, Item.Compare)
	return slices.Compact(items)
}

// Metadata is what a worker sends in JoinGroup (Kafka's WorkerState and
// ExtendedWorkerState).
type Metadata struct {
	// Version is the protocol the metadata is encoded for.
	Version Protocol
	// URL is the worker's advertised REST URL.
	URL string
	// ConfigOffset is how far the worker has read the config topic: the
	// offset after the last record read, -1 before any.
	ConfigOffset int64
	// Owned is what the worker runs (Compatible and later): its last
	// assignment with everything assigned since and nothing revoked. Nil
	// when it holds nothing from any earlier generation.
	Owned *Assignment
}

// Assignment is what the leader sends a member in SyncGroup (Kafka's
// ConnectProtocol.Assignment and ExtendedAssignment).
type Assignment struct {
	// Version is the protocol the assignment is encoded for.
	Version Protocol
	// Error is NoError or ConfigMismatch.
	Error int16
	// Leader and LeaderURL are the leader's member id and REST URL.
	Leader, LeaderURL string
	// ConfigOffset is the config topic position the assignment was made
	// at; a member must have read that far before acting on it.
	ConfigOffset int64
	// Assigned is what the member must run: with Eager, everything it
	// runs; with the cooperative protocols, what it starts in addition
	// to what it keeps.
	Assigned []Item
	// Revoked is what the member must stop (cooperative protocols).
	Revoked []Item
	// Delay asks the member to rejoin after this many milliseconds
	// (cooperative protocols): a scheduled rebalance.
	Delay int32
}

// Assignment errors (ConnectProtocol.Assignment).
const (
	NoError int16 = 0
	// ConfigMismatch: the leader could not read the config topic as far
	// as a member had; members read to the end and rejoin.
	ConfigMismatch int16 = 1
)

// Encode returns the metadata in Kafka Connect's wire format:
//
//	Eager:       version int16 | url string | config_offset int64
//	Compatible+: version int16 | url string | config_offset int64 | allocation nullable_bytes
//
// where allocation is Owned encoded as an assignment (null when nil).
func (m Metadata) Encode() []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(m.Version))
	b = appendString(b, m.URL)
	b = binary.BigEndian.AppendUint64(b, uint64(m.ConfigOffset))
	if m.Version == Eager {
		return b
	}
	if m.Owned == nil {
		return binary.BigEndian.AppendUint32(b, 0xFFFFFFFF) // null
	}
	owned := *m.Owned
	owned.Version = m.Version
	enc := owned.Encode()
	b = binary.BigEndian.AppendUint32(b, uint32(len(enc)))
	return append(b, enc...)
}

// DecodeMetadata decodes JoinGroup metadata of any Connect version. As
// Kafka's reader does, it tolerates a cooperative member's metadata that
// ends before the allocation.
func DecodeMetadata(b []byte) (Metadata, error) {
	r := reader{b: b}
	var m Metadata
	m.Version = Protocol(r.int16())
	m.URL = r.string()
	m.ConfigOffset = r.int64()
	if r.err != nil {
		return Metadata{}, r.fail("metadata")
	}
	if m.Version < 0 {
		return Metadata{}, fmt.Errorf("%w: metadata version %d", ErrMalformed, m.Version)
	}
	if m.Version == Eager || r.done() {
		return m, nil
	}
	alloc, null := r.bytes()
	if r.err != nil {
		return Metadata{}, r.fail("metadata allocation")
	}
	if !null {
		a, err := DecodeAssignment(alloc)
		if err != nil {
			return Metadata{}, fmt.Errorf("metadata allocation: %w", err)
		}
		m.Owned = &a
	}
	return m, nil
}

// Encode returns the assignment in Kafka Connect's wire format:
//
//	version int16 | error int16 | leader string | leader_url string | config_offset int64 |
//	assignment [connector string, tasks [int32]]
//	Compatible+: | revoked [connector string, tasks [int32]] | delay int32
//
// Each connector lists the tasks of it in the set, -1 standing for the
// connector instance.
func (a Assignment) Encode() []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(a.Version))
	b = binary.BigEndian.AppendUint16(b, uint16(a.Error))
	b = appendString(b, a.Leader)
	b = appendString(b, a.LeaderURL)
	b = binary.BigEndian.AppendUint64(b, uint64(a.ConfigOffset))
	b = appendItems(b, a.Assigned)
	if a.Version == Eager {
		return b
	}
	b = appendItems(b, a.Revoked)
	return binary.BigEndian.AppendUint32(b, uint32(a.Delay))
}

// DecodeAssignment decodes a SyncGroup assignment of any Connect
// version. Missing trailing fields of a cooperative assignment take
// their defaults (none revoked, no delay), as in Kafka.
func DecodeAssignment(b []byte) (Assignment, error) {
	r := reader{b: b}
	var a Assignment
	a.Version = Protocol(r.int16())
	a.Error = r.int16()
	a.Leader = r.string()
	a.LeaderURL = r.string()
	a.ConfigOffset = r.int64()
	if r.err != nil {
		return Assignment{}, r.fail("assignment")
	}
	if a.Version < 0 {
		return Assignment{}, fmt.Errorf("%w: assignment version %d", ErrMalformed, a.Version)
	}
	a.Assigned = r.items()
	if a.Version != Eager && !r.done() {
		a.Revoked = r.items()
		if !r.done() {
			a.Delay = r.int32()
		}
	}
	if r.err != nil {
		return Assignment{}, r.fail("assignment")
	}
	return a, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// appendItems writes items grouped by connector, connectors in order and
// each connector's tasks in order (so the connector instance first).
func appendItems(b []byte, items []Item) []byte {
	items = sortItems(slices.Clone(items))
	var groups [][]Item
	for i, it := range items {
		if i == 0 || it.Connector != items[i-1].Connector {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], it)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(groups)))
	for _, g := range groups {
		b = appendString(b, g[0].Connector)
		b = binary.BigEndian.AppendUint32(b, uint32(len(g)))
		for _, it := range g {
			b = binary.BigEndian.AppendUint32(b, uint32(it.Task))
		}
	}
	return b
}

// reader reads Kafka protocol primitives; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) done() bool { return r.err == nil && len(r.b) == 0 }

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.err = ErrMalformed
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) int16() int16 {
	if v := r.take(2); v != nil {
		return int16(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (r *reader) int32() int32 {
	if v := r.take(4); v != nil {
		return int32(binary.BigEndian.Uint32(v))
	}
	return 0
}

func (r *reader) int64() int64 {
	if v := r.take(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func (r *reader) string() string {
	n := r.int16()
	return string(r.take(int(n)))
}

// bytes reads nullable bytes.
func (r *reader) bytes() (b []byte, null bool) {
	n := r.int32()
	if r.err == nil && n == -1 {
		return nil, true
	}
	return r.take(int(n)), false
}

// items reads a nullable array of connector assignments.
func (r *reader) items() []Item {
	n := r.int32()
	if r.err != nil || n == -1 {
		return nil
	}
	if n < 0 || int(n) > len(r.b) {
		r.err = ErrMalformed
		return nil
	}
	var out []Item
	for range n {
		c := r.string()
		k := r.int32()
		if r.err != nil || k < 0 || int(k) > len(r.b)/4 {
			r.err = ErrMalformed
			return nil
		}
		for range k {
			out = append(out, Item{Connector: c, Task: r.int32()})
		}
	}
	return sortItems(out)
}

func (r *reader) fail(what string) error {
	return fmt.Errorf("%w: %s truncated or invalid", ErrMalformed, what)
}
