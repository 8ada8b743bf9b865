package task

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicedata/sluice/connectors"
)

// progressSource is a genSource with a long job to report.
type progressSource struct{ *genSource }

func (progressSource) JobProgress() []connectors.Progress {
	return []connectors.Progress{{Job: "snapshot public.orders", Done: 40, Estimated: 100}}
}

// TestSourceProgressInMetrics pins that a source's ProgressReporter shows
// in the task metrics while it runs.
func TestSourceProgressInMetrics(t *testing.T) {
	old := progressInterval
	progressInterval = 10 * time.Millisecond
	defer func() { progressInterval = old }()

	addr := startBroker(t)
	env, _, _ := newEnv(t, addr)
	reg := prometheus.NewRegistry()
	env.Metrics = NewMetrics(reg)
	tk := startTask(t, sourceSpec("prog", nil, progressSource{&genSource{topic: "prog", total: 1 << 30, batch: 10}}), env)
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
}
