package jdbc

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

var updateREADME = flag.Bool("update", false, "rewrite the parameter tables in README.md from the ConfigDefs")

// paramsTable renders a flavour's keys as the README's Markdown table.
func paramsTable(f Flavor) string {
	var b strings.Builder
	b.WriteString("| key | type | default | importance | description |\n|---|---|---|---|---|\n")
	for _, k := range ConfigDef(f).Keys() {
		def := connectors.FormatConfigValue(k.Default)
		switch {
		case k.Required:
			def = "(required)"
		case k.Default == nil:
			def = "null"
		case def == "" || def == "[]":
			def = `""`
		}
		if l, ok := k.Default.([]string); ok && len(l) > 0 {
			def = strings.Join(l, ",")
		}
		b.WriteString("| `" + k.Name + "` | " + k.Type.String() + " | " + strings.ReplaceAll(def, "|", `\|`) + " | " +
			k.Importance.String() + " | " + strings.ReplaceAll(k.Doc, "|", `\|`) + " |\n")
	}
	return b.String()
}

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
		want := paramsTable(f)
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
