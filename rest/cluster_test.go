package rest_test

// Distributed mode over HTTP: two or more workers on one Kafka cluster,
// each with its REST API; writes sent to any of them land (forwarded to
// the leader), and a cluster that cannot settle answers 409 only after the
// bounded wait.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/brokertest"
	"github.com/sluicedata/sluice/plugins"
	"github.com/sluicedata/sluice/rest"
	"github.com/sluicedata/sluice/runtime"
)

// seen records what reached a worker's REST API.
type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (s *seen) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// find returns the requests to method path.
func (s *seen) find(method, path string) []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*http.Request
	for _, r := range s.reqs {
		if r.Method == method && r.URL.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// startMember starts a worker of group "g" on the Kafka cluster at
// bootstrap, with its REST API; props override the worker config.
func startMember(t *testing.T, bootstrap string, props map[string]string, opts rest.Options) (*testWorker, *seen) {
	t.Helper()
	dir := t.TempDir()
	srv := httptest.NewUnstartedServer(nil)
	cfg := runtime.DefaultWorkerConfig()
	all := map[string]string{
		"bootstrap.servers":                 bootstrap,
		"group.id":                          "g",
		"listeners":                         "http://" + srv.Listener.Addr().String(),
		"offset.storage.partitions":         "3",
		"task.shutdown.graceful.timeout.ms": "1000",
		"session.timeout.ms":                "6000",
		"heartbeat.interval.ms":             "200",
	}
	for k, v := range props {
		all[k] = v
	}
	for k, v := range all {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	levels := runtime.NewLogLevels(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}), slog.LevelInfo)
	w, err := runtime.NewWorker(cfg, runtime.Options{Levels: levels, Registry: plugins.Builtin(), Version: "rest-test",
		WorkerID: srv.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s := &seen{}
	srv.Config.Handler = s.wrap(rest.New(w.Herder(), opts))
	srv.Start()
	tw := &testWorker{t: t, url: srv.URL, worker: w, dir: dir, logs: logs}
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if tw.started {
			w.Close(ctx)
		}
		if t.Failed() {
			t.Logf("worker %s log (tail):\n%s", srv.URL, tail(logs.String(), 80))
		}
	})
	return tw, s
}

