package connectors

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// ConfigType is the type of a configuration key, as Kafka's
// ConfigDef.Type. Parsed values have these Go types:
//
//	ConfigBoolean  bool
//	ConfigString   string (trimmed)
//	ConfigInt      int32
//	ConfigShort    int16
//	ConfigLong     int64
//	ConfigDouble   float64
//	ConfigList     []string (comma-separated, entries trimmed)
//	ConfigClass    string (a plugin class name or alias)
//	ConfigPassword Password
type ConfigType int8

// The configuration types.
const (
	ConfigBoolean ConfigType = iota + 1
	ConfigString
	ConfigInt
	ConfigShort
	ConfigLong
	ConfigDouble
	ConfigList
	ConfigClass
	ConfigPassword
)

var configTypeNames = [...]string{"", "BOOLEAN", "STRING", "INT", "SHORT", "LONG", "DOUBLE", "LIST", "CLASS", "PASSWORD"}

// String returns Kafka's name, e.g. "INT".
func (t ConfigType) String() string {
	if t <= 0 || int(t) >= len(configTypeNames) {
		return "UNKNOWN"
	}
	return configTypeNames[t]
}

// Importance is how much a key matters to users (Kafka's Importance).
type Importance int8

// Importance levels. They sort HIGH first, as in Kafka.
const (
	ImportanceHigh Importance = iota + 1
	ImportanceMedium
	ImportanceLow
)

// String returns "HIGH", "MEDIUM" or "LOW".
func (i Importance) String() string {
	switch i {
	case ImportanceHigh:
		return "HIGH"
	case ImportanceMedium:
		return "MEDIUM"
	case ImportanceLow:
		return "LOW"
	}
	return "UNKNOWN"
}

// Width is a UI hint for the width of a key's input field.
type Width int8

// Widths. The zero value is WidthNone.
const (
	WidthNone Width = iota
	WidthShort
	WidthMedium
	WidthLong
)

// String returns "NONE", "SHORT", "MEDIUM" or "LONG".
func (w Width) String() string {
	switch w {
	case WidthShort:
		return "SHORT"
	case WidthMedium:
		return "MEDIUM"
	case WidthLong:
		return "LONG"
	}
	return "NONE"
}

// ConfigKey defines one configuration key (Kafka's ConfigDef.ConfigKey).
type ConfigKey struct {
	// Name is the key, e.g. "errors.tolerance".
	Name string
	// Type is the value type; required.
	Type ConfigType
	// Default is the value used when the key is absent: a value of the
	// type's Go type, or a string that is parsed as if it were given. nil
	// means the default is null (the key is optional but has no value),
	// unless Required is set.
	Default any
	// Required means there is no default: a missing key is an error
	// (Kafka's NO_DEFAULT_VALUE). Default is then ignored.
	Required bool
	// Validator checks the parsed value (also the default, at Define).
	Validator Validator
	// Importance is required.
	Importance Importance
	// Doc is the key's documentation.
	Doc string
	// Group and Order place the key in the UI: the group name and the
	// position within it (1-based; -1 if unset, which Define assumes when
	// both are zero).
	Group string
	Order int
	// Width is a UI hint.
	Width Width
	// DisplayName defaults to Name.
	DisplayName string
	// Dependents names keys whose validity depends on this one.
	Dependents []string
	// Recommender suggests values and visibility for the UI.
	Recommender Recommender
}

// ConfigDef is a set of configuration keys, Kafka's ConfigDef: the single
// source for parsing a map[string]string config (Parse), validating it for
// REST (Validate, NewConfigInfos) and describing it (KeyInfos).
//
// Build it once (NewConfigDef, Define, Embed) and treat it as read-only
// afterwards; reads are safe for concurrent use, definitions are not.
type ConfigDef struct {
	keys   []ConfigKey
	index  map[string]int
	groups []string
}

// NewConfigDef returns an empty ConfigDef.
func NewConfigDef() *ConfigDef { return &ConfigDef{index: map[string]int{}} }

// Define adds a key and returns d for chaining. Definitions are code, so
// mistakes panic: a duplicate name, an unset Type or Importance, or a
// default that does not parse or validate.
func (d *ConfigDef) Define(k ConfigKey) *ConfigDef {
	if err := d.define(k); err != nil {
		panic(err)
	}
	return d
}

func (d *ConfigDef) define(k ConfigKey) error {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: define %q: %s", ErrInvalidConfig, k.Name, fmt.Sprintf(format, a...))
	}
	if _, dup := d.index[k.Name]; dup {
		return fail("Configuration %s is defined twice.", k.Name)
	}
	if k.Type <= 0 || k.Type > ConfigPassword {
		return fail("no type")
	}
	if k.Importance <= 0 || k.Importance > ImportanceLow {
		return fail("no importance")
	}
	if k.Group == "" && k.Order == 0 {
		k.Order = -1
	}
	if k.DisplayName == "" {
		k.DisplayName = k.Name
	}
	k.Dependents = slices.Clone(k.Dependents)
	if k.Required {
		k.Default = nil
	} else if k.Default != nil {
		v, err := parseDefault(k.Name, k.Default, k.Type)
		if err != nil {
			return fail("invalid default: %v", err)
		}
		k.Default = v
		if k.Validator != nil {
			if err := k.Validator.Validate(k.Name, v); err != nil {
				return fail("invalid default: %v", err)
			}
		}
	}
	if d.index == nil {
		d.index = map[string]int{}
	}
	d.index[k.Name] = len(d.keys)
	d.keys = append(d.keys, k)
	if k.Group != "" && !slices.Contains(d.groups, k.Group) {
		d.groups = append(d.groups, k.Group)
	}
	return nil
}

