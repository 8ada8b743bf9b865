package runtime

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// statusStore is the status topic (Kafka's KafkaStatusBackingStore): the
// state of every connector and task and the active topics of every
// connector (KIP-558), kept in memory from the whole topic, so status
// requests are answered locally.
//
// This worker's writes update the view at once and are then sent in
// order; when they come back from the topic they are skipped (a per-key
// count of writes in flight), so a status never flickers back to an older
// value. Records of other writers are applied as they are read.
//
// Every status carries the group generation of its writer. A worker never
// overwrites another worker's status of a newer generation (Kafka's
// putSafe, applied to every state): a worker that lost its membership may
// still be stopping work that a newer generation gave to someone else.
// Readers apply the same rule, since such a write may have been sent
// before its writer could know better (see applyStatus). Only statuses
// read while this worker was a member count: those found at start-up may
// come from an earlier life of the group, whose generations started over.
type statusStore struct {
	log      *kafkaLog // nil until open
	workerID string
	logger   *slog.Logger

	mu struct {
		sync.Mutex
		connectors map[string]statusRecord
		tasks      map[TaskID]statusRecord
		topics     map[string]map[string]topicStatus // connector → topic
		pending    map[string]int                    // key → writes not yet read back
		maxGen     int32
		generation int32 // of this worker's writes
		joined     bool  // records read from now on are live
	}
}

func newStatusStore(logger *slog.Logger) *statusStore {
	s := &statusStore{logger: logger}
	s.mu.connectors = map[string]statusRecord{}
	s.mu.tasks = map[TaskID]statusRecord{}
	s.mu.topics = map[string]map[string]topicStatus{}
	s.mu.pending = map[string]int{}
	return s
}

// apply is the status log's record callback.
func (s *statusStore) apply(r *kgo.Record) {
	key := string(r.Key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.mu.pending[key]; n > 0 {
		if n == 1 {
			delete(s.mu.pending, key)
		} else {
			s.mu.pending[key] = n - 1
		}
		return
	}
	switch {
	case strings.HasPrefix(key, keyStatusConnector):
		applyStatus(s, s.mu.connectors, key[len(keyStatusConnector):], key, r.Value)
	case strings.HasPrefix(key, keyStatusTask):
		if id, ok := splitTaskKey(key[len(keyStatusTask):]); ok {
			applyStatus(s, s.mu.tasks, id, key, r.Value)
		}
	case strings.HasPrefix(key, keyStatusTopic):
		rest := key[len(keyStatusTopic):]
		i := strings.Index(rest, keyStatusTopicInfix)
		if i < 0 {
			return
		}
		topic, connector := rest[:i], rest[i+len(keyStatusTopicInfix):]
		if r.Value == nil {
			if m := s.mu.topics[connector]; m != nil {
				delete(m, topic)
				if len(m) == 0 {
					delete(s.mu.topics, connector)
				}
			}
			return
		}
		ts, err := decodeTopicStatus(r.Value)
		if err != nil {
			s.logger.Warn("ignoring a topic status record in the wrong format", "key", key, "err", err)
			return
		}
		if s.mu.topics[connector] == nil {
			s.mu.topics[connector] = map[string]topicStatus{}
		}
		s.mu.topics[connector][topic] = ts
	}
}

// applyStatus puts a status record read from the topic into m (nil
// value: removes it). A record of an older generation than the live one
// it would replace, from another worker, is a zombie's late write (a
// worker that lost its membership, whose writes were still in flight):
// it is ignored, and if the status it would have replaced is this
// worker's, that is written again, so the topic ends with it too.
// REQUIRES: s.mu held.
func applyStatus[K comparable](s *statusStore, m map[K]statusRecord, id K, key string, value []byte) {
	if value == nil {
		delete(m, id)
		return
	}
	st, err := decodeStatus(value)
	if err != nil {
		s.logger.Warn("ignoring a status record in the wrong format", "key", key, "err", err)
		return
	}
	s.mu.maxGen = max(s.mu.maxGen, st.Generation)
	if cur, ok := m[id]; ok && cur.live && cur.WorkerID != st.WorkerID && st.Generation < cur.Generation {
		s.logger.Debug("ignoring a status of an older generation", "key", key, "worker_id", st.WorkerID,
			"generation", st.Generation, "current_worker_id", cur.WorkerID, "current_generation", cur.Generation)
		if cur.WorkerID == s.workerID {
			s.sendLocked(key, encodeStatus(cur))
		}
		return
	}
	st.live = s.mu.joined
	m[id] = st
}

// send writes key/value after the view was updated. REQUIRES: s.mu held.
func (s *statusStore) sendLocked(key string, value []byte) {
	if s.log == nil {
		return
	}
	s.mu.pending[key]++
	s.log.SendAsync(key, value, func(err error) {
		if err == nil {
			return
		}
		s.logger.Warn("writing a status record failed", "key", key, "err", err)
		// The promise may run synchronously (closed client) while s.mu is
		// held: account for the lost write from another goroutine.
		go func() {
			s.mu.Lock()
			if n := s.mu.pending[key]; n <= 1 {
				delete(s.mu.pending, key)
			} else {
				s.mu.pending[key] = n - 1
			}
			s.mu.Unlock()
		}()
	})
}

// REQUIRES: s.mu held.
func (s *statusStore) recordLocked(state State, trace string) statusRecord {
	return statusRecord{State: state, Trace: trace, WorkerID: s.workerID, Generation: s.mu.generation, live: true}
}

// setGeneration sets the generation of this worker's writes: the group
// generation of its latest assignment. From the first call on, statuses
// read count as live.
func (s *statusStore) setGeneration(gen int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.generation, s.mu.joined = gen, true
}

func (s *statusStore) generation() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.generation
}

