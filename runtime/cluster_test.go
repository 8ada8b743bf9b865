package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/runtime/assign"
)

// In-process clusters: several workers on one Kafka cluster (kfake with
// three brokers), each with a REST endpoint for internal requests, a
// partitionable network and a task runner that records where and when
// every task ran.

// recorder notes every task start and stop of a cluster, and any moment
// two workers ran the same task at once (a zombie).
type recorder struct {
	mu      sync.Mutex
	running map[TaskID]string // task → worker running it
	starts  map[TaskID][]string
	overlap []string
}

func newRecorder() *recorder {
	return &recorder{running: map[TaskID]string{}, starts: map[TaskID][]string{}}
}

func (r *recorder) begin(id TaskID, worker string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if other, ok := r.running[id]; ok {
		r.overlap = append(r.overlap, fmt.Sprintf("%s started on %s while running on %s", id, worker, other))
	}
	r.running[id] = worker
	r.starts[id] = append(r.starts[id], worker)
}

func (r *recorder) end(id TaskID, worker string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running[id] == worker {
		delete(r.running, id)
	}
}

// startCount returns how many times each task has started.
func (r *recorder) startCount() map[TaskID]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[TaskID]int{}
	for id, s := range r.starts {
		out[id] = len(s)
	}
	return out
}

func (r *recorder) overlaps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.overlap)
}

// recRunner runs tasks that do nothing until stopped.
type recRunner struct {
	worker string
	rec    *recorder
}

func (rr *recRunner) start(_ context.Context, spec taskSpec) (runningTask, error) {
	id := TaskID{spec.Connector, spec.Task}
	rr.rec.begin(id, rr.worker)
	t := &recTask{id: id, rr: rr, done: make(chan struct{})}
	spec.Status.Running(spec.Connector, spec.Task)
	return t, nil
}

type recTask struct {
	id   TaskID
	rr   *recRunner
	once sync.Once
	done chan struct{}
}

func (t *recTask) Pause()  {}
func (t *recTask) Resume() {}
func (t *recTask) Stop(context.Context) error {
	t.once.Do(func() {
		t.rr.rec.end(t.id, t.rr.worker)
		close(t.done)
	})
	return nil
}
func (t *recTask) Done() <-chan struct{} { return t.done }
func (t *recTask) Err() error            { return nil }

// partition is a dialer that can cut a worker off the Kafka cluster.
type partition struct {
	mu      sync.Mutex
	blocked bool
	conns   []net.Conn
}

func (p *partition) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blocked {
		return nil, errors.New("test: partitioned")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		p.conns = append(p.conns, c)
	}
	return c, err
}

func (p *partition) set(blocked bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = blocked
	if blocked {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

type clusterWorker struct {
	*testWorker
	id   string // worker id (host:port)
	net  *partition
	srv  *httptest.Server
	logs *syncBuffer
}

// internalHandler serves POST /connectors/{c}/tasks for the in-process
// cluster (the REST layer is tested on its own).
func internalHandler(w **Worker) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /connectors/{c}/tasks", func(rw http.ResponseWriter, r *http.Request) {
		var configs []map[string]string
		if err := json.NewDecoder(r.Body).Decode(&configs); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		err := (*w).Herder().PutTaskConfigs(r.Context(), r.PathValue("c"), configs)
		switch {
		case err == nil:
			rw.WriteHeader(http.StatusNoContent)
		case errors.Is(err, ErrConflict):
			rw.WriteHeader(http.StatusConflict)
			json.NewEncoder(rw).Encode(map[string]any{"error_code": 409, "message": err.Error()})
		default:
			rw.WriteHeader(http.StatusInternalServerError)
			json.NewEncoder(rw).Encode(map[string]any{"error_code": 500, "message": err.Error()})
		}
	})
	return mux
}

