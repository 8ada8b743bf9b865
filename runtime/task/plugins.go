package task

import (
	"fmt"
	"strings"
	"sync"

	"github.com/sluicedata/sluice/plugins"
	"github.com/sluicedata/sluice/transforms"

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
func newConverters(reg *plugins.Registry, cc map[string]string, s Settings) (*converters, error) {
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
	if c, err := newConverter(reg, class, props, true); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", connectors.KeyKeyConverter, err))
	} else {
		out.key = c
	}
	class, props = pick(connectors.KeyValueConverter, s.ValueConverter)
	out.valueClass = class
	if c, err := newConverter(reg, class, props, false); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", connectors.KeyValueConverter, err))
	} else {
		out.value = c
	}
	class, props = pick(connectors.KeyHeaderConverter, s.HeaderConverter)
	out.hdrClass = class
	if c, err := newHeaderConverter(reg, class, props); err != nil {
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

// builtinRegistry is used when Env.Registry is nil (tools, tests).
var builtinRegistry = sync.OnceValue(plugins.Builtin)

func newConverter(reg *plugins.Registry, class string, props map[string]string, isKey bool) (convert.Converter, error) {
	c, err := reg.NewConverter(class)
	if err != nil {
		return nil, err
	}
	if err := c.Configure(props, isKey); err != nil {
		return nil, err
	}
	return c, nil
}

func newHeaderConverter(reg *plugins.Registry, class string, props map[string]string) (convert.HeaderConverter, error) {
	c, err := reg.NewHeaderConverter(class)
	if err != nil {
		return nil, err
	}
	if err := c.Configure(props); err != nil {
		return nil, err
	}
	return c, nil
}

// chain is what a task needs of a transformation chain (transforms.Chain).
type chain interface {
	// Apply transforms r; false drops it.
	Apply(r connectors.Record) (connectors.Record, bool, error)
	Close()
}

// newChain builds the connector's transformation chain, or nil when it has
// none; transforms and predicates resolve through the registry.
func newChain(reg *plugins.Registry, cc map[string]string) (chain, error) {
	if strings.TrimSpace(cc[connectors.KeyTransforms]) == "" {
		return nil, nil
	}
	c, err := transforms.NewChain(cc, func(class string) (transforms.Plugin, bool) {
		p, err := reg.Lookup(class, plugins.KindTransformation, plugins.KindPredicate)
		if err != nil {
			return transforms.Plugin{}, false
		}
		return transforms.Plugin{Class: p.Class, Aliases: p.Aliases, Predicate: p.Kind == plugins.KindPredicate,
			New: p.New, Doc: p.Doc, Version: p.Version}, true
	})
	if err != nil {
		return nil, err
	}
	return chainAdapter{c}, nil
}

// chainAdapter drops the error of transforms.Chain.Close, which is
// nothing a stopping task could act on.
type chainAdapter struct{ c *transforms.Chain }

func (a chainAdapter) Apply(r connectors.Record) (connectors.Record, bool, error) {
	return a.c.Apply(r)
}
func (a chainAdapter) Close() { _ = a.c.Close() }

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
