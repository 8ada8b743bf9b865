package broker

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configEntry is one level of a config's value: the topic's own setting,
// the broker's setting, or Kafka's default.
type configEntry struct {
	name   string
	value  string
	source kmsg.ConfigSource
}

// topicConfigEntries lists a topic config's levels, highest precedence
// first: DYNAMIC_TOPIC_CONFIG when the topic sets it, STATIC_BROKER_CONFIG
// when the broker's Config changed the default, then DEFAULT_CONFIG.
func (b *Broker) topicConfigEntries(tc *topicConfig, overrides map[string]string) []configEntry {
	var es []configEntry
	if v, ok := overrides[tc.name]; ok {
		es = append(es, configEntry{tc.name, v, kmsg.ConfigSourceDynamicTopicConfig})
	}
	syn := tc.synonym
	if syn == "" {
		syn = tc.name
	}
	if v, static := b.cfg.brokerDefault(tc); static {
		es = append(es, configEntry{syn, v, kmsg.ConfigSourceStaticBrokerConfig})
	}
	return append(es, configEntry{syn, tc.def, kmsg.ConfigSourceDefaultConfig})
}

// describeTopic describes every topic config for a topic with the given
// overrides.
func (b *Broker) describeTopic(overrides map[string]string, synonyms, docs bool) []kmsg.DescribeConfigsResponseResourceConfig {
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for i := range topicConfigs {
		tc := &topicConfigs[i]
		es := b.topicConfigEntries(tc, overrides)
		rc := kmsg.NewDescribeConfigsResponseResourceConfig()
		rc.Name = tc.name
		v := es[0].value
		rc.Value = &v
		rc.Source = es[0].source
		rc.IsDefault = rc.Source == kmsg.ConfigSourceDefaultConfig
		rc.ConfigType = tc.typ
		if docs {
			d := tc.doc
			if !tc.applied {
				d += " Accepted for compatibility; Sluice does not act on it."
			}
			rc.Documentation = &d
		}
		if synonyms {
			for _, e := range es {
				syn := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				sv := e.value
				syn.Name, syn.Value, syn.Source = e.name, &sv, e.source
				rc.ConfigSynonyms = append(rc.ConfigSynonyms, syn)
			}
		}
		out = append(out, rc)
	}
	return out
}

// brokerConfig is one broker property as DescribeConfigs shows it.
type brokerConfig struct {
	name, value, kafkaDefault string
	typ                       kmsg.ConfigType
}

