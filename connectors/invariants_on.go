//go:build invariants

package connectors

// invariants turns on checks of what callers promise (NewStructUnchecked's
// values match the schema); `make test` builds with the invariants tag.
const invariants = true
