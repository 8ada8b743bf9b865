package configprovider

import (
	"fmt"

	"github.com/sluicedata/sluice/internal/properties"
)

// File is Kafka's FileConfigProvider: path names a Java .properties file
// and each key one of its properties, e.g.
// ${file:/etc/kafka/secrets.properties:db.password}. The file is read on
// every Get, so rotated secrets are picked up when a connector restarts.
//
// Params: allowed.paths.
type File struct {
	allowed allowedPaths
}

// Configure reads allowed.paths.
func (p *File) Configure(params map[string]string) error {
	a, err := parseAllowedPaths(params[KeyAllowedPaths])
	if err != nil {
		return err
	}
	p.allowed = a
	return nil
}

// Get reads the properties file at path and returns keys (all of them if
// none are given). An empty path returns nothing, as in Kafka.
func (p *File) Get(path string, keys ...string) (map[string]string, error) {
	if path == "" {
		return map[string]string{}, nil
	}
	clean, err := p.allowed.check(path)
	if err != nil {
		return nil, err
	}
	all, err := properties.ReadFile(clean)
	if err != nil {
		// The properties reader's errors name the file and line only.
		return nil, fmt.Errorf("configprovider: could not read properties from file %s: %w", path, err)
	}
	if len(keys) == 0 {
		return all, nil
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// Close does nothing.
func (p *File) Close() error { return nil }
