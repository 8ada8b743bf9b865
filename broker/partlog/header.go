package partlog

import "encoding/binary"

// Every file of a partition starts with an 8-byte header: a magic number
// naming the kind of file, then the format version. See doc.go.
const (
	headerSize = 8
	// formatVersion is the version every file is written with, and the
	// only one read.
	formatVersion = 1
)

// Magic numbers, ASCII for whoever looks at a hex dump.
const (
	magicLog       = 0x534c4f47 // "SLOG"
	magicIndex     = 0x53494458 // "SIDX"
	magicTimeIndex = 0x53544958 // "STIX"
	magicSnapshot  = 0x53504944 // "SPID"
	magicState     = 0x53535441 // "SSTA"
	magicClean     = 0x53434c4e // "SCLN"
)

// appendHeader appends a file header.
func appendHeader(dst []byte, magic uint32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, magic)
	dst = binary.BigEndian.AppendUint16(dst, formatVersion)
	return binary.BigEndian.AppendUint16(dst, 0)
}

// checkHeader checks b starts with the header of a file of kind magic.
func checkHeader(b []byte, magic uint32) error {
	if len(b) < headerSize {
		return corruptErr("header of %d bytes", len(b))
	}
	if m := binary.BigEndian.Uint32(b); m != magic {
		return corruptErr("magic %08x, want %08x", m, magic)
	}
	if v := binary.BigEndian.Uint16(b[4:]); v != formatVersion {
		return corruptErr("format version %d, this build reads %d", v, formatVersion)
	}
	return nil
}

// logHeader is the header every .log file starts with; batch positions
// count it.
var logHeader = appendHeader(nil, magicLog)
