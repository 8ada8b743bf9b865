package transforms

import (
	"slices"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// classRecommender recommends the built-in classes of one kind for a
// type key, as Kafka's ClassRecommender lists the installed plugins.
type classRecommender struct{ predicate bool }

func (r classRecommender) ValidValues(string, map[string]any) []any {
	var out []any
	for _, p := range Builtins() {
		if p.Predicate == r.predicate {
			out = append(out, p.Class)
		}
	}
	return out
}

func (classRecommender) Visible(string, map[string]any) bool { return true }

// typeValidator checks a type key: the class must resolve, to the right
// kind of plugin.
func typeValidator(alias string, predicate bool, lookup Lookup) connectors.Validator {
	kind := "transformation"
	if predicate {
		kind = "predicate"
	}
	return connectors.ValidatorFunc{Desc: "valid configs for " + alias + " " + kind, Fn: func(name string, v any) error {
		s, ok := v.(string)
		if !ok {
			return nil // missing: reported as such
		}
		prefix := strings.TrimSuffix(name, keyType)
		if _, ce := resolve(map[string]string{name: s}, prefix, predicate, lookup); ce != nil {
			return ce
		}
		return nil
	}}
}

// ValidateChain validates the transform and predicate keys of a connector
// config for PUT /connector-plugins/{p}/config/validate, as Kafka's
// ConnectorConfig.enrich does. It returns the definitions of every
// transforms.<alias>.* and predicates.<alias>.* key (type, the implicit
// predicate and negate, and each plugin's own keys, in the groups
// "Transforms: <alias>" and "Predicates: <alias>") and one ConfigValue per
// defined key, with all its errors worded with the full key name.
//
// Beyond Kafka's definition-level checks it also configures each
// transform and predicate, so that problems Kafka only finds when the
// connector starts (a Cast spec, TimestampConverter's missing format, a
// predicate alias that is not listed, negate without predicate) show at
// validate time, on the key they concern (or on the type key when no key
// is named).
//
// The runtime merges the result with the framework keys:
//
//	def, values := transforms.ValidateChain(props, registry.Lookup)
//	full := base.Merge(def)
//	all := connectors.MergeConfigValues(base.Validate(props), values...)
//	infos := connectors.NewConfigInfos(class, full, all)
func ValidateChain(config map[string]string, lookup Lookup) (*connectors.ConfigDef, []connectors.ConfigValue) {
	def := connectors.NewConfigDef()
	transforms, _ := parseAliases(config, connectors.KeyTransforms)
	predicates, _ := parseAliases(config, connectors.KeyPredicates)
	type entry struct {
		alias, prefix string
		predicate     bool
		plugin        Plugin
		ok            bool
	}
	var entries []entry
	add := func(alias string, predicate bool) {
		prefix, group := connectors.PrefixTransforms+alias+".", "Transforms: "+alias
		kind, display := "transformation", "Transformation type for "+alias
		if predicate {
			prefix, group = connectors.PrefixPredicates+alias+".", "Predicates: "+alias
			kind, display = "predicate", "Predicate type for "+alias
		}
		def.Define(connectors.ConfigKey{Name: prefix + keyType, Type: connectors.ConfigClass, Required: true,
			Validator:  typeValidator(alias, predicate, lookup),
			Importance: connectors.ImportanceHigh, Doc: "Class for the '" + alias + "' " + kind + ".",
			Group: group, Order: 0, Width: connectors.WidthLong, DisplayName: display,
			Recommender: classRecommender{predicate: predicate}})
		child := connectors.NewConfigDef()
		if !predicate {
			child.Define(connectors.ConfigKey{Name: keyPredicate, Type: connectors.ConfigString, Importance: connectors.ImportanceMedium,
				Doc: "The alias of a predicate used to determine whether to apply this transformation."})
			child.Define(connectors.ConfigKey{Name: keyNegate, Type: connectors.ConfigBoolean, Default: false, Importance: connectors.ImportanceMedium,
				Doc: "Whether the configured predicate should be negated."})
		}
		p, ce := resolve(config, prefix, predicate, lookup)
		if ce == nil {
			for _, k := range pluginConfig(p) {
				if k.Name == keyType || !predicate && (k.Name == keyPredicate || k.Name == keyNegate) {
					continue // masked by the chain's own keys, as in Kafka
				}
				if _, dup := child.Key(k.Name); !dup {
					child.Define(k)
				}
			}
		}
		def.Embed(prefix, group, 1, child)
		entries = append(entries, entry{alias: alias, prefix: prefix, predicate: predicate, plugin: p, ok: ce == nil})
	}
	for _, a := range transforms {
		add(a, false)
	}
	for _, a := range predicates {
		add(a, true)
	}
	values := def.Validate(config)
	index := make(map[string]int, len(values))
	for i := range values {
		index[values[i].Name] = i
	}
	addErr := func(name, fallback, msg string) {
		i, ok := index[name]
		if !ok {
			i = index[fallback]
		}
		if !slices.Contains(values[i].Errors, msg) {
			values[i].Errors = append(values[i].Errors, msg)
		}
	}
	for _, e := range entries {
		typeKey := e.prefix + keyType
		// Messages from embedded validators name the key without its
		// prefix, as Kafka's do; name the full key instead.
		for i := range values {
			if rest, ok := strings.CutPrefix(values[i].Name, e.prefix); ok && rest != keyType {
				for j, msg := range values[i].Errors {
					values[i].Errors[j] = prefixConfigError(e.prefix, &connectors.ConfigError{Name: rest, Message: msg}).Message
				}
			}
		}
		if !e.predicate {
			predKey, negKey := e.prefix+keyPredicate, e.prefix+keyNegate
			if _, hasNeg := config[negKey]; hasNeg {
				if _, hasPred := config[predKey]; !hasPred {
					addErr(typeKey, typeKey, "Config '"+negKey+"' was provided but there is no config '"+predKey+"' defining a predicate to be negated.")
				}
			}
			if pa := strings.TrimSpace(config[predKey]); pa != "" && !slices.Contains(predicates, pa) {
				addErr(predKey, typeKey, connectors.NewConfigError(predKey, pa, "Predicate "+pa+" is not listed in "+connectors.KeyPredicates+" (listed: "+strings.Join(predicates, ", ")+")").Message)
			}
		}
		if !e.ok || hasErrors(values, e.prefix) {
			continue
		}
		var err error
		if e.predicate {
			_, _, errs := newPredicate(config, e.alias, lookup)
			if len(errs) > 0 {
				err = errs
			}
		} else {
			err = configureOnce(e.plugin, subConfig(config, e.prefix, true))
			if err != nil {
				err = prefixErrors(e.prefix, err)
			}
		}
		if err == nil {
			continue
		}
		for _, ce := range asConfigErrors(typeKey, err) {
			addErr(ce.Name, typeKey, ce.Message)
		}
	}
	return def, values
}

// pluginConfig returns the keys of a plugin's ConfigDef.
func pluginConfig(p Plugin) []connectors.ConfigKey {
	switch x := p.New().(type) {
	case Transformation:
		return x.Config().Keys()
	case Predicate:
		return x.Config().Keys()
	}
	return nil
}

// configureOnce configures a fresh transform and closes it.
func configureOnce(p Plugin, config map[string]string) error {
	t, ok := p.New().(Transformation)
	if !ok {
		return nil
	}
	if err := t.Configure(config); err != nil {
		return err
	}
	return t.Close()
}

// hasErrors reports whether any key under prefix already has an error.
func hasErrors(values []connectors.ConfigValue, prefix string) bool {
	for _, v := range values {
		if strings.HasPrefix(v.Name, prefix) && len(v.Errors) > 0 {
			return true
		}
	}
	return false
}
