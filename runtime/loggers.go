package runtime

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// LogLevels is an slog handler factory with a level per named logger, the
// model of Kafka Connect's /admin/loggers (Log4j loggers): names are
// dotted ("sluice.connector.orders"), a logger without a level of its own
// takes the level of its closest ancestor that has one, and "root" is the
// ancestor of all. Sluice's logger names are its components:
//
//	root                      everything
//	sluice.runtime            the worker: herder, internal topics, connectors' lifecycle
//	sluice.connector.<name>   a connector and its tasks
//	sluice.broker             the embedded broker
//	sluice.rest               the REST server
//	sluice.worker             the sluice worker command
//
// Kafka's Java logger names (org.apache.kafka.connect.runtime…) mean
// nothing here; setting one creates a logger of that name that nothing
// logs to.
type LogLevels struct {
	base  slog.Handler
	clock func() time.Time

	mu struct {
		sync.RWMutex
		root         slog.Level
		rootModified *int64
		set          map[string]setLevel // explicitly set levels
		known        map[string]bool     // loggers handed out
	}
}

type setLevel struct {
	level    slog.Level
	modified *int64
}

// Kafka's level names and their slog levels.
var kafkaLevels = []struct {
	name  string
	level slog.Level
}{
	{"OFF", slog.Level(math.MaxInt32)},
	{"FATAL", slog.LevelError + 4},
	{"ERROR", slog.LevelError},
	{"WARN", slog.LevelWarn},
	{"INFO", slog.LevelInfo},
	{"DEBUG", slog.LevelDebug},
	{"TRACE", slog.LevelDebug - 4},
	{"ALL", slog.Level(math.MinInt32)},
}

// ParseLevel parses a Kafka (Log4j) level name, case-insensitively: OFF
// FATAL ERROR WARN INFO DEBUG TRACE ALL.
func ParseLevel(s string) (slog.Level, bool) {
	for _, l := range kafkaLevels {
		if strings.EqualFold(s, l.name) {
			return l.level, true
		}
	}
	return 0, false
}

// LevelName returns the Kafka name of the level (the closest one at or
// below it).
func LevelName(l slog.Level) string {
	for _, k := range kafkaLevels {
		if l >= k.level {
			return k.name
		}
	}
	return "ALL"
}

// RootLogger is the name of the root logger.
const RootLogger = "root"

// NewLogLevels returns levels over base, with root at rootLevel. base
// should let every record through (its own level at most the lowest level
// anything will be set to); LogLevels does the filtering.
func NewLogLevels(base slog.Handler, rootLevel slog.Level) *LogLevels {
	l := &LogLevels{base: base, clock: time.Now}
	l.mu.root = rootLevel
	l.mu.set = map[string]setLevel{}
	l.mu.known = map[string]bool{}
	return l
}

// Logger returns the logger called name; its records carry
// logger=<name>.
func (l *LogLevels) Logger(name string) *slog.Logger {
	l.mu.Lock()
	l.mu.known[name] = true
	l.mu.Unlock()
	return slog.New(&levelHandler{levels: l, name: name, next: l.base.WithAttrs([]slog.Attr{slog.String("logger", name)})})
}

// effective returns the level that applies to name. REQUIRES: l.mu held.
func (l *LogLevels) effectiveLocked(name string) (slog.Level, *int64) {
	for n := name; ; {
		if s, ok := l.mu.set[n]; ok {
			return s.level, s.modified
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			return l.mu.root, l.mu.rootModified
		}
		n = n[:i]
	}
}

func (l *LogLevels) enabled(name string, level slog.Level) bool {
	l.mu.RLock()
	min, _ := l.effectiveLocked(name)
	l.mu.RUnlock()
	return level >= min
}

// Levels returns the loggers with an explicitly set level, plus root
// (GET /admin/loggers).
func (l *LogLevels) Levels() map[string]LoggerLevel {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := map[string]LoggerLevel{RootLogger: {Level: LevelName(l.mu.root), LastModified: l.mu.rootModified}}
	for n, s := range l.mu.set {
		out[n] = LoggerLevel{Level: LevelName(s.level), LastModified: s.modified}
	}
	return out
}

// Level returns a logger's effective level; ok is false if no logger of
// that name exists. "root" is case-insensitive.
func (l *LogLevels) Level(name string) (LoggerLevel, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if strings.EqualFold(name, RootLogger) {
		return LoggerLevel{Level: LevelName(l.mu.root), LastModified: l.mu.rootModified}, true
	}
	_, set := l.mu.set[name]
	if !set && !l.mu.known[name] {
		return LoggerLevel{}, false
	}
	lvl, mod := l.effectiveLocked(name)
	return LoggerLevel{Level: LevelName(lvl), LastModified: mod}, true
}

// Set sets the level of name and of every known logger below it, and
// returns their names, sorted. Setting root sets every logger.
func (l *LogLevels) Set(name string, level slog.Level) []string {
	now := l.clock().UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	isRoot := strings.EqualFold(name, RootLogger)
	affected := map[string]bool{}
	if isRoot {
		l.mu.root, l.mu.rootModified = level, &now
		affected[RootLogger] = true
	} else {
		affected[name] = true
		l.mu.known[name] = true
	}
	for n := range l.mu.known {
		if isRoot || strings.HasPrefix(n, name+".") {
			affected[n] = true
		}
	}
	for n := range l.mu.set {
		if isRoot || strings.HasPrefix(n, name+".") {
			affected[n] = true
		}
	}
	for n := range affected {
		if n != RootLogger {
			l.mu.set[n] = setLevel{level: level, modified: &now}
		}
	}
	names := make([]string, 0, len(affected))
	for n := range affected {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// levelHandler filters records by its logger's effective level.
type levelHandler struct {
	levels *LogLevels
	name   string
	next   slog.Handler
}

func (h *levelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.levels.enabled(h.name, level) && h.next.Enabled(ctx, level)
}

func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error { return h.next.Handle(ctx, r) }

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{levels: h.levels, name: h.name, next: h.next.WithAttrs(attrs)}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{levels: h.levels, name: h.name, next: h.next.WithGroup(name)}
}