// Key returns the definition of name.
func (d *ConfigDef) Key(name string) (ConfigKey, bool) {
	i, ok := d.index[name]
	if !ok {
		return ConfigKey{}, false
	}
	return d.keys[i], true
}

// Keys returns all definitions in definition order. The slice is a copy.
func (d *ConfigDef) Keys() []ConfigKey { return slices.Clone(d.keys) }

// Names returns the defined key names in definition order.
func (d *ConfigDef) Names() []string {
	out := make([]string, len(d.keys))
	for i, k := range d.keys {
		out[i] = k.Name
	}
	return out
}

// Groups returns the group names in the order they were first used.
func (d *ConfigDef) Groups() []string { return slices.Clone(d.groups) }

// SetValidator replaces the validator of the defined key name, e.g. so
// the runtime can check that a converter class exists. It panics if name
// is not defined.
func (d *ConfigDef) SetValidator(name string, v Validator) *ConfigDef {
	i, ok := d.index[name]
	if !ok {
		panic(fmt.Errorf("%w: SetValidator: %q is not defined", ErrInvalidConfig, name))
	}
	d.keys[i].Validator = v
	return d
}

// Clone returns an independent copy of d.
func (d *ConfigDef) Clone() *ConfigDef {
	c := &ConfigDef{keys: slices.Clone(d.keys), index: make(map[string]int, len(d.index)), groups: slices.Clone(d.groups)}
	for k, v := range d.index {
		c.index[k] = v
	}
	return c
}

// Merge returns a new ConfigDef with d's keys followed by those keys of o
// that d does not define, e.g. a connector's own keys merged with the
// framework keys.
func (d *ConfigDef) Merge(o *ConfigDef) *ConfigDef {
	c := d.Clone()
	for _, k := range o.keys {
		if _, ok := c.index[k.Name]; !ok {
			if err := c.define(k); err != nil {
				panic(err)
			}
		}
	}
	return c
}

// Embed defines every key of child under prefix (Kafka's ConfigDef.embed),
// as the runtime does for "transforms.<alias>." keys: names get the
// prefix, groups become group (or "group: child group"), orders count up
// from startOrder in the child's display order, and validators see the
// name without the prefix, as in Kafka.
func (d *ConfigDef) Embed(prefix, group string, startOrder int, child *ConfigDef) *ConfigDef {
	order := startOrder
	for _, k := range child.sorted() {
		k.Name = prefix + k.Name
		if k.Group != "" {
			k.Group = group + ": " + k.Group
		} else {
			k.Group = group
		}
		k.Order = order
		order++
		if k.Validator != nil {
			k.Validator = prefixStripped{prefix: prefix, v: k.Validator}
		}
		deps := make([]string, len(k.Dependents))
		for i, dep := range k.Dependents {
			deps[i] = prefix + dep
		}
		k.Dependents = deps
		if k.Recommender != nil {
			k.Recommender = prefixedRecommender{prefix: prefix, r: k.Recommender}
		}
		if k.Required {
			k.Default = nil
		}
		if err := d.define(k); err != nil {
			panic(err)
		}
	}
	return d
}

// sorted returns the keys in display order: by group (first use), order
// in group, required first, importance, then name.
func (d *ConfigDef) sorted() []ConfigKey {
	keys := slices.Clone(d.keys)
	groupOrd := func(g string) int {
		if g == "" {
			return -1
		}
		return slices.Index(d.groups, g)
	}
	slices.SortStableFunc(keys, func(a, b ConfigKey) int {
		req := func(k ConfigKey) int {
			if k.Required {
				return 0
			}
			return 1
		}
		return cmp.Or(
			cmp.Compare(groupOrd(a.Group), groupOrd(b.Group)),
			cmp.Compare(a.Order, b.Order),
			cmp.Compare(req(a), req(b)),
			cmp.Compare(a.Importance, b.Importance),
			cmp.Compare(a.Name, b.Name),
		)
	})
	return keys
}

type prefixStripped struct {
	prefix string
	v      Validator
}

func (p prefixStripped) Validate(name string, value any) error {
	return p.v.Validate(strings.TrimPrefix(name, p.prefix), value)
}

func (p prefixStripped) String() string { return p.v.String() }

type prefixedRecommender struct {
	prefix string
	r      Recommender
}

func (p prefixedRecommender) stripped(parsed map[string]any) map[string]any {
	out := make(map[string]any, len(parsed))
	for k, v := range parsed {
		if rest, ok := strings.CutPrefix(k, p.prefix); ok {
			out[rest] = v
		}
	}
	return out
}

func (p prefixedRecommender) ValidValues(name string, parsed map[string]any) []any {
	return p.r.ValidValues(strings.TrimPrefix(name, p.prefix), p.stripped(parsed))
}

func (p prefixedRecommender) Visible(name string, parsed map[string]any) bool {
	return p.r.Visible(strings.TrimPrefix(name, p.prefix), p.stripped(parsed))
}
