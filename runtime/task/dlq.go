package task

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Dead letter queue context headers (Kafka's DeadLetterQueueReporter).
const (
	hdrPrefix          = "__connect.errors."
	HeaderTopic        = hdrPrefix + "topic"
	HeaderPartition    = hdrPrefix + "partition"
	HeaderOffset       = hdrPrefix + "offset"
	HeaderConnector    = hdrPrefix + "connector.name"
	HeaderTaskID       = hdrPrefix + "task.id"
	HeaderStage        = hdrPrefix + "stage"
	HeaderClass        = hdrPrefix + "class.name"
	HeaderException    = hdrPrefix + "exception.class.name"
	HeaderMessage      = hdrPrefix + "exception.message"
	HeaderStacktrace   = hdrPrefix + "exception.stacktrace"
	dlqCreateTimeoutMs = 30000
)

// dlqWriter writes failed records to a connector's dead letter queue.
type dlqWriter struct {
	topic          string
	cl             *kgo.Client
	contextHeaders bool
	connector      string
	task           int
	met            *taskMetrics

	mu  sync.Mutex
	err error // first failed write not reported through a done callback
}

// ensureTopic creates the DLQ topic if it does not exist, with one
// partition and errors.deadletterqueue.topic.replication.factor replicas.
// When that key was not set and the cluster has fewer brokers than its
// default of 3 (the embedded broker has one), the broker's default
// replication factor is used instead, so the out-of-the-box setup works;
// an explicitly set factor is never lowered.
func (d *dlqWriter) ensureTopic(ctx context.Context, rf int16, rfSet bool) error {
	create := func(rf int16) error {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = dlqCreateTimeoutMs
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic, t.NumPartitions, t.ReplicationFactor = d.topic, 1, rf
		req.Topics = append(req.Topics, t)
		resp, err := req.RequestWith(ctx, d.cl)
		if err != nil {
			return err
		}
		if len(resp.Topics) != 1 {
			return fmt.Errorf("create topic %s: %d topics in response", d.topic, len(resp.Topics))
		}
		rt := resp.Topics[0]
		err = kerr.ErrorForCode(rt.ErrorCode)
		if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		if rt.ErrorMessage != nil {
			return fmt.Errorf("%w: %s", err, *rt.ErrorMessage)
		}
		return err
	}
	err := create(rf)
	if err != nil && !rfSet && errors.Is(err, kerr.InvalidReplicationFactor) {
		err = create(-1)
	}
	if err != nil {
		return fmt.Errorf("%w: create dead letter queue topic %s: %w", ErrDeadLetterQueue, d.topic, err)
	}
	return nil
}

// write produces r to the DLQ. done, if not nil, hears the outcome;
// otherwise a failure is kept for flush.
func (d *dlqWriter) write(ctx context.Context, r *kgo.Record, done func(error)) {
	d.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err == nil {
			d.met.dlq.Inc()
		} else {
			err = fmt.Errorf("%w: %s: %w", ErrDeadLetterQueue, d.topic, err)
		}
		if done != nil {
			done(err)
			return
		}
		if err != nil {
			d.mu.Lock()
			if d.err == nil {
				d.err = err
			}
			d.mu.Unlock()
		}
	})
}

// flush waits until every write so far is acknowledged and returns the
// first failure. Only for a client of the DLQ's own (sink tasks).
func (d *dlqWriter) flush(ctx context.Context) error {
	if err := d.cl.Flush(ctx); err != nil {
		return fmt.Errorf("%w: flush: %w", ErrDeadLetterQueue, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// sinkRecord is the DLQ record of a consumed record: its original key,
// value, headers and timestamp, plus the context headers.
func (d *dlqWriter) sinkRecord(f *failure) *kgo.Record {
	r := &kgo.Record{Topic: d.topic, Key: f.raw.Key, Value: f.raw.Value, Timestamp: f.raw.Timestamp,
		Headers: slices.Clone(f.raw.Headers)}
	if d.contextHeaders {
		r.Headers = d.appendContext(r.Headers, f)
	}
	return r
}

// sourceRecord is the DLQ record of a source record that failed before it
// had Kafka bytes: a null key and the JSON rendering of the record (see
// the package doc), plus the context headers.
func (d *dlqWriter) sourceRecord(f *failure) *kgo.Record {
	r := &kgo.Record{Topic: d.topic, Value: renderSourceRecord(f.source)}
	if d.contextHeaders {
		r.Headers = d.appendContext(r.Headers, f)
	}
	return r
}

func (d *dlqWriter) appendContext(hs []kgo.RecordHeader, f *failure) []kgo.RecordHeader {
	add := func(k, v string) { hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)}) }
	add(HeaderTopic, f.Topic)
	add(HeaderPartition, strconv.Itoa(int(f.Partition)))
	add(HeaderOffset, strconv.FormatInt(f.Offset, 10))
	add(HeaderConnector, d.connector)
	add(HeaderTaskID, strconv.Itoa(d.task))
	add(HeaderStage, f.Stage.String())
	add(HeaderClass, f.Class)
	if f.Err != nil {
		add(HeaderException, errorClass(f.Err))
		add(HeaderMessage, f.Err.Error())
		add(HeaderStacktrace, errorTrace(f.Err))
	}
	return hs
}
