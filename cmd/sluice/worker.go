package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicedata/sluice/internal/memlimit"
	"github.com/sluicedata/sluice/internal/properties"
	"github.com/sluicedata/sluice/plugins"
	"github.com/sluicedata/sluice/rest"
	"github.com/sluicedata/sluice/runtime"
)

const workerUsage = `Usage: sluice worker [worker.properties] [connector.json|connector.properties ...] [flags]

Runs a Kafka Connect-compatible worker: the REST API of Kafka Connect 3.9
on "listeners" (default http://127.0.0.1:8083), connectors and tasks, and,
unless bootstrap.servers is set, the bundled Kafka broker in-process (data
in data.dir, default ./sluice-data; Kafka clients reach it on
broker.listen, default 127.0.0.1:9092).

worker.properties is a Kafka Connect worker config (the keys of
connect-distributed.properties; Sluice's own keys are data.dir,
broker.listen, broker.<kafka broker property>, and
sluice.task.restart.initial.backoff.ms / .max.backoff.ms / .max.attempts).
Without one, every key has its default.

Workers started with the same bootstrap.servers and group.id form one
cluster (Kafka Connect's distributed mode): they share the connectors and
tasks, any of them serves the REST API, and the work of a worker that
stops or dies moves to the others.

Connector files are created, or updated if the connector exists, once the
worker is up, as Kafka's standalone mode does: JSON as POST /connectors
takes it ({"name": …, "config": {…}}) or a flat JSON object of the config,
or a .properties file with a name key.

Flags:
  --set key=value     a worker property (repeatable; wins over the file)
  --log-level LEVEL   root log level: ERROR, WARN, INFO (default) or DEBUG
  --log-format FMT    text (default) or json
  --memory-limit-mib N  soft memory limit: the collector keeps the heap
                      under max(N, 1.5 × the live heap) (default 128;
                      0: none; GOMEMLIMIT, when set, wins)
`

// workerArgs are the parsed command line of `sluice worker`.
type workerArgs struct {
	workerFile     string
	connectorFiles []string
	sets           []string
	logLevel       string
	logFormat      string
	memLimitMiB    uint64
}

func parseWorkerArgs(args []string) (workerArgs, error) {
	a := workerArgs{logLevel: "INFO", logFormat: "text", memLimitMiB: defaultWorkerMemLimitMiB}
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			positional = append(positional, arg)
			continue
		}
		if arg == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		switch name {
		case "h", "help":
			return a, flagHelp
		case "set", "log-level", "log-format", "memory-limit-mib":
			if !hasValue {
				if i+1 >= len(args) {
					return a, fmt.Errorf("flag --%s needs a value", name)
				}
				i++
				value = args[i]
			}
			switch name {
			case "set":
				a.sets = append(a.sets, value)
			case "log-level":
				a.logLevel = value
			case "log-format":
				a.logFormat = value
			case "memory-limit-mib":
				n, err := strconv.ParseUint(value, 10, 32)
				if err != nil {
					return a, fmt.Errorf("--memory-limit-mib %q: want a whole number of MiB (0: no limit)", value)
				}
				a.memLimitMiB = n
			}
		default:
			return a, fmt.Errorf("unknown flag %s", arg)
		}
	}
	for i, p := range positional {
		if i == 0 && isWorkerFile(p) {
			a.workerFile = p
			continue
		}
		a.connectorFiles = append(a.connectorFiles, p)
	}
	return a, nil
}

var flagHelp = errors.New("help requested")

// defaultWorkerMemLimitMiB is the floor of the worker's soft memory limit
// (internal/memlimit). Under CDC load a worker's live heap is 85–90 MB
// (records queued in the connector and in the producer, broker request
// buffers); without a limit the collector lets the heap reach twice that.
const defaultWorkerMemLimitMiB = 128

// isWorkerFile tells a worker config from a connector file: JSON is always
// a connector; a .properties file is a connector if it has
// connector.class.
func isWorkerFile(path string) bool {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return false
	}
	props, err := properties.ReadFile(path)
	if err != nil {
		return true // reported when read as the worker file
	}
	_, connector := props["connector.class"]
	return !connector
}

