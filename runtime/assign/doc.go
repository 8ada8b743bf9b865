// Package assign is Kafka Connect's group protocol: the member metadata
// and assignment encodings workers exchange through the broker's classic
// group coordinator (protocol type "connect"), and the leader's assignment
// of connectors and tasks to workers. It does no I/O and keeps no clock:
// the membership driver in package runtime feeds it what JoinGroup
// returned and sends what it computes in SyncGroup.
//
// # Protocols
//
// A worker offers, in order of preference, the subprotocols its
// connect.protocol allows; the coordinator picks the first every member
// supports:
//
//	connect.protocol  JoinGroup protocols                  version
//	eager             default                              0 (stop everything before each rebalance)
//	compatible        compatible, default                  1 (KIP-415 incremental cooperative)
//	sessioned         sessioned, compatible, default       2 (1 + KIP-507 signed internal requests)
//
// # Wire formats (byte-compatible with Kafka Connect)
//
// Kafka protocol primitives: int16/int32/int64 big-endian, string =
// int16 length + UTF-8, bytes = int32 length (-1 = null), array = int32
// count + elements.
//
//	metadata v0     version=0 | url string | config_offset int64
//	metadata v1/v2  version | url string | config_offset int64 | allocation bytes
//	                 (allocation: the member's current assignment encoded as below, or null)
//
//	assignment v0   version=0 | error int16 | leader string | leader_url string | config_offset int64 |
//	                assignment [connector string | tasks [int32]]
//	assignment v1/2 ... as v0 ... | revoked [connector string | tasks [int32]] | delay int32 (ms)
//
// In the connector lists task -1 stands for the connector instance. With
// the cooperative protocols an assignment is incremental: the member keeps
// what it ran, stops what is revoked and starts what is assigned, and
// reports the result as its allocation when it next joins.
//
// # Assignment
//
// Assignor is the incremental cooperative assignor (see its doc for the
// rules), AssignEager the eager one. Sluice departs from Kafka's
// IncrementalCooperativeAssignor in two ways, both about lost work (work
// whose worker left): a worker that comes back at the same URL gets its
// work back at once instead of after the delay, and the delay
// (scheduled.rebalance.max.delay.ms) counts from when the worker was last
// known alive, so work of a worker that crashed, which has already been
// idle for a session timeout when the coordinator expires it, is not kept
// idle for the whole delay on top.
//
// # Files
//
//	protocol.go   Protocol, Item, Metadata, Assignment and their encodings
//	assignor.go   Assignor (incremental cooperative), AssignEager
//	errors.go     ErrMalformed
package assign
