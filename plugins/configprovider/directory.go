package configprovider

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Directory is Kafka's DirectoryConfigProvider: path names a directory,
// each key a regular file in it (symbolic links followed), and the value
// is the file's whole content, unchanged. This is the layout of Docker and
// Kubernetes secret mounts: ${directory:/run/secrets:db-password}.
//
// Params: allowed.paths.
type Directory struct {
	allowed allowedPaths
}

// Configure reads allowed.paths.
func (p *Directory) Configure(params map[string]string) error {
	a, err := parseAllowedPaths(params[KeyAllowedPaths])
	if err != nil {
		return err
	}
	p.allowed = a
	return nil
}

// Get reads the files named keys in the directory path (every regular
// file if no keys are given). An empty path returns nothing, as in Kafka;
// a path that is not a directory is an error.
func (p *Directory) Get(path string, keys ...string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	dir, err := p.allowed.check(path)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("configprovider: could not list directory %s: %w", path, err)
	}
	for _, e := range entries {
		name := e.Name()
		if len(keys) > 0 && !slices.Contains(keys, name) {
			continue
		}
		full := filepath.Join(dir, name)
		if fi, err := os.Stat(full); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(full)
		if err != nil {
			return nil, fmt.Errorf("configprovider: could not read file %s: %w", full, err)
		}
		out[name] = string(b)
	}
	return out, nil
}

// Close does nothing.
func (p *Directory) Close() error { return nil }
