package rest_test

// End-to-end tests: a real worker (runtime.Worker with the embedded broker
// on free ports and the built-in plugins) served by rest.New through
// httptest, driven over HTTP like Kafka's ducktape client does.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/plugins"
	"github.com/sluicedata/sluice/rest"
	"github.com/sluicedata/sluice/runtime"
)

// testWorker is a worker and its REST API.
type testWorker struct {
	t       *testing.T
	url     string
	worker  *runtime.Worker
	dir     string
	logs    *syncBuffer
	started bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startWorker starts a worker with the embedded broker on a free port, its
// data in a temporary directory, and its REST API on another free port.
// mods adjust the worker config (Kafka property names) and REST options.
func startWorker(t *testing.T, mods ...func(props map[string]string, opts *restOptions)) *testWorker {
	t.Helper()
	w := newWorker(t, mods...)
	w.start()
	return w
}

// newWorker is startWorker without the start: the REST API already
// answers, the worker is "starting".
func newWorker(t *testing.T, mods ...func(props map[string]string, opts *restOptions)) *testWorker {
	t.Helper()
	dir := t.TempDir()
	srv := httptest.NewUnstartedServer(nil)
	props := map[string]string{
		"data.dir":                               filepath.Join(dir, "data"),
		"broker.listen":                          "127.0.0.1:0",
		"broker.sluice.fsync":                    "false",
		"listeners":                              "http://" + srv.Listener.Addr().String(),
		"offset.flush.interval.ms":               "100",
		"offset.storage.partitions":              "3",
		"task.shutdown.graceful.timeout.ms":      "1000",
		"sluice.task.restart.initial.backoff.ms": "100",
		"sluice.task.restart.max.backoff.ms":     "400",
	}
	logs := &syncBuffer{}
	opts := rest.Options{AdminEnabled: true}
	for _, m := range mods {
		m(props, &opts)
	}
	cfg := runtime.DefaultWorkerConfig()
	for k, v := range props {
		if err := cfg.Set(k, v); err != nil {
			t.Fatalf("worker config %s: %v", k, err)
		}
	}
	handler := slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})
	levels := runtime.NewLogLevels(handler, slog.LevelInfo)
	w, err := runtime.NewWorker(cfg, runtime.Options{
		Levels:   levels,
		Registry: plugins.Builtin(),
		Version:  "rest-test",
		WorkerID: srv.Listener.Addr().String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv.Config.Handler = rest.New(w.Herder(), opts)
	srv.Start()
	tw := &testWorker{t: t, url: srv.URL, worker: w, dir: dir, logs: logs}
	t.Cleanup(func() {
		srv.Close()
		if !tw.started { // Close waits for a started worker's loop
			tw.start()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Errorf("close worker: %v", err)
		}
		if t.Failed() {
			t.Logf("worker log (tail):\n%s", tail(logs.String(), 150))
		}
	})
	return tw
}

// start starts the worker.
func (w *testWorker) start() {
	w.t.Helper()
	w.started = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.worker.Start(ctx); err != nil {
		w.t.Fatalf("start: %v\n%s", err, w.logs.String())
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// resp is an HTTP answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// decode decodes the body into v, failing the test if it is not JSON.
func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

// do sends a request. body is sent as is when it is a string, else as its
// JSON; nil sends nothing. headers are name, value pairs.
func (w *testWorker) do(method, path string, body any, headers ...string) resp {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.(string)
		if !ok {
			j, err := json.Marshal(body)
			if err != nil {
				w.t.Fatal(err)
			}
			b = string(j)
		}
		rd = strings.NewReader(b)
	}
	req, err := http.NewRequest(method, w.url+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

// ok sends a request and requires the status; it returns the answer.
func (w *testWorker) ok(status int, method, path string, body any, headers ...string) resp {
	w.t.Helper()
	r := w.do(method, path, body, headers...)
	if r.status != status {
		w.t.Fatalf("%s %s: %s, want %d", method, path, r, status)
	}
	if len(r.body) > 0 && !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") && !strings.HasPrefix(path, "/metrics") {
		w.t.Fatalf("%s %s: Content-Type %q", method, path, r.header.Get("Content-Type"))
	}
	if (status == 202 || status == 204) && len(r.body) != 0 && method != "POST" {
		w.t.Fatalf("%s %s: %d with a body %q", method, path, status, r.body)
	}
	return r
}

// fails sends a request and requires Kafka's error body with the status
// and exactly the message.
func (w *testWorker) fails(status int, msg, method, path string, body any, headers ...string) {
	w.t.Helper()
	got := w.failsWith(status, method, path, body, headers...)
	if got != msg {
		w.t.Fatalf("%s %s: message %q, want %q", method, path, got, msg)
	}
}

// failsWith sends a request, requires Kafka's error body with the status
// and returns its message.
func (w *testWorker) failsWith(status int, method, path string, body any, headers ...string) string {
	w.t.Helper()
	r := w.do(method, path, body, headers...)
	if r.status != status {
		w.t.Fatalf("%s %s: %s, want %d", method, path, r, status)
	}
	var e struct {
		ErrorCode *int    `json:"error_code"`
		Message   *string `json:"message"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.ErrorCode == nil || e.Message == nil {
		w.t.Fatalf("%s %s: not an error body: %q (%v)", method, path, r.body, err)
	}
	if *e.ErrorCode != status {
		w.t.Fatalf("%s %s: error_code %d, status %d", method, path, *e.ErrorCode, status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		w.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	return *e.Message
}

// eventually polls cond until it holds or the deadline passes; cond
// returns a description of what it saw, for the failure message.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seen string
	for {
		var ok bool
		ok, seen = cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last seen: %s", what, timeout, seen)
		}
		<-tick.C
	}
}

// status is GET /connectors/{c}/status decoded.
type status struct {
	Name      string `json:"name"`
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"connector"`
	Tasks []struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"tasks"`
	Type string `json:"type"`
}

func (s status) summary() string {
	var b strings.Builder
	b.WriteString(s.Connector.State)
	for _, t := range s.Tasks {
		fmt.Fprintf(&b, " %d:%s", t.ID, t.State)
	}
	return b.String()
}

// waitState polls the status until the connector is in state and has
// tasks tasks, all in taskState.
func (w *testWorker) waitState(name, state string, tasks int, taskState string) status {
	w.t.Helper()
	var st status
	eventually(w.t, 30*time.Second, name+" "+state, func() (bool, string) {
		r := w.do("GET", "/connectors/"+name+"/status", nil)
		if r.status != 200 {
			return false, r.String()
		}
		st = status{}
		r.decode(w.t, &st)
		if st.Connector.State != state || len(st.Tasks) != tasks {
			return false, st.summary()
		}
		for _, t := range st.Tasks {
			if t.State != taskState {
				return false, st.summary()
			}
		}
		return true, ""
	})
	return st
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// appendLines appends lines to a file.
func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

// waitLines waits until path holds every one of lines.
func waitLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	eventually(t, 60*time.Second, "lines in "+filepath.Base(path), func() (bool, string) {
		b, _ := os.ReadFile(path)
		have := strings.Split(strings.TrimSpace(string(b)), "\n")
		for _, l := range lines {
			if !slices.Contains(have, l) {
				return false, fmt.Sprintf("%q", b)
			}
		}
		return true, ""
	})
}

// sortedNames decodes GET /connectors.
func (w *testWorker) names() []string {
	w.t.Helper()
	var names []string
	w.ok(200, "GET", "/connectors", nil).decode(w.t, &names)
	slices.Sort(names)
	return names
}

// restOptions shortens mods' signatures.
type restOptions = rest.Options

// wantOffsetsMessage checks the message of an offsets PATCH or DELETE
// (§3.22): verb is "altered" or "reset". Kafka's FileStream connectors
// override alterOffsets to return true, so Kafka gives the short message;
// connectors/file does not implement runtime.SourceOffsetsAlterer /
// SinkOffsetsAlterer yet, which gives the long one. Both are accepted
// here, so this is the one place that gap shows.
func wantOffsetsMessage(t *testing.T, msg, verb string) {
	t.Helper()
	short := "The offsets for this connector have been " + verb + " successfully"
	long := "The Connect framework-managed offsets for this connector have been " + verb +
		" successfully. However, if this connector manages offsets externally, they will need to be manually " +
		verb + " in the system that the connector uses."
	if msg != short && msg != long {
		t.Errorf("offsets %s: message %q", verb, msg)
	}
}
