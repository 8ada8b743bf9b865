package broker_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCreateTopicsValidation(t *testing.T) {
	tb := startBroker(t, "")
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 10*time.Second)

	ok := createTopic(t, tb.addr, "ok", 3, map[string]*string{"retention.ms": ptr("1000")})
	createTopic(t, tb.addr, "o_k", 1, nil)
	if ok.ID == [16]byte{} || ok.NumPartitions != 3 || ok.ReplicationFactor != 1 {
		t.Errorf("created: %+v", ok)
	}
	if c := ok.Configs["retention.ms"]; c.MaybeValue() != "1000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("created configs: retention.ms %+v", c)
	}

	for _, tc := range []struct {
		name       string
		topic      string
		partitions int32
		rf         int16
		configs    map[string]*string
		err        *kerr.Error
		msg        string
	}{
		{"exists", "ok", 1, 1, nil, kerr.TopicAlreadyExists, "Topic 'ok' already exists."},
		{"replication", "r3", 1, 3, nil, kerr.InvalidReplicationFactor, "Replication factor: 3 larger than available brokers: 1."},
		{"replication zero", "r0", 1, 0, nil, kerr.InvalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value."},
		{"partitions zero", "p0", 0, 1, nil, kerr.InvalidPartitions, "Number of partitions was set to an invalid non-positive value."},
		{"bad char", "a/b", 1, 1, nil, kerr.InvalidTopicException, `Topic name "a/b" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`},
		{"dot", ".", 1, 1, nil, kerr.InvalidTopicException, `Topic name cannot be "." or ".."`},
		{"too long", strings.Repeat("x", 250), 1, 1, nil, kerr.InvalidTopicException, "Topic name is illegal, it can't be longer than 249 characters, topic name: " + strings.Repeat("x", 250)},
		{"collision", "o.k", 1, 1, nil, kerr.InvalidTopicException, "Topic 'o.k' collides with existing topic: o_k"},
		{"unknown config", "c1", 1, 1, map[string]*string{"foo.bar": ptr("1")}, kerr.InvalidConfig, "Unknown topic config name: foo.bar"},
		{"not a long", "c2", 1, 1, map[string]*string{"retention.ms": ptr("abc")}, kerr.InvalidConfig, "Invalid value abc for configuration retention.ms: Not a number of type LONG"},
		{"below min", "c3", 1, 1, map[string]*string{"max.message.bytes": ptr("-5")}, kerr.InvalidConfig, "Invalid value -5 for configuration max.message.bytes: Value must be at least 0"},
		{"bad policy", "c4", 1, 1, map[string]*string{"cleanup.policy": ptr("shred")}, kerr.InvalidConfig, "Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete"},
		{"bad timestamp type", "c5", 1, 1, map[string]*string{"message.timestamp.type": ptr("Now")}, kerr.InvalidConfig, "Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// kadm returns the topic's error both ways.
			resp, _ := adm.CreateTopic(ctx, tc.partitions, tc.rf, tc.configs, tc.topic)
			if !errors.Is(resp.Err, tc.err) {
				t.Fatalf("error %v, want %v", resp.Err, tc.err)
			}
			if tc.msg != "" && resp.ErrMessage != tc.msg {
				t.Errorf("message %q\nwant    %q", resp.ErrMessage, tc.msg)
			}
		})
	}

	// Defaults (-1) and ValidateOnly.
	resp, err := adm.ValidateCreateTopics(ctx, -1, -1, nil, "validated")
	if err != nil {
		t.Fatal(err)
	}
	if r := resp["validated"]; r.Err != nil || r.NumPartitions != 1 || r.ReplicationFactor != 1 {
		t.Errorf("validate-only: %+v", r)
	}
	if td, _ := adm.ListTopics(ctx, "validated"); td["validated"].Err == nil {
		t.Error("validate-only created the topic")
	}
}

