package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

// The config names connect_rest_test.py expects from validate for the
// FileStream connectors.
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

func configNames(infos connectors.ConfigInfos) []string {
	var out []string
	for _, c := range infos.Configs {
		switch {
		case c.Definition != nil:
			out = append(out, c.Definition.Name)
		case c.Value != nil:
			out = append(out, c.Value.Name)
		}
	}
	slices.Sort(out)
	return out
}

func errorsOf(infos connectors.ConfigInfos) map[string][]string {
	out := map[string][]string{}
	for _, c := range infos.Configs {
		if c.Value != nil && len(c.Value.Errors) > 0 {
			out[c.Value.Name] = append(out[c.Value.Name], c.Value.Errors...)
		}
	}
	return out
}

func TestValidateFileConnectors(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	for _, tc := range []struct {
		config map[string]string
		want   []string
	}{
		{map[string]string{"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "name": "local-file-source",
			"tasks.max": "1", "file": "/mnt/connect.input", "topic": "test"}, fileSourceConfigs},
		{map[string]string{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "name": "local-file-sink",
			"tasks.max": "1", "file": "/mnt/connect.output", "topics": "test"}, fileSinkConfigs},
	} {
		infos, err := h.Validate(ctx, tc.config)
		if err != nil {
			t.Fatal(err)
		}
		if infos.ErrorCount != 0 || infos.Name != tc.config["connector.class"] {
			t.Errorf("%s: %d errors %v", infos.Name, infos.ErrorCount, errorsOf(infos))
		}
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if got := configNames(infos); !slices.Equal(got, want) {
			t.Errorf("%s config names:\n got  %v\n want %v", infos.Name, got, want)
		}
		if !slices.Contains(infos.Groups, "Common") || !slices.Contains(infos.Groups, "Error Handling") {
			t.Errorf("groups %v", infos.Groups)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	w := startWorker(t, func(c *WorkerConfig, _ *Options) { c.ConnectorClientConfigOverridePolicy = "None" })
	h := w.Herder()
	ctx := ctxT(t)
	infos, err := h.Validate(ctx, map[string]string{
		"connector.class": "FileStreamSink", "name": "s",
		"topics": "a,b", "topics.regex": "x.*",
		"errors.deadletterqueue.topic.name":  "a",
		"key.converter":                      "NoSuchConverter",
		"value.converter":                    "JsonConverter",
		"value.converter.schemas.enable":     "maybe",
		"errors.tolerance":                   "some",
		"transforms":                         "route",
		"transforms.route.type":              "NoSuchTransform",
		"consumer.override.max.poll.records": "10",
	})
	if err != nil {
		t.Fatal(err)
	}
	errs := errorsOf(infos)
	for key, want := range map[string]string{
		"topics":                             "topics and topics.regex are mutually exclusive options, but both are set.",
		"key.converter":                      "Invalid value NoSuchConverter for configuration key.converter: Class NoSuchConverter could not be found.",
		"value.converter.schemas.enable":     "Invalid value maybe for configuration schemas.enable: Expected value to be either true or false",
		"errors.tolerance":                   "Invalid value some for configuration errors.tolerance: String must be one of: none, all",
		"transforms.route.type":              "NoSuchTransform",
		"consumer.override.max.poll.records": "The 'None' policy does not allow 'max.poll.records' to be overridden in the connector configuration.",
	} {
		found := false
		for _, e := range errs[key] {
			if strings.Contains(e, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: errors %q do not contain %q", key, errs[key], want)
		}
	}
	dlq := "The DLQ topic 'a' may not be included in the list of topics ('topics=[a, b]') consumed by the connector"
	if !slices.Contains(errs["topics"], dlq) {
		t.Errorf("topics errors %q lack the DLQ one", errs["topics"])
	}
	total := 0
	for _, es := range errs {
		total += len(es)
	}
	if infos.ErrorCount < 7 {
		t.Errorf("error_count = %d (%d messages): %v", infos.ErrorCount, total, errs)
	}

	// Nulls.
	v := "FileStreamSink"
	infos, err = h.ValidateNullable(ctx, map[string]*string{"connector.class": &v, "topics": nil, "file": nil})
	if err != nil {
		t.Fatal(err)
	}
	errs = errorsOf(infos)
	for _, k := range []string{"topics", "file"} {
		if !slices.Contains(errs[k], "Null value can not be supplied as the configuration value.") {
			t.Errorf("%s: %q", k, errs[k])
		}
	}

	// No class: 400; unknown class: 500.
	_, err = h.Validate(ctx, map[string]string{"tasks.max": "1"})
	if !errors.Is(err, ErrBadRequest) || err.Error() != "Connector config {tasks.max=1} contains no connector type" {
		t.Errorf("no class: %v", err)
	}
	_, err = h.Validate(ctx, map[string]string{"connector.class": "com.example.Nope"})
	if !errors.Is(err, ErrServerError) || !strings.Contains(err.Error(), "which name matches com.example.Nope") {
		t.Errorf("unknown class: %v", err)
	}
}

// TestConfigProviders: placeholders are resolved for the connector and
// its tasks, never stored or shown resolved.
func TestConfigProviders(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.properties")
	if err := os.WriteFile(secrets, []byte("topic.external=resolved-topic\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := startWorker(t, func(c *WorkerConfig, _ *Options) {
		c.Set("config.providers", "file")
		c.Set("config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider")
	})
	h := w.Herder()
	ctx := ctxT(t)
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	topic := "${file:" + secrets + ":topic.external}"
	for name, cfg := range map[string]map[string]string{
		"src":  {"connector.class": "FileStreamSource", "file": in, "topic": topic},
		"sink": {"connector.class": "FileStreamSink", "file": out, "topics": topic},
	} {
		if _, err := h.CreateConnector(ctx, name, cfg, ""); err != nil {
			t.Fatal(err)
		}
	}
	appendLines(t, in, "x")
	waitLines(t, out, []string{"x"})
	c, _ := h.ConnectorConfig(ctx, "sink")
	if c["topics"] != topic {
		t.Errorf("stored config shows %q, want the placeholder", c["topics"])
	}
	tcs, _ := h.TaskConfigs(ctx, "sink")
	if len(tcs) != 1 || tcs[0].Config["topics"] != topic {
		t.Errorf("task config: %v", tcs)
	}
	if topics, _ := h.ActiveTopics(ctx, "src"); !slices.Equal(topics, []string{"resolved-topic"}) {
		t.Errorf("the source wrote to %v", topics)
	}
	raw := readTopic(t, w, "connect-configs")
	for _, r := range raw {
		if strings.Contains(string(r.Value), "resolved-topic") {
			t.Errorf("a resolved value reached the config topic: %s = %s", r.Key, r.Value)
		}
	}
}

func TestPluginsAndPluginConfig(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	list := h.Plugins(true)
	var classes []string
	for _, p := range list {
		classes = append(classes, p.Class)
		if p.Type != "source" && p.Type != "sink" {
			t.Errorf("connectorsOnly lists %+v", p)
		}
	}
	if !slices.Contains(classes, "org.apache.kafka.connect.file.FileStreamSourceConnector") || list[0].Type != "sink" {
		t.Errorf("plugins: %v", list)
	}
	all := h.Plugins(false)
	kinds := map[string]bool{}
	for _, p := range all {
		kinds[p.Type] = true
	}
	for _, k := range []string{"sink", "source", "transformation", "predicate", "converter", "header_converter"} {
		if !kinds[k] {
			t.Errorf("no %s in %v", k, all)
		}
	}
	keys, err := h.PluginConfig("FileStreamSink")
	if err != nil {
		t.Fatal(err)
	}
	if keys[0].Name != "file" || !slices.ContainsFunc(keys, func(k connectors.ConfigKeyInfo) bool { return k.Name == "topics" }) {
		t.Errorf("plugin config: %v", keys)
	}
	if _, err := h.PluginConfig("Nope"); !errors.Is(err, ErrNotFound) || err.Error() != "Unknown plugin Nope." {
		t.Errorf("unknown plugin: %v", err)
	}
	if _, err := h.PluginConfig("JsonConverter"); err != nil {
		t.Errorf("converter config: %v", err)
	}
}

// TestValidateTransformErrorsOnce pins that an error in a transform's key
// is reported once, naming the full key, at validate and at create time.
func TestValidateTransformErrorsOnce(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	cfg := map[string]string{
		"connector.class": "FileStreamSource", "name": "tx", "topic": "t",
		"transforms": "r", "transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.r.regex": "(", "transforms.r.replacement": "x",
	}
	infos, err := h.Validate(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if infos.ErrorCount != 1 {
		t.Fatalf("error_count %d, want 1: %v", infos.ErrorCount, infos.Errors())
	}
	if e := infos.Errors()[0]; !strings.Contains(e, "transforms.r.regex") {
		t.Fatalf("error does not name the full key: %s", e)
	}
	cfg["transforms.r.type"] = "Nope"
	_, err = h.CreateConnector(ctxT(t), "tx", cfg, TargetStarted)
	if err == nil || strings.Count(err.Error(), "Class Nope could not be found") != 1 {
		t.Fatalf("create: %v", err)
	}
}
