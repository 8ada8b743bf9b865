package runtime

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/plugins"
	"github.com/sluicedata/sluice/plugins/configprovider"
	"github.com/sluicedata/sluice/transforms"
)

// nullValueMessage is Kafka's error for a key given a JSON null.
const nullValueMessage = "Null value can not be supplied as the configuration value."

func nullable(config map[string]string) map[string]*string {
	out := make(map[string]*string, len(config))
	for k, v := range config {
		out[k] = &v
	}
	return out
}

// javaMapString renders a config as Java's Map.toString does, "{k=v, …}"
// in HashMap order, for Kafka's "contains no connector type" message.
func javaMapString(config map[string]*string) string {
	keys := slices.Collect(maps.Keys(config))
	connectors.JavaHashOrderStrings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		if v := config[k]; v != nil {
			b.WriteString(*v)
		} else {
			b.WriteString("null")
		}
	}
	b.WriteByte('}')
	return b.String()
}

// validate validates a connector config as Kafka's
// AbstractHerder.validateConnectorConfig does: the framework keys of a
// source or sink connector (with converter classes checked against the
// registry), the sink topic rules, the transforms and predicates with
// their own keys, the connector's own keys and cross-key checks, the
// converters' keys when a converter is overridden, and client overrides
// against connector.client.config.override.policy. A key given as null
// gets Kafka's null-value error. Placeholders are resolved first, so
// values from config providers are what gets checked.
func (h *herder) validate(ctx context.Context, in map[string]*string) (connectors.ConfigInfos, error) {
	classPtr, ok := in[connectors.KeyConnectorClass]
	if !ok || classPtr == nil {
		return connectors.ConfigInfos{}, Errorf(ErrBadRequest, "Connector config %s contains no connector type", javaMapString(in))
	}
	class := *classPtr
	p, err := h.lookupConnector(strings.TrimSpace(class))
	if err != nil {
		return connectors.ConfigInfos{}, &Error{Kind: ErrServerError, Message: err.Error(), Err: err}
	}
	inst, ok := p.New().(connectors.Connector)
	if !ok {
		return connectors.ConfigInfos{}, Errorf(ErrServerError, "plugin %s is not a connector", p.Class)
	}

	raw := map[string]string{}
	var nulls []string
	for k, v := range in {
		if v == nil {
			nulls = append(nulls, k)
			continue
		}
		raw[k] = *v
	}
	slices.Sort(nulls)
	props, resolveErrs := h.resolveForValidation(raw)

	sink := p.Kind == plugins.KindSink
	var def *connectors.ConfigDef
	if sink {
		def = connectors.SinkConfigDef()
	} else {
		def = connectors.SourceConfigDef()
	}
	def.SetValidator(connectors.KeyKeyConverter, h.classValidator(plugins.KindConverter))
	def.SetValidator(connectors.KeyValueConverter, h.classValidator(plugins.KindConverter))
	def.SetValidator(connectors.KeyHeaderConverter, h.classValidator(plugins.KindHeaderConverter))

	// The framework keys are validated alone: ValidateChain has already
	// validated the transform and predicate keys, with their messages
	// naming the full key; validating them again through the merged
	// definition would report every such error twice.
	tdef, tvalues := transforms.ValidateChain(props, h.transformLookup)
	values := connectors.MergeConfigValues(def.Validate(props), tvalues...)
	def = def.Merge(tdef)
	if sink {
		values = connectors.ValidateSinkTopics(props, values)
	}
	for _, k := range nulls {
		values = connectors.MergeConfigValues(values, connectors.ConfigValue{Name: k, Errors: []string{nullValueMessage}, Visible: true})
	}
	values = connectors.MergeConfigValues(values, resolveErrs...)

	// The connector's own keys.
	own := inst.Config()
	if own == nil {
		own = connectors.NewConfigDef()
	}
	ownValues := connectors.ValidateConnector(ctx, inst, props)
	all := def.Merge(own)
	values = connectors.MergeConfigValues(values, ownValues...)
	infos := connectors.NewConfigInfos(class, all, values)

	// Converters overridden by the connector, each validated against its
	// own definition under its prefix.
	for _, c := range []struct {
		key  string
		kind plugins.Kind
		typ  string
	}{
		{connectors.KeyHeaderConverter, plugins.KindHeaderConverter, "header"},
		{connectors.KeyKeyConverter, plugins.KindConverter, "key"},
		{connectors.KeyValueConverter, plugins.KindConverter, "value"},
	} {
		if ci := h.validateConverter(props, c.key, c.kind, c.typ); ci != nil {
			infos = mergeInfos(infos, *ci)
		}
	}
	// Client overrides.
	usesProducer := !sink || strings.TrimSpace(props[connectors.KeyDLQTopicName]) != ""
	usesConsumer := sink
	usesAdmin := sink && strings.TrimSpace(props[connectors.KeyDLQTopicName]) != "" || !sink && strings.TrimSpace(props["topic.creation.default.partitions"]) != ""
	for _, o := range []struct {
		prefix string
		used   bool
	}{
		{connectors.PrefixProducerOverride, usesProducer},
		{connectors.PrefixAdminOverride, usesAdmin},
		{connectors.PrefixConsumerOverride, usesConsumer},
	} {
		if o.used {
			infos = mergeInfos(infos, h.validateOverrides(props, o.prefix))
		}
	}
	return infos, nil
}

