package task

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// explicitPartition marks, as kgo.Record.Context, a record whose source
// task chose its Kafka partition.
var explicitPartition = context.WithValue(context.Background(), explicitPartitionKey{}, true)

type explicitPartitionKey struct{}

// sourcePartitioner sends records with an explicit partition there and
// leaves the others to Kafka's default partitioner (murmur2 of the key,
// sticky batches for null keys).
type sourcePartitioner struct{ def kgo.Partitioner }

func (p sourcePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return &sourceTopicPartitioner{def: p.def.ForTopic(topic).(kgo.TopicBackupPartitioner)}
}

type sourceTopicPartitioner struct{ def kgo.TopicBackupPartitioner }

func (p *sourceTopicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return r.Context == explicitPartition || p.def.RequiresConsistency(r)
}

func (p *sourceTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Context == explicitPartition {
		return int(r.Partition)
	}
	return p.def.Partition(r, n)
}

func (p *sourceTopicPartitioner) PartitionByBackup(r *kgo.Record, n int, it kgo.TopicBackupIter) int {
	if r.Context == explicitPartition {
		return int(r.Partition)
	}
	return p.def.PartitionByBackup(r, n, it)
}
