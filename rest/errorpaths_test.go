package rest_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every error path of connect-rest.md §3 against a real worker, with
// Kafka's exact status and message.
func TestErrorPaths(t *testing.T) {
	t.Parallel()
	w := startWorker(t)

	t.Run("unknown connector", func(t *testing.T) {
		w := w.with(t)
		for _, c := range []struct{ method, path, msg string }{
			{"GET", "/connectors/nope", "Connector nope not found"},
			{"DELETE", "/connectors/nope", "Connector nope not found"},
			{"GET", "/connectors/nope/config", "Connector nope not found"},
			{"GET", "/connectors/nope/status", "No status found for connector nope"},
			{"GET", "/connectors/nope/tasks", "Connector nope not found"},
			{"GET", "/connectors/nope/tasks-config", "Connector nope not found"},
			{"GET", "/connectors/nope/tasks/0/status", "No status found for task nope-0"},
			{"POST", "/connectors/nope/tasks/0/restart", "Unknown connector: nope"},
			{"POST", "/connectors/nope/restart", "Unknown connector: nope"},
			{"POST", "/connectors/nope/restart?includeTasks=true", "Unknown connector: nope"},
			{"PUT", "/connectors/nope/pause", "Unknown connector nope"},
			{"PUT", "/connectors/nope/resume", "Unknown connector nope"},
			{"PUT", "/connectors/nope/stop", "Unknown connector nope"},
			{"GET", "/connectors/nope/offsets", "Connector nope not found"},
			{"DELETE", "/connectors/nope/offsets", "Connector nope not found"},
		} {
			w.fails(404, c.msg, c.method, c.path, nil)
		}
		w.fails(404, "Connector nope not found", "PATCH", "/connectors/nope/offsets",
			`{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":null}]}`)
		w.fails(404, "Connector nope not found", "PATCH", "/connectors/nope/config", `{"a":"b"}`)
		// Topics do not check existence (§3.19).
		if r := w.ok(200, "GET", "/connectors/nope/topics", nil); string(r.body) != `{"nope":{"topics":[]}}` {
			t.Errorf("topics of an unknown connector: %s", r.body)
		}
	})

	t.Run("create", func(t *testing.T) {
		w := w.with(t)
		msg := w.failsWith(400, "POST", "/connectors", `{"name":"x","config":{"tasks.max":"1"}}`)
		if !strings.HasPrefix(msg, "Connector config {") || !strings.HasSuffix(msg, "} contains no connector type") {
			t.Errorf("no class: %q", msg)
		}
		// No config at all: the same 400 (Kafka would fail with a null
		// pointer; the useful answer is the one for an empty config).
		msg = w.failsWith(400, "POST", "/connectors", `{"name":"x"}`)
		if !strings.HasSuffix(msg, "contains no connector type") {
			t.Errorf("no config: %q", msg)
		}
		msg = w.failsWith(500, "POST", "/connectors", `{"name":"x","config":{"connector.class":"NoSuchConnector"}}`)
		if !strings.HasPrefix(msg, "Failed to find any class that implements Connector and which name matches NoSuchConnector, available connectors are: ") {
			t.Errorf("unknown class: %q", msg)
		}
		msg = w.failsWith(400, "POST", "/connectors", `{"name":"x","config":{"connector.class":"FileStreamSink","file":"/tmp/x"}}`)
		if msg != "Connector configuration is invalid and contains the following 2 error(s):\n"+
			"Must configure one of topics or topics.regex\nMust configure one of topics or topics.regex\n"+
			"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`" {
			t.Errorf("invalid config: %q", msg)
		}
		// An empty (or all-whitespace) name fails the name validator.
		msg = w.failsWith(400, "POST", "/connectors", `{"name":"  ","config":{"connector.class":"FileStreamSource","topic":"t"}}`)
		if !strings.HasPrefix(msg, "Connector configuration is invalid and contains the following 1 error(s):\n") {
			t.Errorf("empty name: %q", msg)
		}
		// JSON null in a config is a validation error (§3.26).
		msg = w.failsWith(400, "POST", "/connectors", `{"name":"x","config":{"connector.class":"FileStreamSource","topic":"t","batch.size":null}}`)
		if msg != "Connector configuration is invalid and contains the following 1 error(s):\n"+
			"Null value can not be supplied as the configuration value.\n"+
			"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`" {
			t.Errorf("null value: %q", msg)
		}
		w.fails(400, "Connector name configuration (y) doesn't match connector name in the URL (x)",
			"POST", "/connectors", `{"name":"x","config":{"name":"y","connector.class":"FileStreamSource"}}`)
		w.fails(400, "Connector name configuration (y) doesn't match connector name in the URL (x)",
			"PUT", "/connectors/x/config", `{"name":"y","connector.class":"FileStreamSource"}`)
		msg = w.failsWith(500, "POST", "/connectors", `{"name":"x","config":{},"tasks":[]}`)
		if !strings.HasPrefix(msg, `Unrecognized field "tasks" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable`) {
			t.Errorf("unknown field: %q", msg)
		}
		// None of these created anything.
		if names := w.names(); len(names) != 0 {
			t.Errorf("connectors %v", names)
		}
		w.fails(415, "HTTP 415 Unsupported Media Type", "POST", "/connectors", `name=x`,
			"Content-Type", "application/x-www-form-urlencoded")
	})

	t.Run("plugins", func(t *testing.T) {
		w := w.with(t)
		var connectorsOnly, all []struct {
			Class   string  `json:"class"`
			Type    string  `json:"type"`
			Version *string `json:"version"`
		}
		w.ok(200, "GET", "/connector-plugins", nil).decode(t, &connectorsOnly)
		w.ok(200, "GET", "/connector-plugins/?connectorsOnly=false", nil).decode(t, &all)
		for _, p := range connectorsOnly {
			if p.Type != "source" && p.Type != "sink" {
				t.Errorf("connectorsOnly lists %+v", p)
			}
		}
		kinds := map[string]bool{}
		order := []string{}
		for _, p := range all {
			if p.Version != nil && *p.Version == "" {
				t.Errorf("%s: empty version (should be omitted)", p.Class)
			}
			if !kinds[p.Type] {
				order = append(order, p.Type)
			}
			kinds[p.Type] = true
		}
		if want := []string{"sink", "source", "transformation", "predicate", "converter", "header_converter"}; !slices.Equal(order, want) {
			t.Errorf("plugin kinds in order %v, want %v", order, want)
		}
		var sameAsDefault []json.RawMessage
		w.ok(200, "GET", "/connector-plugins?connectorsOnly=yes", nil).decode(t, &sameAsDefault) // "yes" is false
		if len(sameAsDefault) != len(all) {
			t.Errorf("connectorsOnly=yes listed %d, want all %d", len(sameAsDefault), len(all))
		}

		// Plugin config: by class, alias, or alias without suffix.
		for _, p := range []string{"org.apache.kafka.connect.file.FileStreamSinkConnector", "FileStreamSinkConnector", "FileStreamSink"} {
			r := w.ok(200, "GET", "/connector-plugins/"+p+"/config", nil)
			var keys []map[string]json.RawMessage
			r.decode(t, &keys)
			if len(keys) == 0 {
				t.Fatalf("%s: no keys", p)
			}
			// §9.4/§9.5: order (not order_in_group); default_value null
			// when there is none.
			want := []string{"name", "type", "required", "default_value", "importance", "documentation", "group", "order", "width", "display_name", "dependents"}
			if got := objectKeys(t, mustMarshal(t, keys[0])); !sameSet(got, want) {
				t.Errorf("%s: key fields %v", p, got)
			}
			nullDefault := false
			for _, k := range keys {
				if string(k["required"]) == "true" && string(k["default_value"]) == "null" {
					nullDefault = true
				}
			}
			if !nullDefault {
				t.Errorf("%s: no required key with a null default_value", p)
			}
		}
		w.fails(404, "Unknown plugin NoSuchPlugin.", "GET", "/connector-plugins/NoSuchPlugin/config", nil)
		w.fails(400, "Invalid plugin class org.apache.kafka.common.config.provider.FileConfigProvider. Valid types are sink, source, converter, header_converter, transformation, predicate.",
			"GET", "/connector-plugins/org.apache.kafka.common.config.provider.FileConfigProvider/config", nil)
	})

	t.Run("validate", func(t *testing.T) {
		w := w.with(t)
		// Errors are still 200 (§3.26).
		var infos configInfos
		w.ok(200, "PUT", "/connector-plugins/FileStreamSink/config/validate", map[string]any{
			"connector.class": "FileStreamSink", "tasks.max": 1, "transforms": "x", "batch.size": nil,
		}).decode(t, &infos)
		if infos.Name != "FileStreamSink" || infos.ErrorCount < 3 {
			t.Errorf("validate: %+v", infos)
		}
		var nullErr bool
		for _, c := range infos.Configs {
			if c.Value != nil && c.Value.Name == "batch.size" && slices.Contains(c.Value.Errors, "Null value can not be supplied as the configuration value.") {
				nullErr = true
			}
		}
		if !nullErr {
			t.Errorf("no null-value error: %+v", infos)
		}
		msg := w.failsWith(400, "PUT", "/connector-plugins/FileStreamSink/config/validate", `{"tasks.max":"1"}`)
		if !strings.HasSuffix(msg, "contains no connector type") {
			t.Errorf("no class: %q", msg)
		}
		w.fails(400, "Included connector type FileStreamSource does not match request type FileStreamSinkConnector",
			"PUT", "/connector-plugins/FileStreamSinkConnector/config/validate", `{"connector.class":"FileStreamSource"}`)
		msg = w.failsWith(500, "PUT", "/connector-plugins/Nope/config/validate", `{"connector.class":"Nope"}`)
		if !strings.HasPrefix(msg, "Failed to find any class that implements Connector and which name matches Nope") {
			t.Errorf("unknown class: %q", msg)
		}
	})

	t.Run("loggers", func(t *testing.T) {
		w := w.with(t)
		var loggers map[string]struct {
			Level        string `json:"level"`
			LastModified *int64 `json:"last_modified"`
		}
		w.ok(200, "GET", "/admin/loggers", nil).decode(t, &loggers)
		if _, ok := loggers["root"]; !ok {
			t.Errorf("loggers %v", loggers)
		}
		r := w.ok(200, "GET", "/admin/loggers/ROOT", nil)
		if !strings.Contains(string(r.body), `"last_modified":null`) {
			t.Errorf("root before any change: %s", r.body) // §9.4
		}
		w.fails(404, "Logger no.such.logger not found.", "GET", "/admin/loggers/no.such.logger", nil)
		w.fails(400, "Desired 'level' parameter was not specified in request.", "PUT", "/admin/loggers/sluice.test", `{}`)
		w.fails(404, "invalid log level 'LOUD'.", "PUT", "/admin/loggers/sluice.test", `{"level":"LOUD"}`)

		var affected []string
		w.ok(200, "PUT", "/admin/loggers/sluice.test", `{"level":"debug"}`).decode(t, &affected)
		if !slices.Contains(affected, "sluice.test") || !slices.IsSorted(affected) {
			t.Errorf("affected %v", affected)
		}
		r = w.ok(200, "GET", "/admin/loggers/sluice.test", nil)
		var lvl struct {
			Level        string `json:"level"`
			LastModified *int64 `json:"last_modified"`
		}
		r.decode(t, &lvl)
		if lvl.Level != "DEBUG" || lvl.LastModified == nil || time.Since(time.UnixMilli(*lvl.LastModified)) > time.Minute {
			t.Errorf("after PUT: %s", r.body)
		}
		// An unknown scope falls back to the worker.
		w.ok(200, "PUT", "/admin/loggers/sluice.test?scope=galaxy", `{"level":"INFO"}`)
		w.ok(204, "PUT", "/admin/loggers/sluice.test?scope=cluster", `{"level":"WARN"}`)
		eventually(t, 10*time.Second, "cluster-scope level applied", func() (bool, string) {
			r := w.ok(200, "GET", "/admin/loggers/sluice.test", nil)
			r.decode(t, &lvl)
			return lvl.Level == "WARN", string(r.body)
		})
	})

	t.Run("root and health", func(t *testing.T) {
		w := w.with(t)
		r := w.ok(200, "GET", "/", nil)
		if keys := objectKeys(t, r.body); !slices.Equal(keys, []string{"version", "commit", "kafka_cluster_id"}) {
			t.Errorf("server info keys %v", keys)
		}
		var info struct {
			Version, Commit string
			ClusterID       string `json:"kafka_cluster_id"`
		}
		r.decode(t, &info)
		if !strings.HasPrefix(info.Version, "3.9.") || info.Commit != "rest-test" || info.ClusterID == "" {
			t.Errorf("server info %s", r.body)
		}
		r = w.ok(200, "GET", "/health", nil)
		if string(r.body) != `{"status":"healthy","message":"Worker has completed startup and is ready to handle requests."}` {
			t.Errorf("health %s", r.body)
		}
	})

	t.Run("routing", func(t *testing.T) {
		w := w.with(t)
		w.fails(404, "HTTP 404 Not Found", "GET", "/connectors/x/tasks/zero/status", nil)
		w.fails(404, "HTTP 404 Not Found", "GET", "/nope", nil)
		w.fails(405, "HTTP 405 Method Not Allowed", "DELETE", "/connectors", nil)
		w.fails(405, "HTTP 405 Method Not Allowed", "GET", "/connectors/x/pause", nil)
		w.ok(200, "GET", "/connector-plugins/", nil)
	})
}

