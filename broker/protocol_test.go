package broker_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/broker/batch"
)

// rawConn is a hand-driven connection to the broker.
type rawConn struct {
	t  testing.TB
	nc net.Conn
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc}
}

func (c *rawConn) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// send frames a request: header v1, or v2 (with an empty tag section) when
// flexible, then body.
func (c *rawConn) send(key, version int16, corr int32, flexible bool, body []byte) {
	c.t.Helper()
	buf := []byte{0, 0, 0, 0}
	buf = binary.BigEndian.AppendUint16(buf, uint16(key))
	buf = binary.BigEndian.AppendUint16(buf, uint16(version))
	buf = binary.BigEndian.AppendUint32(buf, uint32(corr))
	buf = binary.BigEndian.AppendUint16(buf, 4)
	buf = append(buf, "test"...)
	if flexible {
		buf = append(buf, 0)
	}
	buf = append(buf, body...)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	c.write(buf)
}

// recv reads one response frame: correlation id and the rest.
func (c *rawConn) recv() (int32, []byte) {
	c.t.Helper()
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c.nc, body); err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	return int32(binary.BigEndian.Uint32(body)), body[4:]
}

// expectClosed checks that the broker closes the connection.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	buf := make([]byte, 1)
	_, err := c.nc.Read(buf)
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("connection still open (read: %v)", err)
	}
}

func TestApiVersionsDowngrade(t *testing.T) {
	tb := startBroker(t, "")
	c := dialRaw(t, tb.addr)

	// A version above ours: a v0 body with UNSUPPORTED_VERSION and our keys.
	c.send(18, 99, 7, true, []byte{0xde, 0xad})
	corr, body := c.recv()
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body); err != nil || corr != 7 {
		t.Fatalf("v0 response: corr %d, %v", corr, err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Errorf("error %d, want UNSUPPORTED_VERSION", resp.ErrorCode)
	}
	keys := map[int16][2]int16{}
	for _, k := range resp.ApiKeys {
		keys[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
	}
	for key, floor := range map[int16]int16{0: 3, 1: 4, 2: 1, 10: 0, 11: 0, 12: 0, 13: 0, 14: 0, 22: 0, 18: 0} {
		r, ok := keys[key]
		if !ok || r[0] > floor || r[1] < floor {
			t.Errorf("key %d advertised %v, must contain %d", key, r, floor)
		}
	}
	for _, txn := range []int16{24, 25, 26, 27, 28} {
		if _, ok := keys[txn]; ok {
			t.Errorf("transaction key %d advertised", txn)
		}
	}

	// Flexible v3: the response header stays v0 (no tag byte).
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "test", "1.0"
	c.send(18, 3, 8, true, req.AppendTo(nil))
	corr, body = c.recv()
	resp = kmsg.NewPtrApiVersionsResponse()
	resp.Version = 3
	if err := resp.ReadFrom(body); err != nil || corr != 8 || resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
		t.Fatalf("v3 response: corr %d err %v code %d keys %d", corr, err, resp.ErrorCode, len(resp.ApiKeys))
	}

	// Flexible Metadata v12: header v1, one tag byte before the body.
	mreq := kmsg.NewPtrMetadataRequest()
	mreq.Version = 12
	c.send(3, 12, 9, true, mreq.AppendTo(nil))
	corr, body = c.recv()
	mresp := kmsg.NewPtrMetadataResponse()
	mresp.Version = 12
	if corr != 9 || len(body) == 0 || body[0] != 0 {
		t.Fatalf("metadata v12: corr %d, first byte %v", corr, body[:1])
	}
	if err := mresp.ReadFrom(body[1:]); err != nil || len(mresp.Brokers) != 1 {
		t.Fatalf("metadata v12: %v %+v", err, mresp.Brokers)
	}
}

