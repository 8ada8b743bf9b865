package runtime

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// step is one event fed to the machine at an offset from the start, and
// the actions expected back (rendered with action.String).
type step struct {
	at   time.Duration
	ev   event
	want []string
}

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

var testPolicy = restartPolicy{Initial: time.Second, Max: 8 * time.Second, MaxAttempts: -1}

func cfg(kv ...string) map[string]string {
	m := map[string]string{"connector.class": "Test", "tasks.max": "2"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func tasks(n int, tag string) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"task": tag, "i": string(rune('0' + i))}
	}
	return out
}

var errBoom = errors.New("boom")

func runSteps(t *testing.T, m *machine, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := m.step(t0.Add(s.at), s.ev)
		gs := make([]string, len(got))
		for j, a := range got {
			gs[j] = a.String()
		}
		if !slices.Equal(gs, s.want) {
			t.Fatalf("step %d (%T %+v):\n got  %s\n want %s", i, s.ev, s.ev, strings.Join(gs, " | "), strings.Join(s.want, " | "))
		}
	}
}

// created is the prefix of every scenario: connector c with two committed
// task configs, started.
func created() []step {
	return []step{
		{ev: evConnectorConfig{Name: "c", Config: cfg()}},
		{ev: evTaskConfigs{Name: "c", Configs: tasks(2, "a"), Applied: cfg()}},
		{ev: evStart{}, want: []string{"start-connector c#1", "start-task c-0#2", "start-task c-1#3"}},
		{ev: evConnectorStarted{Name: "c", Inc: 1}, want: []string{"write-status c RUNNING", "generate-task-configs c#1 max=2"}},
		{ev: evTaskStarted{ID: TaskID{"c", 0}, Inc: 2}},
		{ev: evTaskStarted{ID: TaskID{"c", 1}, Inc: 3}},
		{ev: evTaskState{ID: TaskID{"c", 0}, Inc: 2, State: StateRunning}, want: []string{"write-status c-0 RUNNING"}},
		{ev: evTaskState{ID: TaskID{"c", 1}, Inc: 3, State: StateRunning}, want: []string{"write-status c-1 RUNNING"}},
		{ev: evTaskConfigsGenerated{Name: "c", Inc: 1, Configs: tasks(2, "a")}},
	}
}

