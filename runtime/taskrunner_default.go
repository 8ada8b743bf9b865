package runtime

import (
	"context"

	"github.com/sluicedata/sluice/runtime/task"
)

// taskPackageRunner runs tasks with package runtime/task.
type taskPackageRunner struct {
	env task.Env // shared part; Status and Logger are set per task
}

// defaultRunner returns the production task runner, sharing the worker's
// settings, registry, offsets store, metrics and Kafka client options.
func defaultRunner(h *herder, opts Options) taskRunner {
	return &taskPackageRunner{env: task.Env{
		Worker: task.Settings{
			OffsetFlushInterval: h.cfg.OffsetFlushInterval,
			OffsetFlushTimeout:  h.cfg.OffsetFlushTimeout,
			ShutdownTimeout:     h.cfg.TaskShutdownGracefulTimeout,
			KeyConverter:        h.cfg.KeyConverter,
			ValueConverter:      h.cfg.ValueConverter,
			HeaderConverter:     h.cfg.HeaderConverter,
			ConverterConfigs:    h.cfg.ConverterConfigs,
			Producer:            h.cfg.Producer,
			Consumer:            h.cfg.Consumer,
			WorkerID:            h.workerID,
		},
		Registry: opts.Registry,
		Offsets:  h.offsets,
		Metrics:  task.NewMetrics(opts.Metrics),
	}}
}

func (r *taskPackageRunner) start(ctx context.Context, spec taskSpec) (runningTask, error) {
	env := r.env
	env.Status = spec.Status
	env.Logger = spec.Logger
	env.Kafka = spec.Kafka
	t, err := task.Start(ctx, task.Spec{
		Connector:       spec.Connector,
		Task:            spec.Task,
		ConnectorConfig: spec.ConnectorConfig,
		TaskConfig:      spec.TaskConfig,
		Instance:        spec.Instance,
	}, env)
	if err != nil {
		return nil, err
	}
	return t, nil
}
