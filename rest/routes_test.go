package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// These tests exercise what the REST layer decides before it calls the
// herder, so they run with a nil *runtime.Herder: a request that reaches
// the herder gets some 500 ("not implemented", or a recovered nil
// dereference), which the tests tell apart from the answers under test.

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) errorBody(t *testing.T) errorBody {
	t.Helper()
	var e errorBody
	dec := json.NewDecoder(strings.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if e.ErrorCode != r.status {
		t.Fatalf("error_code %d, status %d", e.ErrorCode, r.status)
	}
	return e
}

// call sends one request to h. headers are name, value pairs.
func call(t *testing.T, h http.Handler, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.String()}
}

// wantError checks an error answer: status, error_code, message.
func wantError(t *testing.T, r response, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	if e := r.errorBody(t); e.Message != msg {
		t.Fatalf("message %q, want %q", e.Message, msg)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
}

// reachedHerder tells whether a request got past the REST layer's own
// checks: with a nil herder that is a 500 that is not a body error.
func reachedHerder(t *testing.T, r response) bool {
	t.Helper()
	if r.status != 500 {
		return r.status < 300
	}
	msg := r.errorBody(t).Message
	return !strings.HasPrefix(msg, "Cannot ") && !strings.HasPrefix(msg, "Unrecognized ") && !strings.HasPrefix(msg, "Unexpected")
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	for _, c := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"GET", "/connectors/a/b/c"},
		{"GET", "/connectors/a/tasks/x/status"},           // non-integer task id
		{"GET", "/connectors/a/tasks/1.5/status"},         // not an int either
		{"GET", "/connectors/a/tasks/99999999999/status"}, // beyond Java's int
		{"POST", "/connectors/a/tasks/abc/restart"},       // non-integer task id
		{"DELETE", "/connectors/a/tasks/x/status"},        // no route, so 404 not 405
		{"GET", "/admin/loggers"},                         // admin disabled
		{"PUT", "/admin/loggers/root"},                    // admin disabled
		{"GET", "/metrics"},                               // no metrics handler
		{"PUT", "/connectors/a/fence"},                    // internal, exactly-once only: not served
		{"FOO", "/nope"},                                  // unknown method, unknown path
	} {
		r := call(t, h, c.method, c.path, "")
		wantError(t, r, 404, "HTTP 404 Not Found")
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/connectors", "GET,HEAD,POST,OPTIONS"},
		{"POST", "/connectors/a/config", "GET,HEAD,PUT,PATCH,OPTIONS"},
		{"GET", "/connectors/a/pause", "PUT,OPTIONS"},
		{"GET", "/connectors/a/restart", "POST,OPTIONS"},
		{"GET", "/connector-plugins/FileStreamSink/config/validate", "PUT,OPTIONS"},
		{"PUT", "/connectors/a/tasks/0/status", "GET,HEAD,OPTIONS"},
		{"PATCH", "/", "GET,HEAD,OPTIONS"},
		{"FOO", "/connectors", "GET,HEAD,POST,OPTIONS"},
		{"POST", "/connectors/a/offsets/", "GET,HEAD,PATCH,DELETE,OPTIONS"},
	} {
		r := call(t, h, c.method, c.path, "")
		wantError(t, r, 405, "HTTP 405 Method Not Allowed")
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	r := call(t, h, "OPTIONS", "/connectors/a/config", "")
	if r.status != 204 || r.body != "" || r.header.Get("Allow") != "GET,HEAD,PUT,PATCH,OPTIONS" {
		t.Fatalf("got %d %q Allow=%q", r.status, r.body, r.header.Get("Allow"))
	}
	wantError(t, call(t, h, "OPTIONS", "/nope", ""), 404, "HTTP 404 Not Found")
}

