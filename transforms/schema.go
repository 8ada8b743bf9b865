package transforms

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sluicedata/sluice/connectors"
)

// copySchemaBasics starts a builder of type t carrying s's name, version,
// doc and parameters (Kafka's SchemaUtil.copySchemaBasics). Optionality,
// default, fields and element schemas are not copied.
func copySchemaBasics(s *connectors.Schema, b *connectors.SchemaBuilder) *connectors.SchemaBuilder {
	if n := s.Name(); n != "" {
		b.Name(n)
	}
	if v, ok := s.Version(); ok {
		b.Version(v)
	}
	if d := s.Doc(); d != "" {
		b.Doc(d)
	}
	for _, p := range s.Parameters() {
		b.Parameter(p.Key, p.Value)
	}
	return b
}

// copySchemaOfType starts a builder of s's own type (with the element
// schemas of an ARRAY or MAP) carrying s's basics; the one-argument form
// of Kafka's copySchemaBasics. STRUCT fields are copied too, so the copy
// of a struct schema stays usable.
func copySchemaOfType(s *connectors.Schema) *connectors.SchemaBuilder {
	var b *connectors.SchemaBuilder
	switch s.Type() {
	case connectors.TypeArray:
		b = connectors.ArraySchema(s.ValueSchema())
	case connectors.TypeMap:
		b = connectors.MapSchema(s.KeySchema(), s.ValueSchema())
	default:
		b = connectors.NewSchema(s.Type())
		for _, f := range s.Fields() {
			b.Field(f.Name(), f.Schema())
		}
	}
	return copySchemaBasics(s, b)
}

// cacheLimit bounds every derived-schema cache. Kafka's LRU caches hold
// 16 entries; a connector rarely sees more distinct schemas per transform.
// When a cache is full it is emptied, which costs one re-derivation per
// live schema.
const cacheLimit = 256

// cache maps a key (usually an input *Schema, compared by pointer) to a
// value derived from it, like Kafka's SynchronizedCache(LRUCache) but keyed
// by identity: a converter or connector that reuses its *Schema values
// hits the cache on every record. The last hit is kept in an atomic for a
// lock-free fast path, which is the common case of one schema per topic.
// It is safe for concurrent use.
type cache[K comparable, V any] struct {
	last atomic.Pointer[cacheEntry[K, V]]
	mu   sync.Mutex
	m    map[K]*cacheEntry[K, V]
}

type cacheEntry[K comparable, V any] struct {
	k K
	v V
}

// get returns the value cached for k.
func (c *cache[K, V]) get(k K) (V, bool) {
	if e := c.last.Load(); e != nil && e.k == k {
		return e.v, true
	}
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok {
		var zero V
		return zero, false
	}
	c.last.Store(e)
	return e.v, true
}

// put caches v for k.
func (c *cache[K, V]) put(k K, v V) {
	e := &cacheEntry[K, V]{k: k, v: v}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= cacheLimit {
		c.m = make(map[K]*cacheEntry[K, V])
	}
	c.m[k] = e
	c.mu.Unlock()
	c.last.Store(e)
}

// getOrMake returns the cached value for k, or makes, caches and returns
// it. A make error is returned and not cached.
func (c *cache[K, V]) getOrMake(k K, make func() (V, error)) (V, error) {
	if v, ok := c.get(k); ok {
		return v, nil
	}
	v, err := make()
	if err != nil {
		return v, err
	}
	c.put(k, v)
	return v, nil
}

// clear empties the cache (Close).
func (c *cache[K, V]) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
	c.last.Store(nil)
}

// buildSchema builds b, turning a schema error (e.g. a duplicate field
// name after a rename or insertion) into a per-record data error, as
// Kafka's SchemaBuilderException is a DataException.
func buildSchema(b *connectors.SchemaBuilder) (*connectors.Schema, error) {
	s, err := b.Build()
	if err != nil {
		return nil, &connectors.DataError{Msg: strings.TrimPrefix(err.Error(), connectors.ErrSchema.Error()+": ")}
	}
	return s, nil
}