func TestMachine(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"start from stored state", created()},
		{"events before start only record state", []step{
			{ev: evConnectorConfig{Name: "c", Config: cfg()}},
			{ev: evTargetState{Name: "c", State: TargetPaused}},
			{ev: evTaskConfigs{Name: "c", Configs: tasks(1, "a"), Applied: cfg()}},
			{ev: evStart{}, want: []string{"write-status c PAUSED", "start-task c-0#1 paused"}},
			{ev: evTaskStarted{ID: TaskID{"c", 0}, Inc: 1}},
			{ev: evTaskState{ID: TaskID{"c", 0}, Inc: 1, State: StatePaused}, want: []string{"write-status c-0 PAUSED"}},
		}},
		{"create writes task configs, then tasks start", []step{
			{ev: evStart{}},
			{ev: evConnectorConfig{Name: "c", Config: cfg()}, want: []string{"start-connector c#1"}},
			{ev: evConnectorStarted{Name: "c", Inc: 1}, want: []string{"write-status c RUNNING", "generate-task-configs c#1 max=2"}},
			{ev: evTaskConfigsGenerated{Name: "c", Inc: 1, Configs: tasks(2, "a")}, want: []string{"write-task-configs c n=2"}},
			{ev: evTaskConfigs{Name: "c", Configs: tasks(2, "a"), Applied: cfg()}, want: []string{"start-task c-0#2", "start-task c-1#3"}},
		}},
		{"unchanged task configs are not written again", append(created(),
			step{ev: evReconfigure{Name: "c", Inc: 1}, want: []string{"generate-task-configs c#1 max=2"}},
			step{ev: evTaskConfigsGenerated{Name: "c", Inc: 1, Configs: tasks(2, "a")}},
		)},
		{"new task configs restart only the changed tasks and remove extra ones", append(created(),
			step{ev: evTaskConfigs{Name: "c", Configs: []map[string]string{tasks(2, "a")[0]}, Applied: cfg()}, want: []string{"stop-task c-1#3"}},
			step{ev: evTaskExited{ID: TaskID{"c", 1}, Inc: 3}, want: []string{"delete-status c-1"}},
		)},
		{"config change restarts the connector, then the tasks", append(created(),
			step{ev: evConnectorConfig{Name: "c", Config: cfg("x", "1")}, want: []string{"stop-connector c#1"}},
			step{ev: evConnectorStopped{Name: "c", Inc: 1}, want: []string{"start-connector c#4"}},
			step{ev: evConnectorStarted{Name: "c", Inc: 4}, want: []string{"generate-task-configs c#4 max=2"}},
			// Same task configs, but generated for a new connector config:
			// written again so that the tasks pick the new config up.
			step{ev: evTaskConfigsGenerated{Name: "c", Inc: 4, Configs: tasks(2, "a")}, want: []string{"write-task-configs c n=2"}},
			step{ev: evTaskConfigs{Name: "c", Configs: tasks(2, "a"), Applied: cfg("x", "1")}, want: []string{"stop-task c-0#2", "stop-task c-1#3"}},
			step{ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2}, want: []string{"start-task c-0#5"}},
			step{ev: evTaskExited{ID: TaskID{"c", 1}, Inc: 3}, want: []string{"start-task c-1#6"}},
		)},
		{"pause and resume", append(created(),
			step{ev: evTargetState{Name: "c", State: TargetPaused}, want: []string{"stop-connector c#1", "write-status c PAUSED", "pause-task c-0#2", "pause-task c-1#3"}},
			step{ev: evConnectorStopped{Name: "c", Inc: 1}},
			step{ev: evTaskState{ID: TaskID{"c", 0}, Inc: 2, State: StatePaused}, want: []string{"write-status c-0 PAUSED"}},
			step{ev: evTargetState{Name: "c", State: TargetStarted}, want: []string{"start-connector c#4", "resume-task c-0#2", "resume-task c-1#3"}},
			step{ev: evConnectorStarted{Name: "c", Inc: 4}, want: []string{"write-status c RUNNING", "generate-task-configs c#4 max=2"}},
			step{ev: evTaskState{ID: TaskID{"c", 0}, Inc: 2, State: StateRunning}, want: []string{"write-status c-0 RUNNING"}},
		)},
		{"a running task's progress becomes its status trace", append(created(),
			step{ev: evTaskProgress{ID: TaskID{"c", 0}, Inc: 2, Trace: "snapshot t: 1 of about 4 rows (25%)"}, want: []string{"write-status c-0 RUNNING snapshot t: 1 of about 4 rows (25%)"}},
			// Unchanged: nothing written; a replaced instance's: ignored.
			step{ev: evTaskProgress{ID: TaskID{"c", 0}, Inc: 2, Trace: "snapshot t: 1 of about 4 rows (25%)"}},
			step{ev: evTaskProgress{ID: TaskID{"c", 1}, Inc: 1, Trace: "snapshot u: 1 of about 4 rows (25%)"}},
			step{ev: evTaskProgress{ID: TaskID{"c", 0}, Inc: 2}, want: []string{"write-status c-0 RUNNING"}},
			// A paused task keeps its PAUSED status.
			step{ev: evTargetState{Name: "c", State: TargetPaused}, want: []string{"stop-connector c#1", "write-status c PAUSED", "pause-task c-0#2", "pause-task c-1#3"}},
			step{ev: evTaskState{ID: TaskID{"c", 0}, Inc: 2, State: StatePaused}, want: []string{"write-status c-0 PAUSED"}},
			step{ev: evTaskProgress{ID: TaskID{"c", 0}, Inc: 2, Trace: "snapshot t: 2 of about 4 rows (50%)"}},
		)},
		{"stop empties the tasks, resume regenerates them", append(created(),
			step{ev: evTaskConfigs{Name: "c", Configs: []map[string]string{}, Applied: cfg()}, want: []string{"stop-task c-0#2", "stop-task c-1#3"}},
			step{ev: evTargetState{Name: "c", State: TargetStopped}, want: []string{"stop-connector c#1"}},
			step{ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2}, want: []string{"delete-status c-0"}},
			step{ev: evTaskExited{ID: TaskID{"c", 1}, Inc: 3}, want: []string{"delete-status c-1"}},
			// STOPPED once nothing runs any more.
			step{ev: evConnectorStopped{Name: "c", Inc: 1}, want: []string{"write-status c STOPPED"}},
			step{ev: evTargetState{Name: "c", State: TargetStarted}, want: []string{"start-connector c#4"}},
			step{ev: evConnectorStarted{Name: "c", Inc: 4}, want: []string{"write-status c RUNNING", "generate-task-configs c#4 max=2"}},
			step{ev: evTaskConfigsGenerated{Name: "c", Inc: 4, Configs: tasks(2, "a")}, want: []string{"write-task-configs c n=2"}},
		)},
		{"delete stops everything and removes the statuses", append(created(),
			step{ev: evConnectorConfig{Name: "c"}, want: []string{"reset-topics c", "stop-connector c#1", "delete-status c", "stop-task c-0#2", "stop-task c-1#3"}},
			step{ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2}, want: []string{"delete-status c-0"}},
			step{ev: evConnectorStopped{Name: "c", Inc: 1}},
			step{ev: evTaskExited{ID: TaskID{"c", 1}, Inc: 3}, want: []string{"delete-status c-1"}},
			step{ev: evTargetState{Name: "c"}},
		)},
		{"a failed task restarts with exponential backoff", append(created(),
			step{at: 10 * time.Second, ev: evTaskState{ID: TaskID{"c", 0}, Inc: 2, State: StateFailed, Err: errBoom}, want: []string{"write-status c-0 FAILED boom"}},
			// It ran for 10s (≥ the max backoff): the schedule starts over.
			step{at: 10 * time.Second, ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2, Err: errBoom}},
			step{at: 10*time.Second + 999*time.Millisecond, ev: evTick{}},
			step{at: 11 * time.Second, ev: evTick{}, want: []string{"start-task c-0#4 (retry)"}},
			// Same failure again: the status does not change.
			step{at: 11 * time.Second, ev: evTaskStarted{ID: TaskID{"c", 0}, Inc: 4, Err: errBoom}},
			step{at: 12 * time.Second, ev: evTick{}},
			step{at: 13 * time.Second, ev: evTick{}, want: []string{"start-task c-0#5 (retry)"}},
			step{at: 13 * time.Second, ev: evTaskStarted{ID: TaskID{"c", 0}, Inc: 5}},
			step{at: 13 * time.Second, ev: evTaskState{ID: TaskID{"c", 0}, Inc: 5, State: StateRunning}, want: []string{"write-status c-0 RUNNING"}},
		)},
		{"a manual restart skips the backoff", append(created(),
			step{ev: evTaskExited{ID: TaskID{"c", 1}, Inc: 3, Err: errBoom}, want: []string{"write-status c-1 FAILED boom"}},
			step{ev: evRestartTask{ID: TaskID{"c", 1}}, want: []string{"start-task c-1#4 (restart)"}},
		)},
		{"a finished task stays until stopped", append(created(),
			step{ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2, Finished: true}},
			step{ev: evRestartTask{ID: TaskID{"c", 0}}, want: []string{"stop-task c-0#2"}},
			step{ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2}, want: []string{"start-task c-0#4 (restart)"}},
		)},
		{"KIP-745 restart of failed instances only", append(created(),
			step{ev: evTaskExited{ID: TaskID{"c", 1}, Inc: 3, Err: errBoom}, want: []string{"write-status c-1 FAILED boom"}},
			step{ev: evRestartRequest{Name: "c", IncludeTasks: true, OnlyFailed: true}, want: []string{"write-status c-1 RESTARTING", "start-task c-1#4 (restart)"}},
			// The runner may report RUNNING before Start has returned.
			step{ev: evTaskState{ID: TaskID{"c", 1}, Inc: 4, State: StateRunning}, want: []string{"write-status c-1 RUNNING"}},
		)},
		{"KIP-745 restart of everything", append(created(),
			step{ev: evRestartRequest{Name: "c", IncludeTasks: true}, want: []string{"write-status c RESTARTING", "write-status c-0 RESTARTING",
				"write-status c-1 RESTARTING", "stop-connector c#1", "stop-task c-0#2", "stop-task c-1#3"}},
			step{ev: evConnectorStopped{Name: "c", Inc: 1}, want: []string{"start-connector c#4 (restart)"}},
			step{ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2}, want: []string{"start-task c-0#5 (restart)"}},
			// The runner's RUNNING report of the old instance is too late.
			step{ev: evTaskState{ID: TaskID{"c", 0}, Inc: 2, State: StateRunning}},
			step{ev: evConnectorStarted{Name: "c", Inc: 4}, want: []string{"write-status c RUNNING", "generate-task-configs c#4 max=2"}},
			step{ev: evTaskStarted{ID: TaskID{"c", 0}, Inc: 5}},
			step{ev: evTaskState{ID: TaskID{"c", 0}, Inc: 5, State: StateRunning}, want: []string{"write-status c-0 RUNNING"}},
		)},
		{"a connector that fails to start is retried", []step{
			{ev: evStart{}},
			{ev: evConnectorConfig{Name: "c", Config: cfg()}, want: []string{"start-connector c#1"}},
			{ev: evConnectorStarted{Name: "c", Inc: 1, Err: errBoom}, want: []string{"write-status c FAILED boom"}},
			{at: time.Second, ev: evTick{}, want: []string{"start-connector c#2 (retry)"}},
			{at: time.Second, ev: evConnectorStarted{Name: "c", Inc: 2}, want: []string{"write-status c RUNNING", "generate-task-configs c#2 max=2"}},
		}},
		{"a connector raising an error is stopped and retried", append(created(),
			step{ev: evConnectorFailed{Name: "c", Inc: 1, Err: errBoom}, want: []string{"write-status c FAILED boom", "stop-connector c#1"}},
			step{ev: evConnectorStopped{Name: "c", Inc: 1}},
			step{at: time.Second, ev: evTick{}, want: []string{"start-connector c#4 (retry)"}},
		)},
		{"too many task configs fail the connector", append(created(),
			step{ev: evReconfigure{Name: "c", Inc: 1}, want: []string{"generate-task-configs c#1 max=2"}},
			step{ev: evTaskConfigsGenerated{Name: "c", Inc: 1, Configs: tasks(3, "a")}, want: []string{
				"write-status c FAILED The connector c has generated 3 tasks, which is greater than 2, the maximum number of tasks it is configured to create. " +
					"This behaviour should be considered a bug and is disallowed. If necessary, it can be permitted by reconfiguring the connector with " +
					"'tasks.max.enforce' set to false; however, this option will be removed in a future release of Kafka Connect.",
				"stop-connector c#1"}},
		)},
		{"late reports of replaced instances are ignored", append(created(),
			step{ev: evConnectorConfig{Name: "c", Config: cfg("x", "1")}, want: []string{"stop-connector c#1"}},
			step{ev: evTaskConfigsGenerated{Name: "c", Inc: 1, Configs: tasks(5, "z")}},
			step{ev: evReconfigure{Name: "c", Inc: 1}},
			step{ev: evConnectorFailed{Name: "c", Inc: 1, Err: errBoom}},
		)},
		{"shutdown stops everything and marks it unassigned", append(created(),
			step{ev: evShutdown{}, want: []string{"stop-connector c#1", "stop-task c-0#2", "stop-task c-1#3"}},
			step{ev: evConnectorStopped{Name: "c", Inc: 1}, want: []string{"write-status c UNASSIGNED"}},
			step{ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2}, want: []string{"write-status c-0 UNASSIGNED"}},
			step{ev: evTaskExited{ID: TaskID{"c", 1}, Inc: 3, Abandoned: true}, want: []string{"write-status c-1 UNASSIGNED"}},
		)},
		{"cluster logger levels are applied", []step{
			{ev: evLoggerLevel{Namespace: "sluice.runtime", Level: "DEBUG"}, want: []string{"set-logger-level sluice.runtime DEBUG"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, newMachine(testPolicy), tc.steps)
		})
	}
}

