package transforms

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// dataErrorf returns a *connectors.DataError (matching connectors.ErrData)
// with Kafka's wording, the Go equivalent of DataException.
func dataErrorf(format string, a ...any) error {
	return &connectors.DataError{Msg: fmt.Sprintf(format, a...)}
}

// typeName renders the type of v for error messages, as Kafka prints the
// Java class ("null" for nil).
func typeName(v any) string {
	if connectors.IsNull(v) {
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// configErrors collects ConfigErrors while configuring a transform.
type configErrors connectors.ConfigErrors

// add appends "Invalid value <value> for configuration <name>: <reason>".
func (e *configErrors) add(name string, value any, reason string) {
	*e = append(*e, connectors.NewConfigError(name, value, reason))
}

// addMsg appends an error for name with a free-form message.
func (e *configErrors) addMsg(name, msg string) {
	*e = append(*e, &connectors.ConfigError{Name: name, Message: msg})
}

// err returns nil or the collected errors as connectors.ConfigErrors.
func (e configErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	return connectors.ConfigErrors(e)
}

// parseConfig parses props against def, returning the parsed config or
// the errors; the common first step of every Configure.
func parseConfig(def *connectors.ConfigDef, props map[string]string) (*connectors.Config, error) {
	return def.Parse(props)
}

// prefixConfigError rewrites an error from a transform's Configure so that
// it names the full connector-level key, e.g. "regex" of alias "route"
// becomes "transforms.route.regex".
func prefixConfigError(prefix string, ce *connectors.ConfigError) *connectors.ConfigError {
	full := prefix + ce.Name
	msg := ce.Message
	switch {
	case ce.Name != "" && strings.Contains(msg, full):
		// Already names the full key.
	case ce.Name == "":
		msg = "Invalid configuration " + strings.TrimSuffix(prefix, ".") + ": " + msg
	case strings.Contains(msg, "configuration "+ce.Name):
		msg = strings.Replace(msg, "configuration "+ce.Name, "configuration "+full, 1)
	case strings.Contains(msg, `"`+ce.Name+`"`):
		msg = strings.Replace(msg, `"`+ce.Name+`"`, `"`+full+`"`, 1)
	default:
		msg = "Invalid configuration " + full + ": " + msg
	}
	return &connectors.ConfigError{Name: full, Message: msg}
}

// asConfigErrors flattens err into ConfigErrors: a ConfigErrors as is, a
// single *ConfigError, or any other error as one error named name.
func asConfigErrors(name string, err error) connectors.ConfigErrors {
	var ces connectors.ConfigErrors
	if errors.As(err, &ces) {
		return ces
	}
	var ce *connectors.ConfigError
	if errors.As(err, &ce) {
		return connectors.ConfigErrors{ce}
	}
	return connectors.ConfigErrors{{Name: name, Message: err.Error()}}
}
