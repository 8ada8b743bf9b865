package connectors

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Validator checks a parsed configuration value (Kafka's
// ConfigDef.Validator). value has the Go type of the key's ConfigType, or
// is nil when the key is absent with a null default, or failed to parse
// (in Validate, as Kafka does).
type Validator interface {
	// Validate returns a *ConfigError (see NewConfigError) if value is not
	// acceptable for the key name.
	Validate(name string, value any) error
	// String describes the accepted values for documentation, e.g.
	// "[1,...]".
	String() string
}

// Recommender suggests values for a key and whether it applies, given the
// other parsed values (Kafka's ConfigDef.Recommender). Used only by
// Validate, for UIs.
type Recommender interface {
	ValidValues(name string, parsed map[string]any) []any
	Visible(name string, parsed map[string]any) bool
}

// ValidatorFunc adapts a function to Validator; Desc is its description.
type ValidatorFunc struct {
	Desc string
	Fn   func(name string, value any) error
}

// Validate calls Fn.
func (f ValidatorFunc) Validate(name string, value any) error { return f.Fn(name, value) }

// String returns Desc.
func (f ValidatorFunc) String() string { return f.Desc }

// rangeValidator is Kafka's ConfigDef.Range.
type rangeValidator struct {
	min, max       float64
	hasMin, hasMax bool
	minS, maxS     string
}

// AtLeast accepts numbers >= min ("Value must be at least min"). min is
// any Go integer or float.
func AtLeast(min any) Validator {
	return rangeValidator{min: toFloat(min), hasMin: true, minS: FormatConfigValue(min)}
}

// Between accepts numbers in [min, max].
func Between(min, max any) Validator {
	return rangeValidator{min: toFloat(min), max: toFloat(max), hasMin: true, hasMax: true,
		minS: FormatConfigValue(min), maxS: FormatConfigValue(max)}
}

func (r rangeValidator) Validate(name string, value any) error {
	if value == nil {
		return NewConfigError(name, nil, "Value must be non-null")
	}
	n := toFloat(value)
	if r.hasMin && n < r.min {
		return NewConfigError(name, value, "Value must be at least "+r.minS)
	}
	if r.hasMax && n > r.max {
		return NewConfigError(name, value, "Value must be no more than "+r.maxS)
	}
	return nil
}

func (r rangeValidator) String() string {
	switch {
	case !r.hasMin && !r.hasMax:
		return "[...]"
	case !r.hasMin:
		return "[...," + r.maxS + "]"
	case !r.hasMax:
		return "[" + r.minS + ",...]"
	}
	return "[" + r.minS + ",...," + r.maxS + "]"
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// OneOf accepts exactly the given strings (Kafka's ValidString): "String
// must be one of: a, b".
func OneOf(values ...string) Validator { return validString{values: values} }

type validString struct{ values []string }

func (v validString) Validate(name string, value any) error {
	s, ok := value.(string)
	if !ok || !slices.Contains(v.values, s) {
		return NewConfigError(name, value, "String must be one of: "+strings.Join(v.values, ", "))
	}
	return nil
}

func (v validString) String() string { return "[" + strings.Join(v.values, ", ") + "]" }

// OneOfIgnoreCase accepts the given strings in any case (Kafka's
// CaseInsensitiveValidString): "String must be one of (case insensitive):
// A, B".
func OneOfIgnoreCase(values ...string) Validator {
	up := make([]string, len(values))
	for i, s := range values {
		up[i] = strings.ToUpper(s)
	}
	return validStringCI{values: up}
}

type validStringCI struct{ values []string }

func (v validStringCI) Validate(name string, value any) error {
	s, ok := value.(string)
	if !ok || !slices.Contains(v.values, strings.ToUpper(s)) {
		return NewConfigError(name, value, "String must be one of (case insensitive): "+strings.Join(v.values, ", "))
	}
	return nil
}

func (v validStringCI) String() string {
	return "(case insensitive) [" + strings.Join(v.values, ", ") + "]"
}

// ListOf accepts lists whose every entry is one of values (Kafka's
// ValidList).
func ListOf(values ...string) Validator { return validList{validString{values: values}} }

type validList struct{ vs validString }

func (v validList) Validate(name string, value any) error {
	list, _ := value.([]string)
	for _, s := range list {
		if err := v.vs.Validate(name, s); err != nil {
			return err
		}
	}
	return nil
}

func (v validList) String() string { return v.vs.String() }

// NonEmptyString rejects "" ("String must be non-empty"); null passes.
func NonEmptyString() Validator { return nonEmptyString{} }

type nonEmptyString struct{}

func (nonEmptyString) Validate(name string, value any) error {
	if s, ok := value.(string); ok && s == "" {
		return NewConfigError(name, value, "String must be non-empty")
	}
	return nil
}

func (nonEmptyString) String() string { return "non-empty string" }

// NonEmptyStringWithoutControlChars rejects "" and strings containing ISO
// control characters, as Kafka validates connector names; null passes.
func NonEmptyStringWithoutControlChars() Validator { return nonEmptyNoControl{} }

type nonEmptyNoControl struct{}

func (nonEmptyNoControl) Validate(name string, value any) error {
	s, ok := value.(string)
	if !ok {
		return nil
	}
	if s == "" {
		return NewConfigError(name, value, "String may not be empty")
	}
	var bad []string
	for _, r := range s {
		if unicode.IsControl(r) {
			bad = append(bad, fmt.Sprint(int(r)))
		}
	}
	if len(bad) > 0 {
		return NewConfigError(name, value, "String may not contain control sequences but had the following ASCII chars: "+strings.Join(bad, ", "))
	}
	return nil
}

func (nonEmptyNoControl) String() string { return "non-empty string without ISO control characters" }

// NonNull rejects a null value ("entry must be non null").
func NonNull() Validator { return nonNull{} }

type nonNull struct{}

func (nonNull) Validate(name string, value any) error {
	if value == nil {
		return &ConfigError{Name: name, Message: "Invalid value null for configuration " + name + ": entry must be non null"}
	}
	return nil
}

func (nonNull) String() string { return "non-null string" }

// UniqueList rejects lists with duplicate entries ("Duplicate alias
// provided."), as Kafka checks transforms and predicates aliases; desc is
// e.g. "unique transformation aliases".
func UniqueList(desc string) Validator {
	return ValidatorFunc{Desc: desc, Fn: func(name string, value any) error {
		list, _ := value.([]string)
		seen := make(map[string]bool, len(list))
		for _, s := range list {
			if seen[s] {
				return NewConfigError(name, value, "Duplicate alias provided.")
			}
			seen[s] = true
		}
		return nil
	}}
}

// Regex accepts strings that compile as Go (RE2) regular expressions
// ("Invalid regex: …"). RE2 lacks Java's backreferences and lookaround.
func Regex() Validator {
	return ValidatorFunc{Desc: "valid regex", Fn: func(name string, value any) error {
		s, _ := value.(string)
		if _, err := regexp.Compile(s); err != nil {
			return NewConfigError(name, value, "Invalid regex: "+err.Error())
		}
		return nil
	}}
}

// All combines validators, checking them in order and returning the first
// error (Kafka's CompositeValidator).
func All(validators ...Validator) Validator { return composite(validators) }

type composite []Validator

func (c composite) Validate(name string, value any) error {
	for _, v := range c {
		if err := v.Validate(name, value); err != nil {
			return err
		}
	}
	return nil
}

func (c composite) String() string {
	parts := make([]string, len(c))
	for i, v := range c {
		parts[i] = v.String()
	}
	return strings.Join(parts, ", ")
}