// brokerConfigs lists the broker's properties: those Config sets, then the
// broker synonyms of the remaining topic configs at Kafka's defaults.
func (b *Broker) brokerConfigs() []brokerConfig {
	c := &b.cfg
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	hp := b.advertised()
	retentionMs := ""
	if c.LogRetentionMs != 0 {
		retentionMs = i64(c.LogRetentionMs)
	}
	out := []brokerConfig{
		{"node.id", i64(int64(c.NodeID)), "-1", kmsg.ConfigTypeInt},
		{"broker.id", i64(int64(c.NodeID)), "-1", kmsg.ConfigTypeInt},
		{"listeners", "PLAINTEXT://" + c.Listen, "PLAINTEXT://:9092", kmsg.ConfigTypeString},
		{"advertised.listeners", "PLAINTEXT://" + hp.host + ":" + strconv.Itoa(int(hp.port)), "", kmsg.ConfigTypeString},
		{"log.dirs", c.DataDir, "", kmsg.ConfigTypeString},
		{"auto.create.topics.enable", strconv.FormatBool(c.AutoCreateTopics), "true", kmsg.ConfigTypeBoolean},
		{"num.partitions", i64(int64(c.NumPartitions)), "1", kmsg.ConfigTypeInt},
		{"default.replication.factor", i64(int64(c.DefaultReplicationFactor)), "1", kmsg.ConfigTypeInt},
		{"offsets.topic.num.partitions", i64(int64(c.OffsetsTopicNumPartitions)), "50", kmsg.ConfigTypeInt},
		{"offsets.topic.replication.factor", "1", "3", kmsg.ConfigTypeShort},
		{"log.segment.bytes", i64(c.LogSegmentBytes), "1073741824", kmsg.ConfigTypeInt},
		{"log.roll.ms", i64(c.LogRollMs), "604800000", kmsg.ConfigTypeLong},
		{"log.retention.ms", retentionMs, "", kmsg.ConfigTypeLong},
		{"log.retention.hours", i64(c.LogRetentionHours), "168", kmsg.ConfigTypeInt},
		{"log.retention.bytes", i64(c.LogRetentionBytes), "-1", kmsg.ConfigTypeLong},
		{"log.cleanup.policy", strings.Join(splitList(c.LogCleanupPolicy), ","), "delete", kmsg.ConfigTypeList},
		{"log.cleaner.delete.retention.ms", i64(c.LogCleanerDeleteRetentionMs), "86400000", kmsg.ConfigTypeLong},
		{"log.cleaner.min.compaction.lag.ms", i64(c.LogCleanerMinCompactionLagMs), "0", kmsg.ConfigTypeLong},
		{"log.cleaner.min.cleanable.ratio", strconv.FormatFloat(c.LogCleanerMinCleanableRatio, 'g', -1, 64), "0.5", kmsg.ConfigTypeDouble},
		{"log.index.interval.bytes", i64(int64(c.LogIndexIntervalBytes)), "4096", kmsg.ConfigTypeInt},
		{"message.max.bytes", i64(int64(c.MessageMaxBytes)), "1048588", kmsg.ConfigTypeInt},
		{"log.retention.check.interval.ms", i64(c.RetentionCheckIntervalMs), "300000", kmsg.ConfigTypeLong},
		{"log.cleaner.backoff.ms", i64(c.CleanerBackoffMs), "15000", kmsg.ConfigTypeLong},
		{"socket.request.max.bytes", i64(int64(c.MaxRequestBytes)), "104857600", kmsg.ConfigTypeInt},
		{"group.min.session.timeout.ms", i64(int64(c.GroupMinSessionTimeoutMs)), "6000", kmsg.ConfigTypeInt},
		{"group.max.session.timeout.ms", i64(int64(c.GroupMaxSessionTimeoutMs)), "1800000", kmsg.ConfigTypeInt},
		{"group.initial.rebalance.delay.ms", i64(int64(c.GroupInitialRebalanceDelayMs)), "3000", kmsg.ConfigTypeInt},
		{"offsets.retention.minutes", i64(int64(c.OffsetsRetentionMinutes)), "10080", kmsg.ConfigTypeInt},
	}
	have := map[string]bool{}
	for _, bc := range out {
		have[bc.name] = true
	}
	for _, tc := range topicConfigs {
		if tc.synonym != "" && !have[tc.synonym] {
			have[tc.synonym] = true
			out = append(out, brokerConfig{tc.synonym, tc.def, tc.def, tc.typ})
		}
	}
	return out
}

func (b *Broker) describeBroker(synonyms bool) []kmsg.DescribeConfigsResponseResourceConfig {
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, bc := range b.brokerConfigs() {
		rc := kmsg.NewDescribeConfigsResponseResourceConfig()
		rc.Name = bc.name
		rc.ConfigType = bc.typ
		rc.ReadOnly = true // no dynamic broker configs
		rc.Source = kmsg.ConfigSourceDefaultConfig
		if bc.value != bc.kafkaDefault {
			rc.Source = kmsg.ConfigSourceStaticBrokerConfig
		}
		rc.IsDefault = rc.Source == kmsg.ConfigSourceDefaultConfig
		if bc.value != "" {
			v := bc.value
			rc.Value = &v
		}
		if synonyms {
			syn := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			syn.Name, syn.Value, syn.Source = rc.Name, rc.Value, rc.Source
			rc.ConfigSynonyms = append(rc.ConfigSynonyms, syn)
		}
		out = append(out, rc)
	}
	return out
}

// isThisBroker reports whether a BROKER resource name designates this node
// ("" is the cluster default, which is this node's static config too).
func (b *Broker) isThisBroker(name string) bool {
	return name == "" || name == strconv.Itoa(int(b.cfg.NodeID))
}

