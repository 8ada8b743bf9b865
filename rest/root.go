package rest

import (
	"context"
	"net/http"

	"github.com/sluicedata/sluice/runtime"
)

// GET / (§3.1).
func (s *server) serverInfo(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	info, err := await(ctx, func(context.Context) (runtime.ServerInfo, error) {
		return s.h.ServerInfo(), nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// Health statuses and the message of a worker that did not answer in time
// (§2.2).
const (
	healthHealthy   = "healthy"
	healthStarting  = "starting"
	healthUnhealthy = "unhealthy"
	msgUnhealthy    = "Worker was unable to handle this request and may be unable to handle other requests."
)

// GET /health (§3.2): 200 healthy, 503 starting, 500 unhealthy, with the
// WorkerStatus body in every case.
func (s *server) health(w http.ResponseWriter, r *http.Request) error {
	timeout := min(s.timeout, healthCheckTimeout)
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	h, err := await(ctx, func(ctx context.Context) (runtime.Health, error) {
		return s.h.Health(ctx), nil
	})
	if err != nil {
		if r.Context().Err() != nil {
			return err // the client went away
		}
		h = runtime.Health{Status: healthUnhealthy, Message: msgUnhealthy}
	}
	status := http.StatusInternalServerError
	switch h.Status {
	case healthHealthy:
		status = http.StatusOK
	case healthStarting:
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
	return nil
}
