//go:build !invariants

package connectors

const invariants = false
