package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedata/sluice/broker/partlog"
	"github.com/sluicedata/sluice/broker/vfs"
)

// Broker is a single-node Kafka-compatible broker over partlog storage.
// Create it with New, serve connections with Serve, ListenAndServe or
// ServeConn, and stop it with Close. All methods are safe for concurrent
// use.
type Broker struct {
	cfg       Config
	log       *slog.Logger
	fs        vfs.FS
	syncer    *partlog.Syncer
	clusterID string

	// adminMu serialises changes to the set of topics and their configs
	// (and the metadata files behind them). Held before mu.
	adminMu sync.Mutex
	mu      sync.RWMutex
	topics  map[string]*topic   // guarded by mu
	byID    map[[16]byte]*topic // guarded by mu

	pids  *producerIDs
	coord coordinator // nil until a coordinator is wired

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	netMu     sync.Mutex
	closed    bool                      // guarded by netMu
	listeners map[net.Listener]struct{} // guarded by netMu
	conns     map[*conn]struct{}        // guarded by netMu
	connWG    sync.WaitGroup
	bgWG      sync.WaitGroup
	connSeq   atomic.Uint64
	advert    atomic.Pointer[hostPort]
	boundAddr atomic.Pointer[net.Addr]
	closeOnce sync.Once
	closeErr  error
	reopening sync.Map // *partlog.Log being reopened after ErrLogFailed
}

type hostPort struct {
	host string
	port int32
}

// clusterMeta is meta.json.
type clusterMeta struct {
	Version   int    `json:"version"`
	ClusterID string `json:"cluster_id"`
	NodeID    int32  `json:"node_id"`
}

// New opens (creating if needed) the broker's data directory: it recovers
// every topic's partitions, creates __consumer_offsets on first start and
// replays it into the group coordinator. The broker serves nothing until
// Serve, ListenAndServe or ServeConn is called.
func New(cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FS == nil {
		cfg.FS = vfs.OS
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "broker"),
		fs:        cfg.FS,
		topics:    map[string]*topic{},
		byID:      map[[16]byte]*topic{},
		ctx:       ctx,
		cancel:    cancel,
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
	}
	if cfg.AdvertisedAddr != "" {
		hp, err := splitHostPort(cfg.AdvertisedAddr)
		if err != nil {
			cancel()
			return nil, err
		}
		b.advert.Store(&hp)
	}
	if err := b.open(); err != nil {
		b.closeStorage()
		cancel()
		return nil, err
	}
	b.bgWG.Add(1)
	go b.cleanLoop()
	b.log.Info("broker started", "data_dir", cfg.DataDir, "node_id", cfg.NodeID, "cluster_id", b.clusterID, "topics", len(b.topics))
	return b, nil
}

func (b *Broker) open() error {
	dir := b.cfg.DataDir
	if err := b.fs.MkdirAll(filepath.Join(dir, topicsDir)); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	var meta clusterMeta
	ok, err := readJSON(b.fs, filepath.Join(dir, metaFile), &meta)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		var id [16]byte
		rand.Read(id[:])
		meta = clusterMeta{Version: formatVersion, ClusterID: base64.RawURLEncoding.EncodeToString(id[:]), NodeID: b.cfg.NodeID}
		if err := writeJSON(b.fs, dir, metaFile, meta); err != nil {
			return fmt.Errorf("write %s: %w", metaFile, err)
		}
	case meta.Version != formatVersion:
		return fmt.Errorf("%w: %s: version %d, want %d", ErrCorruptMetadata, metaFile, meta.Version, formatVersion)
	case meta.NodeID != b.cfg.NodeID:
		return fmt.Errorf("%w: %s holds node id %d but NodeID is %d", ErrInvalidBrokerConfig, filepath.Join(dir, metaFile), meta.NodeID, b.cfg.NodeID)
	}
	b.clusterID = meta.ClusterID

	if b.pids, err = openProducerIDs(b.fs, dir); err != nil {
		return err
	}
	b.syncer = partlog.NewSyncer()
	if err := b.loadTopics(); err != nil {
		return err
	}
	if b.lookup(offsetsTopic) == nil {
		b.adminMu.Lock()
		_, err := b.createTopic(offsetsTopic, b.cfg.OffsetsTopicNumPartitions, offsetsTopicConfigs())
		b.adminMu.Unlock()
		if err != nil {
			return fmt.Errorf("create %s: %w", offsetsTopic, err)
		}
	}
	return b.startCoordinator()
}

