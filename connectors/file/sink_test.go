package file

import (
	"bytes"
	"context"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/connectors/conformance"
)

// quickstartSink is Kafka's config/connect-file-sink.properties.
func quickstartSink(file string) map[string]string {
	return map[string]string{
		"name": "local-file-sink", "connector.class": "FileStreamSink", "tasks.max": "1",
		"file": file, "topics": "connect-test",
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\n") {
		t.Fatalf("file does not end with a newline: %q", s)
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestSinkConformance(t *testing.T) {
	conformance.RunSink(t, conformance.SinkSuite{
		Connector: func() connectors.SinkConnector { return new(SinkConnector) },
		Config: func(t *testing.T) map[string]string {
			return quickstartSink(filepath.Join(t.TempDir(), "test.sink.txt"))
		},
		Read: func(t *testing.T, config map[string]string) []string { return readLines(t, config[KeyFile]) },
	})
}

func TestSinkWritesLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "..", "test.sink.txt")
	s := new(Sink)
	if err := s.Open(context.Background(), connectors.SinkContext{}, quickstartSink(path)); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	recs := []connectors.Record{
		{Topic: "connect-test", Value: "hello"},
		{Topic: "connect-test", Value: nil},
		{Topic: "connect-test", Value: int64(42)},
	}
	if err := s.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	tp := connectors.TopicPartition{Topic: "connect-test", Partition: 0}
	in := map[connectors.TopicPartition]int64{tp: 3}
	got, err := s.Flush(context.Background(), in)
	if err != nil || !maps.Equal(got, in) {
		t.Fatalf("Flush = %v, %v; want %v", got, err, in)
	}
	if lines := readLines(t, path); !slices.Equal(lines, []string{"hello", "null", "42"}) {
		t.Errorf("file holds %q", lines)
	}
}

func TestSinkLargeBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.txt")
	s := new(Sink)
	if err := s.Open(context.Background(), connectors.SinkContext{}, quickstartSink(path)); err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 1000)
	recs := make([]connectors.Record, 300) // > writeChunk in total
	for i := range recs {
		recs[i] = connectors.Record{Value: line}
	}
	if err := s.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Flush(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if lines := readLines(t, path); len(lines) != 300 || lines[299] != line {
		t.Errorf("got %d lines", len(lines))
	}
}

func TestSinkStdout(t *testing.T) {
	var out bytes.Buffer
	s := &Sink{stdout: &out}
	if err := s.Open(context.Background(), connectors.SinkContext{}, map[string]string{"topics": "t"}); err != nil {
		t.Fatal(err)
	}
	_ = s.Put(context.Background(), []connectors.Record{{Value: "a"}, {Value: "b"}})
	if _, err := s.Flush(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\nb\n" {
		t.Errorf("stdout got %q", out.String())
	}
}

func TestSinkConnector(t *testing.T) {
	c := new(SinkConnector)
	config := quickstartSink("test.sink.txt")
	if err := c.Start(context.Background(), connectors.ConnectorContext{}, config); err != nil {
		t.Fatal(err)
	}
	tcs, _ := c.TaskConfigs(2)
	if len(tcs) != 2 || !maps.Equal(tcs[0], config) || !maps.Equal(tcs[1], config) {
		t.Errorf("TaskConfigs(2) = %v", tcs)
	}
	if got := c.Config().Names(); !slices.Equal(got, []string{"file"}) {
		t.Errorf("keys %v", got)
	}
}

func TestAppendValue(t *testing.T) {
	addr := connectors.StructSchema().Name("ksql.address").
		Field("city", connectors.StringSchema).Field("zip", connectors.Int64Schema).MustBuild()
	schema := connectors.StructSchema().Name("ksql.orders").
		Field("id", connectors.Int32Schema).Field("note", connectors.OptionalStringSchema).
		Field("units", connectors.Float64Schema).Field("address", addr).
		Field("tags", connectors.ArraySchema(connectors.StringSchema).MustBuild()).MustBuild()
	a, _ := connectors.StructOf(addr, "City_1", int64(10001))
	st, err := connectors.StructOf(schema, int32(7), nil, 1.5, a, []any{"x", "y"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		v    any
		want string
	}{
		{"plain", "plain"},
		{nil, "null"},
		{true, "true"},
		{int8(-3), "-3"},
		{float32(0.1), "0.1"},
		{1e21, "1.0E21"},
		{100.0, "100.0"},
		{[]byte("raw"), "raw"},
		{connectors.NewDecimal(big.NewInt(12345), 2), "123.45"},
		{time.UnixMilli(0), "Thu Jan 01 00:00:00 UTC 1970"},
		{[]any{int32(1), "a", nil}, "[1, a, null]"},
		{map[string]any{"a": int64(1)}, "{a=1}"},
		{map[string]any{"b": "x", "a": []any{}}, "{a=[], b=x}"},
		{st, "Struct{id=7,units=1.5,address=Struct{city=City_1,zip=10001},tags=[x, y]}"},
	}
	for _, tt := range tests {
		if got := string(AppendValue(nil, tt.v)); got != tt.want {
			t.Errorf("AppendValue(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
