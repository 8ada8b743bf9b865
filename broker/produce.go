package broker

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/batch"
	"github.com/sluicedata/sluice/broker/partlog"
)

// handleProduce appends each partition's batch and fills rep. The logs
// written to are synced through the broker's Syncer: with acks=all the reply
// waits for that round (in the writer, so later requests keep being read);
// with acks=1 it goes out at once and the round runs in the background,
// making the data visible to consumers when it completes; acks=0 sends no
// reply at all.
func (c *conn) handleProduce(req *kmsg.ProduceRequest, rep *reply) {
	b := c.b
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	var (
		touched []*partlog.Log
		// appended are the partitions whose success depends on the sync.
		appended []*kmsg.ProduceResponseTopicPartition
	)
	for i := range req.Topics {
		rt := &req.Topics[i]
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, 0, len(rt.Partitions))
		var t *topic
		var terr error
		switch {
		case req.Acks != 0 && req.Acks != 1 && req.Acks != -1:
			terr = errorf(ErrInvalidRequest, "invalid acks %d", req.Acks)
		case req.TransactionID != nil:
			terr = ErrTransactionsUnsupported
		default:
			t, terr = b.autoCreate(rt.Topic)
			if t == nil && terr == nil {
				terr = ErrUnknownTopic
			}
		}
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			l, err := (*partlog.Log)(nil), terr
			if err == nil {
				if l = t.partition(rp.Partition); l == nil {
					err = ErrUnknownTopic
				}
			}
			var res partlog.AppendResult
			var appendTime int64 = -1
			if err == nil {
				res, appendTime, err = b.produceTo(t, l, req, rp.Records)
				if errors.Is(err, partlog.ErrLogFailed) {
					b.reopenFailed(t.name, rp.Partition, l)
				}
			}
			switch {
			case err == nil, errors.Is(err, partlog.ErrDuplicateSequence):
				// A duplicate is answered as success with the
				// offset the batch got first, like Kafka; it
				// still waits for its data to be synced.
				sp.BaseOffset = res.Base
				sp.LogStartOffset = res.LogStartOffset
				sp.LogAppendTime = appendTime
				touched = append(touched, l)
			default:
				sp.ErrorCode = errorCode(err, kerr.KafkaStorageError)
				sp.ErrorMessage = errorMessage(err)
				if sp.ErrorMessage == nil && sp.ErrorCode != kerr.KafkaStorageError.Code {
					msg := err.Error()
					sp.ErrorMessage = &msg
				}
				sp.BaseOffset = -1
				if l != nil {
					sp.LogStartOffset = l.StartOffset()
				}
				if sp.ErrorCode == kerr.KafkaStorageError.Code {
					c.log.Error("append failed", "topic", rt.Topic, "partition", rp.Partition, "err", err)
				} else {
					c.log.Debug("produce rejected", "topic", rt.Topic, "partition", rp.Partition, "client_id", c.clientID, "err", err)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	// Pointers into resp only now that its slices are final.
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			if sp := &resp.Topics[i].Partitions[j]; sp.ErrorCode == 0 {
				appended = append(appended, sp)
			}
		}
	}

	if len(touched) == 0 {
		if req.Acks != 0 {
			rep.resp = resp
		}
		return
	}
	done := b.syncer.Async(touched...)
	if req.Acks != -1 {
		// The round publishes the data; nobody waits for it (the
		// channel is buffered).
		if req.Acks == 1 {
			rep.resp = resp
		}
		return
	}
	rep.resp = resp
	rep.wait = done
	rep.finish = func(err error) {
		if err == nil {
			return
		}
		c.log.Error("sync failed", "err", err)
		code := errorCode(err, kerr.KafkaStorageError)
		if code == kerr.CorruptMessage.Code || code == 0 {
			code = kerr.KafkaStorageError.Code
		}
		for _, sp := range appended {
			sp.ErrorCode = code
			sp.BaseOffset = -1
		}
	}
}

