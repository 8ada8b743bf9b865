// Package plugins is Sluice's plugin registry: every connector, converter,
// header converter, transformation, predicate and config provider the
// worker can instantiate, reachable by the names users already have in
// their Kafka Connect configs.
//
// # Names
//
// A plugin has a Kafka-style class name and is found by any of:
//
//	org.apache.kafka.connect.file.FileStreamSinkConnector  the class name
//	FileStreamSinkConnector                                its simple name
//	FileStreamSink                                         the simple name minus its type suffix
//	                                                       (Connector for connectors, Converter,
//	                                                       HeaderConverter, Transformation, Predicate,
//	                                                       ConfigProvider for the others)
//	datagen, insert-field-value, unwrap                    explicit Sluice aliases
//
// These are Kafka's alias rules (PluginUtils.computeAliases), including
// the one for collisions: a derived alias shared by two classes (such as
// "Value", the simple name of every InsertField$Value-style transform) is
// ambiguous and resolves to nothing. Explicit aliases must be unique;
// Register rejects a duplicate.
//
// One class may be registered under several kinds, as in Kafka, where
// JsonConverter is both a converter and a header converter; Lookup picks
// by the kinds asked for.
//
// # The built-ins
//
// Builtin returns a new registry with everything Sluice ships: the
// FileStream connectors and datagen, Kafka's transforms and predicates
// (and Debezium's two), the JSON, String and ByteArray converters (each
// also a header converter) and SimpleHeaderConverter, and the file,
// directory and env config providers. There is no global registry: each
// worker (and each test) builds its own.
//
// # plugin.path
//
// Kafka Connect loads plugins from jars found on plugin.path. A Go binary
// cannot run Java code, and Sluice does not load external plugins yet, so
// ScanPluginPath only reports what a plugin.path holds: each Java plugin
// (a .jar or .zip, or a directory of them) with the built-ins that replace
// it where Sluice knows one, as a JavaPluginError the worker can log.
// Keeping plugin.path in a worker config is harmless.
package plugins
