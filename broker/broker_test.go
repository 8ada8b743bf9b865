package broker_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker"
)

func TestProduceConsumeRoundTrip(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "rt", 4, nil)
	const n = 100_000
	// kgo defaults: acks=all, idempotent.
	produceN(t, newClient(t, tb.addr, kgo.ProducerLinger(5*time.Millisecond)), "rt", "v", n)
	recs := consumeN(t, tb.addr, "rt", n)
	if len(recs) != n {
		t.Fatalf("consumed %d records, want %d", len(recs), n)
	}
	checkContiguous(t, recs, values("v", n))
	parts := map[int32]int{}
	for _, r := range recs {
		parts[r.Partition]++
	}
	if len(parts) != 4 {
		t.Errorf("records spread over %d partitions, want 4", len(parts))
	}
}

func TestProduceAcks(t *testing.T) {
	tb := startBroker(t, "")
	for _, tc := range []struct {
		name string
		acks kgo.Acks
	}{{"leader", kgo.LeaderAck()}, {"none", kgo.NoAck()}} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "acks-" + tc.name
			createTopic(t, tb.addr, topic, 2, nil)
			// acks=0 sends no response: a wrong one would break the
			// client's correlation ids and fail the later metadata.
			cl := newClient(t, tb.addr, kgo.RequiredAcks(tc.acks), kgo.DisableIdempotentWrite())
			produceN(t, cl, topic, "a", 500)
			recs := consumeN(t, tb.addr, topic, 500)
			checkContiguous(t, recs, values("a", 500))
		})
	}
}

func TestCompressionCodecs(t *testing.T) {
	tb := startBroker(t, "")
	for _, tc := range []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()},
		{"gzip", kgo.GzipCompression()},
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "codec-" + tc.name
			cl := newClient(t, tb.addr, kgo.ProducerBatchCompression(tc.codec), kgo.AllowAutoTopicCreation())
			produceN(t, cl, topic, tc.name, 2000)
			recs := consumeN(t, tb.addr, topic, 2000)
			checkContiguous(t, recs, values(tc.name, 2000))
		})
	}
}

// rawFetch fetches topic partition 0 from offset with the given wait.
func rawFetch(t testing.TB, cl *kgo.Client, topic string, offset int64, maxWait int32) (*kmsg.FetchResponse, time.Duration) {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = maxWait
	req.MinBytes = 1
	req.MaxBytes = 1 << 20
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	start := time.Now()
	resp, err := req.RequestWith(testCtx(t, 60*time.Second), cl)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return resp, time.Since(start)
}

func TestFetchLongPoll(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "lp", 1, nil)
	cl := newClient(t, tb.addr)

	// Nothing to read: the fetch waits MaxWait and answers empty, not null.
	resp, took := rawFetch(t, cl, "lp", 0, 300)
	p := resp.Topics[0].Partitions[0]
	if took < 250*time.Millisecond {
		t.Errorf("empty fetch returned after %v, want about MaxWait 300ms", took)
	}
	if p.ErrorCode != 0 || p.RecordBatches == nil || len(p.RecordBatches) != 0 || p.HighWatermark != 0 {
		t.Errorf("empty fetch: error %d, batches %v (nil %v), hwm %d", p.ErrorCode, p.RecordBatches, p.RecordBatches == nil, p.HighWatermark)
	}

	// Data arriving during the wait answers at once.
	producer := newClient(t, tb.addr)
	timer := time.AfterFunc(200*time.Millisecond, func() {
		producer.Produce(context.Background(), &kgo.Record{Topic: "lp", Value: []byte("wake")}, nil)
	})
	defer timer.Stop()
	resp, took = rawFetch(t, cl, "lp", 0, 30_000)
	p = resp.Topics[0].Partitions[0]
	if took > 15*time.Second || len(p.RecordBatches) == 0 {
		t.Fatalf("fetch took %v and returned %d bytes; want the produced batch well before MaxWait", took, len(p.RecordBatches))
	}
	if p.HighWatermark != 1 || p.LastStableOffset != 1 || p.LogStartOffset != 0 {
		t.Errorf("hwm %d lso %d log start %d, want 1 1 0", p.HighWatermark, p.LastStableOffset, p.LogStartOffset)
	}

	// Out of range.
	resp, _ = rawFetch(t, cl, "lp", 100, 0)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.OffsetOutOfRange.Code {
		t.Errorf("fetch at 100: error %d, want OFFSET_OUT_OF_RANGE", code)
	}
	// Unknown topic.
	resp, _ = rawFetch(t, cl, "nope", 0, 0)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("fetch of unknown topic: error %d, want UNKNOWN_TOPIC_OR_PARTITION", code)
	}
}

