package rest

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/runtime"
)

// GET /admin/loggers (§3.27).
func (s *server) listLoggers(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	loggers, err := await(ctx, func(context.Context) (map[string]runtime.LoggerLevel, error) {
		return s.h.Loggers(), nil
	})
	if err != nil {
		return err
	}
	if loggers == nil {
		loggers = map[string]runtime.LoggerLevel{}
	}
	writeJSON(w, http.StatusOK, loggers)
	return nil
}

// GET /admin/loggers/{logger} (§3.28).
func (s *server) getLogger(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "logger")
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	level, err := await(ctx, func(context.Context) (runtime.LoggerLevel, error) {
		return s.h.Logger(name)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, level)
	return nil
}

// logLevels are log4j's level names, which Kafka accepts in any case.
var logLevels = []string{"OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL"}

// PUT /admin/loggers/{logger}?scope=worker|cluster (§3.29): body
// {"level": …}. Worker scope (the default, also for unknown scopes)
// answers 200 with the affected loggers; cluster scope 204.
func (s *server) setLoggerLevel(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "logger")
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	body, err := decodeStringMap(raw)
	if err != nil {
		return err
	}
	level := body["level"]
	if level == nil {
		return runtime.Errorf(runtime.ErrBadRequest, "Desired 'level' parameter was not specified in request.")
	}
	if !slices.Contains(logLevels, strings.ToUpper(*level)) {
		return runtime.Errorf(runtime.ErrNotFound, "invalid log level '%s'.", *level)
	}
	scope := "worker"
	if v, ok := r.URL.Query()["scope"]; ok && len(v) > 0 && strings.EqualFold(v[0], "cluster") {
		scope = "cluster"
	} else if ok && len(v) > 0 && !strings.EqualFold(v[0], "worker") {
		s.log.Warn("Received invalid scope in request to adjust logging level; will default to worker", "scope", v[0])
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	affected, err := await(ctx, func(ctx context.Context) ([]string, error) {
		return s.h.SetLoggerLevel(ctx, name, *level, scope)
	})
	if err != nil {
		return err
	}
	if scope == "cluster" {
		writeEmpty(w, http.StatusNoContent)
		return nil
	}
	if affected == nil {
		affected = []string{}
	}
	writeJSON(w, http.StatusOK, affected)
	return nil
}
