package transforms

import (
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

const timestampRouterDoc = "Update the record's topic field as a function of the original topic value and the record timestamp. This is mainly useful for sink connectors, since the topic field is often used to determine the equivalent entity name in the destination system (e.g. database table or search index name)."

// javaDateFormatValidator rejects patterns SimpleDateFormat rejects.
func javaDateFormatValidator() connectors.Validator {
	return connectors.ValidatorFunc{Desc: "a java.text.SimpleDateFormat pattern", Fn: func(name string, v any) error {
		s, _ := v.(string)
		if _, err := compileJavaDateFormat(s); err != nil {
			return connectors.NewConfigError(name, v, err.Error())
		}
		return nil
	}}
}

var timestampRouterConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "topic.format", Type: connectors.ConfigString, Default: "${topic}-${timestamp}",
		Importance: connectors.ImportanceHigh, Doc: "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively."}).
	Define(connectors.ConfigKey{Name: "timestamp.format", Type: connectors.ConfigString, Default: "yyyyMMdd", Validator: javaDateFormatValidator(),
		Importance: connectors.ImportanceHigh, Doc: "Format string for the timestamp that is compatible with java.text.SimpleDateFormat."})

// timestampRouter is TimestampRouter.
type timestampRouter struct {
	topicFormat string
	format      *javaDateFormat
}

func (t *timestampRouter) Config() *connectors.ConfigDef { return timestampRouterConfigDef }

func (t *timestampRouter) Configure(props map[string]string) error {
	c, err := parseConfig(timestampRouterConfigDef, props)
	if err != nil {
		return err
	}
	t.topicFormat = c.String("topic.format")
	t.format, _ = compileJavaDateFormat(c.String("timestamp.format"))
	return nil
}

func (t *timestampRouter) Close() error { return nil }

func (t *timestampRouter) Apply(r connectors.Record) (connectors.Record, bool, error) {
	if r.Timestamp.IsZero() {
		return r, false, dataErrorf("Timestamp missing on record: topic %s", r.Topic)
	}
	ts := t.format.format(r.Timestamp)
	topic := strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic)
	r.Topic = strings.ReplaceAll(topic, "${timestamp}", ts)
	return r, true, nil
}
