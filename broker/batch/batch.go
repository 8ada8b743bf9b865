package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// HeaderSize is the size of a batch header, up to the first record.
const HeaderSize = 61

// LogOverhead is the size of the baseOffset and batchLength fields, which the
// batchLength does not count.
const LogOverhead = 12

// Attribute bits.
const (
	attrCodecMask     = 0x07
	AttrLogAppendTime = 0x08
	AttrTransactional = 0x10
	AttrControl       = 0x20
)

// Sentinel errors. Errors returned by this package wrap one of these.
var (
	// ErrShort means the buffer ends inside a batch: a torn tail on disk, or
	// a truncated request.
	ErrShort = errors.New("batch: truncated batch")
	// ErrCorrupt means the bytes are not a valid v2 batch: bad length, magic,
	// CRC or record count.
	ErrCorrupt = errors.New("batch: corrupt batch")
	// ErrUnsupportedCodec means the attributes name a codec this package does
	// not know.
	ErrUnsupportedCodec = errors.New("batch: unsupported compression codec")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Batch is one raw record batch: exactly the bytes of one batch, header
// included. Accessors read the header fields in place; they require
// len(b) >= HeaderSize.
type Batch []byte

func (b Batch) BaseOffset() int64      { return int64(binary.BigEndian.Uint64(b[0:])) }
func (b Batch) SetBaseOffset(o int64)  { binary.BigEndian.PutUint64(b[0:], uint64(o)) }
func (b Batch) BatchLength() int32     { return int32(binary.BigEndian.Uint32(b[8:])) }
func (b Batch) LeaderEpoch() int32     { return int32(binary.BigEndian.Uint32(b[12:])) }
func (b Batch) SetLeaderEpoch(e int32) { binary.BigEndian.PutUint32(b[12:], uint32(e)) }
func (b Batch) Magic() int8            { return int8(b[16]) }
func (b Batch) CRC() uint32            { return binary.BigEndian.Uint32(b[17:]) }
func (b Batch) Attributes() int16      { return int16(binary.BigEndian.Uint16(b[21:])) }
func (b Batch) Codec() Codec           { return Codec(b.Attributes() & attrCodecMask) }
func (b Batch) IsTransactional() bool  { return b.Attributes()&AttrTransactional != 0 }
func (b Batch) IsControl() bool        { return b.Attributes()&AttrControl != 0 }
func (b Batch) LastOffsetDelta() int32 { return int32(binary.BigEndian.Uint32(b[23:])) }
func (b Batch) LastOffset() int64      { return b.BaseOffset() + int64(b.LastOffsetDelta()) }
func (b Batch) FirstTimestamp() int64  { return int64(binary.BigEndian.Uint64(b[27:])) }
func (b Batch) MaxTimestamp() int64    { return int64(binary.BigEndian.Uint64(b[35:])) }
func (b Batch) ProducerID() int64      { return int64(binary.BigEndian.Uint64(b[43:])) }
func (b Batch) ProducerEpoch() int16   { return int16(binary.BigEndian.Uint16(b[51:])) }
func (b Batch) BaseSequence() int32    { return int32(binary.BigEndian.Uint32(b[53:])) }
func (b Batch) NumRecords() int32      { return int32(binary.BigEndian.Uint32(b[57:])) }
func (b Batch) Size() int              { return len(b) }

// ComputeCRC returns the CRC-32C the batch should carry.
func (b Batch) ComputeCRC() uint32 { return crc32.Checksum(b[21:], castagnoli) }

// SetCRC recomputes and stores the CRC, after a change to a field it covers.
func (b Batch) SetCRC() { binary.BigEndian.PutUint32(b[17:], b.ComputeCRC()) }

// Validate checks the framing, magic, CRC, codec and offset deltas of b. It
// does not decompress the records.
func (b Batch) Validate() error {
	if len(b) < HeaderSize {
		return fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(b))
	}
	if int(b.BatchLength())+LogOverhead != len(b) {
		return fmt.Errorf("%w: batchLength %d does not match %d bytes", ErrCorrupt, b.BatchLength(), len(b))
	}
	if b.Magic() != 2 {
		return fmt.Errorf("%w: magic %d, only record batch v2 is supported", ErrCorrupt, b.Magic())
	}
	if got, want := b.CRC(), b.ComputeCRC(); got != want {
		return fmt.Errorf("%w: crc %08x, computed %08x", ErrCorrupt, got, want)
	}
	if c := b.Codec(); c > CodecZstd {
		return fmt.Errorf("%w: codec %d", ErrUnsupportedCodec, c)
	}
	if n := b.NumRecords(); n <= 0 || b.LastOffsetDelta() != n-1 {
		// Compaction leaves batches whose lastOffsetDelta exceeds the count;
		// producers never do. Validate is for producer batches.
		return fmt.Errorf("%w: %d records but lastOffsetDelta %d", ErrCorrupt, n, b.LastOffsetDelta())
	}
	return nil
}

// Next splits the first batch off buf. It returns ErrShort when buf ends
// inside the batch (or its 12-byte prefix) and ErrCorrupt when the length is
// impossible. It checks neither magic nor CRC: see [Batch.Validate] and
// [Batch.CheckCRC].
func Next(buf []byte) (b Batch, rest []byte, err error) {
	if len(buf) < LogOverhead {
		return nil, buf, ErrShort
	}
	n := int(int32(binary.BigEndian.Uint32(buf[8:])))
	if n < HeaderSize-LogOverhead {
		return nil, buf, fmt.Errorf("%w: batchLength %d", ErrCorrupt, n)
	}
	total := n + LogOverhead
	if len(buf) < total {
		return nil, buf, ErrShort
	}
	return Batch(buf[:total:total]), buf[total:], nil
}

// CheckCRC reports whether the stored CRC matches the bytes and the magic is
// 2: the check recovery runs on every batch of a segment's tail.
func (b Batch) CheckCRC() bool {
	return len(b) >= HeaderSize && b.Magic() == 2 && b.CRC() == b.ComputeCRC()
}
