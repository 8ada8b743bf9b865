package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sluicedata/sluice/runtime"
)

// Forwarding (connect-rest.md §4). In a cluster, config writes are served
// by the leader and restarts by the owner of the connector or task; the
// Herder answers a *runtime.RedirectError on any other worker, and the
// endpoints wrapped by clustered re-issue the request to the worker it
// names: same method, path, query and body, with ?forward= counting the
// hops (an original request may be forwarded twice: non-owner → leader →
// owner), copying only the Authorization header. The target's answer is
// passed through (status, body, Location).
//
// During a rebalance a request does not fail at once: while the cluster
// is between generations, or the worker it was forwarded to answered a
// rebalance 409 or could not be reached (a leader that just died), it is
// tried again, for up to Options.RebalanceRetry, before the last answer
// is given. Clients rarely see the 409s Kafka Connect hands out.

// DefaultRebalanceRetry is Options.RebalanceRetry's default.
const DefaultRebalanceRetry = 5 * time.Second

// headerConflict marks a 409 that a rebalance caused (so a forwarding
// worker may retry it), as opposed to "already exists".
const headerConflict = "X-Sluice-Conflict"

// Kafka's forwarding messages.
const (
	msgConflict     = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
	msgForwardIOErr = "IO Error trying to forward REST request: "
)

// retryable is an error worth retrying within the rebalance budget.
type retryable struct{ err error }

func (e retryable) Error() string { return e.err.Error() }
func (e retryable) Unwrap() error { return e.err }

// forwardParam is the ?forward= of a request: nil when absent.
func forwardParam(r *http.Request) *bool {
	v, ok := r.URL.Query()["forward"]
	if !ok || len(v) == 0 {
		return nil
	}
	b := strings.EqualFold(v[0], "true")
	return &b
}

// clustered wraps a handler whose Herder call may redirect to another
// worker.
func (s *server) clustered(next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body []byte
		if r.Body != nil {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
			if err != nil {
				return restError(errBadJSON, "Failed to read the request body: "+err.Error())
			}
			body = b
		}
		deadline := time.Now().Add(s.rebalanceRetry)
		backoff := 25 * time.Millisecond
		for {
			r.Body = io.NopCloser(bytes.NewReader(body))
			err := next(w, r)
			var rd *runtime.RedirectError
			if errors.As(err, &rd) {
				err = s.forward(w, r, body, rd.URL)
			}
			if err == nil || !s.retry(err) || !time.Now().Before(deadline) || r.Context().Err() != nil {
				var fe *forwardedError
				if errors.As(err, &fe) {
					writeForwarded(w, fe.status, fe.header, fe.body)
					return nil
				}
				var rt retryable
				if errors.As(err, &rt) {
					return rt.err
				}
				return err
			}
			select {
			case <-time.After(min(backoff, time.Until(deadline))):
			case <-r.Context().Done():
				return ctxError(r.Context())
			}
			backoff = min(2*backoff, 500*time.Millisecond)
		}
	}
}

// retry reports whether err is a rebalance-time failure.
func (s *server) retry(err error) bool {
	var rt retryable
	if errors.As(err, &rt) {
		return true
	}
	var rd *runtime.RedirectError
	return errors.Is(err, runtime.ErrConflict) && !errors.As(err, &rd)
}

// forward re-issues the request to target and passes its answer on.
func (s *server) forward(w http.ResponseWriter, r *http.Request, body []byte, target string) error {
	fwd := forwardParam(r)
	if fwd != nil && !*fwd {
		// Already forwarded twice: the cluster is moving under us.
		return retryable{runtime.Errorf(runtime.ErrConflict, "%s", msgConflict)}
	}
	if target == "" {
		return retryable{runtime.Errorf(runtime.ErrConflict, "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.")}
	}
	q := r.URL.Query()
	q.Set("forward", fmt.Sprint(fwd == nil)) // an original request may be forwarded once more
	u := strings.TrimRight(target, "/") + r.URL.EscapedPath() + "?" + q.Encode()
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, u, bytes.NewReader(body))
	if err != nil {
		return restError(errInternal, msgForwardIOErr+err.Error())
	}
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	req.Header.Set("User-Agent", "kafka-connect")
	req.Header.Set("Accept", "application/json")
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if isInternal(r) {
		for k, v := range s.h.SignInternalRequest(body) {
			req.Header.Set(k, v)
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// The target may have just left (a leader that died): a new
		// one is elected within the retry budget.
		return retryable{restError(errInternal, msgForwardIOErr+err.Error())}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return retryable{restError(errInternal, msgForwardIOErr+err.Error())}
	}
	if resp.StatusCode == http.StatusConflict && resp.Header.Get(headerConflict) != "" {
		return retryable{&forwardedError{status: resp.StatusCode, header: resp.Header, body: rb}}
	}
	writeForwarded(w, resp.StatusCode, resp.Header, rb)
	return nil
}

// isInternal reports whether r is an internal (worker-to-worker) request.
func isInternal(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/tasks")
}

// writeForwarded passes a target's answer on.
func writeForwarded(w http.ResponseWriter, status int, h http.Header, body []byte) {
	for _, k := range []string{"Content-Type", "Location", headerConflict} {
		if v := h.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(status)
	w.Write(body)
}

// forwardedError is a target's rebalance 409, given as it was when the
// retry budget is spent.
type forwardedError struct {
	status int
	header http.Header
	body   []byte
}

func (e *forwardedError) Error() string { return string(e.body) }

// Is makes a forwarded 409 count as a conflict.
func (e *forwardedError) Is(target error) bool { return target == runtime.ErrConflict }

// newForwardClient is the HTTP client used to forward requests.
func newForwardClient() *http.Client {
	return &http.Client{
		// Redirects are not followed: a worker answers, it never redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
	}
}
