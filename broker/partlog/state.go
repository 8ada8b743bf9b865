package partlog

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
)

// persisted is the partition state kept in the log.state file:
//
//	header (8) | logStartOffset int64 | recoveryPoint int64 | cleanedTo int64 | crc32c uint32
//
// logStartOffset survives retention; recoveryPoint is the base offset of
// the first segment recovery must scan after a crash (every segment before
// it, with its indexes, was fsynced); cleanedTo is the compaction
// checkpoint: offsets below it are compacted (Kafka's cleaner offset
// checkpoint).
type persisted struct {
	start, recoveryPoint, cleanedTo int64
}

const stateSize = headerSize + 3*8 + 4

func (p persisted) encode() []byte {
	b := appendHeader(make([]byte, 0, stateSize), magicState)
	b = binary.BigEndian.AppendUint64(b, uint64(p.start))
	b = binary.BigEndian.AppendUint64(b, uint64(p.recoveryPoint))
	b = binary.BigEndian.AppendUint64(b, uint64(p.cleanedTo))
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeState(b []byte) (persisted, error) {
	if err := checkHeader(b, magicState); err != nil {
		return persisted{}, err
	}
	if len(b) != stateSize || crc32.Checksum(b[:stateSize-4], castagnoli) != binary.BigEndian.Uint32(b[stateSize-4:]) {
		return persisted{}, corruptErr("%s: bad size or crc", stateFile)
	}
	return persisted{
		start:         int64(binary.BigEndian.Uint64(b[8:])),
		recoveryPoint: int64(binary.BigEndian.Uint64(b[16:])),
		cleanedTo:     int64(binary.BigEndian.Uint64(b[24:])),
	}, nil
}

// readFile returns the contents of a file in the partition directory;
// found is false when it does not exist.
func (l *Log) readFile(name string) (data []byte, found bool, err error) {
	f, err := l.fs.OpenReadOnly(l.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storageErr(err, "open %s", name)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, true, storageErr(err, "stat %s", name)
	}
	data = make([]byte, size)
	if n, err := f.ReadAt(data, 0); n < len(data) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, true, storageErr(err, "read %s", name)
	}
	return data, true, nil
}

// writeFileAtomic replaces a small file durably: write name.tmp, fsync,
// rename over name, fsync the directory.
func (l *Log) writeFileAtomic(name string, data []byte) error {
	tmp := l.path(name + tmpExt)
	f, err := l.fs.Create(tmp)
	if err != nil {
		return storageErr(err, "create %s", tmp)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = l.fs.Remove(tmp) // best effort; Open removes leftovers
		return storageErr(err, "write %s", tmp)
	}
	if err := l.fs.Rename(tmp, l.path(name)); err != nil {
		return storageErr(err, "rename %s", tmp)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return storageErr(err, "sync directory after writing %s", name)
	}
	return nil
}

// saveState changes the persisted state with update and writes it.
func (l *Log) saveState(update func(*persisted)) error {
	l.state.Lock()
	defer l.state.Unlock()
	p := l.state.p
	update(&p)
	if p == l.state.p && l.state.written {
		return nil
	}
	if err := l.writeFileAtomic(stateFile, p.encode()); err != nil {
		return err
	}
	l.state.p, l.state.written = p, true
	return nil
}
