package connectors

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Names of Kafka Connect's connector-level keys (connect-rest.md §7).
const (
	KeyName                 = "name"
	KeyConnectorClass       = "connector.class"
	KeyTasksMax             = "tasks.max"
	KeyTasksMaxEnforce      = "tasks.max.enforce"
	KeyKeyConverter         = "key.converter"
	KeyValueConverter       = "value.converter"
	KeyHeaderConverter      = "header.converter"
	KeyTransforms           = "transforms"
	KeyPredicates           = "predicates"
	KeyConfigActionReload   = "config.action.reload"
	KeyErrorsRetryTimeout   = "errors.retry.timeout"
	KeyErrorsRetryMaxDelay  = "errors.retry.delay.max.ms"
	KeyErrorsTolerance      = "errors.tolerance"
	KeyErrorsLogEnable      = "errors.log.enable"
	KeyErrorsLogIncludeMsgs = "errors.log.include.messages"

	// Sink connectors.
	KeyTopics                = "topics"
	KeyTopicsRegex           = "topics.regex"
	KeyDLQTopicName          = "errors.deadletterqueue.topic.name"
	KeyDLQReplicationFactor  = "errors.deadletterqueue.topic.replication.factor"
	KeyDLQContextHeaders     = "errors.deadletterqueue.context.headers.enable"
	KeyTopicCreationGroups   = "topic.creation.groups"
	KeyExactlyOnceSupport    = "exactly.once.support"
	KeyTransactionBoundary   = "transaction.boundary"
	KeyTransactionIntervalMs = "transaction.boundary.interval.ms"
	KeyOffsetsStorageTopic   = "offsets.storage.topic"
)

// Prefixes of connector-level keys that carry nested configuration.
const (
	PrefixTransforms        = "transforms."
	PrefixPredicates        = "predicates."
	PrefixProducerOverride  = "producer.override."
	PrefixConsumerOverride  = "consumer.override."
	PrefixAdminOverride     = "admin.override."
	PrefixTopicCreation     = "topic.creation."
	PrefixKeyConverter      = "key.converter."
	PrefixValueConverter    = "value.converter."
	PrefixHeaderConverter   = "header.converter."
	TopicCreationGroupFixed = "default"
)

// Groups of the connector-level keys, as Kafka names them.
const (
	GroupCommon        = "Common"
	GroupTransforms    = "Transforms"
	GroupPredicates    = "Predicates"
	GroupErrors        = "Error Handling"
	GroupTopicCreation = "Topic Creation"
	GroupExactlyOnce   = "Exactly Once Support"
	GroupOffsetsTopic  = "offsets.topic"
)

