package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/plugins"
)

// Keys of sink connector offsets in the offsets API (Kafka's SinkUtils).
const (
	sinkTopicKey     = "kafka_topic"
	sinkPartitionKey = "kafka_partition"
	sinkOffsetKey    = "kafka_offset"
)

// SourceOffsetsAlterer is an optional SourceConnector capability (Kafka's
// SourceConnector.alterOffsets): the connector hears about offsets
// altered or reset through the REST API (a nil Offset is a reset) and
// returns true if it manages no offsets outside Kafka, so the API can say
// the change is complete. An error rejects the change.
type SourceOffsetsAlterer interface {
	AlterOffsets(ctx context.Context, config map[string]string, offsets []connectors.SourceOffset) (bool, error)
}

// SinkOffsetsAlterer is the SinkConnector counterpart (Kafka's
// SinkConnector.alterOffsets); a nil offset is a reset.
type SinkOffsetsAlterer interface {
	AlterSinkOffsets(ctx context.Context, config map[string]string, offsets map[connectors.TopicPartition]*int64) (bool, error)
}

// sinkGroupID is the consumer group of a sink connector.
func sinkGroupID(name string, config map[string]string) string {
	if g := strings.TrimSpace(config[connectors.PrefixConsumerOverride+"group.id"]); g != "" {
		return g
	}
	return "connect-" + name
}

func (h *herder) connectorOffsets(ctx context.Context, name string) (ConnectorOffsets, error) {
	if err := h.awaitReady(ctx); err != nil {
		return ConnectorOffsets{}, err
	}
	s := h.snapshot(name)
	if !s.exists {
		return ConnectorOffsets{}, notFound(name)
	}
	out := ConnectorOffsets{Offsets: []ConnectorOffset{}}
	if h.connectorType(s.config) == string(plugins.KindSink) {
		group := sinkGroupID(name, s.config)
		resp, err := h.cl.admin.FetchOffsets(ctx, group)
		if err == nil {
			err = resp.Error()
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return ConnectorOffsets{}, h.kafkaError(ctx, "retrieve consumer group offsets for sink connector "+name, err)
		}
		resp.Each(func(o kadm.OffsetResponse) {
			if o.Err != nil || o.At < 0 {
				return
			}
			out.Offsets = append(out.Offsets, ConnectorOffset{
				Partition: map[string]any{sinkTopicKey: o.Topic, sinkPartitionKey: o.Partition},
				Offset:    map[string]any{sinkOffsetKey: o.At},
			})
		})
		slices.SortFunc(out.Offsets, func(a, b ConnectorOffset) int {
			return cmp.Or(cmp.Compare(a.Partition[sinkTopicKey].(string), b.Partition[sinkTopicKey].(string)),
				cmp.Compare(a.Partition[sinkPartitionKey].(int32), b.Partition[sinkPartitionKey].(int32)))
		})
		return out, nil
	}
	list, err := h.offsets.list(ctx, name)
	if err != nil {
		return ConnectorOffsets{}, h.kafkaError(ctx, "retrieve offsets for source connector "+name, err)
	}
	for _, o := range list {
		out.Offsets = append(out.Offsets, ConnectorOffset{Partition: o.Partition, Offset: o.Offset})
	}
	return out, nil
}

