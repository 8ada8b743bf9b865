package partlog

import "fmt"

// Invariant checks are written
//
//	if invariantsOn && violated {
//		failInvariant("...", args...)
//	}
//
// so that without the invariants build tag (make test sets it) the
// compiler drops them, arguments included: the hot path stays free of
// allocations. Use them for checks too costly or too paranoid for
// production: offsets monotonic on append, index ordering.
func failInvariant(format string, args ...any) {
	panic(fmt.Errorf("partlog: invariant violated: "+format, args...))
}