// CommonConfigDef returns a new ConfigDef of the keys every connector has
// (Kafka's ConnectorConfig), with Kafka's defaults, groups, orders and
// validators. The converter keys have no validator here; the runtime adds
// one that checks the plugin exists (SetValidator).
func CommonConfigDef() *ConfigDef {
	d := NewConfigDef()
	order := 0
	next := func() int { order++; return order }
	d.Define(ConfigKey{Name: KeyName, Type: ConfigString, Required: true, Validator: NonEmptyStringWithoutControlChars(),
		Importance: ImportanceHigh, Doc: "Globally unique name of this connector.",
		Group: GroupCommon, Order: next(), Width: WidthMedium, DisplayName: "Connector name"})
	d.Define(ConfigKey{Name: KeyConnectorClass, Type: ConfigString, Required: true,
		Importance: ImportanceHigh, Doc: "Class name or alias of the connector, e.g. org.apache.kafka.connect.file.FileStreamSinkConnector, FileStreamSinkConnector or FileStreamSink.",
		Group: GroupCommon, Order: next(), Width: WidthLong, DisplayName: "Connector class"})
	d.Define(ConfigKey{Name: KeyTasksMax, Type: ConfigInt, Default: 1, Validator: AtLeast(1),
		Importance: ImportanceHigh, Doc: "Maximum number of tasks the connector may run.",
		Group: GroupCommon, Order: next(), Width: WidthShort, DisplayName: "Tasks max"})
	d.Define(ConfigKey{Name: KeyTasksMaxEnforce, Type: ConfigBoolean, Default: true,
		Importance: ImportanceLow, Doc: "(Deprecated) Whether a connector that generates more task configs than tasks.max fails. If false, the extra tasks run.",
		Group: GroupCommon, Order: next(), Width: WidthShort, DisplayName: "Enforce tasks max"})
	d.Define(ConfigKey{Name: KeyKeyConverter, Type: ConfigClass,
		Importance: ImportanceLow, Doc: "Converter between Connect data and the serialized form of record keys in Kafka, e.g. org.apache.kafka.connect.json.JsonConverter. Defaults to the worker's key.converter.",
		Group: GroupCommon, Order: next(), Width: WidthShort, DisplayName: "Key converter class"})
	d.Define(ConfigKey{Name: KeyValueConverter, Type: ConfigClass,
		Importance: ImportanceLow, Doc: "Converter between Connect data and the serialized form of record values in Kafka. Defaults to the worker's value.converter.",
		Group: GroupCommon, Order: next(), Width: WidthShort, DisplayName: "Value converter class"})
	d.Define(ConfigKey{Name: KeyHeaderConverter, Type: ConfigClass,
		Importance: ImportanceLow, Doc: "HeaderConverter between Connect data and the serialized form of header values. Defaults to the worker's header.converter (SimpleHeaderConverter).",
		Group: GroupCommon, Order: next(), Width: WidthShort, DisplayName: "Header converter class"})
	// Kafka numbers transforms and predicates on with the Common counter.
	d.Define(ConfigKey{Name: KeyTransforms, Type: ConfigList, Default: []string{},
		Validator:  All(NonNull(), UniqueList("unique transformation aliases")),
		Importance: ImportanceLow, Doc: "Aliases of the transformations applied to records, in order.",
		Group: GroupTransforms, Order: next(), Width: WidthLong, DisplayName: "Transforms"})
	d.Define(ConfigKey{Name: KeyPredicates, Type: ConfigList, Default: []string{},
		Validator:  All(NonNull(), UniqueList("unique predicate aliases")),
		Importance: ImportanceLow, Doc: "Aliases of the predicates used by transformations.",
		Group: GroupPredicates, Order: next(), Width: WidthLong, DisplayName: "Predicates"})
	d.Define(ConfigKey{Name: KeyConfigActionReload, Type: ConfigString, Default: "restart", Validator: OneOf("none", "restart"),
		Importance: ImportanceLow, Doc: "What to do when values from external configuration providers change: 'restart' restarts the connector with the new values, 'none' does nothing.",
		Group: GroupCommon, Order: next(), Width: WidthMedium, DisplayName: "Reload Action"})

	order = 0
	d.Define(ConfigKey{Name: KeyErrorsRetryTimeout, Type: ConfigLong, Default: 0,
		Importance: ImportanceMedium, Doc: "How long, in milliseconds, a failed operation is retried. 0 (the default) means no retries; -1 retries forever.",
		Group: GroupErrors, Order: next(), Width: WidthMedium, DisplayName: "Retry Timeout for Errors"})
	d.Define(ConfigKey{Name: KeyErrorsRetryMaxDelay, Type: ConfigLong, Default: 60000,
		Importance: ImportanceMedium, Doc: "Maximum delay in milliseconds between two retries of a failed operation; jitter is added once it is reached.",
		Group: GroupErrors, Order: next(), Width: WidthMedium, DisplayName: "Maximum Delay Between Retries for Errors"})
	d.Define(ConfigKey{Name: KeyErrorsTolerance, Type: ConfigString, Default: "none", Validator: OneOf("none", "all"),
		Importance: ImportanceMedium, Doc: "How errors are tolerated: 'none' (the default) fails the task at the first error; 'all' skips problematic records.",
		Group: GroupErrors, Order: next(), Width: WidthShort, DisplayName: "Error Tolerance"})
	d.Define(ConfigKey{Name: KeyErrorsLogEnable, Type: ConfigBoolean, Default: false,
		Importance: ImportanceMedium, Doc: "If true, each error, the failed operation and the problematic record are written to the log. By default only errors that are not tolerated are reported.",
		Group: GroupErrors, Order: next(), Width: WidthShort, DisplayName: "Log Errors"})
	d.Define(ConfigKey{Name: KeyErrorsLogIncludeMsgs, Type: ConfigBoolean, Default: false,
		Importance: ImportanceMedium, Doc: "Whether the logged error includes the record: topic, partition, offset and timestamp for sink records; key, value, headers, schemas and source partition/offset for source records. Off by default so record contents stay out of logs.",
		Group: GroupErrors, Order: next(), Width: WidthShort, DisplayName: "Log Error Details"})
	return d
}

