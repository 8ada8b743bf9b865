// Package examples holds runnable connector configs; its test checks that
// they parse and that the file and datagen pipelines run on a real worker.
package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/internal/properties"
	"github.com/sluicedata/sluice/plugins"
	"github.com/sluicedata/sluice/runtime"
)

// connectorFile reads an example: {"name","config"} or a flat config.
func connectorFile(t *testing.T, path string) (string, map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wrapped struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}
	if err := json.Unmarshal(data, &wrapped); err == nil && wrapped.Config != nil {
		return wrapped.Name, wrapped.Config
	}
	var flat map[string]string
	if err := json.Unmarshal(data, &flat); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return strings.TrimSuffix(filepath.Base(path), ".json"), flat
}

func TestEveryExampleParsesAndNamesAKnownPlugin(t *testing.T) {
	reg := plugins.Builtin()
	paths, _ := filepath.Glob("*/*.json")
	props, _ := filepath.Glob("*/*.properties")
	if len(paths) < 6 || len(props) < 2 {
		t.Fatalf("examples missing: %v %v", paths, props)
	}
	for _, p := range paths {
		_, cfg := connectorFile(t, p)
		if _, err := reg.Lookup(cfg["connector.class"], plugins.KindSource, plugins.KindSink); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range props {
		cfg, err := properties.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Lookup(cfg["connector.class"], plugins.KindSource, plugins.KindSink); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestQuickstartAndDatagenRun runs the quickstart and datagen examples on
// a worker with the embedded broker, files redirected to a temporary
// directory: the quickstart's lines and the generated orders arrive.
func TestQuickstartAndDatagenRun(t *testing.T) {
	dir := t.TempDir()
	cfg := runtime.DefaultWorkerConfig()
	for k, v := range map[string]string{"data.dir": filepath.Join(dir, "data"), "broker.listen": "127.0.0.1:0",
		"listeners": "http://127.0.0.1:0", "offset.flush.interval.ms": "200"} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	w, err := runtime.NewWorker(cfg, runtime.Options{Levels: runtime.NewLogLevels(slog.DiscardHandler, slog.LevelInfo), Registry: plugins.Builtin(), Version: "examples"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	h := w.Herder()

	if err := os.WriteFile(filepath.Join(dir, "test.txt"), []byte("foo\nbar\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	create := func(path string, files map[string]string) {
		t.Helper()
		name, c := connectorFile(t, path)
		for k, v := range files {
			c[k] = v
		}
		if _, err := h.CreateConnector(ctx, name, c, runtime.TargetStarted); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	create("quickstart/file-source.json", map[string]string{"file": filepath.Join(dir, "test.txt")})
	create("quickstart/file-sink.json", map[string]string{"file": filepath.Join(dir, "test.sink.txt")})
	create("datagen-to-file/orders-sink.json", map[string]string{"file": filepath.Join(dir, "orders.txt")})
	create("datagen-to-file/orders.json", nil)

	lines := func(p string) int {
		data, _ := os.ReadFile(p)
		return bytes.Count(data, []byte{'\n'})
	}
	deadline := time.Now().Add(time.Minute)
	for lines(filepath.Join(dir, "test.sink.txt")) < 2 || lines(filepath.Join(dir, "orders.txt")) < 10000 {
		if time.Now().After(deadline) {
			t.Fatalf("after a minute: %d quickstart lines, %d orders", lines(filepath.Join(dir, "test.sink.txt")), lines(filepath.Join(dir, "orders.txt")))
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "test.sink.txt"))
	if string(got) != "foo\nbar\n" {
		t.Fatalf("test.sink.txt = %q", got)
	}
	orders, _ := os.ReadFile(filepath.Join(dir, "orders.txt"))
	if !bytes.Contains(orders, []byte("origin=sluice-example")) {
		t.Fatalf("orders lack the inserted field: %.300s", orders)
	}
}
