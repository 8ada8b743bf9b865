package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fileConnectors creates Kafka's quickstart pair: a FileStreamSource
// reading in.txt into topic, and a FileStreamSink writing it to out.txt.
func fileConnectors(t *testing.T, w *testWorker, dir, topic string) (in, out string) {
	t.Helper()
	in, out = filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	h := w.Herder()
	if _, err := h.CreateConnector(ctxT(t), "local-file-source", map[string]string{
		"connector.class": "FileStreamSource", "tasks.max": "1", "file": in, "topic": topic,
	}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateConnector(ctxT(t), "local-file-sink", map[string]string{
		"connector.class": "FileStreamSink", "tasks.max": "1", "file": out, "topics": topic,
	}, ""); err != nil {
		t.Fatal(err)
	}
	return in, out
}

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
}

func waitLines(t *testing.T, path string, want []string) {
	t.Helper()
	eventually(t, "lines in "+filepath.Base(path), func() error {
		if got := readLines(path); !slices.Equal(got, want) {
			return fmt.Errorf("%d lines: %q", len(got), got)
		}
		return nil
	})
}

func TestQuickstartLifecycle(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	dir := t.TempDir()
	in, out := fileConnectors(t, w, dir, "connect-test")
	appendLines(t, in, "foo", "bar")
	waitLines(t, out, []string{"foo", "bar"})

	st := waitState(t, h, "local-file-source", StateRunning, 1)
	if st.Type != "source" || st.Connector.WorkerID != "127.0.0.1:18083" || st.Tasks[0].WorkerID != "127.0.0.1:18083" {
		t.Errorf("status: %+v", st)
	}
	info, err := h.ConnectorInfo(ctxT(t), "local-file-sink")
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != "sink" || len(info.Tasks) != 1 || info.Config["name"] != "local-file-sink" {
		t.Errorf("info: %+v", info)
	}
	tcs, err := h.TaskConfigs(ctxT(t), "local-file-sink")
	if err != nil {
		t.Fatal(err)
	}
	if len(tcs) != 1 || tcs[0].Config["task.class"] != "org.apache.kafka.connect.file.FileStreamSinkTask" || tcs[0].Config["topics"] != "connect-test" {
		t.Errorf("task configs: %+v", tcs)
	}
	if topics, _ := h.ActiveTopics(ctxT(t), "local-file-source"); !slices.Equal(topics, []string{"connect-test"}) {
		t.Errorf("source active topics = %v", topics)
	}
	eventually(t, "sink active topics", func() error {
		if topics, _ := h.ActiveTopics(ctxT(t), "local-file-sink"); !slices.Equal(topics, []string{"connect-test"}) {
			return fmt.Errorf("%v", topics)
		}
		return nil
	})

	// Pause: nothing moves; resume: it catches up.
	if err := h.PauseConnector(ctxT(t), "local-file-source"); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "local-file-source", StatePaused, 1)
	appendLines(t, in, "baz")
	if err := h.ResumeConnector(ctxT(t), "local-file-source"); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "local-file-source", StateRunning, 1)
	waitLines(t, out, []string{"foo", "bar", "baz"})

	// Stop: no tasks at all; offsets can be read.
	if err := h.StopConnector(ctxT(t), "local-file-source"); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "local-file-source", StateStopped, 0)
	if info, _ := h.ConnectorInfo(ctxT(t), "local-file-source"); len(info.Tasks) != 0 {
		t.Errorf("stopped connector has tasks: %+v", info)
	}
	if tcs, _ := h.TaskConfigs(ctxT(t), "local-file-source"); len(tcs) != 0 {
		t.Errorf("stopped connector has task configs: %+v", tcs)
	}
	offs, err := h.Offsets(ctxT(t), "local-file-source")
	if err != nil {
		t.Fatal(err)
	}
	if len(offs.Offsets) != 1 || offs.Offsets[0].Partition["filename"] != in {
		t.Errorf("source offsets: %+v", offs)
	}
	// Resume from STOPPED.
	if err := h.ResumeConnector(ctxT(t), "local-file-source"); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "local-file-source", StateRunning, 1)
	appendLines(t, in, "qux")
	waitLines(t, out, []string{"foo", "bar", "baz", "qux"})

	// Restart with flags answers with RESTARTING and comes back RUNNING.
	rs, err := h.RestartConnector(ctxT(t), "local-file-sink", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if rs == nil || rs.Connector.State != StateRestarting || rs.Tasks[0].State != StateRestarting {
		t.Errorf("restart response: %+v", rs)
	}
	waitState(t, h, "local-file-sink", StateRunning, 1)
	if rs, err := h.RestartConnector(ctxT(t), "local-file-sink", false, false); err != nil || rs != nil {
		t.Errorf("plain restart: %v %v", rs, err)
	}
	if err := h.RestartTask(ctxT(t), TaskID{"local-file-sink", 0}); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "local-file-sink", StateRunning, 1)
	appendLines(t, in, "quux")
	waitLines(t, out, []string{"foo", "bar", "baz", "qux", "quux"})

	// Delete.
	if err := h.DeleteConnector(ctxT(t), "local-file-sink"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ConnectorInfo(ctxT(t), "local-file-sink"); !errors.Is(err, ErrNotFound) || err.Error() != "Connector local-file-sink not found" {
		t.Errorf("info after delete: %v", err)
	}
	if _, err := h.ConnectorStatus(ctxT(t), "local-file-sink"); !errors.Is(err, ErrNotFound) || err.Error() != "No status found for connector local-file-sink" {
		t.Errorf("status after delete: %v", err)
	}
	if names, _ := h.Connectors(ctxT(t)); !slices.Equal(names, []string{"local-file-source"}) {
		t.Errorf("connectors = %v", names)
	}
	if topics, _ := h.ActiveTopics(ctxT(t), "local-file-sink"); len(topics) != 0 {
		t.Errorf("deleted connector keeps active topics %v", topics)
	}
}