// SinkConfigDef returns a new ConfigDef of the keys of sink connectors
// (Kafka's SinkConnectorConfig): the common keys plus topics, topics.regex
// and the dead letter queue. Combine with ValidateSinkTopics.
func SinkConfigDef() *ConfigDef {
	d := CommonConfigDef()
	d.Define(ConfigKey{Name: KeyTopics, Type: ConfigList, Default: "",
		Importance: ImportanceHigh, Doc: "Comma-separated list of topics to consume.",
		Group: GroupCommon, Order: 4, Width: WidthLong, DisplayName: "Topics"})
	d.Define(ConfigKey{Name: KeyTopicsRegex, Type: ConfigString, Default: "", Validator: Regex(),
		Importance: ImportanceHigh, Doc: "Regular expression of the topics to consume (RE2 syntax). Set either topics or topics.regex.",
		Group: GroupCommon, Order: 4, Width: WidthLong, DisplayName: "Topics regex"})
	d.Define(ConfigKey{Name: KeyDLQTopicName, Type: ConfigString, Default: "",
		Importance: ImportanceMedium, Doc: "Topic that receives records which failed in this sink, its transforms or converters (the dead letter queue). Empty (the default) disables the DLQ.",
		Group: GroupErrors, Order: 6, Width: WidthMedium, DisplayName: "Dead Letter Queue Topic Name"})
	d.Define(ConfigKey{Name: KeyDLQReplicationFactor, Type: ConfigShort, Default: 3,
		Importance: ImportanceMedium, Doc: "Replication factor of the dead letter queue topic when it is created.",
		Group: GroupErrors, Order: 7, Width: WidthMedium, DisplayName: "Dead Letter Queue Topic Replication Factor"})
	d.Define(ConfigKey{Name: KeyDLQContextHeaders, Type: ConfigBoolean, Default: false,
		Importance: ImportanceMedium, Doc: "If true, records written to the dead letter queue get headers describing the error, all named __connect.errors.*.",
		Group: GroupErrors, Order: 8, Width: WidthMedium, DisplayName: "Enable Error Context Headers"})
	return d
}

