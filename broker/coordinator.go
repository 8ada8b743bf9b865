package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/batch"
	"github.com/sluicedata/sluice/broker/group"
	"github.com/sluicedata/sluice/broker/partlog"
)

// coordinator is the classic consumer-group coordinator the group APIs are
// dispatched to. Each method takes a decoded request (version set) and
// returns its filled response; JoinGroup and SyncGroup may block until the
// rebalance completes or ctx (the connection's) ends.
type coordinator interface {
	JoinGroup(context.Context, *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse
	SyncGroup(context.Context, *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse
	Heartbeat(context.Context, *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse
	LeaveGroup(context.Context, *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse
	OffsetCommit(context.Context, *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse
	OffsetFetch(context.Context, *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse
	DescribeGroups(context.Context, *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse
	ListGroups(context.Context, *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse
	DeleteGroups(context.Context, *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse
	OffsetDelete(context.Context, *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse
	// Load replays one record of __consumer_offsets (nil value: a
	// tombstone), in log order per group, before any request.
	Load(key, value []byte) error
	Close()
}

var _ coordinator = (*group.Coordinator)(nil)

// startCoordinator creates the group coordinator and replays
// __consumer_offsets into it.
func (b *Broker) startCoordinator() error {
	c := group.New(group.Config{
		Logger:                b.cfg.Logger,
		Store:                 &offsetStore{b: b},
		MinSessionTimeout:     ms(int64(b.cfg.GroupMinSessionTimeoutMs)),
		MaxSessionTimeout:     ms(int64(b.cfg.GroupMaxSessionTimeoutMs)),
		InitialRebalanceDelay: ms(int64(b.cfg.GroupInitialRebalanceDelayMs)),
		OffsetsRetention:      time.Duration(b.cfg.OffsetsRetentionMinutes) * time.Minute,
	})
	t := b.lookup(offsetsTopic)
	start := time.Now()
	n := 0
	skipped := 0
	load := func(key, value []byte) error {
		err := c.Load(key, value)
		if errors.Is(err, group.ErrInvalidRecord) {
			// One undecodable record must not keep the broker down:
			// Kafka's loader skips unknown record types too.
			skipped++
			b.log.Warn("skipping undecodable record of "+offsetsTopic, "err", err)
			return nil
		}
		return err
	}
	for p, l := range t.parts {
		m, err := replay(l, load)
		n += m
		if err != nil {
			c.Close()
			return fmt.Errorf("replay %s-%d: %w", offsetsTopic, p, err)
		}
	}
	b.coord = c
	b.log.Info("group coordinator loaded", "records", n, "skipped", skipped, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (b *Broker) stopCoordinator() {
	if b.coord != nil {
		b.coord.Close()
	}
}

// replay feeds every record of l below its high watermark to load.
func replay(l *partlog.Log, load func(key, value []byte) error) (int, error) {
	n := 0
	off, end := l.StartOffset(), l.HighWatermark()
	var buf []byte
	for off < end {
		data, err := l.Read(off, 1<<20, buf[:0])
		if err != nil {
			return n, err
		}
		if len(data) == 0 {
			break
		}
		buf = data
		for len(data) > 0 {
			bt, rest, err := batch.Next(data)
			if err != nil {
				return n, err
			}
			data = rest
			if bt.LastOffset() < off {
				continue
			}
			if !bt.IsControl() {
				recs, err := bt.Records()
				if err != nil {
					return n, fmt.Errorf("batch at offset %d: %w", bt.BaseOffset(), err)
				}
				for _, r := range recs {
					if bt.BaseOffset()+int64(r.OffsetDelta) < off {
						continue
					}
					if err := load(r.Key, r.Value); err != nil {
						return n, fmt.Errorf("load record at offset %d: %w", bt.BaseOffset()+int64(r.OffsetDelta), err)
					}
					n++
				}
			}
			off = bt.LastOffset() + 1
		}
	}
	return n, nil
}

// offsetStore is the coordinator's group.Store: __consumer_offsets.
type offsetStore struct {
	b *Broker
}

var _ group.Store = (*offsetStore)(nil)

// Append writes recs as one batch and returns once it is durable. The
// coordinator calls it with the records of one group, which all go to the
// group's partition (see offsetsPartition), so one call is one atomic
// batch.
func (s *offsetStore) Append(recs []group.Record) error {
	if len(recs) == 0 {
		return nil
	}
	b := s.b
	t := b.lookup(offsetsTopic)
	if t == nil {
		return fmt.Errorf("%w: %s missing", ErrClosed, offsetsTopic)
	}
	p := offsetsPartition(recs[0].Key, len(t.parts))
	kvs := make([][2][]byte, len(recs))
	for i, r := range recs {
		if q := offsetsPartition(r.Key, len(t.parts)); q != p {
			return fmt.Errorf("%w: one append spans partitions %d and %d of %s", ErrInvalidRequest, p, q, offsetsTopic)
		}
		kvs[i] = [2][]byte{r.Key, r.Value}
	}
	l := t.parts[p]
	_, err := l.Append(batch.Simple(time.Now().UnixMilli(), kvs...))
	if err == nil {
		err = b.syncer.Sync(l)
	}
	if errors.Is(err, partlog.ErrLogFailed) {
		b.reopenFailed(offsetsTopic, int32(p), l)
	}
	if err != nil {
		return fmt.Errorf("append to %s-%d: %w", offsetsTopic, p, err)
	}
	return nil
}

// offsetsPartition places a record: by its group id when the key has
// Kafka's layout (int16 version 0-2, then the group as an int16-prefixed
// string), as Kafka places groups, else by the whole key. Either way a key
// always lands in the same partition, which compaction needs.
func offsetsPartition(key []byte, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	if len(key) >= 4 {
		v := binary.BigEndian.Uint16(key)
		l := int(binary.BigEndian.Uint16(key[2:]))
		if v <= 2 && 4+l <= len(key) {
			h.Write(key[4 : 4+l])
			return int(h.Sum32() % uint32(n))
		}
	}
	h.Write(key)
	return int(h.Sum32() % uint32(n))
}

// handleFindCoordinator answers FindCoordinator, batched (v4) or not:
// this node coordinates every group; transactions are not supported.
func (b *Broker) handleFindCoordinator(req *kmsg.FindCoordinatorRequest) *kmsg.FindCoordinatorResponse {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	hp := b.advertised()
	find := func(key string) (node int32, host string, port int32, err error) {
		switch req.CoordinatorType {
		case 0: // group
			if b.coord == nil {
				return -1, "", -1, errorf(ErrCoordinatorNotAvailable, "The group coordinator is not available.")
			}
			return b.cfg.NodeID, hp.host, hp.port, nil
		case 1: // transaction
			return -1, "", -1, errorf(ErrCoordinatorNotAvailable, "Transactions are not supported by this broker.")
		default:
			return -1, "", -1, errorf(ErrInvalidRequest, "Unsupported coordinator type %d", req.CoordinatorType)
		}
	}
	if req.Version < 4 {
		node, host, port, err := find(req.CoordinatorKey)
		resp.NodeID, resp.Host, resp.Port = node, host, port
		resp.ErrorCode = errorCode(err, kerr.UnknownServerError)
		resp.ErrorMessage = errorMessage(err)
		return resp
	}
	for _, key := range req.CoordinatorKeys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		var err error
		c.NodeID, c.Host, c.Port, err = find(key)
		c.ErrorCode = errorCode(err, kerr.UnknownServerError)
		c.ErrorMessage = errorMessage(err)
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return resp
}

// dispatchGroup hands a group request to the coordinator.
func (c *conn) dispatchGroup(req kmsg.Request) (kmsg.Response, bool) {
	co := c.b.coord
	if co == nil {
		return nil, false
	}
	ctx := group.WithClient(c.ctx, c.clientID, clientHost(c.nc.RemoteAddr()))
	switch req := req.(type) {
	case *kmsg.JoinGroupRequest:
		return co.JoinGroup(ctx, req), true
	case *kmsg.SyncGroupRequest:
		return co.SyncGroup(ctx, req), true
	case *kmsg.HeartbeatRequest:
		return co.Heartbeat(ctx, req), true
	case *kmsg.LeaveGroupRequest:
		return co.LeaveGroup(ctx, req), true
	case *kmsg.OffsetCommitRequest:
		return co.OffsetCommit(ctx, req), true
	case *kmsg.OffsetFetchRequest:
		return co.OffsetFetch(ctx, req), true
	case *kmsg.DescribeGroupsRequest:
		return co.DescribeGroups(ctx, req), true
	case *kmsg.ListGroupsRequest:
		return co.ListGroups(ctx, req), true
	case *kmsg.DeleteGroupsRequest:
		return co.DeleteGroups(ctx, req), true
	case *kmsg.OffsetDeleteRequest:
		return co.OffsetDelete(ctx, req), true
	}
	return nil, false
}

// clientHost is the host part of a client's address, as Kafka reports it
// in DescribeGroups ("/127.0.0.1").
func clientHost(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return "/" + a.String()
	}
	return "/" + host
}
