package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const regexRouterDoc = "Update the record topic using the configured regular expression and replacement string. If the pattern matches the input topic, the first match is replaced with the replacement string (Java's Matcher.replaceFirst: $1 and ${name} refer to groups, \\ escapes) to obtain the new topic."

var regexRouterConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "regex", Type: connectors.ConfigString, Required: true, Validator: javaRegexValidator(),
		Importance: connectors.ImportanceHigh, Doc: "Regular expression to use for matching."}).
	Define(connectors.ConfigKey{Name: "replacement", Type: connectors.ConfigString, Required: true,
		Importance: connectors.ImportanceHigh, Doc: "Replacement string."})

// regexRouter is RegexRouter. Topic names repeat, so results are cached
// per input topic.
type regexRouter struct {
	re     *javaRegex
	rep    *javaReplacement
	topics cache[string, string]
}

func (t *regexRouter) Config() *connectors.ConfigDef { return regexRouterConfigDef }

func (t *regexRouter) Configure(props map[string]string) error {
	c, err := parseConfig(regexRouterConfigDef, props)
	if err != nil {
		return err
	}
	t.re, err = compileJavaRegex(c.String("regex"))
	if err != nil {
		return connectors.ConfigErrors{connectors.NewConfigError("regex", c.String("regex"), "Invalid regex: "+err.Error())}
	}
	rep := c.String("replacement")
	t.rep, err = compileJavaReplacement(rep, t.re.re)
	if err != nil {
		return connectors.ConfigErrors{connectors.NewConfigError("replacement", rep, err.Error())}
	}
	return nil
}

func (t *regexRouter) Close() error { t.topics.clear(); return nil }

func (t *regexRouter) Apply(r connectors.Record) (connectors.Record, bool, error) {
	topic, _ := t.topics.getOrMake(r.Topic, func() (string, error) {
		if !t.re.matches(r.Topic) {
			return r.Topic, nil
		}
		return t.re.replaceFirst(r.Topic, t.rep), nil
	})
	r.Topic = topic
	return r, true, nil
}