// SourceConfigDef returns a new ConfigDef of the keys of source connectors
// (Kafka's SourceConnectorConfig): the common keys plus topic creation
// groups, exactly-once settings and the per-connector offsets topic. The
// per-group topic.creation.<group>.* keys depend on the config and are
// added by the runtime.
func SourceConfigDef() *ConfigDef {
	d := CommonConfigDef()
	order := 0
	next := func() int { order++; return order }
	d.Define(ConfigKey{Name: KeyTopicCreationGroups, Type: ConfigList, Default: []string{},
		Validator:  All(NonNull(), UniqueList("unique topic creation groups")),
		Importance: ImportanceLow, Doc: "Groups of settings for topics created by the source connector.",
		Group: GroupTopicCreation, Order: next(), Width: WidthLong, DisplayName: "Topic Creation Groups"})
	d.Define(ConfigKey{Name: KeyExactlyOnceSupport, Type: ConfigString, Default: "requested", Validator: OneOfIgnoreCase("requested", "required"),
		Importance: ImportanceMedium, Doc: "Permitted values are requested, required. With \"required\", validation fails unless the connector declares it can provide exactly-once semantics with this configuration and the worker has exactly-once source support enabled.",
		Group: GroupExactlyOnce, Order: next(), Width: WidthShort, DisplayName: "Exactly once support"})
	d.Define(ConfigKey{Name: KeyTransactionBoundary, Type: ConfigString, Default: "poll", Validator: OneOfIgnoreCase("poll", "interval", "connector"),
		Importance: ImportanceMedium, Doc: "Permitted values are: poll, interval, connector. 'poll' commits a producer transaction per batch returned by a task; 'interval' commits after transaction.boundary.interval.ms; 'connector' lets the connector define boundaries, which not every connector can.",
		Group: GroupExactlyOnce, Order: next(), Width: WidthShort, DisplayName: "Transaction Boundary"})
	atLeastZero := AtLeast(0)
	d.Define(ConfigKey{Name: KeyTransactionIntervalMs, Type: ConfigLong,
		Validator: ValidatorFunc{Desc: atLeastZero.String(), Fn: func(name string, v any) error {
			if v == nil {
				return nil
			}
			return atLeastZero.Validate(name, v)
		}},
		Importance: ImportanceLow, Doc: "With transaction.boundary=interval, how often tasks commit producer transactions. Unset means the worker's offset.flush.interval.ms. Ignored for other boundaries.",
		Group: GroupExactlyOnce, Order: next(), Width: WidthShort, DisplayName: "Transaction boundary interval"})
	d.Define(ConfigKey{Name: KeyOffsetsStorageTopic, Type: ConfigString, Validator: NonEmptyString(),
		Importance: ImportanceLow, Doc: "A separate offsets topic for this connector, created if missing. Empty or unset uses the worker's offsets topic. Distributed mode only.",
		Group: GroupOffsetsTopic, Order: 1, Width: WidthLong, DisplayName: "Offsets topic"})
	return d
}

// ValidateSinkTopics applies Kafka's cross-key sink checks
// (SinkConnectorConfig.validate) to props and merges the errors into
// values: exactly one of topics and topics.regex must be set, and the DLQ
// topic must not be one of the consumed topics.
func ValidateSinkTopics(props map[string]string, values []ConfigValue) []ConfigValue {
	topics, regex := props[KeyTopics], props[KeyTopicsRegex]
	dlq := strings.TrimSpace(props[KeyDLQTopicName])
	hasTopics, hasRegex := strings.TrimSpace(topics) != "", strings.TrimSpace(regex) != ""
	var extra []ConfigValue
	add := func(name, value, msg string) {
		extra = append(extra, ConfigValue{Name: name, Value: value, Errors: []string{msg}, Visible: true})
	}
	if hasTopics && hasRegex {
		msg := KeyTopics + " and " + KeyTopicsRegex + " are mutually exclusive options, but both are set."
		add(KeyTopics, topics, msg)
		add(KeyTopicsRegex, regex, msg)
	}
	if !hasTopics && !hasRegex {
		msg := "Must configure one of " + KeyTopics + " or " + KeyTopicsRegex
		add(KeyTopics, topics, msg)
		add(KeyTopicsRegex, regex, msg)
	}
	if dlq != "" {
		if hasTopics {
			list := SinkTopics(props)
			if slices.Contains(list, dlq) {
				add(KeyTopics, topics, fmt.Sprintf("The DLQ topic '%s' may not be included in the list of topics ('%s=[%s]') consumed by the connector",
					dlq, KeyTopics, strings.Join(list, ", ")))
			}
		}
		if hasRegex {
			if re, err := regexp.Compile("^(?:" + regex + ")$"); err == nil && re.MatchString(dlq) {
				add(KeyTopicsRegex, regex, fmt.Sprintf("The DLQ topic '%s' may not be matched by the regex for the topics ('%s=%s') consumed by the connector",
					dlq, KeyTopicsRegex, regex))
			}
		}
	}
	// Errors replace the parsed Value only where none was parsed.
	for i := range extra {
		for _, v := range values {
			if v.Name == extra[i].Name {
				extra[i].Value = nil
			}
		}
	}
	return MergeConfigValues(values, extra...)
}

// SinkTopics returns the topics listed in a sink config's topics key:
// trimmed, without empty entries and duplicates, in order.
func SinkTopics(props map[string]string) []string {
	v, err := ParseConfigValue(KeyTopics, props[KeyTopics], ConfigList)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range v.([]string) {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
