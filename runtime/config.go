package runtime

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/internal/suggest"
	"github.com/sluicedata/sluice/plugins"
)

// WorkerConfig is a worker's configuration: the keys of Kafka Connect's
// connect-distributed.properties (connect-rest.md §6) plus Sluice's own.
// Start from DefaultWorkerConfig, apply properties with Set (or
// ParseWorkerConfig), then Validate. Each field names the property it
// comes from and its default; where Sluice's default differs from Kafka's
// the comment says why.
type WorkerConfig struct {
	// BootstrapServers are the Kafka brokers (bootstrap.servers). Kafka's
	// default is localhost:9092; Sluice's is empty, which runs the bundled
	// broker in-process (data in DataDir, clients reach it on
	// BrokerListen).
	BootstrapServers []string
	// GroupID names the Connect cluster (group.id). Default
	// "connect-cluster" (Kafka requires it; a default lets `sluice worker`
	// run with no file at all).
	GroupID string
	// SecurityProtocol is the protocol of the worker's Kafka connections
	// (security.protocol). Only PLAINTEXT (the default) is supported.
	SecurityProtocol string
	// ClientID prefixes the client ids of the worker's Kafka clients
	// (client.id). Default "sluice-<group.id>".
	ClientID string

	// KeyConverter, ValueConverter and HeaderConverter are the worker's
	// default converters (key.converter, value.converter,
	// header.converter), class names or aliases. Kafka requires the first
	// two; Sluice defaults them to
	// org.apache.kafka.connect.json.JsonConverter, as Kafka's sample
	// connect-distributed.properties sets them. HeaderConverter defaults to
	// org.apache.kafka.connect.storage.SimpleHeaderConverter, as in Kafka.
	KeyConverter, ValueConverter, HeaderConverter string
	// ConverterConfigs holds every key.converter.*, value.converter.* and
	// header.converter.* property, with its prefix, as in the file.
	ConverterConfigs map[string]string

	// OffsetFlushInterval is how often source offsets and sink consumer
	// offsets are committed (offset.flush.interval.ms). Default 60 s.
	OffsetFlushInterval time.Duration
	// OffsetFlushTimeout bounds one offset commit
	// (offset.flush.timeout.ms). Default 5 s.
	OffsetFlushTimeout time.Duration
	// TaskShutdownGracefulTimeout bounds how long a connector or task is
	// given to stop before it is abandoned and reported
	// (task.shutdown.graceful.timeout.ms). Default 5 s.
	TaskShutdownGracefulTimeout time.Duration

	// Listeners are the REST listeners (listeners), http:// or https://
	// URLs. Kafka's default is http://:8083 (all interfaces); Sluice's is
	// http://127.0.0.1:8083 so that a worker started for a try-out is not
	// reachable from the network.
	Listeners []string
	// AdminListeners serve /admin/* (admin.listeners): nil means the main
	// listeners, an empty slice disables the admin endpoints.
	AdminListeners []string
	// RestAdvertisedHostName, RestAdvertisedPort and
	// RestAdvertisedListener override the URL given to other workers and
	// the worker_id shown in statuses (rest.advertised.host.name,
	// rest.advertised.port, rest.advertised.listener). Default: the first
	// listener's host and port.
	RestAdvertisedHostName string
	RestAdvertisedPort     int
	RestAdvertisedListener string
	// AccessControlAllowOrigin and AccessControlAllowMethods configure CORS
	// (access.control.allow.origin, access.control.allow.methods). Default
	// "" (off) and "" (GET, POST, HEAD).
	AccessControlAllowOrigin  string
	AccessControlAllowMethods string
	// ResponseHTTPHeaders adds headers to every REST response
	// (response.http.headers.config). Default "".
	ResponseHTTPHeaders string

	// PluginPath lists directories with out-of-tree plugins (plugin.path).
	// Default none.
	PluginPath []string
	// PluginDiscovery is Kafka's plugin.discovery; accepted for
	// compatibility. Default "hybrid_warn".
	PluginDiscovery string

	// ConfigStorageTopic, OffsetStorageTopic and StatusStorageTopic are the
	// internal topics (config.storage.topic, offset.storage.topic,
	// status.storage.topic). Kafka requires them; Sluice defaults to
	// connect-configs, connect-offsets and connect-status, the names in
	// Kafka's sample connect-distributed.properties.
	ConfigStorageTopic, OffsetStorageTopic, StatusStorageTopic string
	// ConfigStorageReplicationFactor, OffsetStorageReplicationFactor and
	// StatusStorageReplicationFactor are used when the worker creates the
	// internal topics (*.storage.replication.factor); -1 means the
	// broker's default. Default 3, as in Kafka; with the embedded broker
	// (a single node) an unset factor means -1.
	ConfigStorageReplicationFactor, OffsetStorageReplicationFactor, StatusStorageReplicationFactor int16
	// OffsetStoragePartitions and StatusStoragePartitions are the partition
	// counts of the offsets and status topics when created
	// (offset.storage.partitions, status.storage.partitions; -1 = the
	// broker's default). Default 25 and 5, as in Kafka; with the embedded
	// broker an unset count means 1: partitions of internal topics spread
	// load over brokers, which a single node cannot use, and each one costs
	// files, fsyncs and start-up time. The config topic always has 1.
	OffsetStoragePartitions, StatusStoragePartitions int32
	// ConfigStorageTopicConfigs, OffsetStorageTopicConfigs and
	// StatusStorageTopicConfigs are extra topic configs for the internal
	// topics, from config.storage.<topic-config> (and offset.storage.*,
	// status.storage.*) keys that are not worker keys, e.g.
	// config.storage.min.insync.replicas. cleanup.policy is always compact.
	ConfigStorageTopicConfigs, OffsetStorageTopicConfigs, StatusStorageTopicConfigs map[string]string

	// SessionTimeout, HeartbeatInterval and RebalanceTimeout govern the
	// worker's membership of the Connect group (session.timeout.ms 10 s
	// and rebalance.timeout.ms 60 s, as in Kafka; heartbeat.interval.ms
	// 1 s where Kafka's is 3 s: the other workers learn that a worker's
	// session expired only at their next heartbeat, so with 3 s its work
	// could wait up to 3 s past the session timeout; 1 s keeps failover
	// within the session timeout plus a second, for one small request a
	// second per worker).
	// A worker that has not heard from the group coordinator for the
	// session timeout, less the time its connectors and tasks need to
	// stop (task.shutdown.graceful.timeout.ms plus 1 s, at most half the
	// session timeout), stops them: by the time the coordinator expires
	// it and its work may start elsewhere, it runs nothing.
	SessionTimeout, HeartbeatInterval, RebalanceTimeout time.Duration
	// ScheduledRebalanceMaxDelay is how long the work of a worker that
	// left waits for it to come back before it is given to the others
	// (scheduled.rebalance.max.delay.ms). Kafka's default is 300 s, which
	// leaves the work of a crashed worker idle for five minutes; Sluice's
	// is 5 s: long enough for a worker that is being restarted (a rolling
	// restart takes a second or two per worker) to rejoin and get its
	// work back without it moving twice, short enough that nobody notices.
	// The delay counts from when the worker was last known alive, so the
	// work of a worker that crashed, already idle for the session timeout
	// when the coordinator notices, moves at once; a worker that returns
	// at the same URL gets its work back without waiting. 0 reassigns
	// at once.
	ScheduledRebalanceMaxDelay time.Duration
	// WorkerSyncTimeout bounds how long a worker reads the config topic to
	// catch up with an assignment before it rejoins
	// (worker.sync.timeout.ms, 3 s). WorkerUnsyncBackoff
	// (worker.unsync.backoff.ms) is accepted; Sluice rejoins at once.
	WorkerSyncTimeout, WorkerUnsyncBackoff time.Duration
	// RebalanceRequestWait is how long a REST request that needs the
	// leader or a connector's owner waits for a rebalance to settle
	// before it answers 409 (Sluice: sluice.rebalance.request.wait.ms,
	// default 5 s); the REST layer retries forwarded requests that met a
	// rebalance for as long. Kafka answers 409 at once.
	RebalanceRequestWait time.Duration
	// ConnectProtocol is connect.protocol: eager, compatible or
	// sessioned (the default).
	ConnectProtocol                                       string
	InterWorkerKeyGenerationAlgorithm, InterWorkerSigAlgo string        // inter.worker.key.generation.algorithm, inter.worker.signature.algorithm: HmacSHA256
	InterWorkerKeyTTL                                     time.Duration // inter.worker.key.ttl.ms, 1 h

	// ExactlyOnceSourceSupport is exactly.once.source.support: only
	// "disabled" (the default) is supported.
	ExactlyOnceSourceSupport string
	// TopicCreationEnable lets source connectors create topics with
	// topic.creation.* (topic.creation.enable). Default true.
	TopicCreationEnable bool
	// TopicTrackingEnable and TopicTrackingAllowReset enable the KIP-558
	// active-topics endpoints (topic.tracking.enable,
	// topic.tracking.allow.reset). Default true and true.
	TopicTrackingEnable, TopicTrackingAllowReset bool
	// ConnectorClientConfigOverridePolicy governs connectors'
	// producer.override.*, consumer.override.* and admin.override.* keys
	// (connector.client.config.override.policy): All (default), None or
	// Principal.
	ConnectorClientConfigOverridePolicy string

	// ConfigProviders names the config providers (config.providers);
	// ConfigProviderConfigs holds every config.providers.<name>.* key with
	// the "config.providers." prefix removed, e.g. "file.class".
	ConfigProviders       []string
	ConfigProviderConfigs map[string]string

	// Producer, Consumer and Admin are the worker-wide client settings for
	// connectors' clients: every producer.*, consumer.* and admin.* key,
	// prefix removed.
	Producer, Consumer, Admin map[string]string

	// DataDir is where the embedded broker keeps its data (Sluice:
	// data.dir). Default "./sluice-data". Unused with BootstrapServers.
	DataDir string
	// BrokerListen is the address the embedded broker serves Kafka clients
	// on (Sluice: broker.listen). Default "127.0.0.1:9092"; port 0 picks a
	// free port. Unused with BootstrapServers.
	BrokerListen string
	// Broker holds other broker.<kafka-broker-property> keys for the
	// embedded broker, prefix removed (e.g. broker.num.partitions=3).
	Broker map[string]string

	// TaskRestartInitialBackoff, TaskRestartMaxBackoff and
	// TaskRestartMaxAttempts govern the automatic restart of failed tasks
	// and connectors, which Kafka Connect lacks (Sluice:
	// sluice.task.restart.initial.backoff.ms, default 1 s;
	// sluice.task.restart.max.backoff.ms, default 60 s;
	// sluice.task.restart.max.attempts, default -1 = unlimited, 0 =
	// never restart automatically). The delay doubles from the initial
	// backoff up to the maximum; a task that ran for at least the maximum
	// backoff before failing starts again from the initial backoff. Between
	// attempts the status shows FAILED with the trace.
	TaskRestartInitialBackoff time.Duration
	TaskRestartMaxBackoff     time.Duration
	TaskRestartMaxAttempts    int

	// Unknown lists keys the worker does not know, sorted; they are
	// ignored (Kafka warns about them too).
	Unknown []string

	// set records which keys were given, for defaults that depend on
	// whether a key was set.
	set map[string]bool
}