// TestClusterMachine covers a worker that runs only what the group
// assigns it.
func TestClusterMachine(t *testing.T) {
	c0, c1 := TaskID{"c", 0}, TaskID{"c", 1}
	// assigned is the prefix: connector c with two tasks, of which this
	// worker runs the connector and task 0.
	assigned := func() []step {
		return []step{
			{ev: evConnectorConfig{Name: "c", Config: cfg()}},
			{ev: evTaskConfigs{Name: "c", Configs: tasks(2, "a"), Applied: cfg()}},
			{ev: evStart{}},
			{ev: evAssignment{Connectors: []string{"c"}, Tasks: []TaskID{c0}}, want: []string{"start-connector c#1", "start-task c-0#2"}},
			{ev: evConnectorStarted{Name: "c", Inc: 1}, want: []string{"write-status c RUNNING", "generate-task-configs c#1 max=2"}},
			{ev: evTaskStarted{ID: c0, Inc: 2}},
			{ev: evTaskState{ID: c0, Inc: 2, State: StateRunning}, want: []string{"write-status c-0 RUNNING"}},
			{ev: evTaskConfigsGenerated{Name: "c", Inc: 1, Configs: tasks(2, "a")}},
		}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"nothing runs before an assignment", []step{
			{ev: evConnectorConfig{Name: "c", Config: cfg()}},
			{ev: evTaskConfigs{Name: "c", Configs: tasks(2, "a"), Applied: cfg()}},
			{ev: evStart{}},
			{ev: evAssignment{Tasks: []TaskID{c1}}, want: []string{"start-task c-1#1"}},
		}},
		{"only what is assigned runs", assigned()},
		{"a revoked connector stops and is reported unassigned; its task keeps running", append(assigned(),
			step{ev: evAssignment{Tasks: []TaskID{c0}}, want: []string{"stop-connector c#1"}},
			step{ev: evConnectorStopped{Name: "c", Inc: 1}, want: []string{"write-status c UNASSIGNED"}},
			step{ev: evAssignment{Tasks: []TaskID{c0, c1}}, want: []string{"start-task c-1#3"}},
		)},
		{"losing the membership stops everything", append(assigned(),
			step{ev: evAssignment{}, want: []string{"stop-connector c#1", "stop-task c-0#2"}},
			step{ev: evTaskExited{ID: c0, Inc: 2}, want: []string{"write-status c-0 UNASSIGNED"}},
			step{ev: evConnectorStopped{Name: "c", Inc: 1}, want: []string{"write-status c UNASSIGNED"}},
		)},
		{"restarts are for the owner", append(assigned(),
			step{ev: evRestartRequest{Name: "c", IncludeTasks: true}, want: []string{"write-status c RESTARTING", "write-status c-0 RESTARTING", "stop-connector c#1", "stop-task c-0#2"}},
			step{ev: evRestartTask{ID: c1}},
		)},
		{"a deleted connector's statuses are removed by their owner", append(assigned(),
			step{ev: evConnectorConfig{Name: "c"}, want: []string{"reset-topics c", "stop-connector c#1", "delete-status c", "stop-task c-0#2"}},
			step{ev: evConnectorStopped{Name: "c", Inc: 1}},
			step{ev: evTaskExited{ID: c0, Inc: 2}, want: []string{"delete-status c-0"}},
		)},
		{"a failure is not retried once the work is given away", append(assigned(),
			step{ev: evTaskExited{ID: c0, Inc: 2, Err: errBoom}, want: []string{"write-status c-0 FAILED boom"}},
			step{ev: evAssignment{Connectors: []string{"c"}}, want: []string{"write-status c-0 UNASSIGNED"}},
			step{at: time.Minute, ev: evTick{}},
		)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, newClusterMachine(testPolicy), tc.steps)
		})
	}
	m := newClusterMachine(testPolicy)
	runSteps(t, m, assigned())
	if !m.running([]string{"c"}, nil) || m.running(nil, []TaskID{c1}) {
		t.Error("running")
	}
	if w := m.workload(); len(w) != 1 || w["c"] != 2 {
		t.Errorf("workload = %v", w)
	}
}

