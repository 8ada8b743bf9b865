// Package broker is Sluice's bundled single-node broker: a Kafka wire
// protocol front-end (requests decoded and responses encoded with kmsg) over
// partlog storage, with Kafka's topic, config and consumer-group semantics.
// Any Kafka client (kgo, librdkafka, sarama, the Java client) talks to it;
// in embedded mode a worker reaches it without a socket through ServeConn.
//
// What is served: ApiVersions, Metadata, Produce (acks 0/1/all, idempotent
// producers), Fetch (long-poll, KIP-74 limits, no sessions), ListOffsets,
// CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs,
// AlterConfigs, IncrementalAlterConfigs, InitProducerId (no transactions),
// FindCoordinator, OffsetForLeaderEpoch, DescribeCluster, and the classic
// group APIs, dispatched to the group coordinator. Transactions, KIP-848
// groups, SASL and TLS are not served.
//
// File map:
//
//	broker.go       Broker: New, Serve, ServeConn, Close, background cleaning
//	config.go       Config, DefaultConfig, Validate
//	conn.go         framing, per-connection reader and in-order writer
//	versions.go     served API versions, ApiVersions
//	errors.go       sentinels and their Kafka error codes
//	persist.go      on-disk layout of DataDir and atomic JSON files
//	topic.go        topics: create, delete, grow, load at start-up
//	topicconfig.go  Kafka topic configs: validation, defaults, partlog mapping
//	configs.go      DescribeConfigs, AlterConfigs, IncrementalAlterConfigs
//	admin.go        CreateTopics, DeleteTopics, CreatePartitions
//	metadata.go     Metadata, DescribeCluster, OffsetForLeaderEpoch
//	produce.go      Produce
//	fetch.go        Fetch
//	listoffsets.go  ListOffsets
//	producerid.go   InitProducerId and persisted producer-id blocks
//	coordinator.go  coordinator wiring, __consumer_offsets store and replay,
//	                FindCoordinator
package broker
