package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
)

// offsetStore is the offsets topic (Kafka's KafkaOffsetBackingStore):
// source offsets keyed by ["<connector>",{<source partition>}]. Reads see
// every write acknowledged before them (they read the topic to its end
// first); partitions compare by content, so a key written by a Java
// worker in a different member order still matches.
type offsetStore struct {
	log    *kafkaLog // nil until open
	logger *slog.Logger
	// observe records a commit's latency (offset commit metric); may be nil.
	observe func(connector string, d time.Duration)

	mu struct {
		sync.Mutex
		data map[string]map[string]offsetEntry // connector → canonical partition → entry
	}
}

type offsetEntry struct {
	partition map[string]any
	offset    map[string]any
}

func newOffsetStore(logger *slog.Logger) *offsetStore {
	s := &offsetStore{logger: logger}
	s.mu.data = map[string]map[string]offsetEntry{}
	return s
}

// apply is the offsets log's record callback.
func (s *offsetStore) apply(r *kgo.Record) {
	connector, partition, ok := decodeOffsetKey(r.Key)
	if !ok {
		s.logger.Warn("ignoring an offsets record whose key is not [connector, partition]", "key", string(r.Key))
		return
	}
	var offset map[string]any
	if r.Value != nil {
		m, err := decodeObject(r.Value)
		if err != nil {
			s.logger.Warn("ignoring an offsets record whose value is not a JSON object", "connector", connector, "err", err)
			return
		}
		offset = m
	}
	ck := canonicalPartition(partition)
	s.mu.Lock()
	defer s.mu.Unlock()
	if offset == nil {
		if m := s.mu.data[connector]; m != nil {
			delete(m, ck)
			if len(m) == 0 {
				delete(s.mu.data, connector)
			}
		}
		return
	}
	if s.mu.data[connector] == nil {
		s.mu.data[connector] = map[string]offsetEntry{}
	}
	s.mu.data[connector][ck] = offsetEntry{partition: partition, offset: offset}
}

// Offset returns the stored offset of a source partition, or nil.
func (s *offsetStore) Offset(ctx context.Context, connector string, partition map[string]any) (map[string]any, error) {
	if err := s.log.ReadToEnd(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.mu.data[connector][canonicalPartition(partition)]
	if !ok {
		return nil, nil
	}
	return e.offset, nil
}

// Store writes offsets (a nil Offset is a tombstone) and returns once the
// broker acknowledged them all.
func (s *offsetStore) Store(ctx context.Context, connector string, offsets []connectors.SourceOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	start := time.Now()
	recs := make([]*kgo.Record, 0, len(offsets))
	for _, o := range offsets {
		k, err := encodeOffsetKey(connector, o.Partition)
		if err != nil {
			return fmt.Errorf("encode source partition %v: %w", o.Partition, err)
		}
		v, err := encodeOffsetValue(o.Offset)
		if err != nil {
			return fmt.Errorf("encode source offset %v: %w", o.Offset, err)
		}
		recs = append(recs, &kgo.Record{Key: k, Value: v})
	}
	if err := s.log.SendAll(ctx, recs); err != nil {
		return err
	}
	if s.observe != nil {
		s.observe(connector, time.Since(start))
	}
	return nil
}

// list returns every stored offset of the connector, sorted by partition.
func (s *offsetStore) list(ctx context.Context, connector string) ([]connectors.SourceOffset, error) {
	if err := s.log.ReadToEnd(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.mu.data[connector]))
	for k := range s.mu.data[connector] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]connectors.SourceOffset, 0, len(keys))
	for _, k := range keys {
		e := s.mu.data[connector][k]
		out = append(out, connectors.SourceOffset{Partition: e.partition, Offset: e.offset})
	}
	return out, nil
}

// canonicalPartition renders a partition map so that equal contents give
// equal strings: sorted members, integers as integers, other numbers as
// float64.
func canonicalPartition(p map[string]any) string {
	b, err := json.Marshal(normalizeJSON(p))
	if err != nil {
		return fmt.Sprint(p)
	}
	return string(b)
}

func normalizeJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeJSON(e)
		}
		return out
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// connectorOffsetReader is a connector's view of the offsets store
// (connectors.OffsetReader).
type connectorOffsetReader struct {
	s    *offsetStore
	name string
}

func (r connectorOffsetReader) Offset(ctx context.Context, partition map[string]any) (map[string]any, error) {
	return r.s.Offset(ctx, r.name, partition)
}

var _ connectors.OffsetReader = connectorOffsetReader{}
