package partlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/sluicedata/sluice/broker/batch"
)

// producerBatches is how many recent batches per producer are remembered to
// answer retried sends (Kafka's max.in.flight.requests.per.connection
// limit for idempotence).
const producerBatches = 5

// seqBatch is what is remembered of one idempotent batch.
type seqBatch struct {
	firstSeq, lastSeq int32
	base, last        int64
}

// producer is the idempotence state of one producer ID.
type producer struct {
	epoch int16
	n     uint8 // valid entries in batches, oldest first
	// batches is a ring of the last batches: the newest is at
	// (head+n-1)%producerBatches.
	head    uint8
	batches [producerBatches]seqBatch
}

func (p *producer) newest() *seqBatch {
	return &p.batches[(int(p.head)+int(p.n)-1)%producerBatches]
}

func (p *producer) push(sb seqBatch) {
	if p.n < producerBatches {
		p.n++
	} else {
		p.head = (p.head + 1) % producerBatches
	}
	*p.newest() = sb
}

// producers is the idempotence state of a partition: pure bookkeeping, no
// I/O. REQUIRES: Log.mu held.
type producers map[int64]*producer

// lastSeq is the sequence of a batch's last record; sequences wrap at
// MaxInt32 to 0.
func lastSeq(first, lastOffsetDelta int32) int32 {
	if first > math.MaxInt32-lastOffsetDelta {
		return lastOffsetDelta - (math.MaxInt32 - first) - 1
	}
	return first + lastOffsetDelta
}

// check applies Kafka's idempotence rules to a batch about to be appended.
// For a duplicate it returns ErrDuplicateSequence and the offset the batch
// got the first time.
func (ps producers) check(b batch.Batch) (dupBase int64, err error) {
	pid := b.ProducerID()
	if pid < 0 {
		return 0, nil
	}
	p, ok := ps[pid]
	if !ok {
		return 0, nil // unknown producer (new, or its state expired): any sequence
	}
	epoch, first := b.ProducerEpoch(), b.BaseSequence()
	switch {
	case epoch < p.epoch:
		return 0, fmt.Errorf("%w: producer %d epoch %d, current %d", ErrInvalidEpoch, pid, epoch, p.epoch)
	case epoch > p.epoch:
		return 0, nil // a new epoch starts over
	}
	last := lastSeq(first, b.LastOffsetDelta())
	for i := 0; i < int(p.n); i++ {
		sb := &p.batches[(int(p.head)+i)%producerBatches]
		if sb.firstSeq == first && sb.lastSeq == last {
			return sb.base, fmt.Errorf("%w: producer %d epoch %d sequence %d..%d at offset %d",
				ErrDuplicateSequence, pid, epoch, first, last, sb.base)
		}
	}
	if p.n > 0 {
		if want := p.newest().lastSeq; !(first == want+1 || want == math.MaxInt32 && first == 0) {
			return 0, fmt.Errorf("%w: producer %d epoch %d sent sequence %d, expected %d",
				ErrOutOfOrderSequence, pid, epoch, first, int64(want)+1)
		}
	}
	return 0, nil
}

// commit records a batch appended at its (already set) base offset.
func (ps producers) commit(b batch.Batch) {
	pid := b.ProducerID()
	if pid < 0 {
		return
	}
	p, ok := ps[pid]
	if !ok {
		p = &producer{epoch: b.ProducerEpoch()}
		ps[pid] = p
	} else if e := b.ProducerEpoch(); e != p.epoch {
		*p = producer{epoch: e}
	}
	first := b.BaseSequence()
	p.push(seqBatch{firstSeq: first, lastSeq: lastSeq(first, b.LastOffsetDelta()), base: b.BaseOffset(), last: b.LastOffset()})
}

// A producer snapshot file:
//
//	header (8) | count uint32 | count × producer | crc32c uint32
//	producer:  id int64 | epoch int16 | n uint8 | n × (firstSeq int32, lastSeq int32, base int64, last int64)
//
// The CRC covers everything before it, header included.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (ps producers) encode(dst []byte) []byte {
	start := len(dst)
	dst = appendHeader(dst, magicSnapshot)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(ps)))
	for id, p := range ps {
		dst = binary.BigEndian.AppendUint64(dst, uint64(id))
		dst = binary.BigEndian.AppendUint16(dst, uint16(p.epoch))
		dst = append(dst, p.n)
		for i := 0; i < int(p.n); i++ {
			sb := &p.batches[(int(p.head)+i)%producerBatches]
			dst = binary.BigEndian.AppendUint32(dst, uint32(sb.firstSeq))
			dst = binary.BigEndian.AppendUint32(dst, uint32(sb.lastSeq))
			dst = binary.BigEndian.AppendUint64(dst, uint64(sb.base))
			dst = binary.BigEndian.AppendUint64(dst, uint64(sb.last))
		}
	}
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func decodeProducers(b []byte) (producers, error) {
	if err := checkHeader(b, magicSnapshot); err != nil {
		return nil, err
	}
	if len(b) < headerSize+8 {
		return nil, corruptErr("producer snapshot of %d bytes", len(b))
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, corruptErr("producer snapshot crc mismatch")
	}
	r := body[headerSize:]
	count := binary.BigEndian.Uint32(r)
	r = r[4:]
	ps := make(producers, count)
	for i := uint32(0); i < count; i++ {
		if len(r) < 11 {
			return nil, corruptErr("producer snapshot: entry %d truncated", i)
		}
		id := int64(binary.BigEndian.Uint64(r))
		p := &producer{epoch: int16(binary.BigEndian.Uint16(r[8:]))}
		n := int(r[10])
		r = r[11:]
		if n > producerBatches || len(r) < n*24 {
			return nil, corruptErr("producer snapshot: entry %d has %d batches", i, n)
		}
		for j := 0; j < n; j++ {
			p.push(seqBatch{
				firstSeq: int32(binary.BigEndian.Uint32(r)),
				lastSeq:  int32(binary.BigEndian.Uint32(r[4:])),
				base:     int64(binary.BigEndian.Uint64(r[8:])),
				last:     int64(binary.BigEndian.Uint64(r[16:])),
			})
			r = r[24:]
		}
		ps[id] = p
	}
	if len(r) != 0 {
		return nil, corruptErr("producer snapshot: %d trailing bytes", len(r))
	}
	return ps, nil
}
