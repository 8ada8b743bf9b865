package vfs_test

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sluicedata/sluice/broker/vfs"
)

// eachFS runs the conformance suite against every implementation.
func eachFS(t *testing.T, fn func(t *testing.T, fsys vfs.FS, dir string)) {
	t.Run("os", func(t *testing.T) { fn(t, vfs.OS, t.TempDir()) })
	t.Run("mem", func(t *testing.T) {
		m := vfs.NewMem()
		if err := m.MkdirAll("/d"); err != nil {
			t.Fatal(err)
		}
		fn(t, m, "/d")
	})
	t.Run("fault", func(t *testing.T) { fn(t, vfs.NewFault(vfs.NewMem()), "/") })
}

func read(t *testing.T, f vfs.File) string {
	t.Helper()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, size)
	if n, err := f.ReadAt(b, 0); n != len(b) || err != nil && err != io.EOF {
		t.Fatalf("read %d of %d: %v", n, len(b), err)
	}
	return string(b)
}

func TestConformance(t *testing.T) {
	eachFS(t, func(t *testing.T, fsys vfs.FS, dir string) {
		a := filepath.Join(dir, "a")
		f, err := fsys.Create(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("hello ")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("world")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("H"), 0); err != nil {
			t.Fatal(err)
		}
		if got := read(t, f); got != "Hello world" {
			t.Fatalf("got %q", got)
		}
		buf := make([]byte, 5)
		if n, err := f.ReadAt(buf, 8); n != 3 || err != io.EOF {
			t.Fatalf("short read at the end: %d %v", n, err)
		}
		if err := f.Truncate(5); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("!")); err != nil {
			t.Fatal(err)
		}
		if got := read(t, f); got != "Hello!" {
			t.Fatalf("after truncate and write: %q", got)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}

		g, err := fsys.Open(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.Write([]byte(" again")); err != nil {
			t.Fatal(err)
		}
		if got := read(t, g); got != "Hello! again" {
			t.Fatalf("open appends at the end: %q", got)
		}
		g.Close()

		b := filepath.Join(dir, "b")
		if err := fsys.Rename(a, b); err != nil {
			t.Fatal(err)
		}
		if ok, _ := fsys.Exists(a); ok {
			t.Fatal("renamed file still there")
		}
		names, err := fsys.ReadDir(dir)
		if err != nil || len(names) != 1 || names[0] != "b" {
			t.Fatalf("readdir: %v %v", names, err)
		}
		r, err := fsys.OpenReadOnly(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Write([]byte("x")); err == nil {
			t.Fatal("write to a read-only file succeeded")
		}
		r.Close()
		if err := fsys.SyncDir(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Open(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("open missing: %v", err)
		}
		if err := fsys.Remove(b); err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(dir, "x", "y")
		if err := fsys.MkdirAll(sub); err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Create(filepath.Join(sub, "f")); err != nil {
			t.Fatal(err)
		}
		if err := fsys.RemoveAll(filepath.Join(dir, "x")); err != nil {
			t.Fatal(err)
		}
		if ok, _ := fsys.Exists(sub); ok {
			t.Fatal("RemoveAll left the directory")
		}
	})
}

func TestMemCrash(t *testing.T) {
	m := vfs.NewMem()
	m.MkdirAll("/d")
	mk := func(name, data string, syncFile bool) vfs.File {
		f, err := m.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(data))
		if syncFile {
			f.Sync()
		}
		return f
	}
	durable := mk("/d/durable", "synced", true)
	mk("/d/unsynced-name", "data synced, name not", true)
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	m.Remove("/d/unsynced-name") // the removal is not durable either
	mk("/d/new", "never synced", true)
	durable.Write([]byte(" and more"))
	durable.WriteAt([]byte("S"), 0)
	if err := m.Rename("/d/durable", "/d/renamed"); err != nil {
		t.Fatal(err)
	}

	m.Crash()
	if _, err := durable.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("a file opened before the crash still writes: %v", err)
	}
	names, _ := m.ReadDir("/d")
	if len(names) != 2 || names[0] != "durable" || names[1] != "unsynced-name" {
		t.Fatalf("names after crash: %v", names)
	}
	got, _ := m.Bytes("/d/durable")
	if string(got) != "synced" {
		t.Fatalf("contents after crash: %q", got)
	}
	got, _ = m.Bytes("/d/unsynced-name")
	if string(got) != "data synced, name not" {
		t.Fatalf("contents after crash: %q", got)
	}

	// Sync after overwrites keeps the overwrite; truncation is durable
	// after a sync too.
	f, _ := m.Open("/d/durable")
	f.WriteAt([]byte("S"), 0)
	f.Truncate(3)
	f.Sync()
	f.Write([]byte("lost"))
	m.Crash()
	got, _ = m.Bytes("/d/durable")
	if string(got) != "Syn" {
		t.Fatalf("contents after crash: %q", got)
	}
}

func TestFault(t *testing.T) {
	m := vfs.NewMem()
	m.MkdirAll("/d")
	f := vfs.NewFault(m)
	file, err := f.Create("/d/seg.log")
	if err != nil {
		t.Fatal(err)
	}

	f.Add(vfs.Rule{Op: vfs.OpWrite, Path: ".log", Skip: 1, Short: 3})
	if _, err := file.Write([]byte("first")); err != nil {
		t.Fatalf("skipped write failed: %v", err)
	}
	n, err := file.Write([]byte("second"))
	if n != 3 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("short write: %d %v", n, err)
	}
	if _, err := file.Write([]byte("third")); err != nil {
		t.Fatalf("rule fired twice: %v", err)
	}
	if got, _ := m.Bytes("/d/seg.log"); string(got) != "firstsecthird" {
		t.Fatalf("file holds %q", got)
	}

	f.Add(vfs.Rule{Op: vfs.OpSync, Times: 2})
	for i, want := range []error{vfs.ErrInjected, vfs.ErrInjected, nil} {
		if err := file.Sync(); !errors.Is(err, want) {
			t.Fatalf("sync %d: %v, want %v", i, err, want)
		}
	}

	// Other paths are untouched by a path rule.
	f.Add(vfs.Rule{Op: vfs.OpCreate, Path: ".index", Times: -1})
	if _, err := f.Create("/d/seg.index"); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("create .index: %v", err)
	}
	if _, err := f.Create("/d/other"); err != nil {
		t.Fatalf("create other: %v", err)
	}

	// Halt: the operation tears, and everything after fails.
	f.Reset()
	ops := f.Ops()
	f.Add(vfs.Rule{Halt: true, Short: -1, Skip: 1})
	file.Sync() // skipped
	if _, err := file.Write([]byte("abcdefgh")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("halting write: %v", err)
	}
	if !f.Halted() {
		t.Fatal("not halted")
	}
	if _, err := f.ReadDir("/d"); !errors.Is(err, vfs.ErrHalted) {
		t.Fatalf("readdir after halt: %v", err)
	}
	if err := file.Sync(); !errors.Is(err, vfs.ErrHalted) {
		t.Fatalf("sync after halt: %v", err)
	}
	if got, _ := m.Bytes("/d/seg.log"); string(got) != "firstsecthirdabcd" {
		t.Fatalf("torn write left %q", got)
	}
	if f.Ops()-ops != 2 {
		t.Fatalf("counted %d operations, want 2", f.Ops()-ops)
	}
	if f.Count(vfs.OpWrite) != 4 {
		t.Fatalf("counted %d writes", f.Count(vfs.OpWrite))
	}
}
