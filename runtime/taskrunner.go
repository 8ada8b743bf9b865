package runtime

import (
	"context"
	"errors"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
)

// taskRunner starts task instances: the record path between a connector's
// task and Kafka. Package runtime/task is the production runner
// (taskPackageRunner); tests may substitute their own.
type taskRunner interface {
	start(ctx context.Context, spec taskSpec) (runningTask, error)
}

// taskSpec is what the runner needs to start one task.
type taskSpec struct {
	Connector string
	Task      int
	// ConnectorConfig and TaskConfig are resolved (config providers
	// applied).
	ConnectorConfig, TaskConfig map[string]string
	// Instance is a fresh connector instance to call NewTask on.
	Instance connectors.Connector
	// Status hears the task's state changes.
	Status taskListener
	// Logger is the connector's logger.
	Logger *slog.Logger
	// Kafka are the base client options (seed brokers, client id).
	Kafka []kgo.Opt
}

// taskListener is the runner's status callback interface (identical to
// task.StatusListener).
type taskListener interface {
	Running(connector string, task int)
	Paused(connector string, task int)
	Failed(connector string, task int, err error)
	Progress(connector string, task int, trace string)
	TopicUsed(connector string, task int, topic string)
}

// runningTask is a started task (*task.Task).
type runningTask interface {
	Pause()
	Resume()
	// Stop stops the task gracefully within ctx; a task that does not
	// stop in time is abandoned and Stop returns an error.
	Stop(ctx context.Context) error
	Done() <-chan struct{}
	// Err is the failure the task ended with; nil if it was stopped or its
	// input ended.
	Err() error
}

// errNoRunner fails task starts while no task runner is wired.
var errNoRunner = errors.New("runtime: no task runner: package runtime/task is not wired in")

// noRunner is the runner before the real one is wired.
type noRunner struct{}

func (noRunner) start(context.Context, taskSpec) (runningTask, error) { return nil, errNoRunner }
