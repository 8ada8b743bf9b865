//go:build integration

package main

// kill -9 of a `sluice worker` process running the Debezium-compatible
// Postgres source (io.debezium.connector.postgresql.PostgresConnector,
// posted through the REST API, events written by JsonConverter to the
// embedded broker), during the initial snapshot and during streaming, then
// a restart on the same data directory. What must hold is Debezium's
// at-least-once contract: every committed change arrives (duplicates are
// allowed), and the last event of every key on the topic is the row's final
// state in Postgres.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker/brokertest"
	"github.com/sluicedata/sluice/internal/pgtest"
)

// TestWorkerKilledDuringSnapshot kills the worker while the initial
// snapshot of a large table is being written to the topic, with part of it
// (and a snapshot offset) stored, changes the table while the worker is
// down, and restarts it while a writer keeps changing rows. The snapshot
// is taken again from the start, streaming continues from the slot's
// position, and every row's final state is the last event of its key.
func TestWorkerKilledDuringSnapshot(t *testing.T) {
	const rows = 400_000
	db := pgtest.NewDB(t)
	db.Exec(`CREATE TABLE snap (id bigint PRIMARY KEY, ver int NOT NULL, pad text)`)
	db.Exec(`INSERT INTO snap SELECT g, 1, repeat('x', 48) FROM generate_series(1, $1::int) g`, rows)
	db.Exec(`ANALYZE snap`)

	began := time.Now()
	w := newCrashWorker(t)
	w.start()
	const name, prefix = "crash-snapshot", "snapcrash"
	topic := prefix + ".public.snap"
	// The test itself changes rows id % 101 = 0 and id % 103 = 0.
	wr := startCrashWriter(t, db, "snap", rows, func(id int64) bool { return id%101 == 0 || id%103 == 0 })
	config, slot := crashConnectorConfig(db, prefix, "public.snap")
	w.createConnector(name, config)

	// The snapshot is under way: part of it on the topic, and a snapshot
	// offset (last_snapshot_record false) stored.
	adm := newBrokerAdmin(t, w.broker)
	var atKill int64
	var stored map[string]any
	brokertest.Eventually(t, 2*time.Minute, "the snapshot to be under way with an offset stored", func() bool {
		n := topicRecords(adm, topic)
		if n >= rows {
			t.Fatalf("the snapshot wrote %d records before the worker could be killed: make the table bigger", n)
		}
		if n < rows/5 {
			return false
		}
		off := w.storedOffset(name)
		if off == nil || off["snapshot"] == nil {
			return false
		}
		if last, _ := off["last_snapshot_record"].(bool); last {
			t.Fatalf("the snapshot's last record is stored (%v) but only %d records are on the topic", off, n)
		}
		atKill, stored = n, off
		return true
	})
	w.kill()
	// Nothing is confirmed during the snapshot: the slot is where
	// streaming will start.
	if confirmed, lsn := crashSlotConfirmed(t, db, slot), stored["lsn"].(float64); confirmed != int64(lsn) {
		t.Errorf("the slot confirmed %s during the snapshot, whose position is %s", crashLSN(confirmed), crashLSN(int64(lsn)))
	}
	t.Logf("%v: killed during the snapshot with %d of %d records on the topic", time.Since(began).Round(time.Millisecond), atKill, rows)

	// Changes while the worker is down (the writer goes on, too).
	db.Exec(`UPDATE snap SET ver = ver + 1 WHERE id % 101 = 0`)
	db.Exec(`DELETE FROM snap WHERE id % 103 = 0`)
	db.Exec(`INSERT INTO snap SELECT -g, 1, 'inserted while down' FROM generate_series(1, 1000) g`)

	w.start()
	// The redone snapshot completes (a streaming offset is stored), then
	// the writer goes on for a while before it stops. Meanwhile the topic
	// is read from the start.
	v := newCrashView(t, w.broker, topic, false)
	v.until(2*time.Minute, "the snapshot to be taken again and streaming to start", func() error {
		if off := w.storedOffset(name); off == nil || off["snapshot"] != nil || off["lsn_commit"] == nil {
			return fmt.Errorf("stored offset %v (%s)", off, w.status(name))
		}
		return nil
	})
	t.Logf("%v: the snapshot was taken again", time.Since(began).Round(time.Millisecond))
	base := wr.commitCount()
	v.until(time.Minute, "the writer to go on after the restart", func() error {
		if n := wr.commitCount() - base; n < 200 {
			return fmt.Errorf("%d transactions committed since", n)
		}
		return nil
	})
	wr.stop()
	final := crashTableState(t, db, "snap")
	v.until(3*time.Minute, "every row's final state on the topic", func() error {
		if err := v.matches(final); err != nil {
			return fmt.Errorf("%w (%s)", err, w.status(name))
		}
		return nil
	})
	t.Logf("%v: %d records on the topic (%d snapshot reads) for %d rows; the writer committed %d transactions",
		time.Since(began).Round(time.Millisecond), v.records, v.reads, len(final), wr.commitCount())
	if v.reads < atKill+int64(len(final))/2 {
		t.Errorf("%d snapshot reads: the snapshot was not taken again after the kill (%d before it, %d rows)", v.reads, atKill, len(final))
	}
	w.requireRunning(name)
}

