package connectors

import (
	"fmt"
	"slices"
	"strings"
)

// ConfigKeyInfo is a key definition as served by REST
// (GET /connector-plugins/{p}/config and inside ConfigInfo), field for
// field and in the order of Kafka's JSON (connect-rest.md §2.12).
type ConfigKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation *string  `json:"documentation"`
	Group         *string  `json:"group"`
	Order         int      `json:"order"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
}

// ConfigValueInfo is a validated value as served by REST (§2.13). Value
// is rendered like a default; passwords as "[hidden]".
type ConfigValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

// ConfigInfo pairs a definition with its validated value (§2.14). Either
// may be null: Definition for keys only a connector's ValidateConfig
// reported, Value for keys with no result.
type ConfigInfo struct {
	Definition *ConfigKeyInfo   `json:"definition"`
	Value      *ConfigValueInfo `json:"value"`
}

// ConfigInfos is the result of PUT /connector-plugins/{p}/config/validate
// (§2.14). Validation failures are still HTTP 200; ErrorCount tells.
type ConfigInfos struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []ConfigInfo `json:"configs"`
}

// Info returns the REST form of k.
func (k ConfigKey) Info() ConfigKeyInfo {
	info := ConfigKeyInfo{
		Name:        k.Name,
		Type:        k.Type.String(),
		Required:    k.Required,
		Importance:  k.Importance.String(),
		Order:       k.Order,
		Width:       k.Width.String(),
		DisplayName: k.DisplayName,
		Dependents:  append([]string{}, k.Dependents...),
	}
	if info.DisplayName == "" {
		info.DisplayName = k.Name
	}
	if !k.Required {
		info.DefaultValue = configValueString(k.Default)
	}
	if k.Doc != "" {
		doc := k.Doc
		info.Documentation = &doc
	}
	if k.Group != "" {
		g := k.Group
		info.Group = &g
	}
	return info
}

// KeyInfos returns the REST form of every key, in definition order.
func (d *ConfigDef) KeyInfos() []ConfigKeyInfo {
	out := make([]ConfigKeyInfo, len(d.keys))
	for i, k := range d.keys {
		out[i] = k.Info()
	}
	return out
}

// Info returns the REST form of v.
func (v ConfigValue) Info() ConfigValueInfo {
	info := ConfigValueInfo{
		Name:              v.Name,
		Value:             configValueString(v.Value),
		RecommendedValues: make([]string, 0, len(v.RecommendedValues)),
		Errors:            append([]string{}, v.Errors...),
		Visible:           v.Visible,
	}
	for _, r := range v.RecommendedValues {
		if s := configValueString(r); s != nil {
			info.RecommendedValues = append(info.RecommendedValues, *s)
		}
	}
	return info
}

// NewConfigInfos builds the validate response as Kafka's
// AbstractHerder.generateResult does: name is the connector.class as
// given; first an entry (with a null definition) for each value whose key
// def does not define, then one entry per defined key in definition order
// with its value (or null); ErrorCount sums all errors; Groups are def's
// groups.
func NewConfigInfos(name string, def *ConfigDef, values []ConfigValue) ConfigInfos {
	infos := ConfigInfos{Name: name, Groups: def.Groups(), Configs: []ConfigInfo{}}
	byName := make(map[string]ConfigValue, len(values))
	for _, v := range values {
		byName[v.Name] = v
		if _, ok := def.index[v.Name]; !ok {
			vi := v.Info()
			infos.Configs = append(infos.Configs, ConfigInfo{Value: &vi})
			infos.ErrorCount += len(v.Errors)
		}
	}
	for _, k := range def.keys {
		ki := k.Info()
		ci := ConfigInfo{Definition: &ki}
		if v, ok := byName[k.Name]; ok {
			vi := v.Info()
			ci.Value = &vi
			infos.ErrorCount += len(v.Errors)
		}
		infos.Configs = append(infos.Configs, ci)
	}
	if infos.Groups == nil {
		infos.Groups = []string{}
	}
	return infos
}

// Errors returns every error message in infos, in entry order.
func (c ConfigInfos) Errors() []string {
	var out []string
	for _, ci := range c.Configs {
		if ci.Value != nil {
			out = append(out, ci.Value.Errors...)
		}
	}
	return slices.Clip(out)
}

// InvalidMessage returns the message of Kafka's 400 response to a create
// or update with an invalid config ("Connector configuration is invalid
// and contains the following N error(s):", one error per line, then the
// pointer to the validate endpoint), or "" if there are no errors.
func (c ConfigInfos) InvalidMessage() string {
	if c.ErrorCount == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Connector configuration is invalid and contains the following %d error(s):", c.ErrorCount)
	for _, e := range c.Errors() {
		b.WriteString("\n")
		b.WriteString(e)
	}
	b.WriteString("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
	return b.String()
}