func TestMalformedRequestsCloseOnlyTheirConnection(t *testing.T) {
	tb := startBroker(t, "")
	good := newClient(t, tb.addr, kgo.AllowAutoTopicCreation())
	produceN(t, good, "still", "s", 10)

	for _, tc := range []struct {
		name string
		send func(c *rawConn)
	}{
		{"oversize", func(c *rawConn) { c.write([]byte{0x7f, 0xff, 0xff, 0xff}) }},
		{"negative size", func(c *rawConn) { c.write([]byte{0xff, 0xff, 0xff, 0xfe}) }},
		{"tiny", func(c *rawConn) { c.write([]byte{0, 0, 0, 2, 0, 0}) }},
		{"garbage", func(c *rawConn) {
			c.write([]byte{0, 0, 0, 16, 0x13, 0x37, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 1, 2, 3, 4, 5, 6})
		}},
		{"unknown key", func(c *rawConn) { c.send(999, 0, 1, false, nil) }},
		{"unsupported version", func(c *rawConn) { c.send(0, 2, 1, false, nil) }},
		{"truncated body", func(c *rawConn) { c.send(3, 1, 1, false, []byte{0, 0, 0, 5, 0}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, tb.addr)
			tc.send(c)
			c.expectClosed()
		})
	}

	// The broker still serves, on the existing client and on new ones.
	produceN(t, good, "still", "t", 10)
	recs := consumeN(t, tb.addr, "still", 20)
	if len(recs) != 20 {
		t.Fatalf("consumed %d records", len(recs))
	}
}

func TestMaxRequestBytes(t *testing.T) {
	tb := startBroker(t, "", func(c *broker.Config) { c.MaxRequestBytes = 1024 })
	c := dialRaw(t, tb.addr)
	c.send(3, 1, 1, false, make([]byte, 2000))
	c.expectClosed()
	c = dialRaw(t, tb.addr)
	c.send(18, 0, 5, false, nil)
	if corr, _ := c.recv(); corr != 5 {
		t.Errorf("correlation %d", corr)
	}
}

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	tb := startBroker(t, "")
	createTopic(t, tb.addr, "pipe", 1, nil)
	c := dialRaw(t, tb.addr)
	// Interleave acks=all produces (answered after fsync), acks=0
	// produces (not answered) and metadata requests (answered at once).
	var want []int32
	for i := int32(0); i < 30; i++ {
		switch i % 3 {
		case 0:
			c.send(0, 7, i, false, produceBody(t, "pipe", -1))
			want = append(want, i)
		case 1:
			c.send(0, 7, i, false, produceBody(t, "pipe", 0))
		case 2:
			m := kmsg.NewPtrMetadataRequest()
			m.Version = 1
			c.send(3, 1, i, false, m.AppendTo(nil))
			want = append(want, i)
		}
	}
	for _, w := range want {
		if corr, _ := c.recv(); corr != w {
			t.Fatalf("got correlation %d, want %d", corr, w)
		}
	}
	end, err := newAdmin(t, tb.addr).ListEndOffsets(testCtx(t, 10*time.Second), "pipe")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "acks=0 records to be visible", func() bool {
		end, err = newAdmin(t, tb.addr).ListEndOffsets(testCtx(t, 10*time.Second), "pipe")
		o, _ := end.Lookup("pipe", 0)
		return err == nil && o.Offset == 20
	})
}

// produceBody is a Produce v7 body with one uncompressed one-record batch.
func produceBody(t testing.TB, topic string, acks int16) []byte {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Version = 7
	req.Acks = acks
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = batchBytes(t, []byte("v"))
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req.AppendTo(nil)
}

func batchBytes(t testing.TB, value []byte) []byte {
	return batch.Simple(time.Now().UnixMilli(), [2][]byte{nil, value})
}

func TestFindCoordinator(t *testing.T) {
	tb := startBroker(t, "")
	c := dialRaw(t, tb.addr)
	// v0: one group key.
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.Version = 0
	req.CoordinatorKey = "g"
	c.send(10, 0, 1, false, req.AppendTo(nil))
	_, body := c.recv()
	resp := kmsg.NewPtrFindCoordinatorResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != 0 || resp.NodeID != 0 || net.JoinHostPort(resp.Host, itoa32(resp.Port)) != tb.addr {
		t.Errorf("v0: %+v", resp)
	}
	// v4: batched keys; transactions have no coordinator.
	req = kmsg.NewPtrFindCoordinatorRequest()
	req.Version = 4
	req.CoordinatorType = 1
	req.CoordinatorKeys = []string{"t1", "t2"}
	c.send(10, 4, 2, true, req.AppendTo(nil))
	_, body = c.recv()
	resp = kmsg.NewPtrFindCoordinatorResponse()
	resp.Version = 4
	if err := resp.ReadFrom(body[1:]); err != nil {
		t.Fatal(err)
	}
	if len(resp.Coordinators) != 2 || resp.Coordinators[0].ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Errorf("v4 transaction keys: %+v", resp.Coordinators)
	}
}

