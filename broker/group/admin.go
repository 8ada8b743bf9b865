package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file is the admin part of the core: DescribeGroups, ListGroups and
// DeleteGroups for one group.

// groupAuthorizedOperations is the DescribeGroups authorized-operations
// bit field with every group operation allowed (READ 3, DELETE 6,
// DESCRIBE 8): Sluice has no ACLs.
const groupAuthorizedOperations = 1<<3 | 1<<6 | 1<<8

// describe fills one group of a DescribeGroups response. As in Kafka,
// members carry protocol metadata and assignment only while Stable, and
// the protocol is reported only then.
func (g *group) describe(includeOps bool) kmsg.DescribeGroupsResponseGroup {
	dg := kmsg.NewDescribeGroupsResponseGroup()
	dg.Group = g.name
	dg.State = g.state.String()
	dg.ProtocolType = g.protocolType
	if includeOps {
		dg.AuthorizedOperations = groupAuthorizedOperations
	}
	stable := g.state == StateStable
	if stable {
		dg.Protocol = g.protocol
	}
	for _, m := range g.sortedMembers() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = m.instanceID
		dm.ClientID = m.client.id
		dm.ClientHost = m.client.host
		dm.ProtocolMetadata = []byte{}
		dm.MemberAssignment = []byte{}
		if stable {
			if md, ok := m.metadataFor(g.protocol); ok && md != nil {
				dm.ProtocolMetadata = md
			}
			if m.assignment != nil {
				dm.MemberAssignment = m.assignment
			}
		}
		dg.Members = append(dg.Members, dm)
	}
	return dg
}

// describeMissing is DescribeGroups' answer for a group that does not
// exist: state Dead, and from v6 GROUP_ID_NOT_FOUND.
func describeMissing(name string, version int16, includeOps bool) kmsg.DescribeGroupsResponseGroup {
	dg := kmsg.NewDescribeGroupsResponseGroup()
	dg.Group = name
	dg.State = StateDead.String()
	if includeOps {
		dg.AuthorizedOperations = groupAuthorizedOperations
	}
	if version >= 6 {
		dg.ErrorCode = kerr.GroupIDNotFound.Code
		dg.ErrorMessage = kmsg.StringPtr("group " + name + " not found")
	}
	return dg
}

// listed is the group's ListGroups entry.
func (g *group) listed() kmsg.ListGroupsResponseGroup {
	lg := kmsg.NewListGroupsResponseGroup()
	lg.Group = g.name
	lg.ProtocolType = g.protocolType
	lg.GroupState = g.state.String()
	lg.GroupType = "classic"
	return lg
}

// deleteGroup handles DeleteGroups for this group: only an Empty group can
// be deleted, by tombstoning its metadata and every offset. It returns the
// error code; on success the group is Dead.
func (g *group) deleteGroup(now time.Time) int16 {
	switch g.state {
	case StateEmpty:
	case StateDead:
		return kerr.GroupIDNotFound.Code
	default:
		return kerr.NonEmptyGroup.Code
	}
	recs := []Record{{Key: metadataKey(g.name)}}
	for _, tp := range g.sortedOffsets() {
		recs = append(recs, offsetTombstone(g.name, tp.topic, tp.partition))
	}
	if err := g.env.store.Append(recs); err != nil {
		g.env.log.Debug("group delete not stored", "group", g.name, "err", err)
		return kerr.CoordinatorNotAvailable.Code
	}
	clear(g.offsets)
	clear(g.pending)
	g.setState(StateDead, now)
	g.env.log.Info("group deleted", "group", g.name)
	return 0
}
