package convert

import (
	"github.com/sluicedata/sluice/connectors"
)

// Converter translates record keys or values between Connect data and the
// bytes stored in Kafka (Kafka's Converter).
//
// Configure is called once, before any conversion, with the converter's
// own properties (e.g. "schemas.enable", with the "key.converter." or
// "value.converter." prefix already removed). After that, FromConnect and
// ToConnect are safe for concurrent use. Both report data that cannot be
// converted as errors matching connectors.ErrData, which the runtime
// handles per record according to errors.tolerance.
type Converter interface {
	// Configure configures the converter for keys (isKey) or values. It
	// reports every invalid property at once (connectors.ConfigErrors).
	Configure(config map[string]string, isKey bool) error
	// FromConnect serialises value, described by schema (nil when
	// schemaless). A nil result is Kafka's null (a tombstone value).
	FromConnect(topic string, schema *connectors.Schema, value any) ([]byte, error)
	// ToConnect deserialises data; nil data is Kafka's null. The schema is
	// nil for schemaless data.
	ToConnect(topic string, data []byte) (*connectors.Schema, any, error)
}

// Appender is an optional Converter capability: FromConnect into the
// caller's buffer, for callers that recycle their buffers once the bytes
// are no longer needed (the source runner, when the broker acknowledged
// the record), so that converting allocates nothing per record.
type Appender interface {
	// AppendFromConnect appends to dst what FromConnect returns for the
	// same arguments and returns the extended buffer; for Kafka's null it
	// returns nil, whatever dst is. It is safe for concurrent use as
	// FromConnect is.
	AppendFromConnect(dst []byte, topic string, schema *connectors.Schema, value any) ([]byte, error)
}

// HeaderConverter translates header values (Kafka's HeaderConverter).
// The same concurrency rules as Converter apply.
type HeaderConverter interface {
	// Configure configures the converter.
	Configure(config map[string]string) error
	// FromConnectHeader serialises one header value; nil is a null header.
	FromConnectHeader(topic, key string, schema *connectors.Schema, value any) ([]byte, error)
	// ToConnectHeader deserialises one header value.
	ToConnectHeader(topic, key string, data []byte) (*connectors.Schema, any, error)
}

// ConfigDefiner is implemented by converters that define configuration
// keys (Kafka's Converter.config()), for REST validation and docs.
type ConfigDefiner interface {
	Config() *connectors.ConfigDef
}

// Kind says what a converter is used for (Kafka's ConverterType, the
// "converter.type" property).
type Kind int8

// Converter kinds.
const (
	KindKey Kind = iota + 1
	KindValue
	KindHeader
)

// String returns "key", "value" or "header".
func (k Kind) String() string {
	switch k {
	case KindKey:
		return "key"
	case KindValue:
		return "value"
	case KindHeader:
		return "header"
	}
	return "unknown"
}

// KeyConverterType is the property in which Kafka tells a converter its
// Kind ("key", "value" or "header"). Configure sets it from isKey.
const KeyConverterType = "converter.type"

// converterTypeKey defines converter.type, which every Kafka converter's
// ConfigDef starts with.
func converterTypeKey() connectors.ConfigKey {
	return connectors.ConfigKey{Name: KeyConverterType, Type: connectors.ConfigString, Required: true,
		Validator:  connectors.OneOf("key", "value", "header"),
		Importance: connectors.ImportanceLow, Doc: "How this converter is used: key, value or header."}
}

// withKind returns a copy of config with converter.type set.
func withKind(config map[string]string, k Kind) map[string]string {
	out := make(map[string]string, len(config)+1)
	for key, v := range config {
		out[key] = v
	}
	out[KeyConverterType] = k.String()
	return out
}

// AsHeaderConverter adapts a Converter to a HeaderConverter, as Kafka's
// JsonConverter, StringConverter and ByteArrayConverter serve as header
// converters: header values are converted like record values.
func AsHeaderConverter(c Converter) HeaderConverter { return headerAdapter{c} }

type headerAdapter struct{ c Converter }

func (h headerAdapter) Configure(config map[string]string) error { return h.c.Configure(config, false) }

func (h headerAdapter) FromConnectHeader(topic, _ string, schema *connectors.Schema, value any) ([]byte, error) {
	return h.c.FromConnect(topic, schema, value)
}

func (h headerAdapter) ToConnectHeader(topic, _ string, data []byte) (*connectors.Schema, any, error) {
	return h.c.ToConnect(topic, data)
}

// Config returns the wrapped converter's ConfigDef, if it has one.
func (h headerAdapter) Config() *connectors.ConfigDef {
	if d, ok := h.c.(ConfigDefiner); ok {
		return d.Config()
	}
	return connectors.NewConfigDef()
}

// Compile-time checks.
var (
	_ Converter       = (*JSONConverter)(nil)
	_ Converter       = (*StringConverter)(nil)
	_ Converter       = (*ByteArrayConverter)(nil)
	_ HeaderConverter = (*SimpleHeaderConverter)(nil)
	_ HeaderConverter = headerAdapter{}
	_ ConfigDefiner   = (*JSONConverter)(nil)
	_ ConfigDefiner   = (*StringConverter)(nil)
	_ ConfigDefiner   = (*ByteArrayConverter)(nil)
	_ ConfigDefiner   = (*SimpleHeaderConverter)(nil)
)
