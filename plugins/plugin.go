package plugins

import (
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// Kind is a plugin type, named as Kafka's REST API names it
// (PluginInfo.type), plus config_provider.
type Kind string

// The kinds, in Kafka's listing order (GET /connector-plugins).
const (
	KindSink            Kind = "sink"
	KindSource          Kind = "source"
	KindTransformation  Kind = "transformation"
	KindPredicate       Kind = "predicate"
	KindConverter       Kind = "converter"
	KindHeaderConverter Kind = "header_converter"
	KindConfigProvider  Kind = "config_provider"
)

// Kinds returns every kind in listing order.
func Kinds() []Kind {
	return []Kind{KindSink, KindSource, KindTransformation, KindPredicate, KindConverter, KindHeaderConverter, KindConfigProvider}
}

// ConnectorKinds are the kinds GET /connector-plugins lists by default.
func ConnectorKinds() []Kind { return []Kind{KindSink, KindSource} }

// RESTKinds are the kinds GET /connector-plugins?connectorsOnly=false
// lists: every kind but config_provider, which Kafka does not show.
func RESTKinds() []Kind {
	return []Kind{KindSink, KindSource, KindTransformation, KindPredicate, KindConverter, KindHeaderConverter}
}

// order returns k's position in listing order, or -1 if k is not a kind.
func (k Kind) order() int {
	for i, x := range Kinds() {
		if x == k {
			return i
		}
	}
	return -1
}

// Valid reports whether k is one of the kinds.
func (k Kind) Valid() bool { return k.order() >= 0 }

// javaInterface is the Java interface a kind implements, which Kafka's
// alias rules strip from simple names (Connector for connectors).
func (k Kind) javaInterface() string {
	switch k {
	case KindSink:
		return "SinkConnector"
	case KindSource:
		return "SourceConnector"
	case KindTransformation:
		return "Transformation"
	case KindPredicate:
		return "Predicate"
	case KindConverter:
		return "Converter"
	case KindHeaderConverter:
		return "HeaderConverter"
	case KindConfigProvider:
		return "ConfigProvider"
	}
	return string(k)
}

// suffix is what Kafka's prunedName removes from a simple class name.
func (k Kind) suffix() string {
	if k == KindSink || k == KindSource {
		return "Connector"
	}
	return k.javaInterface()
}

func (k Kind) plural() string {
	switch k {
	case KindSink:
		return "sink connectors"
	case KindSource:
		return "source connectors"
	case KindHeaderConverter:
		return "header converters"
	case KindConfigProvider:
		return "config providers"
	}
	return string(k) + "s"
}

// Plugin is one registered plugin.
type Plugin struct {
	// Class is the Kafka-style class name, e.g.
	// org.apache.kafka.connect.file.FileStreamSourceConnector.
	Class string
	// Aliases are extra names (Sluice short names). The simple class name
	// and the simple name minus the type suffix are derived, not listed.
	Aliases []string
	// Kind is the plugin type.
	Kind Kind
	// Version is what REST reports. Empty at Register: the instance's
	// Version() if it is connectors.Versioned, else SluiceVersion. Kafka
	// omits the version from REST when it is "undefined".
	Version string
	// New returns a new instance: a connectors.SourceConnector or
	// connectors.SinkConnector, a convert.Converter or
	// convert.HeaderConverter, a transforms.Transformation or
	// transforms.Predicate, or a configprovider.ConfigProvider.
	New func() any
	// Config returns the plugin's own config definition, nil if it has
	// none. Empty at Register: taken from the instance's
	// Config() *connectors.ConfigDef method when it has one.
	Config func() *connectors.ConfigDef
	// Doc is a one-paragraph description, if any.
	Doc string
}

// SimpleName returns the class name without its package, and for a
// nested class ("InsertField$Value") the part after the last "$", as
// Java's Class.getSimpleName.
func (p Plugin) SimpleName() string { return simpleName(p.Class) }

func simpleName(class string) string {
	s := class[strings.LastIndexByte(class, '.')+1:]
	return s[strings.LastIndexByte(s, '$')+1:]
}

// PrunedName returns the simple name minus the kind's suffix, as Kafka's
// PluginUtils.prunedName: FileStreamSinkConnector → FileStreamSink,
// JsonConverter → Json. A name that is only the suffix stays whole.
func (p Plugin) PrunedName() string {
	s := p.SimpleName()
	if i := strings.LastIndex(s, p.Kind.suffix()); i > 0 {
		return s[:i]
	}
	return s
}

// Desc renders p as Kafka's PluginDesc.toString does, for messages.
func (p Plugin) Desc() string {
	return "PluginDesc{klass=class " + p.Class + ", name='" + p.Class + "', version='" + p.Version +
		"', encodedVersion=" + p.Version + ", type=" + string(p.Kind) + ", typeName='" + string(p.Kind) +
		"', location='builtin'}"
}
