package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/runtime"
)

func TestErrorTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		status  int
		message string
	}{
		{"not found", runtime.Errorf(runtime.ErrNotFound, "Connector foo not found"), 404, "Connector foo not found"},
		{"already exists", runtime.Errorf(runtime.ErrAlreadyExists, "Connector foo already exists"), 409, "Connector foo already exists"},
		{"bad request", runtime.Errorf(runtime.ErrBadRequest, "bad"), 400, "bad"},
		{"conflict", runtime.Errorf(runtime.ErrConflict, "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."), 409,
			"Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."},
		{"forbidden", runtime.Errorf(runtime.ErrForbidden, "Topic tracking is disabled."), 403, "Topic tracking is disabled."},
		{"timeout", runtime.Errorf(runtime.ErrTimeout, "Request timed out. The worker is currently x"), 500, "Request timed out. The worker is currently x"},
		{"unavailable", runtime.Errorf(runtime.ErrUnavailable, "starting"), 503, "starting"},
		{"server error", runtime.Errorf(runtime.ErrServerError, "Failed to find any class that implements Connector and which name matches X"), 500,
			"Failed to find any class that implements Connector and which name matches X"},
		{"wrapped runtime error", fmt.Errorf("herder: %w", runtime.Errorf(runtime.ErrNotFound, "Connector x not found")), 404, "Connector x not found"},
		{"runtime error with a cause", &runtime.Error{Kind: runtime.ErrBadRequest, Message: "m", Err: context.DeadlineExceeded}, 400, "m"},
		{"runtime error without a kind", &runtime.Error{Message: "odd"}, 500, "odd"},
		{"plain error", errors.New("boom"), 500, "boom"},
		{"deadline", context.DeadlineExceeded, 500, "Request timed out"},
		{"wrapped deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), 500, "Request timed out"},
		{"canceled", context.Canceled, 500, "Request interrupted"},
		{"route", restError(errRouteNotFound, msgNotFound), 404, "HTTP 404 Not Found"},
		{"method", restError(errMethodNotAllowed, msgMethodNotAllowed), 405, "HTTP 405 Method Not Allowed"},
		{"accept", restError(errNotAcceptable, msgNotAcceptable), 406, "HTTP 406 Not Acceptable"},
		{"media", restError(errUnsupportedMediaType, msgUnsupportedMedia), 415, "HTTP 415 Unsupported Media Type"},
		{"json", restError(errBadJSON, "Unrecognized field"), 500, "Unrecognized field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, msg := classify(tt.err)
			if class.status != tt.status || msg != tt.message {
				t.Errorf("classify = %d %q, want %d %q", class.status, msg, tt.status, tt.message)
			}
			if class.code == "" {
				t.Error("no stable code")
			}
			rec := httptest.NewRecorder()
			s := &server{log: discardLogger()}
			s.writeError(rec, httptest.NewRequest("GET", "/", nil), tt.err)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			want := fmt.Sprintf(`{"error_code":%d,"message":%s}`, tt.status, quoteJSON(tt.message))
			if got := rec.Body.String(); got != want {
				t.Errorf("body %s, want %s", got, want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// Every kind the contract defines has its row, with the status the
// contract documents.
func TestErrorTableCoversContract(t *testing.T) {
	t.Parallel()
	want := map[error]int{
		runtime.ErrNotFound: 404, runtime.ErrAlreadyExists: 409, runtime.ErrBadRequest: 400,
		runtime.ErrConflict: 409, runtime.ErrForbidden: 403, runtime.ErrTimeout: 500,
		runtime.ErrUnavailable: 503, runtime.ErrServerError: 500,
	}
	for kind, status := range want {
		found := false
		for _, c := range errorTable {
			if c.kind == kind {
				found = true
				if c.status != status {
					t.Errorf("%v: status %d, want %d", kind, c.status, status)
				}
			}
		}
		if !found {
			t.Errorf("%v: no row", kind)
		}
	}
	codes := map[string]bool{}
	for _, c := range errorTable {
		if c.code == "" {
			t.Errorf("%v: empty code", c.kind)
		}
		codes[c.code] = true
	}
}

func TestAwaitTimesOut(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	release := make(chan struct{})
	defer close(release)
	_, err := await(ctx, func(context.Context) (int, error) {
		<-release // a herder that ignores its context
		return 1, nil
	})
	class, msg := classify(err)
	if class.status != http.StatusInternalServerError || msg != "Request timed out" {
		t.Fatalf("got %d %q", class.status, msg)
	}
}

func TestAwaitKeepsHerderTimeoutMessage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := await(ctx, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, runtime.Errorf(runtime.ErrTimeout, "Request timed out. The worker is currently stuck")
	})
	if _, msg := classify(err); msg != "Request timed out. The worker is currently stuck" {
		t.Fatalf("message %q", msg)
	}
	// A herder that returns the bare context error gets Kafka's message.
	_, err = await(ctx, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() })
	if class, msg := classify(err); class.status != 500 || msg != "Request timed out" {
		t.Fatalf("got %d %q", class.status, msg)
	}
}

func TestAwaitRecoversPanics(t *testing.T) {
	t.Parallel()
	_, err := await(context.Background(), func(context.Context) (int, error) { panic("herder bug") })
	if class, msg := classify(err); class.status != 500 || msg != "herder bug" {
		t.Fatalf("got %d %q", class.status, msg)
	}
}

// Unexpected failures are logged with their cause (for a panic, the
// stack); user-facing runtime errors are not logged (they may quote
// configs).
func TestUnexpectedErrorsAreLogged(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	s := &server{log: slog.New(slog.NewTextHandler(&buf, nil))}
	req := httptest.NewRequest("GET", "/connectors", nil)
	_, err := await(context.Background(), func(context.Context) (int, error) { panic("herder bug") })
	s.writeError(httptest.NewRecorder(), req, err)
	s.writeError(httptest.NewRecorder(), req, errors.New("plain failure"))
	s.writeError(httptest.NewRecorder(), req, runtime.Errorf(runtime.ErrBadRequest, "Connector config {password=hunter2} contains no connector type"))
	s.writeError(httptest.NewRecorder(), req, runtime.Errorf(runtime.ErrServerError, "Failed to find any class that implements Connector and which name matches X"))
	logs := buf.String()
	if !strings.Contains(logs, "herder bug") || !strings.Contains(logs, "goroutine") || !strings.Contains(logs, "plain failure") {
		t.Errorf("logs %s", logs)
	}
	if strings.Contains(logs, "hunter2") || strings.Contains(logs, "Failed to find") {
		t.Errorf("user-facing messages logged: %s", logs)
	}
}
