package runtime

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestRestartRecoversFromTheBroker stops a worker and starts another on
// the same data directory: connectors, target states, task configs and
// source offsets come back from the internal topics alone, and the file
// source resumes where it left off (no line twice in the output).
func TestRestartRecoversFromTheBroker(t *testing.T) {
	dataDir := t.TempDir()
	dir := t.TempDir()
	w := startWorkerIn(t, dataDir)
	h := w.Herder()
	ctx := ctxT(t)
	in, out := fileConnectors(t, w, dir, "recover")
	appendLines(t, in, "1", "2", "3")
	waitLines(t, out, []string{"1", "2", "3"})
	for name, target := range map[string]TargetState{"paused": TargetPaused, "stopped": TargetStopped} {
		if _, err := h.CreateConnector(ctx, name, map[string]string{"connector.class": "FileStreamSink", "topics": "other",
			"file": filepath.Join(dir, name)}, target); err != nil {
			t.Fatal(err)
		}
	}
	waitState(t, h, "paused", StatePaused, 0)
	waitState(t, h, "stopped", StateStopped, 0)
	srcTasks, _ := h.TaskConfigs(ctx, "local-file-source")
	gen1 := w.h.status.generation()
	w.close()

	appendLines(t, in, "4") // written while the worker is down
	w2 := startWorkerIn(t, dataDir)
	h2 := w2.Herder()
	names, err := h2.Connectors(ctx)
	if err != nil || !slices.Equal(names, []string{"local-file-sink", "local-file-source", "paused", "stopped"}) {
		t.Fatalf("connectors after restart: %v %v", names, err)
	}
	if got, _ := h2.TaskConfigs(ctx, "local-file-source"); len(got) != 1 || fmt.Sprint(got) != fmt.Sprint(srcTasks) {
		t.Errorf("task configs after restart: %v, want %v", got, srcTasks)
	}
	waitState(t, h2, "local-file-source", StateRunning, 1)
	waitState(t, h2, "local-file-sink", StateRunning, 1)
	waitState(t, h2, "paused", StatePaused, 0)
	waitState(t, h2, "stopped", StateStopped, 0)
	appendLines(t, in, "5")
	waitLines(t, out, []string{"1", "2", "3", "4", "5"})
	if st, _ := h2.ConnectorStatus(ctx, "local-file-source"); st.Connector.WorkerID != "127.0.0.1:18083" {
		t.Errorf("status after restart: %+v", st)
	}
	// Statuses carry the group generation, which goes on where the first
	// worker's membership ended.
	if g := w2.h.status.generation(); g <= gen1 {
		t.Errorf("second worker generation = %d, want more than the first's %d", g, gen1)
	}
}