// offsetsTopicConfigs are Kafka's settings of __consumer_offsets
// (offsets.topic.segment.bytes, compaction, offsets.topic.compression.codec
// none).
func offsetsTopicConfigs() map[string]*string {
	s := func(v string) *string { return &v }
	return map[string]*string{
		"cleanup.policy": s("compact"),
		"segment.bytes":  s("104857600"),
	}
}

// Serve accepts connections on ln until Close, serving each in its own
// goroutines. Unless AdvertisedAddr is set, the first listener's address
// is what clients are told to connect to. Serve returns ErrClosed after
// Close, or the accept error that stopped it.
func (b *Broker) Serve(ln net.Listener) error {
	b.netMu.Lock()
	if b.closed {
		b.netMu.Unlock()
		ln.Close()
		return ErrClosed
	}
	b.listeners[ln] = struct{}{}
	b.netMu.Unlock()
	defer func() {
		b.netMu.Lock()
		delete(b.listeners, ln)
		b.netMu.Unlock()
		ln.Close()
	}()

	addr := ln.Addr()
	b.boundAddr.CompareAndSwap(nil, &addr)
	if b.advert.Load() == nil {
		if hp, err := advertisable(addr); err == nil {
			b.advert.CompareAndSwap(nil, &hp)
		}
	}
	b.log.Info("listening", "addr", addr.String(), "advertised", b.advertised().host+":"+strconv.Itoa(int(b.advertised().port)))

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if b.isClosed() {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				b.log.Warn("accept failed, retrying", "err", err, "backoff", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if !b.startConn(nc, false) {
			return ErrClosed
		}
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// ListenAndServe listens on Config.Listen and serves it (see Serve).
func (b *Broker) ListenAndServe() error {
	ln, err := net.Listen("tcp", b.cfg.Listen)
	if err != nil {
		return err
	}
	return b.Serve(ln)
}

// ServeConn serves one already-established connection and returns when it
// ends: ErrClosed if the broker is or gets closed, nil otherwise. It is how
// an in-process client reaches the broker without a socket, e.g. a
// kgo.Dialer handing back one end of a net.Pipe whose other end is passed
// here in a goroutine.
func (b *Broker) ServeConn(nc net.Conn) error {
	if !b.startConn(nc, true) {
		return ErrClosed
	}
	if b.isClosed() {
		return ErrClosed
	}
	return nil
}

// startConn registers and runs nc, synchronously when wait is set.
func (b *Broker) startConn(nc net.Conn, wait bool) bool {
	c := b.newConn(nc, b.connSeq.Add(1))
	b.netMu.Lock()
	if b.closed {
		b.netMu.Unlock()
		nc.Close()
		return false
	}
	b.conns[c] = struct{}{}
	b.connWG.Add(1)
	b.netMu.Unlock()
	run := func() {
		defer b.connWG.Done()
		c.log.Debug("connection opened")
		c.serve()
		b.netMu.Lock()
		delete(b.conns, c)
		b.netMu.Unlock()
	}
	if wait {
		run()
	} else {
		go run()
	}
	return true
}

func (b *Broker) isClosed() bool {
	b.netMu.Lock()
	defer b.netMu.Unlock()
	return b.closed
}

// Addr is the address of the first listener passed to Serve (or opened by
// ListenAndServe), nil before one is.
func (b *Broker) Addr() net.Addr {
	if a := b.boundAddr.Load(); a != nil {
		return *a
	}
	return nil
}

// advertised is the host and port clients are told to use.
func (b *Broker) advertised() hostPort {
	if hp := b.advert.Load(); hp != nil {
		return *hp
	}
	hp, err := splitHostPort(b.cfg.Listen)
	if err != nil {
		return hostPort{host: "127.0.0.1", port: 9092}
	}
	return hp
}

func splitHostPort(s string) (hostPort, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return hostPort{}, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return hostPort{}, fmt.Errorf("port %q: %w", port, err)
	}
	return hostPort{host: host, port: int32(p)}, nil
}

// advertisable turns a listener address into one clients can dial: the
// wildcard address is replaced by the host name, as Kafka does for an empty
// listener host.
func advertisable(a net.Addr) (hostPort, error) {
	hp, err := splitHostPort(a.String())
	if err != nil {
		return hp, err
	}
	if ip := net.ParseIP(hp.host); ip != nil && ip.IsUnspecified() || hp.host == "" {
		if h, err := os.Hostname(); err == nil {
			hp.host = h
		}
	}
	return hp, nil
}

// Close stops the broker gracefully: it stops accepting, closes every
// connection (ending long polls and parked group requests), stops the
// coordinator and background cleaning, and closes every log cleanly. It
// is safe to call more than once.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.netMu.Lock()
		b.closed = true
		b.cancel()
		for ln := range b.listeners {
			ln.Close()
		}
		for c := range b.conns {
			c.nc.Close()
		}
		b.netMu.Unlock()
		b.connWG.Wait()
		b.bgWG.Wait()
		b.closeErr = b.closeStorage()
		b.log.Info("broker stopped")
	})
	return b.closeErr
}

