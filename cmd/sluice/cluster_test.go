package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker/brokertest"
)

// Clusters of `sluice worker` processes on one `sluice broker` process:
// the tests and benchmarks of distributed mode as users run it.

// procCluster is a `sluice broker` and the worker processes using it.
type procCluster struct {
	t       testing.TB
	bin     string
	broker  *brokertest.Proc
	extra   []string // --set key=value for every worker
	workers []*clusterProc
}

// clusterProc is one worker process; it keeps its port across restarts.
type clusterProc struct {
	*workerProc
	port  int
	id    string   // worker id, 127.0.0.1:port
	dead  bool     // killed, not restarted
	files []string // connector files on the command line
}

func newProcCluster(t testing.TB, extra ...string) *procCluster {
	t.Helper()
	c := &procCluster{t: t, bin: brokertest.Binary(t), broker: brokertest.StartProcess(t, "--log-level", "warn")}
	c.extra = append([]string{
		"bootstrap.servers=" + c.broker.Addr,
		"group.id=sluice-test",
		"offset.flush.interval.ms=100",
		// Short sessions, so that tests do not wait Kafka's 10 s for a
		// killed worker (and its sink consumers) to expire.
		"session.timeout.ms=6000",
		"heartbeat.interval.ms=1000",
		"consumer.session.timeout.ms=6000",
		"consumer.heartbeat.interval.ms=1000",
	}, extra...)
	return c
}

// add starts a new worker on a free port and waits until it is healthy.
func (c *procCluster) add() *clusterProc {
	c.t.Helper()
	port := freePort(c.t)
	p := &clusterProc{port: port, id: fmt.Sprintf("127.0.0.1:%d", port)}
	c.workers = append(c.workers, p)
	c.start(p)
	return p
}

func (c *procCluster) start(p *clusterProc) {
	c.t.Helper()
	url := "http://" + p.id
	args := append([]string{"--set", "listeners=" + url, "--log-level", "info"}, p.files...)
	for _, s := range c.extra {
		args = append(args, "--set", s)
	}
	p.workerProc = startWorkerProc(c.t, c.bin, url, args...)
	p.waitHealthy(30 * time.Second)
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *clusterProc) kill() {
	p.cmd.Process.Kill()
	<-p.done
	p.done <- nil
}

// stop sends SIGTERM and waits for a clean exit.
func (p *clusterProc) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("worker %s exit after SIGTERM: %v", p.id, err)
		}
		p.done <- nil
	case <-time.After(30 * time.Second):
		t.Fatalf("worker %s: no exit 30s after SIGTERM", p.id)
	}
}

// call does an HTTP request with a JSON body and decodes a JSON answer.
func call(method, url string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 100 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

type taskStatus struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
}

