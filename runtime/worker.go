package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicedata/sluice/plugins"
)

// Options are a worker's dependencies that do not come from its config.
type Options struct {
	// Levels gives every component its logger (see LogLevels). Default:
	// levels over a discarding handler.
	Levels *LogLevels
	// Registry is the plugin registry. Required.
	Registry *plugins.Registry
	// Version is Sluice's version, reported as "commit" in GET /.
	Version string
	// WorkerID is the advertised REST host:port, the worker_id of every
	// status this worker writes. Default: from rest.advertised.* or the
	// first listener (see AdvertisedWorkerID).
	WorkerID string
	// URL is the advertised REST URL other workers forward requests to:
	// the scheme of rest.advertised.listener (or of the first listener)
	// and WorkerID. Default: from WorkerID and the config (see
	// AdvertisedURL).
	URL string
	// Metrics is where the worker registers its Prometheus metrics.
	// Default: a new registry (Worker.Metrics).
	Metrics *prometheus.Registry

	// runner replaces the task runner (tests).
	runner taskRunner
	// dial replaces the dialer of every Kafka client of the worker
	// (tests: a network partition).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Worker is a Sluice worker: the herder, the internal topics and, without
// bootstrap.servers, the embedded broker. NewWorker does no I/O, so its
// Herder can be served (answering "starting") before Start returns.
type Worker struct {
	h       *herder
	herder  *Herder
	metrics *prometheus.Registry
}

// NewWorker returns a worker for a validated config.
func NewWorker(cfg WorkerConfig, opts Options) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Registry == nil {
		return nil, fmt.Errorf("runtime: Options.Registry is required")
	}
	if opts.Levels == nil {
		opts.Levels = NewLogLevels(slog.DiscardHandler, slog.LevelInfo)
	}
	if opts.Metrics == nil {
		opts.Metrics = prometheus.NewRegistry()
	}
	if opts.WorkerID == "" {
		opts.WorkerID = AdvertisedWorkerID(&cfg, nil)
	}
	if opts.URL == "" {
		opts.URL = AdvertisedURL(&cfg, opts.WorkerID)
	}
	h := newHerder(cfg, opts)
	h.metrics = newHerderMetrics(opts.Metrics, h)
	providers, err := opts.Registry.ConfigProviders(cfg.providerProps())
	if err != nil {
		return nil, err
	}
	h.providers = providers
	return &Worker{h: h, herder: &Herder{impl: h}, metrics: opts.Metrics}, nil
}

// providerProps rebuilds the config.providers keys for configprovider.
func (c *WorkerConfig) providerProps() map[string]string {
	props := map[string]string{"config.providers": strings.Join(c.ConfigProviders, ",")}
	for k, v := range c.ConfigProviderConfigs {
		props["config.providers."+k] = v
	}
	return props
}

// Start starts the embedded broker (unless bootstrap.servers is set),
// creates or checks the internal topics, reads them, and starts every
// connector they hold. On error everything started is stopped again.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.h.start(ctx); err != nil {
		w.h.shutdown(context.Background())
		return err
	}
	return nil
}

// Herder is the REST layer's entry point.
func (w *Worker) Herder() *Herder { return w.herder }

// Metrics is the Prometheus registry of the worker and its tasks, for
// GET /metrics.
func (w *Worker) Metrics() *prometheus.Registry { return w.metrics }

// BrokerAddr is the embedded broker's host:port for Kafka clients, or ""
// when the worker uses bootstrap.servers (or has not started).
func (w *Worker) BrokerAddr() string {
	select {
	case <-w.h.ready:
		return w.h.cl.BrokerAddr()
	default:
		return ""
	}
}

// Close stops every connector and task gracefully (tasks flush and commit
// within task.shutdown.graceful.timeout.ms), then the internal topics'
// clients and the embedded broker.
func (w *Worker) Close(ctx context.Context) error { return w.h.shutdown(ctx) }

// AdvertisedURL returns the REST URL other workers reach this one at:
// the scheme of rest.advertised.listener, or of the first listener, and
// workerID (host:port).
func AdvertisedURL(cfg *WorkerConfig, workerID string) string {
	scheme := cfg.RestAdvertisedListener
	if scheme == "" {
		scheme = "http"
		for _, s := range cfg.Listeners {
			if l, err := ParseListener(s); err == nil {
				scheme = l.Scheme
				break
			}
		}
	}
	return scheme + "://" + workerID
}

// AdvertisedWorkerID returns the host:port other workers and statuses
// know this worker by: rest.advertised.host.name and
// rest.advertised.port when set, else the first listener (of the
// rest.advertised.listener scheme, if set). bound, if not nil, is the
// address that listener actually bound (for port 0). An empty or wildcard
// host becomes the machine's host name, as in Kafka.
func AdvertisedWorkerID(cfg *WorkerConfig, bound net.Addr) string {
	var l Listener
	for _, s := range cfg.Listeners {
		p, err := ParseListener(s)
		if err != nil {
			continue
		}
		if cfg.RestAdvertisedListener == "" || p.Scheme == cfg.RestAdvertisedListener {
			l = p
			break
		}
	}
	host, port := l.Host, l.Port
	if bound != nil {
		if h, p, err := net.SplitHostPort(bound.String()); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				port = n
			}
			if host == "" {
				host = h
			}
		}
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if hn, err := os.Hostname(); err == nil {
			host = hn
		}
	}
	if cfg.RestAdvertisedHostName != "" {
		host = cfg.RestAdvertisedHostName
	}
	if cfg.RestAdvertisedPort != 0 {
		port = cfg.RestAdvertisedPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
