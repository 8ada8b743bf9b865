package vfs

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
)

// ErrInjected is what an injected fault returns when its [Rule] names no
// other error.
var ErrInjected = errors.New("vfs: injected fault")

// ErrHalted is what every operation returns once a [Rule] with Halt set has
// fired: the simulated process has died and does nothing more.
var ErrHalted = errors.New("vfs: filesystem halted by an injected crash")

// Op is a kind of filesystem operation a [Rule] matches.
type Op uint8

// Operations. The zero Op in a Rule matches every mutating operation
// (everything but OpRead), which is what crash-point enumeration wants.
const (
	OpCreate Op = iota + 1
	OpOpen
	OpWrite // Write and WriteAt
	OpSync
	OpTruncate
	OpRemove // Remove and RemoveAll
	OpRename
	OpSyncDir
	OpMkdir
	OpRead
)

// String returns the operation's name.
func (o Op) String() string {
	switch o {
	case OpCreate:
		return "create"
	case OpOpen:
		return "open"
	case OpWrite:
		return "write"
	case OpSync:
		return "sync"
	case OpTruncate:
		return "truncate"
	case OpRemove:
		return "remove"
	case OpRename:
		return "rename"
	case OpSyncDir:
		return "syncdir"
	case OpMkdir:
		return "mkdir"
	case OpRead:
		return "read"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

func (o Op) mutates() bool { return o != OpRead && o != OpOpen }

// Rule is one injected fault.
type Rule struct {
	// Op is the operation the rule matches; zero matches every mutating
	// operation (create, write, sync, truncate, remove, rename, syncdir,
	// mkdir).
	Op Op
	// Path, when set, must be a substring of the path operated on (for a
	// rename, of either name).
	Path string
	// Skip lets that many matching operations succeed before the rule fires.
	Skip int
	// Times is how many times the rule fires once it starts: 0 means once,
	// a negative number forever.
	Times int
	// Err is the error returned; default ErrInjected, or ENOSPC for a write
	// with Short set.
	Err error
	// Short, for writes, is how many bytes of the write reach the file
	// before it fails: 0 none, a negative number half of them. It makes
	// short writes (disk full) and, with Halt, torn tails.
	Short int
	// Halt makes every later operation of the filesystem, and of its open
	// files, fail with ErrHalted: the process died at this point. Pair it
	// with [Mem.Crash] to test recovery from a crash at any step.
	Halt bool
}

// Fault wraps an FS and injects the faults its rules describe. It also
// counts operations, so a test can run a scenario once to count its steps,
// then rerun it crashing at each one. A Fault is safe for concurrent use.
type Fault struct {
	inner FS

	mu     sync.Mutex
	rules  []*faultRule
	halted bool
	counts map[Op]int
	total  int // mutating operations seen
}

type faultRule struct {
	Rule
	seen, fired int
}

var _ FS = (*Fault)(nil)

// NewFault returns a Fault over inner with no rules: until one is added it
// behaves exactly like inner.
func NewFault(inner FS) *Fault {
	return &Fault{inner: inner, counts: map[Op]int{}}
}

// Add arms a rule.
func (f *Fault) Add(r Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &faultRule{Rule: r})
}

// Reset removes every rule and revives a halted filesystem. Counters are
// kept.
func (f *Fault) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
	f.halted = false
}

// Halted reports whether a Halt rule has fired.
func (f *Fault) Halted() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.halted
}

// Ops returns how many mutating operations have been attempted so far.
func (f *Fault) Ops() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// Count returns how many operations of kind op have been attempted so far.
func (f *Fault) Count(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[op]
}

// check counts an operation and returns the rule that fires on it, if any.
// A halted filesystem returns a rule that fails everything.
func (f *Fault) check(op Op, paths ...string) (*faultRule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.halted {
		return nil, ErrHalted
	}
	f.counts[op]++
	if op.mutates() {
		f.total++
	}
	for _, r := range f.rules {
		if !r.matches(op, paths) {
			continue
		}
		r.seen++
		if r.seen <= r.Skip {
			continue
		}
		if limit := max(r.Times, 1); r.Times >= 0 && r.fired >= limit {
			continue
		}
		r.fired++
		if r.Halt {
			f.halted = true
		}
		err := r.Err
		if err == nil {
			err = ErrInjected
			if op == OpWrite && r.Short != 0 {
				err = syscall.ENOSPC
			}
		}
		return r, err
	}
	return nil, nil
}

func (r *faultRule) matches(op Op, paths []string) bool {
	if r.Op == 0 && !op.mutates() || r.Op != 0 && r.Op != op {
		return false
	}
	if r.Path == "" {
		return true
	}
	for _, p := range paths {
		if strings.Contains(p, r.Path) {
			return true
		}
	}
	return false
}

