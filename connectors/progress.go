package connectors

// Progress is how far one long job of a task has come: the snapshot of a
// table, a backfill.
type Progress struct {
	// Job names the job, e.g. "snapshot public.customers".
	Job string
	// Done is how many units (rows, records) are done.
	Done int64
	// Estimated is how many units the job is expected to have, or -1
	// when that is unknown.
	Estimated int64
	// Finished reports that the job is over.
	Finished bool
}

// ProgressReporter is an optional Source capability: a task with long
// jobs (an initial snapshot) reports their progress, which the runtime
// reads every second while the task runs and exposes in /metrics
// (sluice_task_progress{job, measure="done"|"estimated"|"finished"}) and
// in the trace of the task's RUNNING status until every job is finished.
// JobProgress must be cheap and safe to call concurrently with Poll.
type ProgressReporter interface {
	JobProgress() []Progress
}
