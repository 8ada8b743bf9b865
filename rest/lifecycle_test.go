package rest_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Pause, resume, restart (both forms), task restart, stop, resume from
// STOPPED, with the statuses connect_distributed_test.py and
// ConnectWorkerIntegrationTest poll for, and the exact answers (202/204
// with empty bodies, 202 with a body for KIP-745 restarts).
func TestConnectorLifecycle(t *testing.T) {
	t.Parallel()
	w := startWorker(t)
	src := filepath.Join(w.dir, "in.txt")
	appendLines(t, src, "a")
	w.ok(201, "POST", "/connectors", map[string]any{"name": "src", "config": map[string]any{
		"connector.class": "FileStreamSource", "tasks.max": "1", "file": src, "topic": "lifecycle",
	}})
	st := w.waitState("src", "RUNNING", 1, "RUNNING")
	workerID := strings.TrimPrefix(w.url, "http://")
	if st.Name != "src" || st.Type != "source" || st.Connector.WorkerID != workerID || st.Tasks[0].WorkerID != workerID {
		t.Errorf("status %+v", st)
	}

	// Status JSON: Kafka's field order; trace omitted while not failed.
	r := w.ok(200, "GET", "/connectors/src/status", nil)
	if keys := objectKeys(t, r.body); !slices.Equal(keys, []string{"name", "connector", "tasks", "type"}) {
		t.Errorf("status keys %v", keys)
	}
	if strings.Contains(string(r.body), "trace") {
		t.Errorf("trace in %s", r.body)
	}
	r = w.ok(200, "GET", "/connectors/src/tasks/0/status", nil)
	if keys := objectKeys(t, r.body); !slices.Equal(keys, []string{"id", "state", "worker_id"}) {
		t.Errorf("task status keys %v: %s", keys, r.body)
	}

	// Offsets can only be modified once the connector is STOPPED (§9.7).
	stopFirst := "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint"
	w.fails(400, stopFirst, "PATCH", "/connectors/src/offsets",
		`{"offsets":[{"partition":{"filename":"x"},"offset":{"position":0}}]}`)
	w.fails(400, stopFirst, "DELETE", "/connectors/src/offsets", nil)

	// Pause and resume: 202, empty body, idempotent. curl -X PUT sends no
	// Content-Type.
	for range 2 {
		w.ok(202, "PUT", "/connectors/src/pause", nil)
	}
	w.waitState("src", "PAUSED", 1, "PAUSED")
	for range 2 {
		w.ok(202, "PUT", "/connectors/src/resume", nil)
	}
	w.waitState("src", "RUNNING", 1, "RUNNING")

	// Legacy restart: 204, no body.
	w.ok(204, "POST", "/connectors/src/restart", nil)
	w.ok(204, "POST", "/connectors/src/restart?includeTasks=yes&onlyFailed=1", nil) // Boolean.valueOf: false
	w.waitState("src", "RUNNING", 1, "RUNNING")

	// KIP-745: 202 with the status, RESTARTING where a restart happens.
	r = w.ok(202, "POST", "/connectors/src/restart?includeTasks=TRUE", nil)
	var restarting status
	r.decode(t, &restarting)
	if restarting.Connector.State != "RESTARTING" || len(restarting.Tasks) != 1 || restarting.Tasks[0].State != "RESTARTING" {
		t.Errorf("restart with tasks: %s", r.body)
	}
	if keys := objectKeys(t, r.body); !slices.Equal(keys, []string{"name", "connector", "tasks", "type"}) {
		t.Errorf("restart body keys %v", keys)
	}
	w.waitState("src", "RUNNING", 1, "RUNNING")
	// Only failed instances, and none failed: nothing restarts. The
	// answer shows current states, and the restart above may still be
	// finishing (RUNNING can be seen before it began); a restart wrongly
	// triggered here would show RESTARTING on every call.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = w.ok(202, "POST", "/connectors/src/restart?includeTasks=true&onlyFailed=true", nil)
		r.decode(t, &restarting)
		if restarting.Connector.State == "RUNNING" && restarting.Tasks[0].State == "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restart only failed: %s", r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r = w.ok(202, "POST", "/connectors/src/restart?onlyFailed=true", nil)
	r.decode(t, &restarting)
	if restarting.Connector.State != "RUNNING" {
		t.Errorf("restart connector only failed: %s", r.body)
	}

	// One task: 204; unknown task 404.
	w.ok(204, "POST", "/connectors/src/tasks/0/restart", nil)
	w.fails(404, "Unknown task: src-5", "POST", "/connectors/src/tasks/5/restart", nil)
	w.fails(404, "No status found for task src-5", "GET", "/connectors/src/tasks/5/status", nil)
	w.waitState("src", "RUNNING", 1, "RUNNING")

	// The deprecated tasks-config.
	var tasksConfig map[string]map[string]string
	w.ok(200, "GET", "/connectors/src/tasks-config", nil).decode(t, &tasksConfig)
	if len(tasksConfig) != 1 || tasksConfig["src-0"]["file"] != src {
		t.Errorf("tasks-config %v", tasksConfig)
	}

	// Stop: 204, STOPPED with no tasks anywhere (§9.6); idempotent.
	for range 2 {
		w.ok(204, "PUT", "/connectors/src/stop", nil)
	}
	w.waitState("src", "STOPPED", 0, "")
	r = w.ok(200, "GET", "/connectors/src/tasks", nil)
	if string(r.body) != "[]" {
		t.Errorf("tasks of a stopped connector: %s", r.body)
	}
	var info struct {
		Tasks []any `json:"tasks"`
	}
	w.ok(200, "GET", "/connectors/src", nil).decode(t, &info)
	if info.Tasks == nil || len(info.Tasks) != 0 {
		t.Errorf("info tasks of a stopped connector: %v", info.Tasks)
	}

	// Offsets of a stopped connector can be altered and reset.
	eventually(t, 30*time.Second, "source offset stored", func() (bool, string) {
		r := w.ok(200, "GET", "/connectors/src/offsets", nil)
		return strings.Contains(string(r.body), `"filename":"`+jsonEscape(src)+`"`), string(r.body)
	})
	var msg struct {
		Message string `json:"message"`
	}
	w.ok(200, "PATCH", "/connectors/src/offsets",
		`{"offsets":[{"partition":{"filename":"`+jsonEscape(src)+`"},"offset":{"position":0}}]}`).decode(t, &msg)
	wantOffsetsMessage(t, msg.Message, "altered")
	r = w.ok(200, "GET", "/connectors/src/offsets", nil)
	if !strings.Contains(string(r.body), `"offset":{"position":0}`) {
		t.Errorf("offsets after alter: %s", r.body)
	}
	// Kafka's JSON-shape errors still come first (500), then 400s.
	if m := w.failsWith(500, "PATCH", "/connectors/src/offsets", `{"offsets":{}}`); !strings.HasPrefix(m, "Cannot deserialize value of type `java.util.ArrayList<") {
		t.Errorf("shape error %q", m)
	}
	w.fails(400, "Partitions / offsets need to be provided for an alter offsets request", "PATCH", "/connectors/src/offsets", `{"offsets":[]}`)
	w.fails(400, "The partition for a source connector offset cannot be null or missing",
		"PATCH", "/connectors/src/offsets", `{"offsets":[{"offset":{"position":1}}]}`)
	w.ok(200, "DELETE", "/connectors/src/offsets", nil).decode(t, &msg)
	wantOffsetsMessage(t, msg.Message, "reset")
	r = w.ok(200, "GET", "/connectors/src/offsets", nil)
	if string(r.body) != `{"offsets":[]}` {
		t.Errorf("offsets after reset: %s", r.body)
	}

	// Resume works from STOPPED.
	w.ok(202, "PUT", "/connectors/src/resume", nil)
	w.waitState("src", "RUNNING", 1, "RUNNING")

	w.ok(202, "PUT", "/connectors/src/topics/reset", nil)
	w.ok(204, "DELETE", "/connectors/src", nil)
	w.fails(404, "Connector src not found", "DELETE", "/connectors/src", nil)
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// initial_state (KIP-980): PAUSED and STOPPED connectors come up with no
// tasks; RUNNING is the default.
func TestInitialState(t *testing.T) {
	t.Parallel()
	w := startWorker(t)
	for _, c := range []struct{ initial, state string }{{"PAUSED", "PAUSED"}, {"stopped", "STOPPED"}, {"Running", "RUNNING"}} {
		name := "c-" + strings.ToLower(c.initial)
		r := w.ok(201, "POST", "/connectors", map[string]any{"name": name, "initial_state": c.initial, "config": map[string]any{
			"connector.class": "FileStreamSource", "file": filepath.Join(w.dir, name), "topic": name,
		}})
		var info struct {
			Tasks []any `json:"tasks"`
		}
		r.decode(t, &info)
		if info.Tasks == nil || len(info.Tasks) != 0 {
			t.Errorf("%s: created with tasks %s", name, r.body)
		}
		if c.state == "RUNNING" {
			w.waitState(name, "RUNNING", 1, "RUNNING")
			continue
		}
		w.waitState(name, c.state, 0, "")
		if r := w.ok(200, "GET", "/connectors/"+name+"/tasks", nil); string(r.body) != "[]" {
			t.Errorf("%s: tasks %s", name, r.body)
		}
	}
}

// PUT config creates (201 + Location) or replaces (200); PATCH merges,
// removes keys set to null, and is always 200.
func TestPutAndPatchConfig(t *testing.T) {
	t.Parallel()
	w := startWorker(t)
	cfg := map[string]any{"connector.class": "FileStreamSink", "tasks.max": 1, "topics": "p", "file": filepath.Join(w.dir, "out")}
	r := w.ok(201, "PUT", "/connectors/sink%20one/config", cfg)
	if loc := r.header.Get("Location"); loc != w.url+"/connectors/sink%20one" {
		t.Errorf("Location %q", loc)
	}
	var info struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
		Tasks  []any             `json:"tasks"`
		Type   string            `json:"type"`
	}
	r.decode(t, &info)
	if info.Name != "sink one" || info.Config["name"] != "sink one" || info.Config["tasks.max"] != "1" || info.Type != "sink" || info.Tasks == nil {
		t.Errorf("created %s", r.body)
	}
	cfg["errors.tolerance"] = "all"
	r = w.ok(200, "PUT", "/connectors/sink%20one/config/", cfg)
	if r.header.Get("Location") != "" {
		t.Error("Location on replace")
	}

	r = w.ok(200, "PATCH", "/connectors/sink%20one/config", `{"errors.tolerance":null,"errors.log.enable":true}`)
	r.decode(t, &info)
	if _, ok := info.Config["errors.tolerance"]; ok || info.Config["errors.log.enable"] != "true" || info.Config["topics"] != "p" {
		t.Errorf("patched %v", info.Config)
	}
	var config map[string]string
	w.ok(200, "GET", "/connectors/sink%20one/config", nil).decode(t, &config)
	if _, ok := config["errors.tolerance"]; ok || config["errors.log.enable"] != "true" {
		t.Errorf("config after patch %v", config)
	}
	w.fails(404, "Connector nope not found", "PATCH", "/connectors/nope/config", `{"a":"b"}`)

	// An invalid patch is rejected like an invalid PUT.
	msg := w.failsWith(400, "PATCH", "/connectors/sink%20one/config", `{"topics":null}`)
	if !strings.HasPrefix(msg, "Connector configuration is invalid and contains the following 2 error(s):\n"+
		"Must configure one of topics or topics.regex\nMust configure one of topics or topics.regex\n") ||
		!strings.HasSuffix(msg, "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`") {
		t.Errorf("invalid patch: %q", msg)
	}
}

