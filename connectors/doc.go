// Package connectors is the connector contract of Sluice and Kafka
// Connect's data model: everything a connector, a transform or a converter
// needs, and nothing of the runtime. It imports no other Sluice package.
//
// # Data model
//
// A Schema describes a value, exactly as org.apache.kafka.connect.data
// does: twelve types (INT8 … FLOAT64, BOOLEAN, STRING, BYTES, ARRAY, MAP,
// STRUCT), optionality, a default, and name/version/doc/parameters.
// Schemas are immutable, built with SchemaBuilder (NewSchema, StructSchema,
// ArraySchema, MapSchema) or taken from the predefined Int32Schema,
// OptionalStringSchema, … variables. A nil *Schema means "schemaless".
//
// Values are plain Go values; this table is the contract every connector,
// transform and converter follows:
//
//	INT8, INT16, INT32, INT64  int8, int16, int32, int64
//	FLOAT32, FLOAT64           float32, float64
//	BOOLEAN                    bool
//	STRING                     string
//	BYTES                      []byte
//	ARRAY                      []any
//	MAP                        map[string]any (STRING keys) or map[any]any
//	STRUCT                     *Struct
//	Decimal (BYTES)            Decimal
//	Date, Time (INT32)         time.Time (midnight UTC / on 1970-01-01 UTC)
//	Timestamp (INT64)          time.Time
//	null                       nil, or a nil *Struct, []byte, []any or map
//
// Schemaless values (a nil schema, e.g. from JSON without schemas) use the
// same types, with map[string]any for JSON objects and int64/float64 for
// JSON numbers. ValidateValue checks a value against a schema with Kafka's
// error wording; Struct checks each Put. Map keys must be comparable, so
// BYTES keys are not supported.
//
// Logical types keep Kafka's names and encodings (DecimalLogicalName with
// parameter "scale" and big-endian two's complement bytes; Date as days,
// Time as milliseconds of the day, Timestamp as epoch milliseconds), so
// data written by Sluice reads back in Kafka Connect and the reverse.
// Debezium's semantic names are constants (DebeziumMicroTimestamp, …).
//
// FormatFloat, Decimal.String, FormatValue, ParseValue and JavaHashOrder
// reproduce how Java renders and orders values, which is what makes
// converter output byte-identical to Kafka's.
//
// # Records
//
// Record is one Connect record, source or sink: topic, optional partition,
// key and value with their schemas, timestamp, headers, plus the source
// partition/offset (source) or Kafka offset (sink). Records are values;
// transforms Clone and change them.
//
// # Contracts
//
// A Connector (SourceConnector or SinkConnector) configures itself and
// splits work into task configs. A Source task (Open, Poll, Commit,
// Close) produces records; a Sink task (Open, Put, Flush, Close) consumes
// them. Optional abilities are separate one-method interfaces found by
// type assertion: ConfigValidator, Versioned, RecordCommitter,
// PartitionOpener, PartitionCloser. Each method's doc states call order,
// concurrency, cancellation and when offsets are committed. Control flow
// uses the sentinels in errors.go: ErrRetriable (retry after backoff),
// ErrEndOfInput (a finite source is done), ErrData (bad record).
//
// # Configuration
//
// ConfigDef is Kafka's ConfigDef: typed keys with defaults, validators,
// groups and docs. It is the single source for Parse (a typed *Config,
// every problem reported at once with Kafka's messages), Validate and
// NewConfigInfos (the REST /config/validate response), and KeyInfos
// (GET /connector-plugins/{p}/config). CommonConfigDef, SinkConfigDef and
// SourceConfigDef define the framework's connector-level keys with
// Kafka's defaults. Like Kafka Connect, parsing ignores keys that are not
// defined (they reach the connector); UnknownKeys lists them.
package connectors
