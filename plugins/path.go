package plugins

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// KeyPluginPath is the worker key listing plugin locations.
const KeyPluginPath = "plugin.path"

// PathReport is what a plugin.path holds, as far as Sluice is concerned.
type PathReport struct {
	// Java lists the Java plugins found, each as the error to report:
	// a .jar or .zip given directly or found directly in a listed
	// directory, or a subdirectory holding some (Kafka's plugin layout).
	Java []*JavaPluginError
	// Other lists entries that are not plugins of any kind Sluice knows;
	// they are ignored.
	Other []string
	// Errors lists locations that could not be read (missing, no
	// permission). Kafka logs these and goes on; so may the worker.
	Errors []error
}

// javaEquivalents maps a fragment of a jar or plugin directory name to
// the class-name prefix of the built-ins that replace it. Only prefixes
// with registered plugins end up in a report.
var javaEquivalents = []struct{ fragment, prefix string }{
	{"connect-file", "org.apache.kafka.connect.file."},
	{"connect-transforms", "org.apache.kafka.connect.transforms."},
	{"connect-json", "org.apache.kafka.connect.json."},
	{"datagen", "io.confluent.kafka.connect.datagen."},
	{"debezium-core", "io.debezium.transforms."},
	{"debezium-connector-postgres", "io.debezium.connector.postgresql."},
	{"debezium-connector-mongodb", "io.debezium.connector.mongodb."},
	{"kafka-connect-s3", "io.confluent.connect.s3."},
	{"kafka-connect-elasticsearch", "io.confluent.connect.elasticsearch."},
	{"kafka-connect-jdbc", "io.confluent.connect.jdbc."},
	{"debezium-connector-jdbc", "io.debezium.connector.jdbc."},
	{"mongo-kafka-connect", "com.mongodb.kafka.connect."},
}

func isArchive(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".jar" || ext == ".zip"
}

// ScanPluginPath inspects a plugin.path value (comma-separated locations,
// as in Kafka) and reports the Java plugins it holds, with the built-ins
// of r that replace them. Sluice loads nothing from plugin.path: the
// report is for the worker to log, so that a user who copied a Kafka
// worker config learns why a jar's connector is missing and what to use.
func (r *Registry) ScanPluginPath(pluginPath string) PathReport {
	var rep PathReport
	for _, loc := range strings.Split(pluginPath, ",") {
		loc = strings.TrimSpace(loc)
		if loc == "" {
			continue
		}
		fi, err := os.Stat(loc)
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("%s: %w", KeyPluginPath, err))
			continue
		}
		if !fi.IsDir() {
			if isArchive(loc) {
				rep.Java = append(rep.Java, r.javaPlugin(loc, []string{filepath.Base(loc)}))
			} else {
				rep.Other = append(rep.Other, loc)
			}
			continue
		}
		entries, err := os.ReadDir(loc)
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("%s: %w", KeyPluginPath, err))
			continue
		}
		for _, e := range entries {
			p := filepath.Join(loc, e.Name())
			switch {
			case !e.IsDir() && isArchive(e.Name()):
				rep.Java = append(rep.Java, r.javaPlugin(p, []string{e.Name()}))
			case e.IsDir():
				if names := archivesUnder(p); len(names) > 0 {
					rep.Java = append(rep.Java, r.javaPlugin(p, append(names, e.Name())))
				} else {
					rep.Other = append(rep.Other, p)
				}
			default:
				rep.Other = append(rep.Other, p)
			}
		}
	}
	return rep
}

// archivesUnder returns the names of the jars and zips below dir.
func archivesUnder(dir string) []string {
	var names []string
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isArchive(d.Name()) {
			names = append(names, d.Name())
		}
		return nil // unreadable parts are skipped: this is only a report
	})
	return names
}

// javaPlugin builds the report for one Java plugin from the names of its
// jars and directory.
func (r *Registry) javaPlugin(path string, names []string) *JavaPluginError {
	e := &JavaPluginError{Path: path}
	var prefixes []string
	for _, n := range names {
		for _, je := range javaEquivalents {
			if strings.Contains(strings.ToLower(n), je.fragment) && !slices.Contains(prefixes, je.prefix) {
				prefixes = append(prefixes, je.prefix)
			}
		}
	}
	for _, p := range r.List() {
		for _, prefix := range prefixes {
			if strings.HasPrefix(p.Class, prefix) && !slices.Contains(e.Equivalents, p.Class) {
				e.Equivalents = append(e.Equivalents, p.Class)
			}
		}
		if (p.Kind == KindSource || p.Kind == KindSink) && !slices.Contains(e.Builtins, p.Class) {
			e.Builtins = append(e.Builtins, p.Class)
		}
	}
	return e
}
