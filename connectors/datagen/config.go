package datagen

import (
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// Class is the connector class name, Confluent's.
const Class = "io.confluent.kafka.connect.datagen.DatagenConnector"

// Config keys: Confluent's, plus batch.size (Sluice).
const (
	KeyTopic          = "kafka.topic"
	KeyMaxInterval    = "max.interval"
	KeyIterations     = "iterations"
	KeySchemaString   = "schema.string"
	KeySchemaFilename = "schema.filename"
	KeySchemaKeyField = "schema.keyfield"
	KeyQuickstart     = "quickstart"
	KeyRandomSeed     = "random.seed"
	KeyBatchSize      = "batch.size"
	// KeyTaskID is set by the connector in each task config.
	KeyTaskID = "task.id"
)

// Defaults.
const (
	DefaultMaxInterval = 500
	DefaultIterations  = -1
	DefaultBatchSize   = 1000
)

// Config is the configuration of the datagen connector and its tasks.
type Config struct {
	// Topic receives the records. datagen: kafka.topic; required.
	Topic string `json:"kafka.topic"`
	// Quickstart picks the data set: orders, users or pageviews (any
	// case). datagen: quickstart; required here, since custom schemas are
	// not supported.
	Quickstart string `json:"quickstart"`
	// KeyField is the field used as the record key. Empty: the
	// quickstart's key (orderid, userid, viewtime). datagen:
	// schema.keyfield.
	KeyField string `json:"schema.keyfield"`
	// MaxIntervalMs is the most milliseconds to wait before each record;
	// each wait is uniformly random below it. 0 produces as fast as
	// possible, batch.size records per poll. datagen: max.interval;
	// default 500.
	MaxIntervalMs int64 `json:"max.interval"`
	// Iterations is how many records each task produces before it ends;
	// less than 1 means forever. datagen: iterations; default -1.
	Iterations int `json:"iterations"`
	// RandomSeed makes the data deterministic: connectors with the same
	// seed produce the same records, each task different ones. nil: a
	// random seed, kept in the offsets. datagen: random.seed.
	RandomSeed *int64 `json:"random.seed"`
	// BatchSize is the most records one poll returns when MaxIntervalMs
	// is 0. Sluice only: batch.size; default 1000.
	BatchSize int `json:"batch.size"`
	// TaskID is the task's number, set by the connector. task.id.
	TaskID int `json:"task.id"`
}

func quickstartValidator() connectors.Validator {
	names := QuickstartNames()
	return connectors.ValidatorFunc{Desc: "[" + strings.Join(names, ", ") + "]", Fn: func(name string, v any) error {
		s, _ := v.(string)
		if !slices.Contains(names, strings.ToLower(s)) {
			return connectors.NewConfigError(name, v, "String must be one of: "+strings.Join(names, ", "))
		}
		return nil
	}}
}

func unsupported(what string) connectors.Validator {
	return connectors.ValidatorFunc{Desc: "empty", Fn: func(name string, v any) error {
		if s, _ := v.(string); s != "" {
			return &connectors.ConfigError{Name: name, Message: "Invalid configuration " + name + ": " + what +
				" is not supported by Sluice's datagen; use quickstart=" + strings.Join(QuickstartNames(), "|")}
		}
		return nil
	}}
}

// ConfigDef returns the connector's keys: datagen's, with its types,
// defaults and docs, then batch.size.
func ConfigDef() *connectors.ConfigDef {
	d := connectors.NewConfigDef()
	d.Define(connectors.ConfigKey{Name: KeyTopic, Type: connectors.ConfigString, Required: true, Validator: connectors.NonEmptyString(),
		Importance: connectors.ImportanceHigh, Doc: "Topic to write to"})
	d.Define(connectors.ConfigKey{Name: KeyMaxInterval, Type: connectors.ConfigLong, Default: DefaultMaxInterval, Validator: connectors.AtLeast(0),
		Importance: connectors.ImportanceHigh, Doc: "Max interval between messages (ms). 0 generates as fast as possible, batch.size records per poll."})
	d.Define(connectors.ConfigKey{Name: KeyIterations, Type: connectors.ConfigInt, Default: DefaultIterations,
		Importance: connectors.ImportanceHigh, Doc: "Number of messages to send from each task, or less than 1 for unlimited"})
	d.Define(connectors.ConfigKey{Name: KeySchemaString, Type: connectors.ConfigString, Default: "", Validator: unsupported(KeySchemaString),
		Importance: connectors.ImportanceHigh, Doc: "The literal JSON-encoded Avro schema to use. Not supported by Sluice: use quickstart."})
	d.Define(connectors.ConfigKey{Name: KeySchemaFilename, Type: connectors.ConfigString, Default: "", Validator: unsupported(KeySchemaFilename),
		Importance: connectors.ImportanceHigh, Doc: "Filename of schema to use. Not supported by Sluice: use quickstart."})
	d.Define(connectors.ConfigKey{Name: KeySchemaKeyField, Type: connectors.ConfigString, Default: "",
		Importance: connectors.ImportanceHigh, Doc: "Name of field to use as the message key. Empty: the quickstart's key field."})
	d.Define(connectors.ConfigKey{Name: KeyQuickstart, Type: connectors.ConfigString, Required: true, Validator: quickstartValidator(),
		Importance: connectors.ImportanceHigh, Doc: "Name of quickstart to use: " + strings.Join(QuickstartNames(), ", ") + "."})
	d.Define(connectors.ConfigKey{Name: KeyRandomSeed, Type: connectors.ConfigLong,
		Importance: connectors.ImportanceLow, Doc: "Numeric seed for generating random data. Two connectors started with the same seed will deterministically produce the same data. Each task will generate different data than the other tasks in the same connector."})
	d.Define(connectors.ConfigKey{Name: KeyBatchSize, Type: connectors.ConfigInt, Default: DefaultBatchSize, Validator: connectors.AtLeast(1),
		Importance: connectors.ImportanceLow, Doc: "(Sluice) The maximum number of records a task returns per poll when max.interval is 0."})
	return d
}

// ParseConfig parses and validates props, reporting every problem at once.
func ParseConfig(props map[string]string) (Config, error) {
	c, err := ConfigDef().Parse(props)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		Topic:         c.String(KeyTopic),
		Quickstart:    strings.ToLower(c.String(KeyQuickstart)),
		KeyField:      c.String(KeySchemaKeyField),
		MaxIntervalMs: c.Long(KeyMaxInterval),
		Iterations:    c.Int(KeyIterations),
		BatchSize:     c.Int(KeyBatchSize),
	}
	if c.Get(KeyRandomSeed) != nil {
		seed := c.Long(KeyRandomSeed)
		cfg.RandomSeed = &seed
	}
	if s, ok := props[KeyTaskID]; ok {
		id, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return Config{}, connectors.ConfigErrors{connectors.NewConfigError(KeyTaskID, s, "Not a number of type INT")}
		}
		cfg.TaskID = id
	}
	return cfg, cfg.Validate()
}

