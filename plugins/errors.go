package plugins

import (
	"errors"
	"strings"
)

// Sentinel errors.
var (
	// ErrNotFound: no plugin of the requested kinds has the name.
	// *NotFoundError matches it.
	ErrNotFound = errors.New("plugins: not found")
	// ErrDuplicate: Register was given a class (for the same kind) or an
	// alias that is already taken.
	ErrDuplicate = errors.New("plugins: duplicate plugin name")
	// ErrInvalidPlugin: Register was given a plugin without a class, a
	// valid kind or a constructor.
	ErrInvalidPlugin = errors.New("plugins: invalid plugin")
	// ErrJavaPlugin: plugin.path holds a Java plugin, which Sluice cannot
	// run. *JavaPluginError matches it.
	ErrJavaPlugin = errors.New("plugins: Java plugins cannot run in Sluice")
)

// NotFoundError is a failed Lookup. Its message has the shape of Kafka's
// "Failed to find any class that implements Connector and which name
// matches X, available connectors are: PluginDesc{…}, …".
type NotFoundError struct {
	// Name is the name looked up.
	Name string
	// Kinds are the kinds asked for (none: any).
	Kinds []Kind
	// Available are the registered plugins of those kinds.
	Available []Plugin
}

// Error returns Kafka's wording.
func (e *NotFoundError) Error() string {
	iface, plural := describeKinds(e.Kinds)
	var b strings.Builder
	b.WriteString("Failed to find any class that implements ")
	b.WriteString(iface)
	b.WriteString(" and which name matches ")
	b.WriteString(e.Name)
	b.WriteString(", available ")
	b.WriteString(plural)
	b.WriteString(" are: ")
	for i, p := range e.Available {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Desc())
	}
	return b.String()
}

// Is reports whether target is ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// describeKinds names the interface and the plural for a message, as
// Kafka does ("Connector", "connectors").
func describeKinds(kinds []Kind) (string, string) {
	connectorsOnly := len(kinds) > 0
	for _, k := range kinds {
		if k != KindSource && k != KindSink {
			connectorsOnly = false
		}
	}
	switch {
	case connectorsOnly:
		return "Connector", "connectors"
	case len(kinds) == 1:
		return kinds[0].javaInterface(), kinds[0].plural()
	}
	return "a plugin interface", "plugins"
}

// JavaPluginError reports a Java plugin found on plugin.path. It matches
// ErrJavaPlugin.
type JavaPluginError struct {
	// Path is the jar, zip or plugin directory.
	Path string
	// Equivalents are class names of built-ins that do what the Java
	// plugin does, when Sluice recognises it.
	Equivalents []string
	// Builtins lists the built-in connector classes, for the message when
	// there is no known equivalent.
	Builtins []string
}

// Error says the plugin cannot run and what to use instead.
func (e *JavaPluginError) Error() string {
	msg := "plugin.path: " + e.Path + ": Java plugins cannot run in Sluice; "
	if len(e.Equivalents) > 0 {
		return msg + "built-in equivalents: " + strings.Join(e.Equivalents, ", ")
	}
	return msg + "no built-in equivalent is known; built-in connectors: " + strings.Join(e.Builtins, ", ")
}

// Is reports whether target is ErrJavaPlugin.
func (e *JavaPluginError) Is(target error) bool { return target == ErrJavaPlugin }
