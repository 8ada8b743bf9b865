package runtime

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

// progressDone finishes a test.Progress connector's job, by name.
var progressDone sync.Map // name → *atomic.Bool

func progressDoneFor(name string) *atomic.Bool {
	v, _ := progressDone.LoadOrStore(name, new(atomic.Bool))
	return v.(*atomic.Bool)
}

type progressConnector struct{ baseSource }

func (c *progressConnector) NewTask() connectors.Source { return &progressTask{} }

// progressTask polls nothing and reports one job, as a snapshot would.
type progressTask struct {
	flakyTask
	done *atomic.Bool
}

func (p *progressTask) Open(_ context.Context, sc connectors.SourceContext, _ map[string]string) error {
	p.done = progressDoneFor(sc.Connector)
	return nil
}

func (p *progressTask) JobProgress() []connectors.Progress {
	if p.done.Load() {
		return []connectors.Progress{{Job: "snapshot public.big", Done: 10, Estimated: 10, Finished: true}}
	}
	return []connectors.Progress{{Job: "snapshot public.big", Done: 3, Estimated: 10}}
}

// TestTaskProgressInStatus: a running snapshot shows in the trace of the
// task's RUNNING status, read back from the status topic through the
// herder (what GET /connectors/{name}/status returns), and the trace goes
// away when the snapshot is over.
func TestTaskProgressInStatus(t *testing.T) {
	w := startWorker(t)
	h := w.Herder()
	progressDone.Delete("prog") // a previous run (-count) finished it
	if _, err := h.CreateConnector(ctxT(t), "prog", map[string]string{"connector.class": "test.Progress", "tasks.max": "1"}, ""); err != nil {
		t.Fatal(err)
	}
	trace := func(want string) func() error {
		return func() error {
			st, err := h.ConnectorStatus(context.Background(), "prog")
			if err != nil {
				return err
			}
			if len(st.Tasks) != 1 || st.Tasks[0].State != StateRunning || st.Tasks[0].Trace != want {
				return fmt.Errorf("status %+v, want a RUNNING task with trace %q", st, want)
			}
			return nil
		}
	}
	eventually(t, "progress in the status", trace("snapshot public.big: 3 of about 10 rows (30%)"))
	progressDoneFor("prog").Store(true)
	eventually(t, "no trace once the snapshot is over", trace(""))
}
