package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// apiRange is the version range served for one API key.
type apiRange struct {
	key      int16
	min, max int16
	// group marks APIs served by the group coordinator: advertised only
	// when one is wired.
	group bool
}

// apis is every API the broker serves. Minimums are 0 wherever the
// semantics allow it: librdkafka enables features only when the advertised
// range contains specific old versions (see docs: Produce 3 and Fetch 4 for
// record batch v2, JoinGroup 0 and friends for groups, InitProducerId 0 for
// idempotence, ListOffsets 1 for offsets by time, Produce 7 and Fetch 10
// for zstd). Produce below 3 and Fetch below 4 would need the legacy message
// formats. Maxima stop before topic IDs replace names (Produce 13, Fetch 13)
// and before KIP-848/KIP-890 fields. Transactions (24-28) are deliberately
// absent so transactional clients fail fast.
var apis = []apiRange{
	{key: 0, min: 3, max: 12},              // Produce
	{key: 1, min: 4, max: 12},              // Fetch
	{key: 2, min: 0, max: 8},               // ListOffsets
	{key: 3, min: 0, max: 12},              // Metadata
	{key: 8, min: 0, max: 8, group: true},  // OffsetCommit
	{key: 9, min: 0, max: 7, group: true},  // OffsetFetch
	{key: 10, min: 0, max: 4},              // FindCoordinator
	{key: 11, min: 0, max: 9, group: true}, // JoinGroup
	{key: 12, min: 0, max: 4, group: true}, // Heartbeat
	{key: 13, min: 0, max: 5, group: true}, // LeaveGroup
	{key: 14, min: 0, max: 5, group: true}, // SyncGroup
	{key: 15, min: 0, max: 5, group: true}, // DescribeGroups
	{key: 16, min: 0, max: 4, group: true}, // ListGroups
	{key: 18, min: 0, max: 4},              // ApiVersions
	{key: 19, min: 0, max: 7},              // CreateTopics
	{key: 20, min: 0, max: 6},              // DeleteTopics
	{key: 22, min: 0, max: 4},              // InitProducerId
	{key: 23, min: 0, max: 4},              // OffsetForLeaderEpoch
	{key: 32, min: 0, max: 4},              // DescribeConfigs
	{key: 33, min: 0, max: 2},              // AlterConfigs
	{key: 37, min: 0, max: 3},              // CreatePartitions
	{key: 42, min: 0, max: 2, group: true}, // DeleteGroups
	{key: 44, min: 0, max: 1},              // IncrementalAlterConfigs
	{key: 47, min: 0, max: 0, group: true}, // OffsetDelete
	{key: 60, min: 0, max: 1},              // DescribeCluster
}

const apiVersionsKey = 18

// produceKey is the Produce API key.
const produceKey = 0

// apiRangeFor returns the range served for key, ok false when the key is
// not served.
func (b *Broker) apiRangeFor(key int16) (apiRange, bool) {
	i := slices.IndexFunc(apis, func(a apiRange) bool { return a.key == key })
	if i < 0 || (apis[i].group && b.coord == nil) {
		return apiRange{}, false
	}
	return apis[i], true
}

// apiVersionsKeys is the advertised key list.
func (b *Broker) apiVersionsKeys() []kmsg.ApiVersionsResponseApiKey {
	var keys []kmsg.ApiVersionsResponseApiKey
	for _, a := range apis {
		if a.group && b.coord == nil {
			continue
		}
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.min, a.max
		keys = append(keys, k)
	}
	return keys
}

// handleApiVersions answers ApiVersions. A version above our maximum was
// not decoded; it is answered with a v0 body carrying UNSUPPORTED_VERSION
// and the key list, so the client retries at a version we serve (KIP-511).
func (b *Broker) handleApiVersions(req *kmsg.ApiVersionsRequest, unsupported bool) *kmsg.ApiVersionsResponse {
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = b.apiVersionsKeys()
	switch {
	case unsupported:
		resp.SetVersion(0)
		resp.ErrorCode = kerr.UnsupportedVersion.Code
	case req.Version >= 3 && (!validSoftwareName(req.ClientSoftwareName) || !validSoftwareName(req.ClientSoftwareVersion)):
		// KIP-511: Kafka checks both against
		// [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
		resp.ErrorCode = kerr.InvalidRequest.Code
	}
	return resp
}

func validSoftwareName(s string) bool {
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	if s == "" || !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !alnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
