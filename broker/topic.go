package broker

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/broker/partlog"
)

// offsetsTopic is Kafka's internal topic of group offsets and metadata.
const offsetsTopic = "__consumer_offsets"

// maxTopicNameLen is Kafka's limit: a partition directory name
// "<topic>-<partition>" must fit in 255 bytes.
const maxTopicNameLen = 249

// topic is one topic. A *topic is never modified once published in the
// broker's maps: CreatePartitions and config changes publish a new value
// sharing the logs.
type topic struct {
	name     string
	id       [16]byte
	internal bool
	parts    []*partlog.Log
	// configs are the topic's own settings (DYNAMIC_TOPIC_CONFIG), by
	// Kafka name; everything else comes from the broker defaults.
	configs map[string]string
	prod    produceConfig
}

// partition returns partition p, or nil when it does not exist.
func (t *topic) partition(p int32) *partlog.Log {
	if p < 0 || int(p) >= len(t.parts) {
		return nil
	}
	return t.parts[p]
}

// topicMeta is the persisted form of a topic, topics/<name>.json.
type topicMeta struct {
	Version    int               `json:"version"`
	ID         string            `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs"`
}

// formatTopicID prints an id the way Kafka does (base64url, no padding).
func formatTopicID(id [16]byte) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func parseTopicID(s string) ([16]byte, error) {
	var id [16]byte
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return id, fmt.Errorf("bad topic id %q", s)
	}
	copy(id[:], b)
	return id, nil
}

// newTopicID returns a random id that is neither zero nor Kafka's reserved
// metadata topic id (0…01).
func newTopicID() [16]byte {
	for {
		var id [16]byte
		rand.Read(id[:])
		var small [16]byte
		small[15] = 1
		if id != [16]byte{} && id != small {
			return id
		}
	}
}

// validateTopicName applies Kafka's Topic.validate, with its messages.
func validateTopicName(name string) error {
	switch {
	case name == "":
		return errorf(ErrInvalidTopic, "Topic name is illegal, it can't be empty")
	case name == "." || name == "..":
		return errorf(ErrInvalidTopic, "Topic name cannot be \".\" or \"..\"")
	case len(name) > maxTopicNameLen:
		return errorf(ErrInvalidTopic, "Topic name is illegal, it can't be longer than %d characters, topic name: %s", maxTopicNameLen, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errorf(ErrInvalidTopic, "Topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return nil
}

// collisionKey is the name Kafka compares to detect topics that differ only
// in '.' versus '_' (their metric names would collide).
func collisionKey(name string) string { return strings.ReplaceAll(name, ".", "_") }

func (b *Broker) partitionDir(name string, p int32) string {
	return filepath.Join(b.cfg.DataDir, name+"-"+strconv.Itoa(int(p)))
}

func (b *Broker) logOptions() partlog.Options {
	return partlog.Options{FS: b.fs, Logger: b.log, NoSync: !b.cfg.Fsync}
}

// openPartitions opens partitions [from, to) of a topic, closing what it
// opened on error. fresh removes any left-over directory first.
func (b *Broker) openPartitions(name string, from, to int32, lc partlog.Config, fresh bool) ([]*partlog.Log, error) {
	var logs []*partlog.Log
	for p := from; p < to; p++ {
		dir := b.partitionDir(name, p)
		if fresh {
			if err := b.fs.RemoveAll(dir); err != nil {
				closeLogs(logs)
				return nil, err
			}
		}
		l, err := partlog.Open(dir, lc, b.logOptions())
		if err != nil {
			closeLogs(logs)
			return nil, fmt.Errorf("open partition %s-%d: %w", name, p, err)
		}
		logs = append(logs, l)
	}
	return logs, nil
}

func closeLogs(logs []*partlog.Log) {
	for _, l := range logs {
		l.Close()
	}
}

func (b *Broker) writeTopicMeta(t *topic) error {
	return writeJSON(b.fs, filepath.Join(b.cfg.DataDir, topicsDir), t.name+".json", topicMeta{
		Version:    formatVersion,
		ID:         formatTopicID(t.id),
		Partitions: int32(len(t.parts)),
		Configs:    t.configs,
	})
}

// newTopic assembles a topic value (not yet published).
func (b *Broker) newTopic(name string, id [16]byte, parts []*partlog.Log, configs map[string]string) *topic {
	if configs == nil {
		configs = map[string]string{}
	}
	return &topic{
		name:     name,
		id:       id,
		internal: name == offsetsTopic,
		parts:    parts,
		configs:  configs,
		prod:     b.cfg.produceConfig(configs),
	}
}

// lookup returns the named topic, or nil.
func (b *Broker) lookup(name string) *topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.topics[name]
}

func (b *Broker) lookupID(id [16]byte) *topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.byID[id]
}

// publish makes t visible, replacing any topic of the same name.
func (b *Broker) publish(t *topic) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topics[t.name] = t
	b.byID[t.id] = t
}

