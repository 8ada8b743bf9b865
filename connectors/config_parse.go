package connectors

import (
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Password is a PASSWORD config value. It prints as "[hidden]" (String,
// fmt, JSON and slog), like Kafka's Password; Value returns the secret.
type Password struct{ v string }

// NewPassword wraps a secret.
func NewPassword(s string) Password { return Password{v: s} }

// Value returns the secret.
func (p Password) Value() string { return p.v }

// String returns "[hidden]".
func (p Password) String() string { return "[hidden]" }

// MarshalJSON encodes "[hidden]".
func (p Password) MarshalJSON() ([]byte, error) { return []byte(`"[hidden]"`), nil }

// LogValue hides the secret from slog.
func (p Password) LogValue() slog.Value { return slog.StringValue("[hidden]") }

// ConfigError is one configuration problem, naming the key. Message uses
// Kafka's wording, e.g. "Invalid value foo for configuration
// errors.tolerance: String must be one of: none, all". It matches
// ErrInvalidConfig.
type ConfigError struct {
	Name    string
	Message string
}

// NewConfigError returns Kafka's "Invalid value <value> for configuration
// <name>: <reason>" error. Passwords print as [hidden].
func NewConfigError(name string, value any, reason string) *ConfigError {
	msg := "Invalid value " + FormatConfigValue(value) + " for configuration " + name
	if reason != "" {
		msg += ": " + reason
	}
	return &ConfigError{Name: name, Message: msg}
}

// Error returns Message.
func (e *ConfigError) Error() string { return e.Message }

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// ConfigErrors is every problem found in one configuration, in key
// definition order. It matches ErrInvalidConfig and, through Unwrap, each
// *ConfigError.
type ConfigErrors []*ConfigError

// Error returns the messages, one per line.
func (e ConfigErrors) Error() string {
	msgs := make([]string, len(e))
	for i, c := range e {
		msgs[i] = c.Message
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the individual errors.
func (e ConfigErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, c := range e {
		out[i] = c
	}
	return out
}

// Is reports whether target is ErrInvalidConfig.
func (e ConfigErrors) Is(target error) bool { return target == ErrInvalidConfig }

var commaWithSpace = regexp.MustCompile(`\s*,\s*`)

// ParseConfigValue parses a raw string as Kafka's ConfigDef.parseType does:
// the string is trimmed; booleans are true/false in any case; numbers are
// decimal; a LIST is split on commas (an empty string is an empty list).
// The error names the key, the value and what is accepted.
func ParseConfigValue(name, raw string, t ConfigType) (any, error) {
	s := strings.TrimSpace(raw)
	notNumber := func() error { return NewConfigError(name, raw, "Not a number of type "+t.String()) }
	switch t {
	case ConfigBoolean:
		switch {
		case strings.EqualFold(s, "true"):
			return true, nil
		case strings.EqualFold(s, "false"):
			return false, nil
		}
		return nil, NewConfigError(name, raw, "Expected value to be either true or false")
	case ConfigString, ConfigClass:
		return s, nil
	case ConfigPassword:
		return NewPassword(s), nil
	case ConfigInt:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, notNumber()
		}
		return int32(n), nil
	case ConfigShort:
		n, err := strconv.ParseInt(s, 10, 16)
		if err != nil {
			return nil, notNumber()
		}
		return int16(n), nil
	case ConfigLong:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, notNumber()
		}
		return n, nil
	case ConfigDouble:
		f, err := strconv.ParseFloat(strings.TrimRight(s, "dDfF"), 64)
		if err != nil || strings.ContainsAny(s, "_xX") {
			return nil, notNumber()
		}
		return f, nil
	case ConfigList:
		if s == "" {
			return []string{}, nil
		}
		return commaWithSpace.Split(s, -1), nil
	}
	return nil, fmt.Errorf("%w: unknown type %v for %s", ErrInvalidConfig, t, name)
}

// parseDefault converts a definition's default to the type's Go type.
func parseDefault(name string, v any, t ConfigType) (any, error) {
	if s, ok := v.(string); ok && t != ConfigString && t != ConfigClass {
		return ParseConfigValue(name, s, t)
	}
	switch t {
	case ConfigBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case ConfigString, ConfigClass:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case ConfigPassword:
		if p, ok := v.(Password); ok {
			return p, nil
		}
	case ConfigInt, ConfigShort, ConfigLong:
		var n int64
		switch x := v.(type) {
		case int:
			n = int64(x)
		case int16:
			n = int64(x)
		case int32:
			n = int64(x)
		case int64:
			n = x
		default:
			return nil, fmt.Errorf("%T is not an integer", v)
		}
		switch {
		case t == ConfigInt && n == int64(int32(n)):
			return int32(n), nil
		case t == ConfigShort && n == int64(int16(n)):
			return int16(n), nil
		case t == ConfigLong:
			return n, nil
		}
		return nil, fmt.Errorf("%d is out of range for %v", n, t)
	case ConfigDouble:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int:
			return float64(x), nil
		}
	case ConfigList:
		if l, ok := v.([]string); ok {
			return slices.Clone(l), nil
		}
	}
	return nil, fmt.Errorf("%T is not a valid %v value", v, t)
}

// FormatConfigValue renders a parsed config value as Java's toString does
// in Kafka's error messages: lists as "[a, b]", doubles in Java notation,
// passwords as "[hidden]", nil as "null".
func FormatConfigValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	case float64:
		return FormatFloat(x, 64)
	case float32:
		return FormatFloat(float64(x), 32)
	case Password:
		return x.String()
	}
	return fmt.Sprint(v)
}

