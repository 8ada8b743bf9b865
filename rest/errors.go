package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/sluicedata/sluice/runtime"
)

// Kinds of errors the REST layer itself produces, next to the runtime's
// kinds. Build them with restError so they carry Kafka's message.
var (
	errRouteNotFound        = errors.New("rest: no such route")
	errMethodNotAllowed     = errors.New("rest: method not allowed")
	errNotAcceptable        = errors.New("rest: not acceptable")
	errUnsupportedMediaType = errors.New("rest: unsupported media type")
	// errBadJSON is a request body that is not JSON or has the wrong shape:
	// Kafka answers 500 with the JSON parser's message (§1).
	errBadJSON = errors.New("rest: malformed request body")
	// errInternal is an unexpected failure (a panic) with a message.
	errInternal = errors.New("rest: internal error")
)

// Messages of Kafka's (Jersey's) framework errors.
const (
	msgNotFound         = "HTTP 404 Not Found"
	msgMethodNotAllowed = "HTTP 405 Method Not Allowed"
	msgNotAcceptable    = "HTTP 406 Not Acceptable"
	msgUnsupportedMedia = "HTTP 415 Unsupported Media Type"
	msgTimedOut         = "Request timed out"
	msgInterrupted      = "Request interrupted"
)

// errorClass is one row of the error table: a kind, the HTTP status Kafka
// Connect answers with, and a stable code for logs (Kafka's error body has
// no such field, so it is not sent).
type errorClass struct {
	kind   error
	status int
	code   string
}

// errorTable is the single place where error statuses are decided
// (STYLE §8; Kafka's ConnectExceptionMapper). The first row whose kind
// matches with errors.Is wins; anything else is 500 "internal".
var errorTable = []errorClass{
	{runtime.ErrNotFound, http.StatusNotFound, "connector.not_found"},
	{runtime.ErrAlreadyExists, http.StatusConflict, "connector.already_exists"},
	{runtime.ErrBadRequest, http.StatusBadRequest, "request.invalid"},
	{runtime.ErrConflict, http.StatusConflict, "cluster.conflict"},
	{runtime.ErrForbidden, http.StatusForbidden, "request.forbidden"},
	{runtime.ErrTimeout, http.StatusInternalServerError, "request.timeout"},
	{runtime.ErrUnavailable, http.StatusServiceUnavailable, "worker.unavailable"},
	{runtime.ErrServerError, http.StatusInternalServerError, "server.error"},
	{errRouteNotFound, http.StatusNotFound, "route.not_found"},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, "route.method_not_allowed"},
	{errNotAcceptable, http.StatusNotAcceptable, "request.not_acceptable"},
	{errUnsupportedMediaType, http.StatusUnsupportedMediaType, "request.unsupported_media_type"},
	{errBadJSON, http.StatusInternalServerError, "request.malformed_body"},
	{errInternal, http.StatusInternalServerError, "internal"},
	{context.DeadlineExceeded, http.StatusInternalServerError, "request.timeout"},
	{context.Canceled, http.StatusInternalServerError, "request.interrupted"},
}

var internalClass = errorClass{status: http.StatusInternalServerError, code: "internal"}

// classify returns err's row of the error table and the message to show.
func classify(err error) (errorClass, string) {
	class := internalClass
	for _, c := range errorTable {
		if errors.Is(err, c.kind) {
			class = c
			break
		}
	}
	var re *runtime.Error
	switch {
	case errors.As(err, &re):
		return class, re.Message
	case errors.Is(err, context.DeadlineExceeded):
		return class, msgTimedOut
	case errors.Is(err, context.Canceled):
		return class, msgInterrupted
	}
	return class, err.Error()
}

// panicError is the error for a recovered panic: a 500 with the panic's
// text, the stack kept as the cause for the log.
func panicError(p any) error {
	return &runtime.Error{Kind: errInternal, Message: fmt.Sprint(p), Err: fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
}

// restError returns an error of kind with Kafka's message.
func restError(kind error, msg string) error {
	return &runtime.Error{Kind: kind, Message: msg}
}

// errorBody is Kafka's error entity (§1): error_code always equals the
// HTTP status.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// writeError answers with err's status and Kafka's error body.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	class, msg := classify(err)
	if info := requestInfoFrom(r.Context()); info != nil {
		info.code = class.code
	}
	var re *runtime.Error
	isRuntime := errors.As(err, &re)
	if class.status >= 500 && (!isRuntime || re.Kind == errInternal) && !errors.Is(err, context.Canceled) {
		// An unexpected failure (a plain error, a panic): handled here, so
		// logged here (Kafka logs "Uncaught exception in REST call").
		// Other *runtime.Error messages are user-facing and may quote
		// configs, so they are not logged.
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("code", class.code), slog.Any("err", err),
		}
		if isRuntime && re.Err != nil {
			attrs = append(attrs, slog.Any("cause", re.Err))
		}
		s.log.LogAttrs(r.Context(), slog.LevelError, "rest: request failed", attrs...)
	}
	if class.kind == runtime.ErrConflict {
		w.Header().Set(headerConflict, "rebalance") // a forwarding worker may retry it
	}
	writeJSON(w, class.status, errorBody{ErrorCode: class.status, Message: msg})
}