func wrapErr(op Op, path string, err error) error {
	if err == ErrHalted {
		return fmt.Errorf("%s %s: %w", op, path, err)
	}
	return fmt.Errorf("%s %s: injected: %w", op, path, err)
}

// Create implements FS.
func (f *Fault) Create(name string) (File, error) {
	if _, err := f.check(OpCreate, name); err != nil {
		return nil, wrapErr(OpCreate, name, err)
	}
	inner, err := f.inner.Create(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{fs: f, inner: inner}, nil
}

func (f *Fault) open(name string, open func(string) (File, error)) (File, error) {
	if _, err := f.check(OpOpen, name); err != nil {
		return nil, wrapErr(OpOpen, name, err)
	}
	inner, err := open(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{fs: f, inner: inner}, nil
}

// Open implements FS.
func (f *Fault) Open(name string) (File, error) { return f.open(name, f.inner.Open) }

// OpenReadOnly implements FS.
func (f *Fault) OpenReadOnly(name string) (File, error) {
	return f.open(name, f.inner.OpenReadOnly)
}

// Remove implements FS.
func (f *Fault) Remove(name string) error {
	if _, err := f.check(OpRemove, name); err != nil {
		return wrapErr(OpRemove, name, err)
	}
	return f.inner.Remove(name)
}

// RemoveAll implements FS.
func (f *Fault) RemoveAll(dir string) error {
	if _, err := f.check(OpRemove, dir); err != nil {
		return wrapErr(OpRemove, dir, err)
	}
	return f.inner.RemoveAll(dir)
}

// Rename implements FS.
func (f *Fault) Rename(oldname, newname string) error {
	if _, err := f.check(OpRename, oldname, newname); err != nil {
		return wrapErr(OpRename, oldname, err)
	}
	return f.inner.Rename(oldname, newname)
}

// MkdirAll implements FS.
func (f *Fault) MkdirAll(dir string) error {
	if _, err := f.check(OpMkdir, dir); err != nil {
		return wrapErr(OpMkdir, dir, err)
	}
	return f.inner.MkdirAll(dir)
}

// ReadDir implements FS.
func (f *Fault) ReadDir(dir string) ([]string, error) {
	if _, err := f.check(OpRead, dir); err != nil {
		return nil, wrapErr(OpRead, dir, err)
	}
	return f.inner.ReadDir(dir)
}

// SyncDir implements FS.
func (f *Fault) SyncDir(dir string) error {
	if _, err := f.check(OpSyncDir, dir); err != nil {
		return wrapErr(OpSyncDir, dir, err)
	}
	return f.inner.SyncDir(dir)
}

// Exists implements FS.
func (f *Fault) Exists(name string) (bool, error) {
	if _, err := f.check(OpRead, name); err != nil {
		return false, wrapErr(OpRead, name, err)
	}
	return f.inner.Exists(name)
}

type faultFile struct {
	fs    *Fault
	inner File
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if _, err := f.fs.check(OpRead, f.inner.Name()); err != nil {
		return 0, wrapErr(OpRead, f.inner.Name(), err)
	}
	return f.inner.ReadAt(p, off)
}

// short returns how many bytes of p a firing write rule lets through.
func short(r *faultRule, p []byte) int {
	if r == nil {
		return 0
	}
	switch {
	case r.Short < 0:
		return len(p) / 2
	case r.Short > len(p):
		return len(p)
	}
	return r.Short
}

func (f *faultFile) Write(p []byte) (int, error) {
	r, err := f.fs.check(OpWrite, f.inner.Name())
	if err != nil {
		n, _ := f.inner.Write(p[:short(r, p)])
		return n, wrapErr(OpWrite, f.inner.Name(), err)
	}
	return f.inner.Write(p)
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	r, err := f.fs.check(OpWrite, f.inner.Name())
	if err != nil {
		n, _ := f.inner.WriteAt(p[:short(r, p)], off)
		return n, wrapErr(OpWrite, f.inner.Name(), err)
	}
	return f.inner.WriteAt(p, off)
}

func (f *faultFile) Sync() error {
	if _, err := f.fs.check(OpSync, f.inner.Name()); err != nil {
		return wrapErr(OpSync, f.inner.Name(), err)
	}
	return f.inner.Sync()
}

func (f *faultFile) Truncate(size int64) error {
	if _, err := f.fs.check(OpTruncate, f.inner.Name()); err != nil {
		return wrapErr(OpTruncate, f.inner.Name(), err)
	}
	return f.inner.Truncate(size)
}

func (f *faultFile) Size() (int64, error) { return f.inner.Size() }
func (f *faultFile) Close() error         { return f.inner.Close() }
func (f *faultFile) Name() string         { return f.inner.Name() }
