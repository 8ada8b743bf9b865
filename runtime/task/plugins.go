package task

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/convert"
)

// This file resolves the plugins a task uses (converters, the transform
// chain) from class names.

// converters are a task's key, value and header converters, with the class
// names the DLQ and error log report.
type converters struct {
	key, value                     convert.Converter
	header                         convert.HeaderConverter
	keyClass, valueClass, hdrClass string
}

// newConverters builds the converters of a connector: its own
// key.converter / value.converter / header.converter with their nested
// properties when set, otherwise the worker's classes with the worker's
// properties (Kafka's Plugins.newConverter: a connector that does not set
// the class does not get its nested properties applied either).
func newConverters(cc map[string]string, s Settings) (*converters, error) {
	pick := func(key, workerClass string) (class string, props map[string]string) {
		if c := strings.TrimSpace(cc[key]); c != "" {
			return c, withPrefix(cc, key+".")
		}
		return workerClass, withPrefix(s.ConverterConfigs, key+".")
	}
	out := &converters{}
	var errs []error
	class, props := pick(connectors.KeyKeyConverter, s.KeyConverter)
	out.keyClass = class
	if c, err := newConverter(class, props, true); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", connectors.KeyKeyConverter, err))
	} else {
		out.key = c
	}
	class, props = pick(connectors.KeyValueConverter, s.ValueConverter)
	out.valueClass = class
	if c, err := newConverter(class, props, false); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", connectors.KeyValueConverter, err))
	} else {
		out.value = c
	}
	class, props = pick(connectors.KeyHeaderConverter, s.HeaderConverter)
	out.hdrClass = class
	if c, err := newHeaderConverter(class, props); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", connectors.KeyHeaderConverter, err))
	} else {
		out.header = c
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return out, nil
}

func withPrefix(m map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			out[k[len(prefix):]] = v
		}
	}
	return out
}

// builtinConverters are the converters of package convert by Kafka class
// name and short name.
var builtinConverters = map[string]func() any{
	"org.apache.kafka.connect.json.JsonConverter":            func() any { return convert.NewJSONConverter() },
	"JsonConverter":                                          func() any { return convert.NewJSONConverter() },
	"org.apache.kafka.connect.storage.StringConverter":       func() any { return convert.NewStringConverter() },
	"StringConverter":                                        func() any { return convert.NewStringConverter() },
	"org.apache.kafka.connect.converters.ByteArrayConverter": func() any { return &convert.ByteArrayConverter{} },
	"ByteArrayConverter":                                     func() any { return &convert.ByteArrayConverter{} },
	"org.apache.kafka.connect.storage.SimpleHeaderConverter": func() any { return &convert.SimpleHeaderConverter{} },
	"SimpleHeaderConverter":                                  func() any { return &convert.SimpleHeaderConverter{} },
}

// lookupPlugin returns a new instance of the plugin named class.
func lookupPlugin(class string) (any, error) {
	if mk, ok := builtinConverters[class]; ok {
		return mk(), nil
	}
	return nil, fmt.Errorf("%w: Failed to find any class that implements Converter and which name matches %s", connectors.ErrInvalidConfig, class)
}

func newConverter(class string, props map[string]string, isKey bool) (convert.Converter, error) {
	p, err := lookupPlugin(class)
	if err != nil {
		return nil, err
	}
	c, ok := p.(convert.Converter)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a Converter", connectors.ErrInvalidConfig, class)
	}
	if err := c.Configure(props, isKey); err != nil {
		return nil, err
	}
	return c, nil
}

func newHeaderConverter(class string, props map[string]string) (convert.HeaderConverter, error) {
	p, err := lookupPlugin(class)
	if err != nil {
		return nil, err
	}
	var hc convert.HeaderConverter
	switch c := p.(type) {
	case convert.HeaderConverter:
		hc = c
	case convert.Converter:
		hc = convert.AsHeaderConverter(c)
	default:
		return nil, fmt.Errorf("%w: %s is not a HeaderConverter", connectors.ErrInvalidConfig, class)
	}
	if err := hc.Configure(props); err != nil {
		return nil, err
	}
	return hc, nil
}

// chain is what a task needs of a transformation chain (transforms.Chain).
type chain interface {
	// Apply transforms r; false drops it.
	Apply(r connectors.Record) (connectors.Record, bool, error)
	Close()
}

// newChain builds the connector's transformation chain, or nil when it has
// none.
func newChain(cc map[string]string) (chain, error) {
	if strings.TrimSpace(cc[connectors.KeyTransforms]) == "" {
		return nil, nil
	}
	// TODO(transforms): transforms.NewChain once it lands.
	return nil, fmt.Errorf("%w: transforms are not available in this build", connectors.ErrInvalidConfig)
}

func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	var b strings.Builder
	for i, e := range errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return &joined{msg: b.String(), errs: errs}
}

type joined struct {
	msg  string
	errs []error
}

func (j *joined) Error() string   { return j.msg }
func (j *joined) Unwrap() []error { return j.errs }