func TestFetchMaxBytes(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "mb", 1, nil)
	cl := newClient(t, tb.addr, kgo.ProducerLinger(0), kgo.MaxBufferedRecords(1), kgo.ProducerBatchCompression(kgo.NoCompression()))
	// Separate batches of 10 KiB each.
	for i := 0; i < 10; i++ {
		if err := cl.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Topic: "mb", Value: make([]byte, 10<<10)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	req := kmsg.NewPtrFetchRequest()
	req.MaxBytes = 1 // below one batch: still one batch (KIP-74)
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "mb"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 25 << 10
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	got := len(resp.Topics[0].Partitions[0].RecordBatches)
	if got < 10<<10 || got > 11<<10 {
		t.Errorf("MaxBytes 1 returned %d bytes, want exactly one ~10 KiB batch", got)
	}
	req.MaxBytes = 1 << 20
	resp, err = req.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	got = len(resp.Topics[0].Partitions[0].RecordBatches)
	if got < 20<<10 || got > 25<<10 {
		t.Errorf("PartitionMaxBytes 25 KiB returned %d bytes, want two batches", got)
	}
}

func TestListOffsets(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "lo", 1, nil)
	cl := newClient(t, tb.addr)
	for i, ts := range []int64{1000, 2000, 3000, 2500} {
		r := &kgo.Record{Topic: "lo", Value: []byte(strconv.Itoa(i)), Timestamp: time.UnixMilli(ts)}
		if err := cl.ProduceSync(testCtx(t, 10*time.Second), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 10*time.Second)
	start, err := adm.ListStartOffsets(ctx, "lo")
	if err != nil {
		t.Fatal(err)
	}
	end, err := adm.ListEndOffsets(ctx, "lo")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := start.Lookup("lo", 0); o.Offset != 0 || o.Err != nil {
		t.Errorf("earliest: %+v", o)
	}
	if o, _ := end.Lookup("lo", 0); o.Offset != 4 || o.Err != nil {
		t.Errorf("latest: %+v", o)
	}
	for _, tc := range []struct{ ms, want int64 }{{0, 0}, {1500, 1}, {2000, 1}, {2600, 2}, {9999, 4}} {
		after, err := adm.ListOffsetsAfterMilli(ctx, tc.ms, "lo")
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := after.Lookup("lo", 0); o.Offset != tc.want {
			t.Errorf("after %d ms: offset %d, want %d", tc.ms, o.Offset, tc.want)
		}
	}

	// -3: the record with the largest timestamp (v7+).
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = "lo"
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -3
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.Offset != 2 || p.Timestamp != 3000 {
		t.Errorf("max timestamp: offset %d timestamp %d error %d, want 2 3000 0", p.Offset, p.Timestamp, p.ErrorCode)
	}

	// v0's shape: a list of offsets.
	c := dialRaw(t, tb.addr)
	req.Version = 0
	req.Topics[0].Partitions[0].Timestamp = -1
	req.Topics[0].Partitions[0].MaxNumOffsets = 1
	c.send(2, 0, 3, false, req.AppendTo(nil))
	_, body := c.recv()
	resp = kmsg.NewPtrListOffsetsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if got := resp.Topics[0].Partitions[0].OldStyleOffsets; len(got) != 1 || got[0] != 4 {
		t.Errorf("v0 latest: %v", got)
	}
}