func TestRequestErrors(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	check := func(what string, err error, kind error, msg string) {
		t.Helper()
		if !errors.Is(err, kind) || err.Error() != msg {
			t.Errorf("%s: got %v (%T), want %v %q", what, err, err, kind, msg)
		}
	}
	_, err := h.ConnectorInfo(ctx, "nope")
	check("info", err, ErrNotFound, "Connector nope not found")
	_, err = h.ConnectorConfig(ctx, "nope")
	check("config", err, ErrNotFound, "Connector nope not found")
	_, err = h.TaskConfigs(ctx, "nope")
	check("tasks", err, ErrNotFound, "Connector nope not found")
	_, err = h.ConnectorStatus(ctx, "nope")
	check("status", err, ErrNotFound, "No status found for connector nope")
	_, err = h.TaskStatus(ctx, TaskID{"nope", 0})
	check("task status", err, ErrNotFound, "No status found for task nope-0")
	check("pause", h.PauseConnector(ctx, "nope"), ErrNotFound, "Unknown connector nope")
	check("resume", h.ResumeConnector(ctx, "nope"), ErrNotFound, "Unknown connector nope")
	check("stop", h.StopConnector(ctx, "nope"), ErrNotFound, "Unknown connector nope")
	check("delete", h.DeleteConnector(ctx, "nope"), ErrNotFound, "Connector nope not found")
	_, err = h.RestartConnector(ctx, "nope", false, false)
	check("restart", err, ErrNotFound, "Unknown connector: nope")
	check("restart task", h.RestartTask(ctx, TaskID{"nope", 0}), ErrNotFound, "Unknown connector: nope")
	_, err = h.Offsets(ctx, "nope")
	check("offsets", err, ErrNotFound, "Connector nope not found")
	_, err = h.AlterOffsets(ctx, "nope", ConnectorOffsets{})
	check("alter empty", err, ErrBadRequest, "Partitions / offsets need to be provided for an alter offsets request")
	_, err = h.ResetOffsets(ctx, "nope")
	check("reset", err, ErrNotFound, "Connector nope not found")
	if topics, err := h.ActiveTopics(ctx, "nope"); err != nil || len(topics) != 0 {
		t.Errorf("active topics of an unknown connector: %v %v", topics, err)
	}

	cfg := map[string]string{"connector.class": "FileStreamSink", "topics": "t", "file": filepath.Join(t.TempDir(), "o")}
	if _, err := h.CreateConnector(ctx, "s", cfg, ""); err != nil {
		t.Fatal(err)
	}
	_, err = h.CreateConnector(ctx, "s", cfg, "")
	check("duplicate", err, ErrAlreadyExists, "Connector s already exists")
	_, err = h.CreateConnector(ctx, "x", map[string]string{"name": "y", "connector.class": "FileStreamSink"}, "")
	check("name mismatch", err, ErrBadRequest, "Connector name configuration (y) doesn't match connector name in the URL (x)")
	_, err = h.CreateConnector(ctx, "x", map[string]string{"topics": "t"}, "")
	check("no class", err, ErrBadRequest, "Connector config {topics=t, name=x} contains no connector type")
	_, err = h.CreateConnector(ctx, "x", map[string]string{"connector.class": "Nope"}, "")
	if !errors.Is(err, ErrServerError) || !strings.HasPrefix(err.Error(), "Failed to find any class that implements Connector and which name matches Nope, available connectors are: ") {
		t.Errorf("unknown class: %v", err)
	}
	_, err = h.CreateConnector(ctx, "x", map[string]string{"connector.class": "FileStreamSink", "tasks.max": "0"}, "")
	check("invalid", err, ErrBadRequest, "Connector configuration is invalid and contains the following 3 error(s):\n"+
		"Invalid value 0 for configuration tasks.max: Value must be at least 1\n"+
		"Must configure one of topics or topics.regex\n"+
		"Must configure one of topics or topics.regex\n"+
		"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
	_, err = h.PatchConnectorConfig(ctx, "nope", map[string]*string{})
	check("patch unknown", err, ErrNotFound, "Connector nope not found")
	check("restart unknown task", h.RestartTask(ctx, TaskID{"s", 7}), ErrNotFound, "Unknown task: s-7")
	_, err = h.AlterOffsets(ctx, "s", ConnectorOffsets{Offsets: []ConnectorOffset{{Partition: map[string]any{"kafka_topic": "t", "kafka_partition": 0}}}})
	check("alter running", err, ErrBadRequest, "Connectors must be in the STOPPED state before their offsets can be modified. "+
		"This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/s/stop' endpoint")
	_, err = h.Logger("no.such.logger")
	check("logger", err, ErrNotFound, "Logger no.such.logger not found.")
	_, err = h.SetLoggerLevel(ctx, "root", "LOUD", "worker")
	check("level", err, ErrNotFound, "invalid log level 'LOUD'.")
}

func TestPutAndPatchConfig(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	out := filepath.Join(t.TempDir(), "o")
	cfg := map[string]string{"connector.class": "FileStreamSink", "topics": "t1", "file": out}
	info, created, err := h.PutConnectorConfig(ctx, "s", cfg)
	if err != nil || !created || info.Name != "s" || len(info.Tasks) != 0 {
		t.Fatalf("put new: %+v %v %v", info, created, err)
	}
	waitState(t, h, "s", StateRunning, 1)
	cfg["topics"] = "t2"
	info, created, err = h.PutConnectorConfig(ctx, "s", cfg)
	if err != nil || created || len(info.Tasks) != 1 {
		t.Fatalf("put existing: %+v %v %v", info, created, err)
	}
	eventually(t, "new task config", func() error {
		tcs, err := h.TaskConfigs(ctx, "s")
		if err != nil || len(tcs) != 1 || tcs[0].Config["topics"] != "t2" {
			return fmt.Errorf("%+v %v", tcs, err)
		}
		return nil
	})
	two := "2"
	info, err = h.PatchConnectorConfig(ctx, "s", map[string]*string{"file": nil, "tasks.max": &two})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := info.Config["file"]; ok || info.Config["tasks.max"] != "2" || info.Config["topics"] != "t2" {
		t.Errorf("patched config: %v", info.Config)
	}
	c, _ := h.ConnectorConfig(ctx, "s")
	if c["tasks.max"] != "2" {
		t.Errorf("config after patch: %v", c)
	}
}

func TestInitialState(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	for _, tc := range []struct {
		name  string
		state TargetState
		want  State
	}{{"p", TargetPaused, StatePaused}, {"s", TargetStopped, StateStopped}} {
		info, err := h.CreateConnector(ctx, tc.name, map[string]string{"connector.class": "FileStreamSink", "topics": "t",
			"file": filepath.Join(t.TempDir(), "o")}, tc.state)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Tasks) != 0 {
			t.Errorf("%s: tasks %v", tc.name, info.Tasks)
		}
		waitState(t, h, tc.name, tc.want, 0)
	}
	// The paused one gets task configs when resumed.
	if err := h.ResumeConnector(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "p", StateRunning, 1)
}

