// Package convert holds the converters between Connect data
// (connectors.Schema and Go values) and the bytes of Kafka records, each
// byte-compatible with its Kafka counterpart so that Sluice and Kafka
// Connect can read each other's topics:
//
//	JSONConverter          org.apache.kafka.connect.json.JsonConverter
//	StringConverter        org.apache.kafka.connect.storage.StringConverter
//	ByteArrayConverter     org.apache.kafka.connect.converters.ByteArrayConverter
//	SimpleHeaderConverter  org.apache.kafka.connect.storage.SimpleHeaderConverter
//
// A Converter handles keys or values (Configure's isKey), a
// HeaderConverter header values; AsHeaderConverter makes any Converter a
// HeaderConverter, as Kafka lets JsonConverter and StringConverter serve
// for headers. Each converter's ConfigDef (ConfigDefiner) is the source
// for parsing its properties and for REST validation.
//
// Byte compatibility means: for the same Connect data, the bytes Kafka's
// Jackson-based JsonConverter writes. That fixes member order (schema
// before payload, struct fields in schema order, schema keys in Kafka's
// order), string escaping (Jackson's: \b \t \n \f \r, other control
// characters as upper-case \u00XX, nothing else), number text (Java's
// Double.toString/Float.toString and BigDecimal.toString), base64 (padded
// standard alphabet) and map entry order (java.util.HashMap's iteration
// order, see connectors.JavaHashOrder). The golden files in testdata/
// pin these bytes.
//
// JSONConverter has two implementations of each direction. The general
// ones (json.go: appendSchema/appendValue to write, parseJSON and
// toConnectSchema/toConnectValue to read) are the reference and explain
// every error. The fast ones, used first, are compiled per schema and
// cached with it (jsonencode.go writes straight into one buffer;
// jsondecode.go reads in one pass, recognising the envelope's schema by
// its bytes); they give up on anything unusual, and the general one then
// handles the record. Tests compare the two on the golden files, random
// data and fuzzed input (jsonfast_test.go); json_bench_test.go measures
// them against encoding/json.
//
// Files: converter.go (interfaces), json.go (JSONConverter, general
// paths), jsonread.go (JSON parser), jsonwrite.go (Jackson-exact string
// and number writers), jsonencode.go and jsondecode.go (fast paths),
// jsonscan.go (the fast reader's scanning), strcache.go (values reused
// across records), cache.go (schema LRU), string.go (String, ByteArray
// and SimpleHeader converters).
//
// The package must not import the runtime package; the runtime imports it.
package convert