func TestTrailingSlash(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	// Answers decided before the herder prove which route matched.
	r := call(t, h, "POST", "/connectors/", `{"name":"a","bogus":1}`)
	wantError(t, r, 500, `Unrecognized field "bogus" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable (3 known properties: "name", "config", "initial_state"])`)
	r = call(t, h, "PUT", "/connectors/a/config/", `{"name":"b"}`)
	wantError(t, r, 400, "Connector name configuration (b) doesn't match connector name in the URL (a)")
	r = call(t, h, "PUT", "/connector-plugins/FileStreamSink/config/validate/", `{"connector.class":"FileStreamSource"}`)
	wantError(t, r, 400, "Included connector type FileStreamSource does not match request type FileStreamSink")
	wantError(t, call(t, h, "GET", "/connectors/a/tasks/x/status/", ""), 404, "HTTP 404 Not Found")
	// Only one trailing slash is tolerated.
	wantError(t, call(t, h, "PUT", "/connectors/a/config//", `{"name":"b"}`), 404, "HTTP 404 Not Found")
}

func TestPathParamsAreDecoded(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	for path, name := range map[string]string{
		"/connectors/my%20connector/config": "my connector",
		"/connectors/a%2Fb/config":          "a/b",
		"/connectors/%C3%A9t%C3%A9/config":  "été",
		"/connectors/x%25y/config":          "x%y",
		"/connectors/plus+sign/config":      "plus+sign",
	} {
		r := call(t, h, "PUT", path, `{"name":"other"}`)
		wantError(t, r, 400, "Connector name configuration (other) doesn't match connector name in the URL ("+name+")")
	}
}

func TestTaskIDForms(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	// Java's Integer.valueOf accepts a sign and leading zeros.
	for _, id := range []string{"0", "+1", "-1", "007", "2147483647"} {
		r := call(t, h, "GET", "/connectors/a/tasks/"+id+"/status", "")
		if !reachedHerder(t, r) {
			t.Errorf("task %s: %d %s", id, r.status, r.body)
		}
	}
	wantError(t, call(t, h, "GET", "/connectors/a/tasks/2147483648/status", ""), 404, "HTTP 404 Not Found")
}

