package task

import (
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// ProgressTrace renders a task's long jobs for the trace of its RUNNING
// status: one line per job, in the order the task reports them, or ""
// when there is none still running (Kafka Connect's RUNNING tasks have no
// trace, and neither do ours once a snapshot is over).
//
//	snapshot public.orders: 412000 of about 1000000 rows (41%)
//	snapshot public.items: finished, 5000 rows
func ProgressTrace(ps []connectors.Progress) string {
	running := false
	for _, p := range ps {
		running = running || !p.Finished
	}
	if !running {
		return ""
	}
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Job)
		b.WriteString(": ")
		switch {
		case p.Finished:
			b.WriteString("finished, ")
			b.WriteString(strconv.FormatInt(p.Done, 10))
			b.WriteString(" rows")
		case p.Estimated > 0:
			// Estimates (pg_class.reltuples) can be short: never claim
			// 100% before the job says it is finished.
			pct := min(p.Done*100/p.Estimated, 99)
			b.WriteString(strconv.FormatInt(p.Done, 10))
			b.WriteString(" of about ")
			b.WriteString(strconv.FormatInt(p.Estimated, 10))
			b.WriteString(" rows (")
			b.WriteString(strconv.FormatInt(pct, 10))
			b.WriteString("%)")
		default:
			b.WriteString(strconv.FormatInt(p.Done, 10))
			b.WriteString(" rows so far")
		}
	}
	return b.String()
}
