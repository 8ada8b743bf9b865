package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/sluicedata/sluice/connectors"
)

// Task is the Postgres CDC source task (Debezium's PostgresConnectorTask).
//
// Open reads the stored offset and checks the server; a producer
// goroutine then snapshots and/or streams, handing batches of records to
// Poll through a queue of at most max.queue.size records (a full queue
// stops reading from Postgres). Commit confirms the stored position to
// the replication slot; nothing is confirmed earlier, so a crash replays
// and never skips. Connection losses are retried by the producer itself
// with a capped exponential backoff; the stream resumes right after the
// last record it queued.
type Task struct {
	cfg       Config
	logger    *slog.Logger
	taskID    int
	runID     string
	events    *eventBuilder
	filters   *filters
	partition map[string]any

	queue    chan []connectors.Record
	leftover []connectors.Record
	done     chan struct{} // closed when the producer has exited
	errMu    sync.Mutex
	err      error // the producer's terminal error, set before done is closed
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	// flushTarget is the highest LSN Commit may confirm; the streamer
	// sends it in standby status updates.
	flushTarget atomic.Uint64
	// committed is the last offset Commit reported stored.
	committed atomic.Pointer[storedOffset]

	progress progressTracker

	// streaming is true while the replication stream is running.
	streaming atomic.Bool

	// Owned by the producer goroutine.
	position       *storedOffset // last queued position (nil: nothing yet)
	lastRecord     *storedOffset // offset of the last record queued in this task (nil: none)
	snapshotted    bool          // a snapshot ran in this task's lifetime
	initialOnlyEnd bool

	// now is the clock; tests may replace it.
	now func() time.Time
}

// Compile-time checks.
var (
	_ connectors.Source = (*Task)(nil)
)

// Open parses the config, reads the stored offset and starts the
// producer. Setup problems the user must fix (wal_level, privileges,
// publication) fail Open with a message saying how; an unreachable server
// is retriable.
func (t *Task) Open(ctx context.Context, sc connectors.SourceContext, config map[string]string) error {
	cfg, err := ParseConfig(config)
	if err != nil {
		return err
	}
	t.cfg = cfg
	t.logger = sc.Logger
	if t.logger == nil {
		t.logger = slog.New(slog.DiscardHandler)
	}
	t.taskID = sc.Task
	t.runID = newUUID()
	t.events = newEventBuilder(cfg, sc.Task, t.runID)
	t.filters = newFilters(cfg)
	t.partition = map[string]any{"server": cfg.TopicPrefix}
	if t.now == nil {
		t.now = time.Now
	}
	if sc.Offsets != nil {
		m, err := sc.Offsets.Offset(ctx, t.partition)
		if err != nil {
			return connectors.Retriable(fmt.Errorf("postgres: read stored offset of server %q: %w", cfg.TopicPrefix, err))
		}
		if m != nil {
			o, err := decodeOffset(m)
			if err != nil {
				return err
			}
			t.position = &o
			if lsn, ok := flushLSN(m); ok {
				t.flushTarget.Store(uint64(lsn))
			}
		}
	}
	// Check the server now, so that setup mistakes fail the task with a
	// clear message instead of looping in the producer.
	conn, err := connect(ctx, cfg)
	if err != nil {
		return classifyConnectError(cfg, err)
	}
	problems := preflight(ctx, conn, cfg, t.filters, false)
	if len(problems) == 0 {
		// Debezium accepts these silently; say what they mean for the
		// events.
		notes, err := readKeyColumnNotes(ctx, conn, t.filters)
		if err != nil {
			t.logger.Warn("cannot check the tables message.key.columns names", "error", err)
		}
		for _, n := range notes {
			t.logger.Warn(n)
		}
	}
	_ = conn.Close(context.Background())
	if len(problems) > 0 {
		return problemsError(problems)
	}
	batch := max(1, min(cfg.MaxBatchSize, 2048))
	t.queue = make(chan []connectors.Record, max(1, cfg.MaxQueueSize/batch))
	t.done = make(chan struct{})
	pctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.wg.Add(1)
	go t.produce(pctx)
	t.logger.Info("postgres source task opened", "server", cfg.TopicPrefix, "database", cfg.DBName,
		"slot", cfg.SlotName, "publication", cfg.Publication, "snapshot.mode", cfg.SnapshotMode, "resume", t.describePosition())
	return nil
}

