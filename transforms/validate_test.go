package transforms

import (
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func valueOf(values []connectors.ConfigValue, name string) (connectors.ConfigValue, bool) {
	for _, v := range values {
		if v.Name == name {
			return v, true
		}
	}
	return connectors.ConfigValue{}, false
}

func TestValidateChain(t *testing.T) {
	cfg := map[string]string{
		"transforms":                   "route,ts,bad,f",
		"transforms.route.type":        "RegexRouter",
		"transforms.route.regex":       "(",
		"transforms.route.replacement": "x",
		"transforms.ts.type":           "TimestampConverter$Value",
		"transforms.ts.target.type":    "string",
		"transforms.ts.predicate":      "p",
		"transforms.ts.negate":         "true",
		"transforms.bad.type":          "nope",
		"transforms.f.type":            "Filter",
		"transforms.f.predicate":       "missing",
		"predicates":                   "p",
		"predicates.p.type":            "TopicNameMatches",
	}
	def, values := ValidateChain(cfg, BuiltinLookup)

	// Definitions: type first in each group, then the embedded keys.
	wantGroups := []string{"Transforms: route", "Transforms: ts", "Transforms: bad", "Transforms: f", "Predicates: p"}
	if g := def.Groups(); strings.Join(g, "|") != strings.Join(wantGroups, "|") {
		t.Errorf("groups %q", g)
	}
	for name, want := range map[string]struct {
		group string
		order int
		typ   connectors.ConfigType
	}{
		"transforms.route.type":        {"Transforms: route", 0, connectors.ConfigClass},
		"transforms.route.regex":       {"Transforms: route", 1, connectors.ConfigString},
		"transforms.route.replacement": {"Transforms: route", 2, connectors.ConfigString},
		"transforms.route.negate":      {"Transforms: route", 3, connectors.ConfigBoolean},
		"transforms.route.predicate":   {"Transforms: route", 4, connectors.ConfigString},
		"transforms.ts.unix.precision": {"Transforms: ts", 7, connectors.ConfigString},
		"transforms.bad.predicate":     {"Transforms: bad", 2, connectors.ConfigString},
		"predicates.p.type":            {"Predicates: p", 0, connectors.ConfigClass},
		"predicates.p.pattern":         {"Predicates: p", 1, connectors.ConfigString},
	} {
		k, ok := def.Key(name)
		if !ok {
			t.Errorf("%s not defined", name)
			continue
		}
		if k.Group != want.group || k.Order != want.order || k.Type != want.typ {
			t.Errorf("%s: group %q order %d type %v", name, k.Group, k.Order, k.Type)
		}
	}
	if k, _ := def.Key("transforms.route.type"); k.DisplayName != "Transformation type for route" || k.Doc != "Class for the 'route' transformation." || !k.Required {
		t.Errorf("type key %+v", k)
	}
	if len(values) != len(def.Keys()) {
		t.Errorf("%d values for %d keys", len(values), len(def.Keys()))
	}

	wantErrs := map[string]string{
		"transforms.route.regex":    "Invalid value ( for configuration transforms.route.regex: Invalid regex:",
		"transforms.ts.format":      "Invalid configuration transforms.ts.format: TimestampConverter requires format option to be specified when using string timestamps",
		"transforms.bad.type":       "Invalid value nope for configuration transforms.bad.type: Class nope could not be found.",
		"transforms.f.predicate":    "Invalid value missing for configuration transforms.f.predicate: Predicate missing is not listed in predicates",
		"predicates.p.pattern":      `Missing required configuration "predicates.p.pattern" which has no default value.`,
		"transforms.route.type":     "",
		"transforms.ts.type":        "",
		"transforms.route.negate":   "",
		"transforms.ts.target.type": "",
	}
	for name, want := range wantErrs {
		v, ok := valueOf(values, name)
		if !ok {
			t.Errorf("no value for %s", name)
			continue
		}
		if want == "" {
			if len(v.Errors) != 0 {
				t.Errorf("%s: unexpected errors %q", name, v.Errors)
			}
			continue
		}
		if len(v.Errors) != 1 || !strings.HasPrefix(v.Errors[0], want) {
			t.Errorf("%s: errors %q\nwant one starting %q", name, v.Errors, want)
		}
	}
	v, _ := valueOf(values, "transforms.route.type")
	if len(v.RecommendedValues) == 0 || v.Value != "RegexRouter" {
		t.Errorf("type value %+v", v)
	}
	for _, r := range v.RecommendedValues {
		if strings.Contains(r.(string), ".predicates.") {
			t.Errorf("predicate %v recommended for a transform", r)
		}
	}

	// The result plugs into the REST response with the framework keys.
	base := connectors.SinkConfigDef()
	full := base.Merge(def)
	all := connectors.MergeConfigValues(base.Validate(cfg), values...)
	infos := connectors.NewConfigInfos("x", full, all)
	if infos.ErrorCount < len(wantErrs)-4 {
		t.Errorf("error count %d", infos.ErrorCount)
	}
}

func TestValidateChainNegateWithoutPredicate(t *testing.T) {
	_, values := ValidateChain(map[string]string{"transforms": "f", "transforms.f.type": "Filter", "transforms.f.negate": "true"}, BuiltinLookup)
	v, _ := valueOf(values, "transforms.f.type")
	if len(v.Errors) != 1 || v.Errors[0] != "Config 'transforms.f.negate' was provided but there is no config 'transforms.f.predicate' defining a predicate to be negated." {
		t.Errorf("errors %q", v.Errors)
	}
}

func TestValidateChainValid(t *testing.T) {
	cfg := map[string]string{
		"transforms":                   "unwrap,mask",
		"transforms.unwrap.type":       "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.add.fields": "op,table",
		"transforms.mask.type":         "MaskField$Value",
		"transforms.mask.fields":       "ssn",
		"transforms.mask.predicate":    "isTombstone",
		"transforms.mask.negate":       "true",
		"predicates":                   "isTombstone",
		"predicates.isTombstone.type":  "RecordIsTombstone",
	}
	def, values := ValidateChain(cfg, BuiltinLookup)
	for _, v := range values {
		if len(v.Errors) > 0 {
			t.Errorf("%s: %q", v.Name, v.Errors)
		}
	}
	if _, ok := def.Key("transforms.unwrap.delete.tombstone.handling.mode"); !ok {
		t.Error("Debezium keys not embedded")
	}
	if _, ok := def.Key("predicates.isTombstone.type"); !ok {
		t.Error("predicate type not defined")
	}
	if c, err := NewChain(cfg, BuiltinLookup); err != nil {
		t.Errorf("NewChain rejects what ValidateChain accepts: %v", err)
	} else {
		c.Close()
	}
}

func TestValidateChainNoTransforms(t *testing.T) {
	def, values := ValidateChain(map[string]string{"name": "x"}, BuiltinLookup)
	if len(def.Keys()) != 0 || len(values) != 0 {
		t.Errorf("%v %v", def.Keys(), values)
	}
}
