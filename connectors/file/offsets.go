package file

import (
	"context"
	"fmt"

	"github.com/sluicedata/sluice/connectors"
)

// AlterOffsets checks offsets written through PATCH
// /connectors/{c}/offsets, as Kafka's FileStreamSourceConnector does: every
// partition names a file, every offset (unless it is a reset) is a
// non-negative integral position. It returns true: the runtime's offsets
// are all there is, so altering them is complete.
func (c *SourceConnector) AlterOffsets(_ context.Context, _ map[string]string, offsets []connectors.SourceOffset) (bool, error) {
	for _, o := range offsets {
		if _, ok := o.Partition[PartitionFilename]; !ok {
			return false, fmt.Errorf("Partition objects for file source connectors must contain the key '%s'", PartitionFilename)
		}
		if o.Offset == nil {
			continue
		}
		v, ok := o.Offset[OffsetPosition]
		if !ok {
			return false, fmt.Errorf("Offset objects for file source connectors must contain the key '%s'", OffsetPosition)
		}
		pos, ok := connectors.OffsetInt(v)
		if !ok {
			return false, fmt.Errorf("The value for the '%s' key in the offset is expected to be a Long value", OffsetPosition)
		}
		if pos < 0 {
			return false, fmt.Errorf("The value for the '%s' key in the offset should be a non-negative value", OffsetPosition)
		}
	}
	return true, nil
}

// AlterSinkOffsets accepts any change: the file sink keeps no offsets of
// its own, so the consumer group's are all there is (Kafka's
// FileStreamSinkConnector answers true as well).
func (c *SinkConnector) AlterSinkOffsets(context.Context, map[string]string, map[connectors.TopicPartition]*int64) (bool, error) {
	return true, nil
}
