package configprovider

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// KeyAllowedPaths is the param (Kafka 3.8+, KIP-993) restricting the file
// and directory providers to some directories.
const KeyAllowedPaths = "allowed.paths"

func allowedPathsDef() *connectors.ConfigDef {
	return connectors.NewConfigDef().Define(connectors.ConfigKey{
		Name: KeyAllowedPaths, Type: connectors.ConfigString, Default: "",
		Importance: connectors.ImportanceMedium,
		Doc:        "A comma-separated list of absolute, existing paths this provider may read below. Empty (the default) allows every path.",
	})
}

// allowedPaths is Kafka's AllowedPaths: nil allows everything.
type allowedPaths []string

// parseAllowedPaths checks each entry is absolute and exists, as Kafka.
func parseAllowedPaths(v string) (allowedPaths, error) {
	if v == "" {
		return nil, nil
	}
	var out allowedPaths
	for _, p := range strings.Split(v, ",") {
		clean := filepath.Clean(p)
		if _, err := os.Stat(clean); err != nil || !filepath.IsAbs(clean) {
			return nil, connectors.NewConfigError(KeyAllowedPaths, p, "Path needs to be absolute and exist")
		}
		out = append(out, clean)
	}
	return out, nil
}

// check returns the path to open, or ErrPathNotAllowed.
func (a allowedPaths) check(path string) (string, error) {
	if a == nil {
		return path, nil
	}
	clean := filepath.Clean(path)
	for _, dir := range a {
		if rel, err := filepath.Rel(dir, clean); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return clean, nil
		}
	}
	return "", &pathError{path: path}
}

type pathError struct{ path string }

// Error names the path and allowed.paths.
func (e *pathError) Error() string {
	return "configprovider: the path " + e.path + " is not allowed to be accessed (" + KeyAllowedPaths + ")"
}

// Is reports whether target is ErrPathNotAllowed.
func (e *pathError) Is(target error) bool { return target == ErrPathNotAllowed }
