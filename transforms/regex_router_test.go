package transforms

import (
	"testing"
)

func routeTopicWith(t *testing.T, regex, replacement, topic string) string {
	tr := newTransform(t, "RegexRouter", map[string]string{"regex": regex, "replacement": replacement})
	return apply(t, tr, sinkRecord(topic, nil, nil, nil, nil)).Topic
}

func TestRegexRouter(t *testing.T) {
	for _, tc := range []struct{ regex, replacement, topic, want string }{
		{"foo", "bar", "foo", "bar"},
		{"foo", "bar", "orig", "orig"},
		{"(.*)", "$1", "orig", "orig"},
		{"(.*)", "prefix-$1", "orig", "prefix-orig"},
		{"(.*)", "$1-suffix", "orig", "orig-suffix"},
		{`(.*)-(\d\d\d\d\d\d\d\d)`, "$1", "index-20160117", "index"},
		// Java replacement syntax.
		{"(a)(b)", "$2$1", "ab", "ba"},
		{"(a)", "$10", "a", "a0"},                  // group 1, then "0"
		{"(?<name>x+)", "${name}!", "xxx", "xxx!"}, // named groups
		{"(x+)", `\$1`, "xx", "$1"},                // escaped dollar
		{"dbserver1\\.inventory\\.(.*)", "cdc.$1", "dbserver1.inventory.orders", "cdc.orders"},
		// matches() needs the whole topic; replaceFirst then replaces the first match.
		{"a|ab", "X", "ab", "Xb"},
		{"o", "0", "foo", "foo"},
	} {
		if got := routeTopicWith(t, tc.regex, tc.replacement, tc.topic); got != tc.want {
			t.Errorf("%q %q on %q = %q, want %q", tc.regex, tc.replacement, tc.topic, got, tc.want)
		}
	}
}

func TestRegexRouterConfigErrors(t *testing.T) {
	wantConfigError(t, configureErr(t, "RegexRouter", map[string]string{"regex": "(", "replacement": "x"}), "regex", "Invalid value ( for configuration regex: Invalid regex:")
	wantConfigError(t, configureErr(t, "RegexRouter", map[string]string{"regex": "(a)", "replacement": "$2"}), "replacement", "No group 2")
	wantConfigError(t, configureErr(t, "RegexRouter", map[string]string{"regex": "(a)", "replacement": "${x}"}), "replacement", "No group with name {x}")
	wantConfigError(t, configureErr(t, "RegexRouter", map[string]string{"regex": "(a)", "replacement": "a\\"}), "replacement", "character to be escaped is missing")
	wantConfigError(t, configureErr(t, "RegexRouter", map[string]string{"regex": "(a)", "replacement": "$x"}), "replacement", "Illegal group reference")
	wantConfigError(t, configureErr(t, "RegexRouter", map[string]string{"replacement": "x"}), "regex", `Missing required configuration "regex"`)
	wantConfigError(t, configureErr(t, "RegexRouter", map[string]string{"regex": "x"}), "replacement", `Missing required configuration "replacement"`)
}
