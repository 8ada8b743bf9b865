package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const dropHeadersDoc = "Removes one or more headers from each record."

// nonEmptyList is Kafka's NonEmptyListValidator ("Empty list").
func nonEmptyList() connectors.Validator {
	return connectors.ValidatorFunc{Desc: "non-empty list", Fn: func(name string, v any) error {
		if l, _ := v.([]string); len(l) == 0 {
			return connectors.NewConfigError(name, v, "Empty list")
		}
		return nil
	}}
}

var dropHeadersConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "headers", Type: connectors.ConfigList, Required: true, Validator: nonEmptyList(),
		Importance: connectors.ImportanceHigh, Doc: "The name of the headers to be removed."})

// dropHeaders is DropHeaders.
type dropHeaders struct {
	headers map[string]struct{}
}

func (t *dropHeaders) Config() *connectors.ConfigDef { return dropHeadersConfigDef }

func (t *dropHeaders) Configure(props map[string]string) error {
	c, err := parseConfig(dropHeadersConfigDef, props)
	if err != nil {
		return err
	}
	t.headers = map[string]struct{}{}
	for _, h := range c.List("headers") {
		t.headers[h] = struct{}{}
	}
	return nil
}

func (t *dropHeaders) Close() error { return nil }

func (t *dropHeaders) Apply(r connectors.Record) (connectors.Record, bool, error) {
	keep := 0
	for _, h := range r.Headers {
		if _, drop := t.headers[h.Key]; !drop {
			keep++
		}
	}
	if keep == len(r.Headers) {
		return r, true, nil
	}
	out := make(connectors.Headers, 0, keep)
	for _, h := range r.Headers {
		if _, drop := t.headers[h.Key]; !drop {
			out = append(out, h)
		}
	}
	r.Headers = out
	return r, true, nil
}
