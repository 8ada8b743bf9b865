//go:build invariants

package partlog

const invariantsOn = true