// TestWorkerKilledDuringStreaming streams the changes of a writer that
// commits small transactions (inserts, updates that bump a version,
// deletes) and kills the worker three times at random moments, restarting
// it each time. Every (id, version) the writer committed, and every
// delete, must be on the topic, the last event of each key must match the
// final table, and the slot must never have confirmed a position beyond
// the offset stored before each kill.
func TestWorkerKilledDuringStreaming(t *testing.T) {
	const rows = 200
	db := pgtest.NewDB(t)
	db.Exec(`CREATE TABLE stream (id bigint PRIMARY KEY, ver int NOT NULL, pad text)`)
	db.Exec(`INSERT INTO stream SELECT g, 1, 'initial' FROM generate_series(1, $1::int) g`, rows)

	w := newCrashWorker(t)
	w.start()
	const name, prefix = "crash-stream", "streamcrash"
	topic := prefix + ".public.stream"
	config, slot := crashConnectorConfig(db, prefix, "public.stream")
	w.createConnector(name, config)
	v := newCrashView(t, w.broker, topic, true)
	v.until(time.Minute, "the snapshot", func() error {
		if v.reads < rows {
			return fmt.Errorf("%d of %d snapshot reads", v.reads, rows)
		}
		return nil
	})
	db.Exec(`INSERT INTO stream VALUES (0, 1, 'probe')`)
	v.until(time.Minute, "the probe insert to be streamed", func() error {
		if e, ok := v.last[0]; !ok || !e.live {
			return errors.New("no event for id 0")
		}
		return nil
	})

	wr := startCrashWriter(t, db, "stream", rows, nil)
	stopWatch := crashWatchSlot(t, db, w, name, slot)
	type kill struct {
		dead      time.Time // the process was gone by then
		confirmed int64     // the slot's confirmed_flush_lsn after it
	}
	var kills []kill
	for range 3 {
		// Streaming is live: the writer's changes come through.
		base := v.records
		v.until(time.Minute, "changes to be streamed", func() error {
			if v.records < base+100 {
				return fmt.Errorf("%d new records (%s)", v.records-base, w.status(name))
			}
			return nil
		})
		v.pollFor(time.Duration(rand.IntN(1500)) * time.Millisecond) // a random moment
		w.kill()
		k := kill{dead: time.Now()}
		// Once the walsender has noticed the closed connection the slot's
		// position stays put until the next start.
		brokertest.Eventually(t, time.Minute, "the walsender of the killed worker to exit", func() bool {
			return db.Int(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NULL`, slot) == 1
		})
		k.confirmed = crashSlotConfirmed(t, db, slot)
		kills = append(kills, k)
		time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond) // the writer goes on while the worker is down
		w.start()
	}
	base := v.records
	v.until(time.Minute, "changes to be streamed after the last restart", func() error {
		if v.records < base+100 {
			return fmt.Errorf("%d new records (%s)", v.records-base, w.status(name))
		}
		return nil
	})
	wr.stop()
	stopWatch()
	final := crashTableState(t, db, "stream")
	pairs, deletes := wr.committed()
	v.until(2*time.Minute, "every committed change on the topic", func() error {
		if err := v.hasAll(pairs, deletes); err != nil {
			return fmt.Errorf("%w (%s)", err, w.status(name))
		}
		return v.matches(final)
	})
	// Read the whole topic again, as a new consumer would.
	again := newCrashView(t, w.broker, topic, true)
	again.readToEnd(crashTopicEnds(t, w.broker, topic))
	if err := again.hasAll(pairs, deletes); err != nil {
		t.Errorf("read from the start: %v", err)
	}
	if err := again.matches(final); err != nil {
		t.Errorf("read from the start: %v", err)
	}
	t.Logf("the writer committed %d transactions (%d versions, %d deletes); %d records on the topic",
		wr.commitCount(), len(pairs), len(deletes), again.records)
	w.requireRunning(name)

	// The slot never confirmed more than what was stored: at each kill,
	// its position is at most the flush position of the last offset
	// stored before it.
	stored := crashOffsetHistory(t, w.broker, name)
	for i, k := range kills {
		var last map[string]any
		for _, s := range stored {
			if !s.at.After(k.dead) {
				last = s.offset
			}
		}
		if last == nil {
			t.Errorf("kill %d: no offset stored before it", i+1)
			continue
		}
		flush, ok := crashFlushLSN(last)
		if !ok {
			t.Errorf("kill %d: the stored offset %v has no flush position", i+1, last)
			continue
		}
		if k.confirmed > flush {
			t.Errorf("kill %d: the slot confirmed %s, beyond the stored offset's %s (%v)", i+1, crashLSN(k.confirmed), crashLSN(flush), last)
		}
	}
}

// crashWorker is a `sluice worker` process with the embedded broker on a
// known address, restarted on the same data directory after each kill.
type crashWorker struct {
	t          *testing.T
	bin        string
	url        string // REST API
	broker     string // the embedded broker, host:port
	workerFile string
	p          *workerProc
}

func newCrashWorker(t *testing.T) *crashWorker {
	dir := t.TempDir()
	rest, kafka := freePort(t), freePort(t)
	for kafka == rest {
		kafka = freePort(t)
	}
	w := &crashWorker{t: t, bin: brokertest.Binary(t), url: fmt.Sprintf("http://127.0.0.1:%d", rest),
		broker: fmt.Sprintf("127.0.0.1:%d", kafka), workerFile: filepath.Join(dir, "worker.properties")}
	props := fmt.Sprintf(`bootstrap.servers=
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.flush.interval.ms=100
listeners=%s
data.dir=%s
broker.listen=%s
`, w.url, filepath.Join(dir, "data"), w.broker)
	if err := os.WriteFile(w.workerFile, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *crashWorker) start() {
	w.t.Helper()
	w.p = startWorkerProc(w.t, w.bin, w.url, w.workerFile)
	w.p.waitHealthy(time.Minute)
}

// kill sends SIGKILL and waits until the process is gone; the cleanup
// startWorkerProc registered then finds it done.
func (w *crashWorker) kill() {
	w.t.Helper()
	if err := w.p.cmd.Process.Kill(); err != nil {
		w.t.Fatal(err)
	}
	<-w.p.done
	w.p.done <- nil
}

func (w *crashWorker) createConnector(name string, config map[string]string) {
	w.t.Helper()
	if code, err := call("POST", w.url+"/connectors", map[string]any{"name": name, "config": config}, nil); err != nil || code != 201 {
		w.t.Fatalf("create connector %s: %d %v", name, code, err)
	}
}

// storedOffset returns the connector's stored offset (GET
// /connectors/<name>/offsets), or nil when none is stored yet or the
// worker does not answer. Safe for concurrent use.
func (w *crashWorker) storedOffset(name string) map[string]any {
	var body struct {
		Offsets []struct {
			Offset map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if _, err := call("GET", w.url+"/connectors/"+name+"/offsets", nil, &body); err != nil || len(body.Offsets) == 0 {
		return nil
	}
	return body.Offsets[0].Offset
}

// requireRunning waits until the connector and its task are RUNNING.
func (w *crashWorker) requireRunning(name string) {
	w.t.Helper()
	brokertest.Eventually(w.t, time.Minute, "connector "+name+" and its task RUNNING", func() bool {
		var st connStatus
		_, err := call("GET", w.url+"/connectors/"+name+"/status", nil, &st)
		return err == nil && st.Connector.State == "RUNNING" && len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING"
	})
}

// status describes the connector's and its tasks' states, with the
// first line of a failed task's trace, for failure messages.
func (w *crashWorker) status(name string) string {
	var st struct {
		Connector struct {
			State string `json:"state"`
		} `json:"connector"`
		Tasks []struct {
			State string `json:"state"`
			Trace string `json:"trace"`
		} `json:"tasks"`
	}
	if _, err := call("GET", w.url+"/connectors/"+name+"/status", nil, &st); err != nil {
		return err.Error()
	}
	out := "connector " + st.Connector.State
	for i, task := range st.Tasks {
		out += fmt.Sprintf(", task %d %s", i, task.State)
		if line, _, _ := strings.Cut(task.Trace, "\n"); line != "" {
			out += ": " + line
		}
	}
	return out
}

// crashConnectorConfig is the config a Debezium user would post: the JSON
// converters with schemas, snapshot.mode=initial, a slot of its own (named
// after the test's database, as slot names are server-wide) kept on stop.
func crashConnectorConfig(db *pgtest.DB, prefix, table string) (config map[string]string, slot string) {
	slot = prefix + "_" + db.Name[strings.LastIndexByte(db.Name, '_')+1:]
	config = debeziumSourceConfig(db, map[string]string{
		"tasks.max":                 "1",
		"topic.prefix":              prefix,
		"plugin.name":               "pgoutput",
		"slot.name":                 slot,
		"slot.drop.on.stop":         "false",
		"publication.name":          prefix + "_pub",
		"table.include.list":        table,
		"snapshot.mode":             "initial",
		"poll.interval.ms":          "50",
		"status.update.interval.ms": "500",
	})
	return config, slot
}

// crashSlotConfirmed returns the slot's confirmed_flush_lsn.
func crashSlotConfirmed(t *testing.T, db *pgtest.DB, slot string) int64 {
	t.Helper()
	if n := db.Int(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot); n != 1 {
		t.Fatalf("%d replication slots named %s, want 1", n, slot)
	}
	return db.Int(`SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = $1`, slot)
}

// crashWriter commits small transactions on a table (id bigint primary
// key, ver int, pad text): inserts of new ids at version 1, updates that
// bump ver, deletes; and records what was committed.
type crashWriter struct {
	quit, done chan struct{}

	mu      sync.Mutex
	pairs   [][2]int64 // (id, ver) written by committed inserts and updates
	deletes []int64    // ids deleted by committed transactions
	commits int
}

// startCrashWriter starts the writer on table, whose rows are ids
// 1..rows; it inserts ids from rows+1 and updates and deletes its own and
// those of 1..rows for which mine is false (rows the test changes itself:
// two writers locking the same rows could deadlock). It is stopped at
// cleanup at the latest.
func startCrashWriter(t *testing.T, db *pgtest.DB, table string, rows int, mine func(id int64) bool) *crashWriter {
	conn := db.Connect()
	w := &crashWriter{quit: make(chan struct{}), done: make(chan struct{})}
	var live []int64
	for id := int64(1); id <= int64(rows); id++ {
		if mine == nil || !mine(id) {
			live = append(live, id)
		}
	}
	next := int64(rows + 1)
	ctx := context.Background()
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.quit:
				return
			default:
			}
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Errorf("writer: begin: %v", err)
				return
			}
			var pairs [][2]int64
			var deletes []int64
			var ver int64
			for range 1 + rand.IntN(3) {
				op := rand.IntN(4)
				if len(live) == 0 {
					op = 0
				}
				switch op {
				case 0, 1: // insert
					_, err = tx.Exec(ctx, `INSERT INTO `+table+` VALUES ($1, 1, 'written')`, next)
					pairs = append(pairs, [2]int64{next, 1})
					live = append(live, next)
					next++
				case 2: // update
					id := live[rand.IntN(len(live))]
					err = tx.QueryRow(ctx, `UPDATE `+table+` SET ver = ver + 1 WHERE id = $1 RETURNING ver`, id).Scan(&ver)
					if err == nil {
						pairs = append(pairs, [2]int64{id, ver})
					}
				case 3: // delete
					i := rand.IntN(len(live))
					id := live[i]
					live[i] = live[len(live)-1]
					live = live[:len(live)-1]
					err = tx.QueryRow(ctx, `DELETE FROM `+table+` WHERE id = $1 RETURNING ver`, id).Scan(&ver)
					if err == nil {
						deletes = append(deletes, id)
					}
				}
				if err != nil {
					_ = tx.Rollback(ctx)
					t.Errorf("writer: %v", err)
					return
				}
			}
			if err := tx.Commit(ctx); err != nil {
				t.Errorf("writer: commit: %v", err)
				return
			}
			w.mu.Lock()
			w.pairs = append(w.pairs, pairs...)
			w.deletes = append(w.deletes, deletes...)
			w.commits++
			w.mu.Unlock()
			time.Sleep(time.Millisecond) // pace: leave the CPU to the worker
		}
	}()
	t.Cleanup(w.stop)
	return w
}

func (w *crashWriter) stop() {
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	<-w.done
}

func (w *crashWriter) commitCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.commits
}

func (w *crashWriter) committed() (pairs [][2]int64, deletes []int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.pairs), slices.Clone(w.deletes)
}

// crashWatchSlot checks every few milliseconds, until stopped, that the slot's
// confirmed_flush_lsn is not beyond the flush position of the stored
// offset (read after it: both only grow). Samples while the worker is
// down are skipped.
func crashWatchSlot(t *testing.T, db *pgtest.DB, w *crashWorker, connector, slot string) (stop func()) {
	conn := db.Connect()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		samples := 0
		for {
			select {
			case <-quit:
				t.Logf("the slot was checked against the stored offset %d times", samples)
				return
			case <-time.After(20 * time.Millisecond):
			}
			var confirmed int64
			if err := conn.QueryRow(context.Background(), `SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&confirmed); err != nil {
				t.Errorf("slot %s: %v", slot, err)
				return
			}
			off := w.storedOffset(connector) // nil while the worker is down
			flush, ok := crashFlushLSN(off)
			if !ok {
				continue
			}
			samples++
			if confirmed > flush {
				t.Errorf("the slot confirmed %s, beyond the stored offset's %s (%v)", crashLSN(confirmed), crashLSN(flush), off)
				return
			}
		}
	}()
	stop = sync.OnceFunc(func() { close(quit); <-done })
	t.Cleanup(stop)
	return stop
}

// crashTableState returns id → ver of every row of table.
func crashTableState(t *testing.T, db *pgtest.DB, table string) map[int64]int64 {
	t.Helper()
	rows, err := db.Conn.Query(context.Background(), `SELECT id, ver FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	m := map[int64]int64{}
	var id, ver int64
	_, err = pgx.ForEachRow(rows, []any{&id, &ver}, func() error { m[id] = ver; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// crashEvent is the last event of a key: live (c, u or r, with after.ver)
// or not (d, or its tombstone).
type crashEvent struct {
	live bool
	ver  int64
	op   string
}

// crashView reads a change topic from the start and keeps, per primary
// key, the last event; with all set, also every (id, ver) and delete seen.
type crashView struct {
	t       *testing.T
	cl      *kgo.Client
	all     bool
	records int64 // records read, tombstones included
	reads   int64 // op=r
	last    map[int64]crashEvent
	seen    map[[2]int64]bool
	deleted map[int64]bool
	dec     crashDecoder
}

func newCrashView(t *testing.T, broker, topic string, all bool) *crashView {
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.FetchMaxPartitionBytes(32<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &crashView{t: t, cl: cl, all: all, last: map[int64]crashEvent{}, seen: map[[2]int64]bool{}, deleted: map[int64]bool{}}
}

const crashViewBatch = 10_000

// poll applies what arrives within d, at most crashViewBatch records; it
// returns how many.
func (v *crashView) poll(d time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	fs := v.cl.PollRecords(ctx, crashViewBatch)
	n := 0
	fs.EachRecord(func(r *kgo.Record) {
		v.apply(r)
		n++
	})
	return n
}

// pollFor applies what arrives for d.
func (v *crashView) pollFor(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		v.poll(time.Until(end))
	}
}

// until polls until cond holds. cond is checked whenever the view has
// caught up with the topic (a poll found nothing new), and otherwise at
// most a tenth of the time: comparing with a large table is not free.
func (v *crashView) until(timeout time.Duration, what string, cond func() error) {
	v.t.Helper()
	deadline := time.Now().Add(timeout)
	var checked time.Time
	var cost time.Duration
	for {
		n := v.poll(100 * time.Millisecond)
		if n > 0 && time.Since(checked) < 10*cost {
			continue
		}
		checked = time.Now()
		err := cond()
		cost = time.Since(checked)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("waited %v for %s: %v (%d records read)", timeout, what, err, v.records)
		}
	}
}

// readToEnd reads until every partition reached its end offset in ends.
func (v *crashView) readToEnd(ends map[int32]int64) {
	v.t.Helper()
	pos := map[int32]int64{}
	done := func() bool {
		for p, e := range ends {
			if pos[p] < e {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !done() {
		if time.Now().After(deadline) {
			v.t.Fatalf("read %v of the end offsets %v in 2 minutes", pos, ends)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := v.cl.PollRecords(ctx, crashViewBatch)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < ends[r.Partition] {
				v.apply(r)
			}
			pos[r.Partition] = r.Offset + 1
		})
	}
}

func (v *crashView) apply(r *kgo.Record) {
	v.t.Helper()
	v.records++
	id, ok := v.dec.key(r.Key)
	// The fast paths are checked against encoding/json now and then.
	if check := v.records <= 100 || v.records%1000 == 0; !ok || check {
		var key struct {
			Payload struct {
				ID *int64 `json:"id"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(r.Key, &key); err != nil || key.Payload.ID == nil || ok && *key.Payload.ID != id {
			v.t.Fatalf("record %d: key %s (fast path: %d %v): %v", r.Offset, r.Key, id, ok, err)
		}
		id = *key.Payload.ID
	}
	if r.Value == nil { // the tombstone after a delete
		v.last[id] = crashEvent{op: "tombstone"}
		return
	}
	env, ok := v.dec.envelope(r.Value)
	if check := v.records <= 100 || v.records%1000 == 0; !ok || check {
		var slow crashEnvelope
		if err := json.Unmarshal(crashPayload(r.Value), &slow); err != nil {
			v.t.Fatalf("record %d: value is not JsonConverter JSON: %v: %.500s", r.Offset, err, r.Value)
		}
		if ok && !reflect.DeepEqual(env, slow) {
			v.t.Fatalf("record %d: fast path %+v, encoding/json %+v: %.500s", r.Offset, env, slow, r.Value)
		}
		env = slow
	}
	switch env.Op {
	case "c", "u", "r":
		if env.After == nil || env.After.ID != id {
			v.t.Fatalf("record %d: key id %d, op %s, after %+v", r.Offset, id, env.Op, env.After)
		}
		v.last[id] = crashEvent{live: true, ver: env.After.Ver, op: env.Op}
		if env.Op == "r" {
			v.reads++
		}
		if v.all {
			v.seen[[2]int64{id, env.After.Ver}] = true
		}
	case "d":
		v.last[id] = crashEvent{op: "d"}
		if v.all {
			v.deleted[id] = true
		}
	default:
		v.t.Fatalf("record %d: op %q", r.Offset, env.Op)
	}
}

// crashEnvelope is what the tests read of a Debezium envelope.
type crashEnvelope struct {
	Op    string    `json:"op"`
	After *crashRow `json:"after"`
}

type crashRow struct {
	ID  int64 `json:"id"`
	Ver int64 `json:"ver"`
}

// crashDecoder reads keys and envelopes of the test tables (id bigint,
// ver int, pad text without quotes or braces) without decoding their
// schemas, the same few KB in every event, and the source block: reading
// a million events with encoding/json under the race detector takes
// minutes. ok is false when an event is not in the expected shape.
type crashDecoder struct {
	keyPrefix, valuePrefix []byte // {"schema":…,"payload":
}

// payload returns the payload of JsonConverter's {"schema":…,"payload":…},
// remembering the schema part to recognise it next time.
func (d *crashDecoder) payload(b []byte, prefix *[]byte) []byte {
	if len(*prefix) > 0 && len(b) > len(*prefix) && bytes.HasPrefix(b, *prefix) && b[len(b)-1] == '}' {
		return b[len(*prefix) : len(b)-1]
	}
	p := crashPayload(b)
	if len(p) < len(b) {
		*prefix = bytes.Clone(b[:len(b)-1-len(p)])
	}
	return p
}

func (d *crashDecoder) key(b []byte) (int64, bool) {
	p, ok := bytes.CutPrefix(d.payload(b, &d.keyPrefix), []byte(`{"id":`))
	if !ok || len(p) < 2 || p[len(p)-1] != '}' {
		return 0, false
	}
	id, err := strconv.ParseInt(string(p[:len(p)-1]), 10, 64)
	return id, err == nil
}

func (d *crashDecoder) envelope(b []byte) (crashEnvelope, bool) {
	var env crashEnvelope
	p := d.payload(b, &d.valuePrefix)
	const after, op = `,"after":`, `,"op":"`
	i := bytes.Index(p, []byte(after))
	if i < 0 {
		return env, false
	}
	rest := p[i+len(after):]
	if r, ok := bytes.CutPrefix(rest, []byte("null")); ok {
		rest = r
	} else {
		j := bytes.IndexByte(rest, '}')
		if j < 0 {
			return env, false
		}
		env.After = &crashRow{}
		if json.Unmarshal(rest[:j+1], env.After) != nil {
			return env, false
		}
		rest = rest[j+1:]
	}
	k := bytes.Index(rest, []byte(op))
	if k < 0 || len(rest) < k+len(op)+2 || rest[k+len(op)+1] != '"' {
		return env, false
	}
	env.Op = string(rest[k+len(op) : k+len(op)+1])
	return env, true
}

// crashPayload returns the payload of JsonConverter's
// {"schema":…,"payload":…}, or b when it is not in that form.
func crashPayload(b []byte) []byte {
	const tag = `,"payload":`
	if !bytes.HasPrefix(b, []byte(`{"schema":`)) || !bytes.HasSuffix(b, []byte("}")) {
		return b
	}
	i := bytes.LastIndex(b, []byte(tag))
	if i < 0 {
		return b
	}
	return b[i+len(tag) : len(b)-1]
}

// matches reports how the last events differ from the table state.
func (v *crashView) matches(table map[int64]int64) error {
	var problems []string
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 5 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for id, ver := range table {
		switch e, ok := v.last[id]; {
		case !ok:
			report("row %d (ver %d): no event", id, ver)
		case !e.live:
			report("row %d (ver %d): last event %s", id, ver, e.op)
		case e.ver != ver:
			report("row %d: ver %d, last event %s with ver %d", id, ver, e.op, e.ver)
		}
	}
	for id, e := range v.last {
		if _, ok := table[id]; !ok && e.live {
			report("row %d is deleted, last event %s with ver %d", id, e.op, e.ver)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d rows differ: %s", bad, len(table), strings.Join(problems, "; "))
	}
	return nil
}

// hasAll reports the committed changes not seen.
func (v *crashView) hasAll(pairs [][2]int64, deletes []int64) error {
	var missing []string
	for _, p := range pairs {
		if !v.seen[p] {
			missing = append(missing, fmt.Sprintf("id %d ver %d", p[0], p[1]))
		}
	}
	for _, id := range deletes {
		if !v.deleted[id] {
			missing = append(missing, fmt.Sprintf("delete of id %d", id))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d of %d committed changes missing: %s", len(missing), len(pairs)+len(deletes),
			strings.Join(missing[:min(len(missing), 10)], ", "))
	}
	return nil
}

// crashTopicEnds returns the end offset of each partition of topic.
func crashTopicEnds(t *testing.T, broker, topic string) map[int32]int64 {
	t.Helper()
	adm := newBrokerAdmin(t, broker)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	m := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { m[o.Partition] = o.Offset })
	return m
}

// crashStoredOffset is one offset the worker stored for a connector, with
// the time the worker produced it.
type crashStoredOffset struct {
	at     time.Time
	offset map[string]any
}

// crashOffsetHistory reads every offset stored for connector from the
// worker's offsets topic (connect-offsets), oldest first.
func crashOffsetHistory(t *testing.T, broker, connector string) []crashStoredOffset {
	t.Helper()
	const topic = "connect-offsets"
	ends := crashTopicEnds(t, broker, topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []crashStoredOffset
	pos := map[int32]int64{}
	prefix := []byte(`["` + connector + `",`)
	deadline := time.Now().Add(time.Minute)
	for {
		done := true
		for p, e := range ends {
			done = done && pos[p] >= e
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %v of %s's end offsets %v in a minute", pos, topic, ends)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			pos[r.Partition] = r.Offset + 1
			if r.Offset >= ends[r.Partition] || !bytes.HasPrefix(r.Key, prefix) || r.Value == nil {
				return
			}
			d := json.NewDecoder(bytes.NewReader(r.Value))
			d.UseNumber()
			var m map[string]any
			if err := d.Decode(&m); err != nil {
				t.Fatalf("offset %s: %v", r.Value, err)
			}
			out = append(out, crashStoredOffset{at: r.Timestamp, offset: m})
		})
	}
	slices.SortStableFunc(out, func(a, b crashStoredOffset) int { return a.at.Compare(b.at) })
	return out
}

// crashFlushLSN is the position a stored Debezium offset lets the slot
// confirm: lsn_commit while streaming, lsn once the snapshot completed.
func crashFlushLSN(m map[string]any) (int64, bool) {
	num := func(k string) (int64, bool) {
		switch n := m[k].(type) {
		case json.Number:
			v, err := n.Int64()
			return v, err == nil
		case float64: // exact: LSNs of a test server are far below 2^53
			return int64(n), true
		}
		return 0, false
	}
	if c, ok := num("lsn_commit"); ok && c > 0 {
		return c, true
	}
	if m["snapshot"] != nil && (m["last_snapshot_record"] == true || m["snapshot_completed"] == true) {
		return num("lsn")
	}
	return 0, false
}

func crashLSN(l int64) string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint32(l)) }
