package file

import (
	"github.com/sluicedata/sluice/connectors"
)

// Class names, as in Kafka's connect-file jar.
const (
	SourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	SinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
)

// Config keys (Kafka's FileStreamSourceConnector / FileStreamSinkConnector).
const (
	KeyFile      = "file"
	KeyTopic     = "topic"
	KeyBatchSize = "batch.size"
)

// DefaultBatchSize is batch.size's default, as in Kafka.
const DefaultBatchSize = 2000

// SourceConfig is the configuration of FileStreamSourceConnector and its
// task.
type SourceConfig struct {
	// File is the file to read, as given (relative paths are relative to
	// the worker's working directory). Empty reads standard input. Kafka:
	// file; default empty.
	File string `json:"file"`
	// Topic receives one record per line. Kafka: topic; required.
	Topic string `json:"topic"`
	// BatchSize is the most records one Poll returns. Kafka: batch.size;
	// default 2000. Values below 1 act as 1.
	BatchSize int `json:"batch.size"`
}

// SinkConfig is the configuration of FileStreamSinkConnector and its task
// (the topics to consume are the framework's topics / topics.regex).
type SinkConfig struct {
	// File is the file to append to, created if missing. Empty writes to
	// standard output. Kafka: file; default empty.
	File string `json:"file"`
}

// SourceConfigDef returns the source connector's own keys, with Kafka's
// types, defaults, importance and docs, in Kafka's order.
func SourceConfigDef() *connectors.ConfigDef {
	return connectors.NewConfigDef().
		Define(connectors.ConfigKey{Name: KeyFile, Type: connectors.ConfigString,
			Importance: connectors.ImportanceHigh, Doc: "Source filename. If not specified, the standard input will be used"}).
		Define(connectors.ConfigKey{Name: KeyTopic, Type: connectors.ConfigString, Required: true, Validator: connectors.NonEmptyString(),
			Importance: connectors.ImportanceHigh, Doc: "The topic to publish data to"}).
		Define(connectors.ConfigKey{Name: KeyBatchSize, Type: connectors.ConfigInt, Default: DefaultBatchSize,
			Importance: connectors.ImportanceLow, Doc: "The maximum number of records the source task can read from the file each time it is polled"})
}

// SinkConfigDef returns the sink connector's own keys.
func SinkConfigDef() *connectors.ConfigDef {
	return connectors.NewConfigDef().
		Define(connectors.ConfigKey{Name: KeyFile, Type: connectors.ConfigString,
			Importance: connectors.ImportanceHigh, Doc: "Destination filename. If not specified, the standard output will be used"})
}

// ParseSourceConfig parses and validates props (a connector or task
// config; other keys are ignored), reporting every problem at once.
func ParseSourceConfig(props map[string]string) (SourceConfig, error) {
	c, err := SourceConfigDef().Parse(props)
	if err != nil {
		return SourceConfig{}, err
	}
	cfg := SourceConfig{File: c.String(KeyFile), Topic: c.String(KeyTopic), BatchSize: c.Int(KeyBatchSize)}
	return cfg, cfg.Validate()
}

// ParseSinkConfig parses and validates props.
func ParseSinkConfig(props map[string]string) (SinkConfig, error) {
	c, err := SinkConfigDef().Parse(props)
	if err != nil {
		return SinkConfig{}, err
	}
	cfg := SinkConfig{File: c.String(KeyFile)}
	return cfg, cfg.Validate()
}

// Validate reports every problem with c, each naming its key.
func (c SourceConfig) Validate() error {
	var errs connectors.ConfigErrors
	if c.Topic == "" {
		errs = append(errs, connectors.NewConfigError(KeyTopic, c.Topic, "String must be non-empty"))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Validate reports every problem with c; any file name is valid.
func (c SinkConfig) Validate() error { return nil }

func (c SourceConfig) batchSize() int { return max(c.BatchSize, 1) }
