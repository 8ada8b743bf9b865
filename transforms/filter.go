package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const filterDoc = "Drops all records, filtering them from subsequent transformations in the chain. This is intended to be used conditionally to filter out records matching (or not matching) a particular Predicate."

var emptyConfigDef = connectors.NewConfigDef()

// filter is Filter: it drops every record it sees; with a predicate it
// drops the records the predicate selects.
type filter struct{}

func (filter) Config() *connectors.ConfigDef { return emptyConfigDef }

func (filter) Configure(props map[string]string) error { return nil }

func (filter) Close() error { return nil }

func (filter) Apply(r connectors.Record) (connectors.Record, bool, error) { return r, false, nil }