func (t *Task) describePosition() string {
	if t.position == nil {
		return "no stored offset"
	}
	p := t.position
	switch {
	case p.snapshot && !p.snapshotFinished:
		return "snapshot in progress (restarted)"
	case p.snapshot:
		return "after snapshot at " + p.lsn.String()
	}
	return fmt.Sprintf("lsn_commit %s, lsn %s", p.lsnCommit, p.lsn)
}

// Poll returns the next records: it waits up to poll.interval.ms for the
// first, then takes what is queued, at most max.batch.size. After the
// producer stopped it returns what remains, then the producer's error
// (ErrEndOfInput after an initial_only snapshot).
func (t *Task) Poll(ctx context.Context) ([]connectors.Record, error) {
	max := t.cfg.MaxBatchSize
	var out []connectors.Record
	take := func(b []connectors.Record) {
		room := max - len(out)
		if len(b) > room {
			t.leftover = b[room:]
			b = b[:room:room]
		}
		if out == nil {
			// The producer never touches a batch it handed over: use it
			// as is (appending may fill its spare capacity).
			out = b
			return
		}
		out = append(out, b...)
	}
	if len(t.leftover) > 0 {
		b := t.leftover
		t.leftover = nil
		take(b)
	}
	if len(out) == 0 {
		timer := time.NewTimer(t.cfg.PollInterval)
		defer timer.Stop()
		select {
		case b := <-t.queue:
			take(b)
		case <-t.done:
			// Drain what the producer queued before it stopped.
			select {
			case b := <-t.queue:
				take(b)
			default:
				return nil, t.producerErr()
			}
		case <-ctx.Done():
			return nil, nil
		case <-timer.C:
			return nil, nil
		}
	}
	for len(out) < max && len(t.leftover) == 0 {
		select {
		case b := <-t.queue:
			take(b)
		default:
			return out, nil
		}
	}
	return out, nil
}

func (t *Task) producerErr() error {
	t.errMu.Lock()
	defer t.errMu.Unlock()
	return t.err
}

// Commit confirms the stored position: the slot's confirmed_flush_lsn is
// advanced to the offset's lsn_commit (sent by the streamer within a
// second, and on Close).
func (t *Task) Commit(_ context.Context, committed []connectors.SourceOffset) error {
	for _, so := range committed {
		if s, _ := so.Partition["server"].(string); s != t.cfg.TopicPrefix || so.Offset == nil {
			continue
		}
		if o, err := decodeOffset(so.Offset); err == nil {
			t.committed.Store(&o)
		}
		lsn, ok := flushLSN(so.Offset)
		if !ok {
			continue
		}
		for {
			cur := t.flushTarget.Load()
			if uint64(lsn) <= cur || t.flushTarget.CompareAndSwap(cur, uint64(lsn)) {
				break
			}
		}
	}
	return nil
}