// Default internal topic names and cluster id, from Kafka's sample
// connect-distributed.properties.
const (
	DefaultGroupID            = "connect-cluster"
	DefaultConfigStorageTopic = "connect-configs"
	DefaultOffsetStorageTopic = "connect-offsets"
	DefaultStatusStorageTopic = "connect-status"
)

// DefaultWorkerConfig returns the defaults documented on each field.
func DefaultWorkerConfig() WorkerConfig {
	return WorkerConfig{
		GroupID:                             DefaultGroupID,
		KeyConverter:                        plugins.JSONConverterClass,
		ValueConverter:                      plugins.JSONConverterClass,
		HeaderConverter:                     plugins.SimpleHeaderConverterClass,
		ConverterConfigs:                    map[string]string{},
		OffsetFlushInterval:                 60 * time.Second,
		OffsetFlushTimeout:                  5 * time.Second,
		TaskShutdownGracefulTimeout:         5 * time.Second,
		Listeners:                           []string{"http://127.0.0.1:8083"},
		PluginDiscovery:                     "hybrid_warn",
		ConfigStorageTopic:                  DefaultConfigStorageTopic,
		OffsetStorageTopic:                  DefaultOffsetStorageTopic,
		StatusStorageTopic:                  DefaultStatusStorageTopic,
		ConfigStorageReplicationFactor:      3,
		OffsetStorageReplicationFactor:      3,
		StatusStorageReplicationFactor:      3,
		OffsetStoragePartitions:             25,
		StatusStoragePartitions:             5,
		ConfigStorageTopicConfigs:           map[string]string{},
		OffsetStorageTopicConfigs:           map[string]string{},
		StatusStorageTopicConfigs:           map[string]string{},
		SessionTimeout:                      10 * time.Second,
		HeartbeatInterval:                   time.Second,
		RebalanceTimeout:                    60 * time.Second,
		ScheduledRebalanceMaxDelay:          5 * time.Second,
		WorkerSyncTimeout:                   3 * time.Second,
		WorkerUnsyncBackoff:                 300 * time.Second,
		RebalanceRequestWait:                5 * time.Second,
		ConnectProtocol:                     "sessioned",
		InterWorkerKeyGenerationAlgorithm:   "HmacSHA256",
		InterWorkerSigAlgo:                  "HmacSHA256",
		InterWorkerKeyTTL:                   time.Hour,
		ExactlyOnceSourceSupport:            "disabled",
		TopicCreationEnable:                 true,
		TopicTrackingEnable:                 true,
		TopicTrackingAllowReset:             true,
		ConnectorClientConfigOverridePolicy: "All",
		ConfigProviderConfigs:               map[string]string{},
		Producer:                            map[string]string{},
		Consumer:                            map[string]string{},
		Admin:                               map[string]string{},
		DataDir:                             "./sluice-data",
		BrokerListen:                        "127.0.0.1:9092",
		Broker:                              map[string]string{},
		TaskRestartInitialBackoff:           time.Second,
		TaskRestartMaxBackoff:               60 * time.Second,
		TaskRestartMaxAttempts:              -1,
		set:                                 map[string]bool{},
	}
}

