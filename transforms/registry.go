package transforms

import (
	"sort"
	"strings"
	"sync"
	"unicode"
)

// Versions reported for the built-ins: the releases whose behaviour they
// reproduce.
const (
	kafkaVersion    = "3.9.0"
	debeziumVersion = "2.7.4.Final"
)

const (
	kafkaPackage     = "org.apache.kafka.connect.transforms."
	predicatePackage = "org.apache.kafka.connect.transforms.predicates."
	debeziumPackage  = "io.debezium.transforms."
)

// kebab turns "InsertField$Value" into "insert-field-value".
func kebab(s string) string {
	var b strings.Builder
	prev := rune(0)
	for _, c := range s {
		switch {
		case c == '$':
			b.WriteByte('-')
		case unicode.IsUpper(c):
			if b.Len() > 0 && prev != '$' {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(c))
		default:
			b.WriteRune(c)
		}
		prev = c
	}
	return b.String()
}

// variants returns the $Key and $Value plugins of a Kafka transform.
func variants(name, doc string, newFor func(side) any) []Plugin {
	var out []Plugin
	for _, s := range []side{keySide, valueSide} {
		simple := s.className(name)
		out = append(out, Plugin{
			Class:   kafkaPackage + simple,
			Aliases: []string{simple, kebab(simple)},
			New:     func() any { return newFor(s) },
			Doc:     doc,
			Version: kafkaVersion,
		})
	}
	return out
}

// single returns the plugin of a transform or predicate without variants.
func single(pkg, name, doc, version string, predicate bool, newFn func() any, extra ...string) Plugin {
	return Plugin{
		Class:     pkg + name,
		Aliases:   append([]string{name, kebab(name)}, extra...),
		Predicate: predicate,
		New:       newFn,
		Doc:       doc,
		Version:   version,
	}
}

// Builtins returns every built-in transform variant and predicate, sorted
// by class name, for the plugin registry. Each has its Kafka (or
// Debezium) class name and two aliases: the simple class name, with
// "$Key"/"$Value" for variants ("InsertField$Value"), and the same in
// kebab case ("insert-field-value"); ExtractNewRecordState is also
// "unwrap". The slice is new on each call; New makes a fresh instance.
func Builtins() []Plugin {
	var ps []Plugin
	ps = append(ps, variants("Cast", castDoc, func(s side) any { return &castTransform{side: s} })...)
	ps = append(ps, single(kafkaPackage, "DropHeaders", dropHeadersDoc, kafkaVersion, false, func() any { return &dropHeaders{} }))
	ps = append(ps, variants("ExtractField", extractFieldDoc, func(s side) any { return &extractField{side: s} })...)
	ps = append(ps, single(kafkaPackage, "Filter", filterDoc, kafkaVersion, false, func() any { return filter{} }))
	ps = append(ps, variants("Flatten", flattenDoc, func(s side) any { return &flatten{side: s} })...)
	ps = append(ps, variants("HeaderFrom", headerFromDoc, func(s side) any { return &headerFrom{side: s} })...)
	ps = append(ps, variants("HoistField", hoistFieldDoc, func(s side) any { return &hoistField{side: s} })...)
	ps = append(ps, variants("InsertField", insertFieldDoc, func(s side) any { return &insertField{side: s} })...)
	ps = append(ps, single(kafkaPackage, "InsertHeader", insertHeaderDoc, kafkaVersion, false, func() any { return &insertHeader{} }))
	ps = append(ps, variants("MaskField", maskFieldDoc, func(s side) any { return &maskField{side: s} })...)
	ps = append(ps, single(kafkaPackage, "RegexRouter", regexRouterDoc, kafkaVersion, false, func() any { return &regexRouter{} }))
	ps = append(ps, variants("ReplaceField", replaceFieldDoc, func(s side) any { return &replaceField{side: s} })...)
	ps = append(ps, variants("SetSchemaMetadata", setSchemaMetadataDoc, func(s side) any { return &setSchemaMetadata{side: s} })...)
	ps = append(ps, variants("TimestampConverter", timestampConverterDoc, func(s side) any { return &timestampConverter{side: s} })...)
	ps = append(ps, single(kafkaPackage, "TimestampRouter", timestampRouterDoc, kafkaVersion, false, func() any { return &timestampRouter{} }))
	ps = append(ps, single(kafkaPackage, "ValueToKey", valueToKeyDoc, kafkaVersion, false, func() any { return &valueToKey{} }))
	ps = append(ps, single(predicatePackage, "HasHeaderKey", hasHeaderKeyDoc, kafkaVersion, true, func() any { return &hasHeaderKey{} }))
	ps = append(ps, single(predicatePackage, "RecordIsTombstone", recordIsTombstoneDoc, kafkaVersion, true, func() any { return recordIsTombstone{} }))
	ps = append(ps, single(predicatePackage, "TopicNameMatches", topicNameMatchesDoc, kafkaVersion, true, func() any { return &topicNameMatches{} }))
	ps = append(ps, single(debeziumPackage, "ByLogicalTableRouter", byLogicalTableRouterDoc, debeziumVersion, false, func() any { return &byLogicalTableRouter{} }))
	ps = append(ps, single(debeziumPackage, "ExtractNewRecordState", extractNewRecordStateDoc, debeziumVersion, false, func() any { return &extractNewRecordState{} }, "unwrap"))
	sort.Slice(ps, func(i, j int) bool { return ps[i].Class < ps[j].Class })
	return ps
}

var builtinIndex = sync.OnceValue(func() map[string]Plugin {
	m := map[string]Plugin{}
	for _, p := range Builtins() {
		m[p.Class] = p
		for _, a := range p.Aliases {
			m[a] = p
		}
	}
	return m
})
