package partlog

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestConcurrentReadersWriters runs appends, syncs, reads, watches and
// cleaning passes at once (under -race); readers only ever see whole,
// in-order records below the high watermark.
func TestConcurrentReadersWriters(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		cfg := compactConfig()
		cfg.CleanupPolicy = PolicyCompactDelete
		cfg.RetentionBytes = 64 << 10
		cfg.RetentionMs = -1
		l := e.open(t, cfg)
		s := NewSyncer()
		defer s.Close()
		ctx, cancel := context.WithCancel(context.Background())
		var wg, writers sync.WaitGroup
		fail := make(chan error, 16)

		for w := 0; w < 2; w++ {
			writers.Add(1)
			go func() {
				defer writers.Done()
				g := newGen(50, 40, e.clock.nowMs)
				for i := 0; i < 300; i++ {
					b, _ := g.next(t, 1+i%7)
					if _, err := l.Append(b); err != nil {
						fail <- err
						return
					}
					if err := s.Sync(l); err != nil {
						fail <- err
						return
					}
				}
			}()
		}
		for r := 0; r < 3; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf []byte
				off := int64(0)
				for ctx.Err() == nil {
					w := l.Watch()
					data, err := l.Read(off, 4<<10, buf[:0])
					if errors.Is(err, ErrOffsetOutOfRange) && off < l.StartOffset() {
						off = l.StartOffset() // retention passed us: a consumer resets
						continue
					}
					if err != nil {
						fail <- err
						return
					}
					if len(data) == 0 {
						select {
						case <-w:
						case <-ctx.Done():
						}
						continue
					}
					buf = data
					for _, r := range decode(t, data) {
						if r.off >= off {
							off = r.off + 1
						}
					}
					if hwm := l.HighWatermark(); off > hwm {
						fail <- errors.New("read past the high watermark")
						return
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := l.Clean(); err != nil {
					fail <- err
					return
				}
				l.OffsetForTime(e.clock.nowMs())
				l.MaxTimestamp()
				l.Size()
				select { // clean again when there is something new
				case <-l.Watch():
				case <-ctx.Done():
				}
			}
		}()

		writers.Wait()
		if l.EndOffset() != l.HighWatermark() || l.EndOffset() == 0 {
			t.Errorf("end offset %d, high watermark %d after every append was synced", l.EndOffset(), l.HighWatermark())
		}
		cancel()
		wg.Wait()
		close(fail)
		for err := range fail {
			t.Fatal(err)
		}
	})
}