func TestMediaTypes(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	body := `{"name":"a","config":{"connector.class":"FileStreamSource"}}`
	// curl -d without -H sends a form Content-Type.
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "application/xml", "not a media type"} {
		r := call(t, h, "POST", "/connectors", body, "Content-Type", ct)
		wantError(t, r, 415, "HTTP 415 Unsupported Media Type")
	}
	wantError(t, call(t, h, "PUT", "/connectors/a/config", `{}`, "Content-Type", "text/plain"), 415, "HTTP 415 Unsupported Media Type")
	wantError(t, call(t, h, "PATCH", "/connectors/a/offsets", `{}`, "Content-Type", "text/plain"), 415, "HTTP 415 Unsupported Media Type")
	// JSON in its forms, and no Content-Type at all, are accepted: the
	// unknown field shows the body was decoded.
	for _, ct := range []string{"application/json", "application/json; charset=UTF-8", "APPLICATION/JSON", "*/*", "application/*", ""} {
		r := call(t, h, "POST", "/connectors", `{"bogus":1}`, "Content-Type", ct)
		wantError(t, r, 500, `Unrecognized field "bogus" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable (3 known properties: "name", "config", "initial_state"])`)
	}
	// A body-less PUT with a form Content-Type (curl -X PUT) is accepted.
	r := call(t, h, "PUT", "/connectors/a/pause", "", "Content-Type", "application/x-www-form-urlencoded")
	if !reachedHerder(t, r) {
		t.Errorf("body-less PUT: %d %s", r.status, r.body)
	}
	// 404 and 405 come before 415, as in Jersey.
	wantError(t, call(t, h, "POST", "/nope", "x=1", "Content-Type", "application/x-www-form-urlencoded"), 404, "HTTP 404 Not Found")
	wantError(t, call(t, h, "DELETE", "/connectors", "x=1", "Content-Type", "application/x-www-form-urlencoded"), 405, "HTTP 405 Method Not Allowed")

	for _, accept := range []string{"text/plain", "text/html, application/xml;q=0.9", "application/json;q=0"} {
		wantError(t, call(t, h, "GET", "/connectors/a/tasks/x1", "", "Accept", accept), 404, "HTTP 404 Not Found")
		wantError(t, call(t, h, "PUT", "/connectors/a/config", `{"name":"b"}`, "Accept", accept), 406, "HTTP 406 Not Acceptable")
	}
	for _, accept := range []string{"application/json", "*/*", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/*"} {
		wantError(t, call(t, h, "PUT", "/connectors/a/config", `{"name":"b"}`, "Accept", accept), 400,
			"Connector name configuration (b) doesn't match connector name in the URL (a)")
	}
}

func TestCreateConnectorChecks(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	// The name is trimmed before the comparison with config.name.
	r := call(t, h, "POST", "/connectors", `{"name":"  a\t","config":{"name":"b"}}`)
	wantError(t, r, 400, "Connector name configuration (b) doesn't match connector name in the URL (a)")
	// A config name with spaces the request name does not have still differs.
	r = call(t, h, "POST", "/connectors", `{"name":"a","config":{"name":" a"}}`)
	wantError(t, r, 400, "Connector name configuration ( a) doesn't match connector name in the URL (a)")
	// Numbers in config are strings to Kafka, so "name": 5 matches "5".
	r = call(t, h, "POST", "/connectors", `{"name":"5","config":{"name":5,"tasks.max":1}}`)
	if !reachedHerder(t, r) {
		t.Errorf("numeric config: %d %s", r.status, r.body)
	}
	r = call(t, h, "POST", "/connectors", `{"name":"a","config":{"tasks.max":{"n":1}}}`)
	wantError(t, r, 500, "Cannot deserialize value of type `java.lang.String` from Object value (token `JsonToken.START_OBJECT`) (through reference chain: org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest[\"config\"]->java.util.LinkedHashMap[\"tasks.max\"])")
	r = call(t, h, "POST", "/connectors", `{"name":"a","initial_state":"SLEEPING"}`)
	if r.status != 500 || !strings.Contains(r.errorBody(t).Message, "No enum constant org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest.InitialState.SLEEPING") {
		t.Errorf("bad initial_state: %d %s", r.status, r.body)
	}
	r = call(t, h, "POST", "/connectors", `{"name": "a", "config": `)
	if r.status != 500 || !strings.HasPrefix(r.errorBody(t).Message, "Unexpected") {
		t.Errorf("truncated JSON: %d %s", r.status, r.body)
	}
}

func TestAlterOffsetsBodyChecks(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	const noOffsets = "Partitions / offsets need to be provided for an alter offsets request"
	for _, body := range []string{"", "null", "{}", `{"offsets":null}`, `{"offsets":[]}`} {
		wantError(t, call(t, h, "PATCH", "/connectors/a/offsets", body), 400, noOffsets)
	}
	for body, prefix := range map[string]string{
		`[]`:             "Cannot deserialize value of type `org.apache.kafka.connect.runtime.rest.entities.ConnectorOffsets` from Array value",
		`{"key":[]}`:     `Unrecognized field "key"`,
		`{"offsets":{}}`: "Cannot deserialize value of type `java.util.ArrayList<org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset>` from Object value",
		`{"offsets":[`:   "Unexpected",
	} {
		r := call(t, h, "PATCH", "/connectors/a/offsets", body)
		if r.status != 500 || !strings.HasPrefix(r.errorBody(t).Message, prefix) {
			t.Errorf("%s: %d %s, want 500 %q…", body, r.status, r.body, prefix)
		}
	}
	r := call(t, h, "PATCH", "/connectors/a/offsets", `{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":null}]}`)
	if !reachedHerder(t, r) {
		t.Errorf("valid body: %d %s", r.status, r.body)
	}
}

func TestValidateChecks(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{})
	for _, c := range []struct{ plugin, class string }{
		{"FileStreamSinkConnector", "org.apache.kafka.connect.file.FileStreamSinkConnector"},
		{"FileStreamSink", "org.apache.kafka.connect.file.FileStreamSinkConnector"},
		{"org.apache.kafka.connect.file.FileStreamSinkConnector", "org.apache.kafka.connect.file.FileStreamSinkConnector"},
		{"FileStreamSinkConnector", "FileStreamSink"},
	} {
		r := call(t, h, "PUT", "/connector-plugins/"+c.plugin+"/config/validate", `{"connector.class":"`+c.class+`"}`)
		if !reachedHerder(t, r) {
			t.Errorf("%s with %s: %d %s", c.plugin, c.class, r.status, r.body)
		}
	}
	r := call(t, h, "PUT", "/connector-plugins/FileStreamSource/config/validate", `{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector"}`)
	wantError(t, r, 400, "Included connector type org.apache.kafka.connect.file.FileStreamSinkConnector does not match request type FileStreamSource")
	r = call(t, h, "PUT", "/connector-plugins/FileStreamSource/config/validate", `{"connector.class":["x"]}`)
	if r.status != 500 || !strings.HasPrefix(r.errorBody(t).Message, "Cannot deserialize value of type `java.lang.String` from Array value") {
		t.Errorf("array value: %d %s", r.status, r.body)
	}
}

func TestLoggerChecks(t *testing.T) {
	t.Parallel()
	h := New(nil, Options{AdminEnabled: true})
	for _, body := range []string{"", "{}", `{"level":null}`, `{"lvl":"DEBUG"}`} {
		wantError(t, call(t, h, "PUT", "/admin/loggers/org.apache.kafka", body), 400, "Desired 'level' parameter was not specified in request.")
	}
	wantError(t, call(t, h, "PUT", "/admin/loggers/root", `{"level":"LOUD"}`), 404, "invalid log level 'LOUD'.")
	wantError(t, call(t, h, "PUT", "/admin/loggers/root", `{"level":5}`), 404, "invalid log level '5'.")
	wantError(t, call(t, h, "PUT", "/admin/loggers/root?scope=cluster", `{"level":"chatty"}`), 404, "invalid log level 'chatty'.")
	for _, level := range []string{"debug", "WARN", "Trace", "off", "ALL", "fatal"} {
		r := call(t, h, "PUT", "/admin/loggers/root", `{"level":"`+level+`"}`)
		if !reachedHerder(t, r) {
			t.Errorf("level %s: %d %s", level, r.status, r.body)
		}
	}
	wantError(t, call(t, h, "PUT", "/admin/loggers/root", `["DEBUG"]`), 500,
		"Cannot deserialize value of type `java.util.LinkedHashMap<java.lang.String,java.lang.String>` from Array value (token `JsonToken.START_ARRAY`)")
	wantError(t, call(t, h, "DELETE", "/admin/loggers/root", ""), 405, "HTTP 405 Method Not Allowed")
}

func TestQueryBool(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{
		"":                true, // absent: the default
		"?x=":             true, // empty: the default
		"?x=true":         true,
		"?x=TRUE":         true,
		"?x=True":         true,
		"?x=false":        false,
		"?x=1":            false, // Boolean.valueOf("1") is false
		"?x=yes":          false,
		"?x=t":            false,
		"?x=false&x=true": false, // the first value counts
	} {
		r := httptest.NewRequest("GET", "/"+q, nil)
		if got := queryBool(r, "x", true); got != want {
			t.Errorf("%q: %v, want %v", q, got, want)
		}
	}
	if queryBool(httptest.NewRequest("GET", "/", nil), "x", false) {
		t.Error("absent with default false")
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	off := New(nil, Options{})
	r := call(t, off, "GET", "/connectors/a/tasks/x/status", "", "Origin", "http://ui.example.com")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers while disabled")
	}

	h := New(nil, Options{AllowOrigin: "http://ui.example.com, https://*.corp.example"})
	r = call(t, h, "GET", "/nope", "", "Origin", "http://ui.example.com")
	if r.header.Get("Access-Control-Allow-Origin") != "http://ui.example.com" || r.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("simple request: %v", r.header)
	}
	r = call(t, h, "GET", "/nope", "", "Origin", "https://a.corp.example")
	if r.header.Get("Access-Control-Allow-Origin") != "https://a.corp.example" {
		t.Errorf("wildcard origin: %v", r.header)
	}
	r = call(t, h, "GET", "/nope", "", "Origin", "http://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin: %v", r.header)
	}
	// Preflight: default methods GET,POST,HEAD.
	r = call(t, h, "OPTIONS", "/connectors", "", "Origin", "http://ui.example.com",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Methods") != "GET,POST,HEAD" ||
		r.header.Get("Access-Control-Allow-Origin") != "http://ui.example.com" || r.header.Get("Access-Control-Max-Age") != "1800" {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	r = call(t, h, "OPTIONS", "/connectors/a", "", "Origin", "http://ui.example.com", "Access-Control-Request-Method", "DELETE")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight for a method not allowed: %v", r.header)
	}

	all := New(nil, Options{AllowOrigin: "*", AllowMethods: "GET,POST,PUT,DELETE"})
	r = call(t, all, "OPTIONS", "/connectors/a", "", "Origin", "http://x", "Access-Control-Request-Method", "DELETE")
	if r.header.Get("Access-Control-Allow-Origin") != "http://x" || r.header.Get("Access-Control-Allow-Methods") != "GET,POST,PUT,DELETE" {
		t.Errorf("any origin: %v", r.header)
	}
}

func TestResponseHeaders(t *testing.T) {
	t.Parallel()
	rules, err := ParseResponseHeaders(`set X-Frame-Options: DENY,"add Cache-Control: no-cache, no-store",setDate Expires: 31540000000, addDate X-Date: 0`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 4 {
		t.Fatalf("rules %q", rules)
	}
	h := New(nil, Options{ResponseHeaders: append(rules, "bogus")})
	r := call(t, h, "GET", "/nope", "")
	if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("Cache-Control") != "no-cache, no-store" {
		t.Errorf("headers %v", r.header)
	}
	exp, err := http.ParseTime(r.header.Get("Expires"))
	if err != nil || time.Until(exp) < 364*24*time.Hour {
		t.Errorf("Expires %q: %v", r.header.Get("Expires"), err)
	}
	if _, err := http.ParseTime(r.header.Get("X-Date")); err != nil {
		t.Errorf("X-Date %q", r.header.Get("X-Date"))
	}
	for _, bad := range []string{"set", "frob X: y", "set NoColon", "setDate X: soon"} {
		if _, err := ParseResponseHeaders(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if rules, err := ParseResponseHeaders(" "); err != nil || len(rules) != 0 {
		t.Errorf("blank: %q %v", rules, err)
	}
}

func TestMetricsAndHead(t *testing.T) {
	t.Parallel()
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		io.WriteString(w, "sluice_up 1\n")
	})
	h := New(nil, Options{Metrics: metrics})
	// A Prometheus scraper's Accept does not include JSON: no 406 here.
	r := call(t, h, "GET", "/metrics", "", "Accept", "application/openmetrics-text;version=1.0.0")
	if r.status != 200 || r.body != "sluice_up 1\n" {
		t.Errorf("metrics: %d %q", r.status, r.body)
	}
	// HEAD is served by GET routes, without a body.
	r = call(t, h, "HEAD", "/connectors/a/tasks/x/status", "")
	if r.status != 404 {
		t.Errorf("HEAD unknown: %d", r.status)
	}
	r = call(t, h, "HEAD", "/metrics", "")
	if r.status != 200 {
		t.Errorf("HEAD metrics: %d", r.status)
	}
}

func TestLocation(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"local-file-source": "http://h:8083/connectors/local-file-source",
		"my connector":      "http://h:8083/connectors/my%20connector",
		"a/b?c#d%e":         "http://h:8083/connectors/a%2Fb%3Fc%23d%25e",
		"été":               "http://h:8083/connectors/%C3%A9t%C3%A9",
		"x:y@z,w;v=1+2":     "http://h:8083/connectors/x:y@z,w;v=1+2",
	} {
		r := httptest.NewRequest("POST", "http://h:8083/connectors", nil)
		if got := location(r, name); got != want {
			t.Errorf("%q: %s, want %s", name, got, want)
		}
	}
}

func TestAddNullErrors(t *testing.T) {
	t.Parallel()
	def := &connectors.ConfigKeyInfo{Name: "file"}
	infos := connectors.ConfigInfos{
		Name: "FileStreamSource", ErrorCount: 1,
		Configs: []connectors.ConfigInfo{
			{Definition: &connectors.ConfigKeyInfo{Name: "topic"}, Value: &connectors.ConfigValueInfo{Name: "topic", Value: ptr("t"), Errors: []string{"x"}}},
			{Definition: def},
		},
	}
	got := addNullErrors(infos, []string{"file", "mystery", "topic"})
	if got.ErrorCount != 4 || len(got.Configs) != 3 {
		t.Fatalf("got %+v", got)
	}
	if v := got.Configs[0].Value; got.Configs[0].Definition != nil || v.Name != "mystery" || v.Errors[0] != msgNullValue {
		t.Errorf("unknown key entry %+v", v)
	}
	if v := got.Configs[1].Value; v.Value != nil || len(v.Errors) != 2 || v.Errors[1] != msgNullValue {
		t.Errorf("topic %+v", v)
	}
	if v := got.Configs[2].Value; v == nil || v.Name != "file" || v.Errors[0] != msgNullValue {
		t.Errorf("file %+v", v)
	}
	if msg := got.InvalidMessage(); !strings.HasPrefix(msg, "Connector configuration is invalid and contains the following 4 error(s):\n"+msgNullValue) {
		t.Errorf("message %q", msg)
	}
}

func TestExpansionOrder(t *testing.T) {
	t.Parallel()
	e := &expansion{}
	e.set("status", 1)
	e.set("info", 2)
	e.set("status", 3)
	b, err := json.Marshal(map[string]*expansion{"c": e, "empty": {}})
	if err != nil || string(b) != `{"c":{"status":3,"info":2},"empty":{}}` {
		t.Errorf("%s %v", b, err)
	}
}

// syncBuffer is a log sink safe for the handler's goroutines.
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

func TestRequestLog(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := New(nil, Options{Logger: log})
	call(t, h, "PUT", "/connectors/a/config", `{"name":"b","password":"hunter2"}`)
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(buf.String())), &rec); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if rec["level"] != "DEBUG" || rec["method"] != "PUT" || rec["path"] != "/connectors/a/config" ||
		rec["status"] != float64(400) || rec["duration"] == nil || rec["component"] != "rest" || rec["code"] != "request.invalid" {
		t.Errorf("log record %v", rec)
	}
	if strings.Contains(buf.String(), "hunter2") {
		t.Error("a config value was logged")
	}
}

func TestRequestTimeoutOption(t *testing.T) {
	t.Parallel()
	s := &server{timeout: 5 * time.Millisecond}
	ctx, cancel := s.requestCtx(httptest.NewRequest("GET", "/", nil))
	defer cancel()
	<-ctx.Done()
	if ctx.Err() != context.DeadlineExceeded {
		t.Fatal(ctx.Err())
	}
}
