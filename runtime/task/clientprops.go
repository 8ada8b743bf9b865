package task

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connectors"
)

// Kafka client properties understood for task producers and consumers:
// the worker's producer.* / consumer.* properties overlaid with the
// connector's producer.override.* / consumer.override.*, as Kafka Connect
// builds its clients. Each maps to the kgo option that means the same;
// properties about connections and security (bootstrap.servers, sasl.*,
// ssl.*, security.protocol) come from the worker's base options in Env,
// and other Java client properties (serializers, interceptors, metrics)
// have no meaning here and are ignored.

// Sluice defaults that differ from kgo's, chosen for Kafka Connect
// compatibility and a bounded memory footprint.
const (
	// defaultBufferMemory is buffer.memory (Kafka: 32 MiB per producer,
	// and Connect runs one producer per source task). Debezium records
	// with schemas are 3–4 KB as JSON: 32 MiB of them waiting for acks
	// was 40 MB of a CDC worker's 90 MB live heap, for no throughput over
	// 8 MiB (BenchmarkWorkerCDC). producer.buffer.memory sets it.
	defaultBufferMemory = 8 << 20
	// defaultMaxBuffered bounds the records in flight per source task
	// (Sluice's max.buffered.records; kgo's own default is 50,000). Each
	// record in flight holds its converted bytes and the connector's
	// record until acknowledged: at kgo's default a task with JSON values
	// holds ~250 MB; 8,192 keeps the pipeline as fast (measured with
	// datagen → broker → file sink) at about a third of the memory.
	defaultMaxBuffered    = 8192
	defaultMaxPollRecords = 500      // max.poll.records, Kafka's default
	defaultFetchMaxBytes  = 16 << 20 // fetch.max.bytes (Kafka: 50 MiB); bounds memory per fetch
	defaultMaxFetches     = 2        // concurrent fetches per consumer (consumer max.concurrent.fetches)
)

// mergeProps returns base overlaid with the keys of override that start
// with prefix (prefix removed).
func mergeProps(base map[string]string, override map[string]string, prefix string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range override {
		if strings.HasPrefix(k, prefix) {
			out[k[len(prefix):]] = v
		}
	}
	return out
}

// propParser reads typed client properties and collects every problem.
type propParser struct {
	props  map[string]string
	prefix string // for error messages: "producer.override." etc.
	errs   connectors.ConfigErrors
}

func (p *propParser) str(key string) (string, bool) {
	v, ok := p.props[key]
	return strings.TrimSpace(v), ok
}

func (p *propParser) int64(key string, min int64) (int64, bool) {
	s, ok := p.str(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.errs = append(p.errs, connectors.NewConfigError(p.prefix+key, s, "Not a number of type LONG"))
		return 0, false
	}
	if n < min {
		p.errs = append(p.errs, connectors.NewConfigError(p.prefix+key, s, fmt.Sprintf("Value must be at least %d", min)))
		return 0, false
	}
	return n, true
}

func (p *propParser) ms(key string, min int64) (time.Duration, bool) {
	n, ok := p.int64(key, min)
	return time.Duration(n) * time.Millisecond, ok
}

func (p *propParser) oneOf(key string, values ...string) (string, bool) {
	s, ok := p.str(key)
	if !ok {
		return "", false
	}
	for _, v := range values {
		if strings.EqualFold(s, v) {
			return v, true
		}
	}
	p.errs = append(p.errs, connectors.NewConfigError(p.prefix+key, s, "String must be one of: "+strings.Join(values, ", ")))
	return "", false
}

func (p *propParser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return p.errs
}

// producerOpts maps producer properties to kgo options. Defaults: acks=all
// with idempotence, snappy compression (doc.go says why), buffer.memory
// 8 MiB, at most 8,192 records buffered (max.buffered.records).
func producerOpts(props map[string]string, prefix string) ([]kgo.Opt, error) {
	p := &propParser{props: props, prefix: prefix}
	opts := []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(kgo.SnappyCompression()),
		kgo.MaxBufferedBytes(defaultBufferMemory), kgo.MaxBufferedRecords(defaultMaxBuffered), kgo.AllowAutoTopicCreation()}
	idempotent := true
	if v, ok := p.oneOf("acks", "all", "-1", "1", "0"); ok {
		switch v {
		case "1":
			opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
			idempotent = false
		case "0":
			opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
			idempotent = false
		}
	}
	if v, ok := p.oneOf("enable.idempotence", "true", "false"); ok && v == "false" {
		idempotent = false
	}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if d, ok := p.ms("linger.ms", 0); ok {
		opts = append(opts, kgo.ProducerLinger(d))
	}
	if n, ok := p.int64("batch.size", 1); ok {
		opts = append(opts, kgo.ProducerBatchMaxBytes(int32(min(n, 1<<30))))
	}
	if v, ok := p.oneOf("compression.type", "none", "gzip", "snappy", "lz4", "zstd"); ok {
		codec := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
			"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[v]
		opts = append(opts, kgo.ProducerBatchCompression(codec))
	}
	if n, ok := p.int64("buffer.memory", 1); ok {
		opts = append(opts, kgo.MaxBufferedBytes(int(n)))
	}
	if n, ok := p.int64("max.buffered.records", 1); ok { // Sluice: kgo's MaxBufferedRecords
		opts = append(opts, kgo.MaxBufferedRecords(int(n)))
	}
	if n, ok := p.int64("max.in.flight.requests.per.connection", 1); ok {
		opts = append(opts, kgo.MaxProduceRequestsInflightPerBroker(int(n)))
	}
	if d, ok := p.ms("delivery.timeout.ms", 0); ok {
		opts = append(opts, kgo.RecordDeliveryTimeout(d))
	}
	if d, ok := p.ms("request.timeout.ms", 1); ok {
		opts = append(opts, kgo.ProduceRequestTimeout(d))
	}
	if n, ok := p.int64("retries", 0); ok {
		opts = append(opts, kgo.RecordRetries(int(n)))
	}
	if s, ok := p.str("client.id"); ok && s != "" {
		opts = append(opts, kgo.ClientID(s))
	}
	return opts, p.err()
}

