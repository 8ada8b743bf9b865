package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const hasHeaderKeyDoc = "A predicate which is true for records with at least one header with the configured name."

var hasHeaderKeyConfigDef = connectors.NewConfigDef().
	Define(connectors.ConfigKey{Name: "name", Type: connectors.ConfigString, Required: true, Validator: connectors.NonEmptyString(),
		Importance: connectors.ImportanceMedium, Doc: "The header name."})

// hasHeaderKey is the HasHeaderKey predicate.
type hasHeaderKey struct {
	name string
}

func (p *hasHeaderKey) Config() *connectors.ConfigDef { return hasHeaderKeyConfigDef }

func (p *hasHeaderKey) Configure(props map[string]string) error {
	c, err := parseConfig(hasHeaderKeyConfigDef, props)
	if err != nil {
		return err
	}
	p.name = c.String("name")
	return nil
}

func (p *hasHeaderKey) Test(r connectors.Record) bool {
	for _, h := range r.Headers {
		if h.Key == p.name {
			return true
		}
	}
	return false
}

func (p *hasHeaderKey) Close() error { return nil }
