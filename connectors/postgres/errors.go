package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pglogrepl"
)

// Sentinel errors. Each error the task returns wraps one of them (or
// connectors.ErrRetriable) and says in its message what to do.
var (
	// ErrSlotAhead: the replication slot has confirmed a position beyond
	// the stored offset (the slot was dropped and recreated, or the
	// database failed over to a server whose slot is elsewhere), so the
	// changes in between can no longer be read. The task fails instead of
	// silently skipping them.
	ErrSlotAhead = errors.New("postgres: replication slot is ahead of the stored offset")

	// ErrSlotMissing: offsets are stored but the slot is gone, so the
	// changes since the stored position are lost.
	ErrSlotMissing = errors.New("postgres: replication slot is missing")

	// ErrSetup: the server or the user is not set up for logical
	// replication (wal_level, privileges, publication, missing tables).
	ErrSetup = errors.New("postgres: database not ready for change data capture")

	// ErrUnsupported: a value or setting the connector cannot represent.
	ErrUnsupported = errors.New("postgres: unsupported")

	// ErrProtocol: the replication stream did not follow the pgoutput
	// protocol as expected.
	ErrProtocol = errors.New("postgres: replication protocol error")
)

// SlotAheadError details ErrSlotAhead.
type SlotAheadError struct {
	Slot      string
	Confirmed pglogrepl.LSN // the slot's confirmed_flush_lsn
	Stored    pglogrepl.LSN // the position the stored offset resumes from
}

func (e *SlotAheadError) Error() string {
	return fmt.Sprintf("postgres: replication slot %q has confirmed_flush_lsn %s, ahead of the stored offset's position %s: "+
		"the changes between them were acknowledged by another consumer or the slot was recreated (e.g. after a failover), "+
		"and cannot be streamed again. Nothing was skipped: the task stopped. To continue, either "+
		"(a) set snapshot.mode=when_needed (or always) to take a new snapshot and stream from the slot, or "+
		"(b) reset this connector's offsets (stop it, DELETE /connectors/<name>/offsets, resume) to start over with a snapshot",
		e.Slot, e.Confirmed, e.Stored)
}

// Is reports whether target is ErrSlotAhead.
func (e *SlotAheadError) Is(target error) bool { return target == ErrSlotAhead }
