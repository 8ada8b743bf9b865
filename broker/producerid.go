package broker

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/vfs"
)

// producerIDBlock is how many producer ids are reserved per write of
// producer-ids.json (Kafka's controller hands out blocks of 1000 too).
const producerIDBlock = 1000

// producerIDs allocates idempotent producer ids that never repeat, across
// restarts included: a block is persisted as used before any id of it is
// handed out, so a crash wastes at most the rest of a block.
type producerIDs struct {
	fs  vfs.FS
	dir string

	mu       sync.Mutex
	next     int64 // guarded by mu
	blockEnd int64 // guarded by mu: first id not yet reserved on disk
}

type producerIDsState struct {
	Version int `json:"version"`
	// NextBlock is the first id no running broker has handed out.
	NextBlock int64 `json:"next_block"`
}

func openProducerIDs(fs vfs.FS, dir string) (*producerIDs, error) {
	var st producerIDsState
	ok, err := readJSON(fs, filepath.Join(dir, producerIDsFile), &st)
	if err != nil {
		return nil, err
	}
	if ok && (st.Version != formatVersion || st.NextBlock < 0) {
		return nil, fmt.Errorf("%w: %s: version %d, next_block %d", ErrCorruptMetadata, producerIDsFile, st.Version, st.NextBlock)
	}
	return &producerIDs{fs: fs, dir: dir, next: st.NextBlock, blockEnd: st.NextBlock}, nil
}

// allocate returns a fresh producer id.
func (p *producerIDs) allocate() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next >= p.blockEnd {
		end := p.next + producerIDBlock
		if err := writeJSON(p.fs, p.dir, producerIDsFile, producerIDsState{Version: formatVersion, NextBlock: end}); err != nil {
			return 0, fmt.Errorf("reserve producer ids: %w", err)
		}
		p.blockEnd = end
	}
	id := p.next
	p.next++
	return id, nil
}

// handleInitProducerID hands an idempotent producer a new id at epoch 0.
// Kafka does the same for a null transactional id, whatever id and epoch
// the request carries. Transactions are not supported: a transactional id
// is refused (and the transaction APIs are not advertised).
func (c *conn) handleInitProducerID(req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	if req.TransactionalID != nil {
		c.log.Debug("refusing transactional producer", "transactional_id", *req.TransactionalID, "client_id", c.clientID)
		resp.ErrorCode = errorCode(ErrTransactionsUnsupported, kerr.UnknownServerError)
		return resp
	}
	id, err := c.b.pids.allocate()
	if err != nil {
		c.log.Error("allocating producer id", "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code // retriable
		return resp
	}
	resp.ProducerID = id
	resp.ProducerEpoch = 0
	return resp
}
