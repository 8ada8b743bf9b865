package convert

import "math"

// Scanning helpers of the fast reader (jsondecode.go): they move over the
// input as jsonReader's parser would, without building nodes. Each
// reports failure instead of an error; the general reader explains it.

// skipObject returns the end of the JSON object at data[i:] without
// checking its syntax: only used to find text to look up among texts
// that were checked when cached (if data[i:end] is such a text, the
// object at i is exactly that text, wherever skipObject thought it ended).
func skipObject(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '{' {
		return 0, false
	}
	depth := 0
	for ; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}

// lit consumes w if the input continues with it.
func (r *jsonReader) lit(w string) bool {
	if len(r.data)-r.i >= len(w) && string(r.data[r.i:r.i+len(w)]) == w {
		r.i += len(w)
		return true
	}
	return false
}

// colon consumes optional space and a ':'.
func (r *jsonReader) colon() bool {
	r.skipSpace()
	return r.lit(":")
}

// scanNumber consumes a number as number() accepts it, without
// converting it, and reports whether it is integral (no fraction or
// exponent).
func (r *jsonReader) scanNumber() (text []byte, integral, ok bool) {
	start := r.i
	d := r.data
	if r.i < len(d) && d[r.i] == '-' {
		r.i++
	}
	digits := func() bool {
		s := r.i
		for r.i < len(d) && d[r.i] >= '0' && d[r.i] <= '9' {
			r.i++
		}
		return r.i > s
	}
	if !digits() {
		return nil, false, false
	}
	integral = true
	if r.i < len(d) && d[r.i] == '.' {
		r.i++
		integral = false
		if !digits() {
			return nil, false, false
		}
	}
	if r.i < len(d) && (d[r.i] == 'e' || d[r.i] == 'E') {
		r.i++
		integral = false
		if r.i < len(d) && (d[r.i] == '+' || d[r.i] == '-') {
			r.i++
		}
		if !digits() {
			return nil, false, false
		}
	}
	return d[start:r.i], integral, true
}

// parseIntText parses an integral number's text (leading zeros allowed,
// as strconv.ParseInt allows them) into a signed integer of the given
// bits; ok is false if it does not fit.
func parseIntText(b []byte, bits int) (int64, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var u uint64
	for _, ch := range b {
		if u > math.MaxUint64/10 {
			return 0, false
		}
		u = u*10 + uint64(ch-'0')
		if u > 1<<63 {
			return 0, false
		}
	}
	limit := uint64(1) << (bits - 1)
	if neg {
		if u > limit {
			return 0, false
		}
		return -int64(u), true
	}
	if u >= limit {
		return 0, false
	}
	return int64(u), true
}

// enterFast is enter for the fast reader: it consumes the opening '{' or
// '[' and fails past the general reader's depth limit.
func (r *jsonReader) enterFast() bool {
	r.i++
	r.depth++
	return r.depth <= maxJSONDepth
}

// next consumes the space and the ',' (more) or close (done) after a
// member or element.
func (r *jsonReader) next(close byte) (more, ok bool) {
	r.skipSpace()
	if r.i < len(r.data) {
		switch r.data[r.i] {
		case ',':
			r.i++
			return true, true
		case close:
			r.i++
			r.depth--
			return false, true
		}
	}
	return false, false
}

// empty consumes the space and close of an empty object or array.
func (r *jsonReader) empty(close byte) bool {
	r.skipSpace()
	if r.i < len(r.data) && r.data[r.i] == close {
		r.i++
		r.depth--
		return true
	}
	return false
}

// simpleKey reads a member name that is plain ASCII without escapes and
// returns its bytes (aliasing the input); ok is false for other names,
// which str must read.
func (r *jsonReader) simpleKey() ([]byte, bool) {
	d := r.data
	for j := r.i + 1; j < len(d); j++ {
		switch ch := d[j]; {
		case ch == '"':
			k := d[r.i+1 : j]
			r.i = j + 1
			return k, true
		case ch == '\\' || ch < 0x20 || ch >= 0x80:
			return nil, false
		}
	}
	return nil, false
}