// handleDescribeConfigs describes topic and broker resources.
func (b *Broker) handleDescribeConfigs(req *kmsg.DescribeConfigsRequest) *kmsg.DescribeConfigsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	synonyms := req.Version >= 1 && req.IncludeSynonyms
	docs := req.Version >= 3 && req.IncludeDocumentation
	for _, rr := range req.Resources {
		rs := kmsg.NewDescribeConfigsResponseResource()
		rs.ResourceType, rs.ResourceName = rr.ResourceType, rr.ResourceName
		var err error
		switch rr.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			t := b.lookup(rr.ResourceName)
			if t == nil {
				if err = validateTopicName(rr.ResourceName); err == nil {
					err = errorf(ErrUnknownTopic, "Topic %s does not exist", rr.ResourceName)
				}
				break
			}
			rs.Configs = b.describeTopic(t.configs, synonyms, docs)
		case kmsg.ConfigResourceTypeBroker:
			if !b.isThisBroker(rr.ResourceName) {
				err = errorf(ErrInvalidRequest, "Unexpected broker id, expected %d or empty string, but received %s", b.cfg.NodeID, rr.ResourceName)
				break
			}
			rs.Configs = b.describeBroker(synonyms)
		default:
			err = errorf(ErrInvalidRequest, "Unsupported resource type %s", rr.ResourceType)
		}
		if err != nil {
			rs.ErrorCode = errorCode(err, kerr.UnknownServerError)
			rs.ErrorMessage = errorMessage(err)
		} else if rr.ConfigNames != nil {
			rs.Configs = slices.DeleteFunc(rs.Configs, func(c kmsg.DescribeConfigsResponseResourceConfig) bool {
				return !slices.Contains(rr.ConfigNames, c.Name)
			})
		}
		resp.Resources = append(resp.Resources, rs)
	}
	return resp
}

// alterTarget resolves the resource of an Alter(Incremental)Configs entry:
// the topic to change, or an error to answer.
func (b *Broker) alterTarget(typ kmsg.ConfigResourceType, name string) (*topic, error) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		t := b.lookup(name)
		if t == nil {
			if err := validateTopicName(name); err != nil {
				return nil, err
			}
			return nil, errorf(ErrUnknownTopic, "Topic %s does not exist", name)
		}
		return t, nil
	case kmsg.ConfigResourceTypeBroker:
		return nil, errorf(ErrInvalidRequest, "Broker configs are static in Sluice: set them in the broker configuration and restart")
	default:
		return nil, errorf(ErrInvalidRequest, "Unsupported resource type %s", typ)
	}
}

// handleAlterConfigs replaces a topic's whole set of configs (the legacy,
// non-incremental API: configs not named revert to their defaults).
func (b *Broker) handleAlterConfigs(req *kmsg.AlterConfigsRequest) *kmsg.AlterConfigsResponse {
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	dup := duplicateResources(req.Resources, func(r kmsg.AlterConfigsRequestResource) resourceKey {
		return resourceKey{r.ResourceType, r.ResourceName}
	})
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	for _, rr := range req.Resources {
		rs := kmsg.NewAlterConfigsResponseResource()
		rs.ResourceType, rs.ResourceName = rr.ResourceType, rr.ResourceName
		err := func() error {
			if dup[resourceKey{rr.ResourceType, rr.ResourceName}] {
				return errorf(ErrInvalidRequest, "Error due to duplicate resources")
			}
			t, err := b.alterTarget(rr.ResourceType, rr.ResourceName)
			if err != nil {
				return err
			}
			next := map[string]string{}
			for _, c := range rr.Configs {
				if _, ok := next[c.Name]; ok {
					return errorf(ErrInvalidRequest, "Error due to duplicate config keys")
				}
				if err := validateTopicConfig(c.Name, c.Value); err != nil {
					return err
				}
				next[strings.Clone(c.Name)] = normalizeConfigValue(c.Name, *c.Value)
			}
			if req.ValidateOnly {
				return nil
			}
			return b.setTopicConfigs(t, next)
		}()
		b.answerAlter(&rs.ErrorCode, &rs.ErrorMessage, rr.ResourceName, err)
		resp.Resources = append(resp.Resources, rs)
	}
	return resp
}

