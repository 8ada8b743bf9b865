// Package batch reads, checks and builds Kafka record batches (magic v2), the
// unit the broker stores and serves.
//
// A batch on the wire and on disk:
//
//	off  size field
//	0    8    baseOffset            rewritten by the broker on append
//	8    4    batchLength           bytes after this field (total - 12)
//	12   4    partitionLeaderEpoch  rewritten by the broker on append
//	16   1    magic (= 2)
//	17   4    crc                   CRC-32C of bytes 21..end
//	21   2    attributes            codec (bits 0-2), timestamp type (3),
//	                                transactional (4), control (5)
//	23   4    lastOffsetDelta
//	27   8    baseTimestamp
//	35   8    maxTimestamp
//	43   8    producerId
//	51   2    producerEpoch
//	53   4    baseSequence
//	57   4    recordsCount
//	61   ...  records, compressed as a whole by the codec
//
// Because the CRC starts at byte 21, the broker stores a producer's batch
// verbatim and only overwrites baseOffset and partitionLeaderEpoch: no CRC is
// recomputed on the produce path. Batches are decompressed only to compact.
package batch
