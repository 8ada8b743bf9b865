package convert

import "sync/atomic"

// Values reused across records by the fast reader, so that what repeats
// record after record is not allocated again.

// intern returns b as a string, shared with earlier calls for the same
// bytes where possible: map keys repeat record after record. The table is
// a direct-mapped cache of immutable strings, safe for concurrent use.
func (c *JSONConverter) intern(b []byte) string {
	h := uint32(2166136261) // FNV-1a
	for _, ch := range b {
		h = (h ^ uint32(ch)) * 16777619
	}
	slot := &c.keys[h%uint32(len(c.keys))]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

// strCache remembers, for one string field, values it had lately, boxed,
// so that a value repeated record after record (Debezium's source block,
// enum-like fields) is neither copied nor boxed again: a hit allocates
// nothing. Storing a value costs allocations, and looking it up time, so
// the cache works only while it pays: the values whose hash falls in a
// fixed sixteenth of the hash space are the sample; while fewer than half
// of the sampled lookups hit, only sampled values are looked up and
// stored (which keeps the statistics current). Safe for concurrent use:
// slots hold immutable entries, and the statistics are atomics.
type strCache struct {
	slots [strCacheSlots]atomic.Pointer[strEntry]
	_     [64]byte // the statistics change, the slots seldom
	// sampled counts sampled lookups, hits those that hit; both are
	// halved when sampled reaches strCacheWindow.
	sampled, hits atomic.Uint32
}

const (
	strCacheSlots  = 16
	strCacheMaxLen = 64 // longer values are not cached
	strCacheWindow = 256
	strCacheMinObs = 16 // sampled lookups needed to judge the cache
)

type strEntry struct {
	s string
	v any // s, boxed
}

// inSample reports whether values of hash h are in the sample.
func inSample(h uint32) bool { return h>>28 == 0 }

// pays reports whether the cache is worth using for every value.
func (c *strCache) pays() bool {
	sampled := c.sampled.Load()
	return sampled < strCacheMinObs || c.hits.Load()*2 >= sampled
}

// get returns the cached boxed value of raw (of hash h), if any.
func (c *strCache) get(raw []byte, h uint32) (any, bool) {
	sampled := inSample(h)
	if len(raw) > strCacheMaxLen || !sampled && !c.pays() {
		return nil, false
	}
	e := c.slots[h%strCacheSlots].Load()
	hit := e != nil && e.s == string(raw)
	if sampled {
		if c.sampled.Add(1) >= strCacheWindow {
			c.sampled.Store(strCacheWindow / 2)
			c.hits.Store(c.hits.Load() / 2)
		}
		if hit {
			c.hits.Add(1)
		}
	}
	if hit {
		return e.v, true
	}
	return nil, false
}

// add returns s (the string of raw, of hash h, which get did not find)
// boxed, and stores it if the cache pays or raw is in the sample.
func (c *strCache) add(raw []byte, h uint32, s string) any {
	if len(raw) > strCacheMaxLen || !inSample(h) && !c.pays() {
		return s
	}
	// A copy, so that the cache does not keep the record's arena.
	e := &strEntry{s: string(raw)}
	e.v = e.s
	c.slots[h%strCacheSlots].Store(e)
	return e.v
}
