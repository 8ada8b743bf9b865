package task

import (
	"context"
	"math/rand/v2"
	"time"
)

// minRetryDelay is the first retry delay (Kafka's RETRIES_DELAY_MIN_MS).
const minRetryDelay = 300 * time.Millisecond

// retryPolicy is errors.retry.timeout and errors.retry.delay.max.ms: a
// pure schedule, Kafka's RetryWithToleranceOperator.backoff.
type retryPolicy struct {
	// timeout bounds how long an operation is retried: 0 never, negative
	// forever.
	timeout time.Duration
	// maxDelay caps one delay; a delay past it is replaced by a random one
	// in [maxDelay/2, maxDelay) so that retrying tasks spread out.
	maxDelay time.Duration
}

// delay returns how long to wait after the attempt-th failed attempt
// (1-based) of an operation first tried at start, and false when the
// retry timeout has passed. rnd returns a random duration in [0, n).
func (p retryPolicy) delay(attempt int, start, now time.Time, rnd func(n time.Duration) time.Duration) (time.Duration, bool) {
	if p.timeout == 0 {
		return 0, false
	}
	var deadline time.Time
	if p.timeout > 0 {
		deadline = start.Add(p.timeout)
		if !now.Before(deadline) {
			return 0, false
		}
	}
	d := minRetryDelay
	for i := 1; i < attempt && d <= p.maxDelay; i++ {
		d *= 2
	}
	if d > p.maxDelay {
		half := p.maxDelay / 2
		d = half
		if p.maxDelay-half > 0 {
			d += rnd(p.maxDelay - half)
		}
	}
	if !deadline.IsZero() && now.Add(d).After(deadline) {
		d = deadline.Sub(now)
	}
	return d, true
}

// backoffDelay is the unbounded schedule for operations the connector
// contract retries forever (Poll and Put with ErrRetriable, unless
// errors.retry.timeout bounds them).
func (p retryPolicy) forever() retryPolicy {
	return retryPolicy{timeout: -1, maxDelay: p.maxDelay}
}

func randDuration(n time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(n)))
}

// sleep waits d or until ctx is done, and reports whether it slept fully.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