func TestCreatePartitions(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "grow", 2, nil)
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 10*time.Second)
	if resp, err := adm.CreatePartitions(ctx, 3, "grow"); err != nil || resp["grow"].Err != nil {
		t.Fatalf("CreatePartitions: %v %+v", err, resp)
	}
	td, err := adm.ListTopics(ctx, "grow")
	if err != nil || len(td["grow"].Partitions) != 5 {
		t.Fatalf("after growing: %v %+v", err, td["grow"])
	}
	resp, err := adm.UpdatePartitions(ctx, 4, "grow")
	if err != nil {
		t.Fatal(err)
	}
	if r := resp["grow"]; !errors.Is(r.Err, kerr.InvalidPartitions) || r.ErrMessage != "The topic grow currently has 5 partition(s); 4 would not be an increase." {
		t.Errorf("shrink: %v %q", r.Err, r.ErrMessage)
	}
	resp, _ = adm.UpdatePartitions(ctx, 5, "grow")
	if r := resp["grow"]; !errors.Is(r.Err, kerr.InvalidPartitions) || r.ErrMessage != "Topic already has 5 partition(s)." {
		t.Errorf("same count: %v %q", r.Err, r.ErrMessage)
	}
	// The new partitions take data.
	cl := newClient(t, tb.addr)
	produceN(t, cl, "grow", "g", 500)
	checkContiguous(t, consumeN(t, tb.addr, "grow", 500), values("g", 500))

	// And survive a restart.
	tb = tb.restart(t)
	td, err = newAdmin(t, tb.addr).ListTopics(testCtx(t, 10*time.Second), "grow")
	if err != nil || len(td["grow"].Partitions) != 5 {
		t.Fatalf("after restart: %v %+v", err, td["grow"])
	}
}