// Embedded reports whether the worker runs the bundled broker (no
// bootstrap.servers).
func (c *WorkerConfig) Embedded() bool { return len(c.BootstrapServers) == 0 }

// IsSet reports whether key was given (by Set).
func (c *WorkerConfig) IsSet(key string) bool { return c.set[key] }

// ErrUnknownWorkerKey is returned by WorkerConfig.Set for a key that looks
// like a misspelt worker key.
var ErrUnknownWorkerKey = errors.New("runtime: unknown worker property")

// workerSetter parses one property into the config.
type workerSetter func(c *WorkerConfig, key, v string) error

// Parsers for the property types, with Kafka's error wording.
func parseInt(key, v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, connectors.NewConfigError(key, v, "Not a number of type LONG")
	}
	return n, nil
}

func msSetter(f func(*WorkerConfig) *time.Duration) workerSetter {
	return func(c *WorkerConfig, key, v string) error {
		n, err := parseInt(key, v)
		if err != nil {
			return err
		}
		*f(c) = time.Duration(n) * time.Millisecond
		return nil
	}
}

func stringSetter(f func(*WorkerConfig) *string) workerSetter {
	return func(c *WorkerConfig, _, v string) error { *f(c) = strings.TrimSpace(v); return nil }
}

func listSetter(f func(*WorkerConfig) *[]string) workerSetter {
	return func(c *WorkerConfig, _, v string) error { *f(c) = splitList(v); return nil }
}

