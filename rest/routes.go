package rest

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/sluicedata/sluice/runtime"
)

// routes builds the router: Kafka Connect's public endpoints (§3), GET
// /metrics, and Jersey's answers for unknown routes, wrong methods and
// OPTIONS.
func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.logRequests, s.addHeaders)
	if s.cors != nil {
		r.Use(s.cors.middleware)
	}
	r.Use(routePath, middleware.GetHead)
	r.NotFound(s.handle(routeNotFound))
	r.MethodNotAllowed(s.methodNotAllowed(r))

	if s.metrics != nil {
		r.Method(http.MethodGet, "/metrics", s.metrics)
	}

	r.Group(func(r chi.Router) {
		r.Use(s.kafkaMedia)

		r.Get("/", s.handle(s.serverInfo))
		r.Get("/health", s.handle(s.health))

		// Writes go to the leader and restarts to the owner
		// (clustered: forwarded, retried through rebalances; §4).
		fwd := func(f handlerFunc) http.HandlerFunc { return s.handle(s.clustered(f)) }
		r.Get("/connectors", s.handle(s.listConnectors))
		r.Post("/connectors", fwd(s.createConnector))
		// Flat routes, not a sub-router: a mounted sub-router would run the
		// media checks before its 404 (Jersey: 404, then 405, then 415/406).
		const c = "/connectors/{connector}"
		r.Get(c, s.handle(s.getConnector))
		r.Delete(c, fwd(s.deleteConnector))
		r.Get(c+"/config", s.handle(s.getConnectorConfig))
		r.Put(c+"/config", fwd(s.putConnectorConfig))
		r.Patch(c+"/config", fwd(s.patchConnectorConfig))
		r.Get(c+"/status", s.handle(s.getConnectorStatus))
		r.Get(c+"/tasks", s.handle(s.getTaskConfigs))
		r.Get(c+"/tasks-config", s.handle(s.getTasksConfig))
		r.Get(c+"/tasks/{task:[-+]?[0-9]+}/status", s.handle(s.getTaskStatus))
		r.Post(c+"/tasks/{task:[-+]?[0-9]+}/restart", fwd(s.restartTask))
		r.Post(c+"/restart", fwd(s.restartConnector))
		r.Put(c+"/pause", s.handle(s.pauseConnector))
		r.Put(c+"/resume", s.handle(s.resumeConnector))
		r.Put(c+"/stop", fwd(s.stopConnector))
		r.Get(c+"/topics", s.handle(s.getActiveTopics))
		r.Put(c+"/topics/reset", s.handle(s.resetActiveTopics))
		r.Get(c+"/offsets", s.handle(s.getOffsets))
		r.Patch(c+"/offsets", fwd(s.alterOffsets))
		r.Delete(c+"/offsets", fwd(s.resetOffsets))

		// Inter-worker endpoints (§3.30): task configs from the worker
		// running a connector to the leader. Zombie fencing (/fence) is
		// for exactly-once sources, which Sluice does not offer.
		r.Post(c+"/tasks", fwd(s.putTaskConfigs))
		r.Put(c+"/fence", s.handle(routeNotFound))

		r.Get("/connector-plugins", s.handle(s.listPlugins))
		r.Get("/connector-plugins/{plugin}/config", s.handle(s.pluginConfig))
		r.Put("/connector-plugins/{plugin}/config/validate", s.handle(s.validateConfig))

		if s.admin {
			r.Get("/admin/loggers", s.handle(s.listLoggers))
			r.Get("/admin/loggers/{logger}", s.handle(s.getLogger))
			r.Put("/admin/loggers/{logger}", s.handle(s.setLoggerLevel))
		}
	})
	return r
}

// routeNotFound is Jersey's 404 for a path no resource serves.
func routeNotFound(http.ResponseWriter, *http.Request) error {
	return restError(errRouteNotFound, msgNotFound)
}

// routeMethods are the methods tried to build an Allow header.
var routeMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
}

// methodNotAllowed answers a known path with the wrong method: 405 with an
// Allow header, or for OPTIONS Jersey's automatic 204 with Allow. A method
// chi does not know on an unknown path is a 404.
func (s *server) methodNotAllowed(mux *chi.Mux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := escapedRoutePath(r)
		var allowed []string
		for _, m := range routeMethods {
			if mux.Match(chi.NewRouteContext(), m, path) {
				allowed = append(allowed, m)
				if m == http.MethodGet {
					allowed = append(allowed, http.MethodHead)
				}
			}
		}
		if len(allowed) == 0 {
			s.writeError(w, r, restError(errRouteNotFound, msgNotFound))
			return
		}
		allowed = append(allowed, http.MethodOptions)
		w.Header().Set("Allow", strings.Join(allowed, ","))
		if r.Method == http.MethodOptions {
			writeEmpty(w, http.StatusNoContent)
			return
		}
		s.writeError(w, r, restError(errMethodNotAllowed, msgMethodNotAllowed))
	}
}

// pathParam returns a URL-decoded path parameter. Routing runs on the
// escaped path (see routePath), so parameters arrive escaped.
func pathParam(r *http.Request, key string) string {
	v := chi.URLParam(r, key)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// taskID returns the {connector}/{task} of a task route. A task that is
// not a Java int does not match the route (Jersey: 404).
func taskID(r *http.Request) (runtime.TaskID, error) {
	t, err := strconv.ParseInt(chi.URLParam(r, "task"), 10, 64)
	if err != nil || t < math.MinInt32 || t > math.MaxInt32 {
		return runtime.TaskID{}, restError(errRouteNotFound, msgNotFound)
	}
	return runtime.TaskID{Connector: pathParam(r, "connector"), Task: int(t)}, nil
}

// queryBool reads a boolean query parameter like Java's Boolean.valueOf:
// only "true", in any case, is true. An absent (or empty) parameter is def.
func queryBool(r *http.Request, key string, def bool) bool {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def
	}
	return strings.EqualFold(v, "true")
}