func TestLoggers(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	l, err := h.Logger("ROOT")
	if err != nil || l.Level != "DEBUG" || l.LastModified != nil {
		t.Fatalf("root: %+v %v", l, err)
	}
	if l, err := h.Logger("sluice.runtime"); err != nil || l.Level != "DEBUG" {
		t.Fatalf("sluice.runtime: %+v %v", l, err)
	}
	names, err := h.SetLoggerLevel(ctx, "sluice", "warn", "worker")
	if err != nil || !slices.Contains(names, "sluice") || !slices.Contains(names, "sluice.runtime") {
		t.Fatalf("set: %v %v", names, err)
	}
	if l, _ := h.Logger("sluice.runtime"); l.Level != "WARN" || l.LastModified == nil {
		t.Errorf("sluice.runtime after set: %+v", l)
	}
	all := h.Loggers()
	if _, ok := all["root"]; !ok || all["sluice"].Level != "WARN" {
		t.Errorf("loggers: %v", all)
	}
	// Cluster scope goes through the config topic and comes back.
	if names, err := h.SetLoggerLevel(ctx, "sluice.broker", "ERROR", "cluster"); err != nil || names != nil {
		t.Fatalf("cluster: %v %v", names, err)
	}
	eventually(t, "cluster level applied", func() error {
		if l, _ := h.Logger("sluice.broker"); l.Level != "ERROR" {
			return fmt.Errorf("%+v", l)
		}
		return nil
	})
}

