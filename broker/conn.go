package broker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"net"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A connection runs two goroutines. The reader frames, decodes and handles
// requests one at a time, in order, and queues one reply per request. The
// writer sends the replies in the same order; a reply may carry a channel to
// wait on first (an acks=all produce waiting for its fsync round), so the
// reader goes on decoding and appending pipelined requests while the
// writer waits. Handlers that block (a Fetch long-poll, a JoinGroup) block
// the reader, as Kafka serialises a connection's requests.
type conn struct {
	b      *Broker
	nc     net.Conn
	log    *slog.Logger
	ctx    context.Context // cancelled when the connection or broker closes
	cancel context.CancelFunc
	out    chan *reply
	done   chan struct{} // closed when the writer has exited

	// clientID is the client.id of the request being handled.
	clientID string
}

// reply is the answer to one request.
type reply struct {
	corr int32
	key  int16
	// resp is nil when nothing is sent (acks=0 produce).
	resp kmsg.Response
	// wait, when set, is waited on before the reply is sent; its value is
	// passed to finish, which completes resp.
	wait   <-chan error
	finish func(error)
	// release, when set, is called once the reply is encoded: it frees
	// the request buffer the response still aliases.
	release func()
}

// replyQueue bounds how many replies a connection may have pending: past
// it the reader stops reading, which back-pressures a pipelining client.
const replyQueue = 128

// requestHeaderMin is key, version and correlation id plus a null client id.
const requestHeaderMin = 2 + 2 + 4 + 2

func (b *Broker) newConn(nc net.Conn, id uint64) *conn {
	ctx, cancel := context.WithCancel(b.ctx)
	return &conn{
		b:      b,
		nc:     nc,
		log:    b.log.With("conn", id, "client", nc.RemoteAddr().String()),
		ctx:    ctx,
		cancel: cancel,
		out:    make(chan *reply, replyQueue),
		done:   make(chan struct{}),
	}
}

// serve runs the connection until the peer or the broker closes it, or a
// request is malformed.
func (c *conn) serve() {
	go c.writeLoop()
	err := c.readLoop()
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), c.ctx.Err() != nil:
		c.log.Debug("connection closed")
	default:
		c.log.Warn("closing connection", "client_id", c.clientID, "err", err)
	}
	close(c.out)
	<-c.done
	c.cancel()
	c.nc.Close()
}

func (c *conn) readLoop() error {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var sizeBuf [4]byte
	for {
		if _, err := io.ReadFull(br, sizeBuf[:]); err != nil {
			return err
		}
		size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
		if size < requestHeaderMin || size > c.b.cfg.MaxRequestBytes {
			return fmt.Errorf("request size %d outside %d..%d (socket.request.max.bytes)", size, requestHeaderMin, c.b.cfg.MaxRequestBytes)
		}
		body, err := readBody(br, int(size))
		if err != nil {
			return err
		}
		rep, err := c.handle(body)
		if err != nil {
			return err
		}
		switch {
		case rep != nil && rep.key == produceKey && rep.resp != nil:
			// A produce request was decoded without copying: its
			// response's topic names alias the body until encoded.
			rep.release = func() { putBody(body) }
		default:
			putBody(body)
		}
		if rep != nil {
			c.out <- rep
		}
	}
}

// bodies recycles request buffers: at full speed a producer sends hundreds
// of MB/s, and a fresh buffer per request costs an allocation and a clear
// of every byte.
var bodies sync.Pool

// maxPooledBody bounds the buffers kept and the size prefix trusted with
// one allocation up front.
const maxPooledBody = 16 << 20

// getBody returns a buffer of n bytes: a pooled one when the one the pool
// hands out is large enough, else a new one with room to spare (bodyCap),
// so that it serves the next requests of about the same size. A pooled
// buffer that is too small is dropped, not put back: putting it back and
// allocating anyway made the pool grow by a buffer per request that
// missed until the next collections: in a worker streaming Debezium
// events, 51 MB of 1 MB produce bodies, over a third of its live heap.
func getBody(n int) []byte {
	if bp, ok := bodies.Get().(*[]byte); ok && cap(*bp) >= n {
		return (*bp)[:n]
	}
	return make([]byte, n, bodyCap(n))
}

