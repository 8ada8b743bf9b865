package broker_test

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
)

// testBroker is a broker served on a loopback port.
type testBroker struct {
	*broker.Broker
	addr string
	dir  string
}

// tWriter sends log lines to t.Log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startBroker runs a broker over dir (a fresh temporary directory when
// empty) on 127.0.0.1:0 until the test ends.
func startBroker(t testing.TB, dir string, mod ...func(*broker.Config)) *testBroker {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := broker.DefaultConfig()
	cfg.DataDir = dir
	cfg.Listen = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, m := range mod {
		m(&cfg)
	}
	b, err := broker.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- b.Serve(ln) }()
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		<-served
	})
	return &testBroker{Broker: b, addr: ln.Addr().String(), dir: dir}
}

// restart closes tb and starts a new broker on the same directory.
func (tb *testBroker) restart(t testing.TB, mod ...func(*broker.Config)) *testBroker {
	t.Helper()
	if err := tb.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return startBroker(t, tb.dir, mod...)
}

func newClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.MetadataMinAge(50 * time.Millisecond)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func newAdmin(t testing.TB, addr string) *kadm.Client {
	return kadm.NewClient(newClient(t, addr))
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ptr(s string) *string { return &s }

func createTopic(t testing.TB, addr, name string, partitions int32, configs map[string]*string) kadm.CreateTopicResponse {
	t.Helper()
	resp, err := newAdmin(t, addr).CreateTopic(testCtx(t, 10*time.Second), partitions, 1, configs, name)
	if err != nil || resp.Err != nil {
		t.Fatalf("CreateTopic %s: %v %v %s", name, err, resp.Err, resp.ErrMessage)
	}
	return resp
}

// produceN produces n records "<prefix>-<i>" to topic and waits for all
// acknowledgements.
func produceN(t testing.TB, cl *kgo.Client, topic, prefix string, n int) {
	t.Helper()
	ctx := testCtx(t, 60*time.Second)
	errc := make(chan error, 1)
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: topic, Value: []byte(prefix + "-" + strconv.Itoa(i))}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	select {
	case err := <-errc:
		t.Fatalf("produce: %v", err)
	default:
	}
}

// consumeN reads n records of topic from the start.
func consumeN(t testing.TB, addr, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	opts = append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200 * time.Millisecond)}, opts...)
	cl := newClient(t, addr, opts...)
	ctx := testCtx(t, 60*time.Second)
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records before the deadline", len(recs), n)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("fetch %s-%d: %v", topic, p, err)
		})
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// checkContiguous checks that each partition's records carry offsets 0..k
// without gaps and that the values are exactly want, once each.
func checkContiguous(t testing.TB, recs []*kgo.Record, want map[string]bool) {
	t.Helper()
	next := map[int32]int64{}
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
		}
		next[r.Partition]++
		v := string(r.Value)
		if seen[v] {
			t.Fatalf("duplicate value %q", v)
		}
		if !want[v] {
			t.Fatalf("unexpected value %q", v)
		}
		seen[v] = true
	}
	if len(seen) != len(want) {
		t.Fatalf("got %d distinct values, want %d", len(seen), len(want))
	}
}

func values(prefix string, n int) map[string]bool {
	m := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		m[prefix+"-"+strconv.Itoa(i)] = true
	}
	return m
}
