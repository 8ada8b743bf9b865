package jdbc

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update", false, "rewrite the parameter tables in README.md from the ConfigDefs")

// TestREADMEParameters keeps README.md's parameter tables equal to the
// ConfigDefs (go test -run TestREADMEParameters -update rewrites them).
func TestREADMEParameters(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, f := range []Flavor{FlavorDebezium, FlavorConfluent, FlavorSluice} {
		begin, end := "<!-- params:"+f.String()+" -->\n", "<!-- end params:"+f.String()+" -->"
		i, j := strings.Index(readme, begin), strings.Index(readme, end)
		if i < 0 || j < i {
			t.Fatalf("README.md lacks the %q … %q markers", begin, end)
		}
		want := ConfigDef(f).MarkdownTable()
		if got := readme[i+len(begin) : j]; got != want {
			if !*updateREADME {
				t.Errorf("README.md parameters of the %s flavour are stale; run go test ./connectors/jdbc -run TestREADMEParameters -update", f)
				continue
			}
			readme = readme[:i+len(begin)] + want + readme[j:]
		}
	}
	if *updateREADME {
		if err := os.WriteFile("README.md", []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