func runWorker(args []string, stdout, stderr io.Writer) int {
	start := time.Now()
	a, err := parseWorkerArgs(args)
	if errors.Is(err, flagHelp) {
		fmt.Fprint(stdout, workerUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice worker: %v\n\n%s", err, workerUsage)
		return 2
	}
	rootLevel, ok := runtime.ParseLevel(a.logLevel)
	if !ok {
		fmt.Fprintf(stderr, "sluice worker: --log-level %q: want ERROR, WARN, INFO, DEBUG or TRACE\n", a.logLevel)
		return 2
	}
	var base slog.Handler
	hopts := &slog.HandlerOptions{Level: slog.Level(-1 << 20)} // LogLevels filters
	switch a.logFormat {
	case "text":
		base = slog.NewTextHandler(stderr, hopts)
	case "json":
		base = slog.NewJSONHandler(stderr, hopts)
	default:
		fmt.Fprintf(stderr, "sluice worker: --log-format %q: want text or json\n", a.logFormat)
		return 2
	}
	levels := runtime.NewLogLevels(base, rootLevel)
	log := levels.Logger("sluice.worker").With("component", "worker")
	memCtx, stopMemLimit := context.WithCancel(context.Background())
	defer stopMemLimit()
	memlimit.Run(memCtx, a.memLimitMiB<<20, time.Second, log)

	cfg, err := loadWorkerConfig(a, log)
	if err != nil {
		fmt.Fprintf(stderr, "sluice worker: invalid configuration:\n%v\n", err)
		return 2
	}
	connectorConfigs, err := readConnectorFiles(a.connectorFiles)
	if err != nil {
		fmt.Fprintf(stderr, "sluice worker: %v\n", err)
		return 2
	}

	registry := plugins.Builtin()
	if len(cfg.PluginPath) > 0 {
		report := registry.ScanPluginPath(strings.Join(cfg.PluginPath, ","))
		for _, e := range report.Java {
			log.Warn("plugin.path holds a Java plugin, which Sluice cannot run", "err", e)
		}
		for _, e := range report.Errors {
			log.Warn("plugin.path", "err", e)
		}
	}

	// The REST listeners are bound first: the worker id is the address
	// they actually got, and /health answers "starting" during start-up.
	listeners, err := listen(cfg.Listeners)
	if err != nil {
		fmt.Fprintf(stderr, "sluice worker: %v\n", err)
		return 1
	}
	workerID := runtime.AdvertisedWorkerID(&cfg, listeners[0].Addr())
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	w, err := runtime.NewWorker(cfg, runtime.Options{Levels: levels, Registry: registry, Version: version, WorkerID: workerID, Metrics: metrics})
	if err != nil {
		fmt.Fprintf(stderr, "sluice worker: %v\n", err)
		closeAll(listeners)
		return 2
	}
	headers, err := rest.ParseResponseHeaders(cfg.ResponseHTTPHeaders)
	if err != nil {
		fmt.Fprintf(stderr, "sluice worker: response.http.headers.config: %v\n", err)
		closeAll(listeners)
		return 2
	}
	handler := rest.New(w.Herder(), rest.Options{
		Logger:          levels.Logger("sluice.rest"),
		Metrics:         promhttp.HandlerFor(metrics, promhttp.HandlerOpts{}),
		AllowOrigin:     cfg.AccessControlAllowOrigin,
		AllowMethods:    cfg.AccessControlAllowMethods,
		ResponseHeaders: headers,
		AdminEnabled:    cfg.AdminListeners == nil,
		RebalanceRetry:  cfg.RebalanceRequestWait,
	})
	servers := serve(listeners, handler, log)
	if len(cfg.AdminListeners) > 0 {
		adminLns, err := listen(cfg.AdminListeners)
		if err != nil {
			fmt.Fprintf(stderr, "sluice worker: admin.listeners: %v\n", err)
			shutdownServers(servers)
			return 1
		}
		adminHandler := rest.New(w.Herder(), rest.Options{Logger: levels.Logger("sluice.rest"), AdminEnabled: true})
		servers = append(servers, serve(adminLns, adminHandler, log)...)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := w.Start(ctx); err != nil {
		log.Error("worker failed to start", "err", err)
		shutdownServers(servers)
		return 1
	}
	log.Info("worker ready", "worker_id", workerID, "rest", restURLs(listeners), "broker", w.BrokerAddr(),
		"startup_ms", time.Since(start).Milliseconds())

	for _, cc := range connectorConfigs {
		rctx, cancel := context.WithTimeout(ctx, rest.DefaultRequestTimeout)
		created, err := putConnectorConfig(rctx, w.Herder(), cc.name, cc.config)
		cancel()
		if err != nil {
			log.Error("could not create connector", "file", cc.file, "connector", cc.name, "err", err)
			continue
		}
		log.Info("connector from file", "file", cc.file, "connector", cc.name, "created", created)
	}

	<-ctx.Done()
	stop()
	log.Info("shutting down: stopping connectors and tasks (offsets are committed)")
	shutdownServers(servers)
	cctx, cancel := context.WithTimeout(context.Background(), cfg.TaskShutdownGracefulTimeout+10*time.Second)
	defer cancel()
	if err := w.Close(cctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// putConnectorConfig creates or updates a connector from a file: on this
// worker if it leads the cluster, else through the leader's REST API (as
// PUT /connectors/{c}/config would be forwarded).
func putConnectorConfig(ctx context.Context, h *runtime.Herder, name string, config map[string]string) (bool, error) {
	_, created, err := h.PutConnectorConfig(ctx, name, config)
	var rd *runtime.RedirectError
	if !errors.As(err, &rd) {
		return created, err
	}
	body, err := json.Marshal(config)
	if err != nil {
		return false, err
	}
	u := strings.TrimRight(rd.URL, "/") + "/connectors/" + url.PathEscape(name) + "/config?forward=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, fmt.Errorf("forward to the leader at %s: %w", rd.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil
	case http.StatusOK:
		return false, nil
	}
	return false, fmt.Errorf("the leader at %s answered %d: %s", rd.URL, resp.StatusCode, msg)
}

// loadWorkerConfig reads the worker file and applies --set.
func loadWorkerConfig(a workerArgs, log *slog.Logger) (runtime.WorkerConfig, error) {
	cfg := runtime.DefaultWorkerConfig()
	var errs []error
	if a.workerFile != "" {
		props, err := properties.ReadFile(a.workerFile)
		if err != nil {
			return cfg, err
		}
		for _, k := range slices.Sorted(maps.Keys(props)) {
			if err := cfg.Set(k, props[k]); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", a.workerFile, err))
			}
		}
	}
	for _, s := range a.sets {
		k, v, err := properties.ParseAssignment(s)
		if err == nil {
			err = cfg.Set(k, v)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--set %s: %w", s, err))
		}
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, err
	}
	for _, k := range cfg.Unknown {
		log.Warn("ignoring a worker property Sluice does not know", "property", k)
	}
	return cfg, nil
}

// connectorFile is a connector config read from a file.
type connectorFile struct {
	file, name string
	config     map[string]string
}

// readConnectorFiles reads connector configs: {"name", "config"} JSON, a
// flat JSON config, or a .properties file; each must name the connector.
func readConnectorFiles(paths []string) ([]connectorFile, error) {
	var out []connectorFile
	for _, p := range paths {
		var cfg map[string]string
		name := ""
		if strings.EqualFold(filepath.Ext(p), ".json") {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			var wrapped struct {
				Name   string         `json:"name"`
				Config map[string]any `json:"config"`
			}
			if err := json.Unmarshal(b, &wrapped); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			raw := wrapped.Config
			name = wrapped.Name
			if raw == nil {
				if err := json.Unmarshal(b, &raw); err != nil {
					return nil, fmt.Errorf("%s: %w", p, err)
				}
			}
			cfg = map[string]string{}
			for k, v := range raw {
				switch x := v.(type) {
				case string:
					cfg[k] = x
				case nil:
				default:
					cfg[k] = strings.TrimSpace(fmt.Sprint(x))
				}
			}
		} else {
			props, err := properties.ReadFile(p)
			if err != nil {
				return nil, err
			}
			cfg = props
		}
		if name == "" {
			name = cfg["name"]
		}
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%s: the connector has no name (set \"name\")", p)
		}
		out = append(out, connectorFile{file: p, name: strings.TrimSpace(name), config: cfg})
	}
	return out, nil
}

// listen binds every REST listener. Only http:// is served so far.
func listen(urls []string) ([]net.Listener, error) {
	var lns []net.Listener
	for _, u := range urls {
		l, err := runtime.ParseListener(u)
		if err == nil && l.Scheme != "http" {
			err = fmt.Errorf("%s: only http listeners are supported so far", u)
		}
		var ln net.Listener
		if err == nil {
			ln, err = net.Listen("tcp", l.Addr())
		}
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("listeners: %w", err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

func serve(lns []net.Listener, h http.Handler, log *slog.Logger) []*http.Server {
	var servers []*http.Server
	for _, ln := range lns {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("REST listener stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
	return servers
}

func shutdownServers(servers []*http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(ctx)
	}
}

func restURLs(lns []net.Listener) string {
	var out []string
	for _, ln := range lns {
		out = append(out, "http://"+ln.Addr().String())
	}
	return strings.Join(out, ",")
}
