package partlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sluicedata/sluice/broker/batch"
	"github.com/sluicedata/sluice/broker/vfs"
)

// errTorn and errBadBatch end a scan early. The scan's owner decides what
// they mean: recovery truncates there, a reader of published data reports
// corruption.
var (
	errTorn     = errors.New("torn batch")
	errBadBatch = errors.New("bad batch")
)

// maxRelOffset is the largest offset past its base a segment holds: the
// indexes store offsets relative to the base as 32-bit numbers (and Kafka
// clients expect int32 deltas).
const maxRelOffset = math.MaxInt32

// scanner walks the batches of a .log file from a position up to a limit,
// reading in chunks. The Batch it returns is valid until the next call.
type scanner struct {
	f      vfs.File
	pos    int64 // position of the next batch
	limit  int64 // position where the scan stops
	buf    []byte
	bufOff int64 // file position of buf[0]
	// verify makes next check every batch's CRC and magic (recovery).
	verify bool
	// headers makes next return only each batch's 61-byte header, and read
	// little more: replaying producer state needs nothing else.
	headers bool
	// after is the smallest base offset the next batch may have: offsets
	// strictly increase through a segment.
	after int64
	// maxLast is the largest last offset a batch may have: a segment spans
	// at most maxRelOffset offsets.
	maxLast int64
	err     error
}

func newScanner(f vfs.File, pos, limit int64, chunk int) *scanner {
	return &scanner{f: f, pos: pos, limit: limit, bufOff: pos, buf: make([]byte, 0, chunk), after: -1, maxLast: math.MaxInt64}
}

// fill makes buf hold the n bytes at pos, reading a chunk if needed.
func (s *scanner) fill(n int) ([]byte, error) {
	lo := s.pos - s.bufOff
	if lo >= 0 && lo+int64(n) <= int64(len(s.buf)) {
		return s.buf[lo : lo+int64(n)], nil
	}
	if s.pos+int64(n) > s.limit {
		return nil, errTorn
	}
	want := max(n, cap(s.buf))
	want = int(min(int64(want), s.limit-s.pos))
	if want > cap(s.buf) {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	s.bufOff = s.pos
	m, err := s.f.ReadAt(s.buf, s.pos)
	if m < want {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		s.buf = s.buf[:0]
		return nil, fmt.Errorf("read %d bytes at %d: %w", want, s.pos, err)
	}
	return s.buf[:n], nil
}

// next returns the next batch and its position; ok false at the limit or
// at the first problem, which err then holds (nil at a clean end).
func (s *scanner) next() (b batch.Batch, pos int64, ok bool) {
	if s.err != nil || s.pos >= s.limit {
		return nil, 0, false
	}
	head, err := s.fill(batch.LogOverhead)
	if err != nil {
		s.err = err
		return nil, 0, false
	}
	length := int64(int32(binary.BigEndian.Uint32(head[8:])))
	if length < batch.HeaderSize-batch.LogOverhead {
		s.err = fmt.Errorf("%w at position %d: batchLength %d", errBadBatch, s.pos, length)
		return nil, 0, false
	}
	size := int(length) + batch.LogOverhead
	if s.headers && s.pos+int64(size) > s.limit {
		s.err = errTorn
		return nil, 0, false
	}
	n := size
	if s.headers {
		n = batch.HeaderSize
	}
	whole, err := s.fill(n)
	if err != nil {
		s.err = err
		return nil, 0, false
	}
	b = batch.Batch(whole)
	if s.verify && !s.headers && !b.CheckCRC() {
		s.err = fmt.Errorf("%w at position %d: crc or magic mismatch", errBadBatch, s.pos)
		return nil, 0, false
	}
	if b.BaseOffset() < s.after || b.LastOffsetDelta() < 0 || b.LastOffset() > s.maxLast {
		s.err = fmt.Errorf("%w at position %d: offsets %d..%d after %d", errBadBatch, s.pos, b.BaseOffset(), b.LastOffset(), s.after)
		return nil, 0, false
	}
	s.after = b.LastOffset() + 1
	pos = s.pos
	s.pos += int64(size)
	return b, pos, true
}

// damaged reports whether the scan stopped on bad data (rather than at the
// limit or on an I/O error).
func (s *scanner) damaged() bool {
	return errors.Is(s.err, errTorn) || errors.Is(s.err, errBadBatch)
}
