package task

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicedata/sluice/connectors"
)

// progressSource is a genSource with a long job to report; finish ends
// the job.
type progressSource struct {
	*genSource
	finished *atomic.Bool
}

func (p progressSource) JobProgress() []connectors.Progress {
	if p.finished.Load() {
		return []connectors.Progress{{Job: "snapshot public.orders", Done: 100, Estimated: 100, Finished: true}}
	}
	return []connectors.Progress{{Job: "snapshot public.orders", Done: 40, Estimated: 100}}
}

// TestSourceProgressInMetrics pins that a source's ProgressReporter shows
// in the task metrics while it runs, and in the trace of its RUNNING
// status until the job is finished.
func TestSourceProgressInMetrics(t *testing.T) {
	old := progressInterval
	progressInterval = 10 * time.Millisecond
	defer func() { progressInterval = old }()

	var finished atomic.Bool
	addr := startBroker(t)
	env, status, _ := newEnv(t, addr)
	reg := prometheus.NewRegistry()
	env.Metrics = NewMetrics(reg)
	tk := startTask(t, sourceSpec("prog", nil, progressSource{&genSource{topic: "prog", total: 1 << 30, batch: 10}, &finished}), env)
	defer stopTask(t, tk)

	gauge := func(measure string) (float64, bool) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "sluice_task_progress" {
				continue
			}
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, lp := range m.GetLabel() {
					l[lp.GetName()] = lp.GetValue()
				}
				if l["connector"] == "prog" && l["task"] == "0" && l["job"] == "snapshot public.orders" && l["measure"] == measure {
					return m.GetGauge().GetValue(), true
				}
			}
		}
		return 0, false
	}
	eventually(t, 10*time.Second, "progress in the metrics", func() bool {
		d, ok1 := gauge("done")
		e, ok2 := gauge("estimated")
		f, ok3 := gauge("finished")
		return ok1 && ok2 && ok3 && d == 40 && e == 100 && f == 0
	})
	lastTrace := func() string {
		status.mu.Lock()
		defer status.mu.Unlock()
		if len(status.traces) == 0 {
			return "<none>"
		}
		return status.traces[len(status.traces)-1]
	}
	eventually(t, 10*time.Second, "progress in the status trace", func() bool {
		return lastTrace() == "snapshot public.orders: 40 of about 100 rows (40%)"
	})
	finished.Store(true)
	eventually(t, 10*time.Second, "the trace cleared once the job finished", func() bool { return lastTrace() == "" })
}

func TestProgressTrace(t *testing.T) {
	for _, tc := range []struct {
		ps   []connectors.Progress
		want string
	}{
		{nil, ""},
		{[]connectors.Progress{{Job: "snapshot a", Done: 5, Estimated: 5, Finished: true}}, ""},
		{[]connectors.Progress{
			{Job: "snapshot public.items", Done: 5000, Estimated: 4900, Finished: true},
			{Job: "snapshot public.orders", Done: 412000, Estimated: 1000000},
			{Job: "snapshot public.lines", Done: 1200, Estimated: 1000},
			{Job: "snapshot public.new", Done: 7, Estimated: -1},
		}, "snapshot public.items: finished, 5000 rows\n" +
			"snapshot public.orders: 412000 of about 1000000 rows (41%)\n" +
			"snapshot public.lines: 1200 of about 1000 rows (99%)\n" +
			"snapshot public.new: 7 rows so far"},
	} {
		if got := ProgressTrace(tc.ps); got != tc.want {
			t.Errorf("ProgressTrace(%v) =\n%s\nwant\n%s", tc.ps, got, tc.want)
		}
	}
}

// endingSource is a finite genSource whose one job finishes with it.
type endingSource struct{ *genSource }

func (e endingSource) JobProgress() []connectors.Progress {
	done := e.polled.Load()
	return []connectors.Progress{{Job: "snapshot public.small", Done: done, Estimated: e.total, Finished: done >= e.total}}
}

// TestProgressTraceClearedWhenTheTaskEnds: a task whose snapshot is its
// whole input (snapshot.mode=initial_only) leaves no trace behind.
func TestProgressTraceClearedWhenTheTaskEnds(t *testing.T) {
	old := progressInterval
	progressInterval = 10 * time.Millisecond
	defer func() { progressInterval = old }()

	addr := startBroker(t)
	env, status, _ := newEnv(t, addr)
	src := endingSource{&genSource{topic: "ending", total: 400, batch: 10, pollDelay: 5 * time.Millisecond}}
	tk := startTask(t, sourceSpec("ending", nil, src), env)
	defer stopTask(t, tk)
	traces := func() []string {
		status.mu.Lock()
		defer status.mu.Unlock()
		return slices.Clone(status.traces)
	}
	eventually(t, 20*time.Second, "the task to end with its trace cleared", func() bool {
		ts := traces()
		return len(ts) > 1 && ts[0] != "" && ts[len(ts)-1] == "" && src.polled.Load() == src.total
	})
}
