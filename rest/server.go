package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sluicedata/sluice/runtime"
)

// DefaultRequestTimeout is how long a request waits for the herder: Kafka
// Connect's 90 s (ConnectResource.DEFAULT_REST_REQUEST_TIMEOUT_MS).
const DefaultRequestTimeout = 90 * time.Second

// healthCheckTimeout is GET /health's budget (§3.2).
const healthCheckTimeout = 10 * time.Second

// Options configures the REST handler. The zero value serves Kafka's
// defaults: no CORS, no extra headers, no admin endpoints, 90 s timeout.
type Options struct {
	// Logger gets one Debug record per request and Error records for
	// unexpected failures. Nil discards.
	Logger *slog.Logger
	// Metrics, when non-nil, is served at GET /metrics (Prometheus).
	Metrics http.Handler
	// AllowOrigin and AllowMethods are access.control.allow.origin and
	// access.control.allow.methods: CORS is on when AllowOrigin is not
	// blank; AllowMethods defaults to "GET,POST,HEAD", as Jetty's
	// CrossOriginFilter does.
	AllowOrigin, AllowMethods string
	// ResponseHeaders are the rules of response.http.headers.config
	// ("set X-Frame-Options: DENY"), see ParseResponseHeaders. Invalid rules
	// are logged and ignored.
	ResponseHeaders []string
	// AdminEnabled serves /admin/loggers (admin.listeners is not "").
	AdminEnabled bool
	// RequestTimeout bounds each call into the herder; 0 means
	// DefaultRequestTimeout. GET /health uses the smaller of this and 10 s.
	RequestTimeout time.Duration
	// RebalanceRetry is how long a request that must be served by another
	// worker (the leader, a connector's owner) keeps being retried while
	// the cluster rebalances, before its 409 (or the forwarding error) is
	// answered; 0 means DefaultRebalanceRetry.
	RebalanceRetry time.Duration
}

// server holds what the handlers share.
type server struct {
	h       *runtime.Herder
	log     *slog.Logger
	timeout time.Duration
	metrics http.Handler
	admin   bool
	cors    *cors
	headers []headerRule

	rebalanceRetry time.Duration
	client         *http.Client // forwards requests to other workers
}

// New returns the REST API of Kafka Connect 3.9 over h.
func New(h *runtime.Herder, opts Options) http.Handler {
	s := &server{
		h:       h,
		log:     opts.Logger,
		timeout: opts.RequestTimeout,
		metrics: opts.Metrics,
		admin:   opts.AdminEnabled,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With(slog.String("component", "rest"))
	if s.timeout <= 0 {
		s.timeout = DefaultRequestTimeout
	}
	s.rebalanceRetry = opts.RebalanceRetry
	if s.rebalanceRetry <= 0 {
		s.rebalanceRetry = DefaultRebalanceRetry
	}
	s.client = newForwardClient()
	for _, rule := range opts.ResponseHeaders {
		hr, err := parseHeaderRule(rule)
		if err != nil {
			s.log.Warn("rest: ignoring response header rule", slog.Any("err", err))
			continue
		}
		s.headers = append(s.headers, hr)
	}
	if strings.TrimSpace(opts.AllowOrigin) != "" {
		s.cors = newCORS(opts.AllowOrigin, opts.AllowMethods)
	}
	return s.routes()
}

// handlerFunc is a handler that returns its error; errors are answered by
// writeError through the error table, never by the handler.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *server) handle(f handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// requestCtx gives a request the herder budget.
func (s *server) requestCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.timeout)
}

// await runs f and waits for it until ctx is done, so that a herder that
// hangs cannot hold a request past its budget (the goroutine is left to
// finish on its own). A deadline becomes Kafka's 500 "Request timed out".
func await[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: panicError(p)}
			}
		}()
		v, err := f(ctx)
		done <- result{v, err}
	}()
	var zero T
	select {
	case res := <-done:
		if res.err != nil && ctx.Err() != nil && !isRuntimeError(res.err) {
			return zero, ctxError(ctx)
		}
		return res.v, res.err
	case <-ctx.Done():
		// A herder that honours ctx answers at about the same moment, maybe
		// with a better message ("Request timed out. The worker is
		// currently …"): give it a moment.
		grace := time.NewTimer(timeoutGrace)
		defer grace.Stop()
		select {
		case res := <-done:
			if res.err == nil || isRuntimeError(res.err) {
				return res.v, res.err
			}
		case <-grace.C:
		}
		return zero, ctxError(ctx)
	}
}

// timeoutGrace is how long await waits, past the deadline, for the
// herder's own answer.
const timeoutGrace = 100 * time.Millisecond

func isRuntimeError(err error) bool {
	var re *runtime.Error
	return errors.As(err, &re)
}

// ctxError is the error for a request whose context is done.
func ctxError(ctx context.Context) error {
	if ctx.Err() == context.DeadlineExceeded {
		return &runtime.Error{Kind: runtime.ErrTimeout, Message: msgTimedOut, Err: ctx.Err()}
	}
	return &runtime.Error{Kind: context.Canceled, Message: msgInterrupted, Err: ctx.Err()}
}

// writeJSON writes v as Kafka does: compact, HTML characters unescaped,
// Content-Type application/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		enc.Encode(errorBody{ErrorCode: status, Message: "Failed to encode the response: " + err.Error()})
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// writeEmpty answers status with no body (202, 204).
func writeEmpty(w http.ResponseWriter, status int) {
	w.WriteHeader(status)
}

