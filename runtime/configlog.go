package runtime

import (
	"log/slog"
	"maps"
	"strings"
)

// configReader turns config-topic records into herder events, with Kafka
// Connect's semantics (KafkaConfigBackingStore): task configs are held
// back until the commit record of their connector arrives, and applied
// only if the commit finds every task 0..n-1 (otherwise the connector is
// inconsistent until its task configs are written again); restart
// requests and cluster logger levels count only when read after start-up.
// It does no I/O.
type configReader struct {
	started  bool
	configs  map[string]map[string]string         // connector configs, to know the applied config at commit
	deferred map[string]map[int]map[string]string // uncommitted task configs
	log      *slog.Logger
}

func newConfigReader(log *slog.Logger) *configReader {
	return &configReader{configs: map[string]map[string]string{}, deferred: map[string]map[int]map[string]string{}, log: log}
}

// apply processes one record and returns the events it causes.
func (r *configReader) apply(key string, value []byte) []event {
	switch {
	case strings.HasPrefix(key, keyConnector):
		name := key[len(keyConnector):]
		if value == nil {
			delete(r.configs, name)
			delete(r.deferred, name)
			return []event{evConnectorConfig{Name: name}}
		}
		props, err := decodeProperties(value)
		if err != nil {
			r.log.Error("ignoring a connector config record in the wrong format", "connector", name, "err", err)
			return nil
		}
		r.configs[name] = props
		return []event{evConnectorConfig{Name: name, Config: maps.Clone(props)}}

	case strings.HasPrefix(key, keyTargetState):
		name := key[len(keyTargetState):]
		if value == nil {
			return []event{evTargetState{Name: name}}
		}
		m, err := decodeObject(value)
		if err != nil {
			r.log.Error("ignoring a target state record in the wrong format", "connector", name, "err", err)
			return nil
		}
		s, _ := m["state.v2"].(string)
		if s == "" {
			s, _ = m["state"].(string)
		}
		switch ts := TargetState(s); ts {
		case TargetStarted, TargetPaused, TargetStopped:
			return []event{evTargetState{Name: name, State: ts}}
		}
		r.log.Error("ignoring an invalid target state", "connector", name, "state", s)
		return nil

	case strings.HasPrefix(key, keyTasksFencing):
		return nil // exactly-once source task-count records: not used yet

	case strings.HasPrefix(key, keyTask):
		id, ok := splitTaskKey(key[len(keyTask):])
		if !ok {
			r.log.Error("ignoring a task config record with an invalid key", "key", key)
			return nil
		}
		if value == nil {
			r.log.Warn("ignoring a null task config", "task", id.String())
			return nil
		}
		props, err := decodeProperties(value)
		if err != nil {
			r.log.Error("ignoring a task config record in the wrong format", "task", id.String(), "err", err)
			return nil
		}
		if r.deferred[id.Connector] == nil {
			r.deferred[id.Connector] = map[int]map[string]string{}
		}
		r.deferred[id.Connector][id.Task] = props
		return nil

	case strings.HasPrefix(key, keyCommit):
		name := key[len(keyCommit):]
		applied, exists := r.configs[name]
		deferred := r.deferred[name]
		delete(r.deferred, name)
		if !exists {
			return nil // deleted connector whose records survived compaction
		}
		m, err := decodeObject(value)
		if err != nil || m == nil {
			r.log.Error("ignoring a task commit record in the wrong format", "connector", name, "err", err)
			return nil
		}
		n, ok := m["tasks"].(int64)
		if !ok || n < 0 {
			r.log.Error("ignoring a task commit record without a task count", "connector", name)
			return nil
		}
		configs := make([]map[string]string, n)
		for i := range configs {
			c, ok := deferred[i]
			if !ok {
				r.log.Warn("incomplete task configs at commit (probably compaction); the connector will write them again", "connector", name, "tasks", n)
				return []event{evTaskConfigs{Name: name, Inconsistent: true}}
			}
			configs[i] = c
		}
		return []event{evTaskConfigs{Name: name, Configs: configs, Applied: maps.Clone(applied)}}

	case strings.HasPrefix(key, keyRestart):
		if !r.started || value == nil {
			return nil
		}
		name := key[len(keyRestart):]
		m, err := decodeObject(value)
		if err != nil {
			r.log.Error("ignoring a restart request in the wrong format", "connector", name, "err", err)
			return nil
		}
		include, _ := m["include-tasks"].(bool)
		onlyFailed, _ := m["only-failed"].(bool)
		return []event{evRestartRequest{Name: name, IncludeTasks: include, OnlyFailed: onlyFailed}}

	case strings.HasPrefix(key, keyLoggerCluster):
		if !r.started || value == nil {
			return nil
		}
		m, err := decodeObject(value)
		if err != nil {
			return nil
		}
		level, _ := m["level"].(string)
		if level == "" {
			return nil
		}
		return []event{evLoggerLevel{Namespace: key[len(keyLoggerCluster):], Level: level}}

	case key == keySessionKey:
		if value == nil {
			return nil
		}
		k, err := decodeSessionKey(value)
		if err != nil {
			r.log.Error("ignoring a session key record in the wrong format", "err", err)
			return nil
		}
		return []event{evSessionKey{key: k}}
	}
	r.log.Warn("ignoring a config topic record with an unknown key", "key", key)
	return nil
}
