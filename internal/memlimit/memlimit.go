// Package memlimit keeps a Go process's memory near what it really uses.
//
// Without a limit the collector lets the heap grow to twice the live heap
// between cycles (GOGC=100): a worker whose live heap is 90 MB under load
// peaks around 200 MB resident. A fixed soft limit (debug.SetMemoryLimit)
// keeps it down, but a process whose live heap grows past a fixed limit
// collects almost continuously. Run sets a limit that follows the live
// heap instead: max(floor, live × 3/2), re-read every second, so that a
// small process stays under floor and a busy one pays at most twice the
// collections GOGC=100 would.
package memlimit

import (
	"context"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// liveMetric is the heap the last collection found live.
const liveMetric = "/gc/heap/live:bytes"

// Limit returns the soft memory limit for a live heap of live bytes.
func Limit(floor, live uint64) uint64 { return max(floor, live+live/2) }

// Run sets the process's soft memory limit to Limit(floor, live heap) and
// follows the live heap every interval until ctx is done, when it restores
// no limit. It does nothing (and returns false) when GOMEMLIMIT is set,
// which wins, or floor is 0.
func Run(ctx context.Context, floor uint64, interval time.Duration, log *slog.Logger) bool {
	if floor == 0 || os.Getenv("GOMEMLIMIT") != "" {
		return false
	}
	sample := []metrics.Sample{{Name: liveMetric}}
	set := func() uint64 {
		metrics.Read(sample)
		var live uint64
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live = sample[0].Value.Uint64()
		}
		limit := Limit(floor, live)
		debug.SetMemoryLimit(int64(min(limit, math.MaxInt64)))
		return limit
	}
	last := set()
	log.Debug("soft memory limit", "limit_mib", last>>20, "floor_mib", floor>>20)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				debug.SetMemoryLimit(math.MaxInt64)
				return
			case <-t.C:
				if l := set(); l != last && (l > last+last/8 || l < last-last/8) {
					log.Debug("soft memory limit", "limit_mib", l>>20, "floor_mib", floor>>20)
					last = l
				}
			}
		}
	}()
	return true
}
