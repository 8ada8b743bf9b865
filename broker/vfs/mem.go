package vfs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Mem is an in-memory filesystem that models what survives a power loss.
//
// Every file keeps two versions of its bytes: what was written, which reads
// see, and what was last made durable by [File.Sync]. Likewise the names in
// a directory exist twice: the live ones, and the ones made durable by
// [FS.SyncDir] (creations, renames and removals are not durable until the
// directory is synced). [Mem.Crash] throws away everything that is not
// durable, as a machine that loses power would, and invalidates every open
// File, as a process that dies would.
//
// Directories themselves (MkdirAll, RemoveAll) are durable at once: the
// storage creates its directories once and removes them as a whole.
//
// A Mem is safe for concurrent use.
type Mem struct {
	mu    sync.Mutex
	gen   atomic.Uint64       // bumped by Crash; files of older generations are dead
	files map[string]*memNode // live names
	dur   map[string]*memNode // durable names
	dirs  map[string]bool
}

var _ FS = (*Mem)(nil)

// NewMem returns an empty in-memory filesystem.
func NewMem() *Mem {
	return &Mem{
		files: map[string]*memNode{},
		dur:   map[string]*memNode{},
		dirs:  map[string]bool{string(filepath.Separator): true, ".": true},
	}
}

// memNode is a file's contents, shared by every name and handle of it.
type memNode struct {
	mu     sync.RWMutex
	data   []byte // what was written
	synced []byte // what survives a crash
	// dirty is the smallest offset changed since the last Sync: synced and
	// data agree below it, so Sync copies only what follows.
	dirty int
}

func (n *memNode) markDirty(off int) {
	if off < n.dirty {
		n.dirty = off
	}
}

// Crash simulates a power loss: every file keeps only what was synced,
// every directory only the names that were synced, and every File opened
// before the call fails from then on with [os.ErrClosed].
func (m *Mem) Crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen.Add(1)
	m.files = make(map[string]*memNode, len(m.dur))
	for name, n := range m.dur {
		n.mu.Lock()
		n.data = append(n.data[:0:0], n.synced...)
		n.dirty = len(n.data)
		n.mu.Unlock()
		m.files[name] = n
	}
}

// Bytes returns a copy of the live contents of the named file; a test
// helper for inspecting what the storage wrote.
func (m *Mem) Bytes(name string) ([]byte, error) {
	m.mu.Lock()
	n, ok := m.files[filepath.Clean(name)]
	m.mu.Unlock()
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return append([]byte(nil), n.data...), nil
}

