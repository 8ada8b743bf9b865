package transforms

import (
	"github.com/sluicedata/sluice/connectors"
)

const recordIsTombstoneDoc = "A predicate which is true for records which are tombstones (i.e. have null value)."

// recordIsTombstone is the RecordIsTombstone predicate.
type recordIsTombstone struct{}

func (recordIsTombstone) Config() *connectors.ConfigDef { return emptyConfigDef }

func (recordIsTombstone) Configure(props map[string]string) error { return nil }

func (recordIsTombstone) Test(r connectors.Record) bool { return r.Tombstone() }

func (recordIsTombstone) Close() error { return nil }