// GET /connectors?expand=status&expand=info (KIP-465).
func TestListExpand(t *testing.T) {
	t.Parallel()
	w := startWorker(t)
	for _, n := range []string{"a", "b"} {
		w.ok(201, "POST", "/connectors", map[string]any{"name": n, "config": map[string]any{
			"connector.class": "FileStreamSource", "file": filepath.Join(w.dir, n), "topic": n,
		}})
		w.waitState(n, "RUNNING", 1, "RUNNING")
	}
	r := w.ok(200, "GET", "/connectors?expand=status&expand=info", nil)
	var out map[string]json.RawMessage
	r.decode(t, &out)
	if len(out) != 2 {
		t.Fatalf("expanded %s", r.body)
	}
	if keys := objectKeys(t, out["a"]); !slices.Equal(keys, []string{"status", "info"}) {
		t.Errorf("keys %v", keys)
	}
	var entry struct {
		Status status `json:"status"`
		Info   struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"info"`
	}
	if err := json.Unmarshal(out["b"], &entry); err != nil || entry.Status.Connector.State != "RUNNING" || entry.Info.Name != "b" || entry.Info.Type != "source" {
		t.Errorf("b: %s", out["b"])
	}
	r = w.ok(200, "GET", "/connectors?expand=info&expand=status", nil)
	r.decode(t, &out)
	if keys := objectKeys(t, out["a"]); !slices.Equal(keys, []string{"info", "status"}) {
		t.Errorf("keys %v", keys)
	}
	r = w.ok(200, "GET", "/connectors?expand=bogus", nil)
	if string(r.body) != `{"a":{},"b":{}}` {
		t.Errorf("unknown expansion: %s", r.body)
	}
	r = w.ok(200, "GET", "/connectors?expand=info", nil)
	r.decode(t, &out)
	if keys := objectKeys(t, out["b"]); !slices.Equal(keys, []string{"info"}) {
		t.Errorf("keys %v", keys)
	}
	// A connector without a status yet is left out rather than failing
	// the listing: a stopped-then-deleted one simply disappears.
	w.ok(204, "DELETE", "/connectors/a", nil)
	eventually(t, 10*time.Second, "a gone from the expanded listing", func() (bool, string) {
		r := w.ok(200, "GET", "/connectors?expand=status", nil)
		out = nil
		r.decode(t, &out)
		_, ok := out["a"]
		return !ok && len(out) == 1, string(r.body)
	})
}