// resolveForValidation resolves placeholders; keys whose placeholders
// cannot be resolved keep their raw value and get an error.
func (h *herder) resolveForValidation(raw map[string]string) (map[string]string, []connectors.ConfigValue) {
	props, err := h.resolveConfig(raw)
	if err == nil {
		return props, nil
	}
	var errs []connectors.ConfigValue
	var missing *configprovider.MissingKeysError
	if errors.As(err, &missing) {
		for _, p := range missing.Missing {
			errs = append(errs, connectors.ConfigValue{Name: p.ConfigKey, Visible: true,
				Errors: []string{"Could not resolve " + p.Text + ": key " + p.Key + " not found by config provider " + p.Provider}})
		}
		return raw, errs
	}
	for _, p := range configprovider.Placeholders(raw) {
		if _, ok := h.providers[p.Provider]; ok {
			errs = append(errs, connectors.ConfigValue{Name: p.ConfigKey, Visible: true, Errors: []string{"Could not resolve " + p.Text + ": " + err.Error()}})
		}
	}
	return raw, errs
}

// classValidator checks that a CLASS key names a plugin of kind.
func (h *herder) classValidator(kind plugins.Kind) connectors.Validator {
	return connectors.ValidatorFunc{Desc: "a " + string(kind) + " class", Fn: func(name string, v any) error {
		s, _ := v.(string)
		if s == "" {
			return nil
		}
		if _, err := h.registry.Lookup(s, kind); err != nil {
			return connectors.NewConfigError(name, s, "Class "+s+" could not be found.")
		}
		return nil
	}}
}

// transformLookup resolves transforms and predicates through the
// registry (transforms.Lookup).
func (h *herder) transformLookup(class string) (transforms.Plugin, bool) {
	p, err := h.registry.Lookup(class, plugins.KindTransformation, plugins.KindPredicate)
	if err != nil {
		return transforms.Plugin{}, false
	}
	return transforms.Plugin{Class: p.Class, Aliases: p.Aliases, Predicate: p.Kind == plugins.KindPredicate,
		New: p.New, Doc: p.Doc, Version: p.Version}, true
}

// validateConverter validates the nested keys of a converter the
// connector overrides (Kafka 3.5+), or returns nil.
func (h *herder) validateConverter(props map[string]string, key string, kind plugins.Kind, typ string) *connectors.ConfigInfos {
	class := strings.TrimSpace(props[key])
	if class == "" {
		return nil
	}
	p, err := h.registry.Lookup(class, kind)
	if err != nil || p.Config == nil {
		return nil
	}
	def := p.Config()
	if def == nil {
		return nil
	}
	prefix := key + "."
	sub := map[string]string{}
	for k, v := range props {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			sub[rest] = v
		}
	}
	if _, ok := sub["converter.type"]; !ok {
		sub["converter.type"] = typ
	}
	ci := connectors.NewConfigInfos("", def, def.Validate(sub))
	for i := range ci.Configs {
		if d := ci.Configs[i].Definition; d != nil {
			d.Name = prefix + d.Name
		}
		if v := ci.Configs[i].Value; v != nil {
			v.Name = prefix + v.Name
		}
	}
	return &ci
}

// Kafka's client override policies: what each lets a connector override.
var principalOverrides = []string{"sasl.jaas.config", "sasl.mechanism", "security.protocol"}

// validateOverrides checks producer./consumer./admin.override.* keys
// against connector.client.config.override.policy.
func (h *herder) validateOverrides(props map[string]string, prefix string) connectors.ConfigInfos {
	policy := h.cfg.ConnectorClientConfigOverridePolicy
	var keys []string
	for k := range props {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := connectors.ConfigInfos{Groups: []string{}, Configs: []connectors.ConfigInfo{}}
	for _, k := range keys {
		name := strings.TrimPrefix(k, prefix)
		v := props[k]
		vi := connectors.ConfigValueInfo{Name: k, Value: &v, RecommendedValues: []string{}, Errors: []string{}, Visible: true}
		allowed := true
		switch strings.ToLower(policy) {
		case "none":
			allowed = false
		case "principal":
			allowed = slices.Contains(principalOverrides, name)
		}
		if !allowed {
			canonical := map[string]string{"none": "None", "principal": "Principal"}[strings.ToLower(policy)]
			vi.Errors = append(vi.Errors, "The '"+canonical+"' policy does not allow '"+name+"' to be overridden in the connector configuration.")
			out.ErrorCount++
		}
		out.Configs = append(out.Configs, connectors.ConfigInfo{Value: &vi})
	}
	return out
}

// mergeInfos appends b's entries and groups to a (Kafka's
// mergeConfigInfos).
func mergeInfos(a, b connectors.ConfigInfos) connectors.ConfigInfos {
	a.ErrorCount += b.ErrorCount
	a.Configs = append(a.Configs, b.Configs...)
	for _, g := range b.Groups {
		if !slices.Contains(a.Groups, g) {
			a.Groups = append(a.Groups, g)
		}
	}
	return a
}
