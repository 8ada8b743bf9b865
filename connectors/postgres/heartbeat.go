package postgres

import (
	"context"
	"time"
)

// heartbeat runs at heartbeat.interval.ms between transactions. It writes
// a logical decoding message (or runs heartbeat.action.query) so that the
// server produces WAL the slot can move past even when the captured tables
// are idle, and queues a heartbeat record whose offset carries the idle
// position: once stored, Commit confirms it and the slot stops holding
// WAL (Debezium's heartbeat; the pg_logical_emit_message is Sluice's).
func (st *streamer) heartbeat(ctx context.Context, now time.Time) error {
	st.nextBeat = now.Add(st.cfg.HeartbeatInterval)
	q := st.cfg.HeartbeatActionQuery
	if q == "" {
		q = "SELECT pg_logical_emit_message(false, 'sluice-heartbeat', '')"
	}
	if !st.s.heartbeatFailed {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := st.s.conn.Exec(qctx, q)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if isRetriable(err) {
				return err
			}
			st.s.heartbeatFailed = true
			st.t.logger.Warn("heartbeat statement failed; heartbeat records continue without it", "statement", q, "error", err)
		}
	}
	pos := max(st.lastCommitEnd, st.idleLSN)
	rec := st.t.events.heartbeat(idleOffset(pos, now.UnixMicro(), st.incr.keys()), now)
	st.setPos(storedOffset{lsn: pos, lsnCommit: pos})
	if err := st.add(ctx, rec); err != nil {
		return err
	}
	return st.flush(ctx)
}
