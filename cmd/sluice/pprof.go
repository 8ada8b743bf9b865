package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// envPprof names the address on which `sluice broker` and `sluice worker`
// serve Go's profiling endpoints (/debug/pprof/...) when it is set, e.g.
// SLUICE_PPROF_LISTEN=127.0.0.1:6060 then
// `go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10`.
// Off by default: profiles show configs and data, so bind it to loopback.
const envPprof = "SLUICE_PPROF_LISTEN"

// startPprof serves the profiling endpoints when SLUICE_PPROF_LISTEN is
// set. It fails only when the address cannot be bound.
func startPprof(stderr io.Writer) error {
	addr := os.Getenv(envPprof)
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s=%s: %w", envPprof, addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	fmt.Fprintf(stderr, "sluice: profiling endpoints on http://%s/debug/pprof/\n", ln.Addr())
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}
