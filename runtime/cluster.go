package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
)

// cluster is the worker's way to Kafka: the embedded broker when the
// worker runs one, the base kgo options every client of the worker starts
// from, one admin client and one producer for the internal topics. The
// runtime talks to brokers only through kgo and kadm, so the embedded
// broker and an external cluster look the same from here on.
type cluster struct {
	broker    *broker.Broker // nil with bootstrap.servers
	brokerErr chan error     // Serve's result, embedded only
	seeds     []string
	base      []kgo.Opt // seed brokers and client id; no producer/consumer settings
	adminCl   *kgo.Client
	admin     *kadm.Client
	producer  *kgo.Client // internal topics: acks=all, idempotent
	clusterID string
	log       *slog.Logger
}

// openCluster starts the embedded broker if the config has no
// bootstrap.servers, then connects. It checks the cluster answers (and
// learns its id) before returning.
func openCluster(ctx context.Context, cfg *WorkerConfig, logger *slog.Logger, brokerLogger *slog.Logger,
	dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*cluster, error) {
	c := &cluster{log: logger}
	if cfg.Embedded() {
		if err := c.startBroker(cfg, brokerLogger); err != nil {
			return nil, err
		}
	} else {
		c.seeds = cfg.BootstrapServers
	}
	clientID := cfg.ClientID
	if clientID == "" {
		clientID = "sluice-" + cfg.GroupID
	}
	c.base = []kgo.Opt{
		kgo.SeedBrokers(c.seeds...),
		kgo.ClientID(clientID),
		kgo.WithLogger(kgoLogger{logger}),
		kgo.MetadataMinAge(100 * time.Millisecond),
	}
	if dial != nil {
		c.base = append(c.base, kgo.Dialer(dial))
	}
	var err error
	c.adminCl, err = kgo.NewClient(c.base...)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("kafka admin client: %w", err)
	}
	c.admin = kadm.NewClient(c.adminCl)
	c.producer, err = kgo.NewClient(append(c.opts(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.RecordRetries(10),
		kgo.AllowAutoTopicCreation(),
	)...)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	md, err := c.admin.BrokerMetadata(ctx)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("reach Kafka at %s: %w", strings.Join(c.seeds, ","), err)
	}
	c.clusterID = md.Cluster
	return c, nil
}

// opts returns a copy of the base options, to append to.
func (c *cluster) opts() []kgo.Opt { return append([]kgo.Opt(nil), c.base...) }

func (c *cluster) startBroker(cfg *WorkerConfig, logger *slog.Logger) error {
	bc := broker.DefaultConfig()
	bc.DataDir = cfg.DataDir
	bc.Listen = cfg.BrokerListen
	bc.Logger = logger
	var errs []error
	for k, v := range cfg.Broker {
		if err := bc.Set(k, v); err != nil {
			errs = append(errs, fmt.Errorf("broker.%s: %w", k, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", bc.Listen)
	if err != nil {
		return fmt.Errorf("embedded broker: listen on %s (broker.listen): %w", bc.Listen, err)
	}
	bc.Listen = ln.Addr().String()
	b, err := broker.New(bc)
	if err != nil {
		ln.Close()
		return fmt.Errorf("embedded broker: %w", err)
	}
	c.broker = b
	c.brokerErr = make(chan error, 1)
	go func() { c.brokerErr <- b.Serve(ln) }()
	c.seeds = []string{dialable(ln.Addr())}
	return nil
}

// dialable turns a listener address into one this process can dial: the
// wildcard host becomes loopback.
func dialable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// BrokerAddr is the embedded broker's address (host:port) for Kafka
// clients, or "" with an external cluster.
func (c *cluster) BrokerAddr() string {
	if c.broker == nil {
		return ""
	}
	return c.seeds[0]
}

func (c *cluster) close() error {
	if c.producer != nil {
		c.producer.Close()
	}
	if c.adminCl != nil {
		c.adminCl.Close()
	}
	if c.broker != nil {
		err := c.broker.Close()
		<-c.brokerErr
		return err
	}
	return nil
}

// kgoLogger adapts slog to kgo's logger, at warn and above only: kgo's
// info level narrates every connection.
type kgoLogger struct{ l *slog.Logger }

func (k kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		k.l.Error(msg, keyvals...)
	case kgo.LogLevelWarn:
		k.l.Warn(msg, keyvals...)
	default:
		k.l.Debug(msg, keyvals...)
	}
}
