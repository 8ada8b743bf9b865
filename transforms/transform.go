package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

// Transformation is Kafka Connect's Transformation<R>: a single message
// transform (SMT) that changes, reroutes or drops one record at a time.
//
// Call order: Config may be called at any time, also before Configure
// (the REST layer reads it from a fresh instance). Configure is called
// once, before the first Apply; Close once, after the last. A
// Transformation that failed to configure is discarded without Close.
//
// Concurrency: after Configure returns, Apply is safe for concurrent use
// (the built-ins keep only synchronised caches); Configure and Close must
// not run concurrently with anything else.
type Transformation interface {
	// Config returns the definition of the transform's own keys (without
	// the "transforms.<alias>." prefix and without the chain's implicit
	// predicate and negate keys), for validation and REST. The returned
	// definition is shared and must not be modified.
	Config() *connectors.ConfigDef

	// Configure parses config (the keys of Config, prefix stripped) and
	// prepares the transform. It reports every problem at once as
	// connectors.ConfigErrors, each naming the key, with Kafka's wording
	// where Kafka has one; the result matches connectors.ErrInvalidConfig.
	Configure(config map[string]string) error

	// Apply transforms r. It returns the transformed record and true, or
	// false to drop the record (Filter, or a Debezium tombstone). It must
	// not modify r's maps, slices, structs or headers: it copies what it
	// changes. A record it cannot handle is an error matching
	// connectors.ErrData (a *connectors.DataError), which the runtime
	// treats as a per-record failure subject to errors.tolerance.
	Apply(r connectors.Record) (connectors.Record, bool, error)

	// Close releases the transform's resources. The built-ins hold none
	// beyond caches and always return nil.
	Close() error
}

// Predicate is Kafka Connect's Predicate<R> (KIP-585): a condition on a
// record that decides whether a transformation in the chain applies. Its
// call order and concurrency rules are those of Transformation.
type Predicate interface {
	// Config returns the definition of the predicate's keys (without the
	// "predicates.<alias>." prefix). It is shared and must not be modified.
	Config() *connectors.ConfigDef
	// Configure parses config and reports every problem at once, like
	// Transformation.Configure.
	Configure(config map[string]string) error
	// Test reports whether r satisfies the predicate. It must not modify r.
	Test(r connectors.Record) bool
	// Close releases the predicate's resources.
	Close() error
}

// Plugin describes one built-in transform variant or predicate for the
// plugin registry and for REST (/connector-plugins?connectorsOnly=false).
type Plugin struct {
	// Class is Kafka's (or Debezium's) fully qualified class name, e.g.
	// "org.apache.kafka.connect.transforms.InsertField$Value". Each $Key
	// and $Value variant is a Plugin of its own, as in Kafka.
	Class string
	// Aliases are the short names that resolve to Class, e.g.
	// "InsertField$Value" and "insert-field-value" (see Builtins).
	Aliases []string
	// Predicate is true for predicates, false for transformations.
	Predicate bool
	// New returns a new, unconfigured instance: a Transformation, or a
	// Predicate when Predicate is set.
	New func() any
	// Doc is the plugin's overview, as shown in Kafka's documentation.
	Doc string
	// Version is the version REST reports for the plugin: the Kafka or
	// Debezium release whose behaviour it reproduces.
	Version string
}

// Lookup resolves a class name or alias to a Plugin, as the plugin
// registry does. NewChain and ValidateChain take one so that third-party
// plugins registered elsewhere resolve exactly like the built-ins.
type Lookup func(class string) (Plugin, bool)

// BuiltinLookup resolves the built-ins of this package by class name or
// alias, for callers that have no registry (tests, tools).
func BuiltinLookup(class string) (Plugin, bool) {
	p, ok := builtinIndex()[class]
	return p, ok
}