// checkStopped applies Kafka's checks before offsets are modified.
func (h *herder) checkStopped(ctx context.Context, name string) (connSnapshot, error) {
	if err := h.awaitReady(ctx); err != nil {
		return connSnapshot{}, err
	}
	// Offsets are modified by the leader, which knows the connector is
	// stopped everywhere.
	if _, err := h.leaderCheck(ctx); err != nil {
		return connSnapshot{}, err
	}
	if err := h.syncConfig(ctx); err != nil {
		return connSnapshot{}, err
	}
	s := h.snapshot(name)
	if !s.exists {
		return s, notFound(name)
	}
	if s.target != TargetStopped || len(s.taskConfigs) != 0 {
		return s, Errorf(ErrBadRequest, "Connectors must be in the STOPPED state before their offsets can be modified. "+
			"This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return s, nil
}

func modifiedMessage(complete, reset bool) string {
	what := "altered"
	if reset {
		what = "reset"
	}
	if complete {
		return "The offsets for this connector have been " + what + " successfully"
	}
	return "The Connect framework-managed offsets for this connector have been " + what +
		" successfully. However, if this connector manages offsets externally, they will need to be manually " + what +
		" in the system that the connector uses."
}

func (h *herder) alterOffsets(ctx context.Context, name string, offsets ConnectorOffsets) (string, error) {
	if len(offsets.Offsets) == 0 {
		return "", Errorf(ErrBadRequest, "Partitions / offsets need to be provided for an alter offsets request")
	}
	s, err := h.checkStopped(ctx, name)
	if err != nil {
		return "", err
	}
	if h.connectorType(s.config) == string(plugins.KindSink) {
		parsed, err := parseSinkOffsets(offsets.Offsets)
		if err != nil {
			return "", err
		}
		return h.modifySinkOffsets(ctx, name, s.config, parsed, false)
	}
	var list []connectors.SourceOffset
	for _, o := range offsets.Offsets {
		if o.Partition == nil {
			return "", Errorf(ErrBadRequest, "The partition for a source connector offset cannot be null or missing")
		}
		if err := checkPrimitiveMap("partition", o.Partition); err != nil {
			return "", err
		}
		if o.Offset != nil {
			if err := checkPrimitiveMap("offset", o.Offset); err != nil {
				return "", err
			}
		}
		list = append(list, connectors.SourceOffset{Partition: o.Partition, Offset: o.Offset})
	}
	return h.modifySourceOffsets(ctx, name, s.config, list, false)
}

func (h *herder) resetOffsets(ctx context.Context, name string) (string, error) {
	s, err := h.checkStopped(ctx, name)
	if err != nil {
		return "", err
	}
	if h.connectorType(s.config) == string(plugins.KindSink) {
		return h.modifySinkOffsets(ctx, name, s.config, nil, true)
	}
	stored, err := h.offsets.list(ctx, name)
	if err != nil {
		return "", h.kafkaError(ctx, "list offsets prior to resetting offsets for source connector "+name, err)
	}
	for i := range stored {
		stored[i].Offset = nil
	}
	return h.modifySourceOffsets(ctx, name, s.config, stored, true)
}

func (h *herder) modifySourceOffsets(ctx context.Context, name string, config map[string]string, offsets []connectors.SourceOffset, reset bool) (string, error) {
	complete := false
	if inst, err := h.newConnector(config[connectors.KeyConnectorClass]); err == nil {
		if a, ok := inst.(SourceOffsetsAlterer); ok {
			resolved, err := h.resolveConfig(config)
			if err != nil {
				return "", &Error{Kind: ErrServerError, Message: "Failed to modify offsets for source connector " + name + ": " + err.Error(), Err: err}
			}
			complete, err = a.AlterOffsets(ctx, resolved, offsets)
			if err != nil {
				return "", &Error{Kind: ErrServerError, Message: "Failed to modify offsets for source connector " + name + ": " + err.Error(), Err: err}
			}
		}
	}
	if err := h.offsets.Store(ctx, name, offsets); err != nil {
		return "", h.kafkaError(ctx, "modify offsets for source connector "+name, err)
	}
	h.log.Info("source connector offsets modified", "connector", name, "partitions", len(offsets), "reset", reset)
	return modifiedMessage(complete, reset), nil
}

// checkPrimitiveMap applies Kafka's OffsetUtils rules: keys are strings
// (always, in JSON), values primitive.
func checkPrimitiveMap(what string, m map[string]any) error {
	for k, v := range m {
		switch v.(type) {
		case nil, string, bool, float64, float32, int, int32, int64:
		default:
			return Errorf(ErrBadRequest, "Offsets may only contain primitive types as values, but field %s contains %T", k, v)
		}
		_ = what
	}
	return nil
}

// parseSinkOffsets reads sink offsets as Kafka's SinkUtils does: numbers
// or numeric strings for the partition and offset; a nil offset resets.
func parseSinkOffsets(in []ConnectorOffset) (map[connectors.TopicPartition]*int64, error) {
	out := map[connectors.TopicPartition]*int64{}
	for _, o := range in {
		if o.Partition == nil {
			return nil, Errorf(ErrBadRequest, "The partition for a sink connector offset cannot be null or missing")
		}
		topicV, okT := o.Partition[sinkTopicKey]
		partV, okP := o.Partition[sinkPartitionKey]
		if !okT || !okP {
			return nil, Errorf(ErrBadRequest, "The partition for a sink connector offset must contain the keys '%s' and '%s'", sinkTopicKey, sinkPartitionKey)
		}
		partition, err := strconv.ParseInt(javaString(partV), 10, 32)
		if err != nil {
			return nil, Errorf(ErrBadRequest, "Failed to parse the following Kafka partition value in the provided offsets: '%s'. Partition values for sink connectors need to be integers.", javaString(partV))
		}
		tp := connectors.TopicPartition{Topic: javaString(topicV), Partition: int32(partition)}
		if o.Offset == nil {
			out[tp] = nil
			continue
		}
		offV, ok := o.Offset[sinkOffsetKey]
		if !ok {
			return nil, Errorf(ErrBadRequest, "The offset for a sink connector should either be null or contain the key '%s'", sinkOffsetKey)
		}
		off, err := strconv.ParseInt(javaString(offV), 10, 64)
		if err != nil {
			return nil, Errorf(ErrBadRequest, "Failed to parse the following Kafka offset value in the provided offsets: '%s'. Offset values for sink connectors need to be integers.", javaString(offV))
		}
		out[tp] = &off
	}
	return out, nil
}

// javaString renders a JSON value as Java's String.valueOf would.
func javaString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return connectors.FormatFloat(x, 64)
	}
	return fmt.Sprint(v)
}

