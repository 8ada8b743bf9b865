package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafkaLog is Kafka Connect's KafkaBasedLog: one compacted topic read
// from the beginning into memory and then followed, plus writes that wait
// for the broker's acknowledgement (acks=all). Every partition is read;
// apply sees each record once, in offset order within a partition, from
// the log's own goroutine.
//
// ReadToEnd gives read-your-writes: it returns once every record that was
// in the topic when it was called has been applied.
type kafkaLog struct {
	topic      string
	partitions int32
	consumer   *kgo.Client
	producer   *kgo.Client
	admin      *kadm.Client
	apply      func(*kgo.Record)
	log        *slog.Logger

	mu struct {
		sync.Mutex
		pos     map[int32]int64 // next offset to apply, per partition
		changed chan struct{}   // closed and replaced whenever pos moves
		err     error           // a fatal consume error
	}
	cancel context.CancelFunc
	done   chan struct{}
}

// stallProbeAfter is how long ReadToEnd waits without progress before it
// asks the broker directly whether the missing offsets hold any record at
// all: compaction can leave the end offset past the last record, which a
// consumer never sees as progress.
const stallProbeAfter = 500 * time.Millisecond

// openKafkaLog starts following topic (which must exist with the given
// number of partitions) and returns once everything in it was applied.
func openKafkaLog(ctx context.Context, cl *cluster, topic string, partitions int32, apply func(*kgo.Record), log *slog.Logger) (*kafkaLog, error) {
	offsets := make(map[int32]kgo.Offset, partitions)
	for p := range partitions {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	consumer, err := kgo.NewClient(append(cl.opts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()),
	)...)
	if err != nil {
		return nil, fmt.Errorf("consumer for %s: %w", topic, err)
	}
	l := &kafkaLog{topic: topic, partitions: partitions, consumer: consumer, producer: cl.producer, admin: cl.admin,
		apply: apply, log: log.With("topic", topic), done: make(chan struct{})}
	l.mu.pos = make(map[int32]int64, partitions)
	l.mu.changed = make(chan struct{})
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.run(runCtx)
	if err := l.ReadToEnd(ctx); err != nil {
		l.Close()
		return nil, fmt.Errorf("read %s: %w", topic, err)
	}
	return l, nil
}

func (l *kafkaLog) run(ctx context.Context) {
	defer close(l.done)
	for {
		fetches := l.consumer.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				l.log.Warn("reading internal topic", "partition", p, "err", err)
			}
		})
		moved := false
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			for _, r := range fp.Records {
				l.apply(r)
				l.advance(fp.Partition, r.Offset+1)
				moved = true
			}
		})
		if moved {
			l.notify()
		}
	}
}

// advance records that offsets before next were applied.
func (l *kafkaLog) advance(p int32, next int64) {
	l.mu.Lock()
	if next > l.mu.pos[p] {
		l.mu.pos[p] = next
	}
	l.mu.Unlock()
}

func (l *kafkaLog) notify() {
	l.mu.Lock()
	close(l.mu.changed)
	l.mu.changed = make(chan struct{})
	l.mu.Unlock()
}

// ReadToEnd waits until every record written to the topic before the call
// has been applied.
func (l *kafkaLog) ReadToEnd(ctx context.Context) error {
	ends, err := l.admin.ListEndOffsets(ctx, l.topic)
	if err != nil {
		return fmt.Errorf("list end offsets of %s: %w", l.topic, err)
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("list end offsets of %s: %w", l.topic, err)
	}
	target := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { target[o.Partition] = o.Offset })
	lastProgress := time.Now()
	lastBehind := int64(-1)
	for {
		l.mu.Lock()
		var behind int64
		var lagging []int32
		for p, end := range target {
			if pos := l.mu.pos[p]; pos < end {
				behind += end - pos
				lagging = append(lagging, p)
			}
		}
		changed := l.mu.changed
		l.mu.Unlock()
		if behind == 0 {
			return nil
		}
		if behind != lastBehind {
			lastBehind, lastProgress = behind, time.Now()
		}
		wait := stallProbeAfter - time.Since(lastProgress)
		if wait <= 0 {
			l.probeGaps(ctx, lagging, target)
			lastProgress = time.Now()
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-changed:
		case <-timer.C:
		case <-l.done:
			timer.Stop()
			return errors.New("log closed")
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
		timer.Stop()
	}
}

// probeGaps fetches each lagging partition at its position; if the broker
// has no record there up to the target end offset (compaction removed the
// tail), the partition counts as read to the end.
func (l *kafkaLog) probeGaps(ctx context.Context, lagging []int32, target map[int32]int64) {
	md, err := l.admin.Metadata(ctx, l.topic)
	if err != nil {
		return
	}
	td, ok := md.Topics[l.topic]
	if !ok {
		return
	}
	for _, p := range lagging {
		pd, ok := td.Partitions[p]
		if !ok {
			continue
		}
		l.mu.Lock()
		pos := l.mu.pos[p]
		l.mu.Unlock()
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID = -1
		req.MaxWaitMillis = 0
		req.MinBytes = 1
		req.MaxBytes = 1 << 20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = l.topic
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = p
		rp.FetchOffset = pos
		rp.LogStartOffset = -1
		rp.CurrentLeaderEpoch = -1
		rp.PartitionMaxBytes = 1 << 20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, l.consumer.Broker(int(pd.Leader)))
		if err != nil || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			continue
		}
		fp := resp.Topics[0].Partitions[0]
		if fp.ErrorCode == 0 && len(fp.RecordBatches) == 0 && fp.HighWatermark >= target[p] {
			l.log.Debug("no records left before the end offset; treating the partition as read", "partition", p, "position", pos, "end", target[p])
			l.advance(p, target[p])
			l.notify()
		}
	}
}

// Send writes one record (nil value = tombstone) and waits for the
// broker's acknowledgement.
func (l *kafkaLog) Send(ctx context.Context, key string, value []byte) error {
	return l.SendAll(ctx, []*kgo.Record{{Key: []byte(key), Value: value}})
}

// SendAll writes records, in order, and waits until all are acknowledged.
func (l *kafkaLog) SendAll(ctx context.Context, recs []*kgo.Record) error {
	for _, r := range recs {
		r.Topic = l.topic
	}
	if err := l.producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("write to %s: %w", l.topic, err)
	}
	return nil
}

// SendAsync writes a record without waiting; done (may be nil) is called
// with the outcome. Records sent from one goroutine keep their order. It
// never blocks: when the producer's buffer is full (the broker is away)
// the record fails at once with kgo.ErrMaxBuffered.
func (l *kafkaLog) SendAsync(key string, value []byte, done func(error)) {
	l.producer.TryProduce(context.Background(), &kgo.Record{Topic: l.topic, Key: []byte(key), Value: value}, func(_ *kgo.Record, err error) {
		if done != nil {
			done(err)
		}
	})
}

// Close stops following the topic.
func (l *kafkaLog) Close() {
	l.cancel()
	l.consumer.Close()
	<-l.done
}
