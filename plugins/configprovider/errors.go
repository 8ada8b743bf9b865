package configprovider

import (
	"errors"
	"strings"
)

// Sentinel errors.
var (
	// ErrKeyNotFound: a placeholder's key is not provided at its path.
	// *MissingKeysError matches it.
	ErrKeyNotFound = errors.New("configprovider: key not found")

	// ErrPathNotAllowed: a path lies outside the provider's allowed.paths.
	ErrPathNotAllowed = errors.New("configprovider: path not allowed")

	// ErrUnsupportedPath: the provider does not take a path (env).
	ErrUnsupportedPath = errors.New("configprovider: path not supported")

	// ErrNoClass: config.providers names a provider without a
	// config.providers.<name>.class.
	ErrNoClass = errors.New("configprovider: provider class not set")
)

// Placeholder is one ${provider:path:key} reference found in a config.
type Placeholder struct {
	// ConfigKey is the config key whose value holds the placeholder.
	ConfigKey string
	// Text is the placeholder as written, e.g. "${env:DB_PASSWORD}".
	Text string
	// Provider, Path and Key are its parts; Path is "" for ${provider:key}.
	Provider, Path, Key string
}

// MissingKeysError lists every placeholder whose provider returned no
// value for its key. It matches ErrKeyNotFound and never contains a value.
type MissingKeysError struct {
	Missing []Placeholder
}

// Error names each config key and placeholder.
func (e *MissingKeysError) Error() string {
	var b strings.Builder
	b.WriteString("configprovider: ")
	for i, p := range e.Missing {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString("config ")
		b.WriteString(p.ConfigKey)
		b.WriteString(": ")
		b.WriteString(p.Text)
		b.WriteString(": key ")
		b.WriteString(p.Key)
		b.WriteString(" not found")
		if p.Path != "" {
			b.WriteString(" in ")
			b.WriteString(p.Path)
		}
		b.WriteString(" by provider ")
		b.WriteString(p.Provider)
	}
	return b.String()
}

// Is reports whether target is ErrKeyNotFound.
func (e *MissingKeysError) Is(target error) bool { return target == ErrKeyNotFound }
