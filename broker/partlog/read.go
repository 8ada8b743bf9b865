package partlog

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/sluicedata/sluice/broker/batch"
)

// readSlack is how much more than maxBytes Read reads at once, to step over
// the batches between an index entry and the offset asked for.
const readSlack = 16 << 10

// Read returns whole batches starting with the one that holds offset, up to
// maxBytes (but always at least one batch if any is below the high
// watermark, KIP-74), appended to dst. Reading at the high watermark returns
// dst unchanged; outside [StartOffset, HighWatermark] it returns
// ErrOffsetOutOfRange.
//
// The batches come from one segment. If compaction removed offset, they
// start with the next batch that remains.
func (l *Log) Read(offset int64, maxBytes int, dst []byte) ([]byte, error) {
	if l.closed.Load() {
		return dst, ErrClosed
	}
	hwm, start := l.hwm.Load(), l.start.Load()
	if offset < start || offset > hwm {
		return dst, fmt.Errorf("%w: offset %d, log has [%d, %d)", ErrOffsetOutOfRange, offset, start, hwm)
	}
	if offset == hwm {
		return dst, nil
	}
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	if l.closed.Load() {
		return dst, ErrClosed
	}
	for i := l.segmentFor(offset); i < len(l.segs); i++ {
		out, found, err := l.segs[i].read(offset, hwm, maxBytes, dst)
		if err != nil || found {
			return out, err
		}
	}
	return dst, nil
}

// read appends to dst the batches of s that Read returns, below hwm;
// found is false when s holds no published batch at or after offset.
//
// The high watermark bounds the batches as well as pub does: a Sync stores
// the positions it publishes before the high watermark, so a reader may see
// a position whose offsets are not yet below the high watermark it read.
func (s *segment) read(offset, hwm int64, maxBytes int, dst []byte) (out []byte, found bool, err error) {
	limit := s.pub.Load()
	pos := s.lookup(offset)
	keep := len(dst)
	maxBytes = min(max(maxBytes, 0), 1<<40)
	need := 0 // a batch larger than one read, seen at the front of the buffer
	for pos < limit {
		want := int(min(limit-pos, int64(max(maxBytes+readSlack, need))))
		dst = slices.Grow(dst[:keep], want)[:keep+want]
		buf := dst[keep:]
		if n, err := s.log.ReadAt(buf, pos); n < want {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return dst[:keep], false, storageErr(err, "read segment %d at %d", s.base, pos)
		}
		// Step over the batches that end before offset. Below limit
		// every batch is whole, so only the buffer's end cuts one.
		off := 0
		first := 0
		for off+batch.HeaderSize <= len(buf) {
			b := batch.Batch(buf[off:])
			size := int(b.BatchLength()) + batch.LogOverhead
			if size < batch.HeaderSize {
				return dst[:keep], false, fmt.Errorf("%w: segment %d: batch length %d at %d", ErrCorrupt, s.base, size, pos+int64(off))
			}
			if b.LastOffset() >= offset {
				first = size
				break
			}
			off += size
		}
		if first == 0 {
			if off == 0 {
				return dst[:keep], false, fmt.Errorf("%w: segment %d: %d bytes at %d are less than a batch", ErrCorrupt, s.base, len(buf), pos)
			}
			// Every batch read ends before offset; off is where the next
			// one starts (maybe cut by the buffer's end).
			pos += int64(off)
			need = 0
			continue
		}
		if batch.Batch(buf[off:]).BaseOffset() >= hwm {
			return dst[:keep], true, nil
		}
		if off+first > len(buf) {
			// The batch does not fit what was read: read again from it,
			// whole (KIP-74: the first batch goes out even past maxBytes).
			pos += int64(off)
			need = first
			continue
		}
		end := off + first
		for end+batch.LogOverhead <= len(buf) {
			size := int(binary.BigEndian.Uint32(buf[end+8:])) + batch.LogOverhead
			if end+size > len(buf) || end+size-off > maxBytes || batch.Batch(buf[end:]).BaseOffset() >= hwm {
				break
			}
			end += size
		}
		n := copy(dst[keep:], buf[off:end])
		return dst[:keep+n], true, nil
	}
	return dst[:keep], false, nil
}
