package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const topicNameMatchesDoc = "A predicate which is true for records with a topic name that matches the configured regular expression."

// javaRegexValidator is Kafka's RegexValidator ("Invalid regex: …"),
// compiling with Sluice's Java-regex rules.
func javaRegexValidator() connectors.Validator {
	return connectors.ValidatorFunc{Desc: "valid regex", Fn: func(name string, v any) error {
		s, _ := v.(string)
		if _, err := compileJavaRegex(s); err != nil {
			return connectors.NewConfigError(name, v, "Invalid regex: "+err.Error())
		}
		return nil
	}}
}

var topicNameMatchesConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "pattern", Type: connectors.ConfigString, Required: true,
		Validator:  connectors.All(connectors.NonEmptyString(), javaRegexValidator()),
		Importance: connectors.ImportanceMedium, Doc: "A Java regular expression for matching against the name of a record's topic."})

// topicNameMatches is the TopicNameMatches predicate: the whole topic name
// must match the pattern.
type topicNameMatches struct {
	re *javaRegex
}

func (p *topicNameMatches) Config() *connectors.ConfigDef { return topicNameMatchesConfigDef }

func (p *topicNameMatches) Configure(props map[string]string) error {
	c, err := parseConfig(topicNameMatchesConfigDef, props)
	if err != nil {
		return err
	}
	p.re, err = compileJavaRegex(c.String("pattern"))
	return err
}

func (p *topicNameMatches) Test(r connectors.Record) bool {
	return r.Topic != "" && p.re.matches(r.Topic)
}

func (p *topicNameMatches) Close() error { return nil }