// Validate reports every problem with c, each naming its key.
func (c Config) Validate() error {
	var errs connectors.ConfigErrors
	if c.Topic == "" {
		errs = append(errs, connectors.NewConfigError(KeyTopic, c.Topic, "String must be non-empty"))
	}
	q, ok := quickstarts[strings.ToLower(c.Quickstart)]
	if !ok {
		errs = append(errs, connectors.NewConfigError(KeyQuickstart, c.Quickstart, "String must be one of: "+strings.Join(QuickstartNames(), ", ")))
	} else if c.KeyField != "" && q.keyIndex(c.KeyField) < 0 {
		errs = append(errs, connectors.NewConfigError(KeySchemaKeyField, c.KeyField,
			"Not a primitive field of quickstart "+q.name+"; fields: "+strings.Join(q.primitiveFields(), ", ")))
	}
	if c.MaxIntervalMs < 0 {
		errs = append(errs, connectors.NewConfigError(KeyMaxInterval, c.MaxIntervalMs, "Value must be at least 0"))
	}
	if c.BatchSize < 1 {
		errs = append(errs, connectors.NewConfigError(KeyBatchSize, c.BatchSize, "Value must be at least 1"))
	}
	if c.TaskID < 0 {
		errs = append(errs, connectors.NewConfigError(KeyTaskID, c.TaskID, "Value must be at least 0"))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
