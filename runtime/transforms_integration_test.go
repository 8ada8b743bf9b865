//go:build integration

package runtime

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTransformChainThroughWorkerWithKcat runs a chain of transforms with
// predicates in a running worker, configured with Kafka's class names and
// keys exactly as a Kafka Connect config has them, and reads the result
// with kcat (librdkafka), as a user would. A second connector with the same
// chain writes to a topic its Filter's predicate matches: everything it
// reads is dropped, and its offsets still advance.
func TestTransformChainThroughWorkerWithKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed (apt-get install kcat; .ci/run does it)")
	}
	w := startWorker(t)
	h := w.Herder()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dir := t.TempDir()
	const lines = 200
	var in strings.Builder
	for i := range lines {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	for _, f := range []string{"a.txt", "b.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(in.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chain := func(file, topic string) map[string]string {
		return map[string]string{
			"connector.class":                 "org.apache.kafka.connect.file.FileStreamSourceConnector",
			"tasks.max":                       "1",
			"file":                            filepath.Join(dir, file),
			"topic":                           topic,
			"key.converter":                   "org.apache.kafka.connect.storage.StringConverter",
			"value.converter":                 "org.apache.kafka.connect.json.JsonConverter",
			"value.converter.schemas.enable":  "false",
			"transforms":                      "hoist,insert,header,keep,route,tag",
			"transforms.hoist.type":           "org.apache.kafka.connect.transforms.HoistField$Value",
			"transforms.hoist.field":          "line",
			"transforms.insert.type":          "org.apache.kafka.connect.transforms.InsertField$Value",
			"transforms.insert.static.field":  "origin",
			"transforms.insert.static.value":  "sluice",
			"transforms.header.type":          "org.apache.kafka.connect.transforms.InsertHeader",
			"transforms.header.header":        "stage",
			"transforms.header.value.literal": "transformed",
			"transforms.keep.type":            "org.apache.kafka.connect.transforms.Filter",
			"transforms.keep.predicate":       "isDrop",
			"transforms.route.type":           "org.apache.kafka.connect.transforms.RegexRouter",
			"transforms.route.regex":          "raw-(.*)",
			"transforms.route.replacement":    "clean-$1",
			"transforms.route.predicate":      "isRaw",
			"transforms.tag.type":             "org.apache.kafka.connect.transforms.InsertField$Value",
			"transforms.tag.static.field":     "routed",
			"transforms.tag.static.value":     "yes",
			"transforms.tag.predicate":        "isRaw",
			"transforms.tag.negate":           "true",
			"predicates":                      "isDrop,isRaw",
			"predicates.isDrop.type":          "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
			"predicates.isDrop.pattern":       "drop-.*",
			"predicates.isRaw.type":           "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
			"predicates.isRaw.pattern":        "raw-.*",
		}
	}
	if _, err := h.CreateConnector(ctx, "pipe-a", chain("a.txt", "raw-a"), TargetStarted); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateConnector(ctx, "pipe-b", chain("b.txt", "drop-b"), TargetStarted); err != nil {
		t.Fatal(err)
	}

	// The routed topic holds every line, with the inserted fields and header.
	var got []string
	deadline := time.Now().Add(time.Minute)
	for len(got) < lines {
		if time.Now().After(deadline) {
			t.Fatalf("kcat read %d of %d records from clean-a", len(got), lines)
		}
		out, err := exec.CommandContext(ctx, kcat, "-b", w.BrokerAddr(), "-C", "-t", "clean-a", "-o", "beginning", "-e", "-q",
			"-f", "%h|%s\n").Output()
		if err == nil {
			got = strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(got) == 1 && got[0] == "" {
				got = nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(got) != lines {
		t.Fatalf("clean-a has %d records, want %d", len(got), lines)
	}
	for i, rec := range got {
		want := fmt.Sprintf(`stage=transformed|{"line":"line %d","origin":"sluice","routed":"yes"}`, i)
		if rec != want {
			t.Fatalf("record %d:\n got %s\nwant %s", i, rec, want)
		}
	}

	// pipe-b's Filter dropped everything: its offsets advanced to the end
	// of its file, and its topic holds nothing.
	eventually(t, "pipe-b's offsets reach the end of b.txt", func() error {
		offs, err := h.Offsets(ctx, "pipe-b")
		if err != nil {
			return err
		}
		if len(offs.Offsets) != 1 || fmt.Sprint(offs.Offsets[0].Offset["position"]) != fmt.Sprint(len(in.String())) {
			return fmt.Errorf("offsets %+v, want position %d", offs.Offsets, len(in.String()))
		}
		return nil
	})
	out, _ := exec.CommandContext(ctx, kcat, "-b", w.BrokerAddr(), "-C", "-t", "drop-b", "-o", "beginning", "-e", "-q").Output()
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Fatalf("drop-b should be empty, kcat read:\n%s", s)
	}
}