func TestMachineMaxAttempts(t *testing.T) {
	m := newMachine(restartPolicy{Initial: time.Second, Max: time.Minute, MaxAttempts: 1})
	runSteps(t, m, append(created(),
		step{ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2, Err: errBoom}, want: []string{"write-status c-0 FAILED boom"}},
		step{at: time.Second, ev: evTick{}, want: []string{"start-task c-0#4 (retry)"}},
		step{at: time.Second, ev: evTaskStarted{ID: TaskID{"c", 0}, Inc: 4, Err: errBoom}},
		step{at: time.Hour, ev: evTick{}},
	))
	if d := m.nextDeadline(); !d.IsZero() {
		t.Fatalf("nextDeadline = %v after the attempts ran out, want none", d)
	}
	// A request still restarts it.
	runSteps(t, m, []step{{at: time.Hour, ev: evRestartTask{ID: TaskID{"c", 0}}, want: []string{"start-task c-0#5 (restart)"}}})
}

func TestMachineNextDeadlineAndIdle(t *testing.T) {
	m := newMachine(testPolicy)
	runSteps(t, m, created())
	if !m.nextDeadline().IsZero() {
		t.Fatal("deadline with nothing failed")
	}
	runSteps(t, m, []step{{at: 20 * time.Second, ev: evTaskExited{ID: TaskID{"c", 0}, Inc: 2, Err: errBoom}, want: []string{"write-status c-0 FAILED boom"}}})
	if got, want := m.nextDeadline(), t0.Add(21*time.Second); !got.Equal(want) {
		t.Fatalf("nextDeadline = %v, want %v", got, want)
	}
	if m.idle() {
		t.Fatal("idle with instances running")
	}
}

func TestRestartPolicyDelay(t *testing.T) {
	p := restartPolicy{Initial: time.Second, Max: 60 * time.Second}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 60 * time.Second, 60 * time.Second} {
		if got := p.delay(i + 1); got != want {
			t.Errorf("delay(%d) = %v, want %v", i+1, got, want)
		}
	}
}
