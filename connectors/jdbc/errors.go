package jdbc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedata/sluice/connectors"
)

// Sentinel errors.
var (
	// ErrTableMissing: the destination table does not exist and
	// auto-creation is off.
	ErrTableMissing = errors.New("jdbc: table does not exist")
	// ErrColumnMissing: a field has no column and auto-evolution is off.
	ErrColumnMissing = errors.New("jdbc: column does not exist")
	// ErrNoUniqueKey: upsert needs a primary key or unique index on the
	// key columns and the table has none.
	ErrNoUniqueKey = errors.New("jdbc: no unique key for upsert")
	// ErrRetriesExhausted: a transient database error persisted through
	// max.retries attempts.
	ErrRetriesExhausted = errors.New("jdbc: retries exhausted")
)

// RecordError is a record the sink could not write: the table, the
// column when known, and where the record came from. It is what a task
// fails with when there is no dead letter queue, and what Errant
// receives. It matches connectors.ErrData.
type RecordError struct {
	Table     string // e.g. "public"."orders"
	Column    string // "" when the failure is not about one column
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

// Error names the table, the column and the record.
func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString("jdbc sink: cannot write record ")
	b.WriteString(e.Topic)
	b.WriteByte('-')
	b.WriteString(strconv.Itoa(int(e.Partition)))
	b.WriteString(" offset ")
	b.WriteString(strconv.FormatInt(e.Offset, 10))
	if e.Table != "" {
		b.WriteString(" to table ")
		b.WriteString(e.Table)
	}
	if e.Column != "" {
		b.WriteString(" column ")
		b.WriteString(strconv.Quote(e.Column))
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	var pe *pgconn.PgError
	if errors.As(e.Err, &pe) && pe.Detail != "" {
		b.WriteString(" (")
		b.WriteString(pe.Detail)
		b.WriteByte(')')
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

// Is reports whether target is connectors.ErrData.
func (e *RecordError) Is(target error) bool { return target == connectors.ErrData }

// flightError is the failure of a batch an earlier Put sent pipelined.
// Those records will not be delivered again before a restart, so the
// error is never retriable (the task must fail rather than commit past
// them) and is not retried again by the current batch.
type flightError struct{ err error }

func (e *flightError) Error() string { return e.err.Error() }

// Unwrap exposes the cause unless it is retriable.
func (e *flightError) Unwrap() error {
	if errors.Is(e.err, connectors.ErrRetriable) {
		return nil
	}
	return e.err
}

// columnError is a conversion failure of one column's value.
type columnError struct {
	column string
	err    error
}

func (e *columnError) Error() string { return e.err.Error() }
func (e *columnError) Unwrap() error { return e.err }

// pgCode returns the SQLSTATE of a server error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isDataError reports a server error caused by the data of some record:
// data exceptions (22), integrity violations (23), a datatype mismatch,
// a too-large row, or an error raised by a trigger. Such errors are
// isolated to their record.
func isDataError(err error) bool {
	code := pgCode(err)
	switch {
	case code == "":
		return false
	case strings.HasPrefix(code, "22"), strings.HasPrefix(code, "23"):
		return true
	}
	switch code {
	case "42804", "54000", "P0001":
		return true
	}
	return false
}

// isSchemaError reports that the table changed behind the sink's back
// (dropped, column dropped or renamed): metadata is reloaded and the
// batch retried.
func isSchemaError(err error) bool {
	var fe *flightError
	if errors.As(err, &fe) {
		return false
	}
	switch pgCode(err) {
	case "42P01", "42703", "0A000", "26000":
		return true
	}
	return false
}

// isTransient reports errors worth a reconnect and a retry: lost
// connections, server shutdown, serialization failures and deadlocks,
// resource exhaustion.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	var fe *flightError
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &fe) {
		return false
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	code := pgCode(err)
	if code != "" {
		switch {
		case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "58"):
			return true
		}
		switch code {
		case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "57014":
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	// pgx reports a broken connection with plain errors ("conn closed",
	// "conn busy", "unexpected EOF"…).
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "unexpected EOF")
}

// pgColumn extracts the column a server error is about: the error's own
// column field, or COPY's context "COPY stage, line N, column cK: …".
func pgColumn(err error, stageCols []string) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	if pe.ColumnName != "" {
		return pe.ColumnName
	}
	if i := strings.Index(pe.Where, ", column c"); i >= 0 {
		rest := pe.Where[i+len(", column c"):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(rest[:j]); err == nil && n < len(stageCols) {
			return stageCols[n]
		}
	}
	return ""
}

// openError turns a connection failure at Open into an error that says
// what to fix. Authentication and missing databases are configuration
// problems; anything else (refused, unreachable, timed out, shutting
// down) is retriable, so the runtime restarts the task with a backoff.
func openError(cfg *Config, err error) error {
	target := cfg.describeTarget()
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", "28000":
			return fmt.Errorf("jdbc sink: PostgreSQL at %s refused the credentials (check %s and %s): %w",
				target, userKey(cfg), KeyConnectionPassword, err)
		case "3D000":
			return fmt.Errorf("jdbc sink: the database in %s=%s does not exist: %w", KeyConnectionURL, redactURL(cfg.ConnectionURL), err)
		case "42501":
			return fmt.Errorf("jdbc sink: user may not connect to %s: %w", target, err)
		}
	}
	return connectors.Retriable(fmt.Errorf("jdbc sink: cannot connect to PostgreSQL at %s (%s): %w", target, KeyConnectionURL, err))
}

func userKey(cfg *Config) string {
	if cfg.Flavor == FlavorConfluent {
		return KeyConnectionUser
	}
	return KeyConnectionUsername
}
