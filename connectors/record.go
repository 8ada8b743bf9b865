package connectors

import (
	"slices"
	"time"
)

// TopicPartition names one partition of a Kafka topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// TimestampType says where a sink record's timestamp came from, as in
// Kafka's record batches.
type TimestampType int8

// Timestamp types. The zero value means the record has no timestamp type
// (source records).
const (
	NoTimestampType TimestampType = iota
	CreateTime
	LogAppendTime
)

// String returns Kafka's name: "NoTimestampType", "CreateTime" or
// "LogAppendTime".
func (t TimestampType) String() string {
	switch t {
	case CreateTime:
		return "CreateTime"
	case LogAppendTime:
		return "LogAppendTime"
	}
	return "NoTimestampType"
}

// Header is one record header: a key and a Connect value with an optional
// schema (nil for schemaless values).
type Header struct {
	Key    string
	Schema *Schema
	Value  any
}

// Headers is an ordered list of headers. Keys may repeat, as in Kafka;
// the last header with a key is its current value.
type Headers []Header

// Add appends a header.
func (h *Headers) Add(key string, schema *Schema, value any) {
	*h = append(*h, Header{Key: key, Schema: schema, Value: value})
}

// Last returns the last header with key.
func (h Headers) Last(key string) (Header, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Key == key {
			return h[i], true
		}
	}
	return Header{}, false
}

// All returns every header with key, in order.
func (h Headers) All(key string) []Header {
	var out []Header
	for _, x := range h {
		if x.Key == key {
			out = append(out, x)
		}
	}
	return out
}

// Remove deletes every header with key.
func (h *Headers) Remove(key string) {
	*h = slices.DeleteFunc(*h, func(x Header) bool { return x.Key == key })
}

// Record is a Connect record, source or sink (Kafka's ConnectRecord with
// SourceRecord's and SinkRecord's extras). It is a value type: copying it
// copies the fields, but Headers, SourcePartition, SourceOffset and the
// Key/Value contents are shared; use Clone before changing headers.
//
// Once a record is handed to the runtime (returned from Poll, or passed to
// Put or a transform) its contents must be treated as read-only: a
// transform that changes a record returns a changed copy.
type Record struct {
	// Topic is the Kafka topic. A source task sets it; a sink task sees
	// the topic the record was consumed from (after transforms).
	Topic string
	// Partition is the Kafka partition, or nil to let the producer's
	// partitioner choose from the key (source records usually leave it
	// nil). Sink records always have it.
	Partition *int32

	// KeySchema and Key are the record key; nil schema means schemaless.
	KeySchema *Schema
	Key       any
	// ValueSchema and Value are the record value. A nil Value is a
	// tombstone.
	ValueSchema *Schema
	Value       any

	// Timestamp is the record timestamp (millisecond precision on the
	// wire); the zero time means none, and the producer assigns one.
	Timestamp time.Time
	// Headers are the record headers, in order.
	Headers Headers

	// SourcePartition and SourceOffset are set by source tasks: where the
	// record came from in the external system, and the position to resume
	// after it. Both must be JSON-compatible maps (string keys; values
	// string, bool, integer, float, or nil), because the runtime stores
	// them as JSON in the offsets topic keyed by [connector, partition].
	// Records with a nil SourcePartition carry no offset.
	SourcePartition map[string]any
	SourceOffset    map[string]any

	// Offset is a sink record's Kafka offset (the offset of this record in
	// Topic/Partition as consumed, before transforms).
	Offset int64
	// TimestampType is a sink record's timestamp type.
	TimestampType TimestampType
	// OriginalTopic, OriginalPartition and OriginalOffset are where a sink
	// record was consumed from, unchanged by transforms (KIP-793); sinks
	// that track their own offsets use these.
	OriginalTopic     string
	OriginalPartition int32
	OriginalOffset    int64
}

// PartitionOf returns a pointer to p, for Record.Partition.
func PartitionOf(p int32) *int32 { return &p }

// Clone returns a copy of r with its own Headers slice (header values,
// key, value and the source maps are still shared). Transforms use it as
// Kafka's ConnectRecord.newRecord: clone, then change fields.
func (r Record) Clone() Record {
	r.Headers = slices.Clone(r.Headers)
	if r.Partition != nil {
		p := *r.Partition
		r.Partition = &p
	}
	return r
}

// KafkaPartition returns the partition and whether one is set.
func (r Record) KafkaPartition() (int32, bool) {
	if r.Partition == nil {
		return 0, false
	}
	return *r.Partition, true
}

// Tombstone reports whether the record's value is null.
func (r Record) Tombstone() bool { return IsNull(r.Value) }

// RecordMetadata is where the broker stored a source record.
type RecordMetadata struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
}