func TestAutoCreate(t *testing.T) {
	tb := startBroker(t, "", func(c *broker.Config) { c.NumPartitions = 3 })
	cl := newClient(t, tb.addr, kgo.AllowAutoTopicCreation())
	produceN(t, cl, "auto", "x", 10)
	adm := newAdmin(t, tb.addr)
	td, err := adm.ListTopics(testCtx(t, 10*time.Second), "auto")
	if err != nil {
		t.Fatal(err)
	}
	if d := td["auto"]; d.Err != nil || len(d.Partitions) != 3 {
		t.Fatalf("auto-created topic: %+v", d)
	}

	// Metadata v4+ without AllowAutoTopicCreation does not create.
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = ptr("not-created")
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("metadata of unknown topic: error %d", resp.Topics[0].ErrorCode)
	}
	if len(resp.Brokers) != 1 || net.JoinHostPort(resp.Brokers[0].Host, strconv.Itoa(int(resp.Brokers[0].Port))) != tb.addr {
		t.Errorf("brokers %+v, want the listener %s", resp.Brokers, tb.addr)
	}

	// And with auto-creation off, producing to a new topic fails.
	tb2 := startBroker(t, "", func(c *broker.Config) { c.AutoCreateTopics = false })
	cl2 := newClient(t, tb2.addr, kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(time.Second))
	err = cl2.ProduceSync(testCtx(t, 10*time.Second), &kgo.Record{Topic: "nope", Value: []byte("x")}).FirstErr()
	if err == nil {
		t.Fatal("produce to a missing topic with auto-creation off succeeded")
	}
}

func TestRestartKeepsTopicsConfigsAndData(t *testing.T) {
	tb := startBroker(t, "")
	created := createTopic(t, tb.addr, "keep", 2, map[string]*string{"retention.ms": ptr("123456789"), "cleanup.policy": ptr("compact,delete")})
	produceN(t, newClient(t, tb.addr), "keep", "k", 1000)

	tb = tb.restart(t)
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 10*time.Second)
	td, err := adm.ListTopics(ctx, "keep")
	if err != nil {
		t.Fatal(err)
	}
	if got := td["keep"]; got.ID != created.ID || len(got.Partitions) != 2 {
		t.Errorf("after restart: id %v partitions %d, want %v 2", got.ID, len(got.Partitions), created.ID)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "keep")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := rcs.On("keep", nil)
	for _, c := range rc.Configs {
		switch c.Key {
		case "retention.ms":
			if c.MaybeValue() != "123456789" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
				t.Errorf("retention.ms after restart: %s (%v)", c.MaybeValue(), c.Source)
			}
		case "cleanup.policy":
			if c.MaybeValue() != "compact,delete" {
				t.Errorf("cleanup.policy after restart: %s", c.MaybeValue())
			}
		}
	}
	checkContiguous(t, consumeN(t, tb.addr, "keep", 1000), values("k", 1000))
	// __consumer_offsets survived too, with its id.
	if td, err := adm.ListTopicsWithInternal(ctx); err != nil || td["__consumer_offsets"].ID == [16]byte{} || !td["__consumer_offsets"].IsInternal {
		t.Errorf("__consumer_offsets after restart: %+v %v", td["__consumer_offsets"], err)
	}
}

func TestDeleteTopicRemovesData(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "gone", 2, nil)
	produceN(t, newClient(t, tb.addr), "gone", "g", 10)
	adm := newAdmin(t, tb.addr)
	ctx := testCtx(t, 10*time.Second)
	resp, err := adm.DeleteTopic(ctx, "gone")
	if err != nil || resp.Err != nil {
		t.Fatalf("DeleteTopic: %v %v", err, resp.Err)
	}
	for _, d := range []string{"gone-0", "gone-1", filepath.Join("topics", "gone.json")} {
		if _, err := os.Stat(filepath.Join(tb.dir, d)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after delete: %v", d, err)
		}
	}
	resp, _ = adm.DeleteTopic(ctx, "gone")
	if !errors.Is(resp.Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("second delete: %v", resp.Err)
	}
	resp, _ = adm.DeleteTopic(ctx, "__consumer_offsets")
	if resp.Err == nil {
		t.Error("deleting __consumer_offsets succeeded")
	}
	// Recreate with the same name: empty, new id.
	createTopic(t, tb.addr, "gone", 1, nil)
	end, err := adm.ListEndOffsets(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := end.Lookup("gone", 0); o.Offset != 0 {
		t.Errorf("recreated topic ends at %d", o.Offset)
	}
}

