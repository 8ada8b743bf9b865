package datagen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Offset and header keys, datagen's.
const (
	OffsetTaskGeneration   = "task.generation"
	OffsetCurrentIteration = "current.iteration"
	OffsetRandomSeed       = "random.seed"
	PartitionTaskID        = "task.id"
)

// Source is a datagen task. See the package doc for what it produces.
type Source struct {
	cfg        Config
	q          *quickstart
	keyIndex   int
	keySchema  *connectors.Schema
	seed       int64  // stored in offsets
	streamSeed uint64 // seed of this task's stream
	count      int64  // records produced so far (the next iteration)
	generation int64

	partition map[string]any
	seedBox   any // boxed once, shared by every offset map
	genBox    any
	taskBox   any
	genHdrBox any
	nfields   int
}

// Open reads the task config and the stored offset: iteration count,
// seed and generation.
func (s *Source) Open(ctx context.Context, sc connectors.SourceContext, config map[string]string) error {
	cfg, err := ParseConfig(config)
	if err != nil {
		return err
	}
	s.cfg = cfg
	s.q = quickstarts[cfg.Quickstart]
	key := cfg.KeyField
	if key == "" {
		key = s.q.key
	}
	s.keyIndex = s.q.keyIndex(key)
	s.keySchema = s.q.schema.Fields()[s.keyIndex].Schema()
	s.nfields = len(s.q.schema.Fields())

	if cfg.RandomSeed != nil {
		s.seed = *cfg.RandomSeed
	} else {
		s.seed = rand.Int64()
	}
	s.partition = map[string]any{PartitionTaskID: int64(cfg.TaskID)}
	if sc.Offsets != nil {
		off, err := sc.Offsets.Offset(ctx, s.partition)
		if err != nil {
			return fmt.Errorf("datagen: read offset of task %d: %w", cfg.TaskID, err)
		}
		if off != nil {
			if err := s.restore(off); err != nil {
				return fmt.Errorf("datagen: task %d: stored offset %v: %w", cfg.TaskID, off, err)
			}
		}
	}
	s.streamSeed = taskSeed(s.seed, cfg.TaskID)
	s.seedBox = s.seed
	s.genBox = s.generation + 1 // the next lifetime's generation, as datagen
	s.genHdrBox = s.generation
	s.taskBox = int64(cfg.TaskID)
	return nil
}

// restore applies a stored offset: the stored seed wins over random.seed,
// so a task continues its own stream.
func (s *Source) restore(off map[string]any) error {
	count, err := integer(off[OffsetCurrentIteration])
	if err != nil {
		return fmt.Errorf("%s: %w", OffsetCurrentIteration, err)
	}
	gen, err := integer(off[OffsetTaskGeneration])
	if err != nil {
		return fmt.Errorf("%s: %w", OffsetTaskGeneration, err)
	}
	if v, ok := off[OffsetRandomSeed]; ok && v != nil {
		seed, err := integer(v)
		if err != nil {
			return fmt.Errorf("%s: %w", OffsetRandomSeed, err)
		}
		s.seed = seed
	}
	s.count, s.generation = count, gen
	return nil
}

// integer reads an integral number of a stored offset (connectors.OffsetInt); nil is 0.
func integer(v any) (int64, error) {
	if v == nil {
		return 0, nil
	}
	// Seeds above 2^53 do not survive float64; such readers lose
	// determinism, not data.
	if n, ok := connectors.OffsetInt(v); ok {
		return n, nil
	}
	return 0, fmt.Errorf("not an integer: %v (%T)", v, v)
}

// Poll returns the next records: with max.interval=0, up to batch.size of
// them at once; otherwise one, after a random wait below max.interval.
// After iterations records it returns connectors.ErrEndOfInput.
func (s *Source) Poll(ctx context.Context) ([]connectors.Record, error) {
	n := s.cfg.BatchSize
	if s.cfg.Iterations > 0 {
		left := int64(s.cfg.Iterations) - s.count
		if left <= 0 {
			return nil, connectors.ErrEndOfInput
		}
		n = int(min(int64(n), left))
	}
	if s.cfg.MaxIntervalMs > 0 {
		n = 1
		wait := time.Duration(rand.Int64N(s.cfg.MaxIntervalMs*int64(time.Millisecond) + 1))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		}
	} else if ctx.Err() != nil {
		return nil, nil
	}
	return s.generate(n), nil
}

// generate returns the next n records. Allocation is amortised over the
// batch: records, headers and value slots come from shared backing arrays.
func (s *Source) generate(n int) []connectors.Record {
	recs := make([]connectors.Record, n)
	hdrs := make(connectors.Headers, 3*n)
	vals := make([]any, s.nfields)
	// Record i's offset holds iter+1, which is record i+1's
	// current.iteration header: one boxed number serves both.
	iterBox := any(s.count)
	for i := range recs {
		iter := s.count
		r := at(s.streamSeed, iter)
		s.q.generate(&r, iter, vals)
		st := connectors.NewStruct(s.q.schema)
		for j, f := range s.q.schema.Fields() {
			if err := st.PutField(f, vals[j]); err != nil {
				panic(fmt.Errorf("datagen: %s generated an invalid %s: %w", s.q.name, f.Name(), err))
			}
		}
		nextBox := any(iter + 1)
		h := hdrs[3*i : 3*i+3 : 3*i+3]
		h[0] = connectors.Header{Key: OffsetTaskGeneration, Schema: connectors.Int64Schema, Value: s.genHdrBox}
		h[1] = connectors.Header{Key: PartitionTaskID, Schema: connectors.Int64Schema, Value: s.taskBox}
		h[2] = connectors.Header{Key: OffsetCurrentIteration, Schema: connectors.Int64Schema, Value: iterBox}
		recs[i] = connectors.Record{
			Topic:           s.cfg.Topic,
			KeySchema:       s.keySchema,
			Key:             vals[s.keyIndex],
			ValueSchema:     s.q.schema,
			Value:           st,
			Headers:         h,
			SourcePartition: s.partition,
			SourceOffset: map[string]any{
				OffsetTaskGeneration:   s.genBox,
				OffsetCurrentIteration: nextBox,
				OffsetRandomSeed:       s.seedBox,
			},
		}
		s.count++
		iterBox = nextBox
	}
	return recs
}

// Commit does nothing: generated data needs no acknowledgement.
func (s *Source) Commit(context.Context, []connectors.SourceOffset) error { return nil }

// Close does nothing.
func (s *Source) Close(context.Context) error { return nil }
