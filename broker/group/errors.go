package group

import "errors"

var (
	// ErrInvalidConfig is wrapped by every problem Config.Validate reports.
	ErrInvalidConfig = errors.New("group: invalid config")

	// ErrInvalidRecord is wrapped by Load when a __consumer_offsets key or
	// value does not decode. The record was not applied.
	ErrInvalidRecord = errors.New("group: invalid __consumer_offsets record")

	// ErrClosed is returned by Load after Close.
	ErrClosed = errors.New("group: coordinator closed")
)
