package broker

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleCreateTopics creates topics with Kafka's validation and messages.
// -1 partitions or replication factor mean the broker defaults; the only
// replication factor a single node can satisfy is 1.
func (b *Broker) handleCreateTopics(req *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	count := map[string]int{}
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	var dups []string
	for _, rt := range req.Topics {
		if count[rt.Topic] > 1 && !contains(dups, rt.Topic) {
			dups = append(dups, rt.Topic)
		}
	}

	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	answered := map[string]bool{}
	for i := range req.Topics {
		rt := &req.Topics[i]
		if answered[rt.Topic] {
			continue
		}
		answered[rt.Topic] = true
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		var err error
		if count[rt.Topic] > 1 {
			err = errorf(ErrInvalidRequest, "Create topics request contains multiple entries for the following topics: %s", strings.Join(dups, ","))
		} else {
			err = b.createOne(rt, req.ValidateOnly, &st)
		}
		if err != nil {
			st.ErrorCode = errorCode(err, kerr.UnknownServerError)
			st.ErrorMessage = errorMessage(err)
			st.NumPartitions, st.ReplicationFactor = -1, -1
			if st.ErrorCode == kerr.UnknownServerError.Code {
				b.log.Error("creating topic", "topic", rt.Topic, "err", err)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// createOne validates and (unless validateOnly) creates one topic, filling
// st's v5+ fields on success.
// REQUIRES: b.adminMu held.
func (b *Broker) createOne(rt *kmsg.CreateTopicsRequestTopic, validateOnly bool, st *kmsg.CreateTopicsResponseTopic) error {
	nparts, rf := rt.NumPartitions, rt.ReplicationFactor
	if len(rt.ReplicaAssignment) > 0 {
		if nparts != -1 || rf != -1 {
			return errorf(ErrInvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
		}
		seen := map[int32]bool{}
		for _, ra := range rt.ReplicaAssignment {
			if seen[ra.Partition] || ra.Partition < 0 || int(ra.Partition) >= len(rt.ReplicaAssignment) {
				return errorf(ErrInvalidReplicaAssignment, "Partitions should be consecutive and start from 0; got partition %d", ra.Partition)
			}
			seen[ra.Partition] = true
			if err := b.checkReplicas(ra.Replicas); err != nil {
				return err
			}
		}
		nparts, rf = int32(len(rt.ReplicaAssignment)), 1
	}
	if nparts == -1 {
		nparts = b.cfg.NumPartitions
	}
	if rf == -1 {
		rf = b.cfg.DefaultReplicationFactor
	}
	if rf <= 0 {
		return errorf(ErrInvalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value.")
	}
	if rf > 1 {
		return errorf(ErrInvalidReplicationFactor, "Replication factor: %d larger than available brokers: 1.", rf)
	}
	configs := map[string]*string{}
	for _, c := range rt.Configs {
		if _, dup := configs[c.Name]; dup {
			return errorf(ErrInvalidConfig, "Duplicate config %s in the request", c.Name)
		}
		configs[c.Name] = c.Value
	}
	var t *topic
	var err error
	if validateOnly {
		err = b.checkCreate(rt.Topic, nparts, configs)
	} else {
		t, err = b.createTopic(rt.Topic, nparts, configs)
	}
	if err != nil {
		return err
	}
	if t != nil {
		st.TopicID = t.id
		b.log.Info("created topic", "topic", t.name, "partitions", nparts)
	}
	st.NumPartitions, st.ReplicationFactor = nparts, rf
	stored := map[string]string{}
	for k, v := range configs {
		stored[k] = normalizeConfigValue(k, *v)
	}
	for _, d := range b.describeTopic(stored, false, false) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value, c.ReadOnly, c.Source, c.IsSensitive = d.Name, d.Value, d.ReadOnly, int8(d.Source), d.IsSensitive
		st.Configs = append(st.Configs, c)
	}
	return nil
}

// checkReplicas accepts exactly this node as the replica list of a
// manually assigned partition.
func (b *Broker) checkReplicas(replicas []int32) error {
	if len(replicas) == 0 {
		return errorf(ErrInvalidReplicaAssignment, "The manual partition assignment includes a partition with no replicas.")
	}
	for _, r := range replicas {
		if r != b.cfg.NodeID {
			return errorf(ErrInvalidReplicaAssignment, "The manual partition assignment includes broker %d, but no such broker is registered.", r)
		}
	}
	if len(replicas) > 1 {
		return errorf(ErrInvalidReplicaAssignment, "The manual partition assignment includes the partition with duplicate replicas.")
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// handleDeleteTopics deletes topics by name (all versions) or id (v6).
func (b *Broker) handleDeleteTopics(req *kmsg.DeleteTopicsRequest) *kmsg.DeleteTopicsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	reqs := req.Topics
	if req.Version < 6 {
		reqs = nil
		for _, n := range req.TopicNames {
			rt := kmsg.NewDeleteTopicsRequestTopic()
			name := n
			rt.Topic = &name
			reqs = append(reqs, rt)
		}
	}
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	for _, rt := range reqs {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		var t *topic
		var err error
		switch {
		case rt.Topic != nil && rt.TopicID != [16]byte{}:
			err = errorf(ErrInvalidRequest, "Topic name and topic id may not both be set")
		case rt.Topic != nil:
			if t = b.lookup(*rt.Topic); t == nil {
				err = errorf(ErrUnknownTopic, "This server does not host this topic-partition.")
			}
		default:
			if t = b.lookupID(rt.TopicID); t == nil {
				st.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, st)
				continue
			}
		}
		if err == nil {
			name, id := t.name, t.id
			st.Topic, st.TopicID = &name, id
			err = b.deleteTopic(t)
			if err == nil {
				b.log.Info("deleted topic", "topic", name)
			}
		}
		if err != nil {
			st.ErrorCode = errorCode(err, kerr.UnknownServerError)
			st.ErrorMessage = errorMessage(err)
			if st.ErrorCode == kerr.UnknownServerError.Code {
				b.log.Error("deleting topic", "err", err)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// handleCreatePartitions grows topics; partition counts only increase.
func (b *Broker) handleCreatePartitions(req *kmsg.CreatePartitionsRequest) *kmsg.CreatePartitionsResponse {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	count := map[string]int{}
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	for i := range req.Topics {
		rt := &req.Topics[i]
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		var err error
		if count[rt.Topic] > 1 {
			err = errorf(ErrInvalidRequest, "Duplicate topic name.")
		} else {
			err = b.growOne(rt, req.ValidateOnly)
		}
		if err != nil {
			st.ErrorCode = errorCode(err, kerr.UnknownServerError)
			st.ErrorMessage = errorMessage(err)
			if st.ErrorCode == kerr.UnknownServerError.Code {
				b.log.Error("creating partitions", "topic", rt.Topic, "err", err)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// REQUIRES: b.adminMu held.
func (b *Broker) growOne(rt *kmsg.CreatePartitionsRequestTopic, validateOnly bool) error {
	t := b.lookup(rt.Topic)
	if t == nil {
		return errorf(ErrUnknownTopic, "The topic '%s' does not exist.", rt.Topic)
	}
	if t.internal {
		return errorf(ErrInvalidRequest, "Partitions of internal topic %s cannot be added: group records are placed by key hash", t.name)
	}
	cur := int32(len(t.parts))
	switch {
	case rt.Count < cur:
		return errorf(ErrInvalidPartitions, "The topic %s currently has %d partition(s); %d would not be an increase.", t.name, cur, rt.Count)
	case rt.Count == cur:
		return errorf(ErrInvalidPartitions, "Topic already has %d partition(s).", cur)
	}
	if rt.Assignment != nil {
		if len(rt.Assignment) != int(rt.Count-cur) {
			return errorf(ErrInvalidReplicaAssignment, "Attempted to add %d additional partition(s), but only %d assignment(s) were specified.", rt.Count-cur, len(rt.Assignment))
		}
		for _, a := range rt.Assignment {
			if err := b.checkReplicas(a.Replicas); err != nil {
				return err
			}
		}
	}
	if validateOnly {
		return nil
	}
	if err := b.addPartitions(t, rt.Count); err != nil {
		return err
	}
	b.log.Info("added partitions", "topic", t.name, "partitions", rt.Count)
	return nil
}
