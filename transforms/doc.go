// Package transforms implements Kafka Connect's single message transforms
// (SMTs) and predicates, and Debezium's ExtractNewRecordState and
// ByLogicalTableRouter, with the same class names, configuration keys,
// defaults and results as Kafka Connect 3.9 and Debezium, on records with
// and without schemas.
//
// # Model
//
// A Transformation takes one connectors.Record and returns a new one, or
// drops it (Apply's bool). Records are values: a transform never changes
// the maps, structs or headers of the record it is given; it builds new
// ones for what changes and shares the rest. Most Kafka SMTs come in a
// $Key and a $Value variant, which are separate plugins operating on the
// record key or value. Values follow the connectors data model: with a
// schema, a STRUCT is a *connectors.Struct; without one (JSON without
// schemas), an object is a map[string]any.
//
// A Predicate tests a record. In a connector config each transform may
// name a predicate (transforms.<alias>.predicate) and negate it
// (transforms.<alias>.negate); the transform applies only to records the
// predicate (or its negation) selects. Filter drops every record it
// applies to, so Filter plus a predicate drops a subset.
//
// A Chain is a connector's configured transforms, built from its
// "transforms" and "predicates" keys by NewChain; ValidateChain reports
// the same keys for the REST validate endpoint. Both resolve class names
// through a Lookup, so the plugin registry decides which plugins exist;
// Builtins lists this package's plugins for it.
//
// # Schemas and caches
//
// Transforms that change a schema derive the new schema once per input
// schema and cache it, like Kafka's LRU caches, but keyed by the
// *connectors.Schema pointer. Converters and connectors should therefore
// reuse one *Schema for equal schemas (as Kafka's JsonConverter caches
// them); a new pointer per record still works, at the cost of deriving
// the schema each time. Caches are bounded and safe for concurrent use.
//
// # Java compatibility
//
// Patterns in configs are Java's: RegexRouter, TopicNameMatches and
// ByLogicalTableRouter take java.util.regex patterns and Matcher
// replacement strings ("$1", "${name}", backslash escapes), compiled with
// Go's RE2 (no backreferences or lookaround); TimestampConverter and
// TimestampRouter take java.text.SimpleDateFormat patterns
// ("yyyy-MM-dd'T'HH:mm:ss.SSSZ"), formatted and parsed in UTC as Kafka
// does. Numbers convert with Java's narrowing rules and render as Java
// prints them.
//
// # Plugins and aliases
//
// Every plugin resolves by its class name and two aliases:
//
//	org.apache.kafka.connect.transforms.Cast$Key / $Value                      Cast$Key, cast-key, Cast$Value, cast-value
//	org.apache.kafka.connect.transforms.DropHeaders                            DropHeaders, drop-headers
//	org.apache.kafka.connect.transforms.ExtractField$Key / $Value              ExtractField$Key, extract-field-key, …
//	org.apache.kafka.connect.transforms.Filter                                 Filter, filter
//	org.apache.kafka.connect.transforms.Flatten$Key / $Value                   Flatten$Key, flatten-key, …
//	org.apache.kafka.connect.transforms.HeaderFrom$Key / $Value                HeaderFrom$Key, header-from-key, …
//	org.apache.kafka.connect.transforms.HoistField$Key / $Value                HoistField$Key, hoist-field-key, …
//	org.apache.kafka.connect.transforms.InsertField$Key / $Value               InsertField$Key, insert-field-key, …
//	org.apache.kafka.connect.transforms.InsertHeader                           InsertHeader, insert-header
//	org.apache.kafka.connect.transforms.MaskField$Key / $Value                 MaskField$Key, mask-field-key, …
//	org.apache.kafka.connect.transforms.RegexRouter                            RegexRouter, regex-router
//	org.apache.kafka.connect.transforms.ReplaceField$Key / $Value              ReplaceField$Key, replace-field-key, …
//	org.apache.kafka.connect.transforms.SetSchemaMetadata$Key / $Value         SetSchemaMetadata$Key, set-schema-metadata-key, …
//	org.apache.kafka.connect.transforms.TimestampConverter$Key / $Value        TimestampConverter$Key, timestamp-converter-key, …
//	org.apache.kafka.connect.transforms.TimestampRouter                        TimestampRouter, timestamp-router
//	org.apache.kafka.connect.transforms.ValueToKey                             ValueToKey, value-to-key
//	org.apache.kafka.connect.transforms.predicates.HasHeaderKey                HasHeaderKey, has-header-key
//	org.apache.kafka.connect.transforms.predicates.RecordIsTombstone           RecordIsTombstone, record-is-tombstone
//	org.apache.kafka.connect.transforms.predicates.TopicNameMatches            TopicNameMatches, topic-name-matches
//	io.debezium.transforms.ExtractNewRecordState                               ExtractNewRecordState, extract-new-record-state, unwrap
//	io.debezium.transforms.ByLogicalTableRouter                                ByLogicalTableRouter, by-logical-table-router
//
// # Files
//
//	transform.go     Transformation, Predicate, Plugin, Lookup: the contracts
//	registry.go      Builtins: class names, aliases, versions
//	chain.go         Chain, NewChain, StageError: a connector's configured chain
//	validate.go      ValidateChain: the REST validate view of the same keys
//	record.go        $Key/$Value sides, Kafka's Requirements, header copies
//	schema.go        schema copies and the derived-schema cache
//	fieldpath.go     field.syntax.version V1/V2 paths (KIP-821)
//	javadate.go      SimpleDateFormat patterns; javaregex.go: Pattern/Matcher
//	number.go        Java's numeric narrowing
//	<name>.go        one file per transform or predicate, with <name>_test.go
//
// # Where Sluice differs
//
//   - A record is a sink record (InsertField's offset.field) when its
//     OriginalTopic is set, which the runtime does for every consumed
//     record.
//   - ExtractNewRecordState also unwraps schemaless change events (a map
//     with "op" and "before"/"after"), which Debezium passes through.
//     With no delete handling key set it behaves as Debezium 3
//     (delete.tombstone.handling.mode=tombstone); setting the deprecated
//     drop.tombstones or delete.handling.mode selects Debezium 2's legacy
//     handling with its defaults (drop, drop).
//   - Cast of a whole Decimal/Date/Time/Timestamp value to another type
//     does not carry the logical type's name over to the new schema.
//   - Configuration problems that Kafka reports only when a connector
//     starts are reported by ValidateChain too.
package transforms