// closeStorage stops the coordinator and closes every log.
func (b *Broker) closeStorage() error {
	b.stopCoordinator()
	var errs []error
	b.mu.Lock()
	for _, t := range b.topics {
		for p, l := range t.parts {
			if err := l.Close(); err != nil && !errors.Is(err, partlog.ErrClosed) {
				errs = append(errs, fmt.Errorf("close %s-%d: %w", t.name, p, err))
			}
		}
	}
	b.mu.Unlock()
	if b.syncer != nil {
		b.syncer.Close()
	}
	return errors.Join(errs...)
}

// cleanLoop runs retention on delete-only topics every
// RetentionCheckIntervalMs and cleaning (compaction, plus retention for
// compact,delete) on compacted topics every CleanerBackoffMs.
func (b *Broker) cleanLoop() {
	defer b.bgWG.Done()
	retention := time.NewTicker(ms(b.cfg.RetentionCheckIntervalMs))
	defer retention.Stop()
	compaction := time.NewTicker(ms(b.cfg.CleanerBackoffMs))
	defer compaction.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-retention.C:
			b.clean(false)
		case <-compaction.C:
			b.clean(true)
		}
	}
}

// clean runs Log.Clean on every partition of the compacted (or of the
// delete-only) topics.
func (b *Broker) clean(compacted bool) {
	for _, t := range b.sortedTopics() {
		p, _ := parsePolicy(b.cfg.effectiveConfig(t.configs, "cleanup.policy"))
		if (p != partlog.PolicyDelete) != compacted {
			continue
		}
		for i, l := range t.parts {
			if b.ctx.Err() != nil {
				return
			}
			freed, err := l.Clean()
			switch {
			case errors.Is(err, partlog.ErrClosed):
			case err != nil:
				b.log.Warn("cleaning partition", "topic", t.name, "partition", i, "err", err)
				if errors.Is(err, partlog.ErrLogFailed) {
					b.reopenFailed(t.name, int32(i), l)
				}
			case freed > 0:
				b.log.Debug("cleaned partition", "topic", t.name, "partition", i, "freed_bytes", freed)
			}
		}
	}
}
