package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker/brokertest"
)

func TestParseWorkerArgs(t *testing.T) {
	dir := t.TempDir()
	worker := filepath.Join(dir, "worker.properties")
	conn := filepath.Join(dir, "conn.properties")
	os.WriteFile(worker, []byte("group.id=g\n"), 0o644)
	os.WriteFile(conn, []byte("name=c\nconnector.class=FileStreamSink\n"), 0o644)
	a, err := parseWorkerArgs([]string{worker, conn, "x.json", "--set", "a=b", "--set=c=d", "--log-level", "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if a.workerFile != worker || !slices.Equal(a.connectorFiles, []string{conn, "x.json"}) ||
		!slices.Equal(a.sets, []string{"a=b", "c=d"}) || a.logLevel != "debug" {
		t.Errorf("%+v", a)
	}
	if a.memLimitMiB != defaultWorkerMemLimitMiB {
		t.Errorf("memory limit %d MiB by default", a.memLimitMiB)
	}
	// A connector file first: no worker file.
	a, _ = parseWorkerArgs([]string{conn, "--memory-limit-mib=0"})
	if a.workerFile != "" || len(a.connectorFiles) != 1 || a.memLimitMiB != 0 {
		t.Errorf("%+v", a)
	}
	if _, err := parseWorkerArgs([]string{"--memory-limit-mib", "lots"}); err == nil || !strings.Contains(err.Error(), "whole number of MiB") {
		t.Errorf("--memory-limit-mib lots: %v", err)
	}
	if _, err := parseWorkerArgs([]string{"--bogus"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestReadConnectorFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"wrapped.json": `{"name":"w","config":{"connector.class":"FileStreamSink","tasks.max":2}}`,
		"flat.json":    `{"name":"f","connector.class":"FileStreamSource","topic":"t"}`,
		"p.properties": "name=p\nconnector.class=FileStreamSink\ntopics=t\n",
	}
	var paths []string
	for n, c := range files {
		p := filepath.Join(dir, n)
		os.WriteFile(p, []byte(c), 0o644)
		paths = append(paths, p)
	}
	slices.Sort(paths)
	got, err := readConnectorFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]string{}
	for _, c := range got {
		byName[c.name] = c.config
	}
	if byName["w"]["tasks.max"] != "2" || byName["f"]["topic"] != "t" || byName["p"]["topics"] != "t" {
		t.Errorf("%v", byName)
	}
	bad := filepath.Join(dir, "noname.json")
	os.WriteFile(bad, []byte(`{"connector.class":"X"}`), 0o644)
	if _, err := readConnectorFiles([]string{bad}); err == nil || !strings.Contains(err.Error(), "has no name") {
		t.Errorf("no name: %v", err)
	}
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type workerProc struct {
	t    testing.TB
	cmd  *exec.Cmd
	url  string
	log  *lockedBuffer
	done chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startWorkerProc(t testing.TB, bin, url string, args ...string) *workerProc {
	t.Helper()
	p := &workerProc{t: t, url: url, log: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, append([]string{"worker"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("worker log:\n%s", p.log.String())
		}
	})
	return p
}

// waitHealthy polls GET /health until the worker is healthy.
func (p *workerProc) waitHealthy(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		resp, err := client.Get(p.url + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.Contains(body, []byte(`"healthy"`)) {
				return
			}
		}
		select {
		case err := <-p.done:
			p.t.Fatalf("worker exited: %v", err)
		default:
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.t.Fatalf("worker not healthy after %v", timeout)
}

func (p *workerProc) getJSON(path string, v any) error {
	resp, err := http.Get(p.url + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

// TestWorkerProcess runs `sluice worker` with Kafka's quickstart files:
// the connectors come up from the command line, data flows, SIGTERM stops
// it cleanly, and a worker killed with SIGKILL comes back with its
// connectors and resumes without losing a line.
func TestWorkerProcess(t *testing.T) {
	bin := brokertest.Binary(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "test.txt"), filepath.Join(dir, "test.sink.txt")
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	workerFile := filepath.Join(dir, "worker.properties")
	os.WriteFile(workerFile, []byte(fmt.Sprintf(`bootstrap.servers=
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.flush.interval.ms=100
# After kill -9 the sink's old group member lingers until its session
# expires (as in Kafka): keep that short.
consumer.session.timeout.ms=6000
consumer.heartbeat.interval.ms=1000
listeners=%s
data.dir=%s
broker.listen=127.0.0.1:0
`, url, filepath.Join(dir, "data"))), 0o644)
	srcFile := filepath.Join(dir, "connect-file-source.properties")
	os.WriteFile(srcFile, []byte("name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile="+in+"\ntopic=connect-test\n"), 0o644)
	sinkFile := filepath.Join(dir, "connect-file-sink.json")
	os.WriteFile(sinkFile, []byte(`{"name":"local-file-sink","config":{"connector.class":"FileStreamSink","tasks.max":"1","file":"`+out+`","topics":"connect-test"}}`), 0o644)
	os.WriteFile(in, []byte("foo\nbar\n"), 0o644)

	p := startWorkerProc(t, bin, url, workerFile, srcFile, sinkFile)
	p.waitHealthy(30 * time.Second)
	waitOut := func(want string) {
		t.Helper()
		eventually(t, "sink output", func() error {
			b, _ := os.ReadFile(out)
			if string(b) != want {
				return fmt.Errorf("%q", b)
			}
			return nil
		})
	}
	waitOut("foo\nbar\n")
	var names []string
	if err := p.getJSON("/connectors", &names); err != nil || len(names) != 2 {
		t.Fatalf("connectors: %v %v", names, err)
	}

	// SIGTERM: a clean stop.
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
		p.done <- nil
	case <-time.After(20 * time.Second):
		t.Fatal("no exit 20s after SIGTERM")
	}

	// Again, without the connector files: they come from the broker. Then
	// kill -9 mid-stream and start once more.
	p2 := startWorkerProc(t, bin, url, workerFile)
	p2.waitHealthy(30 * time.Second)
	f, _ := os.OpenFile(in, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintln(f, "baz")
	waitOut("foo\nbar\nbaz\n")
	p2.cmd.Process.Kill()
	<-p2.done
	p2.done <- nil
	for i := range 50 {
		fmt.Fprintf(f, "line %d\n", i)
	}
	f.Close()
	p3 := startWorkerProc(t, bin, url, workerFile)
	p3.waitHealthy(30 * time.Second)
	eventually(t, "every line after kill -9", func() error {
		b, _ := os.ReadFile(out)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		seen := map[string]bool{}
		for _, l := range lines {
			seen[l] = true
		}
		for i := range 50 {
			if !seen[fmt.Sprintf("line %d", i)] {
				return fmt.Errorf("line %d missing (%d lines)", i, len(lines))
			}
		}
		return nil
	})
	var status map[string]any
	if err := p3.getJSON("/connectors/local-file-source/status", &status); err != nil {
		t.Fatal(err)
	}
	if status["connector"].(map[string]any)["state"] != "RUNNING" {
		t.Errorf("status %v", status)
	}
}

// BenchmarkWorkerStart measures `sluice worker` from process start to
// GET /health answering healthy, with the embedded broker: first start
// (empty data directory: the internal topics are created) and restart
// (an existing data directory). The bar is 200 ms.
func BenchmarkWorkerStart(b *testing.B) {
	bin := brokertest.Binary(b)
	for _, restart := range []bool{false, true} {
		name := "first"
		if restart {
			name = "restart"
		}
		b.Run(name, func(b *testing.B) {
			data := b.TempDir()
			var total time.Duration
			for i := 0; i < b.N; i++ {
				if !restart {
					data = b.TempDir()
				}
				port := freePort(b)
				url := fmt.Sprintf("http://127.0.0.1:%d", port)
				start := time.Now()
				p := startWorkerProc(b, bin, url, "--set", "data.dir="+data, "--set", "broker.listen=127.0.0.1:0",
					"--set", "listeners="+url, "--log-level", "warn")
				p.waitHealthy(30 * time.Second)
				total += time.Since(start)
				p.cmd.Process.Signal(syscall.SIGTERM)
				<-p.done
				p.done <- nil
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/ready")
		})
	}
}
