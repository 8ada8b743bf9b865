package runtime

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// herderMetrics are the worker-level metrics. Per-record metrics belong
// to the task runner (package runtime/task), registered on the same
// registry.
type herderMetrics struct {
	taskRestarts      *prometheus.CounterVec
	connectorRestarts *prometheus.CounterVec
	offsetCommit      *prometheus.HistogramVec
	abandoned         *prometheus.CounterVec
	rebalances        prometheus.Counter
	generation        prometheus.Gauge
	leader            prometheus.Gauge
}

func newHerderMetrics(reg prometheus.Registerer, h *herder) *herderMetrics {
	m := &herderMetrics{
		taskRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_task_restarts_total",
			Help: "Task restarts, by connector and reason: retry (automatic, after a failure) or restart (requested through the REST API).",
		}, []string{"connector", "reason"}),
		connectorRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_connector_restarts_total",
			Help: "Connector instance restarts, by connector and reason: retry (automatic, after a failure) or restart (requested).",
		}, []string{"connector", "reason"}),
		offsetCommit: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_source_offset_commit_seconds",
			Help:    "Time to write a batch of source offsets to the offsets topic and have it acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"connector"}),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_abandoned_total",
			Help: "Connectors and tasks that did not stop within task.shutdown.graceful.timeout.ms and were abandoned, by connector.",
		}, []string{"connector"}),
		rebalances: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_worker_rebalances_total",
			Help: "Assignments this worker applied (one per completed rebalance of the Connect group).",
		}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_worker_group_generation",
			Help: "Generation of the Connect group this worker last joined.",
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sluice_worker_leader",
			Help: "1 while this worker leads the Connect group, else 0.",
		}),
	}
	reg.MustRegister(m.taskRestarts, m.connectorRestarts, m.offsetCommit, m.abandoned, m.rebalances, m.generation, m.leader,
		&stateCollector{h: h})
	return m
}

func (m *herderMetrics) observeCommit(connector string, d time.Duration) {
	m.offsetCommit.WithLabelValues(connector).Observe(d.Seconds())
}

var (
	connectorsDesc = prometheus.NewDesc("sluice_connectors", "Connectors on this worker, by reported state.", []string{"state"}, nil)
	tasksDesc      = prometheus.NewDesc("sluice_tasks", "Tasks on this worker, by reported state.", []string{"state"}, nil)
)

// stateCollector counts connectors and tasks by state at scrape time.
type stateCollector struct{ h *herder }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connectorsDesc
	ch <- tasksDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	conns, tasks := c.h.stateCounts()
	for _, s := range []State{StateUnassigned, StateRunning, StatePaused, StateFailed, StateRestarting, StateStopped} {
		ch <- prometheus.MustNewConstMetric(connectorsDesc, prometheus.GaugeValue, float64(conns[s]), string(s))
		if s != StateStopped {
			ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, float64(tasks[s]), string(s))
		}
	}
}
