package task

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/transforms"
)

// Sentinel errors.
var (
	// ErrToleranceExceeded is the error a task fails with when a record
	// fails a stage and errors.tolerance is none (Kafka's "Tolerance
	// exceeded in error handler"). A *RecordError in the chain says which
	// record and stage.
	ErrToleranceExceeded = errors.New("task: tolerance exceeded in error handler")

	// ErrAbandoned is returned by Stop when the task did not finish within
	// the deadline and was left behind.
	ErrAbandoned = errors.New("task: did not stop in time and was abandoned")

	// ErrDeadLetterQueue marks a failure to write to the dead letter queue;
	// the task fails with it, since the record would otherwise be lost.
	ErrDeadLetterQueue = errors.New("task: dead letter queue write failed")
)

// errStopped ends a loop quietly when Stop interrupted a retry.
var errStopped = errors.New("task: stopped")

// Stage is the step of a record's path in which an error happened, with
// Kafka Connect's names (org.apache.kafka.connect.runtime.errors.Stage).
type Stage int8

// Stages. The zero value means unknown.
const (
	StageKeyConverter Stage = iota + 1
	StageValueConverter
	StageHeaderConverter
	StageTransformation
	StageTaskPut
	StageTaskPoll
	StageKafkaProduce
	StageKafkaConsume
)

var stageNames = [...]string{"UNKNOWN", "KEY_CONVERTER", "VALUE_CONVERTER", "HEADER_CONVERTER",
	"TRANSFORMATION", "TASK_PUT", "TASK_POLL", "KAFKA_PRODUCE", "KAFKA_CONSUME"}

// String returns Kafka's name of the stage, e.g. "VALUE_CONVERTER".
func (s Stage) String() string {
	if int(s) < len(stageNames) && s >= 0 {
		return stageNames[s]
	}
	return "UNKNOWN"
}

// RecordError is a record that failed a stage of the pipeline. The task
// fails with it (wrapped in ErrToleranceExceeded) under
// errors.tolerance=none; its fields also fill the DLQ context headers.
type RecordError struct {
	Stage Stage
	// Class is the converter, transform or task that failed: its Kafka
	// class name when it has one, otherwise its Go type.
	Class string
	// Topic, Partition and Offset locate the record: where it was consumed
	// from (sink), or the target topic with Partition -1 unless the
	// record names one and Offset -1 (source).
	Topic     string
	Partition int32
	Offset    int64
	// Err is the cause.
	Err error
}

// Error names the stage, the class and the record, then the cause.
func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString("stage ")
	b.WriteString(e.Stage.String())
	if e.Class != "" {
		b.WriteString(" (")
		b.WriteString(e.Class)
		b.WriteString(")")
	}
	b.WriteString(" failed")
	if e.Topic != "" {
		b.WriteString(" on record topic=")
		b.WriteString(e.Topic)
		b.WriteString(" partition=")
		b.WriteString(strconv.Itoa(int(e.Partition)))
		b.WriteString(" offset=")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

// errorClass returns the Go type of the first error in err's chain that is
// not a mere wrapper (fmt.Errorf's %w, errors.Join), e.g.
// "*connectors.DataError": the DLQ's exception.class.name.
func errorClass(err error) string {
	for e := err; e != nil; {
		if !isWrapper(e) {
			return typeName(e)
		}
		next := errors.Unwrap(e)
		if next == nil {
			if m, ok := e.(interface{ Unwrap() []error }); ok && len(m.Unwrap()) > 0 {
				next = m.Unwrap()[0]
			}
		}
		if next == nil {
			return typeName(e)
		}
		e = next
	}
	return ""
}

func isWrapper(err error) bool {
	switch typeName(err) {
	case "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
		return true
	}
	return false
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "<nil>"
	}
	return t.String()
}

// errorTrace renders err's chain like a Java stack trace without frames:
// "Type: message" for err, then "Caused by: Type: message" for each cause
// whose message adds something. It is the DLQ's exception.stacktrace.
func errorTrace(err error) string {
	if err == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", typeName(err), err.Error())
	var walk func(e error, depth int)
	walk = func(e error, depth int) {
		if depth > 32 {
			return
		}
		var causes []error
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			if c := u.Unwrap(); c != nil {
				causes = []error{c}
			}
		case interface{ Unwrap() []error }:
			causes = u.Unwrap()
		}
		for _, c := range causes {
			if c == nil {
				continue
			}
			fmt.Fprintf(&b, "\nCaused by: %s: %s", typeName(c), c.Error())
			walk(c, depth+1)
		}
	}
	walk(err, 0)
	return b.String()
}

// transformClass names the transform that failed, from the chain's
// *transforms.StageError.
func transformClass(err error) string {
	var se *transforms.StageError
	if errors.As(err, &se) {
		return se.Class
	}
	return "transforms"
}