// startClusterWorker starts a worker on the Kafka cluster at bootstrap,
// in group "g", with fast membership settings.
func startClusterWorker(t *testing.T, bootstrap string, rec *recorder, mod ...func(*WorkerConfig)) *clusterWorker {
	t.Helper()
	var w *Worker
	srv := httptest.NewUnstartedServer(internalHandler(&w))
	id := srv.Listener.Addr().String()
	cw := &clusterWorker{id: id, net: &partition{}, srv: srv}
	tw := startWorkerIn(t, t.TempDir(), func(c *WorkerConfig, o *Options) {
		for k, v := range map[string]string{
			"bootstrap.servers":                 bootstrap,
			"group.id":                          "g",
			"listeners":                         "http://" + id,
			"session.timeout.ms":                "2000",
			"heartbeat.interval.ms":             "200",
			"scheduled.rebalance.max.delay.ms":  "1000",
			"task.shutdown.graceful.timeout.ms": "500",
		} {
			if err := c.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range mod {
			m(c)
		}
		o.WorkerID = id
		o.runner = &recRunner{worker: id, rec: rec}
		o.dial = cw.net.dial
	})
	w = tw.Worker
	srv.Start()
	t.Cleanup(srv.Close)
	cw.testWorker = tw
	return cw
}

// onLeader calls f on whichever worker f's RedirectError points to,
// starting with ws[0] (what the REST layer's forwarding does).
func onLeader(t *testing.T, ws []*clusterWorker, f func(h *Herder) error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	w := ws[0]
	for {
		err := f(w.Herder())
		var rd *RedirectError
		switch {
		case err == nil:
			return
		case errors.As(err, &rd) && rd.URL != "":
			for _, o := range ws {
				if o.h.url == rd.URL {
					w = o
				}
			}
		case errors.Is(err, ErrConflict) && time.Now().Before(deadline):
			time.Sleep(20 * time.Millisecond)
		default:
			t.Fatal(err)
		}
	}
}

// placement returns, from one worker's status view, which worker runs
// each task of the connector (RUNNING tasks only).
func placement(h *Herder, name string) map[int]string {
	st, err := h.ConnectorStatus(context.Background(), name)
	if err != nil {
		return nil
	}
	out := map[int]string{}
	for _, ts := range st.Tasks {
		if ts.State == StateRunning {
			out[ts.ID] = ts.WorkerID
		}
	}
	return out
}

func distinct(m map[int]string) []string {
	var out []string
	for _, w := range m {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}

// TestClusterOnKfake runs a cluster of workers on franz-go's kfake with
// three brokers: internal topics are created with replication factor 3;
// a connector with six tasks spreads over three workers; a fourth worker
// takes tasks without any task on the others restarting; a worker cut
// off from Kafka stops its tasks before the others start them (no task
// ever runs twice at once); a worker that stops cleanly hands its tasks
// over.
func TestClusterOnKfake(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	bootstrap := strings.Join(kc.ListenAddrs(), ",")
	rec := newRecorder()
	var ws []*clusterWorker
	for range 3 {
		ws = append(ws, startClusterWorker(t, bootstrap, rec))
	}
	ctx := ctxT(t)

	// Kafka's defaults on a three-broker cluster: replication factor 3.
	adm, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	md, err := kadm.NewClient(adm).Metadata(ctx, "connect-configs", "connect-offsets", "connect-status")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"connect-configs": 1, "connect-offsets": 3 /* testConfig */, "connect-status": 5} {
		td := md.Topics[name]
		if len(td.Partitions) != want {
			t.Errorf("%s: %d partitions, want %d", name, len(td.Partitions), want)
		}
		for _, p := range td.Partitions {
			if len(p.Replicas) != 3 {
				t.Errorf("%s-%d: replicas %v, want 3", name, p.Partition, p.Replicas)
			}
		}
	}

	onLeader(t, ws, func(h *Herder) error {
		_, err := h.CreateConnector(ctx, "six", map[string]string{"connector.class": "test.Hanging", "tasks.max": "6", "gate": newGate(t)}, "")
		return err
	})
	eventually(t, "six tasks over three workers", func() error {
		for _, w := range ws {
			p := placement(w.Herder(), "six")
			if len(p) != 6 || len(distinct(p)) != 3 {
				return fmt.Errorf("%s sees %v", w.id, p)
			}
		}
		return nil
	})

	// A fourth worker: tasks move to it, the others keep running.
	before := rec.startCount()
	ws = append(ws, startClusterWorker(t, bootstrap, rec))
	eventually(t, "tasks on the fourth worker", func() error {
		p := placement(ws[0].Herder(), "six")
		if len(p) != 6 || !slices.Contains(distinct(p), ws[3].id) {
			return fmt.Errorf("placement %v", p)
		}
		return nil
	})
	after := rec.startCount()
	moved := 0
	for id, n := range after {
		if n != before[id] {
			moved++
			if rec.starts[id][len(rec.starts[id])-1] != ws[3].id || n != before[id]+1 {
				t.Errorf("%s restarted on %v", id, rec.starts[id])
			}
		}
	}
	if moved == 0 || moved > 2 {
		t.Errorf("%d tasks moved to the new worker; want 1 or 2 (6 tasks over 4 workers)", moved)
	}

	// Cut worker 1 off Kafka: it stops its tasks, then the others run them.
	ws[1].net.set(true)
	eventually(t, "tasks of the partitioned worker elsewhere", func() error {
		p := placement(ws[0].Herder(), "six")
		if len(p) != 6 || slices.Contains(distinct(p), ws[1].id) {
			return fmt.Errorf("placement %v", p)
		}
		return nil
	})
	rec.mu.Lock()
	for id, w := range rec.running {
		if w == ws[1].id {
			t.Errorf("%s still runs on the partitioned worker", id)
		}
	}
	rec.mu.Unlock()
	// Healed, it rejoins as a new member and gets work again.
	ws[1].net.set(false)
	eventually(t, "the healed worker runs tasks again", func() error {
		if p := placement(ws[0].Herder(), "six"); len(p) != 6 || !slices.Contains(distinct(p), ws[1].id) {
			return fmt.Errorf("placement %v", p)
		}
		return nil
	})

	// A clean stop: its tasks move to the others.
	ws[2].close()
	eventually(t, "tasks of the stopped worker elsewhere", func() error {
		p := placement(ws[0].Herder(), "six")
		if len(p) != 6 || slices.Contains(distinct(p), ws[2].id) {
			return fmt.Errorf("placement %v", p)
		}
		return nil
	})
	if o := rec.overlaps(); len(o) > 0 {
		t.Errorf("tasks ran twice at once:\n%s", strings.Join(o, "\n"))
	}
}

// TestClusterProtocols runs pairs of workers offering different
// connect.protocol settings: the group speaks the best protocol both
// support (sessioned > compatible > eager, named "default"), and with any
// of them the work is spread and never runs twice at once.
func TestClusterProtocols(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want assign.Protocol
	}{
		{"eager", "eager", assign.Eager},
		{"sessioned", "compatible", assign.Compatible},
		{"sessioned", "eager", assign.Eager},
	} {
		t.Run(tc.a+"+"+tc.b, func(t *testing.T) {
			kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(kc.Close)
			rec := newRecorder()
			// The first worker runs everything alone, then the second
			// joins (with tc.b = eager: the group falls back to the eager
			// protocol while the first holds work).
			ws := []*clusterWorker{startClusterWorker(t, kc.ListenAddrs()[0], rec, func(c *WorkerConfig) { c.Set("connect.protocol", tc.a) })}
			onLeader(t, ws, func(h *Herder) error {
				_, err := h.CreateConnector(ctxT(t), "four", map[string]string{"connector.class": "test.Hanging", "tasks.max": "4", "gate": newGate(t)}, "")
				return err
			})
			eventually(t, "four tasks on the first worker", func() error {
				if p := placement(ws[0].Herder(), "four"); len(p) != 4 {
					return fmt.Errorf("placement %v", p)
				}
				return nil
			})
			ws = append(ws, startClusterWorker(t, kc.ListenAddrs()[0], rec, func(c *WorkerConfig) { c.Set("connect.protocol", tc.b) }))
			eventually(t, "four tasks over two workers", func() error {
				p := placement(ws[0].Herder(), "four")
				if len(p) != 4 || len(distinct(p)) != 2 {
					return fmt.Errorf("placement %v", p)
				}
				for _, w := range ws {
					if v, _ := w.h.member.view(); v.protocol != tc.want {
						return fmt.Errorf("%s speaks %s, want %s", w.id, v.protocol, tc.want)
					}
				}
				return nil
			})
			// A third worker joins: the work spreads again.
			ws = append(ws, startClusterWorker(t, kc.ListenAddrs()[0], rec, func(c *WorkerConfig) { c.Set("connect.protocol", tc.a) }))
			eventually(t, "four tasks over three workers", func() error {
				if p := placement(ws[0].Herder(), "four"); len(p) != 4 || len(distinct(p)) != 3 {
					return fmt.Errorf("placement %v", p)
				}
				return nil
			})
			if o := rec.overlaps(); len(o) > 0 {
				t.Errorf("tasks ran twice at once:\n%s", strings.Join(o, "\n"))
			}
		})
	}
}
