package file

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestSourceAlterOffsets(t *testing.T) {
	c := new(SourceConnector)
	part := map[string]any{PartitionFilename: "/tmp/in.txt"}
	for _, tc := range []struct {
		name    string
		offsets []connectors.SourceOffset
		wantErr string
	}{
		{"position", []connectors.SourceOffset{{Partition: part, Offset: map[string]any{OffsetPosition: int64(30)}}}, ""},
		{"json number", []connectors.SourceOffset{{Partition: part, Offset: map[string]any{OffsetPosition: float64(30)}}}, ""},
		{"reset", []connectors.SourceOffset{{Partition: part}}, ""},
		{"no filename", []connectors.SourceOffset{{Partition: map[string]any{"f": "x"}, Offset: map[string]any{OffsetPosition: int64(1)}}}, "must contain the key 'filename'"},
		{"no position", []connectors.SourceOffset{{Partition: part, Offset: map[string]any{"pos": int64(1)}}}, "must contain the key 'position'"},
		{"negative", []connectors.SourceOffset{{Partition: part, Offset: map[string]any{OffsetPosition: int64(-1)}}}, "non-negative"},
		{"not a number", []connectors.SourceOffset{{Partition: part, Offset: map[string]any{OffsetPosition: "ten"}}}, "expected to be a Long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := c.AlterOffsets(context.Background(), nil, tc.offsets)
			if tc.wantErr == "" {
				if err != nil || !ok {
					t.Fatalf("got %v, %v", ok, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
	if ok, err := new(SinkConnector).AlterSinkOffsets(context.Background(), nil, nil); !ok || err != nil {
		t.Fatalf("sink: %v %v", ok, err)
	}
}

// TestSinkPutWritesBeforeFlush pins that lines reach the file when Put
// returns, not at the next Flush (which may be a minute away).
func TestSinkPutWritesBeforeFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	var s Sink
	if err := s.Open(context.Background(), connectors.SinkContext{Logger: slog.New(slog.DiscardHandler)}, map[string]string{"file": path}); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := s.Put(context.Background(), []connectors.Record{{Value: "a"}, {Value: "b"}}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "a\nb\n" {
		t.Fatalf("file after Put: %q, %v", got, err)
	}
}
