package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/sluicedata/sluice/connectors"
)

// session is one connected attempt of the producer: a metadata
// connection, and the snapshot and stream phases run over it.
type session struct {
	t               *Task
	cat             *catalog
	conn            *pgx.Conn
	factory         *schemaFactory
	heartbeatFailed bool
	syncCommit      bool // synchronous_commit=on set on conn
}

func (s *session) schemas() *schemaFactory {
	if s.factory == nil {
		cfg := s.t.cfg
		s.factory = &schemaFactory{cfg: cfg, filters: s.t.filters, types: &typeMapper{
			decimal: cfg.DecimalMode, time: cfg.TimePrecision, binary: cfg.BinaryMode, interval: cfg.IntervalMode,
			hstoreMode: cfg.HStoreMode, unknown: cfg.IncludeUnknownTypes, placeholder: cfg.ToastPlaceholder,
			types: func(oid uint32) *pgType {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				return s.cat.typeOf(ctx, oid)
			},
		}}
	}
	return s.factory
}

// resumeLSN is where streaming continues from a stored position.
func resumeLSN(p *storedOffset) pglogrepl.LSN {
	if p.snapshot || p.lsnCommit == 0 {
		return p.lsn
	}
	return p.lsnCommit
}

// run decides, from snapshot.mode, the stored position and the slot,
// whether to snapshot, then streams.
func (s *session) run(ctx context.Context, slot slotInfo) error {
	t := s.t
	cfg := t.cfg
	pos := t.position
	incomplete := pos != nil && pos.snapshot && !pos.snapshotFinished
	slotAhead := slot.exists && pos != nil && !incomplete && slot.confirmed > resumeLSN(pos)
	var need bool
	switch cfg.SnapshotMode {
	case SnapshotInitial, SnapshotInitialOnly:
		need = pos == nil || incomplete
	case SnapshotAlways:
		need = !t.snapshotted || incomplete
	case SnapshotWhenNeeded:
		need = pos == nil || incomplete || !slot.exists || slotAhead
		if need && pos != nil && !incomplete {
			t.logger.Warn("snapshot.mode=when_needed: the stored position cannot be resumed from the slot; taking a new snapshot",
				"slot_exists", slot.exists, "slot_confirmed", slot.confirmed.String(), "stored", resumeLSN(pos).String())
		}
	}
	if cfg.SnapshotMode == SnapshotInitialOnly {
		if need {
			t.snapshotted = true
			if err := s.snapshot(ctx, "", 0); err != nil {
				return err
			}
		}
		t.initialOnlyEnd = true
		return nil
	}
	if slot.exists && slot.activePID != 0 {
		return connectors.Retriable(fmt.Errorf("postgres: replication slot %q is in use by process %d (a previous task "+
			"still attached, or another consumer); retrying", cfg.SlotName, slot.activePID))
	}
	repl, err := connectReplication(ctx, cfg)
	if err != nil {
		return classifyConnectError(cfg, err)
	}
	defer repl.Close(context.Background())

	if need {
		t.snapshotted = true
		if !slot.exists {
			res, err := pglogrepl.CreateReplicationSlot(ctx, repl, cfg.SlotName, PluginPgoutput,
				pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
			if err != nil {
				return setupError(fmt.Sprintf("create replication slot %q", cfg.SlotName), err)
			}
			point, err := pglogrepl.ParseLSN(res.ConsistentPoint)
			if err != nil {
				return fmt.Errorf("%w: slot consistent point %q: %w", ErrProtocol, res.ConsistentPoint, err)
			}
			t.logger.Info("created replication slot with an exported snapshot", "slot", cfg.SlotName, "consistent_point", res.ConsistentPoint)
			if err := s.snapshot(ctx, res.SnapshotName, point); err != nil {
				return err
			}
			return s.stream(ctx, repl, point, point)
		}
		start := slot.confirmed
		if err := s.snapshot(ctx, "", start); err != nil {
			return err
		}
		return s.stream(ctx, repl, start, slot.confirmed)
	}

	if !slot.exists {
		if pos != nil {
			return fmt.Errorf("%w: replication slot %q does not exist, but offsets are stored (position %s): the changes since then "+
				"are gone (the slot was dropped, or this is a new primary after a failover). Nothing was skipped: the task stopped. "+
				"Set snapshot.mode=when_needed (or always) to take a new snapshot and continue, or reset this connector's offsets",
				ErrSlotMissing, cfg.SlotName, resumeLSN(pos))
		}
		res, err := pglogrepl.CreateReplicationSlot(ctx, repl, cfg.SlotName, PluginPgoutput,
			pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"})
		if err != nil {
			return setupError(fmt.Sprintf("create replication slot %q", cfg.SlotName), err)
		}
		point, err := pglogrepl.ParseLSN(res.ConsistentPoint)
		if err != nil {
			return fmt.Errorf("%w: slot consistent point %q: %w", ErrProtocol, res.ConsistentPoint, err)
		}
		t.logger.Info("created replication slot", "slot", cfg.SlotName, "consistent_point", res.ConsistentPoint)
		return s.stream(ctx, repl, point, point)
	}
	if slotAhead {
		return &SlotAheadError{Slot: cfg.SlotName, Confirmed: slot.confirmed, Stored: resumeLSN(pos)}
	}
	start := slot.confirmed
	if pos != nil {
		start = resumeLSN(pos)
	}
	return s.stream(ctx, repl, start, slot.confirmed)
}

// relState is what the stream knows about a relation.
type relState struct {
	msg      relationMsg
	id       tableID
	captured bool
	signal   bool
	ts       *tableSchema
}

// streamer consumes the replication stream of one connection.
type streamer struct {
	s    *session
	t    *Task
	cfg  Config
	repl *pgconn.PgConn
	rels map[uint32]*relState

	filter *resumeFilter

	inTx       bool
	skipTx     bool
	xid        uint32
	finalLSN   pglogrepl.LSN
	commitTime time.Time
	lastLSN    pglogrepl.LSN
	nAtLSN     int64

	lastCommitEnd pglogrepl.LSN // lsn_commit of the events being read
	idleLSN       pglogrepl.LSN // position everything before which has been read

	received   pglogrepl.LSN
	minFlush   pglogrepl.LSN
	sentFlush  pglogrepl.LSN
	lastStatus time.Time
	nextBeat   time.Time

	pending      []connectors.Record
	pendingSince time.Time // when the oldest pending record was added
	curPos       storedOffset
	cm           changeMsg
	now          procTime // processing time of the current batch of messages

	// Per transaction, boxed once for its events.
	txSource     *connectors.Struct
	boxCommit    any
	boxTxID      any
	boxTsUsec    any
	boxCommitFor pglogrepl.LSN

	incr *incrementalRun
	tx   *txMonitor // nil unless provide.transaction.metadata
}

// stream starts replication at start (transactions committed before it
// are not sent) and processes the stream until an error or ctx ends.
// minFlush is the slot's confirmed position: status updates never report
// less.
func (s *session) stream(ctx context.Context, repl *pgconn.PgConn, start, minFlush pglogrepl.LSN) error {
	t := s.t
	cfg := t.cfg
	args := []string{"proto_version '1'", "publication_names '" + strings.ReplaceAll(cfg.Publication, "'", "''") + "'"}
	err := pglogrepl.StartReplication(ctx, repl, cfg.SlotName, start, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication, PluginArgs: args})
	if err != nil {
		if code := pgCode(err); code == "42704" {
			return fmt.Errorf("%w: publication %q does not exist: create it or set publication.autocreate.mode: %w", ErrSetup, cfg.Publication, err)
		}
		return setupError(fmt.Sprintf("start replication on slot %q", cfg.SlotName), err)
	}
	var filter *resumeFilter
	if t.position != nil {
		filter = newResumeFilter(*t.position)
	}
	st := &streamer{s: s, t: t, cfg: cfg, repl: repl, rels: map[uint32]*relState{}, filter: filter,
		lastCommitEnd: start, idleLSN: start, received: start, minFlush: minFlush,
		curPos: storedOffset{lsn: start, lsnCommit: start}}
	if t.position != nil && !t.position.snapshot {
		// Until the stream passes it, the stored position is where a
		// reconnection resumes from.
		st.curPos = *t.position
	}
	if cfg.ProvideTransactionMetadata {
		st.tx = newTxMonitor(cfg)
	}
	if t.position != nil && t.position.incremental != nil {
		st.incr = &incrementalRun{state: t.position.incremental.clone()}
		t.logger.Info("resuming incremental snapshot", "tables", st.incr.state.Tables, "after_key", st.incr.state.LastKey)
		if len(t.progress.snapshot()) == 0 {
			for _, name := range st.incr.state.Tables {
				t.progress.add(TableProgress{Table: name, RowsEstimated: -1, Incremental: true})
			}
		}
	}
	t.logger.Info("streaming changes", "slot", cfg.SlotName, "publication", cfg.Publication, "from", start.String())
	t.streaming.Store(true)
	defer t.streaming.Store(false)
	if cfg.HeartbeatInterval > 0 {
		st.nextBeat = time.Now().Add(cfg.HeartbeatInterval)
	}
	if err := st.sendStatus(false); err != nil {
		return err
	}
	err = st.loop(ctx)
	if ctx.Err() != nil {
		// Stopping: confirm what Commit allowed before the connection goes.
		_ = repl.Conn().SetDeadline(time.Now().Add(2 * time.Second))
		_ = st.sendStatus(false)
		return nil
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return pgconn.Timeout(err) || errors.As(err, &ne) && ne.Timeout()
}

// Pending records are handed to Poll in batches of at least
// minFlushRecords, or once the oldest has waited maxPendingAge: each hand
// over may wake the polling goroutine, and waking it for a few records at
// a time costs more than the records.
const (
	minFlushRecords = 256
	maxPendingAge   = 2 * time.Millisecond
)

// loop reads the replication connection until an error or ctx ends.
//
// It reads in this goroutine, without a read deadline per message (one
// per message halves the receive rate): a deadline is set only when the
// next timer (status update, heartbeat, at most a second away) changes,
// and to the past when ctx is cancelled. Pending records go to Poll when
// the batch is full, or when the connection's read buffer is empty, that
// is when the next read may wait for the server.
func (st *streamer) loop(ctx context.Context) error {
	conn := st.repl
	stop := context.AfterFunc(ctx, func() { _ = conn.Conn().SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var deadline time.Time
	var lastTick time.Time
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := time.Now()
		if now.Sub(lastTick) >= time.Millisecond {
			lastTick = now
			st.now = newProcTime(now)
			if err := st.maybeStatus(now); err != nil {
				return err
			}
			if st.cfg.HeartbeatInterval > 0 && !st.inTx && !now.Before(st.nextBeat) {
				if err := st.heartbeat(ctx, now); err != nil {
					return err
				}
			}
			if st.incr != nil && !st.inTx {
				if err := st.incrementalStep(ctx); err != nil {
					return err
				}
			}
		}
		bufEmpty := conn.Frontend().ReadBufferLen() == 0
		linger := false
		if bufEmpty {
			// The next read may block. Hand over what is pending if it is
			// a batch worth a wake-up or has waited long enough; otherwise
			// come back for it by then.
			if len(st.pending) == 0 || len(st.pending) >= minFlushRecords || now.Sub(st.pendingSince) >= maxPendingAge {
				if err := st.flush(ctx); err != nil {
					return err
				}
			} else {
				linger = true
			}
			lastTick = time.Time{} // re-check the timers after the wait
		}
		if bufEmpty || !deadline.After(now) {
			// Make sure a blocking read returns in time for the timers (an
			// expired deadline must be renewed even mid-message).
			wake := now.Add(time.Second)
			if d := st.lastStatus.Add(st.cfg.StatusInterval); d.Before(wake) {
				wake = d
			}
			if st.cfg.HeartbeatInterval > 0 && st.nextBeat.Before(wake) {
				wake = st.nextBeat
			}
			if linger {
				wake = st.pendingSince.Add(maxPendingAge)
			}
			if wake.Before(now) {
				wake = now
			}
			if !deadline.After(now) || wake.Before(deadline) {
				deadline = wake.Add(time.Millisecond)
				_ = conn.Conn().SetReadDeadline(deadline)
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		msg, err := conn.ReceiveMessage(context.Background())
		if err != nil {
			if isTimeout(err) && !conn.IsClosed() {
				continue // the deadline expired: renewed above
			}
			return connectors.Retriable(fmt.Errorf("postgres: replication stream: %w", err))
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if err := st.copyData(ctx, m.Data); err != nil {
				return err
			}
		case *pgproto3.ErrorResponse:
			pe := pgconn.ErrorResponseToPgError(m)
			if isRetriable(pe) {
				return connectors.Retriable(fmt.Errorf("postgres: replication stream: %w", pe))
			}
			return fmt.Errorf("postgres: replication stream: %w", pe)
		case *pgproto3.CopyDone:
			return connectors.Retriable(errors.New("postgres: the server ended the replication stream"))
		}
	}
}

// maybeStatus sends a standby status update when Commit raised the flush
// target, or status.update.interval.ms passed.
func (st *streamer) maybeStatus(now time.Time) error {
	target := pglogrepl.LSN(st.t.flushTarget.Load())
	due := now.Sub(st.lastStatus) >= st.cfg.StatusInterval
	if due || target > st.sentFlush && now.Sub(st.lastStatus) >= 50*time.Millisecond {
		return st.sendStatus(false)
	}
	return nil
}

// sendStatus reports the flush position Commit allowed (the stored
// lsn_commit), never more: a task restarted after a crash resumes from the
// stored offset, and a slot confirmed beyond it would fail it with
// ErrSlotAhead (or, if that check were relaxed, skip what was not stored).
// A quiet slot advances through heartbeats, whose stored offsets carry the
// idle position.
func (st *streamer) sendStatus(reply bool) error {
	// Never report less than before (Postgres 15 would move the slot
	// back).
	flush := max(pglogrepl.LSN(st.t.flushTarget.Load()), st.minFlush, st.sentFlush)
	write := max(st.received, flush)
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), st.repl, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: write, WALFlushPosition: flush, WALApplyPosition: flush, ReplyRequested: reply})
	if err != nil {
		return connectors.Retriable(fmt.Errorf("postgres: send standby status: %w", err))
	}
	st.sentFlush = flush
	st.lastStatus = time.Now()
	return nil
}

// sendCaughtUp answers a keepalive that asks for a reply while everything
// read is stored (or produced no record): the received position as
// written, and no flush position (InvalidXLogRecPtr), which leaves the
// slot where Commit put it. A walsender that is shutting down exits once
// the client's flush position, or its write position when it has none,
// reaches what it sent; confirming that as flushed instead would put the
// slot ahead of the stored offset. pglogrepl.SendStandbyStatusUpdate
// cannot send an invalid flush position (it puts the write position
// there), so the message is built here.
func (st *streamer) sendCaughtUp() error {
	msg := make([]byte, 0, 34)
	msg = append(msg, pglogrepl.StandbyStatusUpdateByteID)
	msg = binary.BigEndian.AppendUint64(msg, uint64(st.received)) // written
	msg = binary.BigEndian.AppendUint64(msg, 0)                   // flushed: invalid
	msg = binary.BigEndian.AppendUint64(msg, 0)                   // applied: invalid
	msg = binary.BigEndian.AppendUint64(msg, uint64(time.Since(pgEpoch).Microseconds()))
	msg = append(msg, 0) // no reply requested
	buf, err := (&pgproto3.CopyData{Data: msg}).Encode(nil)
	if err == nil {
		err = st.repl.Frontend().SendUnbufferedEncodedCopyData(buf)
	}
	if err != nil {
		return connectors.Retriable(fmt.Errorf("postgres: send standby status: %w", err))
	}
	st.lastStatus = time.Now()
	return nil
}

// pgEpoch is the origin of Postgres timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// setPos sets the position after the current event, with a copy of the
// incremental snapshot state.
func (st *streamer) setPos(p storedOffset) {
	if st.incr != nil {
		p.incremental = st.incr.state.clone()
	}
	st.curPos = p
}

// flush hands the pending records to Poll.
func (st *streamer) flush(ctx context.Context) error {
	if len(st.pending) == 0 {
		st.t.position = st.position()
		return nil
	}
	b := st.pending
	st.pending = make([]connectors.Record, 0, len(b))
	return st.t.emit(ctx, b, st.position())
}

func (st *streamer) add(ctx context.Context, recs ...connectors.Record) error {
	if len(st.pending) == 0 {
		st.pendingSince = time.Now()
	}
	st.pending = append(st.pending, recs...)
	if len(st.pending) >= st.cfg.MaxBatchSize {
		return st.flush(ctx)
	}
	return nil
}

// copyData handles one CopyData message of the replication stream.
func (st *streamer) copyData(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		if len(data) < 18 {
			return fmt.Errorf("%w: short keepalive", ErrProtocol)
		}
		walEnd := pglogrepl.LSN(binary.BigEndian.Uint64(data[1:]))
		st.received = max(st.received, walEnd)
		if !st.inTx {
			st.idleLSN = max(st.idleLSN, walEnd)
		}
		if data[17] != 0 {
			if !st.inTx && len(st.pending) == 0 && st.incr == nil && st.t.allStored() {
				return st.sendCaughtUp()
			}
			return st.sendStatus(false)
		}
		return nil
	case pglogrepl.XLogDataByteID:
		if len(data) < 25 {
			return fmt.Errorf("%w: short XLogData", ErrProtocol)
		}
		walStart := pglogrepl.LSN(binary.BigEndian.Uint64(data[1:]))
		st.received = max(st.received, walStart)
		return st.message(ctx, walStart, data[25:])
	}
	return nil
}

// message handles one pgoutput message at WAL position lsn.
func (st *streamer) message(ctx context.Context, lsn pglogrepl.LSN, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case msgBegin:
		m, err := decodeBegin(b[1:])
		if err != nil {
			return err
		}
		st.inTx, st.xid, st.finalLSN, st.commitTime = true, m.xid, m.finalLSN, m.commitTime
		st.lastLSN, st.nAtLSN = 0, 0
		st.skipTx = st.filter.skipTx(m.finalLSN)
		st.txSource = nil
		if st.tx != nil && !st.skipTx {
			return st.beginTx(ctx, lsn)
		}
	case msgCommit:
		m, err := decodeCommit(b[1:])
		if err != nil {
			return err
		}
		st.inTx = false
		st.lastCommitEnd = max(st.lastCommitEnd, m.endLSN)
		st.idleLSN = max(st.idleLSN, m.endLSN)
		st.setPos(storedOffset{lsn: m.endLSN, lsnCommit: st.lastCommitEnd})
		if st.tx != nil && st.tx.active {
			return st.endTx(ctx, lsn, m.commitTime)
		}
		if len(st.pending) == 0 {
			pos := st.curPos
			st.t.position = &pos
		}
	case msgRelation:
		m, err := decodeRelation(b[1:])
		if err != nil {
			return err
		}
		return st.relation(ctx, m)
	case msgType:
		m, err := decodeType(b[1:])
		if err != nil {
			return err
		}
		if st.s.cat.typeOf(ctx, m.oid) == nil {
			return fmt.Errorf("%w: unknown type %s.%s (oid %d)", ErrProtocol, m.namespace, m.name, m.oid)
		}
	case msgInsert, msgUpdate, msgDelete:
		return st.change(ctx, lsn, b)
	case msgTruncate:
		return st.truncate(ctx, lsn, b[1:])
	}
	return nil
}