// sortedTopics returns every topic sorted by name.
func (b *Broker) sortedTopics() []*topic {
	b.mu.RLock()
	ts := slices.Collect(maps.Values(b.topics))
	b.mu.RUnlock()
	slices.SortFunc(ts, func(a, c *topic) int { return strings.Compare(a.name, c.name) })
	return ts
}

// checkCreate validates the creation of topic name with nparts partitions
// and the given configs, without creating anything.
// REQUIRES: b.adminMu held.
func (b *Broker) checkCreate(name string, nparts int32, configs map[string]*string) error {
	if err := validateTopicName(name); err != nil {
		return err
	}
	b.mu.RLock()
	_, exists := b.topics[name]
	var collides string
	if !exists {
		key := collisionKey(name)
		for other := range b.topics {
			if collisionKey(other) == key {
				collides = other
				break
			}
		}
	}
	b.mu.RUnlock()
	if exists {
		return errorf(ErrTopicExists, "Topic '%s' already exists.", name)
	}
	if collides != "" {
		return errorf(ErrInvalidTopic, "Topic '%s' collides with existing topic: %s", name, collides)
	}
	if nparts <= 0 {
		return errorf(ErrInvalidPartitions, "Number of partitions was set to an invalid non-positive value.")
	}
	for _, k := range slices.Sorted(maps.Keys(configs)) {
		if err := validateTopicConfig(k, configs[k]); err != nil {
			return err
		}
	}
	return nil
}

// createTopic creates and publishes a topic. Configs must be valid.
// REQUIRES: b.adminMu held.
func (b *Broker) createTopic(name string, nparts int32, configs map[string]*string) (*topic, error) {
	if err := b.checkCreate(name, nparts, configs); err != nil {
		return nil, err
	}
	// Clone: the request's strings may alias its buffer.
	name = strings.Clone(name)
	stored := make(map[string]string, len(configs))
	for k, v := range configs {
		stored[strings.Clone(k)] = strings.Clone(normalizeConfigValue(k, *v))
	}
	var id [16]byte
	for {
		id = newTopicID()
		if b.lookupID(id) == nil {
			break
		}
	}
	logs, err := b.openPartitions(name, 0, nparts, b.cfg.logConfig(stored), true)
	if err != nil {
		return nil, err
	}
	t := b.newTopic(name, id, logs, stored)
	if err := b.writeTopicMeta(t); err != nil {
		for _, l := range logs {
			l.Delete()
		}
		return nil, fmt.Errorf("persist topic %s: %w", name, err)
	}
	b.publish(t)
	b.log.Debug("created topic", "topic", name, "partitions", nparts, "id", formatTopicID(id))
	return t, nil
}

// autoCreate returns the named topic, creating it with the default
// partition count when auto-creation is on. It returns nil, err for an
// invalid name and nil, nil when the topic does not exist and may not be
// created.
func (b *Broker) autoCreate(name string) (*topic, error) {
	if t := b.lookup(name); t != nil {
		return t, nil
	}
	if !b.cfg.AutoCreateTopics {
		return nil, nil
	}
	if err := validateTopicName(name); err != nil {
		return nil, err
	}
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	if t := b.lookup(name); t != nil {
		return t, nil
	}
	t, err := b.createTopic(name, b.cfg.NumPartitions, nil)
	if err != nil {
		return nil, err
	}
	b.log.Info("auto-created topic", "topic", name, "partitions", b.cfg.NumPartitions)
	return t, nil
}

// deleteTopic removes a topic: unpublished and its file removed first (the
// commit point), then its logs deleted.
// REQUIRES: b.adminMu held.
func (b *Broker) deleteTopic(t *topic) error {
	if t.internal {
		return errorf(ErrTopicDeletionNotPermitted, "Cannot delete internal topic %s", t.name)
	}
	if err := removeFile(b.fs, filepath.Join(b.cfg.DataDir, topicsDir), t.name+".json"); err != nil {
		return fmt.Errorf("delete topic %s: %w", t.name, err)
	}
	b.mu.Lock()
	delete(b.topics, t.name)
	delete(b.byID, t.id)
	b.mu.Unlock()
	var errs []error
	for p, l := range t.parts {
		if err := l.Delete(); err != nil {
			errs = append(errs, fmt.Errorf("partition %d: %w", p, err))
			b.fs.RemoveAll(b.partitionDir(t.name, int32(p)))
		}
	}
	b.log.Debug("deleted topic", "topic", t.name)
	if err := errors.Join(errs...); err != nil {
		// The topic is gone; the left-overs are removed at next start.
		b.log.Warn("deleting topic's partitions", "topic", t.name, "err", err)
	}
	return nil
}

// addPartitions grows t to count partitions.
// REQUIRES: b.adminMu held.
func (b *Broker) addPartitions(t *topic, count int32) error {
	logs, err := b.openPartitions(t.name, int32(len(t.parts)), count, b.cfg.logConfig(t.configs), true)
	if err != nil {
		return err
	}
	nt := *t
	nt.parts = append(slices.Clip(t.parts), logs...)
	if err := b.writeTopicMeta(&nt); err != nil {
		for _, l := range logs {
			l.Delete()
		}
		return fmt.Errorf("persist topic %s: %w", t.name, err)
	}
	b.publish(&nt)
	return nil
}

