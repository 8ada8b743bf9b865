// Package brokertest starts Sluice brokers for tests: in-process on a free
// loopback port, or as a separate `sluice broker` process that a test can
// kill -9 and restart on the same data directory.
package brokertest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker"
)

// Start runs a broker in-process on 127.0.0.1:<free port> with its data in a
// fresh temporary directory (or cfg.DataDir when set), and closes it when the
// test ends. It returns the broker and its address.
func Start(t testing.TB, mod ...func(*broker.Config)) (*broker.Broker, string) {
	t.Helper()
	cfg := broker.DefaultConfig()
	cfg.DataDir = t.TempDir()
	for _, m := range mod {
		m(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = ln.Addr().String()
	cfg.AdvertisedAddr = ln.Addr().String()
	b, err := broker.New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	go b.Serve(ln)
	t.Cleanup(func() { b.Close() })
	return b, ln.Addr().String()
}

// Binary returns the path of the sluice binary: $SLUICE_BIN (make test sets
// it), or one built once per test process into a temporary directory.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SLUICE_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "sluice")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/sluicedata/sluice/cmd/sluice").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// Proc is a `sluice broker` child process.
type Proc struct {
	t    testing.TB
	bin  string
	Dir  string // data directory, kept across restarts
	Addr string // host:port, kept across restarts
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	log  *lockedBuf
}

// StartProcess starts `sluice broker` on a free port with a fresh data
// directory; extra args are passed through (e.g. "--set", "k=v").
func StartProcess(t testing.TB, args ...string) *Proc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &Proc{t: t, bin: Binary(t), Dir: t.TempDir(), Addr: addr, args: args, log: &lockedBuf{}}
	p.Start()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("broker process log:\n%s", p.log.String())
		}
	})
	return p
}

// Start (re)starts the process on the same address and directory and waits
// until it accepts connections.
func (p *Proc) Start() {
	p.t.Helper()
	args := append([]string{"broker", "--listen", p.Addr, "--data-dir", p.Dir}, p.args...)
	p.cmd = exec.Command(p.bin, args...)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(p.cmd, p.done)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-p.done:
			p.t.Fatalf("sluice broker exited at start:\n%s", p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("sluice broker not listening on %s after 20s:\n%s", p.Addr, p.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *Proc) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Log returns what the process printed so far.
func (p *Proc) Log() string { return p.log.String() }

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Eventually polls cond every few milliseconds until it returns true or the
// timeout passes, then fails the test with msg.
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", timeout, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Lines runs a command and returns its stdout split into lines; on failure
// it fails the test with the command's output.
func Lines(t testing.TB, ctx context.Context, stdin string, name string, args ...string) []string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// Pid is the process ID of the running broker.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// ProcStatusKiB reads a kB field of /proc/<pid>/status, such as "VmRSS:"
// or "VmHWM:" (peak resident set), for benchmarks that report memory.
func ProcStatusKiB(t testing.TB, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("/proc/%d/status %s %q: %v", pid, field, rest, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