// leaderOf returns which of the workers leads the group (from the log of
// their latest assignment).
func leaderOf(t *testing.T, ws ...*testWorker) (leader, follower *testWorker) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for i, w := range ws {
			logs := w.logs.String()
			j := strings.LastIndex(logs, `msg="joined the group"`)
			if j >= 0 && strings.Contains(logs[j:min(len(logs), j+400)], "leader=true") &&
				strings.Count(logs, `msg="joined the group"`) > 0 {
				// The others must have joined the same generation.
				other := ws[(i+1)%len(ws)]
				if strings.Contains(other.logs.String(), `msg="joined the group"`) {
					return w, other
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no leader")
	return nil, nil
}

// TestForwardingToTheLeader sends writes to the follower of a two-worker
// cluster: they land, answered with the leader's status, body and
// Location; the request reached the leader with ?forward=true and the
// client's Authorization; a request that already used its hops
// (?forward=false) is refused with Kafka's 409 once the retry budget is
// spent; internal requests must carry a valid signature.
func TestForwardingToTheLeader(t *testing.T) {
	_, addr := brokertest.Start(t)
	a, seenA := startMember(t, addr, nil, rest.Options{RebalanceRetry: 300 * time.Millisecond})
	b, seenB := startMember(t, addr, nil, rest.Options{RebalanceRetry: 300 * time.Millisecond})
	a.start()
	b.start()
	leader, follower := leaderOf(t, a, b)
	seenLeader := seenA
	if leader == b {
		seenLeader = seenB
	}

	out := filepath.Join(t.TempDir(), "out.txt")
	body := map[string]any{"name": "s", "config": map[string]string{"connector.class": "FileStreamSink", "topics": "t", "file": out}}
	r := follower.do("POST", "/connectors", body, "Authorization", "Basic c2x1aWNlOnNlY3JldA==")
	if r.status != 201 || !strings.HasSuffix(r.header.Get("Location"), "/connectors/s") {
		t.Fatalf("create through the follower: %v (Location %q)", r, r.header.Get("Location"))
	}
	fwd := seenLeader.find("POST", "/connectors")
	if len(fwd) != 1 || fwd[0].URL.Query().Get("forward") != "true" || fwd[0].Header.Get("Authorization") != "Basic c2x1aWNlOnNlY3JldA==" {
		t.Fatalf("forwarded requests: %v", fwd)
	}
	// Both answer for it.
	for _, w := range []*testWorker{leader, follower} {
		deadline := time.Now().Add(10 * time.Second)
		for w.do("GET", "/connectors/s/status", nil).status != 200 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no status for s", w.url)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// PUT config (200: replaced), restart, delete: all through the follower.
	if r := follower.do("PUT", "/connectors/s/config", map[string]string{"connector.class": "FileStreamSink", "topics": "t2", "file": out}); r.status != 200 {
		t.Fatalf("PUT config through the follower: %v", r)
	}
	if r := follower.do("POST", "/connectors/s/restart?includeTasks=true", nil); r.status != 202 {
		t.Fatalf("restart through the follower: %v", r)
	}
	// Task restarts run on the task's owner, whichever worker is asked:
	// two tasks, one on each worker.
	if r := follower.do("PUT", "/connectors/s/config", map[string]string{"connector.class": "FileStreamSink", "topics": "t2",
		"file": out, "tasks.max": "2"}); r.status != 200 {
		t.Fatalf("PUT config: %v", r)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st runtime.ConnectorStateInfo
		r := leader.do("GET", "/connectors/s/status", nil)
		if r.status == 200 {
			r.decode(t, &st)
		}
		if len(st.Tasks) == 2 && st.Tasks[0].State == "RUNNING" && st.Tasks[1].State == "RUNNING" && st.Tasks[0].WorkerID != st.Tasks[1].WorkerID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("two tasks on two workers: %v", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, w := range []*testWorker{leader, follower} {
		for _, task := range []string{"0", "1"} {
			if r := w.do("POST", "/connectors/s/tasks/"+task+"/restart", nil); r.status != 204 {
				t.Errorf("restart task %s through %s: %v", task, w.url, r)
			}
		}
	}
	// A request that already used its hops: 409 after the retry budget.
	start := time.Now()
	r = follower.do("POST", "/connectors?forward=false", map[string]any{"name": "x", "config": map[string]string{"connector.class": "FileStreamSink", "topics": "t", "file": out}})
	if r.status != 409 || !strings.Contains(string(r.body), "Cannot complete request because of a conflicting operation (e.g. worker rebalance)") {
		t.Fatalf("hop limit: %v", r)
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("409 after %v, before the retry budget", el)
	}
	// Internal requests: unsigned or badly signed task configs are refused
	// (the group speaks the sessioned protocol).
	if r := follower.do("POST", "/connectors/s/tasks", `[{"a":"b"}]`); r.status != 400 || !strings.Contains(string(r.body), "Internal request missing required signature") {
		t.Errorf("unsigned internal request: %v", r)
	}
	mac := hmac.New(sha256.New, []byte("not the session key"))
	mac.Write([]byte(`[{"a":"b"}]`))
	if r := follower.do("POST", "/connectors/s/tasks", `[{"a":"b"}]`, runtime.HeaderSignature, base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		runtime.HeaderSignatureAlgorithm, "HmacSHA256"); r.status != 403 {
		t.Errorf("badly signed internal request: %v", r)
	}
	if r := follower.do("DELETE", "/connectors/s", nil); r.status != 204 {
		t.Fatalf("delete through the follower: %v", r)
	}
}

// TestConflictOnlyAfterTheBoundedWait runs a worker whose group never
// settles (the coordinator refuses every JoinGroup): reads are served, and
// a write waits sluice.rebalance.request.wait.ms for a leader before it
// answers Kafka's 409.
func TestConflictOnlyAfterTheBoundedWait(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	kc.ControlKey(int16(kmsg.JoinGroup), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		resp := req.(*kmsg.JoinGroupRequest).ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil, true
	})
	w, _ := startMember(t, kc.ListenAddrs()[0], map[string]string{"sluice.rebalance.request.wait.ms": "1500"}, rest.Options{RebalanceRetry: 500 * time.Millisecond})
	w.start()
	if r := w.do("GET", "/connectors", nil); r.status != 200 || string(r.body) != "[]" {
		t.Fatalf("GET /connectors: %v", r)
	}
	start := time.Now()
	r := w.do("POST", "/connectors", map[string]any{"name": "x", "config": map[string]string{"connector.class": "FileStreamSink", "topics": "t", "file": "/dev/null"}})
	el := time.Since(start)
	if r.status != 409 || !strings.Contains(string(r.body), "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.") {
		t.Fatalf("create without a leader: %v", r)
	}
	if el < 1500*time.Millisecond || el > 10*time.Second {
		t.Errorf("409 after %v; want after the 1.5 s wait, bounded", el)
	}
}
