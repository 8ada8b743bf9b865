package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// BenchmarkFailover measures, with the default membership settings
// (session.timeout.ms 10 s, heartbeat.interval.ms 1 s), the time from
// kill -9 of a worker to its tasks RUNNING on the others, three
// failovers per iteration (a replacement worker joins between them). The
// bar is the session timeout plus 2 s: a dead worker cannot be told from
// a slow one before its session expires, and its work must not wait
// longer than that.
func BenchmarkFailover(b *testing.B) {
	var samples []time.Duration
	for range b.N {
		c := newProcCluster(b, "session.timeout.ms=10000", "heartbeat.interval.ms=1000")
		for range 3 {
			c.add()
		}
		c.pipeline(c.workers[0], 6, -1, "100", false)
		for range 3 {
			alive := c.alive()
			waitRunning(b, alive[0], "orders", 6, 60*time.Second, func(_ map[int]string, ws []string) error {
				if len(ws) != len(alive) {
					return fmt.Errorf("tasks on %v", ws)
				}
				return nil
			})
			// A follower running tasks: its work waits for nothing but
			// its session to expire (the leader keeps the assignment).
			victim := alive[0]
			for _, p := range alive {
				if p != c.leader() {
					victim = p
				}
			}
			// Kill at a random moment of the heartbeat cycle (right
			// after a rebalance every member's heartbeats are in step,
			// which would always measure the same phase).
			time.Sleep(time.Duration(rand.Int64N(int64(2 * time.Second))))
			victim.kill()
			victim.dead = true
			start := time.Now()
			waitRunning(b, c.alive()[0], "orders", 6, 60*time.Second, func(_ map[int]string, ws []string) error {
				if slices.Contains(ws, victim.id) {
					return fmt.Errorf("tasks still on %s", victim.id)
				}
				return nil
			})
			samples = append(samples, time.Since(start))
			c.add()
		}
		b.StopTimer()
		for _, p := range c.workers {
			if !p.dead {
				p.kill()
			}
		}
		c.broker.Kill()
		b.StartTimer()
	}
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	b.ReportMetric(float64(sum.Milliseconds())/float64(len(samples)), "ms/failover")
	b.ReportMetric(float64(slices.Max(samples).Milliseconds()), "max-ms/failover")
	b.Logf("failovers: %v (bar: session timeout 10s + 2s)", samples)
}

// alive returns the workers not killed.
func (c *procCluster) alive() []*clusterProc {
	return slices.DeleteFunc(slices.Clone(c.workers), func(p *clusterProc) bool { return p.dead })
}

// BenchmarkSixTasksOneVsThree measures records/s of a six-task pipeline
// (datagen, six tasks as fast as they go → a six-partition topic → a
// six-task FileStreamSink) on one worker and on three, each on its own
// `sluice broker` process, from the moment every source task runs until
// the sink's file holds every record. All processes share this machine,
// so three workers add coordination, not cores.
func BenchmarkSixTasksOneVsThree(b *testing.B) {
	const perTask = 50000
	rate := map[int][]float64{}
	for range b.N {
		for _, n := range []int{1, 3} {
			c := newProcCluster(b)
			for range n {
				c.add()
			}
			out := c.pipeline(c.workers[0], 6, perTask, "0", true)
			waitRunning(b, c.workers[0], "orders", 6, 60*time.Second, nil)
			start := time.Now()
			var lc lineCounter
			deadline := start.Add(5 * time.Minute)
			for lc.lines(out) < 6*perTask {
				if time.Now().After(deadline) {
					b.Fatalf("%d workers: %d of %d records after 5 minutes", n, lc.n, 6*perTask)
				}
				time.Sleep(10 * time.Millisecond)
			}
			elapsed := time.Since(start)
			rate[n] = append(rate[n], float64(6*perTask)/elapsed.Seconds())
			b.StopTimer()
			for _, p := range c.workers {
				p.kill()
			}
			c.broker.Kill()
			b.StartTimer()
		}
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	one, three := mean(rate[1]), mean(rate[3])
	b.ReportMetric(one, "rec/s-1worker")
	b.ReportMetric(three, "rec/s-3workers")
	b.ReportMetric(three/one, "ratio-3/1")
}
