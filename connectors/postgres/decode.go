package postgres

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
)

// pgoutput (protocol version 1) message types.
const (
	msgBegin    = 'B'
	msgCommit   = 'C'
	msgOrigin   = 'O'
	msgRelation = 'R'
	msgType     = 'Y'
	msgInsert   = 'I'
	msgUpdate   = 'U'
	msgDelete   = 'D'
	msgTruncate = 'T'
	msgMessage  = 'M'
)

// Tuple column kinds.
const (
	tupleNull      = 'n'
	tupleUnchanged = 'u'
	tupleText      = 't'
	tupleBinary    = 'b'
)

// pgEpoch is 2000-01-01, the origin of Postgres timestamps.
var pgEpochMicros = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// reader decodes big-endian pgoutput fields. A short message sets err and
// makes every later read return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated pgoutput message", ErrProtocol)
	}
	r.b = nil
}

func (r *reader) u8() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) u64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) cstring() string {
	for i, c := range r.b {
		if c == 0 {
			s := string(r.b[:i])
			r.b = r.b[i+1:]
			return s
		}
	}
	r.fail()
	return ""
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func pgTime(micros int64) time.Time { return time.UnixMicro(micros + pgEpochMicros).UTC() }

// beginMsg is a pgoutput Begin.
type beginMsg struct {
	finalLSN   pglogrepl.LSN // LSN of the commit record
	commitTime time.Time
	xid        uint32
}

func decodeBegin(b []byte) (beginMsg, error) {
	r := reader{b: b}
	m := beginMsg{finalLSN: pglogrepl.LSN(r.u64()), commitTime: pgTime(int64(r.u64())), xid: r.u32()}
	return m, r.err
}

// commitMsg is a pgoutput Commit.
type commitMsg struct {
	commitLSN  pglogrepl.LSN
	endLSN     pglogrepl.LSN
	commitTime time.Time
}

func decodeCommit(b []byte) (commitMsg, error) {
	r := reader{b: b}
	r.u8() // flags
	m := commitMsg{commitLSN: pglogrepl.LSN(r.u64()), endLSN: pglogrepl.LSN(r.u64()), commitTime: pgTime(int64(r.u64()))}
	return m, r.err
}

// relationMsg is a pgoutput Relation.
type relationMsg struct {
	oid       uint32
	namespace string
	name      string
	replIdent byte
	cols      []relColumn
	keyFlags  []bool
}

func decodeRelation(b []byte) (relationMsg, error) {
	r := reader{b: b}
	m := relationMsg{oid: r.u32(), namespace: r.cstring(), name: r.cstring(), replIdent: r.u8()}
	n := int(r.u16())
	for i := 0; i < n && r.err == nil; i++ {
		flags := r.u8()
		c := relColumn{Name: r.cstring(), TypeOID: r.u32(), TypeMod: int32(r.u32())}
		m.cols = append(m.cols, c)
		m.keyFlags = append(m.keyFlags, flags&1 != 0)
	}
	if m.namespace == "" {
		m.namespace = "pg_catalog" // pgoutput sends "" for pg_catalog
	}
	return m, r.err
}

// tuple is a decoded TupleData: per column its kind and, for text and
// binary values, the bytes (aliasing the message).
type tuple struct {
	kinds []byte
	data  [][]byte
}

func (r *reader) tuple(t *tuple) {
	n := int(r.u16())
	t.kinds = t.kinds[:0]
	t.data = t.data[:0]
	for i := 0; i < n && r.err == nil; i++ {
		k := r.u8()
		var d []byte
		switch k {
		case tupleText, tupleBinary:
			d = r.bytes(int(r.u32()))
		case tupleNull, tupleUnchanged:
		default:
			r.err = fmt.Errorf("%w: unknown tuple column kind %q", ErrProtocol, k)
		}
		t.kinds = append(t.kinds, k)
		t.data = append(t.data, d)
	}
}

// changeMsg is a pgoutput Insert, Update or Delete. old is set for
// updates and deletes that carry the old key ('K') or old row ('O').
type changeMsg struct {
	kind    byte
	relOID  uint32
	oldKind byte // 0, 'K' or 'O'
	old     tuple
	new     tuple
}

func decodeChange(b []byte, m *changeMsg) error {
	r := reader{b: b}
	m.kind = b[0]
	r.b = b[1:]
	m.relOID = r.u32()
	m.oldKind = 0
	switch m.kind {
	case msgInsert:
		if r.u8() != 'N' {
			return fmt.Errorf("%w: insert without a new tuple", ErrProtocol)
		}
		r.tuple(&m.new)
	case msgUpdate:
		k := r.u8()
		if k == 'K' || k == 'O' {
			m.oldKind = k
			r.tuple(&m.old)
			k = r.u8()
		}
		if k != 'N' {
			return fmt.Errorf("%w: update without a new tuple", ErrProtocol)
		}
		r.tuple(&m.new)
	case msgDelete:
		k := r.u8()
		if k != 'K' && k != 'O' {
			return fmt.Errorf("%w: delete without an old tuple", ErrProtocol)
		}
		m.oldKind = k
		r.tuple(&m.old)
	}
	return r.err
}

// truncateMsg is a pgoutput Truncate.
type truncateMsg struct {
	options byte // 1 CASCADE, 2 RESTART IDENTITY
	rels    []uint32
}

func decodeTruncate(b []byte) (truncateMsg, error) {
	r := reader{b: b}
	n := int(r.u32())
	m := truncateMsg{options: r.u8()}
	for i := 0; i < n && r.err == nil; i++ {
		m.rels = append(m.rels, r.u32())
	}
	return m, r.err
}

// typeMsg is a pgoutput Type (sent before the first use of a non-built-in
// type).
type typeMsg struct {
	oid       uint32
	namespace string
	name      string
}

func decodeType(b []byte) (typeMsg, error) {
	r := reader{b: b}
	m := typeMsg{oid: r.u32(), namespace: r.cstring(), name: r.cstring()}
	return m, r.err
}

// rowOf converts a tuple into Connect values for ts's columns: nil for
// NULL, unchangedToast for unchanged TOASTed values.
func (ts *tableSchema) rowOf(t *tuple) ([]any, error) {
	if len(t.kinds) != len(ts.cols) {
		return nil, fmt.Errorf("%w: %s: tuple has %d columns, relation %d", ErrProtocol, ts.id, len(t.kinds), len(ts.cols))
	}
	row := make([]any, len(ts.cols))
	for i, k := range t.kinds {
		switch k {
		case tupleText:
			if ts.parse[i] == nil {
				continue
			}
			v, err := ts.parseCell(i, t.data[i])
			if err != nil {
				return nil, err
			}
			row[i] = v
		case tupleUnchanged:
			row[i] = unchangedToast
		case tupleBinary:
			return nil, fmt.Errorf("%w: %s: binary tuple data (binary mode is not requested)", ErrProtocol, ts.id)
		}
	}
	return row, nil
}