// TestFailedTaskRestartsAutomatically: a task whose Open fails twice is
// FAILED (with the error as trace) between attempts and RUNNING after the
// third, without anyone asking.
func TestFailedTaskRestartsAutomatically(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	name := "flaky-" + fmt.Sprint(time.Now().UnixNano())
	if _, err := h.CreateConnector(ctx, name, map[string]string{"connector.class": "test.Flaky", "tasks.max": "1", "fail": "2"}, ""); err != nil {
		t.Fatal(err)
	}
	sawFailed := atomic.Bool{}
	eventually(t, "task RUNNING after failures", func() error {
		st, err := h.TaskStatus(ctx, TaskID{name, 0})
		if err != nil {
			return err
		}
		if st.State == StateFailed {
			if !strings.Contains(st.Trace, "flaky open") {
				t.Errorf("trace %q", st.Trace)
			}
			sawFailed.Store(true)
		}
		if st.State != StateRunning {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	if !sawFailed.Load() {
		t.Log("the FAILED state passed between two polls")
	}
	v, _ := flakyOpens.Load(name)
	if n := v.(interface{ Load() int32 }).Load(); n != 3 {
		t.Errorf("Open called %d times, want 3", n)
	}
	if got := counterValue(w.h.metrics.taskRestarts.WithLabelValues(name, "retry")); got != 2 {
		t.Errorf("retry restarts metric = %v, want 2", got)
	}
}

// TestMaxAttemptsExhausted: with sluice.task.restart.max.attempts=1 the
// task stays FAILED after one automatic restart; a REST restart still
// works.
func TestMaxAttemptsExhausted(t *testing.T) {
	w := startWorker(t, func(c *WorkerConfig, _ *Options) { c.TaskRestartMaxAttempts = 1 })
	h := w.Herder()
	ctx := ctxT(t)
	name := "flaky-" + fmt.Sprint(time.Now().UnixNano())
	if _, err := h.CreateConnector(ctx, name, map[string]string{"connector.class": "test.Flaky", "tasks.max": "1", "fail": "2"}, ""); err != nil {
		t.Fatal(err)
	}
	v, _ := flakyOpens.LoadOrStore(name, new(atomic.Int32))
	opens := v.(*atomic.Int32)
	eventually(t, "two attempts", func() error {
		if n := opens.Load(); n < 2 {
			return fmt.Errorf("%d opens", n)
		}
		return nil
	})
	// No third automatic attempt: the machine gave up.
	eventually(t, "attempts exhausted", func() error {
		w.h.mu.Lock()
		defer w.h.mu.Unlock()
		tk := w.h.mu.m.tasks[TaskID{name, 0}]
		if tk == nil || tk.failed == nil || !tk.failed.exhausted || !w.h.mu.m.nextDeadline().IsZero() {
			return fmt.Errorf("not exhausted")
		}
		return nil
	})
	if n := opens.Load(); n != 2 {
		t.Fatalf("Open called %d times, want 2", n)
	}
	if st, _ := h.TaskStatus(ctx, TaskID{name, 0}); st.State != StateFailed {
		t.Fatalf("status %+v", st)
	}
	if err := h.RestartTask(ctx, TaskID{name, 0}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "RUNNING after the requested restart", func() error {
		if st, _ := h.TaskStatus(ctx, TaskID{name, 0}); st.State != StateRunning {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
}

// TestHangingTaskDoesNotBlock: a task stuck in Poll (and in Close) and a
// connector stuck in Start never block the REST-facing methods or other
// connectors; deleting them abandons them after the graceful timeout.
func TestHangingTaskDoesNotBlock(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	g := newGate(t)
	if _, err := h.CreateConnector(ctx, "hang", map[string]string{"connector.class": "test.Hanging", "tasks.max": "2", "gate": g}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateConnector(ctx, "hang-start", map[string]string{"connector.class": "test.HangingStart", "gate": g}, ""); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, "hang", StateRunning, 2)

	// Every request answers quickly while things hang.
	quick := func(what string, f func(ctx context.Context) error) {
		t.Helper()
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		start := time.Now()
		if err := f(qctx); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		if d := time.Since(start); d > 2500*time.Millisecond {
			t.Errorf("%s took %v", what, d)
		}
	}
	quick("pause", func(ctx context.Context) error { return h.PauseConnector(ctx, "hang") })
	quick("status", func(ctx context.Context) error { _, err := h.ConnectorStatus(ctx, "hang"); return err })
	quick("list", func(ctx context.Context) error { _, err := h.Connectors(ctx); return err })
	quick("restart task", func(ctx context.Context) error { return h.RestartTask(ctx, TaskID{"hang", 0}) })
	quick("info", func(ctx context.Context) error { _, err := h.ConnectorInfo(ctx, "hang-start"); return err })
	quick("health", func(ctx context.Context) error {
		if hl := h.Health(ctx); hl.Status != "healthy" {
			return fmt.Errorf("%+v", hl)
		}
		return nil
	})
	// Another connector works meanwhile.
	out := filepath.Join(t.TempDir(), "o")
	quick("create", func(ctx context.Context) error {
		_, err := h.CreateConnector(ctx, "ok", map[string]string{"connector.class": "FileStreamSink", "topics": "t", "file": out}, "")
		return err
	})
	waitState(t, h, "ok", StateRunning, 1)
	quick("delete hanging", func(ctx context.Context) error { return h.DeleteConnector(ctx, "hang") })
	quick("delete hanging start", func(ctx context.Context) error { return h.DeleteConnector(ctx, "hang-start") })
	// The hung instances are abandoned after the graceful timeout.
	eventually(t, "abandoned", func() error {
		if n := counterValue(w.h.metrics.abandoned.WithLabelValues("hang")); n < 1 {
			return fmt.Errorf("abandoned = %v", n)
		}
		return nil
	})
	eventually(t, "hanging connectors gone", func() error {
		w.h.mu.Lock()
		defer w.h.mu.Unlock()
		for id := range w.h.mu.m.tasks {
			if strings.HasPrefix(id.Connector, "hang") {
				return fmt.Errorf("task %s still known", id)
			}
		}
		return nil
	})
	if st, err := h.ConnectorStatus(ctx, "ok"); err != nil || st.Connector.State != StateRunning {
		t.Errorf("ok: %+v %v", st, err)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestConnectorControl: a connector that asks for reconfiguration gets
// its new task set; one that raises an error is FAILED and restarted.
func TestConnectorControl(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	ctx := ctxT(t)
	name := fmt.Sprint("dyn-", time.Now().UnixNano())
	d := dynamicFor(name)
	d.tasks.Store(1)
	if _, err := h.CreateConnector(ctx, name, map[string]string{"connector.class": "test.Dynamic", "tasks.max": "3"}, ""); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, name, StateRunning, 1)
	d.tasks.Store(3)
	(*d.ctl.Load()).RequestTaskReconfiguration()
	waitState(t, h, name, StateRunning, 3)
	d.tasks.Store(2)
	(*d.ctl.Load()).RequestTaskReconfiguration()
	waitState(t, h, name, StateRunning, 2)
	if _, err := h.TaskStatus(ctx, TaskID{name, 2}); err == nil {
		t.Error("task 2 still has a status")
	}

	// More than tasks.max: the connector fails (tasks.max.enforce).
	d.tasks.Store(4)
	(*d.ctl.Load()).RequestTaskReconfiguration()
	eventually(t, "FAILED for too many tasks", func() error {
		st, err := h.ConnectorStatus(ctx, name)
		if err != nil || st.Connector.State != StateFailed || !strings.Contains(st.Connector.Trace, "has generated 4 tasks, which is greater than 3") {
			return fmt.Errorf("%+v %v", st, err)
		}
		return nil
	})
	d.tasks.Store(2)
	// The automatic restart brings it back.
	waitState(t, h, name, StateRunning, 2)

	(*d.ctl.Load()).RaiseError(errTest)
	eventually(t, "RUNNING again after RaiseError", func() error {
		if n := counterValue(w.h.metrics.connectorRestarts.WithLabelValues(name, "retry")); n < 2 {
			return fmt.Errorf("%v connector retries", n)
		}
		st, _ := h.ConnectorStatus(ctx, name)
		if st.Connector.State != StateRunning {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
}
