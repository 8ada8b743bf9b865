package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/sluicedata/sluice/connectors"
)

// OffsetStore is an in-memory offsets topic: the latest offset per source
// partition, stored as JSON. It implements connectors.OffsetReader and is
// safe for concurrent use.
type OffsetStore struct {
	mu      sync.Mutex
	offsets map[string][]byte // JSON partition → JSON offset
}

// NewOffsetStore returns an empty store.
func NewOffsetStore() *OffsetStore { return &OffsetStore{offsets: map[string][]byte{}} }

// Store records the offsets of records, in order: for each partition the
// last one wins. Records without a partition are skipped. It fails if a
// partition or offset does not encode as JSON.
func (s *OffsetStore) Store(records []connectors.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range records {
		if r.SourcePartition == nil {
			continue
		}
		k, err := json.Marshal(r.SourcePartition)
		if err != nil {
			return fmt.Errorf("source partition %v: %w", r.SourcePartition, err)
		}
		v, err := json.Marshal(r.SourceOffset)
		if err != nil {
			return fmt.Errorf("source offset %v: %w", r.SourceOffset, err)
		}
		s.offsets[string(k)] = v
	}
	return nil
}

// Committed returns the stored offsets, decoded, as Commit receives them.
func (s *OffsetStore) Committed() []connectors.SourceOffset {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connectors.SourceOffset
	for k, v := range s.offsets {
		p, _ := decode([]byte(k))
		o, _ := decode(v)
		out = append(out, connectors.SourceOffset{Partition: p, Offset: o})
	}
	return out
}

// Offset implements connectors.OffsetReader.
func (s *OffsetStore) Offset(_ context.Context, partition map[string]any) (map[string]any, error) {
	k, err := json.Marshal(partition)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	v, ok := s.offsets[string(k)]
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return decode(v)
}

// decode reads a JSON object as the runtime's schemaless JSON does:
// integral numbers become int64, other numbers float64.
func decode(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				m[k] = i
			} else if f, err := n.Float64(); err == nil {
				m[k] = f
			}
		}
	}
	return m, nil
}