func TestServerInfoAndHealth(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	si := h.ServerInfo()
	if si.Version != "3.9.0" || si.Commit != "test" || si.KafkaClusterID == "" {
		t.Errorf("server info: %+v", si)
	}
	if hl := h.Health(context.Background()); hl.Status != "healthy" || hl.Message != healthyMessage {
		t.Errorf("health: %+v", hl)
	}
	// Before Start: starting.
	w2, err := NewWorker(testConfig(t, t.TempDir()), Options{Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	if hl := w2.Herder().Health(context.Background()); hl.Status != "starting" {
		t.Errorf("health before start: %+v", hl)
	}
}

// TestDatagenToFile runs the demo pipeline: datagen orders → topic →
// FileStreamSink, with a finite number of iterations; the source's input
// ends (its task stays RUNNING) and every record reaches the file.
func TestDatagenToFile(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	out := filepath.Join(t.TempDir(), "orders.json")
	if _, err := h.CreateConnector(ctx, "orders", map[string]string{"connector.class": "datagen", "kafka.topic": "orders",
		"quickstart": "orders", "iterations": "500", "max.interval": "0", "tasks.max": "1"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateConnector(ctx, "orders-sink", map[string]string{"connector.class": "FileStreamSink", "topics": "orders",
		"file": out}, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "500 orders in the file", func() error {
		if n := len(readLines(out)); n < 500 {
			return fmt.Errorf("%d lines", n)
		}
		return nil
	})
	if st, _ := h.ConnectorStatus(ctx, "orders"); st.Connector.State != StateRunning || len(st.Tasks) != 1 || st.Tasks[0].State != StateRunning {
		t.Errorf("finished source status: %+v", st)
	}
	if !strings.Contains(readLines(out)[0], "orderid=") {
		t.Errorf("line: %s", readLines(out)[0])
	}
}
