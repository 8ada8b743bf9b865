package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/connectors/conformance"
)

// quickstartSource is Kafka's config/connect-file-source.properties.
func quickstartSource(file string) map[string]string {
	return map[string]string{
		"name": "local-file-source", "connector.class": "FileStreamSource", "tasks.max": "1",
		"file": file, "topic": "connect-test",
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSourceConformance(t *testing.T) {
	conformance.RunSource(t, conformance.SourceSuite{
		Connector: func() connectors.SourceConnector { return new(SourceConnector) },
		Config: func(t *testing.T) map[string]string {
			c := quickstartSource(filepath.Join(t.TempDir(), "test.txt"))
			c[KeyBatchSize] = "7"
			return c
		},
		Feed: func(t *testing.T, config map[string]string, n int) {
			var b strings.Builder
			for range n {
				fmt.Fprintf(&b, "line %d\n", time.Now().UnixNano())
			}
			appendFile(t, config[KeyFile], b.String())
		},
	})
}

func openSource(t *testing.T, s *Source, config map[string]string, offsets connectors.OffsetReader) {
	t.Helper()
	if err := s.Open(context.Background(), connectors.SourceContext{Connector: "c", Offsets: offsets}, config); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
}

// pollUntil polls until n records arrived or the deadline passes.
func pollUntil(t *testing.T, s connectors.Source, n int) []connectors.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var out []connectors.Record
	for len(out) < n && time.Now().Before(deadline) {
		recs, err := s.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		out = append(out, recs...)
	}
	if len(out) != n {
		t.Fatalf("got %d records, want %d", len(out), n)
	}
	return out
}

type lineAt struct {
	line string
	pos  int64
}

func linesOf(t *testing.T, recs []connectors.Record, file string) []lineAt {
	t.Helper()
	out := make([]lineAt, len(recs))
	for i, r := range recs {
		if r.Topic != "connect-test" || r.ValueSchema != connectors.StringSchema || r.Key != nil || r.KeySchema != nil || r.Timestamp.IsZero() {
			t.Errorf("record %d: %+v", i, r)
		}
		if !maps.Equal(r.SourcePartition, map[string]any{"filename": file}) {
			t.Errorf("record %d partition %v", i, r.SourcePartition)
		}
		out[i] = lineAt{r.Value.(string), r.SourceOffset["position"].(int64)}
	}
	return out
}

func TestSourceReadsLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.txt")
	appendFile(t, path, "foo\nbar\r\nbaz\rqux\n\nünï\n")
	s := new(Source)
	openSource(t, s, quickstartSource(path), nil)
	got := linesOf(t, pollUntil(t, s, 6), path)
	want := []lineAt{{"foo", 4}, {"bar", 9}, {"baz", 13}, {"qux", 17}, {"", 18}, {"ünï", 24}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestSourceBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.txt")
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, "%d\n", i)
	}
	appendFile(t, path, b.String())
	s := new(Source)
	c := quickstartSource(path)
	c[KeyBatchSize] = "4"
	openSource(t, s, c, nil)
	var sizes []int
	for total := 0; total < 10; {
		recs, err := s.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(recs))
		total += len(recs)
	}
	if !slices.Equal(sizes, []int{4, 4, 2}) {
		t.Errorf("batch sizes %v, want [4 4 2]", sizes)
	}
}

func TestSourceTailsAndHoldsPartialLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.txt")
	appendFile(t, path, "one\ntw")
	s := new(Source)
	openSource(t, s, quickstartSource(path), nil)
	if got := linesOf(t, pollUntil(t, s, 1), path); got[0] != (lineAt{"one", 4}) {
		t.Fatalf("got %v", got)
	}
	// The partial line stays back; a trailing "\r" waits for a possible "\n".
	recs, err := s.Poll(context.Background())
	if err != nil || len(recs) != 0 {
		t.Fatalf("partial line: %v %v", recs, err)
	}
	appendFile(t, path, "o\r")
	if recs, _ := s.Poll(context.Background()); len(recs) != 0 {
		t.Fatalf("line ending in a lone \\r at end of data: %v", recs)
	}
	appendFile(t, path, "\nthree\n")
	got := linesOf(t, pollUntil(t, s, 2), path)
	if want := []lineAt{{"two", 9}, {"three", 15}}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSourceResumesFromStoredOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.txt")
	appendFile(t, path, "a\nbb\nccc\n")
	store := conformance.NewOffsetStore()
	s := new(Source)
	openSource(t, s, quickstartSource(path), store)
	recs := pollUntil(t, s, 3)
	if err := store.Store(recs[:2]); err != nil { // "a" and "bb" acknowledged
		t.Fatal(err)
	}
	_ = s.Close(context.Background())
	if off, _ := store.Offset(context.Background(), map[string]any{"filename": path}); !maps.Equal(off, map[string]any{"position": int64(5)}) {
		t.Fatalf("stored offset %v, want {position: 5}", off)
	}

	appendFile(t, path, "dddd\n")
	s2 := new(Source)
	openSource(t, s2, quickstartSource(path), store)
	got := linesOf(t, pollUntil(t, s2, 2), path)
	if want := []lineAt{{"ccc", 9}, {"dddd", 14}}; !slices.Equal(got, want) {
		t.Errorf("after resume got %v, want %v", got, want)
	}
}

