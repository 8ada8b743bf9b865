package configprovider

import (
	"github.com/sluicedata/sluice/connectors"
)

// Kafka class names of the built-in providers.
const (
	FileClass      = "org.apache.kafka.common.config.provider.FileConfigProvider"
	DirectoryClass = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
	EnvVarClass    = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
)

// ConfigProvider fetches configuration values from somewhere outside the
// config (Kafka's org.apache.kafka.common.config.provider.ConfigProvider).
//
// Configure is called once, before any Get, with the provider's params
// (the worker's config.providers.<name>.param.* keys, prefix removed).
// Get may then be called from several goroutines at once. Close is
// called once, after the last Get.
type ConfigProvider interface {
	// Configure configures the provider. Invalid params are reported as
	// errors matching connectors.ErrInvalidConfig.
	Configure(params map[string]string) error
	// Get returns the values of keys at path; with no keys, every value at
	// path. Keys that do not exist are absent from the result (not an
	// error); a path that cannot be read is an error.
	Get(path string, keys ...string) (map[string]string, error)
	// Close releases the provider's resources.
	Close() error
}

// Builtin describes a built-in provider, for the plugin registry.
type Builtin struct {
	// Class is Kafka's class name.
	Class string
	// New returns a new, unconfigured provider.
	New func() ConfigProvider
	// Config is the provider's params definition.
	Config func() *connectors.ConfigDef
}

// Builtins returns the built-in providers: file, directory and env.
func Builtins() []Builtin {
	return []Builtin{
		{Class: DirectoryClass, New: func() ConfigProvider { return new(Directory) }, Config: allowedPathsDef},
		{Class: EnvVarClass, New: func() ConfigProvider { return new(EnvVar) }, Config: envVarDef},
		{Class: FileClass, New: func() ConfigProvider { return new(File) }, Config: allowedPathsDef},
	}
}

// Compile-time checks.
var (
	_ ConfigProvider = (*File)(nil)
	_ ConfigProvider = (*Directory)(nil)
	_ ConfigProvider = (*EnvVar)(nil)
)
