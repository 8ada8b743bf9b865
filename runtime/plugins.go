package runtime

import (
	"strings"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/plugins"
)

// pluginList is GET /connector-plugins: connectors only, or every kind
// REST lists (not config providers), in Kafka's order.
func (h *herder) pluginList(connectorsOnly bool) []PluginInfo {
	kinds := []plugins.Kind{plugins.KindSink, plugins.KindSource}
	if !connectorsOnly {
		kinds = append(kinds, plugins.KindTransformation, plugins.KindPredicate, plugins.KindConverter, plugins.KindHeaderConverter)
	}
	out := []PluginInfo{}
	for _, p := range h.registry.List(kinds...) {
		v := p.Version
		if v == "undefined" {
			v = ""
		}
		out = append(out, PluginInfo{Class: p.Class, Type: string(p.Kind), Version: v})
	}
	return out
}

// pluginConfig is GET /connector-plugins/{p}/config: the plugin's own
// keys, then for connectors the framework keys it does not redefine.
func (h *herder) pluginConfig(name string) ([]connectors.ConfigKeyInfo, error) {
	p, err := h.registry.Lookup(strings.TrimSpace(name))
	if err != nil {
		return nil, Errorf(ErrNotFound, "Unknown plugin %s.", name)
	}
	if p.Kind == plugins.KindConfigProvider {
		return nil, Errorf(ErrBadRequest, "Invalid plugin class %s. Valid types are sink, source, converter, header_converter, transformation, predicate.", name)
	}
	def := connectors.NewConfigDef()
	if p.Config != nil {
		if d := p.Config(); d != nil {
			def = d
		}
	}
	switch p.Kind {
	case plugins.KindSink:
		def = def.Merge(connectors.SinkConfigDef())
	case plugins.KindSource:
		def = def.Merge(connectors.SourceConfigDef())
	}
	return def.KeyInfos(), nil
}
