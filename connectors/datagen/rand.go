package datagen

// rng is SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose
// state is one counter, so record i's values are a function of the seed
// and i alone. Not for cryptography.
type rng struct{ s uint64 }

const golden = 0x9e3779b97f4a7c15

// at returns the generator for record i of the stream seeded with seed.
func at(seed uint64, i int64) rng { return rng{s: mix(seed ^ uint64(i)*golden)} }

func (r *rng) next() uint64 {
	r.s += golden
	return mix(r.s)
}

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); the modulo bias is irrelevant here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int64) int64 { return lo + int64(r.next()%uint64(hi-lo+1)) }

// float returns a number in [lo, hi).
func (r *rng) float(lo, hi float64) float64 {
	return lo + float64(r.next()>>11)*(1.0/(1<<53))*(hi-lo)
}

// taskSeed derives task's seed from the connector's, so tasks of one
// connector produce different data.
func taskSeed(seed int64, task int) uint64 {
	return mix(uint64(seed) + uint64(task+1)*golden)
}
