package partlog

import (
	"sync"
)

// syncParallelism bounds the fsyncs a round runs at once.
const syncParallelism = 8

// Syncer group-commits fsyncs: concurrent callers of Sync share fsync rounds
// across logs, so acks=all durability does not cost throughput.
//
// One goroutine runs rounds back to back. A round takes every request
// queued so far, fsyncs each dirty log once (up to syncParallelism at a
// time) and then completes all of the round's requests; requests that
// arrive during a round wait for the next one. A log's error fails only
// the requests that named it.
type Syncer struct {
	mu      sync.Mutex
	queue   []*syncRequest // REQUIRES: mu
	closed  bool           // REQUIRES: mu
	wake    chan struct{}  // capacity 1: a round is wanted; sent to and closed under mu
	stopped chan struct{}  // closed when the goroutine has exited
}

type syncRequest struct {
	logs []*Log
	done chan error // capacity 1
}

// NewSyncer starts a Syncer.
func NewSyncer() *Syncer {
	s := &Syncer{wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go s.run()
	return s
}

// Sync returns once every given log has been synced by a round that began
// after the call, or with the first error.
func (s *Syncer) Sync(logs ...*Log) error { return <-s.Async(logs...) }

// Async is Sync without blocking: the channel receives one value (nil or
// the first error) when the round that covers the logs is done.
//
// After Close it receives ErrClosed.
func (s *Syncer) Async(logs ...*Log) <-chan error {
	done := make(chan error, 1)
	if len(logs) == 0 {
		done <- nil
		return done
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		done <- ErrClosed
		return done
	}
	s.queue = append(s.queue, &syncRequest{logs: logs, done: done})
	select { // under mu: Close closes wake under mu too
	case s.wake <- struct{}{}:
	default: // a round is already wanted
	}
	s.mu.Unlock()
	return done
}

// Close stops the Syncer. Requests already queued are served by a last
// round; later ones receive ErrClosed.
func (s *Syncer) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.stopped
		return
	}
	s.closed = true
	close(s.wake)
	s.mu.Unlock()
	<-s.stopped
}

func (s *Syncer) run() {
	defer close(s.stopped)
	for range s.wake {
		s.round()
	}
	s.round() // requests queued before Close
}

// round serves every queued request with one fsync per log.
func (s *Syncer) round() {
	s.mu.Lock()
	reqs := s.queue
	s.queue = nil
	s.mu.Unlock()
	if len(reqs) == 0 {
		return
	}
	errs := map[*Log]error{}
	var logs []*Log
	for _, r := range reqs {
		for _, l := range r.logs {
			if _, ok := errs[l]; !ok {
				errs[l] = nil
				logs = append(logs, l)
			}
		}
	}
	if len(logs) == 1 {
		errs[logs[0]] = logs[0].Sync()
	} else {
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, syncParallelism)
		for _, l := range logs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				err := l.Sync()
				<-sem
				mu.Lock()
				errs[l] = err
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	for _, r := range reqs {
		var err error
		for _, l := range r.logs {
			if err = errs[l]; err != nil {
				break
			}
		}
		r.done <- err
	}
}
