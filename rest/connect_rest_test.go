package rest_test

import (
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The checks of Kafka's tests/kafkatest/tests/connect/connect_rest_test.py
// (ConnectRestApiTest.test_rest_api), against one worker.

const (
	fileSourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	fileSinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
)

// The exact key sets connect_rest_test.py expects from validate.
var (
	fileSourceConfigs = []string{"name", "connector.class", "tasks.max", "key.converter", "value.converter", "header.converter", "batch.size",
		"topic", "file", "transforms", "config.action.reload", "errors.retry.timeout", "errors.retry.delay.max.ms",
		"errors.tolerance", "errors.log.enable", "errors.log.include.messages", "predicates", "topic.creation.groups",
		"exactly.once.support", "transaction.boundary", "transaction.boundary.interval.ms", "offsets.storage.topic",
		"tasks.max.enforce"}
	fileSinkConfigs = []string{"name", "connector.class", "tasks.max", "key.converter", "value.converter", "header.converter", "topics",
		"file", "transforms", "topics.regex", "config.action.reload", "errors.retry.timeout", "errors.retry.delay.max.ms",
		"errors.tolerance", "errors.log.enable", "errors.log.include.messages", "errors.deadletterqueue.topic.name",
		"errors.deadletterqueue.topic.replication.factor", "errors.deadletterqueue.context.headers.enable", "predicates",
		"tasks.max.enforce"}
)

// configInfos is the validate answer, decoded loosely.
type configInfos struct {
	Name       string   `json:"name"`
	ErrorCount int      `json:"error_count"`
	Groups     []string `json:"groups"`
	Configs    []struct {
		Definition *struct {
			Name string `json:"name"`
		} `json:"definition"`
		Value *struct {
			Name   string   `json:"name"`
			Errors []string `json:"errors"`
		} `json:"value"`
	} `json:"configs"`
}

func TestConnectRestAPI(t *testing.T) {
	t.Parallel()
	// The ducktape test takes the topic from a file through the file
	// config provider; the stored config keeps the placeholder.
	external := filepath.Join(t.TempDir(), "connect-external.properties")
	if err := os.WriteFile(external, []byte("topic.external=test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := startWorker(t, func(p map[string]string, _ *restOptions) {
		p["config.providers"] = "file"
		p["config.providers.file.class"] = "org.apache.kafka.common.config.provider.FileConfigProvider"
	})
	topic := "topic-${file:" + external + ":topic.external}"
	input := filepath.Join(w.dir, "connect.input")
	input2 := filepath.Join(w.dir, "connect.input2")
	output := filepath.Join(w.dir, "connect.output")

	if got := w.names(); len(got) != 0 {
		t.Fatalf("connectors at start: %v", got)
	}

	// The plugins are a superset of the file connectors.
	var plugins []struct {
		Class string `json:"class"`
		Type  string `json:"type"`
	}
	w.ok(200, "GET", "/connector-plugins", nil).decode(t, &plugins)
	types := map[string]string{}
	for _, p := range plugins {
		types[p.Class] = p.Type
	}
	if types[fileSourceClass] != "source" || types[fileSinkClass] != "sink" {
		t.Fatalf("plugins %v", plugins)
	}

	sourceConfig := map[string]string{
		"name": "local-file-source", "connector.class": fileSourceClass, "tasks.max": "1",
		"file": input, "topic": topic,
		"errors.log.enable": "true", "errors.log.include.messages": "true", "errors.tolerance": "none",
	}
	sinkConfig := map[string]string{
		"name": "local-file-sink", "connector.class": fileSinkClass, "tasks.max": "1",
		"file": output, "topics": topic,
		"key.converter.schemas.enable": "True", "value.converter.schemas.enable": "True",
		"errors.log.enable": "true", "errors.log.include.messages": "true", "errors.tolerance": "none",
	}

	// Validation: no errors, and exactly the framework + connector keys.
	verifyConfig := func(class string, config map[string]string, want []string) {
		t.Helper()
		var infos configInfos
		w.ok(200, "PUT", "/connector-plugins/"+class+"/config/validate", config).decode(t, &infos)
		if infos.Name != class || infos.ErrorCount != 0 {
			t.Fatalf("validate %s: name %q, %d errors: %+v", class, infos.Name, infos.ErrorCount, infos)
		}
		var names []string
		for _, c := range infos.Configs {
			if c.Definition == nil {
				t.Fatalf("validate %s: entry without a definition: %+v", class, c.Value)
			}
			names = append(names, c.Definition.Name)
		}
		slices.Sort(names)
		names = slices.Compact(names)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(names, want) {
			t.Fatalf("validate %s: keys\n%q\nwant\n%q", class, names, want)
		}
	}
	verifyConfig(fileSourceClass, sourceConfig, fileSourceConfigs)
	verifyConfig(fileSinkClass, sinkConfig, fileSinkConfigs)

	// Create both (ducktape's client posts {"name", "config"}).
	for _, c := range []map[string]string{sourceConfig, sinkConfig} {
		r := w.ok(201, "POST", "/connectors", map[string]any{"name": c["name"], "config": c})
		if loc := r.header.Get("Location"); loc != w.url+"/connectors/"+c["name"] {
			t.Errorf("Location %q", loc)
		}
	}
	eventually(t, 10*time.Second, "connectors listed", func() (bool, string) {
		got := w.names()
		return slices.Equal(got, []string{"local-file-sink", "local-file-source"}), strings.Join(got, ",")
	})

	appendLines(t, input, "foo", "bar", "baz")
	waitLines(t, output, "foo", "bar", "baz")

	// Creating the same connector again is a conflict.
	w.fails(409, "Connector local-file-source already exists",
		"POST", "/connectors", map[string]any{"name": "local-file-source", "config": sourceConfig})

	// Info equals {name, config, tasks, type} exactly, in Kafka's order.
	for _, c := range []struct {
		config map[string]string
		typ    string
	}{{sourceConfig, "source"}, {sinkConfig, "sink"}} {
		name := c.config["name"]
		r := w.ok(200, "GET", "/connectors/"+name, nil)
		if keys := objectKeys(t, r.body); !slices.Equal(keys, []string{"name", "config", "tasks", "type"}) {
			t.Errorf("info keys %v", keys)
		}
		var info map[string]any
		r.decode(t, &info)
		want := map[string]any{
			"name":   name,
			"config": toAny(c.config),
			"tasks":  []any{map[string]any{"connector": name, "task": float64(0)}},
			"type":   c.typ,
		}
		if !reflect.DeepEqual(info, want) {
			t.Errorf("info %s:\n%v\nwant\n%v", name, info, want)
		}
		var config map[string]string
		w.ok(200, "GET", "/connectors/"+name+"/config", nil).decode(t, &config)
		if !maps.Equal(config, c.config) {
			t.Errorf("config %s: %v, want %v", name, config, c.config)
		}
	}

	// Task configs: one task with the task class and the connector's
	// settings (the placeholder unresolved).
	for _, c := range []struct {
		config    map[string]string
		taskClass string
	}{
		{sourceConfig, "org.apache.kafka.connect.file.FileStreamSourceTask"},
		{sinkConfig, "org.apache.kafka.connect.file.FileStreamSinkTask"},
	} {
		name := c.config["name"]
		r := w.ok(200, "GET", "/connectors/"+name+"/tasks", nil)
		var tasks []struct {
			ID struct {
				Connector string `json:"connector"`
				Task      *int   `json:"task"`
			} `json:"id"`
			Config map[string]string `json:"config"`
		}
		r.decode(t, &tasks)
		if len(tasks) != 1 || tasks[0].ID.Connector != name || tasks[0].ID.Task == nil || *tasks[0].ID.Task != 0 {
			t.Fatalf("tasks %s: %s", name, r.body)
		}
		cfg := tasks[0].Config
		if cfg["task.class"] != c.taskClass {
			t.Errorf("tasks %s: task.class %q, want %q", name, cfg["task.class"], c.taskClass)
		}
		for _, k := range []string{"connector.class", "file", "tasks.max", "name"} {
			if cfg[k] != c.config[k] {
				t.Errorf("tasks %s: %s = %q, want %q", name, k, cfg[k], c.config[k])
			}
		}
		if tk := map[bool]string{true: "topic", false: "topics"}[c.config["topic"] != ""]; cfg[tk] != topic {
			t.Errorf("tasks %s: %s = %q, want the placeholder %q", name, tk, cfg[tk], topic)
		}
	}

	// Reconfigure the source to read another file: 200 (it exists).
	sourceConfig2 := maps.Clone(sourceConfig)
	sourceConfig2["file"] = input2
	r := w.ok(200, "PUT", "/connectors/local-file-source/config", sourceConfig2)
	if r.header.Get("Location") != "" {
		t.Errorf("Location on a replace: %q", r.header.Get("Location"))
	}
	appendLines(t, input2, "foo", "bar", "baz", "razz", "ma", "tazz")
	waitLines(t, output, "foo", "bar", "baz", "razz", "ma", "tazz")

	w.ok(204, "DELETE", "/connectors/local-file-source", nil)
	w.ok(204, "DELETE", "/connectors/local-file-sink", nil)
	eventually(t, 10*time.Second, "connectors gone", func() (bool, string) {
		got := w.names()
		return len(got) == 0, strings.Join(got, ",")
	})
	w.fails(404, "Connector local-file-source not found", "GET", "/connectors/local-file-source", nil)
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Kafka's quickstart through the REST API, with its configs unchanged
// (config/connect-file-source.properties, connect-file-sink.properties):
// lines appended to test.txt appear in test.sink.txt.
func TestQuickstart(t *testing.T) {
	t.Parallel()
	w := startWorker(t)
	source := filepath.Join(w.dir, "test.txt")
	sink := filepath.Join(w.dir, "test.sink.txt")
	appendLines(t, source, "foo", "bar")

	w.ok(201, "POST", "/connectors", map[string]any{"name": "local-file-source", "config": map[string]string{
		"name": "local-file-source", "connector.class": "FileStreamSource", "tasks.max": "1",
		"file": source, "topic": "connect-test",
	}})
	w.ok(201, "POST", "/connectors", map[string]any{"name": "local-file-sink", "config": map[string]string{
		"name": "local-file-sink", "connector.class": "FileStreamSink", "tasks.max": "1",
		"file": sink, "topics": "connect-test",
	}})
	w.waitState("local-file-source", "RUNNING", 1, "RUNNING")
	w.waitState("local-file-sink", "RUNNING", 1, "RUNNING")
	waitLines(t, sink, "foo", "bar")
	appendLines(t, source, "Another line")
	waitLines(t, sink, "foo", "bar", "Another line")

	// The source's offset and the sink's consumer group offset are visible.
	var offsets struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	eventually(t, 30*time.Second, "source offsets", func() (bool, string) {
		r := w.ok(200, "GET", "/connectors/local-file-source/offsets", nil)
		r.decode(t, &offsets)
		return len(offsets.Offsets) == 1 && offsets.Offsets[0].Partition["filename"] == source, string(r.body)
	})
	eventually(t, 30*time.Second, "sink offsets", func() (bool, string) {
		r := w.ok(200, "GET", "/connectors/local-file-sink/offsets", nil)
		r.decode(t, &offsets)
		return len(offsets.Offsets) == 1 && offsets.Offsets[0].Partition["kafka_topic"] == "connect-test" &&
			offsets.Offsets[0].Offset["kafka_offset"] == float64(3), string(r.body)
	})

	// The active topics (KIP-558).
	r := w.ok(200, "GET", "/connectors/local-file-sink/topics", nil)
	var topics map[string]map[string][]string
	r.decode(t, &topics)
	if !slices.Equal(topics["local-file-sink"]["topics"], []string{"connect-test"}) {
		t.Errorf("topics %s", r.body)
	}
}

// escapedName is a connector name that needs percent-encoding.
func TestConnectorNameEncoding(t *testing.T) {
	t.Parallel()
	w := startWorker(t)
	src := filepath.Join(w.dir, "in.txt")
	const name = "my connector/é"
	r := w.ok(201, "POST", "/connectors", map[string]any{"name": "  " + name + "\t", "config": map[string]any{
		"connector.class": "FileStreamSource", "tasks.max": 1, "file": src, "topic": "t",
	}})
	if loc := r.header.Get("Location"); loc != w.url+"/connectors/my%20connector%2F%C3%A9" {
		t.Errorf("Location %q", loc)
	}
	var info struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}
	r.decode(t, &info)
	if info.Name != name || info.Config["name"] != name || info.Config["tasks.max"] != "1" {
		t.Errorf("created %+v", info)
	}
	w.ok(200, "GET", "/connectors/"+url.PathEscape(name)+"/config", nil).decode(t, &info.Config)
	if info.Config["name"] != name {
		t.Errorf("config %v", info.Config)
	}
	names := w.names()
	if !slices.Equal(names, []string{name}) {
		t.Errorf("names %q", names)
	}
	b, _ := json.Marshal(names)
	if !strings.Contains(string(b), "é") {
		t.Errorf("names not UTF-8 in JSON: %s", b)
	}
}
