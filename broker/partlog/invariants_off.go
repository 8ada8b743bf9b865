//go:build !invariants

package partlog

const invariantsOn = false