// bodyCap rounds n up to at least 4 KiB, and past that to a multiple of
// an eighth of its power of two (at most 12.5% more): produce requests
// of one client vary by a few bytes around its batch size.
func bodyCap(n int) int {
	if n <= 4<<10 {
		return 4 << 10
	}
	step := 1 << (bits.Len(uint(n)) - 4)
	return (n + step - 1) &^ (step - 1)
}

func putBody(b []byte) {
	if cap(b) > 0 && cap(b) <= maxPooledBody {
		b = b[:0]
		bodies.Put(&b)
	}
}

// readBody reads n bytes. Up to maxPooledBody it reads into a pooled
// buffer; past that it grows the buffer as bytes arrive rather than
// trusting a large size prefix up front.
func readBody(r io.Reader, n int) ([]byte, error) {
	if n <= maxPooledBody {
		body := getBody(n)
		_, err := io.ReadFull(r, body)
		return body, err
	}
	var buf bytes.Buffer
	buf.Grow(1 << 20)
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(n))); err != nil {
		return nil, err
	}
	if buf.Len() != n {
		return nil, io.ErrUnexpectedEOF
	}
	return buf.Bytes(), nil
}

// handle decodes and answers one request. An error closes the connection.
func (c *conn) handle(body []byte) (rep *reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			rep = nil
			err = fmt.Errorf("panic handling %s: %v\n%s", describeRequest(body), p, debug.Stack())
		}
	}()
	r := kbin.Reader{Src: body}
	key, version, corr := r.Int16(), r.Int16(), r.Int32()
	clientID := r.NullableString()
	if !r.Ok() {
		return nil, errors.New("malformed request header")
	}
	c.clientID = ""
	if clientID != nil {
		c.clientID = *clientID
	}

	rng, ok := c.b.apiRangeFor(key)
	if !ok {
		return nil, fmt.Errorf("unsupported API key %d (%s)", key, kmsg.NameForKey(key))
	}
	if key == apiVersionsKey && version > rng.max {
		// KIP-511: the body of a newer version may not parse; answer
		// v0 with the versions we serve.
		return &reply{corr: corr, key: key, resp: c.b.handleApiVersions(kmsg.NewPtrApiVersionsRequest(), true)}, nil
	}
	if version < rng.min || version > rng.max {
		return nil, fmt.Errorf("%s version %d outside served range %d..%d", kmsg.NameForKey(key), version, rng.min, rng.max)
	}
	req := kmsg.RequestForKey(key)
	if req == nil {
		return nil, fmt.Errorf("unknown API key %d", key)
	}
	req.SetVersion(version)
	if req.IsFlexible() {
		kmsg.SkipTags(&r)
		if !r.Ok() {
			return nil, errors.New("malformed request header tags")
		}
	}
	// A produce body is ours: decode it without copying the batches (they
	// alias it and are rewritten in place on append). Other requests are
	// copied: their strings may be kept (group and member ids, topic
	// names) and must not pin the request buffer.
	var derr error
	if key == 0 {
		derr = req.(kmsg.UnsafeReadFrom).UnsafeReadFrom(r.Src)
	} else {
		derr = req.ReadFrom(r.Src)
	}
	if derr != nil {
		return nil, fmt.Errorf("decode %s v%d: %w", kmsg.NameForKey(key), version, derr)
	}

	rep = &reply{corr: corr, key: key}
	if err := c.dispatch(req, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// dispatch fills rep for req.
func (c *conn) dispatch(req kmsg.Request, rep *reply) error {
	b := c.b
	switch req := req.(type) {
	case *kmsg.ApiVersionsRequest:
		rep.resp = b.handleApiVersions(req, false)
	case *kmsg.ProduceRequest:
		c.handleProduce(req, rep)
	case *kmsg.FetchRequest:
		rep.resp = c.handleFetch(req)
	case *kmsg.ListOffsetsRequest:
		rep.resp = b.handleListOffsets(req)
	case *kmsg.MetadataRequest:
		rep.resp = b.handleMetadata(req)
	case *kmsg.FindCoordinatorRequest:
		rep.resp = b.handleFindCoordinator(req)
	case *kmsg.CreateTopicsRequest:
		rep.resp = b.handleCreateTopics(req)
	case *kmsg.DeleteTopicsRequest:
		rep.resp = b.handleDeleteTopics(req)
	case *kmsg.CreatePartitionsRequest:
		rep.resp = b.handleCreatePartitions(req)
	case *kmsg.InitProducerIDRequest:
		rep.resp = c.handleInitProducerID(req)
	case *kmsg.OffsetForLeaderEpochRequest:
		rep.resp = b.handleOffsetForLeaderEpoch(req)
	case *kmsg.DescribeConfigsRequest:
		rep.resp = b.handleDescribeConfigs(req)
	case *kmsg.AlterConfigsRequest:
		rep.resp = b.handleAlterConfigs(req)
	case *kmsg.IncrementalAlterConfigsRequest:
		rep.resp = b.handleIncrementalAlterConfigs(req)
	case *kmsg.DescribeClusterRequest:
		rep.resp = b.handleDescribeCluster(req)
	default:
		resp, ok := c.dispatchGroup(req)
		if !ok {
			return fmt.Errorf("no handler for %s", kmsg.NameForKey(req.Key()))
		}
		rep.resp = resp
	}
	return nil
}

// writeLoop sends replies in order until the reader closes the queue.
func (c *conn) writeLoop() {
	defer close(c.done)
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	var buf []byte
	failed := false
	fail := func(err error) {
		if !failed && c.ctx.Err() == nil {
			c.log.Debug("write failed", "err", err)
		}
		failed = true
		c.cancel()
		c.nc.Close() // unblocks the reader
	}
	for rep := range c.out {
		if failed {
			continue // drain so the reader never blocks
		}
		if rep.wait != nil {
			if bw.Buffered() > 0 {
				if err := bw.Flush(); err != nil {
					fail(err)
					continue
				}
			}
			select {
			case err := <-rep.wait:
				if err := finish(rep, err); err != nil {
					c.log.Error("completing response", "api", kmsg.NameForKey(rep.key), "err", err)
					fail(err)
					continue
				}
			case <-c.ctx.Done():
				fail(c.ctx.Err())
				continue
			}
		}
		if rep.resp == nil {
			continue
		}
		var err error
		buf, err = c.encode(buf[:0], rep)
		if rep.release != nil {
			rep.release()
		}
		if err != nil {
			c.log.Error("encoding response", "api", kmsg.NameForKey(rep.key), "err", err)
			fail(err)
			continue
		}
		if _, err := bw.Write(buf); err != nil {
			fail(err)
			continue
		}
		if len(c.out) == 0 {
			if err := bw.Flush(); err != nil {
				fail(err)
			}
		}
		if cap(buf) > 16<<20 {
			buf = nil // do not pin an unusually large fetch response
		}
	}
	if !failed {
		bw.Flush()
	}
}

// encode frames rep: size, correlation id, the header tag section for
// flexible responses (never for ApiVersions, whose response header is
// always v0), then the body.
func (c *conn) encode(buf []byte, rep *reply) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	fetch, isFetch := rep.resp.(*kmsg.FetchResponse)
	if isFetch {
		// Size the buffer once: growing it while kmsg appends the record
		// batches would copy megabytes several times over.
		buf = slices.Grow(buf, fetchSize(fetch)+256)
		defer releaseFetch(fetch)
	}
	buf = append(buf, 0, 0, 0, 0)
	buf = binary.BigEndian.AppendUint32(buf, uint32(rep.corr))
	if rep.resp.IsFlexible() && rep.key != apiVersionsKey {
		buf = append(buf, 0)
	}
	buf = rep.resp.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	return buf, nil
}

// finish runs rep.finish, turning a panic into an error.
func finish(rep *reply, werr error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	rep.finish(werr)
	return nil
}

// describeRequest names a request from its header, for logs.
func describeRequest(body []byte) string {
	if len(body) < 4 {
		return "request"
	}
	key, version := int16(binary.BigEndian.Uint16(body)), int16(binary.BigEndian.Uint16(body[2:]))
	return fmt.Sprintf("%s v%d", kmsg.NameForKey(key), version)
}
