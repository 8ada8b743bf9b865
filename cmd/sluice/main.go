// Command sluice is the Sluice binary: `sluice broker` runs the bundled
// Kafka-protocol broker alone; `sluice worker` runs a Connect worker, with
// the broker embedded when no bootstrap.servers is given.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `Usage: sluice <command> [flags]

Commands:
  broker    run the bundled Kafka-protocol broker
  worker    run a Kafka Connect-compatible worker (REST API, connectors, embedded broker)
  version   print the version

Run 'sluice <command> --help' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if args[0] == "broker" || args[0] == "worker" {
		if err := startPprof(stderr); err != nil {
			fmt.Fprintf(stderr, "sluice: %v\n", err)
			return 2
		}
	}
	switch args[0] {
	case "broker":
		return runBroker(args[1:], stdout, stderr)
	case "worker":
		return runWorker(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "sluice", version)
		return 0
	case "help", "--help", "-h", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", args[0], usage)
	return 2
}