type connStatus struct {
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"connector"`
	Tasks []taskStatus `json:"tasks"`
}

// status returns a connector's status from one worker.
func (p *clusterProc) status(name string) (connStatus, error) {
	var st connStatus
	_, err := call("GET", p.url+"/connectors/"+name+"/status", nil, &st)
	return st, err
}

// running returns task → worker id for RUNNING tasks, and the distinct
// workers.
func running(st connStatus) (map[int]string, []string) {
	out := map[int]string{}
	var ws []string
	for _, ts := range st.Tasks {
		if ts.State == "RUNNING" {
			out[ts.ID] = ts.WorkerID
			if !slices.Contains(ws, ts.WorkerID) {
				ws = append(ws, ts.WorkerID)
			}
		}
	}
	slices.Sort(ws)
	return out, ws
}

// waitRunning waits (up to timeout) until every one of n tasks is RUNNING
// and check accepts the placement.
func waitRunning(t testing.TB, p *clusterProc, name string, n int, timeout time.Duration, check func(map[int]string, []string) error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		st, err := p.status(name)
		if err == nil {
			tasks, ws := running(st)
			switch {
			case len(tasks) != n:
				err = fmt.Errorf("%d of %d tasks running: %v", len(tasks), n, st.Tasks)
			case check != nil:
				err = check(tasks, ws)
			}
			if err == nil {
				return
			}
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: %v", name, last)
}

// createTopic creates a topic with n partitions on the broker.
func (c *procCluster) createTopic(name string, n int32) {
	c.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.broker.Addr))
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), n, 1, nil, name); err != nil {
		c.t.Fatal(err)
	}
}

// pipeline creates datagen (orders, iterations records per task, a fixed
// seed: a record replayed after a failover is identical) → topic →
// FileStreamSink, through worker via (a follower, when there is one: the
// write is forwarded to the leader). It returns the sink's file.
func (c *procCluster) pipeline(via *clusterProc, tasks, iterations int, interval string, sink bool) string {
	c.t.Helper()
	c.createTopic("orders", int32(tasks))
	out := filepath.Join(c.t.TempDir(), "orders.txt")
	conns := []map[string]any{
		{"name": "orders", "config": map[string]string{"connector.class": "datagen", "kafka.topic": "orders", "quickstart": "orders",
			"iterations": fmt.Sprint(iterations), "max.interval": interval, "tasks.max": fmt.Sprint(tasks), "random.seed": "42"}},
	}
	if sink {
		conns = append(conns, map[string]any{"name": "orders-sink", "config": map[string]string{"connector.class": "FileStreamSink",
			"topics": "orders", "file": out, "tasks.max": fmt.Sprint(tasks)}})
	}
	for _, cc := range conns {
		if status, err := call("POST", via.url+"/connectors", cc, nil); err != nil || status != 201 {
			c.t.Fatalf("create %s through %s: %d %v", cc["name"], via.id, status, err)
		}
	}
	return out
}

// distinctLines counts the distinct lines of a file.
func distinctLines(path string) (int, int) {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		if l != "" {
			seen[l] = true
		}
	}
	return len(seen), len(lines)
}

// waitDistinct waits until the file holds want distinct lines.
func waitDistinct(t testing.TB, path string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, total := distinctLines(path)
		if n == want {
			return
		}
		if n > want || time.Now().After(deadline) {
			t.Fatalf("%s: %d distinct lines (%d in all), want %d", path, n, total, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leader returns the worker that leads the group, from the log line of
// its last assignment.
func (c *procCluster) leader() *clusterProc {
	for _, p := range c.workers {
		logs := p.log.String()
		i := strings.LastIndex(logs, `msg="joined the group"`)
		if i >= 0 && strings.Contains(logs[i:min(len(logs), i+300)], "leader=true") {
			return p
		}
	}
	return nil
}

// TestClusterProcesses runs three worker processes on one broker process:
// a connector created through a follower lands (forwarded to the leader);
// its six tasks spread over the three workers; after kill -9 of a worker
// its tasks run again on the others, and no record is lost end to end
// (datagen → topic → file sink, distinct lines counted).
func TestClusterProcesses(t *testing.T) {
	c := newProcCluster(t)
	for range 3 {
		c.add()
	}
	via := c.workers[0]
	if l := c.leader(); l == via {
		via = c.workers[1]
	}
	const tasks, iterations = 6, 400
	out := c.pipeline(via, tasks, iterations, "20", true)
	waitRunning(t, c.workers[0], "orders", tasks, 30*time.Second, func(_ map[int]string, ws []string) error {
		if len(ws) != 3 {
			return fmt.Errorf("tasks on %v, want all three workers", ws)
		}
		return nil
	})
	// Every worker answers for every connector.
	for _, p := range c.workers {
		var names []string
		if _, err := call("GET", p.url+"/connectors", nil, &names); err != nil || !slices.Equal(names, []string{"orders", "orders-sink"}) {
			t.Fatalf("%s: connectors %v %v", p.id, names, err)
		}
	}

	// kill -9 a worker running source tasks mid-stream.
	st, _ := c.workers[0].status("orders")
	placed, _ := running(st)
	victim := c.workers[2]
	for _, p := range c.workers {
		if p.id == placed[0] {
			victim = p
		}
	}
	victim.kill()
	start := time.Now()
	alive := slices.DeleteFunc(slices.Clone(c.workers), func(p *clusterProc) bool { return p == victim })
	waitRunning(t, alive[0], "orders", tasks, 60*time.Second, func(_ map[int]string, ws []string) error {
		if slices.Contains(ws, victim.id) {
			return fmt.Errorf("tasks still on the killed worker %s", victim.id)
		}
		return nil
	})
	t.Logf("tasks of the killed worker running elsewhere after %v", time.Since(start).Round(time.Millisecond))
	waitDistinct(t, out, tasks*iterations, 90*time.Second)

	// Started again on its address, it takes its place in the group at
	// once (static membership) and gets work back.
	c.start(victim)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var on []string
		for _, name := range []string{"orders", "orders-sink"} {
			st, _ := c.workers[0].status(name)
			_, ws := running(st)
			on = append(on, ws...)
		}
		if slices.Contains(on, victim.id) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing on the restarted worker %s: tasks on %v", victim.id, on)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClusterRollingRestart restarts each of three workers in turn
// (SIGTERM, start again on the same port) while data flows: nothing is
// lost, and each returning worker gets work again.
func TestClusterRollingRestart(t *testing.T) {
	c := newProcCluster(t)
	for range 3 {
		c.add()
	}
	const tasks, iterations = 6, 500
	out := c.pipeline(c.workers[1], tasks, iterations, "20", true)
	waitRunning(t, c.workers[0], "orders", tasks, 30*time.Second, nil)
	for _, p := range c.workers {
		p.stop(t)
		c.start(p)
		waitRunning(t, p, "orders", tasks, 60*time.Second, nil)
	}
	waitRunning(t, c.workers[0], "orders", tasks, 60*time.Second, func(_ map[int]string, ws []string) error {
		if len(ws) != 3 {
			return fmt.Errorf("tasks on %v after the rolling restart, want all three workers", ws)
		}
		return nil
	})
	waitDistinct(t, out, tasks*iterations, 90*time.Second)
}

// runningRecords counts, per status key, the RUNNING records in the
// status topic: a task that keeps running writes no new one.
func (c *procCluster) runningRecords(t testing.TB) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.broker.Addr), kgo.ConsumeTopics("connect-status"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), "connect-status")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { want[o.Partition] = o.Offset })
	got := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pos := map[int32]int64{}
	done := func() bool {
		for p, end := range want {
			if pos[p] < end {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("reading the status topic timed out")
		}
		fs.EachRecord(func(r *kgo.Record) {
			pos[r.Partition] = r.Offset + 1
			if bytes.Contains(r.Value, []byte(`"state":"RUNNING"`)) {
				got[string(r.Key)]++
			}
		})
	}
	return got
}

// TestClusterScaleOut adds a fourth worker to three running a six-task
// connector: tasks move to it, and no task that stays where it was is
// stopped or started again (its status is written once).
func TestClusterScaleOut(t *testing.T) {
	c := newProcCluster(t)
	for range 3 {
		c.add()
	}
	c.pipeline(c.workers[0], 6, -1, "100", false)
	waitRunning(t, c.workers[0], "orders", 6, 30*time.Second, func(_ map[int]string, ws []string) error {
		if len(ws) != 3 {
			return fmt.Errorf("tasks on %v", ws)
		}
		return nil
	})
	st, _ := c.workers[0].status("orders")
	before, _ := running(st)
	recsBefore := c.runningRecords(t)
	fourth := c.add()
	waitRunning(t, c.workers[0], "orders", 6, 30*time.Second, func(_ map[int]string, ws []string) error {
		if !slices.Contains(ws, fourth.id) {
			return fmt.Errorf("nothing on the fourth worker yet: %v", ws)
		}
		return nil
	})
	st, _ = c.workers[0].status("orders")
	after, _ := running(st)
	recsAfter := c.runningRecords(t)
	moved := 0
	for task, w := range after {
		key := fmt.Sprintf("status-task-orders-%d", task)
		if w != before[task] {
			moved++
			if w != fourth.id {
				t.Errorf("task %d moved from %s to %s, not to the new worker", task, before[task], w)
			}
			continue
		}
		if recsAfter[key] != recsBefore[key] {
			t.Errorf("task %d stayed on %s but was restarted (%d RUNNING records, %d before)", task, w, recsAfter[key], recsBefore[key])
		}
	}
	if moved < 1 || moved > 2 {
		t.Errorf("%d tasks moved; six tasks over four workers moves one or two", moved)
	}
	t.Logf("placement before %v, after %v", before, after)
}

// TestClusterConnectorFiles starts a second worker with a connector file
// on its command line: not the leader, it hands the config to the leader,
// and the connector runs in the cluster.
func TestClusterConnectorFiles(t *testing.T) {
	c := newProcCluster(t)
	first := c.add()
	file := filepath.Join(t.TempDir(), "sink.properties")
	os.WriteFile(file, []byte("name=from-file\nconnector.class=FileStreamSink\ntopics=t\nfile="+filepath.Join(t.TempDir(), "out")+"\n"), 0o644)
	port := freePort(t)
	second := &clusterProc{port: port, id: fmt.Sprintf("127.0.0.1:%d", port), files: []string{file}}
	c.workers = append(c.workers, second)
	c.start(second)
	waitRunning(t, first, "from-file", 1, 30*time.Second, nil)
	if !strings.Contains(second.log.String(), `msg="connector from file"`) {
		t.Errorf("the second worker did not report the connector from its file:\n%s", second.log.String())
	}
	if !regexp.MustCompile(`msg="connector config written".* connector=from-file`).MatchString(first.log.String()) {
		t.Errorf("the leader did not write the config:\n%s", first.log.String())
	}
}
