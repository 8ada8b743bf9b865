package batch

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestBuildValidateRecordsEveryCodec(t *testing.T) {
	for _, c := range []Codec{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd} {
		t.Run(c.String(), func(t *testing.T) {
			recs := []Record{
				{OffsetDelta: 0, Key: []byte("k0"), Value: bytes.Repeat([]byte("v"), 300)},
				{OffsetDelta: 1, TimestampDelta: 5, Key: nil, Value: nil, Headers: []Header{{Key: "h", Value: []byte("x")}, {Key: "n"}}},
			}
			b, err := Build(recs, Options{BaseOffset: 42, Codec: c, FirstTimestamp: 1000, MaxTimestamp: 1005, LastOffsetDelta: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Validate(); err != nil {
				t.Fatal(err)
			}
			if b.BaseOffset() != 42 || b.LastOffset() != 43 || b.Codec() != c || b.NumRecords() != 2 || b.MaxTimestamp() != 1005 {
				t.Fatalf("header: base %d last %d codec %v n %d", b.BaseOffset(), b.LastOffset(), b.Codec(), b.NumRecords())
			}
			got, err := b.Records()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || !bytes.Equal(got[0].Value, recs[0].Value) || string(got[0].Key) != "k0" ||
				got[1].Key != nil || got[1].Value != nil || got[1].TimestampDelta != 5 ||
				len(got[1].Headers) != 2 || string(got[1].Headers[0].Value) != "x" || got[1].Headers[1].Value != nil {
				t.Fatalf("records differ: %+v", got)
			}
			// kmsg, the codec every franz-go client uses, reads our header the same way.
			var kb kmsg.RecordBatch
			if err := kb.ReadFrom(b); err != nil {
				t.Fatal(err)
			}
			if kb.FirstOffset != 42 || kb.NumRecords != 2 || int32(kb.CRC) != int32(b.CRC()) {
				t.Fatalf("kmsg reads %+v", kb)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	good := Simple(1, [2][]byte{[]byte("k"), []byte("v")})
	flip := append(Batch(nil), good...)
	flip[len(flip)-1] ^= 0xff
	if err := flip.Validate(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("crc flip: %v", err)
	}
	if _, _, err := Next(good[:len(good)-1]); !errors.Is(err, ErrShort) {
		t.Fatalf("torn: %v", err)
	}
	b, rest, err := Next(append(append([]byte(nil), good...), good[:5]...))
	if err != nil || len(b) != len(good) || len(rest) != 5 {
		t.Fatalf("next: %v %d %d", err, len(b), len(rest))
	}
	// Overwriting baseOffset and the leader epoch keeps the CRC valid.
	c := append(Batch(nil), good...)
	c.SetBaseOffset(1 << 40)
	c.SetLeaderEpoch(7)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
