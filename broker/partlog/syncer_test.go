package partlog

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/broker/vfs"
)

// TestSyncerConcurrent: many goroutines append to many logs and wait for
// their data to be durable through one Syncer; each sees its records below
// the high watermark when Sync returns, and a crash afterwards keeps them.
func TestSyncerConcurrent(t *testing.T) {
	m := vfs.NewMem()
	s := NewSyncer()
	defer s.Close()
	const logs, writers, rounds = 6, 16, 40
	var ls []*Log
	for i := range logs {
		l, err := Open(fmt.Sprintf("/data/t-%d", i), smallConfig(), Options{FS: m})
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(10, 30, func() int64 { return 1 })
			for r := range rounds {
				a, b := ls[(w+r)%logs], ls[(w+2*r+1)%logs]
				ba, _ := g.next(t, 2)
				bb, _ := g.next(t, 3)
				ra, err := a.Append(ba)
				if err != nil {
					errs <- err
					return
				}
				rb, err := b.Append(bb)
				if err != nil {
					errs <- err
					return
				}
				if r%2 == 0 {
					err = s.Sync(a, b)
				} else {
					err = <-s.Async(a, b)
				}
				if err != nil {
					errs <- err
					return
				}
				if a.HighWatermark() < ra.Base+2 || b.HighWatermark() < rb.Base+3 {
					errs <- fmt.Errorf("sync returned before the high watermark covered the appends")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int64
	ends := make([]int64, logs)
	for i, l := range ls {
		ends[i] = l.HighWatermark()
		total += ends[i]
	}
	if want := int64(writers * rounds * 5); total != want {
		t.Fatalf("%d records durable, want %d", total, want)
	}
	m.Crash()
	for i := range logs {
		l, err := Open(fmt.Sprintf("/data/t-%d", i), smallConfig(), Options{FS: m})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(readAll(t, l)); int64(got) != ends[i] {
			t.Fatalf("log %d: %d records after a crash, %d were synced", i, got, ends[i])
		}
		l.Close()
	}
}

func TestSyncerErrors(t *testing.T) {
	e := memEnv()
	fault := vfs.NewFault(e.mem)
	o := e.opts()
	o.FS = fault
	bad := e.openWith(t, DefaultConfig(), o)
	e2 := memEnv()
	good := e2.open(t, DefaultConfig())
	g := newGen(1, 10, e.clock.nowMs)
	appendN(t, bad, g, 1, 1)
	appendN(t, good, g, 1, 1)
	fault.Add(vfs.Rule{Op: vfs.OpSync})

	s := NewSyncer()
	if err := s.Sync(); err != nil {
		t.Fatalf("sync of no logs: %v", err)
	}
	good2 := s.Async(good)
	if err := s.Sync(good, bad); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("sync with a failing log: %v", err)
	}
	if err := <-good2; err != nil {
		t.Fatalf("request for the good log only: %v", err)
	}
	s.Close()
	s.Close()
	if err := s.Sync(good); !errors.Is(err, ErrClosed) {
		t.Fatalf("sync after close: %v", err)
	}
}

// TestSyncerCloseRace closes a Syncer while requests arrive: each gets an
// answer, nil or ErrClosed, and nothing panics.
func TestSyncerCloseRace(t *testing.T) {
	e := memEnv()
	l := e.open(t, DefaultConfig())
	for range 20 {
		s := NewSyncer()
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Sync(l); err != nil && !errors.Is(err, ErrClosed) {
					t.Error(err)
				}
			}()
		}
		s.Close()
		wg.Wait()
	}
}
