package configprovider

import (
	"os"
	"regexp"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// KeyAllowlistPattern is the EnvVarConfigProvider param restricting which
// environment variables may be read.
const KeyAllowlistPattern = "allowlist.pattern"

func envVarDef() *connectors.ConfigDef {
	return connectors.NewConfigDef().Define(connectors.ConfigKey{
		Name: KeyAllowlistPattern, Type: connectors.ConfigString, Default: ".*", Validator: connectors.Regex(),
		Importance: connectors.ImportanceMedium,
		Doc:        "A regular expression that the whole name of an environment variable must match for this provider to return it. Default: every variable.",
	})
}

// EnvVar is Kafka's EnvVarConfigProvider (KIP-887): ${env:NAME} is the
// value of the environment variable NAME. Paths are not supported.
//
// Params: allowlist.pattern, a regular expression (RE2 syntax) that must
// match the whole variable name; default ".*".
type EnvVar struct {
	allow *regexp.Regexp
	// lookup and environ read the environment; tests replace them.
	lookup  func(string) (string, bool)
	environ func() []string
}

// Configure reads allowlist.pattern.
func (p *EnvVar) Configure(params map[string]string) error {
	pat, ok := params[KeyAllowlistPattern]
	if !ok {
		pat = ".*"
	}
	re, err := regexp.Compile("^(?:" + pat + ")$")
	if err != nil {
		return connectors.NewConfigError(KeyAllowlistPattern, pat, "Invalid regex: "+err.Error())
	}
	p.allow = re
	return nil
}

// Get returns the allowed variables among keys (all allowed variables if
// none are given). A non-empty path is an error, as in Kafka.
func (p *EnvVar) Get(path string, keys ...string) (map[string]string, error) {
	if path != "" {
		return nil, &unsupportedPathError{path: path}
	}
	lookup, environ := p.lookup, p.environ
	if lookup == nil {
		lookup, environ = os.LookupEnv, os.Environ
	}
	allowed := func(k string) bool { return p.allow == nil || p.allow.MatchString(k) }
	out := map[string]string{}
	if len(keys) == 0 {
		for _, kv := range environ() {
			if k, v, ok := strings.Cut(kv, "="); ok && allowed(k) {
				out[k] = v
			}
		}
		return out, nil
	}
	for _, k := range keys {
		if !allowed(k) {
			continue
		}
		if v, ok := lookup(k); ok {
			out[k] = v
		}
	}
	return out, nil
}

// Close does nothing.
func (p *EnvVar) Close() error { return nil }

type unsupportedPathError struct{ path string }

// Error uses Kafka's wording.
func (e *unsupportedPathError) Error() string {
	return "configprovider: path is not supported for EnvVarConfigProvider, invalid value '" + e.path + "'"
}

// Is reports whether target is ErrUnsupportedPath.
func (e *unsupportedPathError) Is(target error) bool { return target == ErrUnsupportedPath }
