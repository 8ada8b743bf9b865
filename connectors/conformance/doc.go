// Package conformance is the acceptance suite every Sluice connector runs
// (STYLE §13; Conduit's AcceptanceTest, benthos' StreamTests): RunSource
// and RunSink drive a connector through the connector contract directly,
// with no runtime and no broker, and check what the contract promises:
//
//   - the connector starts, splits into at most tasks.max task configs, and
//     stops; a task opens and closes without polling;
//   - records carry JSON-compatible source partitions and offsets;
//   - a source task opened with stored offsets resumes right after the
//     last stored record: nothing lost, nothing repeated;
//   - across several restarts, each storing offsets for only part of what
//     was polled (as when the broker acknowledged only some records), every
//     record is delivered at least once and in order;
//   - Poll and Put return promptly once their context is done;
//   - Commit is idempotent;
//   - a sink's Flush makes everything given to Put durable and returns
//     offsets no higher than it was given; a restarted sink appends.
//
// OffsetStore is the in-memory offsets topic the suite uses; it stores
// offsets as JSON and reads them back as the runtime does (integral
// numbers as int64, others as float64), so a connector's offset parsing is
// exercised. Connectors call RunSource/RunSink from their own tests:
//
//	func TestConformance(t *testing.T) {
//		conformance.RunSource(t, conformance.SourceSuite{
//			Connector: func() connectors.SourceConnector { return new(file.SourceConnector) },
//			Config:    func(t *testing.T) map[string]string { … },
//			Feed:      func(t *testing.T, config map[string]string, n int) { … },
//		})
//	}
package conformance
