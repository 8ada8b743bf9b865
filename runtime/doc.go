// Package runtime is the Sluice worker: it runs connectors and their tasks,
// keeps connector configs, source offsets and statuses in Kafka Connect's
// three compacted internal topics, and answers the REST layer through
// Herder. It reaches brokers only through kgo, so the embedded broker and
// an external Kafka cluster are the same to it.
package runtime
