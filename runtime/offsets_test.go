package runtime

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestOffsetsAPI(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	dir := t.TempDir()
	in, out := fileConnectors(t, w, dir, "offs")
	appendLines(t, in, "a", "b", "c")
	waitLines(t, out, []string{"a", "b", "c"})

	// Source offsets are readable while running.
	eventually(t, "source offset", func() error {
		offs, err := h.Offsets(ctx, "local-file-source")
		if err != nil {
			return err
		}
		if len(offs.Offsets) != 1 || fmt.Sprint(offs.Offsets[0].Offset["position"]) != "6" {
			return fmt.Errorf("%+v", offs)
		}
		return nil
	})
	// Sink offsets come from the consumer group.
	eventually(t, "sink offset", func() error {
		offs, err := h.Offsets(ctx, "local-file-sink")
		if err != nil {
			return err
		}
		if len(offs.Offsets) != 1 || offs.Offsets[0].Partition["kafka_topic"] != "offs" ||
			fmt.Sprint(offs.Offsets[0].Partition["kafka_partition"]) != "0" || fmt.Sprint(offs.Offsets[0].Offset["kafka_offset"]) != "3" {
			return fmt.Errorf("%+v", offs)
		}
		return nil
	})

	// Stop both; rewind the sink by one record and the source to "b".
	for _, n := range []string{"local-file-source", "local-file-sink"} {
		if err := h.StopConnector(ctx, n); err != nil {
			t.Fatal(err)
		}
		waitState(t, h, n, StateStopped, 0)
	}
	msg, err := h.AlterOffsets(ctx, "local-file-sink", ConnectorOffsets{Offsets: []ConnectorOffset{
		{Partition: map[string]any{"kafka_topic": "offs", "kafka_partition": "0"}, Offset: map[string]any{"kafka_offset": float64(2)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// FileStreamSink implements SinkOffsetsAlterer and manages no offsets
	// of its own.
	if msg != "The offsets for this connector have been altered successfully" {
		t.Errorf("message: %q", msg)
	}
	offs, _ := h.Offsets(ctx, "local-file-sink")
	if len(offs.Offsets) != 1 || fmt.Sprint(offs.Offsets[0].Offset["kafka_offset"]) != "2" {
		t.Errorf("sink offsets after alter: %+v", offs)
	}
	if _, err := h.AlterOffsets(ctx, "local-file-source", ConnectorOffsets{Offsets: []ConnectorOffset{
		{Partition: map[string]any{"filename": in}, Offset: map[string]any{"position": float64(2)}},
	}}); err != nil {
		t.Fatal(err)
	}
	// Resume: the sink re-delivers "c", the source re-reads "b", "c".
	for _, n := range []string{"local-file-source", "local-file-sink"} {
		if err := h.ResumeConnector(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	waitLines(t, out, []string{"a", "b", "c", "c", "b", "c"})

	// Bad sink offsets.
	for _, n := range []string{"local-file-sink"} {
		if err := h.StopConnector(ctx, n); err != nil {
			t.Fatal(err)
		}
		waitState(t, h, n, StateStopped, 0)
	}
	for _, tc := range []struct {
		o    ConnectorOffset
		want string
	}{
		{ConnectorOffset{Partition: map[string]any{"kafka_topic": "offs"}, Offset: map[string]any{"kafka_offset": 1.0}},
			"The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'"},
		{ConnectorOffset{Partition: map[string]any{"kafka_topic": "offs", "kafka_partition": "x"}, Offset: map[string]any{"kafka_offset": 1.0}},
			"Failed to parse the following Kafka partition value in the provided offsets: 'x'. Partition values for sink connectors need to be integers."},
		{ConnectorOffset{Partition: map[string]any{"kafka_topic": "offs", "kafka_partition": 0.0}, Offset: map[string]any{"offset": 1.0}},
			"The offset for a sink connector should either be null or contain the key 'kafka_offset'"},
		{ConnectorOffset{Partition: map[string]any{"kafka_topic": "offs", "kafka_partition": 0.0}, Offset: map[string]any{"kafka_offset": "1.5"}},
			"Failed to parse the following Kafka offset value in the provided offsets: '1.5'. Offset values for sink connectors need to be integers."},
	} {
		_, err := h.AlterOffsets(ctx, "local-file-sink", ConnectorOffsets{Offsets: []ConnectorOffset{tc.o}})
		if !errors.Is(err, ErrBadRequest) || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}

	// Reset: the sink's group is deleted; the source's offsets are
	// tombstoned.
	msg, err = h.ResetOffsets(ctx, "local-file-sink")
	if err != nil || !strings.Contains(msg, "have been reset successfully") {
		t.Fatalf("reset sink: %q %v", msg, err)
	}
	if offs, _ := h.Offsets(ctx, "local-file-sink"); len(offs.Offsets) != 0 {
		t.Errorf("sink offsets after reset: %+v", offs)
	}
	if err := h.StopConnector(ctx, "local-file-source"); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "local-file-source", StateStopped, 0)
	if _, err := h.ResetOffsets(ctx, "local-file-source"); err != nil {
		t.Fatal(err)
	}
	if offs, _ := h.Offsets(ctx, "local-file-source"); len(offs.Offsets) != 0 {
		t.Errorf("source offsets after reset: %+v", offs)
	}
}

// TestOffsetsMessageWithoutAlterer: a connector without the alterOffsets
// hook gets Kafka's "framework-managed" message.
func TestOffsetsMessageWithoutAlterer(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	if _, err := h.CreateConnector(ctx, "plain", map[string]string{"connector.class": "test.Flaky"}, TargetStopped); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "plain", StateStopped, 0)
	msg, err := h.AlterOffsets(ctx, "plain", ConnectorOffsets{Offsets: []ConnectorOffset{
		{Partition: map[string]any{"p": "x"}, Offset: map[string]any{"o": 1.0}}}})
	if err != nil {
		t.Fatal(err)
	}
	if msg != "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector "+
		"manages offsets externally, they will need to be manually altered in the system that the connector uses." {
		t.Errorf("alter message: %q", msg)
	}
	offs, _ := h.Offsets(ctx, "plain")
	if len(offs.Offsets) != 1 || offs.Offsets[0].Partition["p"] != "x" || fmt.Sprint(offs.Offsets[0].Offset["o"]) != "1" {
		t.Errorf("offsets: %+v", offs)
	}
	msg, err = h.ResetOffsets(ctx, "plain")
	if err != nil || msg != "The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector "+
		"manages offsets externally, they will need to be manually reset in the system that the connector uses." {
		t.Errorf("reset: %q %v", msg, err)
	}
}
