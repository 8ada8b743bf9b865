// Package runtime is the Sluice worker: it runs connectors and their tasks,
// keeps connector configs, source offsets and statuses in Kafka Connect's
// three compacted internal topics, and answers the REST layer through
// Herder. It reaches brokers only through kgo, so the embedded broker and
// an external Kafka cluster are the same to it.
//
// # Model
//
// Everything a worker knows comes from the broker. At start-up it reads
// the three internal topics to their end (kafkaLog, Kafka's
// KafkaBasedLog) and keeps following them:
//
//	config topic   connector configs, target states, task configs (applied
//	               atomically at their commit record), restart requests,
//	               cluster-wide logger levels      → configReader → events
//	offsets topic  source offsets, read by tasks and the offsets API
//	status topic   connector, task and active-topic statuses, served locally
//
// REST requests that change something write to the config topic and wait
// until the worker has read their record back (read-your-writes); the
// worker acts on what it reads, never on the request itself. So a worker
// restarted on the same topics, or another worker of the same cluster,
// arrives at the same connectors, target states, task configs and
// offsets.
//
// The decisions (which connector and task instances to start, stop,
// pause, restart after a failure and when, what status to report) are
// made by machine (statemachine.go), a deterministic state machine without
// I/O, goroutines or clock, fed with events: what was read from the config
// topic, what instances reported, requests, and the passing of time. Its
// actions are carried out by the herder (herder.go), one goroutine that
// never blocks on connector or task code: each connector and task instance
// runs in a goroutine of its own (instances.go), and any instance that
// does not stop within task.shutdown.graceful.timeout.ms is abandoned. A
// hung connector or task therefore never blocks the REST API, other
// connectors or shutdown.
//
// Failed connectors and tasks are restarted automatically with
// exponential backoff (sluice.task.restart.*), which Kafka Connect does
// not do; between attempts their status is FAILED with the error as trace.
//
// # Cluster
//
// Every worker is a member of the Connect group group.id, even alone
// (Kafka Connect's distributed mode): the membership driver
// (membership.go) runs the classic group protocol with protocol type
// "connect" through kgo, and the leader assigns connectors and tasks with
// package assign (incremental cooperative, KIP-415). The machine runs only
// what is assigned (evAssignment). Writes to the config topic are the
// leader's, fenced by a heartbeat in its generation just before each one;
// other workers answer a RedirectError that the REST layer forwards
// (leader.go). A connector's new task configs travel from the worker that
// runs it to the leader through the internal REST endpoint, signed with
// the session key under connect.protocol=sessioned (interworker.go).
// Statuses carry the group generation, and neither writers nor readers let
// an older generation replace another worker's newer status.
//
//	worker A (leader)                 group coordinator          worker B
//	  JoinGroup(metadata: url, config offset, owned) ──►  ◄── JoinGroup
//	  ◄── members' metadata                                    │
//	  read config topic to its end; assign.Assignor            │
//	  SyncGroup(assignments) ──►                    ──► assignment (assigned, revoked, delay)
//	  heartbeat every heartbeat.interval.ms          ◄── stop revoked, then rejoin
//
// # Files
//
//	api.go              the Herder methods and JSON entities the REST layer uses
//	membership.go       member: the group protocol driver (join, sync, heartbeat, leave, zombie stop)
//	leader.go           leader-only writes with fencing, owner routing, task configs to the leader
//	interworker.go      session keys, signed internal requests (KIP-507)
//	config.go           WorkerConfig: the worker properties, defaults, Validate
//	worker.go           Worker: NewWorker, Start, Close; Options; worker id
//	cluster.go          the embedded broker and the worker's Kafka clients
//	topics.go           creating and checking the internal topics
//	kafkalog.go         kafkaLog: read a topic to its end, follow it, write with acks
//	formats.go          the internal topics' keys and values (byte-compatible with Kafka)
//	configlog.go        configReader: config-topic records → events (Kafka's semantics)
//	statusstore.go      the status topic and the local status view
//	offsetstore.go      the offsets topic; the OffsetStore tasks use
//	statemachine.go     machine: the herder's decisions, events in, actions out
//	herder.go           the driver: event loop, actions, waiting for results
//	instances.go        connector and task instances, each in its goroutine
//	taskrunner*.go      the seam to package runtime/task (the record path)
//	herder_api.go       the REST-facing operations
//	validate.go         connector config validation (/config/validate, create)
//	offsets_api.go      the offsets API (KIP-875)
//	plugins.go          plugin listing and plugin config definitions
//	loggers.go          LogLevels: per-logger levels for /admin/loggers
//	metrics.go          worker-level Prometheus metrics
//
// Lock order: herder.writeMu, then herder.mu, then statusStore.mu or
// offsetStore.mu; member.mu is never held while another lock is taken.
// Connector and task code is never called with a lock held.
package runtime
