package connectors

import "strings"

// MarkdownTable renders the keys as the parameter table of a connector's
// README (one row per key, in definition order: key, type, default,
// importance, description), the documentation generated from the same
// spec that parses and validates configs.
func (d *ConfigDef) MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| key | type | default | importance | description |\n|---|---|---|---|---|\n")
	for _, k := range d.keys {
		def := FormatConfigValue(k.Default)
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
