package broker

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicedata/sluice/broker/batch"
	"github.com/sluicedata/sluice/broker/partlog"
)

// Sentinel errors. Errors returned by this package wrap one of these (or a
// partlog or batch sentinel); errorCode maps them to Kafka error codes.
var (
	// ErrClosed is returned by Serve and ServeConn once Close has begun.
	ErrClosed = errors.New("broker: closed")
	// ErrInvalidBrokerConfig marks every problem Config.Validate reports.
	ErrInvalidBrokerConfig = errors.New("broker: invalid config")
	// ErrCorruptMetadata means a persisted metadata file (topic, cluster,
	// producer ids) could not be read back.
	ErrCorruptMetadata = errors.New("broker: corrupt metadata file")

	// The rest are answered to clients as Kafka error codes.

	ErrUnknownTopic              = errors.New("broker: unknown topic or partition")
	ErrTopicExists               = errors.New("broker: topic already exists")
	ErrInvalidTopic              = errors.New("broker: invalid topic")
	ErrInvalidPartitions         = errors.New("broker: invalid partitions")
	ErrInvalidReplicationFactor  = errors.New("broker: invalid replication factor")
	ErrInvalidReplicaAssignment  = errors.New("broker: invalid replica assignment")
	ErrInvalidConfig             = errors.New("broker: invalid config")
	ErrInvalidRequest            = errors.New("broker: invalid request")
	ErrInvalidRecord             = errors.New("broker: invalid record")
	ErrInvalidTimestamp          = errors.New("broker: invalid timestamp")
	ErrUnsupportedCompression    = errors.New("broker: unsupported compression type")
	ErrNotEnoughReplicas         = errors.New("broker: not enough replicas")
	ErrUnsupported               = errors.New("broker: unsupported")
	ErrTransactionsUnsupported   = errors.New("broker: transactions are not supported")
	ErrUnknownLeaderEpoch        = errors.New("broker: unknown leader epoch")
	ErrFetchSessionIDNotFound    = errors.New("broker: fetch session id not found")
	ErrUnsupportedEndpointType   = errors.New("broker: unsupported endpoint type")
	ErrCoordinatorNotAvailable   = errors.New("broker: coordinator not available")
	ErrTopicDeletionNotPermitted = errors.New("broker: internal topics cannot be deleted")
)

// detailError is a sentinel with a client-facing message: the message is
// what Kafka would put in the response's ErrorMessage, unprefixed.
type detailError struct {
	sentinel error
	msg      string
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.sentinel }

// errorf returns an error wrapping sentinel whose message is the formatted
// text alone, ready for a response's ErrorMessage.
func errorf(sentinel error, format string, args ...any) error {
	return &detailError{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}
}

// codes maps sentinels to Kafka errors, first match wins.
var codes = []struct {
	err  error
	code *kerr.Error
}{
	{ErrUnknownTopic, kerr.UnknownTopicOrPartition},
	{ErrTopicExists, kerr.TopicAlreadyExists},
	{ErrInvalidTopic, kerr.InvalidTopicException},
	{ErrInvalidPartitions, kerr.InvalidPartitions},
	{ErrInvalidReplicationFactor, kerr.InvalidReplicationFactor},
	{ErrInvalidReplicaAssignment, kerr.InvalidReplicaAssignment},
	{ErrInvalidConfig, kerr.InvalidConfig},
	{ErrInvalidRequest, kerr.InvalidRequest},
	{ErrInvalidRecord, kerr.InvalidRecord},
	{ErrInvalidTimestamp, kerr.InvalidTimestamp},
	{ErrUnsupportedCompression, kerr.UnsupportedCompressionType},
	{ErrNotEnoughReplicas, kerr.NotEnoughReplicas},
	{ErrUnsupported, kerr.UnsupportedVersion},
	{ErrTransactionsUnsupported, kerr.UnsupportedVersion},
	{ErrUnknownLeaderEpoch, kerr.UnknownLeaderEpoch},
	{ErrFetchSessionIDNotFound, kerr.FetchSessionIDNotFound},
	{ErrUnsupportedEndpointType, kerr.UnsupportedEndpointType},
	{ErrCoordinatorNotAvailable, kerr.CoordinatorNotAvailable},
	{ErrTopicDeletionNotPermitted, kerr.InvalidRequest},
	{ErrClosed, kerr.NotLeaderForPartition},

	{partlog.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{partlog.ErrMessageTooLarge, kerr.MessageTooLarge},
	{partlog.ErrDuplicateSequence, kerr.DuplicateSequenceNumber},
	{partlog.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber},
	{partlog.ErrInvalidEpoch, kerr.InvalidProducerEpoch},
	// A closed log is a partition being deleted or a broker shutting
	// down: retriable, the client refreshes its metadata.
	{partlog.ErrClosed, kerr.NotLeaderForPartition},
	{partlog.ErrCorrupt, kerr.KafkaStorageError},

	{batch.ErrShort, kerr.CorruptMessage},
	{batch.ErrCorrupt, kerr.CorruptMessage},
	{batch.ErrUnsupportedCodec, kerr.CorruptMessage},
	// What partlog rejects without a batch cause: a control batch.
	{partlog.ErrInvalidBatch, kerr.InvalidRecord},
	{partlog.ErrStorage, kerr.KafkaStorageError},
	{partlog.ErrLogFailed, kerr.KafkaStorageError},
}

// errorCode maps err to a Kafka error code: 0 for nil, fallback for an
// error no sentinel covers (KAFKA_STORAGE_ERROR on storage paths,
// UNKNOWN_SERVER_ERROR elsewhere).
func errorCode(err error, fallback *kerr.Error) int16 {
	if err == nil {
		return 0
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code.Code
		}
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return fallback.Code
}

// errorMessage is the ErrorMessage to answer for err: its detail when it
// has one, else nil (clients then print the code's description).
func errorMessage(err error) *string {
	var de *detailError
	if errors.As(err, &de) {
		return &de.msg
	}
	return nil
}