// relation records a relation's layout and builds its schema.
func (st *streamer) relation(ctx context.Context, m relationMsg) error {
	rs := &relState{msg: m, id: tableID{m.namespace, m.name}}
	rs.signal = st.t.filters.signal == rs.id
	rs.captured = st.t.filters.captured(rs.id)
	st.rels[m.oid] = rs
	if !rs.captured && !rs.signal {
		return nil
	}
	for _, c := range m.cols {
		if c.TypeOID >= 16384 {
			if err := st.s.cat.refreshTypes(ctx); err != nil {
				return err
			}
			break
		}
	}
	meta, err := st.s.cat.tableByOID(ctx, m.oid)
	if err != nil {
		return err
	}
	if meta == nil {
		// Dropped since: describe it from the relation message alone.
		meta = &tableMeta{OID: m.oid, ID: rs.id, ReplIdent: m.replIdent}
		for i, c := range m.cols {
			if m.keyFlags[i] {
				meta.Key = append(meta.Key, c.Name)
			}
		}
	}
	ts, err := st.s.schemas().build(meta, m.cols)
	if err != nil {
		return err
	}
	rs.ts = ts
	return nil
}

// countEvent advances the per-LSN event counter and reports whether the
// event was already delivered before a restart.
func (st *streamer) countEvent(lsn pglogrepl.LSN) (int64, bool) {
	if lsn == st.lastLSN {
		st.nAtLSN++
	} else {
		st.lastLSN, st.nAtLSN = lsn, 1
	}
	if st.skipTx {
		return st.nAtLSN, true
	}
	return st.nAtLSN, st.filter.skipEvent(st.xid, lsn, st.nAtLSN)
}

