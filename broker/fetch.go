package broker

import (
	"errors"
	"math"
	"reflect"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/partlog"
)

// leaderEpoch is the only leader epoch of every partition: a single node
// never changes leader.
const leaderEpoch = 0

// checkLeaderEpoch applies a request's CurrentLeaderEpoch (-1: no check). An
// epoch above ours is UNKNOWN_LEADER_EPOCH, as in Kafka; below ours cannot
// happen as ours is 0.
func checkLeaderEpoch(e int32) error {
	if e > leaderEpoch {
		return ErrUnknownLeaderEpoch
	}
	return nil
}

// handleFetch answers a Fetch, long-polling until MinBytes are available,
// MaxWaitMillis passes or a partition has an error. Sessions (KIP-227) are
// not kept: the answer's SessionID 0 tells clients to send full requests.
func (c *conn) handleFetch(req *kmsg.FetchRequest) *kmsg.FetchResponse {
	b := c.b
	if req.Version >= 7 && req.SessionID != 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp
	}
	deadline := time.Now().Add(time.Duration(max(req.MaxWaitMillis, 0)) * time.Millisecond)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		// Watch before reading: an advance after the read wakes us.
		watches := b.fetchWatches(req)
		resp, total, failed := b.readFetch(req)
		wait := time.Until(deadline)
		if total >= int(req.MinBytes) || failed || wait <= 0 || len(watches) == 0 {
			return resp
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		cases := make([]reflect.SelectCase, 0, len(watches)+2)
		cases = append(cases,
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)},
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.ctx.Done())})
		for _, w := range watches {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w)})
		}
		switch chosen, _, _ := reflect.Select(cases); chosen {
		case 0: // MaxWait passed: answer with what there is now
			resp, _, _ := b.readFetch(req)
			return resp
		case 1: // connection or broker closing
			return resp
		}
	}
}

// fetchWatches returns the Watch channels of every existing partition the
// request names.
func (b *Broker) fetchWatches(req *kmsg.FetchRequest) []<-chan struct{} {
	var ws []<-chan struct{}
	for i := range req.Topics {
		t := b.lookup(req.Topics[i].Topic)
		if t == nil {
			continue
		}
		for _, rp := range req.Topics[i].Partitions {
			if l := t.partition(rp.Partition); l != nil {
				ws = append(ws, l.Watch())
			}
		}
	}
	return ws
}

// readFetch reads every requested partition once. It returns the response,
// the record bytes in it, and whether a partition failed (which answers
// the fetch at once).
//
// Limits (KIP-74): each partition returns whole batches up to its
// PartitionMaxBytes and the response up to MaxBytes, except that the first
// batch of the first partition with data is returned whatever its size, so
// that consumers always progress.
func (b *Broker) readFetch(req *kmsg.FetchRequest) (*kmsg.FetchResponse, int, bool) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	remaining := int(req.MaxBytes)
	if remaining <= 0 {
		remaining = math.MaxInt32
	}
	total, failed := 0, false
	for i := range req.Topics {
		rt := &req.Topics[i]
		st := kmsg.NewFetchResponseTopic()
		st.Topic = rt.Topic
		t := b.lookup(rt.Topic)
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.RecordBatches = []byte{} // never null: librdkafka rejects it
			if req.IsolationLevel == 1 {
				sp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			}
			var l *partlog.Log
			if t != nil {
				l = t.partition(rp.Partition)
			}
			err := checkLeaderEpoch(rp.CurrentLeaderEpoch)
			if l == nil {
				err = ErrUnknownTopic
			}
			if err == nil {
				var data []byte
				data, err = readPartition(l, rp.FetchOffset, int(rp.PartitionMaxBytes), remaining, total == 0)
				if len(data) > 0 {
					sp.RecordBatches = data
					total += len(data)
					remaining -= len(data)
				}
				// After the read: the watermark covers the data.
				sp.HighWatermark = l.HighWatermark()
				sp.LastStableOffset = sp.HighWatermark
				sp.LogStartOffset = l.StartOffset()
			}
			if err != nil {
				failed = true
				sp.ErrorCode = errorCode(err, kerr.KafkaStorageError)
				sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
				if l != nil && errors.Is(err, partlog.ErrOffsetOutOfRange) {
					sp.HighWatermark = l.HighWatermark()
					sp.LastStableOffset = sp.HighWatermark
					sp.LogStartOffset = l.StartOffset()
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, total, failed
}

// readPartition reads from offset up to partMax bytes and, unless first,
// within remaining. An offset between the high watermark and the end of the
// log (appended, not yet synced) reads nothing rather than out of range.
func readPartition(l *partlog.Log, offset int64, partMax, remaining int, first bool) ([]byte, error) {
	if offset > l.HighWatermark() && offset <= l.EndOffset() {
		return nil, nil
	}
	if !first && remaining <= 0 {
		return nil, nil
	}
	limit := max(min(partMax, remaining), 1) // Read gives at least one batch

	data, err := l.Read(offset, limit, getReadBuf())
	if err != nil {
		putReadBuf(data)
		return nil, err
	}
	if !first && len(data) > remaining {
		// Read returns at least one batch; past the first partition
		// with data that must not break MaxBytes.
		putReadBuf(data)
		return nil, nil
	}
	if len(data) == 0 {
		putReadBuf(data)
		return nil, nil
	}
	return data, nil
}

// readBufs recycles the buffers partitions are read into: a consumer at
// full speed reads hundreds of MB/s, and fresh buffers would cost an
// allocation and a clear of every byte. Buffers return to the pool once
// the Fetch response holding them is encoded (releaseFetch).
var readBufs sync.Pool

// maxPooledReadBuf bounds what the pool keeps, so one huge fetch does not
// pin its buffer.
const maxPooledReadBuf = 8 << 20

func getReadBuf() []byte {
	if bp, ok := readBufs.Get().(*[]byte); ok {
		return (*bp)[:0]
	}
	return nil
}

func putReadBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledReadBuf {
		return
	}
	b = b[:0]
	readBufs.Put(&b)
}

// fetchSize is the bytes of record batches a Fetch response carries: the
// bulk of its encoded size.
func fetchSize(resp *kmsg.FetchResponse) int {
	n := 0
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			n += len(resp.Topics[i].Partitions[j].RecordBatches) + 64
		}
	}
	return n
}

// releaseFetch gives the read buffers of an encoded Fetch response back to
// the pool. The response must not be used afterwards.
func releaseFetch(resp *kmsg.FetchResponse) {
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			p := &resp.Topics[i].Partitions[j]
			putReadBuf(p.RecordBatches)
			p.RecordBatches = nil
		}
	}
}