// --- middleware ---

// requestInfo is filled in while a request is served and logged at its end.
type requestInfo struct {
	code string // error table code, if the answer was an error
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// statusWriter records the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs each request at Debug (method, path, status, duration)
// and turns a panic into a 500. It never logs bodies or query values.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				err := panicError(p)
				if sw.status == 0 {
					s.writeError(sw, r, err) // logs it
				} else {
					s.log.LogAttrs(r.Context(), slog.LevelError, "rest: handler panicked after answering",
						slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("cause", err.(*runtime.Error).Err))
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", time.Since(start)),
			}
			if info.code != "" {
				attrs = append(attrs, slog.String("code", info.code))
			}
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "rest: request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// addHeaders applies response.http.headers.config before the handler runs,
// as Jetty's HeaderFilter does.
func (s *server) addHeaders(next http.Handler) http.Handler {
	if len(s.headers) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		for _, h := range s.headers {
			h.apply(w.Header(), now)
		}
		next.ServeHTTP(w, r)
	})
}

// routePath sets chi's routing path to the escaped request path without
// one trailing slash (§1: trailing slashes are tolerated). Routing on the
// escaped path keeps a %2F inside a connector name from splitting the
// segment; pathParam unescapes.
func routePath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rctx := chi.RouteContext(r.Context()); rctx != nil {
			rctx.RoutePath = escapedRoutePath(r)
		}
		next.ServeHTTP(w, r)
	})
}

// escapedRoutePath is the escaped request path without one trailing slash.
func escapedRoutePath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1]
	}
	if p == "" {
		p = "/"
	}
	return p
}

// kafkaMedia enforces the media types of Kafka's resources, which produce
// and consume application/json: a body with a non-JSON Content-Type is 415
// (a missing Content-Type is accepted), an Accept header that rules JSON
// out is 406.
func (s *server) kafkaMedia(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hasBody(r) {
			if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONMediaType(ct) {
				s.writeError(w, r, restError(errUnsupportedMediaType, msgUnsupportedMedia))
				return
			}
		}
		if !acceptsJSON(r.Header.Values("Accept")) {
			s.writeError(w, r, restError(errNotAcceptable, msgNotAcceptable))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// isJSONMediaType reports whether a Content-Type is compatible with
// application/json (wildcards and parameters allowed).
func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	typ, sub, _ := strings.Cut(mt, "/")
	return (typ == "application" || typ == "*") && (sub == "json" || sub == "*")
}

// acceptsJSON reports whether Accept headers allow application/json. No
// header, or one that cannot be parsed, accepts everything.
func acceptsJSON(values []string) bool {
	seen := false
	for _, v := range values {
		for _, rng := range strings.Split(v, ",") {
			rng = strings.TrimSpace(rng)
			if rng == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(rng)
			if err != nil {
				return true
			}
			seen = true
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f <= 0 {
					continue
				}
			}
			typ, sub, _ := strings.Cut(mt, "/")
			if (typ == "*" || typ == "application") && (sub == "*" || sub == "json") {
				return true
			}
		}
	}
	return !seen
}

// --- CORS (Jetty's CrossOriginFilter as Kafka configures it) ---

type cors struct {
	anyOrigin bool
	origins   []*regexp.Regexp
	methods   string
	headers   []string
}

func newCORS(origins, methods string) *cors {
	c := &cors{methods: "GET,POST,HEAD", headers: []string{"X-Requested-With", "Content-Type", "Accept", "Origin"}}
	if strings.TrimSpace(methods) != "" {
		c.methods = methods
	}
	for _, o := range strings.Split(origins, ",") {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
		case o == "*":
			c.anyOrigin = true
		default:
			pat := strings.ReplaceAll(regexp.QuoteMeta(o), `\*`, ".*")
			c.origins = append(c.origins, regexp.MustCompile("^"+pat+"$"))
		}
	}
	return c
}

func (c *cors) originAllowed(origin string) bool {
	if c.anyOrigin {
		return true
	}
	for _, o := range strings.Fields(origin) { // Origin may list several
		for _, re := range c.origins {
			if re.MatchString(o) {
				return true
			}
		}
	}
	return false
}

func (c *cors) methodAllowed(m string) bool {
	for _, a := range strings.Split(c.methods, ",") {
		if strings.TrimSpace(a) == m {
			return true
		}
	}
	return false
}

func (c *cors) headersAllowed(req string) bool {
	for _, h := range strings.Split(req, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		ok := false
		for _, a := range c.headers {
			if strings.EqualFold(a, h) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// middleware adds CORS headers for allowed origins. Preflight requests go
// on to the router (Jetty's chainPreflight), which answers OPTIONS.
func (c *cors) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && c.originAllowed(origin) {
			h := w.Header()
			reqMethod := r.Header.Get("Access-Control-Request-Method")
			if r.Method == http.MethodOptions && reqMethod != "" {
				if c.methodAllowed(reqMethod) && c.headersAllowed(r.Header.Get("Access-Control-Request-Headers")) {
					h.Set("Access-Control-Allow-Origin", origin)
					h.Set("Access-Control-Allow-Credentials", "true")
					h.Set("Access-Control-Max-Age", "1800")
					h.Set("Access-Control-Allow-Methods", c.methods)
					h.Set("Access-Control-Allow-Headers", strings.Join(c.headers, ","))
				}
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
			}
		}
		next.ServeHTTP(w, r)
	})
}