func TestEmbeddedServeConn(t *testing.T) {
	tb := startBroker(t, "")
	dial := func(ctx context.Context, network, host string) (net.Conn, error) {
		client, server := net.Pipe()
		go tb.ServeConn(server)
		return client, nil
	}
	cl := newClient(t, "embedded:9092", kgo.Dialer(dial), kgo.AllowAutoTopicCreation())
	produceN(t, cl, "pipe", "p", 100)
	recs := consumeN(t, "embedded:9092", "pipe", 100, kgo.Dialer(dial))
	checkContiguous(t, recs, values("p", 100))
}

func TestInitProducerIDUniqueAcrossRestarts(t *testing.T) {
	tb := startBroker(t, "")
	seen := map[int64]bool{}
	get := func(addr string) {
		cl := newClient(t, addr)
		for i := 0; i < 5; i++ {
			resp, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(testCtx(t, 10*time.Second), cl)
			if err != nil || resp.ErrorCode != 0 {
				t.Fatalf("InitProducerID: %v %d", err, resp.ErrorCode)
			}
			if seen[resp.ProducerID] || resp.ProducerID < 0 || resp.ProducerEpoch != 0 {
				t.Fatalf("producer id %d epoch %d (seen %v)", resp.ProducerID, resp.ProducerEpoch, seen[resp.ProducerID])
			}
			seen[resp.ProducerID] = true
		}
	}
	get(tb.addr)
	tb = tb.restart(t)
	get(tb.addr)
	tb = tb.restart(t)
	get(tb.addr)

	// Transactional producers are refused.
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = ptr("txn")
	req.TransactionTimeoutMillis = 1000
	// Straight to the broker: kgo would first look for a transaction
	// coordinator, which does not exist.
	kresp, err := newClient(t, tb.addr).Broker(0).Request(testCtx(t, 10*time.Second), req)
	if err != nil {
		t.Fatal(err)
	}
	if code := kresp.(*kmsg.InitProducerIDResponse).ErrorCode; code != kerr.UnsupportedVersion.Code {
		t.Errorf("transactional InitProducerID: code %d, want UNSUPPORTED_VERSION", code)
	}
}

func TestIdempotentProducerAcrossRestart(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "idem", 1, nil)
	produceN(t, newClient(t, tb.addr), "idem", "a", 1000)
	tb = tb.restart(t)
	produceN(t, newClient(t, tb.addr), "idem", "b", 1000)
	want := values("a", 1000)
	for k := range values("b", 1000) {
		want[k] = true
	}
	checkContiguous(t, consumeN(t, tb.addr, "idem", 2000), want)
}

func TestBackgroundRetentionAndCompaction(t *testing.T) {
	tb := startBroker(t, "", func(c *broker.Config) {
		c.RetentionCheckIntervalMs = 20
		c.CleanerBackoffMs = 20
	})
	createTopic(t, tb.addr, "old", 1, map[string]*string{"retention.ms": ptr("60000"), "segment.bytes": ptr("1024")})
	createTopic(t, tb.addr, "keys", 1, map[string]*string{"cleanup.policy": ptr("compact"), "segment.bytes": ptr("1024"), "min.cleanable.dirty.ratio": ptr("0.01")})
	cl := newClient(t, tb.addr, kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()))
	hourAgo := time.Now().Add(-time.Hour)
	for i := 0; i < 200; i++ {
		rs := cl.ProduceSync(testCtx(t, 10*time.Second),
			&kgo.Record{Topic: "old", Value: make([]byte, 100), Timestamp: hourAgo},
			&kgo.Record{Topic: "keys", Key: []byte(strconv.Itoa(i % 5)), Value: []byte(strconv.Itoa(i))})
		if err := rs.FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := newAdmin(t, tb.addr)
	waitFor(t, 20*time.Second, "retention to delete old segments", func() bool {
		start, err := adm.ListStartOffsets(testCtx(t, 5*time.Second), "old")
		o, _ := start.Lookup("old", 0)
		return err == nil && o.Offset > 0
	})
	waitFor(t, 20*time.Second, "compaction to drop overwritten keys", func() bool {
		cl := newClient(t, tb.addr, kgo.ConsumeTopics("keys"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
		defer cl.Close()
		n := 0
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			fs := cl.PollFetches(ctx)
			cancel()
			if fs.NumRecords() == 0 {
				break
			}
			n += fs.NumRecords()
		}
		return n > 0 && n < 200
	})
}
