package rest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// headerRule is one response.http.headers.config rule (Jetty's
// HeaderFilter): "<action> <Name>: <value>" with action set, add, setDate
// or addDate; the date actions take milliseconds from now.
type headerRule struct {
	action string
	name   string
	value  string
	millis int64
}

// ParseResponseHeaders splits and checks a response.http.headers.config
// value: comma-separated rules "[action] [header name]:[header value]",
// each optionally in double quotes (needed when it holds a comma). It
// returns the rules for Options.ResponseHeaders, or the first problem, in
// Kafka's words.
func ParseResponseHeaders(config string) ([]string, error) {
	var rules []string
	for _, r := range splitQuoted(config) {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if _, err := parseHeaderRule(r); err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// splitQuoted splits s at commas outside double quotes and drops the
// quotes.
func splitQuoted(s string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for _, c := range s {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteRune(c)
		}
	}
	return append(out, b.String())
}

func parseHeaderRule(rule string) (headerRule, error) {
	rule = strings.Trim(strings.TrimSpace(rule), `"`)
	action, rest, ok := strings.Cut(rule, " ")
	rest = strings.TrimSpace(rest)
	if !ok || rest == "" {
		return headerRule{}, fmt.Errorf("Invalid format of header config '%s'. Expected: '[action] [header name]:[header value]'", rule)
	}
	switch action {
	case "set", "add", "setDate", "addDate":
	default:
		return headerRule{}, fmt.Errorf("Invalid header config action: '%s'. Expected one of [set, add, setDate, addDate]", action)
	}
	name, value, ok := strings.Cut(rest, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" {
		return headerRule{}, fmt.Errorf("Invalid format of header name and header value pair '%s'. Expected: '[header name]:[header value]'", rest)
	}
	h := headerRule{action: action, name: name, value: value}
	if action == "setDate" || action == "addDate" {
		ms, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return headerRule{}, fmt.Errorf("Invalid header config '%s': %s needs a number of milliseconds", rule, action)
		}
		h.millis = ms
	}
	return h, nil
}

func (h headerRule) apply(hdr http.Header, now time.Time) {
	switch h.action {
	case "set":
		hdr.Set(h.name, h.value)
	case "add":
		hdr.Add(h.name, h.value)
	case "setDate":
		hdr.Set(h.name, now.Add(time.Duration(h.millis)*time.Millisecond).UTC().Format(http.TimeFormat))
	case "addDate":
		hdr.Add(h.name, now.Add(time.Duration(h.millis)*time.Millisecond).UTC().Format(http.TimeFormat))
	}
}