func configOf(t *testing.T, adm *kadm.Client, topic, key string) kadm.Config {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(testCtx(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe %s: %v %v", topic, err, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("%s has no config %s", topic, key)
	return kadm.Config{}
}

func TestDescribeAndAlterConfigs(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "cfg", 1, map[string]*string{"segment.ms": ptr("60000")})
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 10*time.Second)

	rcs, err := adm.DescribeTopicConfigs(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := rcs.On("cfg", nil)
	got := map[string]kadm.Config{}
	for _, c := range rc.Configs {
		got[c.Key] = c
	}
	for _, key := range []string{"cleanup.policy", "compression.type", "delete.retention.ms", "max.message.bytes", "message.timestamp.type",
		"min.insync.replicas", "retention.bytes", "retention.ms", "segment.bytes", "segment.ms", "unclean.leader.election.enable"} {
		if _, ok := got[key]; !ok {
			t.Errorf("DescribeConfigs lacks %s", key)
		}
	}
	if c := got["segment.ms"]; c.MaybeValue() != "60000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("segment.ms: %s %v", c.MaybeValue(), c.Source)
	}
	if c := got["segment.bytes"]; c.MaybeValue() != "1073741824" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("segment.bytes: %s %v", c.MaybeValue(), c.Source)
	}
	if c := got["segment.ms"]; len(c.Synonyms) < 2 || c.Synonyms[1].Key != "log.roll.ms" || c.Synonyms[1].Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("segment.ms synonyms: %+v", c.Synonyms)
	}

	alter := func(ops ...kadm.AlterConfig) kadm.AlterConfigsResponse {
		t.Helper()
		resp, err := adm.AlterTopicConfigs(ctx, ops, "cfg")
		if err != nil {
			t.Fatal(err)
		}
		r, _ := resp.On("cfg", nil)
		return r
	}
	if r := alter(kadm.AlterConfig{Op: kadm.SetConfig, Name: "retention.ms", Value: ptr("5000")}); r.Err != nil {
		t.Fatalf("set: %v %s", r.Err, r.ErrMessage)
	}
	if c := configOf(t, adm, "cfg", "retention.ms"); c.MaybeValue() != "5000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("after set: %s %v", c.MaybeValue(), c.Source)
	}
	if r := alter(kadm.AlterConfig{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: ptr("compact")}); r.Err != nil {
		t.Fatalf("append: %v %s", r.Err, r.ErrMessage)
	}
	if c := configOf(t, adm, "cfg", "cleanup.policy"); c.MaybeValue() != "delete,compact" {
		t.Errorf("after append: %s", c.MaybeValue())
	}
	if r := alter(kadm.AlterConfig{Op: kadm.SubtractConfig, Name: "cleanup.policy", Value: ptr("delete")}); r.Err != nil {
		t.Fatalf("subtract: %v %s", r.Err, r.ErrMessage)
	}
	if c := configOf(t, adm, "cfg", "cleanup.policy"); c.MaybeValue() != "compact" {
		t.Errorf("after subtract: %s", c.MaybeValue())
	}
	if r := alter(kadm.AlterConfig{Op: kadm.DeleteConfig, Name: "retention.ms"}); r.Err != nil {
		t.Fatalf("delete: %v %s", r.Err, r.ErrMessage)
	}
	if c := configOf(t, adm, "cfg", "retention.ms"); c.MaybeValue() != "604800000" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("after delete: %s %v", c.MaybeValue(), c.Source)
	}
	for _, tc := range []struct {
		op  kadm.AlterConfig
		msg string
	}{
		{kadm.AlterConfig{Op: kadm.AppendConfig, Name: "retention.ms", Value: ptr("1")}, "Config value append is not allowed for config key: retention.ms"},
		{kadm.AlterConfig{Op: kadm.SetConfig, Name: "segment.bytes", Value: ptr("1")}, "Invalid value 1 for configuration segment.bytes: Value must be at least 69"},
		{kadm.AlterConfig{Op: kadm.SetConfig, Name: "nope", Value: ptr("1")}, "Unknown topic config name: nope"},
		{kadm.AlterConfig{Op: kadm.SetConfig, Name: "compression.type", Value: ptr("gzip")}, "Invalid value gzip for configuration compression.type: String must be one of: producer"},
	} {
		if r := alter(tc.op); !errors.Is(r.Err, kerr.InvalidConfig) || r.ErrMessage != tc.msg {
			t.Errorf("%s %s: %v %q, want INVALID_CONFIG %q", tc.op.Name, *tc.op.Value, r.Err, r.ErrMessage, tc.msg)
		}
	}

	// Legacy AlterConfigs replaces the whole set.
	resp, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.bytes", Value: ptr("1048576")}}, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := resp.On("cfg", nil); r.Err != nil {
		t.Fatalf("AlterConfigs: %v %s", r.Err, r.ErrMessage)
	}
	if c := configOf(t, adm, "cfg", "retention.bytes"); c.MaybeValue() != "1048576" {
		t.Errorf("retention.bytes after AlterConfigs: %s", c.MaybeValue())
	}
	if c := configOf(t, adm, "cfg", "segment.ms"); c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("segment.ms after AlterConfigs: %s %v, want back to default", c.MaybeValue(), c.Source)
	}

	// Persisted.
	tb = tb.restart(t)
	adm = newAdmin(t, tb.addr)
	if c := configOf(t, adm, "cfg", "retention.bytes"); c.MaybeValue() != "1048576" {
		t.Errorf("retention.bytes after restart: %s", c.MaybeValue())
	}

	// Unknown topic, broker resources.
	rcs, _ = adm.DescribeTopicConfigs(ctx, "missing")
	if r, _ := rcs.On("missing", nil); !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("describe missing topic: %v", r.Err)
	}
	brcs, err := adm.DescribeBrokerConfigs(testCtx(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rc := range brcs {
		for _, c := range rc.Configs {
			if c.Key == "num.partitions" && c.MaybeValue() == "1" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("broker configs lack num.partitions=1: %+v", brcs)
	}
}

func TestMinInsyncReplicasAndLogAppendTime(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "isr", 1, map[string]*string{"min.insync.replicas": ptr("2")})
	cl := newClient(t, tb.addr, kgo.RecordRetries(0), kgo.RecordDeliveryTimeout(2*time.Second))
	err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Topic: "isr", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.NotEnoughReplicas) {
		t.Errorf("acks=all with min.insync.replicas=2: %v", err)
	}

	createTopic(t, tb.addr, "lat", 1, map[string]*string{"message.timestamp.type": ptr("LogAppendTime")})
	before := time.Now()
	old := time.UnixMilli(1000)
	if err := newClient(t, tb.addr).ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Topic: "lat", Value: []byte("x"), Timestamp: old}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	r := consumeN(t, tb.addr, "lat", 1)[0]
	if r.Timestamp.Before(before.Add(-time.Second)) || r.Attrs.TimestampType() != 1 {
		t.Errorf("LogAppendTime record: timestamp %v type %d", r.Timestamp, r.Attrs.TimestampType())
	}
}
