package plugins

import (
	"fmt"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/connectors/datagen"
	"github.com/sluicedata/sluice/connectors/file"
	"github.com/sluicedata/sluice/connectors/jdbc"
	"github.com/sluicedata/sluice/connectors/postgres"
	"github.com/sluicedata/sluice/plugins/configprovider"
	"github.com/sluicedata/sluice/runtime/convert"
	"github.com/sluicedata/sluice/transforms"
)

// KafkaVersion is the version reported for plugins that reproduce Kafka
// 3.9's (FileStream connectors, converters, config providers): the
// release whose behaviour they match, as GET /connector-plugins shows for
// Kafka's own plugins.
const KafkaVersion = "3.9.0"

// Kafka class names of the built-in converters.
const (
	JSONConverterClass         = "org.apache.kafka.connect.json.JsonConverter"
	StringConverterClass       = "org.apache.kafka.connect.storage.StringConverter"
	ByteArrayConverterClass    = "org.apache.kafka.connect.converters.ByteArrayConverter"
	SimpleHeaderConverterClass = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
)

// Builtin returns a new registry holding every built-in plugin. It panics
// only if the built-ins themselves clash, which the tests rule out.
func Builtin() *Registry {
	r := New()
	for _, p := range builtins() {
		if err := r.Register(p); err != nil {
			panic(fmt.Errorf("plugins: built-in %s: %w", p.Class, err))
		}
	}
	return r
}

func builtins() []Plugin {
	ps := []Plugin{
		{Class: file.SourceClass, Kind: KindSource, Version: KafkaVersion, Aliases: []string{"file-source"},
			New: func() any { return new(file.SourceConnector) }, Doc: "Reads lines of a file (or standard input) into a topic."},
		{Class: file.SinkClass, Kind: KindSink, Version: KafkaVersion, Aliases: []string{"file-sink"},
			New: func() any { return new(file.SinkConnector) }, Doc: "Appends each record's value as a line to a file (or standard output)."},
		{Class: datagen.Class, Kind: KindSource, Version: SluiceVersion, Aliases: []string{"datagen"},
			New: func() any { return new(datagen.Connector) }, Doc: "Generates orders, users or pageviews records, like Confluent's kafka-connect-datagen."},
		{Class: postgres.ClassName, Kind: KindSource, Version: SluiceVersion, Aliases: []string{postgres.Alias},
			New: func() any { return postgres.NewConnector() }, Doc: "Change data capture from PostgreSQL (logical replication, pgoutput), with Debezium's configs and events."},
		// jdbc-sink is Sluice's own flavour (Debezium's keys plus
		// Confluent's spellings): the connector picks its flavour from
		// connector.class, so the alias can sit on Debezium's class.
		{Class: jdbc.DebeziumClass, Kind: KindSink, Version: SluiceVersion, Aliases: []string{jdbc.Alias},
			New: func() any { return jdbc.NewFlavorConnector(jdbc.FlavorDebezium) }, Doc: "Writes records and Debezium change events to PostgreSQL tables (Debezium's JDBC sink keys)."},
		{Class: jdbc.ConfluentClass, Kind: KindSink, Version: SluiceVersion,
			New: func() any { return jdbc.NewFlavorConnector(jdbc.FlavorConfluent) }, Doc: "Writes records to PostgreSQL tables (Confluent's JDBC sink keys)."},
	}
	ps = append(ps, converterPlugins()...)
	ps = append(ps, TransformPlugins(transforms.Builtins())...)
	for _, b := range configprovider.Builtins() {
		newFn := b.New
		ps = append(ps, Plugin{Class: b.Class, Kind: KindConfigProvider, Version: KafkaVersion,
			Aliases: []string{configProviderAlias(b.Class)},
			New:     func() any { return newFn() }, Config: b.Config})
	}
	return ps
}

func configProviderAlias(class string) string {
	switch class {
	case configprovider.FileClass:
		return "file"
	case configprovider.DirectoryClass:
		return "directory"
	case configprovider.EnvVarClass:
		return "env"
	}
	return class
}

// converterPlugins registers JsonConverter, StringConverter and
// ByteArrayConverter as converters and header converters (Kafka's
// classes implement both), and SimpleHeaderConverter.
func converterPlugins() []Plugin {
	type conv struct {
		class, alias string
		new          func() convert.Converter
	}
	var ps []Plugin
	for _, c := range []conv{
		{JSONConverterClass, "json", func() convert.Converter { return convert.NewJSONConverter() }},
		{StringConverterClass, "string", func() convert.Converter { return convert.NewStringConverter() }},
		{ByteArrayConverterClass, "byte-array", func() convert.Converter { return new(convert.ByteArrayConverter) }},
	} {
		newFn := c.new
		ps = append(ps,
			Plugin{Class: c.class, Kind: KindConverter, Version: KafkaVersion, Aliases: []string{c.alias},
				New: func() any { return newFn() }},
			Plugin{Class: c.class, Kind: KindHeaderConverter, Version: KafkaVersion, Aliases: []string{c.alias},
				New: func() any { return convert.AsHeaderConverter(newFn()) }})
	}
	ps = append(ps, Plugin{Class: SimpleHeaderConverterClass, Kind: KindHeaderConverter, Version: KafkaVersion,
		Aliases: []string{"simple-header"}, New: func() any { return new(convert.SimpleHeaderConverter) }})
	return ps
}

// TransformPlugins converts the transforms package's descriptions
// (transforms.Builtins) into registry plugins: kind transformation or
// predicate, with their aliases, versions and docs.
func TransformPlugins(ts []transforms.Plugin) []Plugin {
	out := make([]Plugin, len(ts))
	for i, t := range ts {
		kind := KindTransformation
		if t.Predicate {
			kind = KindPredicate
		}
		out[i] = Plugin{Class: t.Class, Aliases: t.Aliases, Kind: kind, Version: t.Version, New: t.New, Doc: t.Doc}
	}
	return out
}

// Compile-time checks of what the built-in constructors return.
var (
	_ connectors.SourceConnector = (*file.SourceConnector)(nil)
	_ connectors.SinkConnector   = (*file.SinkConnector)(nil)
	_ connectors.SourceConnector = (*datagen.Connector)(nil)
)