// txBoxes prepares the values shared by the current transaction's events.
func (st *streamer) txBoxes() {
	if st.txSource == nil {
		st.txSource = st.t.events.sourceTemplate(st.commitTime, "", int64(st.xid), true)
		st.boxTxID = int64(st.xid)
		st.boxTsUsec = st.commitTime.UnixMicro()
		st.boxCommitFor = 0
	}
	if st.boxCommit == nil || st.boxCommitFor != st.lastCommitEnd {
		st.boxCommit, st.boxCommitFor = int64(st.lastCommitEnd), st.lastCommitEnd
	}
}

// source returns the source block of an event of ts at lsn.
func (st *streamer) source(ts *tableSchema, lsn pglogrepl.LSN, boxedLSN any) *connectors.Struct {
	st.txBoxes()
	return sourceFor(st.txSource, ts, st.lastCommitEnd, lsn, boxedLSN)
}

// offset returns the offset of the event at lsn, the n-th there.
func (st *streamer) offset(lsn pglogrepl.LSN, boxedLSN any, msg byte, n int64) map[string]any {
	st.txBoxes()
	incr := st.incr.keys()
	m := make(map[string]any, 7+len(incr)+st.tx.offsetKeys())
	m[offLSN] = boxedLSN
	m[offLSNProc] = boxedLSN
	m[offLSNCommit] = st.boxCommit
	m[offTxID] = st.boxTxID
	m[offTsUsec] = st.boxTsUsec
	m[offMsgType] = boxedMsgTypes[msg]
	m[offLSNEvents] = n
	for k, v := range incr {
		m[k] = v
	}
	return m
}

