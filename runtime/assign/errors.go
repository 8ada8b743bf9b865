package assign

import "errors"

// ErrMalformed is returned when member metadata or an assignment cannot be
// decoded: too short, a negative length, or an unsupported version.
var ErrMalformed = errors.New("assign: malformed connect protocol data")