// configValueString renders a value as Kafka's ConfigDef.convertToString
// does for REST: lists comma-joined, passwords "[hidden]"; nil stays nil.
func configValueString(v any) *string {
	if v == nil {
		return nil
	}
	var s string
	switch x := v.(type) {
	case []string:
		s = strings.Join(x, ",")
	default:
		s = FormatConfigValue(v)
	}
	return &s
}

// Config is a parsed configuration: every defined key with its typed value
// (given, or the default), plus the original strings. It is read-only and
// safe for concurrent use.
type Config struct {
	def       *ConfigDef
	values    map[string]any
	originals map[string]string
}

// Parse parses and validates props against d, reporting every problem at
// once as ConfigErrors (in definition order): values that do not parse,
// missing required keys, and validator failures. Keys d does not define
// are kept in Originals and otherwise ignored, as in Kafka Connect (see
// UnknownKeys).
func (d *ConfigDef) Parse(props map[string]string) (*Config, error) {
	c := &Config{def: d, values: make(map[string]any, len(d.keys)), originals: maps.Clone(props)}
	if c.originals == nil {
		c.originals = map[string]string{}
	}
	var errs ConfigErrors
	for _, k := range d.keys {
		raw, set := props[k.Name]
		var v any
		switch {
		case set:
			pv, err := ParseConfigValue(k.Name, raw, k.Type)
			if err != nil {
				errs = append(errs, asConfigError(k.Name, err))
				continue
			}
			v = pv
		case k.Required:
			errs = append(errs, missing(k.Name))
			continue
		default:
			v = k.Default
		}
		if k.Validator != nil {
			if err := k.Validator.Validate(k.Name, v); err != nil {
				errs = append(errs, asConfigError(k.Name, err))
				continue
			}
		}
		c.values[k.Name] = v
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// UnknownKeys returns the keys of props that d does not define, sorted.
// Connect passes such keys through to the connector; callers may warn.
func (d *ConfigDef) UnknownKeys(props map[string]string) []string {
	var out []string
	for k := range props {
		if _, ok := d.index[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func missing(name string) *ConfigError {
	return &ConfigError{Name: name, Message: `Missing required configuration "` + name + `" which has no default value.`}
}

func asConfigError(name string, err error) *ConfigError {
	if ce, ok := err.(*ConfigError); ok {
		return ce
	}
	return &ConfigError{Name: name, Message: err.Error()}
}

// Get returns the parsed value of name (nil for a null default). It panics
// if name is not defined: that is a bug in the caller.
func (c *Config) Get(name string) any {
	v, ok := c.values[name]
	if !ok {
		if _, defined := c.def.index[name]; !defined {
			panic(fmt.Errorf("%w: %q is not defined", ErrInvalidConfig, name))
		}
	}
	return v
}

func get[T any](c *Config, name string) T {
	v := c.Get(name)
	if v == nil {
		var zero T
		return zero
	}
	t, ok := v.(T)
	if !ok {
		panic(fmt.Errorf("%w: %q is a %T, not a %T", ErrInvalidConfig, name, v, t))
	}
	return t
}

// Bool returns a BOOLEAN value.
func (c *Config) Bool(name string) bool { return get[bool](c, name) }

// String returns a STRING or CLASS value ("" for null).
func (c *Config) String(name string) string { return get[string](c, name) }

// Int returns an INT value.
func (c *Config) Int(name string) int { return int(get[int32](c, name)) }

// Short returns a SHORT value.
func (c *Config) Short(name string) int16 { return get[int16](c, name) }

// Long returns a LONG value.
func (c *Config) Long(name string) int64 { return get[int64](c, name) }

// Double returns a DOUBLE value.
func (c *Config) Double(name string) float64 { return get[float64](c, name) }

// List returns a LIST value (nil for null).
func (c *Config) List(name string) []string { return get[[]string](c, name) }

// Password returns a PASSWORD value.
func (c *Config) Password(name string) Password { return get[Password](c, name) }

// IsSet reports whether name was given in the original config.
func (c *Config) IsSet(name string) bool { _, ok := c.originals[name]; return ok }

// Originals returns a copy of the configuration as given, unknown keys
// included.
func (c *Config) Originals() map[string]string { return maps.Clone(c.originals) }

// OriginalsWithPrefix returns the original keys starting with prefix,
// with the prefix removed (e.g. "key.converter." → the converter's own
// config, or "transforms.mask." → a transform's).
func (c *Config) OriginalsWithPrefix(prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range c.originals {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out
}

// ConfigValue is the validation result for one key (Kafka's ConfigValue).
type ConfigValue struct {
	Name string
	// Value is the parsed value, or nil if absent with no default, or
	// unparseable.
	Value             any
	RecommendedValues []any
	Errors            []string
	Visible           bool
}

// Validate checks props against d for REST /config/validate, returning one
// ConfigValue per defined key, in definition order, each with all its
// errors. It follows Kafka's ConfigDef.validateAll: a missing required key
// or an unparseable value is reported, and the validator still runs on the
// resulting null, as Kafka's does; recommenders then see every parsed
// value.
func (d *ConfigDef) Validate(props map[string]string) []ConfigValue {
	out := make([]ConfigValue, len(d.keys))
	parsed := make(map[string]any, len(d.keys))
	for i, k := range d.keys {
		cv := ConfigValue{Name: k.Name, Visible: true, Errors: []string{}, RecommendedValues: []any{}}
		var v any
		if raw, set := props[k.Name]; set {
			pv, err := ParseConfigValue(k.Name, raw, k.Type)
			if err != nil {
				cv.Errors = append(cv.Errors, err.Error())
			} else {
				v = pv
			}
		} else if k.Required {
			cv.Errors = append(cv.Errors, missing(k.Name).Message)
		} else {
			v = k.Default
		}
		if k.Validator != nil {
			if err := k.Validator.Validate(k.Name, v); err != nil {
				cv.Errors = append(cv.Errors, err.Error())
			}
		}
		cv.Value = v
		parsed[k.Name] = v
		out[i] = cv
	}
	for i, k := range d.keys {
		if k.Recommender != nil {
			out[i].RecommendedValues = append([]any{}, k.Recommender.ValidValues(k.Name, parsed)...)
			out[i].Visible = k.Recommender.Visible(k.Name, parsed)
		}
	}
	return out
}

// MergeConfigValues merges extra results (e.g. from a connector's
// ValidateConfig, or ValidateSinkTopics) into base by name: errors are
// appended, a non-nil Value and non-empty RecommendedValues replace;
// entries for names not in base are appended.
func MergeConfigValues(base []ConfigValue, extra ...ConfigValue) []ConfigValue {
	out := slices.Clone(base)
	for _, e := range extra {
		i := slices.IndexFunc(out, func(c ConfigValue) bool { return c.Name == e.Name })
		if i < 0 {
			if e.Errors == nil {
				e.Errors = []string{}
			}
			out = append(out, e)
			continue
		}
		out[i].Errors = append(slices.Clone(out[i].Errors), e.Errors...)
		if e.Value != nil {
			out[i].Value = e.Value
		}
		if len(e.RecommendedValues) > 0 {
			out[i].RecommendedValues = e.RecommendedValues
		}
	}
	return out
}
