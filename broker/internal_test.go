package broker

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestConfigValidateReportsEverything(t *testing.T) {
	if err := func() error { c := DefaultConfig(); c.DataDir = "/x"; return c.Validate() }(); err != nil {
		t.Fatalf("defaults with a DataDir: %v", err)
	}
	c := DefaultConfig()
	c.Listen = "nope"
	c.NumPartitions = 0
	c.DefaultReplicationFactor = 3
	c.LogCleanupPolicy = "shred"
	c.GroupMaxSessionTimeoutMs = 1
	err := c.Validate()
	if !errors.Is(err, ErrInvalidBrokerConfig) {
		t.Fatalf("Validate: %v", err)
	}
	for _, field := range []string{"Listen", "DataDir", "NumPartitions", "DefaultReplicationFactor", "LogCleanupPolicy", "GroupMaxSessionTimeoutMs"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("Validate does not report %s:\n%v", field, err)
		}
	}
}

func TestTopicNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"a": true, "A-b_c.d": true, strings.Repeat("x", 249): true,
		"": false, ".": false, "..": false, "a b": false, "a/b": false, "ü": false, strings.Repeat("x", 250): false,
	} {
		if err := validateTopicName(name); (err == nil) != ok {
			t.Errorf("validateTopicName(%q) = %v", name, err)
		}
	}
	for name, ok := range map[string]bool{"t-0": true, "a-b-12": true, "topics": false, "t-": false, "t-01": false, "t-x": false, "-1": false, "meta.json": false} {
		if got := isPartitionDirName(name); got != ok {
			t.Errorf("isPartitionDirName(%q) = %v", name, got)
		}
	}
}

func TestOffsetsPartitionByGroup(t *testing.T) {
	offKey := kmsg.NewOffsetCommitKey()
	offKey.Version, offKey.Group, offKey.Topic, offKey.Partition = 1, "group-a", "t", 3
	metaKey := kmsg.NewGroupMetadataKey()
	metaKey.Version, metaKey.Group = 2, "group-a"
	for n := 1; n <= 50; n++ {
		if p, q := offsetsPartition(offKey.AppendTo(nil), n), offsetsPartition(metaKey.AppendTo(nil), n); p != q || p < 0 || p >= n {
			t.Fatalf("%d partitions: offset key -> %d, metadata key -> %d", n, p, q)
		}
	}
}

// panicCoordinator panics on Heartbeat.
type panicCoordinator struct{ coordinator }

func (panicCoordinator) Heartbeat(context.Context, *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	panic("boom")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHandlerPanicClosesOnlyThatConnection(t *testing.T) {
	var logs syncBuffer
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.coord = panicCoordinator{b.coord} // before serving: no race
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(ln)

	request := func(key, version int16, body []byte) (net.Conn, error) {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		buf := []byte{0, 0, 0, 0}
		buf = binary.BigEndian.AppendUint16(buf, uint16(key))
		buf = binary.BigEndian.AppendUint16(buf, uint16(version))
		buf = binary.BigEndian.AppendUint32(buf, 1)
		buf = binary.BigEndian.AppendUint16(buf, 0xffff) // null client id
		buf = append(buf, body...)
		binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
		nc.Write(buf)
		_, err = io.ReadFull(nc, make([]byte, 8))
		return nc, err
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID = "g", "m"
	nc, err := request(12, 0, hb.AppendTo(nil))
	if err == nil {
		t.Fatal("a panicking handler answered")
	}
	nc.Close()
	if !strings.Contains(logs.String(), "panic handling Heartbeat v0: boom") {
		t.Errorf("panic not logged:\n%s", logs.String())
	}
	nc, err = request(18, 0, nil)
	if err != nil {
		t.Fatalf("broker stopped serving after a panic: %v", err)
	}
	nc.Close()
}

func TestGetBodyCapacity(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 4097, 1_000_012, 1 << 20, 1<<20 + 1, maxPooledBody} {
		c := bodyCap(n)
		if c < n || c < 4096 || (n > 4096 && c > n+n/8) {
			t.Errorf("bodyCap(%d) = %d", n, c)
		}
		if b := getBody(n); len(b) != n {
			t.Errorf("getBody(%d): len %d", n, len(b))
		}
	}
	// Produce requests of one client vary by a few bytes around its batch
	// size: one class serves them all.
	if bodyCap(1_000_012) != bodyCap(1_000_512) || bodyCap(1_000_012) < 1_000_512 {
		t.Errorf("bodyCap(1_000_012) = %d, bodyCap(1_000_512) = %d", bodyCap(1_000_012), bodyCap(1_000_512))
	}
}
