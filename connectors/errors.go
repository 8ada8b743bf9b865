package connectors

import (
	"errors"
)

// Sentinel errors. The control-flow sentinels (ErrRetriable,
// ErrEndOfInput) are part of the connector contract: the runtime tests
// for them with errors.Is, so wrap them with %w (or use Retriable).
var (
	// ErrRetriable marks a transient failure (Kafka's RetriableException).
	// The runtime retries the same operation after a backoff instead of
	// failing the task:
	//   - Source.Poll: the task is polled again; nothing was lost.
	//   - Sink.Put: the same batch is redelivered to Put (the task must
	//     tolerate seeing records again).
	//   - Sink.Flush: nothing is committed this round; the runtime calls
	//     Flush again at the next commit.
	//   - Source.Open/Sink.Open, Connector.Start: the task or connector is
	//     restarted after a backoff.
	// Any other error fails the task (status FAILED, the error as trace).
	ErrRetriable = errors.New("connectors: retriable error")

	// ErrEndOfInput is returned by Source.Poll when the source is finite
	// and exhausted. The runtime stops polling the task, commits the
	// offsets of everything already returned and closes the task. It is not
	// a failure.
	ErrEndOfInput = errors.New("connectors: end of input")

	// ErrData marks data that does not fit its schema, or that a converter
	// cannot (de)serialise (Kafka's DataException). Errors of type
	// *DataError match it. The runtime treats it as a per-record error,
	// subject to errors.tolerance.
	ErrData = errors.New("connectors: invalid data")

	// ErrSchema marks an invalid schema definition (Kafka's
	// SchemaBuilderException).
	ErrSchema = errors.New("connectors: invalid schema")

	// ErrInvalidConfig marks a configuration that failed parsing or
	// validation. *ConfigError and ConfigErrors match it.
	ErrInvalidConfig = errors.New("connectors: invalid configuration")
)

// Retriable wraps err so that errors.Is(err, ErrRetriable) holds while the
// message and the chain (errors.Is/As on err) are kept. Retriable(nil) is
// nil.
func Retriable(err error) error {
	if err == nil {
		return nil
	}
	return &retriableError{err: err}
}

type retriableError struct{ err error }

func (e *retriableError) Error() string        { return e.err.Error() }
func (e *retriableError) Unwrap() error        { return e.err }
func (e *retriableError) Is(target error) bool { return target == ErrRetriable }

// DataError reports a value that does not match its schema, or bytes that
// a converter cannot decode. It matches ErrData.
type DataError struct {
	// Path locates the problem inside the value: a dotted field path such
	// as "after.id", "[3]" for an array element, or "" for the whole value.
	Path string
	// Msg says what is wrong; Kafka's wording where there is one.
	Msg string
	// Err is the underlying cause, if any.
	Err error
}

// Error returns "path: msg", or msg when the path is empty.
func (e *DataError) Error() string {
	s := e.Msg
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *DataError) Unwrap() error { return e.Err }

// Is reports whether target is ErrData.
func (e *DataError) Is(target error) bool { return target == ErrData }