func (h *herder) modifySinkOffsets(ctx context.Context, name string, config map[string]string, offsets map[connectors.TopicPartition]*int64, reset bool) (string, error) {
	group := sinkGroupID(name, config)
	complete := false
	if inst, err := h.newConnector(config[connectors.KeyConnectorClass]); err == nil {
		if a, ok := inst.(SinkOffsetsAlterer); ok {
			toTell := offsets
			if reset {
				toTell = map[connectors.TopicPartition]*int64{}
				if resp, err := h.cl.admin.FetchOffsets(ctx, group); err == nil {
					resp.Each(func(o kadm.OffsetResponse) {
						toTell[connectors.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = nil
					})
				}
			}
			resolved, err := h.resolveConfig(config)
			if err == nil {
				complete, err = a.AlterSinkOffsets(ctx, resolved, toTell)
			}
			if err != nil {
				return "", &Error{Kind: ErrServerError, Message: "Failed to modify offsets for connector " + name + ": " + err.Error(), Err: err}
			}
		}
	}
	if reset {
		resp, err := h.cl.admin.DeleteGroup(ctx, group)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return "", h.sinkOffsetsError(ctx, name, "reset consumer group offsets for sink connector "+name, err)
		}
		h.log.Info("sink connector offsets reset", "connector", name, "group", group)
		return modifiedMessage(complete, true), nil
	}
	commit := kadm.Offsets{}
	deletes := kadm.TopicsSet{}
	for tp, off := range offsets {
		if off == nil {
			deletes.Add(tp.Topic, tp.Partition)
			continue
		}
		commit.AddOffset(tp.Topic, tp.Partition, *off, -1)
	}
	if len(commit) > 0 {
		resp, err := h.cl.admin.CommitOffsets(ctx, group, commit)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return "", h.sinkOffsetsError(ctx, name, "alter consumer group offsets for connector "+name, err)
		}
	}
	if len(deletes) > 0 {
		resp, err := h.cl.admin.DeleteOffsets(ctx, group, deletes)
		if err == nil {
			err = resp.Error()
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return "", h.sinkOffsetsError(ctx, name, "alter consumer group offsets for connector "+name, err)
		}
	}
	h.log.Info("sink connector offsets altered", "connector", name, "group", group, "partitions", len(offsets))
	return modifiedMessage(complete, false), nil
}

func (h *herder) sinkOffsetsError(ctx context.Context, name, what string, err error) error {
	if errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.GroupSubscribedToTopic) || errors.Is(err, kerr.NonEmptyGroup) {
		return &Error{Kind: ErrServerError, Err: err, Message: "Failed to alter consumer group offsets for connector " + name +
			" either because its tasks haven't stopped completely yet or the connector was resumed before the request to alter its offsets could be successfully completed. " +
			"If the connector is in a stopped state, this operation can be safely retried. If it doesn't eventually succeed, the Connect cluster may need to be restarted to get rid of the zombie sink tasks."}
	}
	return h.kafkaError(ctx, what, err)
}