// consumerConfig is what a sink task's consumer is built from.
type consumerConfig struct {
	opts           []kgo.Opt
	groupID        string
	maxPollRecords int
}

// consumerOpts maps consumer properties to kgo options for a group member.
// Defaults as Kafka Connect's sink consumers: auto.offset.reset=earliest,
// no auto commit, the classic protocol with the cooperative-sticky
// balancer; plus bounded fetching (fetch.max.bytes 16 MiB, 2 concurrent
// fetches).
func consumerOpts(props map[string]string, prefix, defaultGroup string) (consumerConfig, error) {
	p := &propParser{props: props, prefix: prefix}
	cc := consumerConfig{groupID: defaultGroup, maxPollRecords: defaultMaxPollRecords}
	opts := []kgo.Opt{kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
		kgo.GroupProtocol("classic"), kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.FetchMaxBytes(defaultFetchMaxBytes), kgo.MaxConcurrentFetches(defaultMaxFetches)}
	if s, ok := p.str("group.id"); ok && s != "" {
		cc.groupID = s
	}
	if n, ok := p.int64("max.poll.records", 1); ok {
		cc.maxPollRecords = int(min(n, 1<<24))
	}
	if n, ok := p.int64("fetch.max.bytes", 1); ok {
		opts = append(opts, kgo.FetchMaxBytes(int32(min(n, 1<<30))))
	}
	if n, ok := p.int64("max.partition.fetch.bytes", 1); ok {
		opts = append(opts, kgo.FetchMaxPartitionBytes(int32(min(n, 1<<30))))
	}
	if n, ok := p.int64("fetch.min.bytes", 1); ok {
		opts = append(opts, kgo.FetchMinBytes(int32(min(n, 1<<30))))
	}
	if d, ok := p.ms("fetch.max.wait.ms", 0); ok {
		opts = append(opts, kgo.FetchMaxWait(d))
	}
	if n, ok := p.int64("max.concurrent.fetches", 0); ok { // Sluice: kgo's MaxConcurrentFetches, 0 unbounded
		if n == 0 {
			n = -1
		}
		opts = append(opts, kgo.MaxConcurrentFetches(int(n)))
	}
	if v, ok := p.oneOf("auto.offset.reset", "earliest", "latest", "none"); ok {
		switch v {
		case "latest":
			opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		case "none":
			opts = append(opts, kgo.ConsumeResetOffset(kgo.NoResetOffset()))
		}
	}
	if d, ok := p.ms("session.timeout.ms", 1); ok {
		opts = append(opts, kgo.SessionTimeout(d))
	}
	if d, ok := p.ms("heartbeat.interval.ms", 1); ok {
		opts = append(opts, kgo.HeartbeatInterval(d))
	}
	if d, ok := p.ms("max.poll.interval.ms", 1); ok { // the rebalance timeout a Java member sends
		opts = append(opts, kgo.RebalanceTimeout(d))
	}
	if v, ok := p.oneOf("isolation.level", "read_uncommitted", "read_committed"); ok && v == "read_committed" {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	if v, ok := p.oneOf("group.protocol", "classic", "consumer"); ok {
		opts = append(opts, kgo.GroupProtocol(v))
	}
	if s, ok := p.str("group.instance.id"); ok && s != "" {
		opts = append(opts, kgo.InstanceID(s))
	}
	if s, ok := p.str("client.rack"); ok && s != "" {
		opts = append(opts, kgo.Rack(s))
	}
	if s, ok := p.str("client.id"); ok && s != "" {
		opts = append(opts, kgo.ClientID(s))
	}
	if s, ok := p.str("partition.assignment.strategy"); ok && s != "" {
		if bs, ok := balancers(p, s); ok {
			opts = append(opts, kgo.Balancers(bs...))
		}
	}
	cc.opts = opts
	return cc, p.err()
}

// balancers maps Kafka assignor class names (or their short names) to kgo
// balancers, in preference order.
func balancers(p *propParser, list string) ([]kgo.GroupBalancer, bool) {
	known := map[string]func() kgo.GroupBalancer{
		"RangeAssignor":             kgo.RangeBalancer,
		"RoundRobinAssignor":        kgo.RoundRobinBalancer,
		"StickyAssignor":            kgo.StickyBalancer,
		"CooperativeStickyAssignor": kgo.CooperativeStickyBalancer,
	}
	var out []kgo.GroupBalancer
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		short := name[strings.LastIndexByte(name, '.')+1:]
		mk, ok := known[short]
		if !ok {
			names := slices.Sorted(maps.Keys(known))
			p.errs = append(p.errs, connectors.NewConfigError(p.prefix+"partition.assignment.strategy", list,
				"Unknown assignor "+name+"; known: "+strings.Join(names, ", ")))
			return nil, false
		}
		out = append(out, mk())
	}
	return out, len(out) > 0
}