func boolSetter(f func(*WorkerConfig) *bool) workerSetter {
	return func(c *WorkerConfig, key, v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			*f(c) = true
		case "false":
			*f(c) = false
		default:
			return connectors.NewConfigError(key, v, "Expected value to be either true or false")
		}
		return nil
	}
}

func int16Setter(f func(*WorkerConfig) *int16) workerSetter {
	return func(c *WorkerConfig, key, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 16)
		if err != nil {
			return connectors.NewConfigError(key, v, "Not a number of type SHORT")
		}
		*f(c) = int16(n)
		return nil
	}
}

func int32Setter(f func(*WorkerConfig) *int32) workerSetter {
	return func(c *WorkerConfig, key, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return connectors.NewConfigError(key, v, "Not a number of type INT")
		}
		*f(c) = int32(n)
		return nil
	}
}

func intSetter(f func(*WorkerConfig) *int) workerSetter {
	return func(c *WorkerConfig, key, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return connectors.NewConfigError(key, v, "Not a number of type INT")
		}
		*f(c) = int(n)
		return nil
	}
}

// ignored accepts a key Sluice knows but does not use.
func ignored(*WorkerConfig, string, string) error { return nil }

// workerKeys maps every worker property to its setter.
var workerKeys = map[string]workerSetter{
	"bootstrap.servers": listSetter(func(c *WorkerConfig) *[]string { return &c.BootstrapServers }),
	"group.id":          stringSetter(func(c *WorkerConfig) *string { return &c.GroupID }),
	"client.id":         stringSetter(func(c *WorkerConfig) *string { return &c.ClientID }),
	"key.converter":     stringSetter(func(c *WorkerConfig) *string { return &c.KeyConverter }),
	"value.converter":   stringSetter(func(c *WorkerConfig) *string { return &c.ValueConverter }),
	"header.converter":  stringSetter(func(c *WorkerConfig) *string { return &c.HeaderConverter }),

	"offset.flush.interval.ms":          msSetter(func(c *WorkerConfig) *time.Duration { return &c.OffsetFlushInterval }),
	"offset.flush.timeout.ms":           msSetter(func(c *WorkerConfig) *time.Duration { return &c.OffsetFlushTimeout }),
	"task.shutdown.graceful.timeout.ms": msSetter(func(c *WorkerConfig) *time.Duration { return &c.TaskShutdownGracefulTimeout }),

	"listeners": listSetter(func(c *WorkerConfig) *[]string { return &c.Listeners }),
	"admin.listeners": func(c *WorkerConfig, _, v string) error {
		c.AdminListeners = splitList(v)
		if c.AdminListeners == nil {
			c.AdminListeners = []string{}
		}
		return nil
	},
	"rest.advertised.host.name":    stringSetter(func(c *WorkerConfig) *string { return &c.RestAdvertisedHostName }),
	"rest.advertised.port":         intSetter(func(c *WorkerConfig) *int { return &c.RestAdvertisedPort }),
	"rest.advertised.listener":     stringSetter(func(c *WorkerConfig) *string { return &c.RestAdvertisedListener }),
	"access.control.allow.origin":  stringSetter(func(c *WorkerConfig) *string { return &c.AccessControlAllowOrigin }),
	"access.control.allow.methods": stringSetter(func(c *WorkerConfig) *string { return &c.AccessControlAllowMethods }),
	"response.http.headers.config": stringSetter(func(c *WorkerConfig) *string { return &c.ResponseHTTPHeaders }),
	"rest.extension.classes":       ignored,
	"rest.host.name":               ignored,
	"rest.port":                    ignored,

	"plugin.path":      listSetter(func(c *WorkerConfig) *[]string { return &c.PluginPath }),
	"plugin.discovery": stringSetter(func(c *WorkerConfig) *string { return &c.PluginDiscovery }),

	"config.storage.topic":              stringSetter(func(c *WorkerConfig) *string { return &c.ConfigStorageTopic }),
	"offset.storage.topic":              stringSetter(func(c *WorkerConfig) *string { return &c.OffsetStorageTopic }),
	"status.storage.topic":              stringSetter(func(c *WorkerConfig) *string { return &c.StatusStorageTopic }),
	"config.storage.replication.factor": int16Setter(func(c *WorkerConfig) *int16 { return &c.ConfigStorageReplicationFactor }),
	"offset.storage.replication.factor": int16Setter(func(c *WorkerConfig) *int16 { return &c.OffsetStorageReplicationFactor }),
	"status.storage.replication.factor": int16Setter(func(c *WorkerConfig) *int16 { return &c.StatusStorageReplicationFactor }),
	"offset.storage.partitions":         int32Setter(func(c *WorkerConfig) *int32 { return &c.OffsetStoragePartitions }),
	"status.storage.partitions":         int32Setter(func(c *WorkerConfig) *int32 { return &c.StatusStoragePartitions }),
	"offset.storage.file.filename":      ignored,

	"session.timeout.ms":                    msSetter(func(c *WorkerConfig) *time.Duration { return &c.SessionTimeout }),
	"heartbeat.interval.ms":                 msSetter(func(c *WorkerConfig) *time.Duration { return &c.HeartbeatInterval }),
	"rebalance.timeout.ms":                  msSetter(func(c *WorkerConfig) *time.Duration { return &c.RebalanceTimeout }),
	"scheduled.rebalance.max.delay.ms":      msSetter(func(c *WorkerConfig) *time.Duration { return &c.ScheduledRebalanceMaxDelay }),
	"worker.sync.timeout.ms":                msSetter(func(c *WorkerConfig) *time.Duration { return &c.WorkerSyncTimeout }),
	"worker.unsync.backoff.ms":              msSetter(func(c *WorkerConfig) *time.Duration { return &c.WorkerUnsyncBackoff }),
	"connect.protocol":                      stringSetter(func(c *WorkerConfig) *string { return &c.ConnectProtocol }),
	"inter.worker.key.generation.algorithm": stringSetter(func(c *WorkerConfig) *string { return &c.InterWorkerKeyGenerationAlgorithm }),
	"inter.worker.signature.algorithm":      stringSetter(func(c *WorkerConfig) *string { return &c.InterWorkerSigAlgo }),
	"inter.worker.key.ttl.ms":               msSetter(func(c *WorkerConfig) *time.Duration { return &c.InterWorkerKeyTTL }),
	"inter.worker.key.size":                 ignored,
	"inter.worker.verification.algorithms":  ignored,

	"exactly.once.source.support":             stringSetter(func(c *WorkerConfig) *string { return &c.ExactlyOnceSourceSupport }),
	"topic.creation.enable":                   boolSetter(func(c *WorkerConfig) *bool { return &c.TopicCreationEnable }),
	"topic.tracking.enable":                   boolSetter(func(c *WorkerConfig) *bool { return &c.TopicTrackingEnable }),
	"topic.tracking.allow.reset":              boolSetter(func(c *WorkerConfig) *bool { return &c.TopicTrackingAllowReset }),
	"connector.client.config.override.policy": stringSetter(func(c *WorkerConfig) *string { return &c.ConnectorClientConfigOverridePolicy }),
	"config.providers":                        listSetter(func(c *WorkerConfig) *[]string { return &c.ConfigProviders }),

	"security.protocol": stringSetter(func(c *WorkerConfig) *string { return &c.SecurityProtocol }),

	"data.dir":      stringSetter(func(c *WorkerConfig) *string { return &c.DataDir }),
	"broker.listen": stringSetter(func(c *WorkerConfig) *string { return &c.BrokerListen }),

	"sluice.task.restart.initial.backoff.ms": msSetter(func(c *WorkerConfig) *time.Duration { return &c.TaskRestartInitialBackoff }),
	"sluice.rebalance.request.wait.ms":       msSetter(func(c *WorkerConfig) *time.Duration { return &c.RebalanceRequestWait }),
	"sluice.task.restart.max.backoff.ms":     msSetter(func(c *WorkerConfig) *time.Duration { return &c.TaskRestartMaxBackoff }),
	"sluice.task.restart.max.attempts":       intSetter(func(c *WorkerConfig) *int { return &c.TaskRestartMaxAttempts }),
}