// fixedOffset is an OffsetReader returning one offset for every partition.
type fixedOffset map[string]any

func (f fixedOffset) Offset(context.Context, map[string]any) (map[string]any, error) { return f, nil }

func TestSourceOffsetTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.txt")
	appendFile(t, path, "a\nbb\n")
	for _, pos := range []any{int64(2), 2, int32(2), float64(2), json.Number("2")} {
		s := new(Source)
		openSource(t, s, quickstartSource(path), fixedOffset{"position": pos})
		if got := linesOf(t, pollUntil(t, s, 1), path); got[0] != (lineAt{"bb", 5}) {
			t.Errorf("position %T: got %v", pos, got)
		}
	}
	for _, pos := range []any{"2", 2.5, int64(-1), true} {
		s := new(Source)
		err := s.Open(context.Background(), connectors.SourceContext{Offsets: fixedOffset{"position": pos}}, quickstartSource(path))
		if err == nil || !strings.Contains(err.Error(), "Offset position") {
			t.Errorf("position %#v: err = %v", pos, err)
		}
	}
}

func TestSourceWaitsForMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.txt")
	s := new(Source)
	openSource(t, s, quickstartSource(path), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if recs, err := s.Poll(ctx); err != nil || len(recs) != 0 {
		t.Fatalf("missing file: %v %v", recs, err)
	}
	appendFile(t, path, "hello\n")
	if got := linesOf(t, pollUntil(t, s, 1), path); got[0] != (lineAt{"hello", 6}) {
		t.Errorf("got %v", got)
	}
}

func TestSourceStdin(t *testing.T) {
	r, w := io.Pipe()
	s := &Source{stdin: r}
	c := quickstartSource("")
	openSource(t, s, c, nil)
	go func() {
		_, _ = io.WriteString(w, "one\ntwo\nlast")
		_ = w.Close()
	}()
	recs := pollUntil(t, s, 3)
	for i, want := range []string{"one", "two", "last"} {
		if recs[i].Value != want || recs[i].SourcePartition != nil || recs[i].SourceOffset != nil {
			t.Errorf("record %d = %+v", i, recs[i])
		}
	}
	if _, err := s.Poll(context.Background()); !errors.Is(err, connectors.ErrEndOfInput) {
		t.Errorf("at end of stdin: %v, want ErrEndOfInput", err)
	}
}

func TestSourceConnector(t *testing.T) {
	c := new(SourceConnector)
	config := quickstartSource("test.txt")
	if err := c.Start(context.Background(), connectors.ConnectorContext{}, config); err != nil {
		t.Fatal(err)
	}
	tcs, err := c.TaskConfigs(5)
	if err != nil || len(tcs) != 1 || !maps.Equal(tcs[0], config) {
		t.Errorf("TaskConfigs(5) = %v, %v; want one config equal to the connector's", tcs, err)
	}
	if got := c.Config().Names(); !slices.Equal(got, []string{"file", "topic", "batch.size"}) {
		t.Errorf("keys %v", got)
	}
	err = new(SourceConnector).Start(context.Background(), connectors.ConnectorContext{}, map[string]string{"file": "x", "batch.size": "x"})
	if !errors.Is(err, connectors.ErrInvalidConfig) {
		t.Fatalf("invalid config: %v", err)
	}
	for _, want := range []string{`Missing required configuration "topic" which has no default value.`, "Invalid value x for configuration batch.size"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