func (m *Mem) checkDir(op, name string) error {
	if !m.dirs[filepath.Dir(name)] {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

func (m *Mem) handle(name string, n *memNode, readOnly bool) *memFile {
	f := &memFile{m: m, n: n, name: name, gen: m.gen.Load(), readOnly: readOnly}
	n.mu.RLock()
	f.end = int64(len(n.data))
	n.mu.RUnlock()
	return f
}

// Create implements FS.
func (m *Mem) Create(name string) (File, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkDir("create", name); err != nil {
		return nil, err
	}
	if m.dirs[name] {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	}
	n, ok := m.files[name]
	if ok {
		n.mu.Lock()
		n.data = n.data[:0]
		n.markDirty(0)
		n.mu.Unlock()
	} else {
		n = &memNode{}
		m.files[name] = n
	}
	return m.handle(name, n, false), nil
}

func (m *Mem) open(name string, readOnly bool) (File, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return m.handle(name, n, readOnly), nil
}

// Open implements FS.
func (m *Mem) Open(name string) (File, error) { return m.open(name, false) }

// OpenReadOnly implements FS.
func (m *Mem) OpenReadOnly(name string) (File, error) { return m.open(name, true) }

// Remove implements FS. The removal is durable once the directory is synced.
func (m *Mem) Remove(name string) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; ok {
		delete(m.files, name)
		return nil
	}
	if m.dirs[name] {
		prefix := name + string(filepath.Separator)
		for k := range m.files {
			if strings.HasPrefix(k, prefix) {
				return &fs.PathError{Op: "remove", Path: name, Err: fmt.Errorf("directory not empty")}
			}
		}
		delete(m.dirs, name)
		return nil
	}
	return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
}

// RemoveAll implements FS; unlike Remove it is durable at once.
func (m *Mem) RemoveAll(dir string) error {
	dir = filepath.Clean(dir)
	prefix := dir + string(filepath.Separator)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, set := range []map[string]*memNode{m.files, m.dur} {
		for k := range set {
			if k == dir || strings.HasPrefix(k, prefix) {
				delete(set, k)
			}
		}
	}
	for k := range m.dirs {
		if k == dir || strings.HasPrefix(k, prefix) {
			delete(m.dirs, k)
		}
	}
	return nil
}

// Rename implements FS. The rename is durable once the directory is synced.
func (m *Mem) Rename(oldname, newname string) error {
	oldname, newname = filepath.Clean(oldname), filepath.Clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[oldname]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	if err := m.checkDir("rename", newname); err != nil {
		return err
	}
	delete(m.files, oldname)
	m.files[newname] = n
	return nil
}

// MkdirAll implements FS; directories are durable at once.
func (m *Mem) MkdirAll(dir string) error {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := dir; !m.dirs[d]; d = filepath.Dir(d) {
		if _, ok := m.files[d]; ok {
			return &fs.PathError{Op: "mkdir", Path: d, Err: fs.ErrExist}
		}
		m.dirs[d] = true
	}
	return nil
}

// ReadDir implements FS.
func (m *Mem) ReadDir(dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	var names []string
	for k := range m.files {
		if filepath.Dir(k) == dir {
			names = append(names, filepath.Base(k))
		}
	}
	for k := range m.dirs {
		if k != dir && filepath.Dir(k) == dir {
			names = append(names, filepath.Base(k))
		}
	}
	sort.Strings(names)
	return names, nil
}

// SyncDir implements FS: it makes the names in dir durable as they are now.
func (m *Mem) SyncDir(dir string) error {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: fs.ErrNotExist}
	}
	for k := range m.dur {
		if filepath.Dir(k) == dir {
			delete(m.dur, k)
		}
	}
	for k, n := range m.files {
		if filepath.Dir(k) == dir {
			m.dur[k] = n
		}
	}
	return nil
}

// Exists implements FS.
func (m *Mem) Exists(name string) (bool, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.files[name]
	return ok || m.dirs[name], nil
}

// memFile is an open handle on a memNode.
type memFile struct {
	m        *Mem
	n        *memNode
	name     string
	gen      uint64
	readOnly bool
	closed   atomic.Bool
	end      int64 // where Write appends; writes are serialised by the caller
}

func (f *memFile) check(op string, write bool) error {
	if f.closed.Load() || f.gen != f.m.gen.Load() {
		return &fs.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
	}
	if write && f.readOnly {
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrPermission}
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	f.n.mu.RLock()
	defer f.n.mu.RUnlock()
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrInvalid}
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	end := int(off) + len(p)
	if end > len(n.data) {
		if end > cap(n.data) {
			grown := make([]byte, len(n.data), max(end, 2*cap(n.data)))
			copy(grown, n.data)
			n.data = grown
		}
		old := len(n.data)
		n.data = n.data[:end]
		if int(off) > old {
			clear(n.data[old:off])
		}
		n.markDirty(old)
	}
	copy(n.data[off:], p)
	n.markDirty(int(off))
	return len(p), nil
}

func (f *memFile) Write(p []byte) (int, error) {
	n, err := f.WriteAt(p, f.end)
	f.end += int64(n)
	return n, err
}

func (f *memFile) Sync() error {
	if err := f.check("sync", false); err != nil {
		return err
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	keep := min(n.dirty, len(n.synced), len(n.data))
	n.synced = append(n.synced[:keep], n.data[keep:]...)
	n.dirty = len(n.data)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	if err := f.check("truncate", true); err != nil {
		return err
	}
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	old := len(n.data)
	if int(size) <= old {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, int(size)-old)...)
	}
	n.markDirty(min(int(size), old))
	f.end = size
	return nil
}

func (f *memFile) Size() (int64, error) {
	if err := f.check("stat", false); err != nil {
		return 0, err
	}
	f.n.mu.RLock()
	defer f.n.mu.RUnlock()
	return int64(len(f.n.data)), nil
}

func (f *memFile) Close() error {
	if f.closed.Swap(true) {
		return &fs.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	return nil
}

func (f *memFile) Name() string { return f.name }
