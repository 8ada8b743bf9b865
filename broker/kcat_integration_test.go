//go:build integration

package broker_test

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker/brokertest"
)

// kcat is Debian's kcat on librdkafka 2.0.2: the C client most Kafka tools
// are built on. A missing kcat fails the test: `.ci/run` installs it.
func kcat(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed (apt-get install kcat; .ci/run does it)")
	}
	return p
}

func numbered(prefix string, n int) (string, []string) {
	var b strings.Builder
	lines := make([]string, n)
	for i := range n {
		lines[i] = fmt.Sprintf("%s%d:value-%d", prefix, i, i)
		b.WriteString(lines[i])
		b.WriteByte('\n')
	}
	return b.String(), lines
}

func TestKcatMetadataProduceConsume(t *testing.T) {
	k := kcat(t)
	_, addr := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	in, want := numbered("k", 20000)
	// -P to a topic that does not exist yet: librdkafka relies on auto-creation.
	brokertest.Lines(t, ctx, in, k, "-b", addr, "-P", "-t", "plain", "-K:")
	got := brokertest.Lines(t, ctx, "", k, "-b", addr, "-C", "-t", "plain", "-o", "beginning", "-e", "-q", "-f", "%k:%s\n")
	if !equalSorted(got, want) {
		t.Fatalf("consumed %d lines, want %d (first got %q)", len(got), len(want), first(got))
	}

	meta := strings.Join(brokertest.Lines(t, ctx, "", k, "-b", addr, "-L"), "\n")
	for _, s := range []string{"1 brokers:", `topic "plain" with 1 partitions`} {
		if !strings.Contains(meta, s) {
			t.Fatalf("kcat -L lacks %q:\n%s", s, meta)
		}
	}
}

func TestKcatZstdIdempotent(t *testing.T) {
	k := kcat(t)
	_, addr := brokertest.Start(t, func(c *brokerConfig) { c.NumPartitions = 4 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	in, want := numbered("z", 50000)
	brokertest.Lines(t, ctx, in, k, "-b", addr, "-P", "-t", "zst", "-K:", "-z", "zstd", "-X", "enable.idempotence=true")
	got := brokertest.Lines(t, ctx, "", k, "-b", addr, "-C", "-t", "zst", "-o", "beginning", "-e", "-q", "-f", "%k:%s\n")
	if !equalSorted(got, want) {
		t.Fatalf("consumed %d lines, want %d", len(got), len(want))
	}
	for _, codec := range []string{"gzip", "snappy", "lz4"} {
		in, want := numbered(codec, 2000)
		topic := "codec-" + codec
		brokertest.Lines(t, ctx, in, k, "-b", addr, "-P", "-t", topic, "-K:", "-z", codec)
		got := brokertest.Lines(t, ctx, "", k, "-b", addr, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k:%s\n")
		if !equalSorted(got, want) {
			t.Fatalf("%s: consumed %d lines, want %d", codec, len(got), len(want))
		}
	}
}

// TestKcatConsumerGroup runs two librdkafka group members over four
// partitions; together they must see every record exactly once, and a third
// run of the group must see only what was produced after the commits.
func TestKcatConsumerGroup(t *testing.T) {
	k := kcat(t)
	_, addr := brokertest.Start(t, func(c *brokerConfig) { c.NumPartitions = 4 })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	in, want := numbered("g", 40000)
	brokertest.Lines(t, ctx, in, k, "-b", addr, "-P", "-t", "grp", "-K:")

	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lines := brokertest.Lines(t, ctx, "", k, "-b", addr, "-G", "g1", "grp", "-e", "-q",
				"-X", "auto.offset.reset=earliest", "-f", "%k:%s\n")
			mu.Lock()
			got = append(got, lines...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if !equalSorted(got, want) {
		t.Fatalf("group consumed %d lines, want %d exactly once", len(got), len(want))
	}

	in2, want2 := numbered("late", 100)
	brokertest.Lines(t, ctx, in2, k, "-b", addr, "-P", "-t", "grp", "-K:")
	again := brokertest.Lines(t, ctx, "", k, "-b", addr, "-G", "g1", "grp", "-e", "-q",
		"-X", "auto.offset.reset=earliest", "-f", "%k:%s\n")
	if !equalSorted(again, want2) {
		t.Fatalf("after commits the group consumed %d lines, want the %d new ones", len(again), len(want2))
	}
}

func equalSorted(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a = append([]string(nil), a...)
	b = append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