// mayOverwriteLocked reports whether this worker may replace cur: not if
// it is another worker's, read live, of a newer generation.
// REQUIRES: s.mu held.
func (s *statusStore) mayOverwriteLocked(key string, cur statusRecord, exists bool) bool {
	if !exists || !cur.live || cur.WorkerID == s.workerID || cur.Generation <= s.mu.generation {
		return true
	}
	s.logger.Debug("not overwriting a newer generation's status", "key", key, "worker_id", cur.WorkerID,
		"generation", cur.Generation, "own_generation", s.mu.generation)
	return false
}

func (s *statusStore) putConnector(name string, state State, trace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := keyStatusConnector + name
	if cur, ok := s.mu.connectors[name]; !s.mayOverwriteLocked(key, cur, ok) {
		return
	}
	rec := s.recordLocked(state, trace)
	s.mu.connectors[name] = rec
	s.sendLocked(key, encodeStatus(rec))
}

func (s *statusStore) putTask(id TaskID, state State, trace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := statusTaskKey(id)
	if cur, ok := s.mu.tasks[id]; !s.mayOverwriteLocked(key, cur, ok) {
		return
	}
	rec := s.recordLocked(state, trace)
	s.mu.tasks[id] = rec
	s.sendLocked(key, encodeStatus(rec))
}

// cleanExit reports whether nothing in the view says workerID runs
// anything: every status it wrote that still stands is UNASSIGNED (a
// worker that stops cleanly reports so before leaving the group).
func (s *statusStore) cleanExit(workerID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.mu.connectors {
		if st.WorkerID == workerID && st.State != StateUnassigned {
			return false
		}
	}
	for _, st := range s.mu.tasks {
		if st.WorkerID == workerID && st.State != StateUnassigned {
			return false
		}
	}
	return true
}

func (s *statusStore) deleteConnector(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.connectors, name)
	s.sendLocked(keyStatusConnector+name, nil)
}

func (s *statusStore) deleteTask(id TaskID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.tasks, id)
	s.sendLocked(statusTaskKey(id), nil)
}

// topicUsed records that a task used topic, once per connector and topic.
func (s *statusStore) topicUsed(connector string, task int, topic string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mu.topics[connector][topic]; ok {
		return
	}
	ts := topicStatus{Topic: topic, Connector: connector, Task: int32(task), DiscoverMs: now.UnixMilli()}
	if s.mu.topics[connector] == nil {
		s.mu.topics[connector] = map[string]topicStatus{}
	}
	s.mu.topics[connector][topic] = ts
	s.sendLocked(statusTopicKey(topic, connector), encodeTopicStatus(ts))
}

// resetTopics forgets the connector's active topics.
func (s *statusStore) resetTopics(connector string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for topic := range s.mu.topics[connector] {
		s.sendLocked(statusTopicKey(topic, connector), nil)
	}
	delete(s.mu.topics, connector)
}

func (s *statusStore) connector(name string) (statusRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.mu.connectors[name]
	return st, ok
}

func (s *statusStore) task(id TaskID) (statusRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.mu.tasks[id]
	return st, ok
}

// tasksOf returns the statuses of the connector's tasks below count, by
// task number (statuses of tasks beyond the task count are leftovers).
func (s *statusStore) tasksOf(name string, count int) []TaskState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []TaskState{}
	for id, st := range s.mu.tasks {
		if id.Connector == name && id.Task < count {
			out = append(out, TaskState{ID: id.Task, State: st.State, WorkerID: st.WorkerID, Trace: st.Trace})
		}
	}
	slices.SortFunc(out, func(a, b TaskState) int { return a.ID - b.ID })
	return out
}

func (s *statusStore) topics(connector string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.mu.topics[connector]))
}

// maxGeneration returns the highest generation read from the topic.
func (s *statusStore) maxGeneration() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.maxGen
}