// Close stops the producer (which sends a final status update with the
// committed position), and drops the slot if slot.drop.on.stop is set.
func (t *Task) Close(ctx context.Context) error {
	if t.cancel == nil {
		return nil
	}
	t.cancel()
	t.wg.Wait()
	if t.cfg.SlotDropOnStop {
		conn, err := connect(ctx, t.cfg)
		if err != nil {
			return fmt.Errorf("postgres: drop slot %q on stop: %w", t.cfg.SlotName, err)
		}
		defer conn.Close(context.Background())
		// The walsender of the closed stream may take a moment to exit.
		for attempt := 0; ; attempt++ {
			_, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, t.cfg.SlotName)
			if err == nil {
				break
			}
			if pgCode(err) != "55006" || attempt >= 50 || ctx.Err() != nil {
				return fmt.Errorf("postgres: drop slot %q on stop: %w", t.cfg.SlotName, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.logger.Info("dropped replication slot (slot.drop.on.stop=true)", "slot", t.cfg.SlotName)
	}
	return nil
}

// Progress returns the snapshot progress of each table of the current or
// last snapshot (initial or incremental); empty when none ran. Safe for
// concurrent use.
func (t *Task) Progress() []TableProgress { return t.progress.snapshot() }

// JobProgress is Progress for the runtime (connectors.ProgressReporter):
// one job per table, "snapshot <table>" or "incremental snapshot <table>",
// in rows.
func (t *Task) JobProgress() []connectors.Progress {
	tables := t.progress.snapshot()
	out := make([]connectors.Progress, len(tables))
	for i, p := range tables {
		job := "snapshot " + p.Table
		if p.Incremental {
			job = "incremental snapshot " + p.Table
		}
		out[i] = connectors.Progress{Job: job, Done: p.RowsDone, Estimated: p.RowsEstimated, Finished: p.Done}
	}
	return out
}

// emit hands records to Poll, blocking while the queue is full. pos is
// the position after the last record.
func (t *Task) emit(ctx context.Context, recs []connectors.Record, pos *storedOffset) error {
	if len(recs) > 0 {
		last, err := decodeOffset(recs[len(recs)-1].SourceOffset)
		if err != nil {
			return err
		}
		select {
		case t.queue <- recs:
		case <-ctx.Done():
			return ctx.Err()
		}
		t.lastRecord = &last
	}
	if pos != nil {
		t.position = pos
	}
	return nil
}

// allStored reports whether every record this task queued has been
// stored (Commit reported the last one's offset).
func (t *Task) allStored() bool {
	if t.lastRecord == nil {
		return true
	}
	c := t.committed.Load()
	return c != nil && sameOffset(*c, *t.lastRecord)
}

// produce runs the snapshot and stream phases, retrying connection
// failures with backoff, until ctx is cancelled or a non-retriable error.
func (t *Task) produce(ctx context.Context) {
	defer t.wg.Done()
	var err error
	defer func() {
		t.errMu.Lock()
		t.err = err
		t.errMu.Unlock()
		close(t.done)
	}()
	backoff := newBackoff()
	for {
		start := t.now()
		err = t.runOnce(ctx)
		if ctx.Err() != nil {
			err = nil
			return
		}
		if err == nil {
			if t.initialOnlyEnd {
				err = connectors.ErrEndOfInput
			}
			return
		}
		if !isRetriable(err) {
			t.logger.Error("postgres source task failed", "error", err)
			return
		}
		if t.now().Sub(start) > time.Minute {
			backoff = newBackoff()
		}
		wait := backoff.next()
		t.logger.Warn("connection to Postgres lost; reconnecting", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			err = nil
			return
		case <-time.After(wait):
		}
	}
}

// runOnce connects, decides between snapshot and stream, and runs until
// an error or cancellation.
func (t *Task) runOnce(ctx context.Context) error {
	conn, err := connect(ctx, t.cfg)
	if err != nil {
		return classifyConnectError(t.cfg, err)
	}
	defer conn.Close(context.Background())
	cat := newCatalog(conn)
	if err := cat.loadTypes(ctx); err != nil {
		return err
	}
	if problems := preflight(ctx, conn, t.cfg, t.filters, false); len(problems) > 0 {
		return problemsError(problems)
	}
	if t.cfg.SnapshotMode != SnapshotInitialOnly {
		if err := ensurePublication(ctx, conn, t.cfg, t.filters, t.logger); err != nil {
			return err
		}
	}
	slot, err := readSlot(ctx, conn, t.cfg.SlotName)
	if err != nil {
		return err
	}
	st := &session{t: t, cat: cat, conn: conn}
	return st.run(ctx, slot)
}

// backoff is a capped exponential backoff: 250 ms doubling to 10 s.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) next() time.Duration {
	if b.d == 0 {
		b.d = 250 * time.Millisecond
	} else {
		b.d = min(2*b.d, 10*time.Second)
	}
	return b.d
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// slotInfo describes the replication slot.
type slotInfo struct {
	exists    bool
	plugin    string
	database  string
	confirmed pglogrepl.LSN
	activePID int32
}