func itoa32(n int32) string { return strconv.Itoa(int(n)) }

func TestDeleteTopicByIDAndOffsetForLeaderEpoch(t *testing.T) {
	tb := startBroker(t, "")
	created := createTopic(t, tb.addr, "byid", 1, nil)
	cl := newClient(t, tb.addr)
	produceN(t, cl, "byid", "e", 5)

	oreq := kmsg.NewPtrOffsetForLeaderEpochRequest()
	ot := kmsg.NewOffsetForLeaderEpochRequestTopic()
	ot.Topic = "byid"
	for _, epoch := range []int32{0, 7} {
		op := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		op.LeaderEpoch = epoch
		op.CurrentLeaderEpoch = -1
		ot.Partitions = append(ot.Partitions, op)
	}
	oreq.Topics = append(oreq.Topics, ot)
	oresp, err := oreq.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	ps := oresp.Topics[0].Partitions
	if ps[0].ErrorCode != 0 || ps[0].LeaderEpoch != 0 || ps[0].EndOffset != 5 {
		t.Errorf("epoch 0: %+v", ps[0])
	}
	if ps[1].LeaderEpoch != -1 || ps[1].EndOffset != -1 {
		t.Errorf("epoch 7: %+v", ps[1])
	}

	dreq := kmsg.NewPtrDeleteTopicsRequest()
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.TopicID = created.ID
	dreq.Topics = append(dreq.Topics, dt)
	dreq.TopicNames = []string{"byid"} // for a client that downgrades
	dresp, err := dreq.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	if r := dresp.Topics[0]; r.ErrorCode != 0 || r.Topic == nil || *r.Topic != "byid" {
		t.Errorf("delete by id: %+v", r)
	}
	dresp, err = dreq.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	if r := dresp.Topics[0]; r.ErrorCode != kerr.UnknownTopicID.Code {
		t.Errorf("second delete by id: error %d", r.ErrorCode)
	}
}

func TestListenAndServeAdvertisesBoundPort(t *testing.T) {
	cfg := broker.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	b, err := broker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- b.ListenAndServe() }()
	waitFor(t, 10*time.Second, "the listener", func() bool { return b.Addr() != nil })
	addr := b.Addr().String()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t, 10*time.Second), newClient(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	if got := net.JoinHostPort(resp.Brokers[0].Host, itoa32(resp.Brokers[0].Port)); got != addr {
		t.Errorf("advertised %s, bound %s", got, addr)
	}

	// Close ends a parked long-poll promptly.
	c := dialRaw(t, addr)
	freq := kmsg.NewPtrFetchRequest()
	freq.Version = 11
	freq.MaxWaitMillis = 60_000
	freq.MinBytes = 1
	freq.SessionEpoch = -1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "__consumer_offsets"
	ft.Partitions = append(ft.Partitions, kmsg.NewFetchRequestTopicPartition())
	freq.Topics = append(freq.Topics, ft)
	c.send(1, 11, 1, false, freq.AppendTo(nil))
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, broker.ErrClosed) {
		t.Errorf("ListenAndServe returned %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Close took %v", took)
	}
}

func TestProduceToInternalTopicRefused(t *testing.T) {
	tb := startBroker(t, "")
	c := dialRaw(t, tb.addr)
	c.send(0, 7, 1, false, produceBody(t, "__consumer_offsets", -1))
	_, body := c.recv()
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = 7
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.InvalidTopicException.Code {
		t.Errorf("produce to __consumer_offsets: error %d, want INVALID_TOPIC_EXCEPTION", code)
	}
	// The broker still restarts (its replay never sees client records).
	tb.restart(t)
}