// handleIncrementalAlterConfigs applies SET, DELETE, APPEND and SUBTRACT
// operations to topics' configs (KIP-339).
func (b *Broker) handleIncrementalAlterConfigs(req *kmsg.IncrementalAlterConfigsRequest) *kmsg.IncrementalAlterConfigsResponse {
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	dup := duplicateResources(req.Resources, func(r kmsg.IncrementalAlterConfigsRequestResource) resourceKey {
		return resourceKey{r.ResourceType, r.ResourceName}
	})
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	for _, rr := range req.Resources {
		rs := kmsg.NewIncrementalAlterConfigsResponseResource()
		rs.ResourceType, rs.ResourceName = rr.ResourceType, rr.ResourceName
		err := func() error {
			if dup[resourceKey{rr.ResourceType, rr.ResourceName}] {
				return errorf(ErrInvalidRequest, "Error due to duplicate resources")
			}
			t, err := b.alterTarget(rr.ResourceType, rr.ResourceName)
			if err != nil {
				return err
			}
			next, err := b.applyIncremental(t, rr.Configs)
			if err != nil || req.ValidateOnly {
				return err
			}
			return b.setTopicConfigs(t, next)
		}()
		b.answerAlter(&rs.ErrorCode, &rs.ErrorMessage, rr.ResourceName, err)
		resp.Resources = append(resp.Resources, rs)
	}
	return resp
}

// applyIncremental returns t's configs after ops, all validated.
func (b *Broker) applyIncremental(t *topic, ops []kmsg.IncrementalAlterConfigsRequestResourceConfig) (map[string]string, error) {
	next := maps.Clone(t.configs)
	seen := map[string]bool{}
	for _, op := range ops {
		if seen[op.Name] {
			return nil, errorf(ErrInvalidRequest, "Error due to duplicate config keys")
		}
		seen[op.Name] = true
		tc, ok := lookupTopicConfig(op.Name)
		if !ok {
			return nil, errorf(ErrInvalidConfig, "Unknown topic config name: %s", op.Name)
		}
		name := tc.name
		switch op.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			if err := validateTopicConfig(name, op.Value); err != nil {
				return nil, err
			}
			next[name] = normalizeConfigValue(name, *op.Value)
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(next, name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			verb := "append"
			if op.Op == kmsg.IncrementalAlterConfigOpSubtract {
				verb = "subtract"
			}
			if tc.typ != kmsg.ConfigTypeList {
				return nil, errorf(ErrInvalidConfig, "Config value %s is not allowed for config key: %s", verb, name)
			}
			if op.Value == nil {
				return nil, errorf(ErrInvalidConfig, "Null value not supported for : %s", name)
			}
			cur := splitList(b.cfg.effectiveConfig(next, name))
			items := splitList(*op.Value)
			if op.Op == kmsg.IncrementalAlterConfigOpAppend {
				for _, it := range items {
					if !slices.Contains(cur, it) {
						cur = append(cur, it)
					}
				}
			} else {
				cur = slices.DeleteFunc(cur, func(s string) bool { return slices.Contains(items, s) })
			}
			v := strings.Join(cur, ",")
			if err := validateTopicConfig(name, &v); err != nil {
				return nil, err
			}
			next[name] = v
		default:
			return nil, errorf(ErrInvalidRequest, "Unknown alter config operation %d for %s", op.Op, name)
		}
	}
	return next, nil
}

func (b *Broker) answerAlter(code *int16, msg **string, resource string, err error) {
	if err == nil {
		return
	}
	*code = errorCode(err, kerr.UnknownServerError)
	*msg = errorMessage(err)
	if *code == kerr.UnknownServerError.Code {
		b.log.Error("altering configs", "resource", resource, "err", err)
	}
}

type resourceKey struct {
	typ  kmsg.ConfigResourceType
	name string
}

// duplicateResources returns the resources named more than once.
func duplicateResources[T any](rs []T, key func(T) resourceKey) map[resourceKey]bool {
	n := map[resourceKey]int{}
	for _, r := range rs {
		n[key(r)]++
	}
	dup := map[resourceKey]bool{}
	for k, c := range n {
		if c > 1 {
			dup[k] = true
		}
	}
	return dup
}
