package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/partlog"
)

// ListOffsets special timestamps.
const (
	listLatest      = -1 // the high watermark (= last stable offset)
	listEarliest    = -2 // the log start offset
	listMaxTime     = -3 // the record with the largest timestamp (KIP-734)
	listLocalStart  = -4 // earliest local offset (KIP-405): no tiering, so -2
	listTieredStart = -5 // earliest pending upload (KIP-1005): not served
)

// handleListOffsets answers ListOffsets, including v0's shape (a list of
// offsets, of which we give at most one).
func (b *Broker) handleListOffsets(req *kmsg.ListOffsetsRequest) *kmsg.ListOffsetsResponse {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for i := range req.Topics {
		rt := &req.Topics[i]
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		t := b.lookup(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			var l *partlog.Log
			if t != nil {
				l = t.partition(rp.Partition)
			}
			err := checkLeaderEpoch(rp.CurrentLeaderEpoch)
			if l == nil {
				err = ErrUnknownTopic
			}
			if err != nil {
				sp.ErrorCode = errorCode(err, kerr.UnknownServerError)
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			offset, ts, found, err := listOffset(l, rp.Timestamp, req.Version)
			if err != nil {
				sp.ErrorCode = errorCode(err, kerr.UnknownServerError)
			} else if found {
				sp.Offset, sp.Timestamp, sp.LeaderEpoch = offset, ts, leaderEpoch
			}
			if req.Version == 0 {
				sp.OldStyleOffsets = []int64{}
				if found && rp.MaxNumOffsets > 0 {
					sp.OldStyleOffsets = []int64{offset}
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// listOffset resolves one ListOffsets timestamp; found is false when no
// record is that late (Kafka then answers offset and timestamp -1).
func listOffset(l *partlog.Log, ts int64, version int16) (offset, timestamp int64, found bool, err error) {
	switch ts {
	case listLatest:
		return l.HighWatermark(), -1, true, nil
	case listEarliest, listLocalStart:
		if ts == listLocalStart && version < 8 {
			break
		}
		return l.StartOffset(), -1, true, nil
	case listMaxTime:
		if version < 7 {
			break
		}
		mts, off, ok := l.MaxTimestamp()
		if !ok || off >= l.HighWatermark() {
			return 0, 0, false, nil
		}
		return off, mts, true, nil
	default:
		if ts < 0 {
			break
		}
		off, fts, ok := l.OffsetForTime(ts)
		if !ok || off >= l.HighWatermark() {
			return 0, 0, false, nil
		}
		return off, fts, true, nil
	}
	return 0, 0, false, errorf(ErrInvalidRequest, "unsupported ListOffsets timestamp %d at version %d", ts, version)
}
