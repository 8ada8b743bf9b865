package partlog

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// File names in a partition directory. Building and parsing live here and
// nowhere else.
const (
	logExt       = ".log"
	indexExt     = ".index"
	timeIndexExt = ".timeindex"
	snapshotExt  = ".snapshot"
	// cleanedExt follows a segment name while compaction writes it.
	cleanedExt = ".cleaned"
	// swapExt ends a compacted segment that is committed but not yet in
	// place: "<first>-<end>.log.swap" replaces the segments whose base
	// offsets are in [first, end).
	swapExt = ".swap"
	// tmpExt follows a small file's name while it is written, before its
	// atomic rename.
	tmpExt = ".tmp"

	stateFile         = "log.state"
	cleanShutdownFile = "clean-shutdown"
)

const offsetDigits = 20

// fileName is "<base>" zero-padded to 20 digits, then ext.
func fileName(base int64, ext string) string {
	return fmt.Sprintf("%0*d%s", offsetDigits, base, ext)
}

// swapName is the name of a compacted segment replacing [first, end).
func swapName(first, end int64) string {
	return fmt.Sprintf("%0*d-%0*d%s%s", offsetDigits, first, offsetDigits, end, logExt, swapExt)
}

func (l *Log) path(name string) string { return filepath.Join(l.dir, name) }

// parsedName is what a file name in a partition directory says.
type parsedName struct {
	base int64
	end  int64  // swap files only
	ext  string // everything after the offset(s): ".log", ".log.swap", ...
}

// parseName parses "<20 digits>[-<20 digits>]<ext>"; ok is false for any
// other name.
func parseName(name string) (p parsedName, ok bool) {
	num := func(s string) (int64, bool) {
		if len(s) < offsetDigits {
			return 0, false
		}
		v, err := strconv.ParseInt(s[:offsetDigits], 10, 64)
		return v, err == nil && v >= 0
	}
	var good bool
	if p.base, good = num(name); !good {
		return p, false
	}
	rest := name[offsetDigits:]
	p.end = -1
	if strings.HasPrefix(rest, "-") {
		if p.end, good = num(rest[1:]); !good {
			return p, false
		}
		rest = rest[1+offsetDigits:]
	}
	p.ext = rest
	return p, strings.HasPrefix(rest, ".")
}