var boxedMsgTypes = map[byte]any{msgInsert: "INSERT", msgUpdate: "UPDATE", msgDelete: "DELETE", msgTruncate: "TRUNCATE",
	msgBegin: "BEGIN", msgCommit: "COMMIT"}

// change handles an insert, update or delete.
func (st *streamer) change(ctx context.Context, lsn pglogrepl.LSN, b []byte) error {
	cm := &st.cm
	if err := decodeChange(b, cm); err != nil {
		return err
	}
	n, skip := st.countEvent(lsn)
	if skip {
		return nil
	}
	rs := st.rels[cm.relOID]
	if rs == nil {
		return fmt.Errorf("%w: change for unknown relation %d", ErrProtocol, cm.relOID)
	}
	st.setPos(storedOffset{lsn: lsn, lsnCommit: st.lastCommitEnd, txID: int64(st.xid), hasTxID: true, eventsAtLSN: n})
	if rs.signal && cm.kind == msgInsert {
		if err := st.signal(ctx, rs, cm); err != nil {
			return err
		}
	}
	if !rs.captured || rs.ts == nil {
		return nil
	}
	var op string
	switch cm.kind {
	case msgInsert:
		op = opCreate
	case msgUpdate:
		op = opUpdate
	case msgDelete:
		op = opDelete
	}
	if st.cfg.skipsChange(op) {
		return nil
	}
	ts := rs.ts
	var oldRow, newRow []any
	var err error
	if cm.oldKind != 0 {
		if oldRow, err = ts.rowOf(&cm.old); err != nil {
			return err
		}
	}
	if cm.kind != msgDelete {
		if newRow, err = ts.rowOf(&cm.new); err != nil {
			return err
		}
		if oldRow != nil && cm.oldKind == 'O' {
			// REPLICA IDENTITY FULL: unchanged TOASTed values are in the
			// old row.
			for i, v := range newRow {
				if v == unchangedToast && oldRow[i] != unchangedToast {
					newRow[i] = oldRow[i]
				}
			}
		}
	}
	if st.incr != nil {
		st.incr.dedup(ts, oldRow, newRow)
	}
	before := len(st.pending)
	if before == 0 {
		st.pendingSince = time.Now()
	}
	boxedLSN := any(int64(lsn))
	st.pending, err = st.t.events.change(st.pending, ts, op, oldRow, newRow, st.source(ts, lsn, boxedLSN), st.offset(lsn, boxedLSN, cm.kind, n), st.now, st.tx)
	if err != nil {
		return err
	}
	if len(st.pending) >= st.cfg.MaxBatchSize && len(st.pending) > before {
		return st.flush(ctx)
	}
	return nil
}

// truncate handles a truncate of one or more relations.
func (st *streamer) truncate(ctx context.Context, lsn pglogrepl.LSN, b []byte) error {
	m, err := decodeTruncate(b)
	if err != nil {
		return err
	}
	n, skip := st.countEvent(lsn)
	if skip {
		return nil
	}
	st.setPos(storedOffset{lsn: lsn, lsnCommit: st.lastCommitEnd, txID: int64(st.xid), hasTxID: true, eventsAtLSN: n})
	if st.cfg.skipped(opTruncate) {
		return nil
	}
	for _, oid := range m.rels {
		rs := st.rels[oid]
		if rs == nil || !rs.captured || rs.ts == nil {
			continue
		}
		boxedLSN := any(int64(lsn))
		rec := st.t.events.truncate(rs.ts, st.source(rs.ts, lsn, boxedLSN), st.offset(lsn, boxedLSN, msgTruncate, n), st.now, st.tx)
		if err := st.add(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}
