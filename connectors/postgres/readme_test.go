package postgres

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

var update = flag.Bool("update", false, "rewrite README.md's parameter table and the golden files in testdata/")

// paramsTable renders the ConfigDef as the README's Markdown table.
func paramsTable() string {
	var b strings.Builder
	b.WriteString("| key | type | default | importance | description |\n|---|---|---|---|---|\n")
	for _, k := range ConfigDef().Keys() {
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
	want := paramsTable()
	if got := readme[i+len(begin) : j]; got != want {
		if !*update {
			t.Fatalf("README.md's parameter table is stale; run go test ./connectors/postgres -run TestREADMEParameters -update")
		}
		if err := os.WriteFile("README.md", []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
