package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleMetadata answers Metadata. All topics are listed for v0 with an
// empty list and for v1+ with a null one; v1+ with [] lists none. Unknown
// topics are created when auto-creation is on and the client allows it
// (v4+ flag; always below v4). v10+ may name topics by id.
func (b *Broker) handleMetadata(req *kmsg.MetadataRequest) *kmsg.MetadataResponse {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	hp := b.advertised()
	br := kmsg.NewMetadataResponseBroker()
	br.NodeID, br.Host, br.Port = b.cfg.NodeID, hp.host, hp.port
	resp.Brokers = []kmsg.MetadataResponseBroker{br}
	resp.ClusterID = &b.clusterID
	resp.ControllerID = b.cfg.NodeID

	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		for _, t := range b.sortedTopics() {
			resp.Topics = append(resp.Topics, b.metadataTopic(t))
		}
		return resp
	}
	allowCreate := req.Version < 4 || req.AllowAutoTopicCreation
	for _, rt := range req.Topics {
		if rt.Topic == nil {
			// By id (v10+).
			t := b.lookupID(rt.TopicID)
			if t == nil {
				mt := kmsg.NewMetadataResponseTopic()
				mt.TopicID = rt.TopicID
				mt.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			resp.Topics = append(resp.Topics, b.metadataTopic(t))
			continue
		}
		name := *rt.Topic
		var t *topic
		var err error
		if allowCreate {
			t, err = b.autoCreate(name)
		} else if t = b.lookup(name); t == nil {
			err = validateTopicName(name)
		}
		if t == nil {
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic = &name
			mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			if err != nil {
				mt.ErrorCode = errorCode(err, kerr.UnknownServerError)
			}
			resp.Topics = append(resp.Topics, mt)
			continue
		}
		resp.Topics = append(resp.Topics, b.metadataTopic(t))
	}
	return resp
}

func (b *Broker) metadataTopic(t *topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.name
	mt.Topic = &name
	mt.TopicID = t.id
	mt.IsInternal = t.internal
	node := b.cfg.NodeID
	for p := range t.parts {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(p)
		mp.Leader = node
		mp.LeaderEpoch = leaderEpoch
		mp.Replicas = []int32{node}
		mp.ISR = []int32{node}
		mp.OfflineReplicas = []int32{}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}

// handleDescribeCluster answers DescribeCluster (KIP-700) with this node.
func (b *Broker) handleDescribeCluster(req *kmsg.DescribeClusterRequest) *kmsg.DescribeClusterResponse {
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		msg := "The endpoint type requested is not supported: only brokers (1) are"
		resp.ErrorMessage = &msg
		return resp
	}
	resp.EndpointType = 1
	resp.ClusterID = b.clusterID
	resp.ControllerID = b.cfg.NodeID
	hp := b.advertised()
	br := kmsg.NewDescribeClusterResponseBroker()
	br.NodeID, br.Host, br.Port = b.cfg.NodeID, hp.host, hp.port
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{br}
	return resp
}

// handleOffsetForLeaderEpoch answers OffsetForLeaderEpoch (KIP-101/320).
// Every partition has had the single leader epoch 0 since it was created:
// epoch 0 ends at the high watermark (all consumers may have seen), and any
// other epoch is undefined (-1/-1), as Kafka answers for an epoch above its
// latest.
func (b *Broker) handleOffsetForLeaderEpoch(req *kmsg.OffsetForLeaderEpochRequest) *kmsg.OffsetForLeaderEpochResponse {
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for i := range req.Topics {
		rt := &req.Topics[i]
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		t := b.lookup(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			var err error
			if t == nil || t.partition(rp.Partition) == nil {
				err = ErrUnknownTopic
			} else if req.Version >= 2 {
				err = checkLeaderEpoch(rp.CurrentLeaderEpoch)
			}
			switch {
			case err != nil:
				sp.ErrorCode = errorCode(err, kerr.UnknownServerError)
			case rp.LeaderEpoch == leaderEpoch:
				sp.LeaderEpoch = leaderEpoch
				sp.EndOffset = t.partition(rp.Partition).HighWatermark()
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
