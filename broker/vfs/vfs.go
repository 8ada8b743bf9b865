// Package vfs is the small filesystem interface the broker's storage is
// written against.
//
// Three implementations share it: [OS] (the real one), [Mem] (in memory,
// for fast tests, which can simulate a power loss with [Mem.Crash]), and
// [Fault], a wrapper that fails syncs, shortens writes and tears tails, so
// that crash and recovery paths are tested without killing processes. One
// conformance suite (vfs_test.go) runs against all three. Only what the storage needs is here; in particular there
// is no seeking: files are written with [File.Write] at their end or with
// [File.WriteAt], and read with [File.ReadAt].
package vfs

import (
	"io"
	"os"
	"path/filepath"
	"sort"
)

// File is an open file. A File is safe for concurrent ReadAt calls; writes
// must be serialised by the caller.
type File interface {
	io.ReaderAt
	// Write appends p at the end of the file.
	io.Writer
	io.WriterAt
	// Sync makes everything written so far durable.
	Sync() error
	// Truncate changes the size of the file; later Writes append at size.
	Truncate(size int64) error
	// Size is the file's current size in bytes.
	Size() (int64, error)
	Close() error
	// Name is the path the file was opened with.
	Name() string
}

// FS is a filesystem. Paths use the host's separator (filepath).
type FS interface {
	// Create creates or truncates the named file, opened for reading and
	// writing.
	Create(name string) (File, error)
	// Open opens an existing file for reading and appending; writes go to
	// the end of the file.
	Open(name string) (File, error)
	// OpenReadOnly opens an existing file for reading only.
	OpenReadOnly(name string) (File, error)
	Remove(name string) error
	RemoveAll(dir string) error
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	MkdirAll(dir string) error
	// ReadDir lists the names (not paths) in dir, sorted.
	ReadDir(dir string) ([]string, error)
	// SyncDir makes renames, creations and removals in dir durable.
	SyncDir(dir string) error
	// Exists reports whether name exists.
	Exists(name string) (bool, error)
}

// OS is the host filesystem.
var OS FS = osFS{}

type osFS struct{}

type osFile struct {
	*os.File
	end int64 // where Write appends
}

func (f *osFile) Write(p []byte) (int, error) {
	n, err := f.File.WriteAt(p, f.end)
	f.end += int64(n)
	return n, err
}

func (f *osFile) Truncate(size int64) error {
	if err := f.File.Truncate(size); err != nil {
		return err
	}
	f.end = size
	return nil
}

func (f *osFile) Size() (int64, error) {
	st, err := f.File.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func wrap(f *os.File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &osFile{File: f, end: st.Size()}, nil
}

func (osFS) Create(name string) (File, error) {
	return wrap(os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644))
}

func (osFS) Open(name string) (File, error) {
	return wrap(os.OpenFile(name, os.O_RDWR, 0o644))
}

func (osFS) OpenReadOnly(name string) (File, error) {
	return wrap(os.Open(name))
}

func (osFS) Remove(name string) error             { return os.Remove(name) }
func (osFS) RemoveAll(dir string) error           { return os.RemoveAll(dir) }
func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (osFS) MkdirAll(dir string) error            { return os.MkdirAll(dir, 0o755) }

func (osFS) ReadDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	sort.Strings(names)
	return names, nil
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (osFS) Exists(name string) (bool, error) {
	_, err := os.Stat(name)
	if err == nil {
		return true, nil
	}
	if os.IsNotExist(err) {
		return false, nil
	}
	return false, err
}
