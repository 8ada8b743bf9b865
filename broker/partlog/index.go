package partlog

import (
	"encoding/binary"
	"sort"
)

// indexEntry is one entry of the sparse offset index: a batch's base offset
// relative to the segment's, and the batch's position in the .log file.
type indexEntry struct {
	rel uint32
	pos uint32
}

const indexEntrySize = 8

// timeEntry is one entry of the time index: the largest timestamp of the
// segment up to some point, and the batch that has it.
type timeEntry struct {
	ts  int64
	rel uint32
	pos uint32
}

const timeEntrySize = 16

func encodeIndex(dst []byte, idx []indexEntry) []byte {
	dst = appendHeader(dst, magicIndex)
	for _, e := range idx {
		dst = binary.BigEndian.AppendUint32(dst, e.rel)
		dst = binary.BigEndian.AppendUint32(dst, e.pos)
	}
	return dst
}

func encodeTimeIndex(dst []byte, tidx []timeEntry) []byte {
	dst = appendHeader(dst, magicTimeIndex)
	for _, e := range tidx {
		dst = binary.BigEndian.AppendUint64(dst, uint64(e.ts))
		dst = binary.BigEndian.AppendUint32(dst, e.rel)
		dst = binary.BigEndian.AppendUint32(dst, e.pos)
	}
	return dst
}

// decodeIndex parses an .index file and runs the sanity check: whole
// entries, offsets and positions strictly increasing, positions inside a
// log of logSize bytes.
func decodeIndex(b []byte, logSize int64) ([]indexEntry, error) {
	if err := checkHeader(b, magicIndex); err != nil {
		return nil, err
	}
	b = b[headerSize:]
	if len(b)%indexEntrySize != 0 {
		return nil, corruptErr("index of %d bytes is not whole entries", len(b))
	}
	idx := make([]indexEntry, len(b)/indexEntrySize)
	for i := range idx {
		e := indexEntry{rel: binary.BigEndian.Uint32(b[i*8:]), pos: binary.BigEndian.Uint32(b[i*8+4:])}
		if int64(e.pos) < headerSize || int64(e.pos) >= logSize {
			return nil, corruptErr("index entry %d: position %d outside log of %d bytes", i, e.pos, logSize)
		}
		if i > 0 && (e.rel <= idx[i-1].rel || e.pos <= idx[i-1].pos) {
			return nil, corruptErr("index entry %d (%d@%d) does not follow (%d@%d)", i, e.rel, e.pos, idx[i-1].rel, idx[i-1].pos)
		}
		idx[i] = e
	}
	return idx, nil
}

// decodeTimeIndex parses and checks a .timeindex file like decodeIndex.
func decodeTimeIndex(b []byte, logSize int64) ([]timeEntry, error) {
	if err := checkHeader(b, magicTimeIndex); err != nil {
		return nil, err
	}
	b = b[headerSize:]
	if len(b)%timeEntrySize != 0 {
		return nil, corruptErr("time index of %d bytes is not whole entries", len(b))
	}
	tidx := make([]timeEntry, len(b)/timeEntrySize)
	for i := range tidx {
		o := i * timeEntrySize
		e := timeEntry{
			ts:  int64(binary.BigEndian.Uint64(b[o:])),
			rel: binary.BigEndian.Uint32(b[o+8:]),
			pos: binary.BigEndian.Uint32(b[o+12:]),
		}
		if int64(e.pos) < headerSize || int64(e.pos) >= logSize {
			return nil, corruptErr("time index entry %d: position %d outside log of %d bytes", i, e.pos, logSize)
		}
		if i > 0 && (e.ts <= tidx[i-1].ts || e.rel <= tidx[i-1].rel || e.pos <= tidx[i-1].pos) {
			return nil, corruptErr("time index entry %d does not follow the one before", i)
		}
		tidx[i] = e
	}
	return tidx, nil
}

// lookupIndex returns the position of the last indexed batch whose base
// offset is at most rel, or the first batch's position.
func lookupIndex(idx []indexEntry, rel uint32) int64 {
	i := sort.Search(len(idx), func(i int) bool { return idx[i].rel > rel })
	if i == 0 {
		return headerSize
	}
	return int64(idx[i-1].pos)
}

// lookupTimeIndex returns where to start scanning for the first record
// with a timestamp >= ts: every record before the returned position has a
// smaller timestamp.
func lookupTimeIndex(tidx []timeEntry, ts int64) int64 {
	i := sort.Search(len(tidx), func(i int) bool { return tidx[i].ts >= ts })
	if i == 0 {
		return headerSize
	}
	return int64(tidx[i-1].pos)
}
