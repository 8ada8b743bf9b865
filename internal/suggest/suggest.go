// Package suggest finds the known name a mistyped one was meant to be, for
// "did you mean …?" in configuration errors.
package suggest

import "iter"

// Closest returns the name in known nearest to name by edit distance, if
// that distance is at most limit; ties go to the lexically smaller name.
// It returns "" when no name is close enough.
func Closest(name string, known iter.Seq[string], limit int) string {
	best, bestD := "", limit+1
	for k := range known {
		if d := Distance(name, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if bestD > limit {
		return ""
	}
	return best
}

// Distance is the Levenshtein distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
