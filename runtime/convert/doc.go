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
// The package must not import the runtime package; the runtime imports it.
package convert