// setTopicConfigs replaces t's own configs (already validated and
// normalised), persists them and applies them to every partition.
// REQUIRES: b.adminMu held.
func (b *Broker) setTopicConfigs(t *topic, configs map[string]string) error {
	nt := b.newTopic(t.name, t.id, t.parts, configs)
	if err := b.writeTopicMeta(nt); err != nil {
		return fmt.Errorf("persist topic %s: %w", t.name, err)
	}
	b.publish(nt)
	lc := b.cfg.logConfig(configs)
	for _, l := range t.parts {
		l.SetConfig(lc)
	}
	return nil
}

// loadTopics opens every persisted topic and removes left-over partition
// directories.
func (b *Broker) loadTopics() error {
	dir := filepath.Join(b.cfg.DataDir, topicsDir)
	names, err := b.fs.ReadDir(dir)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, fname := range names {
		if strings.HasSuffix(fname, tmpSuffix) {
			b.fs.Remove(filepath.Join(dir, fname))
			continue
		}
		name, ok := strings.CutSuffix(fname, ".json")
		if !ok {
			continue
		}
		var m topicMeta
		if _, err := readJSON(b.fs, filepath.Join(dir, fname), &m); err != nil {
			return err
		}
		if m.Version != formatVersion {
			return fmt.Errorf("%w: %s: version %d, want %d", ErrCorruptMetadata, fname, m.Version, formatVersion)
		}
		id, err := parseTopicID(m.ID)
		if err != nil || validateTopicName(name) != nil || m.Partitions < 1 {
			return fmt.Errorf("%w: %s: bad name, id or partition count", ErrCorruptMetadata, fname)
		}
		for k, v := range m.Configs {
			if err := validateTopicConfig(k, &v); err != nil {
				// Keep the topic: drop the setting and say so.
				b.log.Warn("ignoring stored topic config", "topic", name, "config", k, "err", err)
				delete(m.Configs, k)
			}
		}
		logs, err := b.openPartitions(name, 0, m.Partitions, b.cfg.logConfig(m.Configs), false)
		if err != nil {
			return err
		}
		b.publish(b.newTopic(name, id, logs, m.Configs))
		for p := range m.Partitions {
			live[filepath.Base(b.partitionDir(name, p))] = true
		}
	}

	entries, err := b.fs.ReadDir(b.cfg.DataDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if live[e] || !isPartitionDirName(e) {
			continue
		}
		b.log.Warn("removing partition directory of no topic (interrupted create or delete)", "dir", e)
		if err := b.fs.RemoveAll(filepath.Join(b.cfg.DataDir, e)); err != nil {
			return err
		}
	}
	return nil
}

// isPartitionDirName reports whether name looks like "<topic>-<partition>".
func isPartitionDirName(name string) bool {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return false
	}
	if p, err := strconv.Atoi(name[i+1:]); err != nil || p < 0 || name[i+1:] != strconv.Itoa(p) {
		return false
	}
	return validateTopicName(name[:i]) == nil
}

// reopenFailed replaces partition p of topic name when its log l reports
// partlog.ErrLogFailed: an fsync failed, and the log refuses writes until it
// is reopened, which recovers it from what is on disk. It runs in the
// background, once per failed log, retrying with backoff while the reopen
// fails. Requests holding l meanwhile get ErrClosed (retriable).
func (b *Broker) reopenFailed(name string, p int32, l *partlog.Log) {
	b.netMu.Lock()
	if b.closed {
		b.netMu.Unlock()
		return
	}
	if _, busy := b.reopening.LoadOrStore(l, true); busy {
		b.netMu.Unlock()
		return
	}
	b.bgWG.Add(1)
	b.netMu.Unlock()
	go func() {
		defer b.bgWG.Done()
		defer b.reopening.Delete(l)
		backoff := 100 * time.Millisecond
		for !b.tryReopen(name, p, l) {
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}()
}

// tryReopen reports whether partition p no longer needs reopening.
func (b *Broker) tryReopen(name string, p int32, l *partlog.Log) bool {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	t := b.lookup(name)
	if t == nil || t.partition(p) != l || b.ctx.Err() != nil {
		return true // deleted, already replaced, or shutting down
	}
	l.Close() // reports the failure again; the log is closed regardless
	nl, err := partlog.Open(b.partitionDir(name, p), b.cfg.logConfig(t.configs), b.logOptions())
	if err != nil {
		b.log.Error("reopening failed partition", "topic", name, "partition", p, "err", err)
		return false
	}
	nt := *t
	nt.parts = slices.Clone(t.parts)
	nt.parts[p] = nl
	b.publish(&nt)
	b.log.Warn("reopened partition after a storage failure", "topic", name, "partition", p, "high_watermark", nl.HighWatermark())
	return true
}
