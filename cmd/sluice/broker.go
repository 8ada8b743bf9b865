package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/internal/memlimit"
	"github.com/sluicedata/sluice/internal/properties"
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runBroker(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "address to serve the Kafka protocol on (default 127.0.0.1:9092; Kafka: listeners)")
	dataDir := fs.String("data-dir", "", "directory for topics and broker state (default ./sluice-data; Kafka: log.dirs)")
	advertised := fs.String("advertised-addr", "", "host:port handed to clients (default: the listen address; Kafka: advertised.listeners)")
	configFile := fs.String("config", "", "a Kafka server.properties-style file; keys Sluice does not use are reported and ignored")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	memLimit := fs.Uint64("memory-limit-mib", 64, "soft memory limit in MiB: the collector keeps the heap under max(N, 1.5 × the live heap) (0: none; GOMEMLIMIT, when set, wins)")
	var sets multiFlag
	fs.Var(&sets, "set", "a broker property as key=value, by its Kafka name (repeatable), e.g. --set num.partitions=3")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sluice broker [flags]\n\nRuns the bundled single-node Kafka broker.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nProperties accepted by --set and --config:\n  %s\n", strings.Join(broker.Properties(), "\n  "))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sluice broker: unexpected argument %q (flags only; see --help)\n", fs.Arg(0))
		return 2
	}

	// The broker's live heap is small (request and read buffers are pooled
	// and collectable); without a soft limit the collector lets the heap
	// double between cycles under load. The limit keeps the resident set
	// near what is live, at a small cost in GC work, and follows the live
	// heap when that outgrows it.
	memCtx, stopMemLimit := context.WithCancel(context.Background())
	defer stopMemLimit()
	memlimit.Run(memCtx, *memLimit<<20, time.Second, slog.New(slog.DiscardHandler))

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "sluice broker: --log-level %q: want debug, info, warn or error\n", *logLevel)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	cfg := broker.DefaultConfig()
	cfg.DataDir = "./sluice-data"
	cfg.Logger = logger
	if *configFile != "" {
		props, err := properties.ReadFile(*configFile)
		if err != nil {
			fmt.Fprintf(stderr, "sluice broker: %v\n", err)
			return 2
		}
		for k, v := range props {
			if err := cfg.Set(k, v); err != nil {
				if errors.Is(err, broker.ErrUnknownProperty) {
					logger.Warn("ignoring a property Sluice does not use", "file", *configFile, "property", k)
					continue
				}
				fmt.Fprintf(stderr, "sluice broker: %s: %v\n", *configFile, err)
				return 2
			}
		}
	}
	for _, s := range sets {
		k, v, err := properties.ParseAssignment(s)
		if err == nil {
			err = cfg.Set(k, v)
		}
		if err != nil {
			fmt.Fprintf(stderr, "sluice broker: --set %s: %v\n", s, err)
			return 2
		}
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *advertised != "" {
		cfg.AdvertisedAddr = *advertised
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "sluice broker: invalid configuration:\n%v\n", err)
		return 2
	}

	b, err := broker.New(cfg)
	if err != nil {
		logger.Error("broker failed to start", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- b.ListenAndServe() }()
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
		if err := b.Close(); err != nil {
			logger.Error("close", "err", err)
			return 1
		}
		return 0
	case err := <-errc:
		if err != nil {
			logger.Error("broker stopped", "err", err)
			b.Close()
			return 1
		}
		return 0
	}
}
