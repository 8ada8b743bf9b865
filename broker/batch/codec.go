package batch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Codec is a batch compression codec, as numbered in the attributes.
type Codec int8

const (
	CodecNone   Codec = 0
	CodecGzip   Codec = 1
	CodecSnappy Codec = 2
	CodecLZ4    Codec = 3
	CodecZstd   Codec = 4
)

func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecGzip:
		return "gzip"
	case CodecSnappy:
		return "snappy"
	case CodecLZ4:
		return "lz4"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// xerialMagic starts snappy data framed the way Java clients write it.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

var (
	zstdDecOnce sync.Once
	zstdDec     *zstd.Decoder
	zstdEncOnce sync.Once
	zstdEnc     *zstd.Encoder
)

func decompress(c Codec, src []byte) ([]byte, error) {
	switch c {
	case CodecNone:
		return src, nil
	case CodecGzip:
		r, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	case CodecSnappy:
		if bytes.HasPrefix(src, xerialMagic) {
			return unxerial(src[16:])
		}
		return s2.Decode(nil, src)
	case CodecLZ4:
		return io.ReadAll(lz4.NewReader(bytes.NewReader(src)))
	case CodecZstd:
		zstdDecOnce.Do(func() { zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0)) })
		return zstdDec.DecodeAll(src, nil)
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupportedCodec, c)
}

// unxerial decodes xerial-framed snappy: a 16-byte header (already cut off),
// then blocks each prefixed by a big-endian int32 length.
func unxerial(src []byte) ([]byte, error) {
	var out []byte
	for len(src) > 0 {
		if len(src) < 4 {
			return nil, fmt.Errorf("%w: xerial snappy block header", ErrCorrupt)
		}
		n := int(binary.BigEndian.Uint32(src))
		src = src[4:]
		if n < 0 || n > len(src) {
			return nil, fmt.Errorf("%w: xerial snappy block of %d bytes", ErrCorrupt, n)
		}
		d, err := s2.Decode(nil, src[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, d...)
		src = src[n:]
	}
	return out, nil
}

func compress(c Codec, src []byte) ([]byte, error) {
	switch c {
	case CodecNone:
		return src, nil
	case CodecGzip:
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(src); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case CodecSnappy:
		return s2.EncodeSnappy(nil, src), nil
	case CodecLZ4:
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		if _, err := w.Write(src); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case CodecZstd:
		zstdEncOnce.Do(func() { zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1)) })
		return zstdEnc.EncodeAll(src, nil), nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupportedCodec, c)
}
