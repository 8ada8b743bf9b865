package configprovider

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// placeholderRE is Kafka's ConfigTransformer.DEFAULT_PATTERN. RE2's
// leftmost-first matching with lazy quantifiers picks the same groups as
// Java's: ${a:b:c:d} is provider a, path b, key c:d.
var placeholderRE = regexp.MustCompile(`\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}`)

// Placeholders returns every ${provider:path:key} reference in config,
// sorted by config key and then by position.
func Placeholders(config map[string]string) []Placeholder {
	var out []Placeholder
	for _, k := range slices.Sorted(maps.Keys(config)) {
		v := config[k]
		if !strings.Contains(v, "${") {
			continue
		}
		for _, m := range placeholderRE.FindAllStringSubmatchIndex(v, -1) {
			out = append(out, placeholderAt(k, v, m))
		}
	}
	return out
}

func placeholderAt(key, v string, m []int) Placeholder {
	p := Placeholder{ConfigKey: key, Text: v[m[0]:m[1]], Provider: v[m[2]:m[3]], Key: v[m[8]:m[9]]}
	if m[6] >= 0 {
		p.Path = v[m[6]:m[7]]
	}
	return p
}

// HasPlaceholders reports whether any value of config contains a
// placeholder, whatever its provider.
func HasPlaceholders(config map[string]string) bool {
	for _, v := range config {
		if strings.Contains(v, "${") && placeholderRE.MatchString(v) {
			return true
		}
	}
	return false
}

type pathRef struct{ provider, path string }

// Resolve returns a copy of config with every placeholder of a known
// provider replaced by its value, as Kafka's ConfigTransformer does: each
// provider is asked once per path for all the keys used with it.
// Placeholders of providers not in providers are left as they are.
//
// A provider error (unreadable file, path not allowed, …) is returned
// wrapped with the provider name and path. Keys a provider does not have
// are collected and returned together as *MissingKeysError. Neither
// contains any resolved value, and Resolve never logs.
func Resolve(config map[string]string, providers map[string]ConfigProvider) (map[string]string, error) {
	refs := Placeholders(config)
	if len(refs) == 0 {
		return maps.Clone(config), nil
	}
	keysByPath := map[pathRef][]string{}
	var order []pathRef
	for _, r := range refs {
		if _, ok := providers[r.Provider]; !ok {
			continue
		}
		pr := pathRef{r.Provider, r.Path}
		if _, seen := keysByPath[pr]; !seen {
			order = append(order, pr)
		}
		if !slices.Contains(keysByPath[pr], r.Key) {
			keysByPath[pr] = append(keysByPath[pr], r.Key)
		}
	}
	values := make(map[pathRef]map[string]string, len(order))
	for _, pr := range order {
		data, err := providers[pr.provider].Get(pr.path, keysByPath[pr]...)
		if err != nil {
			return nil, fmt.Errorf("config provider %s, path %q: %w", pr.provider, pr.path, err)
		}
		values[pr] = data
	}

	out := maps.Clone(config)
	var missing []Placeholder
	for k, v := range config {
		if !strings.Contains(v, "${") {
			continue
		}
		matches := placeholderRE.FindAllStringSubmatchIndex(v, -1)
		if len(matches) == 0 {
			continue
		}
		var b strings.Builder
		last := 0
		for _, m := range matches {
			p := placeholderAt(k, v, m)
			data, known := values[pathRef{p.Provider, p.Path}]
			if !known {
				continue // unknown provider: keep the text, as Kafka
			}
			b.WriteString(v[last:m[0]])
			if val, ok := data[p.Key]; ok {
				b.WriteString(val)
			} else {
				missing = append(missing, p)
				b.WriteString(p.Text)
			}
			last = m[1]
		}
		b.WriteString(v[last:])
		out[k] = b.String()
	}
	if len(missing) > 0 {
		slices.SortFunc(missing, func(a, b Placeholder) int { return strings.Compare(a.ConfigKey, b.ConfigKey) })
		return nil, &MissingKeysError{Missing: missing}
	}
	return out, nil
}