// produceTo validates one partition's records and appends them. It returns
// the LogAppendTime to report (-1 for CreateTime topics).
func (b *Broker) produceTo(t *topic, l *partlog.Log, req *kmsg.ProduceRequest, records []byte) (partlog.AppendResult, int64, error) {
	cfg := &t.prod
	if t.internal {
		// Only the coordinator writes __consumer_offsets.
		return partlog.AppendResult{}, -1, errorf(ErrInvalidTopic, "Cannot append to internal topic %s", t.name)
	}
	if req.Acks == -1 && cfg.minInsyncReplicas > 1 {
		return partlog.AppendResult{}, -1, errorf(ErrNotEnoughReplicas,
			"The size of the current ISR Set(%d) is insufficient to satisfy the min.isr requirement of %d for partition", b.cfg.NodeID, cfg.minInsyncReplicas)
	}
	if len(records) == 0 {
		return partlog.AppendResult{}, -1, errorf(ErrInvalidRecord, "Produce request has no record batch")
	}
	bt, rest, err := batch.Next(records)
	if err != nil {
		return partlog.AppendResult{}, -1, errorf(ErrInvalidRecord, "Malformed record batch: %v", err)
	}
	if len(rest) != 0 {
		return partlog.AppendResult{}, -1, errorf(ErrInvalidRecord, "Produce requests with version %d must have exactly one record batch per partition", req.Version)
	}
	if int64(len(bt)) > cfg.maxMessageBytes {
		return partlog.AppendResult{}, -1, errorf(partlog.ErrMessageTooLarge,
			"The record batch is %d bytes, larger than the topic's max.message.bytes %d", len(bt), cfg.maxMessageBytes)
	}
	switch {
	case bt.IsControl():
		return partlog.AppendResult{}, -1, errorf(ErrInvalidRecord, "Clients may not produce control batches")
	case bt.IsTransactional():
		return partlog.AppendResult{}, -1, ErrTransactionsUnsupported
	case bt.Codec() == batch.CodecZstd && req.Version < 7:
		return partlog.AppendResult{}, -1, errorf(ErrUnsupportedCompression, "Produce requests with version %d cannot carry zstd batches", req.Version)
	}

	now := time.Now().UnixMilli()
	appendTime := int64(-1)
	if cfg.logAppendTime {
		// The CRC is recomputed: check the producer's first (Append
		// checks it otherwise).
		if err := bt.Validate(); err != nil {
			return partlog.AppendResult{}, -1, errorf(batch.ErrCorrupt, "%v", err)
		}
		appendTime = now
		setLogAppendTime(bt, now)
	} else if err := checkTimestamps(bt, now, cfg); err != nil {
		return partlog.AppendResult{}, -1, err
	}
	res, err := l.Append(bt)
	return res, appendTime, err
}

// checkTimestamps applies message.timestamp.before/after.max.ms to the
// batch's earliest and latest timestamps.
func checkTimestamps(bt batch.Batch, now int64, cfg *produceConfig) error {
	if cfg.timestampBeforeMs < math.MaxInt64 && now-cfg.timestampBeforeMs > bt.FirstTimestamp() {
		return errorf(ErrInvalidTimestamp, "Timestamp %d of a record is before the allowed %d ms (message.timestamp.before.max.ms)", bt.FirstTimestamp(), cfg.timestampBeforeMs)
	}
	if cfg.timestampAfterMs < math.MaxInt64-now && bt.MaxTimestamp() > now+cfg.timestampAfterMs {
		return errorf(ErrInvalidTimestamp, "Timestamp %d of a record is after the allowed %d ms (message.timestamp.after.max.ms)", bt.MaxTimestamp(), cfg.timestampAfterMs)
	}
	return nil
}

// setLogAppendTime stamps a batch for a LogAppendTime topic the way Kafka
// does: timestamp type bit set and maxTimestamp = append time, which are
// covered by the CRC, so it is recomputed.
func setLogAppendTime(bt batch.Batch, now int64) {
	attrs := uint16(bt.Attributes()) | batch.AttrLogAppendTime
	binary.BigEndian.PutUint16(bt[21:], attrs)
	binary.BigEndian.PutUint64(bt[35:], uint64(now))
	bt.SetCRC()
}
