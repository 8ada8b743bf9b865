package configprovider

import (
	"errors"
	"fmt"
	"strings"
)

// Worker config keys that enable providers (Kafka's AbstractConfig).
const (
	// KeyConfigProviders lists provider names, e.g. "file,env".
	KeyConfigProviders = "config.providers"
	// PrefixConfigProviders starts config.providers.<name>.class and
	// config.providers.<name>.param.<param>.
	PrefixConfigProviders = "config.providers."
)

// FromWorkerConfig builds the providers a worker config enables:
// config.providers=a,b names them, config.providers.<name>.class gives
// each one's class (resolved by newProvider, typically the plugin
// registry, which knows Kafka's class names and Sluice aliases), and
// config.providers.<name>.param.* are passed to its Configure with the
// prefix removed. Unlike Kafka, which skips a provider without a class, a
// missing class is an error (ErrNoClass). On error every provider already
// built is closed. The caller closes the result.
func FromWorkerConfig(props map[string]string, newProvider func(class string) (ConfigProvider, error)) (map[string]ConfigProvider, error) {
	out := map[string]ConfigProvider{}
	closeAll := func() {
		for _, p := range out {
			_ = p.Close() // the configure error is what matters
		}
	}
	for _, name := range strings.Split(props[KeyConfigProviders], ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, dup := out[name]; dup {
			continue
		}
		classKey := PrefixConfigProviders + name + ".class"
		class := strings.TrimSpace(props[classKey])
		if class == "" {
			closeAll()
			return nil, fmt.Errorf("%w: %s names provider %q but %s is not set", ErrNoClass, KeyConfigProviders, name, classKey)
		}
		p, err := newProvider(class)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", classKey, err)
		}
		paramPrefix := PrefixConfigProviders + name + ".param."
		params := map[string]string{}
		for k, v := range props {
			if rest, ok := strings.CutPrefix(k, paramPrefix); ok {
				params[rest] = v
			}
		}
		if err := p.Configure(params); err != nil {
			closeAll()
			_ = p.Close()
			return nil, fmt.Errorf("config provider %s (%s): %w", name, class, err)
		}
		out[name] = p
	}
	return out, nil
}

// CloseAll closes every provider and returns the errors joined.
func CloseAll(providers map[string]ConfigProvider) error {
	var errs []error
	for name, p := range providers {
		if err := p.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close config provider %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// NewBuiltin returns a new built-in provider by Kafka class name or simple
// class name (FileConfigProvider), for callers without a plugin registry.
func NewBuiltin(class string) (ConfigProvider, error) {
	for _, b := range Builtins() {
		if class == b.Class || class == b.Class[strings.LastIndexByte(b.Class, '.')+1:] {
			return b.New(), nil
		}
	}
	return nil, fmt.Errorf("configprovider: unknown config provider class %s", class)
}