// with returns w reporting to t (for subtests).
func (w *testWorker) with(t *testing.T) *testWorker {
	c := *w
	c.t = t
	return &c
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// A worker that has not finished starting: /health says 503 "starting",
// and requests that need the herder time out with Kafka's 500.
func TestStartingWorker(t *testing.T) {
	t.Parallel()
	w := newWorker(t, func(_ map[string]string, o *restOptions) { o.RequestTimeout = 200 * time.Millisecond })
	r := w.do("GET", "/health", nil)
	if r.status != 503 || string(r.body) != `{"status":"starting","message":"Worker is still starting up."}` {
		t.Errorf("health while starting: %s", r)
	}
	w.fails(500, "Request timed out", "GET", "/connectors", nil)
	w.fails(500, "Request timed out", "POST", "/connectors",
		map[string]any{"name": "x", "config": map[string]string{"connector.class": "FileStreamSource", "topic": "t", "file": filepath.Join(w.dir, "x")}})
	w.start()
	w.ok(200, "GET", "/health", nil)
	w.ok(200, "GET", "/connectors", nil)
}

// A FAILED task shows its trace (§2.6) and restart?onlyFailed=true picks
// it out (KIP-745).
func TestFailedTaskTrace(t *testing.T) {
	t.Parallel()
	w := startWorker(t, func(p map[string]string, _ *restOptions) {
		p["sluice.task.restart.max.attempts"] = "0" // stay FAILED
	})
	w.ok(201, "POST", "/connectors", map[string]any{"name": "bad-sink", "config": map[string]any{
		"connector.class": "FileStreamSink", "topics": "bad", "file": w.dir, // a directory: cannot be opened for writing
	}})
	var st status
	eventually(t, 30*time.Second, "task FAILED", func() (bool, string) {
		r := w.do("GET", "/connectors/bad-sink/status", nil)
		if r.status != 200 {
			return false, r.String()
		}
		st = status{}
		r.decode(t, &st)
		return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED", st.summary()
	})
	if st.Tasks[0].Trace == "" {
		t.Errorf("FAILED task without a trace")
	}
	r := w.ok(202, "POST", "/connectors/bad-sink/restart?includeTasks=true&onlyFailed=true", nil)
	var restarting status
	r.decode(t, &restarting)
	if restarting.Connector.State != "RUNNING" || restarting.Tasks[0].State != "RESTARTING" {
		t.Errorf("restart of failed tasks: %s", r.body)
	}
}

// topic.tracking.enable=false and topic.tracking.allow.reset=false give
// Kafka's 403s (§3.19, §3.20).
func TestTopicTrackingDisabled(t *testing.T) {
	t.Parallel()
	off := startWorker(t, func(p map[string]string, _ *restOptions) { p["topic.tracking.enable"] = "false" })
	off.fails(403, "Topic tracking is disabled.", "GET", "/connectors/any/topics", nil)
	off.fails(403, "Topic tracking is disabled.", "PUT", "/connectors/any/topics/reset", nil)
	noReset := startWorker(t, func(p map[string]string, _ *restOptions) { p["topic.tracking.allow.reset"] = "false" })
	noReset.ok(200, "GET", "/connectors/any/topics", nil)
	noReset.fails(403, "Topic tracking reset is disabled.", "PUT", "/connectors/any/topics/reset", nil)
}

// Sink offsets (§3.21–3.23): the consumer group's offsets; the sink format
// checks are 400s; altering and resetting need STOPPED.
func TestSinkOffsets(t *testing.T) {
	t.Parallel()
	w := startWorker(t)
	src := filepath.Join(w.dir, "in.txt")
	out := filepath.Join(w.dir, "out.txt")
	appendLines(t, src, "one", "two")
	w.ok(201, "POST", "/connectors", map[string]any{"name": "src", "config": map[string]any{
		"connector.class": "FileStreamSource", "file": src, "topic": "so",
	}})
	w.ok(201, "POST", "/connectors", map[string]any{"name": "sink", "config": map[string]any{
		"connector.class": "FileStreamSink", "file": out, "topics": "so",
	}})
	waitLines(t, out, "one", "two")
	eventually(t, 30*time.Second, "sink offsets committed", func() (bool, string) {
		r := w.ok(200, "GET", "/connectors/sink/offsets", nil)
		return string(r.body) == `{"offsets":[{"partition":{"kafka_partition":0,"kafka_topic":"so"},"offset":{"kafka_offset":2}}]}`, string(r.body)
	})
	w.ok(204, "PUT", "/connectors/sink/stop", nil)
	w.waitState("sink", "STOPPED", 0, "")
	for body, msg := range map[string]string{
		`{"offsets":[{"partition":{"kafka_topic":"so"},"offset":{"kafka_offset":0}}]}`:                       "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
		`{"offsets":[{"partition":{"kafka_topic":"so","kafka_partition":"x"},"offset":{"kafka_offset":0}}]}`: "Failed to parse the following Kafka partition value in the provided offsets: 'x'. Partition values for sink connectors need to be integers.",
		`{"offsets":[{"partition":{"kafka_topic":"so","kafka_partition":0},"offset":{"position":0}}]}`:       "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
	} {
		w.fails(400, msg, "PATCH", "/connectors/sink/offsets", body)
	}
	var msg struct {
		Message string `json:"message"`
	}
	w.ok(200, "PATCH", "/connectors/sink/offsets",
		`{"offsets":[{"partition":{"kafka_topic":"so","kafka_partition":"0"},"offset":{"kafka_offset":"1"}}]}`).decode(t, &msg)
	wantOffsetsMessage(t, msg.Message, "altered")
	r := w.ok(200, "GET", "/connectors/sink/offsets", nil)
	if string(r.body) != `{"offsets":[{"partition":{"kafka_partition":0,"kafka_topic":"so"},"offset":{"kafka_offset":1}}]}` {
		t.Errorf("after alter: %s", r.body)
	}
	w.ok(200, "DELETE", "/connectors/sink/offsets", nil).decode(t, &msg)
	wantOffsetsMessage(t, msg.Message, "reset")
	if r := w.ok(200, "GET", "/connectors/sink/offsets", nil); string(r.body) != `{"offsets":[]}` {
		t.Errorf("after reset: %s", r.body)
	}
	// Resumed, the sink starts over from the beginning of the topic.
	w.ok(202, "PUT", "/connectors/sink/resume", nil)
	eventually(t, 30*time.Second, "records consumed again", func() (bool, string) {
		r := w.ok(200, "GET", "/connectors/sink/offsets", nil)
		return strings.Contains(string(r.body), `"kafka_offset":2`), string(r.body)
	})
}