// clientKeys are Kafka client properties that Kafka lets a worker file
// carry (they configure the worker's own clients). Sluice accepts them
// without a warning; the ones kgo has an equivalent for are applied.
var clientKeys = []string{
	"client.dns.lookup", "reconnect.backoff.ms", "reconnect.backoff.max.ms",
	"retry.backoff.ms", "retry.backoff.max.ms", "request.timeout.ms", "receive.buffer.bytes",
	"send.buffer.bytes", "metadata.max.age.ms", "connections.max.idle.ms",
	"socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.max.ms",
	"metric.reporters", "metrics.num.samples", "metrics.recording.level", "metrics.sample.window.ms",
	"auto.include.jmx.reporter", "default.api.timeout.ms", "enable.metrics.push",
}

// passthroughPrefixes are prefixes whose keys are accepted as they are:
// client settings, TLS and SASL settings, REST TLS, metrics.
var passthroughPrefixes = []string{"ssl.", "sasl.", "listeners.https.", "admin.listeners.https.", "metrics.", "metric."}

// Properties lists the worker property names Set knows, sorted.
func Properties() []string {
	names := make([]string, 0, len(workerKeys))
	for k := range workerKeys {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Set applies one worker property. Prefixed families (producer.*,
// consumer.*, admin.*, key.converter.* and friends, config.providers.*,
// broker.*, <internal-topic>.storage.<topic-config>) are collected into
// their maps. A key that is none of these but close to a known key is
// rejected with a suggestion (ErrUnknownWorkerKey); any other unknown key
// is recorded in Unknown and otherwise ignored, as Kafka does.
func (c *WorkerConfig) Set(key, value string) error {
	if c.set == nil {
		c.set = map[string]bool{}
	}
	key = strings.TrimSpace(key)
	if set, ok := workerKeys[key]; ok {
		if err := set(c, key, value); err != nil {
			return err
		}
		c.set[key] = true
		return nil
	}
	putIn := func(m *map[string]string, k string) {
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = value
		c.set[key] = true
	}
	for _, p := range []string{"key.converter.", "value.converter.", "header.converter."} {
		if strings.HasPrefix(key, p) {
			putIn(&c.ConverterConfigs, key)
			return nil
		}
	}
	prefixed := []struct {
		prefix string
		m      *map[string]string
	}{
		{"producer.", &c.Producer}, {"consumer.", &c.Consumer}, {"admin.", &c.Admin},
		{"config.providers.", &c.ConfigProviderConfigs}, {"broker.", &c.Broker},
	}
	for _, p := range prefixed {
		if rest, ok := strings.CutPrefix(key, p.prefix); ok && rest != "" {
			putIn(p.m, rest)
			return nil
		}
	}
	if slices.Contains(clientKeys, key) || hasAnyPrefix(key, passthroughPrefixes) {
		c.set[key] = true
		return nil
	}
	if s := suggestKey(key); s != "" {
		return fmt.Errorf("%w %q: did you mean %s?", ErrUnknownWorkerKey, key, s)
	}
	topicConfigs := []struct {
		prefix string
		m      *map[string]string
	}{
		{"config.storage.", &c.ConfigStorageTopicConfigs}, {"offset.storage.", &c.OffsetStorageTopicConfigs}, {"status.storage.", &c.StatusStorageTopicConfigs},
	}
	for _, p := range topicConfigs {
		if rest, ok := strings.CutPrefix(key, p.prefix); ok && rest != "" {
			putIn(p.m, rest)
			return nil
		}
	}
	if !slices.Contains(c.Unknown, key) {
		c.Unknown = append(c.Unknown, key)
		slices.Sort(c.Unknown)
	}
	return nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// suggestKey returns the known key that key is an obvious misspelling of:
// within edit distance 1 (2 for keys of 12 characters or more), or "".
func suggestKey(key string) string {
	limit := 1
	if len(key) >= 12 {
		limit = 2
	}
	return suggest.Closest(key, maps.Keys(workerKeys), limit)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ParseWorkerConfig builds a config from DefaultWorkerConfig and props (a
// worker.properties file), then validates it. Every problem is reported
// at once, each naming its key.
func ParseWorkerConfig(props map[string]string) (WorkerConfig, error) {
	c := DefaultWorkerConfig()
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []error
	for _, k := range keys {
		if err := c.Set(k, props[k]); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Validate reports every invalid setting at once, each error naming its
// key.
func (c *WorkerConfig) Validate() error {
	var errs []error
	bad := func(key string, value any, reason string) {
		errs = append(errs, connectors.NewConfigError(key, value, reason))
	}
	for _, s := range c.BootstrapServers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			bad("bootstrap.servers", strings.Join(c.BootstrapServers, ","), fmt.Sprintf("%q is not host:port", s))
		}
	}
	if strings.TrimSpace(c.GroupID) == "" {
		bad("group.id", c.GroupID, "must not be empty")
	}
	for key, v := range map[string]string{"key.converter": c.KeyConverter, "value.converter": c.ValueConverter, "header.converter": c.HeaderConverter} {
		if v == "" {
			bad(key, v, "must not be empty")
		}
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, d.Milliseconds(), "Value must be at least 1")
		}
	}
	nonNegative := func(key string, d time.Duration) {
		if d < 0 {
			bad(key, d.Milliseconds(), "Value must be at least 0")
		}
	}
	positive("offset.flush.interval.ms", c.OffsetFlushInterval)
	positive("offset.flush.timeout.ms", c.OffsetFlushTimeout)
	nonNegative("task.shutdown.graceful.timeout.ms", c.TaskShutdownGracefulTimeout)
	if len(c.Listeners) == 0 {
		bad("listeners", "", "at least one listener is required")
	}
	for _, l := range c.Listeners {
		if _, err := ParseListener(l); err != nil {
			bad("listeners", strings.Join(c.Listeners, ","), err.Error())
		}
	}
	for _, l := range c.AdminListeners {
		if _, err := ParseListener(l); err != nil {
			bad("admin.listeners", strings.Join(c.AdminListeners, ","), err.Error())
		}
	}
	if c.RestAdvertisedPort < 0 || c.RestAdvertisedPort > 65535 {
		bad("rest.advertised.port", c.RestAdvertisedPort, "must be a port number")
	}
	if l := c.RestAdvertisedListener; l != "" && l != "http" && l != "https" {
		bad("rest.advertised.listener", l, "String must be one of: http, https")
	}
	if !slices.Contains([]string{"only_scan", "hybrid_warn", "hybrid_fail", "service_load"}, strings.ToLower(c.PluginDiscovery)) {
		bad("plugin.discovery", c.PluginDiscovery, "String must be one of (case insensitive): ONLY_SCAN, HYBRID_WARN, HYBRID_FAIL, SERVICE_LOAD")
	}
	topics := map[string]string{"config.storage.topic": c.ConfigStorageTopic, "offset.storage.topic": c.OffsetStorageTopic, "status.storage.topic": c.StatusStorageTopic}
	seen := map[string]string{}
	for _, key := range []string{"config.storage.topic", "offset.storage.topic", "status.storage.topic"} {
		t := topics[key]
		if err := validTopicName(t); err != nil {
			bad(key, t, err.Error())
			continue
		}
		if other, dup := seen[t]; dup {
			bad(key, t, "must differ from "+other)
		}
		seen[t] = key
	}
	for key, rf := range map[string]int16{"config.storage.replication.factor": c.ConfigStorageReplicationFactor,
		"offset.storage.replication.factor": c.OffsetStorageReplicationFactor, "status.storage.replication.factor": c.StatusStorageReplicationFactor} {
		if rf < 1 && rf != -1 {
			bad(key, rf, "Replication factor must be positive, or -1 to use the broker's default")
		}
	}
	for key, p := range map[string]int32{"offset.storage.partitions": c.OffsetStoragePartitions, "status.storage.partitions": c.StatusStoragePartitions} {
		if p < 1 && p != -1 {
			bad(key, p, "Number of partitions must be positive, or -1 to use the broker's default")
		}
	}
	positive("session.timeout.ms", c.SessionTimeout)
	positive("heartbeat.interval.ms", c.HeartbeatInterval)
	positive("rebalance.timeout.ms", c.RebalanceTimeout)
	positive("worker.sync.timeout.ms", c.WorkerSyncTimeout)
	nonNegative("scheduled.rebalance.max.delay.ms", c.ScheduledRebalanceMaxDelay)
	nonNegative("sluice.rebalance.request.wait.ms", c.RebalanceRequestWait)
	if c.HeartbeatInterval >= c.SessionTimeout && c.SessionTimeout > 0 {
		bad("heartbeat.interval.ms", c.HeartbeatInterval.Milliseconds(), "must be lower than session.timeout.ms")
	}
	if !slices.Contains([]string{"eager", "compatible", "sessioned"}, strings.ToLower(c.ConnectProtocol)) {
		bad("connect.protocol", c.ConnectProtocol, "String must be one of: eager, compatible, sessioned")
	}
	switch strings.ToLower(c.ExactlyOnceSourceSupport) {
	case "disabled":
	case "preparing", "enabled":
		bad("exactly.once.source.support", c.ExactlyOnceSourceSupport, "exactly-once source support is not available in Sluice yet; use disabled")
	default:
		bad("exactly.once.source.support", c.ExactlyOnceSourceSupport, "String must be one of (case insensitive): DISABLED, ENABLED, PREPARING")
	}
	if !slices.Contains([]string{"all", "none", "principal"}, strings.ToLower(c.ConnectorClientConfigOverridePolicy)) {
		bad("connector.client.config.override.policy", c.ConnectorClientConfigOverridePolicy, "must be All, None or Principal")
	}
	for _, p := range c.ConfigProviders {
		if _, ok := c.ConfigProviderConfigs[p+".class"]; !ok {
			bad("config.providers", strings.Join(c.ConfigProviders, ","), "provider "+p+" has no config.providers."+p+".class")
		}
	}
	if c.Embedded() {
		if strings.TrimSpace(c.DataDir) == "" {
			bad("data.dir", c.DataDir, "must not be empty when the embedded broker runs (no bootstrap.servers)")
		}
		if _, _, err := net.SplitHostPort(c.BrokerListen); err != nil {
			bad("broker.listen", c.BrokerListen, "must be host:port")
		}
	}
	if p := strings.ToUpper(c.SecurityProtocol); p != "" && p != "PLAINTEXT" {
		bad("security.protocol", c.SecurityProtocol, "only PLAINTEXT is supported by Sluice so far")
	}
	if c.TaskRestartInitialBackoff <= 0 {
		bad("sluice.task.restart.initial.backoff.ms", c.TaskRestartInitialBackoff.Milliseconds(), "Value must be at least 1")
	}
	if c.TaskRestartMaxBackoff < c.TaskRestartInitialBackoff {
		bad("sluice.task.restart.max.backoff.ms", c.TaskRestartMaxBackoff.Milliseconds(), "must be at least sluice.task.restart.initial.backoff.ms")
	}
	if c.TaskRestartMaxAttempts < -1 {
		bad("sluice.task.restart.max.attempts", c.TaskRestartMaxAttempts, "must be -1 (unlimited), 0 (never) or a positive count")
	}
	return errors.Join(errs...)
}

// validTopicName applies Kafka's topic name rules.
func validTopicName(t string) error {
	switch {
	case t == "":
		return errors.New("topic name must not be empty")
	case t == "." || t == "..":
		return errors.New("topic name cannot be \".\" or \"..\"")
	case len(t) > 249:
		return errors.New("topic name is longer than 249 characters")
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("topic name contains %q; only ASCII alphanumerics, '.', '_' and '-' are allowed", r)
		}
	}
	return nil
}

// Listener is a parsed REST listener URL.
type Listener struct {
	Scheme string // "http" or "https"
	Host   string // "" = all interfaces
	Port   int
}

// Addr returns host:port for net.Listen.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// ParseListener parses a listeners entry such as http://:8083 or
// https://0.0.0.0:8443.
func ParseListener(s string) (Listener, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" {
		return Listener{}, fmt.Errorf("%q is not a listener URL such as http://127.0.0.1:8083", s)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return Listener{}, fmt.Errorf("%q: the scheme must be http or https", s)
	}
	host, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		return Listener{}, fmt.Errorf("%q: want scheme://host:port", s)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return Listener{}, fmt.Errorf("%q: invalid port", s)
	}
	return Listener{Scheme: scheme, Host: host, Port: port}, nil
}

// internalTopicPartitions returns the partition count to create an
// internal topic with: the configured one, or 1 when the key was not set
// and the worker runs the single-node embedded broker.
func (c *WorkerConfig) internalTopicPartitions(key string, n int32) int32 {
	if c.Embedded() && !c.IsSet(key) {
		return 1
	}
	return n
}

// internalTopicRF returns the replication factor to create an internal
// topic with: the configured one, or -1 (the broker's default) when the
// key was not set and the worker runs the single-node embedded broker.
func (c *WorkerConfig) internalTopicRF(key string, rf int16) int16 {
	if c.Embedded() && !c.IsSet(key) {
		return -1
	}
	return rf
}
