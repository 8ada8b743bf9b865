package task

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/sluicedata/sluice/connectors"
)

// submitted tracks the source records handed to the producer, per source
// partition and in poll order, and says which source offsets may be
// stored: Kafka's SubmittedRecords. A record's offset is committable once
// it and every record submitted before it for the same source partition
// were acknowledged, so acknowledgements out of order (different Kafka
// partitions, retries) never let a stored offset skip an unacknowledged
// record.
//
// It is a pure data structure (no I/O, no goroutines), safe for concurrent
// use: submit runs on the poll goroutine, ack on the producer's promise
// goroutine, committable on the committer.
type submitted struct {
	mu      sync.Mutex
	parts   map[string]*partQueue
	unacked int
}

// partQueue is one source partition's records, oldest first.
type partQueue struct {
	key       string
	partition map[string]any
	entries   []subEntry // entries[i] has sequence base+i; entries[:head] are done
	head      int
	base      uint64
	// latest is the offset of the newest record popped as committable and
	// not yet returned by committable.
	latest map[string]any
	dirty  bool
}

type subEntry struct {
	offset map[string]any
	// hasOffset is false for records with a nil SourceOffset: they keep
	// their place in the order but do not change the stored offset.
	hasOffset bool
	acked     bool
}

// subHandle identifies one submitted record for ack. The zero handle is a
// record without a source partition, which is not tracked.
type subHandle struct {
	q   *partQueue
	seq uint64
}

func newSubmitted() *submitted { return &submitted{parts: map[string]*partQueue{}} }

// submit appends a record of the source partition identified by key (see
// partitionKeys) and returns its handle. A nil partition is not tracked.
func (s *submitted) submit(key string, partition, offset map[string]any) subHandle {
	if partition == nil {
		return subHandle{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.parts[key]
	if q == nil {
		q = &partQueue{key: key, partition: partition}
		s.parts[key] = q
	}
	seq := q.base + uint64(len(q.entries))
	q.entries = append(q.entries, subEntry{offset: offset, hasOffset: offset != nil})
	s.unacked++
	return subHandle{q: q, seq: seq}
}

// ack marks a submitted record acknowledged. Acking the zero handle, or a
// handle twice, does nothing.
func (s *submitted) ack(h subHandle) {
	if h.q == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := h.q
	if h.seq < q.base+uint64(q.head) {
		return // already popped
	}
	e := &q.entries[h.seq-q.base]
	if e.acked {
		return
	}
	e.acked = true
	s.unacked--
	// Pop the acknowledged prefix now, so memory is released as acks come.
	for q.head < len(q.entries) && q.entries[q.head].acked {
		if q.entries[q.head].hasOffset {
			q.latest, q.dirty = q.entries[q.head].offset, true
		}
		q.entries[q.head] = subEntry{}
		q.head++
	}
	if q.head == len(q.entries) {
		q.base += uint64(q.head)
		q.entries, q.head = q.entries[:0], 0
	} else if q.head >= 1024 && q.head > len(q.entries)/2 {
		n := copy(q.entries, q.entries[q.head:])
		clear(q.entries[n:])
		q.entries = q.entries[:n]
		q.base += uint64(q.head)
		q.head = 0
	}
}

// committable returns, for each source partition whose committable offset
// advanced since the last call, the newest offset whose record and all
// earlier records are acknowledged; sorted by partition key. Partitions
// with nothing in flight are forgotten.
func (s *submitted) committable() []keyedOffset {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k, q := range s.parts {
		if q.dirty {
			keys = append(keys, k)
		} else if len(q.entries) == q.head {
			delete(s.parts, k)
		}
	}
	sort.Strings(keys)
	out := make([]keyedOffset, 0, len(keys))
	for _, k := range keys {
		q := s.parts[k]
		out = append(out, keyedOffset{key: k, SourceOffset: connectors.SourceOffset{Partition: q.partition, Offset: q.latest}})
		q.latest, q.dirty = nil, false
		if len(q.entries) == q.head {
			delete(s.parts, k)
		}
	}
	return out
}

// keyedOffset is a committable offset with its partition key.
type keyedOffset struct {
	key string
	connectors.SourceOffset
}

// pending returns the number of submitted records not yet acknowledged.
func (s *submitted) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unacked
}

// partitionKeys computes the tracker key of a source partition: its JSON
// (keys sorted), so partitions compare by content. Sources usually return
// the same map for every record of a partition, so the key of the last map
// seen is cached by identity. Not safe for concurrent use; one per poll
// goroutine.
type partitionKeys struct {
	last    map[string]any // kept alive so its address cannot be reused
	lastKey string
}

func (p *partitionKeys) key(partition map[string]any) string {
	if partition == nil {
		return ""
	}
	if p.last != nil && reflect.ValueOf(p.last).UnsafePointer() == reflect.ValueOf(partition).UnsafePointer() {
		return p.lastKey
	}
	b, err := json.Marshal(partition)
	if err != nil {
		// Not JSON-compatible: the offset store will refuse it too; key it
		// by its Go rendering so tracking still works.
		b = []byte(fmt.Sprint(partition))
	}
	p.last, p.lastKey = partition, string(b)
	return p.lastKey
}
