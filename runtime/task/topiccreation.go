package task

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/connectors"
)

// topicCreator creates the topics a source task writes to, per the
// connector's topic.creation.* groups (KIP-158): the first group in
// topic.creation.groups whose include list matches the topic and whose
// exclude list does not gives its replication factor, partitions and
// topic configs; otherwise the default group does. Topic creation is on
// when topic.creation.default.replication.factor and
// .partitions are set (and the worker allows it).
type topicCreator struct {
	groups []topicGroup // in order; the default group last
	cl     *kgo.Client
	known  map[string]bool // topics created or found to exist
}

type topicGroup struct {
	name              string
	include, exclude  []*regexp.Regexp
	partitions        int32
	replicationFactor int16
	configs           map[string]string
}

// newTopicCreator parses the topic.creation.* keys; it returns nil when
// the connector does not use topic creation.
func newTopicCreator(cc map[string]string, cl *kgo.Client) (*topicCreator, error) {
	const def = connectors.PrefixTopicCreation + connectors.TopicCreationGroupFixed + "."
	_, hasRF := cc[def+"replication.factor"]
	_, hasParts := cc[def+"partitions"]
	if !hasRF && !hasParts {
		return nil, nil
	}
	var errs connectors.ConfigErrors
	if !hasRF || !hasParts {
		missing := def + "partitions"
		if !hasRF {
			missing = def + "replication.factor"
		}
		return nil, append(errs, connectors.NewConfigError(missing, nil,
			"Topic creation needs both "+def+"replication.factor and "+def+"partitions"))
	}
	parseGroup := func(name string, base *topicGroup) topicGroup {
		prefix := connectors.PrefixTopicCreation + name + "."
		g := topicGroup{name: name, configs: map[string]string{}}
		if base != nil {
			g.partitions, g.replicationFactor = base.partitions, base.replicationFactor
		}
		for k, v := range cc {
			rest, ok := strings.CutPrefix(k, prefix)
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch rest {
			case "replication.factor":
				n, err := strconv.ParseInt(v, 10, 16)
				if err != nil || n == 0 || n < -1 {
					errs = append(errs, connectors.NewConfigError(k, v, "Replication factor must be positive, or -1 to use the broker's default"))
				}
				g.replicationFactor = int16(n)
			case "partitions":
				n, err := strconv.ParseInt(v, 10, 32)
				if err != nil || n == 0 || n < -1 {
					errs = append(errs, connectors.NewConfigError(k, v, "Number of partitions must be positive, or -1 to use the broker's default"))
				}
				g.partitions = int32(n)
			case "include", "exclude":
				for _, expr := range strings.Split(v, ",") {
					if expr = strings.TrimSpace(expr); expr == "" {
						continue
					}
					re, err := regexp.Compile("^(?:" + expr + ")$")
					if err != nil {
						errs = append(errs, connectors.NewConfigError(k, v, err.Error()))
						continue
					}
					if rest == "include" {
						g.include = append(g.include, re)
					} else {
						g.exclude = append(g.exclude, re)
					}
				}
			default:
				g.configs[rest] = v
			}
		}
		return g
	}
	dg := parseGroup(connectors.TopicCreationGroupFixed, nil)
	dg.include, dg.exclude = []*regexp.Regexp{regexp.MustCompile(".*")}, nil
	c := &topicCreator{cl: cl, known: map[string]bool{}}
	for _, name := range strings.Split(cc[connectors.KeyTopicCreationGroups], ",") {
		name = strings.TrimSpace(name)
		if name == "" || name == connectors.TopicCreationGroupFixed {
			continue
		}
		g := parseGroup(name, &dg)
		if len(g.include) == 0 {
			errs = append(errs, connectors.NewConfigError(connectors.PrefixTopicCreation+name+".include", nil,
				"Topic creation group "+name+" needs an include list"))
		}
		c.groups = append(c.groups, g)
	}
	c.groups = append(c.groups, dg)
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// group returns the group that governs topic.
func (c *topicCreator) group(topic string) *topicGroup {
	matches := func(res []*regexp.Regexp) bool {
		for _, re := range res {
			if re.MatchString(topic) {
				return true
			}
		}
		return false
	}
	for i := range c.groups {
		if g := &c.groups[i]; matches(g.include) && !matches(g.exclude) {
			return g
		}
	}
	return &c.groups[len(c.groups)-1]
}

// ensure creates topic unless it was seen before or exists.
func (c *topicCreator) ensure(ctx context.Context, topic string) error {
	if c == nil || c.known[topic] {
		return nil
	}
	g := c.group(topic)
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = topic, g.partitions, g.replicationFactor
	for k, v := range g.configs {
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		t.Configs = append(t.Configs, cfg)
	}
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, c.cl)
	if err == nil && len(resp.Topics) != 1 {
		err = fmt.Errorf("%d topics in the response", len(resp.Topics))
	}
	if err == nil {
		if err = kerr.ErrorForCode(resp.Topics[0].ErrorCode); errors.Is(err, kerr.TopicAlreadyExists) {
			err = nil
		} else if err != nil && resp.Topics[0].ErrorMessage != nil {
			err = fmt.Errorf("%w: %s", err, *resp.Topics[0].ErrorMessage)
		}
	}
	if err != nil {
		return fmt.Errorf("create topic %s (topic.creation group %s): %w", topic, g.name, err)
	}
	c.known[topic] = true
	return nil
}
