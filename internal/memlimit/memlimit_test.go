package memlimit

import (
	"context"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	for _, tc := range []struct{ floor, live, want uint64 }{
		{128 << 20, 0, 128 << 20},
		{128 << 20, 60 << 20, 128 << 20},
		{128 << 20, 100 << 20, 150 << 20},
		{64 << 20, 400 << 20, 600 << 20},
	} {
		if got := Limit(tc.floor, tc.live); got != tc.want {
			t.Errorf("Limit(%d, %d) = %d, want %d", tc.floor, tc.live, got, tc.want)
		}
	}
}

// TestRunFollowsTheLiveHeap: the limit starts at the floor, rises with a
// live heap past two thirds of it, and is lifted when Run's context ends.
func TestRunFollowsTheLiveHeap(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	ctx, cancel := context.WithCancel(context.Background())
	const floor = 32 << 20
	if !Run(ctx, floor, 5*time.Millisecond, slog.New(slog.DiscardHandler)) {
		t.Fatal("Run did nothing")
	}
	if got := debug.SetMemoryLimit(-1); got < floor {
		t.Errorf("limit %d below the floor", got)
	}
	live := make([][]byte, 0, 64)
	for range 64 {
		live = append(live, make([]byte, 1<<20)) // 64 MiB live
	}
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetMemoryLimit(-1) < 80<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("limit %d MiB with 64 MiB live", debug.SetMemoryLimit(-1)>>20)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(live)
	cancel()
	for debug.SetMemoryLimit(-1) != math.MaxInt64 {
		if time.Now().After(deadline) {
			t.Fatal("limit not lifted after the context ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGOMEMLIMITWins(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB")
	if Run(context.Background(), 32<<20, time.Second, slog.New(slog.DiscardHandler)) {
		t.Error("Run ran with GOMEMLIMIT set")
	}
}
