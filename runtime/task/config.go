package task

import (
	"strings"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Defaults of Settings fields left zero (Kafka's worker defaults).
const (
	defaultFlushInterval   = 60 * time.Second // offset.flush.interval.ms
	defaultFlushTimeout    = 5 * time.Second  // offset.flush.timeout.ms
	defaultShutdownTimeout = 5 * time.Second  // task.shutdown.graceful.timeout.ms
	defaultKeyConverter    = "org.apache.kafka.connect.json.JsonConverter"
	defaultValueConverter  = "org.apache.kafka.connect.json.JsonConverter"
	defaultHeaderConverter = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
)

func (s Settings) withDefaults() Settings {
	if s.OffsetFlushInterval <= 0 {
		s.OffsetFlushInterval = defaultFlushInterval
	}
	if s.OffsetFlushTimeout <= 0 {
		s.OffsetFlushTimeout = defaultFlushTimeout
	}
	if s.ShutdownTimeout <= 0 {
		s.ShutdownTimeout = defaultShutdownTimeout
	}
	if strings.TrimSpace(s.KeyConverter) == "" {
		s.KeyConverter = defaultKeyConverter
	}
	if strings.TrimSpace(s.ValueConverter) == "" {
		s.ValueConverter = defaultValueConverter
	}
	if strings.TrimSpace(s.HeaderConverter) == "" {
		s.HeaderConverter = defaultHeaderConverter
	}
	return s
}

// errorsConfig is a connector's error handling keys (KIP-298), parsed
// with the framework's own definitions.
type errorsConfig struct {
	retry              retryPolicy
	tolerateAll        bool
	logEnable          bool
	logIncludeMessages bool
	dlqTopic           string
	dlqReplication     int16
	dlqReplicationSet  bool
	dlqContextHeaders  bool
}

// errorsDef holds the error handling keys of connectors.SinkConfigDef (the
// single source of their defaults and validators); sources accept the
// same keys.
var errorsDef = func() *connectors.ConfigDef {
	full := connectors.SinkConfigDef()
	d := connectors.NewConfigDef()
	for _, name := range []string{connectors.KeyErrorsRetryTimeout, connectors.KeyErrorsRetryMaxDelay,
		connectors.KeyErrorsTolerance, connectors.KeyErrorsLogEnable, connectors.KeyErrorsLogIncludeMsgs,
		connectors.KeyDLQTopicName, connectors.KeyDLQReplicationFactor, connectors.KeyDLQContextHeaders} {
		k, _ := full.Key(name)
		d.Define(k)
	}
	return d
}()

func parseErrorsConfig(config map[string]string) (errorsConfig, error) {
	c, err := errorsDef.Parse(config)
	if err != nil {
		return errorsConfig{}, err
	}
	timeout := c.Long(connectors.KeyErrorsRetryTimeout)
	maxDelay := time.Duration(c.Long(connectors.KeyErrorsRetryMaxDelay)) * time.Millisecond
	if maxDelay < minRetryDelay {
		maxDelay = minRetryDelay
	}
	ec := errorsConfig{
		retry:              retryPolicy{timeout: time.Duration(timeout) * time.Millisecond, maxDelay: maxDelay},
		tolerateAll:        c.String(connectors.KeyErrorsTolerance) == "all",
		logEnable:          c.Bool(connectors.KeyErrorsLogEnable),
		logIncludeMessages: c.Bool(connectors.KeyErrorsLogIncludeMsgs),
		dlqTopic:           strings.TrimSpace(c.String(connectors.KeyDLQTopicName)),
		dlqReplication:     c.Short(connectors.KeyDLQReplicationFactor),
		dlqReplicationSet:  c.IsSet(connectors.KeyDLQReplicationFactor),
		dlqContextHeaders:  c.Bool(connectors.KeyDLQContextHeaders),
	}
	if timeout < 0 {
		ec.retry.timeout = -1
	}
	return ec, nil
}

// reporting reports whether failed records are reported anywhere (log or
// DLQ): the condition under which a sink gets an ErrantReporter.
func (c errorsConfig) reporting() bool { return c.logEnable || c.dlqTopic != "" }
