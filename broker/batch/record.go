package batch

import (
	"encoding/binary"
	"fmt"
)

// Record is one record of a batch, decoded. Key and Value are nil for null;
// a nil Value is a tombstone.
type Record struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte
	Value          []byte
	Headers        []Header
}

// Header is a record header; a nil Value is null.
type Header struct {
	Key   string
	Value []byte
}

// Records decompresses and decodes every record of b. The returned slices
// may alias b when the batch is not compressed.
func (b Batch) Records() ([]Record, error) {
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("%w: short header", ErrCorrupt)
	}
	data, err := decompress(b.Codec(), b[HeaderSize:])
	if err != nil {
		return nil, fmt.Errorf("%w: decompress %s: %v", ErrCorrupt, b.Codec(), err)
	}
	n := int(b.NumRecords())
	if n < 0 || n > len(data) {
		return nil, fmt.Errorf("%w: record count %d", ErrCorrupt, n)
	}
	recs := make([]Record, 0, n)
	for i := 0; i < n; i++ {
		var r Record
		var err error
		if r, data, err = readRecord(data); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint", ErrCorrupt)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int64) []byte {
	if r.err != nil || n < 0 {
		return nil
	}
	if n > int64(len(r.b)) {
		r.err = fmt.Errorf("%w: field of %d bytes past the end", ErrCorrupt, n)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func readRecord(src []byte) (Record, []byte, error) {
	r := reader{b: src}
	length := r.varint()
	if r.err != nil {
		return Record{}, nil, r.err
	}
	if length < 0 || length > int64(len(r.b)) {
		return Record{}, nil, fmt.Errorf("%w: record length %d", ErrCorrupt, length)
	}
	rest := r.b[length:]
	r.b = r.b[:length]
	if len(r.b) < 1 {
		return Record{}, nil, fmt.Errorf("%w: empty record", ErrCorrupt)
	}
	var rec Record
	rec.Attributes = int8(r.b[0])
	r.b = r.b[1:]
	rec.TimestampDelta = r.varint()
	rec.OffsetDelta = int32(r.varint())
	rec.Key = r.bytes(r.varint())
	rec.Value = r.bytes(r.varint())
	nh := r.varint()
	if nh < 0 || nh > int64(len(r.b)) {
		if r.err == nil {
			r.err = fmt.Errorf("%w: header count %d", ErrCorrupt, nh)
		}
	}
	for i := int64(0); i < nh && r.err == nil; i++ {
		k := r.bytes(r.varint())
		v := r.bytes(r.varint())
		rec.Headers = append(rec.Headers, Header{Key: string(k), Value: v})
	}
	if r.err != nil {
		return Record{}, nil, r.err
	}
	return rec, rest, nil
}

func appendVarBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

func appendRecord(dst []byte, r *Record) []byte {
	var body []byte
	body = append(body, byte(r.Attributes))
	body = binary.AppendVarint(body, r.TimestampDelta)
	body = binary.AppendVarint(body, int64(r.OffsetDelta))
	body = appendVarBytes(body, r.Key)
	body = appendVarBytes(body, r.Value)
	body = binary.AppendVarint(body, int64(len(r.Headers)))
	for _, h := range r.Headers {
		body = appendVarBytes(body, []byte(h.Key))
		body = appendVarBytes(body, h.Value)
	}
	dst = binary.AppendVarint(dst, int64(len(body)))
	return append(dst, body...)
}

// Options set the header fields of a built batch.
type Options struct {
	BaseOffset     int64
	LeaderEpoch    int32
	Codec          Codec
	Attributes     int16 // extra attribute bits (timestamp type, transactional, control)
	FirstTimestamp int64
	MaxTimestamp   int64
	// LastOffsetDelta is written as is when >= 0; otherwise the last
	// record's OffsetDelta is used. Compaction keeps the original value so
	// that a batch still covers the offsets it did.
	LastOffsetDelta int32
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
}

// Build encodes records into a new batch with a correct CRC. Records keep
// their OffsetDelta and TimestampDelta; set them relative to BaseOffset and
// FirstTimestamp. Use ProducerID -1, ProducerEpoch -1 and BaseSequence -1 for
// a batch from no idempotent producer, and LastOffsetDelta -1 to derive it.
func Build(records []Record, o Options) (Batch, error) {
	var body []byte
	for i := range records {
		body = appendRecord(body, &records[i])
	}
	payload, err := compress(o.Codec, body)
	if err != nil {
		return nil, err
	}
	lod := o.LastOffsetDelta
	if lod < 0 {
		lod = 0
		if len(records) > 0 {
			lod = records[len(records)-1].OffsetDelta
		}
	}
	b := make(Batch, HeaderSize, HeaderSize+len(payload))
	b = append(b, payload...)
	binary.BigEndian.PutUint64(b[0:], uint64(o.BaseOffset))
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-LogOverhead))
	binary.BigEndian.PutUint32(b[12:], uint32(o.LeaderEpoch))
	b[16] = 2
	binary.BigEndian.PutUint16(b[21:], uint16(o.Attributes&^attrCodecMask|int16(o.Codec)))
	binary.BigEndian.PutUint32(b[23:], uint32(lod))
	binary.BigEndian.PutUint64(b[27:], uint64(o.FirstTimestamp))
	binary.BigEndian.PutUint64(b[35:], uint64(o.MaxTimestamp))
	binary.BigEndian.PutUint64(b[43:], uint64(o.ProducerID))
	binary.BigEndian.PutUint16(b[51:], uint16(o.ProducerEpoch))
	binary.BigEndian.PutUint32(b[53:], uint32(o.BaseSequence))
	binary.BigEndian.PutUint32(b[57:], uint32(len(records)))
	b.SetCRC()
	return b, nil
}

// Simple builds an uncompressed batch of key/value records all stamped ts
// (Unix milliseconds), from no idempotent producer: what the broker writes
// for its own internal records.
func Simple(ts int64, kvs ...[2][]byte) Batch {
	recs := make([]Record, len(kvs))
	for i, kv := range kvs {
		recs[i] = Record{OffsetDelta: int32(i), Key: kv[0], Value: kv[1]}
	}
	b, _ := Build(recs, Options{FirstTimestamp: ts, MaxTimestamp: ts, LastOffsetDelta: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	return b
}
