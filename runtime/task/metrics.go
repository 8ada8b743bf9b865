package task

import (
	"strconv"

	"github.com/sluicedata/sluice/connectors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of every task of a worker, labelled
// by connector and task. Create one per worker with NewMetrics and share it
// in Env; a task deletes its series when it stops.
type Metrics struct {
	polled       *prometheus.CounterVec
	produced     *prometheus.CounterVec
	consumed     *prometheus.CounterVec
	put          *prometheus.CounterVec
	batchSize    *prometheus.HistogramVec
	commitTime   *prometheus.HistogramVec
	commitFailed *prometheus.CounterVec
	sinkLag      *prometheus.GaugeVec
	errors       *prometheus.CounterVec
	skipped      *prometheus.CounterVec
	dlq          *prometheus.CounterVec
	state        *prometheus.GaugeVec
	progress     *prometheus.GaugeVec
}

// Metric names, all prefixed sluice_task_.
const metricPrefix = "sluice_task_"

// NewMetrics creates the task metrics and registers them with reg; a nil
// reg registers nothing (the metrics still count).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	ct := []string{"connector", "task"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricPrefix + name, Help: help}, append(ct, labels...))
	}
	m := &Metrics{
		polled:   counter("source_records_polled_total", "Records returned by a source task's Poll."),
		produced: counter("source_records_produced_total", "Source records written to Kafka and acknowledged by the broker."),
		consumed: counter("sink_records_consumed_total", "Records a sink task consumed from Kafka."),
		put:      counter("sink_records_put_total", "Records passed to a sink task's Put that it accepted."),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricPrefix + "batch_size_records",
			Help:    "Records per Poll (source) or per Put (sink), empty batches excluded.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}, ct),
		commitTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricPrefix + "offset_commit_seconds",
			Help:    "Time to store source offsets or to flush and commit sink offsets.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}, ct),
		commitFailed: counter("offset_commit_failures_total", "Offset commits that failed (retried at the next flush)."),
		sinkLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricPrefix + "sink_lag_records",
			Help: "Sum over the task's partitions of high watermark minus committed offset."}, ct),
		errors:  counter("errors_total", "Failed operations by stage (each failed attempt counts).", "stage"),
		skipped: counter("records_skipped_total", "Records skipped under errors.tolerance=all."),
		dlq:     counter("dlq_records_total", "Records written to the dead letter queue."),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricPrefix + "state",
			Help: "1 for the task's current state (running, paused, failed), 0 otherwise."}, append(ct, "state")),
		progress: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricPrefix + "progress",
			Help: "Progress of a task's long jobs (connectors.ProgressReporter, e.g. a snapshot per table): units done and estimated (-1 unknown), and 1 once finished."},
			append(ct, "job", "measure")),
	}
	if reg != nil {
		for _, c := range m.collectors() {
			reg.MustRegister(c)
		}
	}
	return m
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.polled, m.produced, m.consumed, m.put, m.batchSize, m.commitTime,
		m.commitFailed, m.sinkLag, m.errors, m.skipped, m.dlq, m.state, m.progress}
}

// taskMetrics are one task's series, resolved once.
type taskMetrics struct {
	m                               *Metrics
	labels                          prometheus.Labels
	polled, produced, consumed, put prometheus.Counter
	batchSize, commitTime           prometheus.Observer
	commitFailed, skipped, dlq      prometheus.Counter
	sinkLag                         prometheus.Gauge
	errByStage                      [len(stageNames)]prometheus.Counter
	running, paused, failed         prometheus.Gauge
}

func (m *Metrics) forTask(connector string, task int) *taskMetrics {
	l := prometheus.Labels{"connector": connector, "task": strconv.Itoa(task)}
	c, t := l["connector"], l["task"]
	tm := &taskMetrics{m: m, labels: l,
		polled: m.polled.WithLabelValues(c, t), produced: m.produced.WithLabelValues(c, t),
		consumed: m.consumed.WithLabelValues(c, t), put: m.put.WithLabelValues(c, t),
		batchSize: m.batchSize.WithLabelValues(c, t), commitTime: m.commitTime.WithLabelValues(c, t),
		commitFailed: m.commitFailed.WithLabelValues(c, t), skipped: m.skipped.WithLabelValues(c, t),
		dlq: m.dlq.WithLabelValues(c, t), sinkLag: m.sinkLag.WithLabelValues(c, t),
		running: m.state.WithLabelValues(c, t, "running"), paused: m.state.WithLabelValues(c, t, "paused"),
		failed: m.state.WithLabelValues(c, t, "failed"),
	}
	for i := range tm.errByStage {
		tm.errByStage[i] = m.errors.WithLabelValues(c, t, Stage(i).String())
	}
	return tm
}

func (tm *taskMetrics) error(s Stage) {
	if int(s) < len(tm.errByStage) {
		tm.errByStage[s].Inc()
	}
}

func (tm *taskMetrics) setState(running, paused, failed bool) {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	tm.running.Set(b(running))
	tm.paused.Set(b(paused))
	tm.failed.Set(b(failed))
}

// remove deletes the task's series (on a clean stop; a failed task keeps
// them so the failure stays visible until it restarts).
func (tm *taskMetrics) remove() {
	for _, c := range tm.m.collectors() {
		switch v := c.(type) {
		case *prometheus.CounterVec:
			v.DeletePartialMatch(tm.labels)
		case *prometheus.GaugeVec:
			v.DeletePartialMatch(tm.labels)
		case *prometheus.HistogramVec:
			v.DeletePartialMatch(tm.labels)
		}
	}
}

// reportProgress sets the progress gauges of the task's jobs.
func (tm *taskMetrics) reportProgress(ps []connectors.Progress) {
	c, t := tm.labels["connector"], tm.labels["task"]
	for _, p := range ps {
		finished := 0.0
		if p.Finished {
			finished = 1
		}
		tm.m.progress.WithLabelValues(c, t, p.Job, "done").Set(float64(p.Done))
		tm.m.progress.WithLabelValues(c, t, p.Job, "estimated").Set(float64(p.Estimated))
		tm.m.progress.WithLabelValues(c, t, p.Job, "finished").Set(finished)
	}
}
