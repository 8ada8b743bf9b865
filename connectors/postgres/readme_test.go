package postgres

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's parameter table and the golden files in testdata/")

// TestREADMEParameters keeps README.md's parameter table equal to the
// ConfigDef (go test ./connectors/postgres -run TestREADMEParameters -update
// rewrites it).
func TestREADMEParameters(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	begin, end := "<!-- params -->\n", "<!-- end params -->"
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q markers", begin, end)
	}
	want := ConfigDef().MarkdownTable()
	if got := readme[i+len(begin) : j]; got != want {
		if !*update {
			t.Fatalf("README.md's parameter table is stale; run go test ./connectors/postgres -run TestREADMEParameters -update")
		}
		if err := os.WriteFile("README.md", []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
