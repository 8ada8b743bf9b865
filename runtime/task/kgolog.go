package task

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kgoLogger passes the warnings and errors of a task's Kafka clients to
// the task's logger (kgo's routine Info and Debug lines are dropped).
type kgoLogger struct{ l *slog.Logger }

func newKgoLogger(l *slog.Logger, client string) kgo.Opt {
	return kgo.WithLogger(kgoLogger{l.With("client", client)})
}

func (k kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lv := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		lv = slog.LevelError
	case kgo.LogLevelWarn:
		lv = slog.LevelWarn
	case kgo.LogLevelInfo:
		lv = slog.LevelInfo
	}
	k.l.Log(context.Background(), lv, msg, keyvals...)
}
