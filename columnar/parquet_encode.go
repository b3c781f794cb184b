package columnar

import (
	"encoding/binary"
	"math/bits"
)

// packBits appends vals packed at width bits each, least significant bit
// first, as Parquet's bit-packed runs and delta miniblocks store them.
// len(vals)*width must be a multiple of 8.
func packBits(dst []byte, vals []uint64, width uint) []byte {
	if width == 0 {
		return dst
	}
	var acc uint64
	var nb uint
	for _, v := range vals {
		acc |= v << nb
		if nb+width >= 64 {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			acc = v >> (64 - nb) // 0 when nb is 0: Go shifts by 64 give 0
			nb = nb + width - 64
		} else {
			nb += width
		}
	}
	for ; nb > 0; nb -= 8 {
		dst = append(dst, byte(acc))
		acc >>= 8
	}
	return dst
}

// runLength returns how many values from vals[i] on equal vals[i].
func runLength(vals []int32, i int) int {
	j := i + 1
	for j < len(vals) && vals[j] == vals[i] {
		j++
	}
	return j - i
}

// appendHybrid appends vals in Parquet's RLE/bit-packing hybrid encoding
// at the given bit width (at most 32), without a length prefix: runs of
// at least 8 equal values, and any run that ends the input, become RLE
// runs; the rest is bit-packed in groups of 8, the last group padded
// with zeros, which only the end of the encoded values may have.
func appendHybrid(dst []byte, vals []int32, width uint) []byte {
	dst, _ = encodeHybrid(dst, vals, width, true)
	return dst
}

// encodeHybrid is appendHybrid; unless last, a bit-packed tail of fewer
// than 8 values is left out, so that more values can follow: it returns
// how many values it encoded.
func encodeHybrid(dst []byte, vals []int32, width uint, last bool) ([]byte, int) {
	var group [8]uint64
	valueBytes := int(width+7) / 8
	i := 0
	for i < len(vals) {
		if n := runLength(vals, i); n >= 8 || (last && i+n == len(vals)) {
			dst = binary.AppendUvarint(dst, uint64(n)<<1)
			v := uint32(vals[i])
			for k := 0; k < valueBytes; k++ {
				dst = append(dst, byte(v>>(8*k)))
			}
			i += n
			continue
		}
		end := i
		for end < len(vals) {
			end += 8
			if end >= len(vals) {
				end = len(vals)
				break
			}
			if end+8 <= len(vals) && runLength(vals[:end+8], end) == 8 {
				break
			}
		}
		if !last && end == len(vals) {
			end -= (end - i) % 8
			if end == i {
				break
			}
		}
		groups := (end - i + 7) / 8
		dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
		for g := 0; g < groups; g++ {
			lit := vals[i+8*g : min(i+8*g+8, end)]
			for k := range group {
				group[k] = 0
				if k < len(lit) {
					group[k] = uint64(uint32(lit[k]))
				}
			}
			dst = packBits(dst, group[:], width)
		}
		i = end
	}
	return dst, i
}

// Parquet's DELTA_BINARY_PACKED layout as flowlens writes it: blocks of
// 128 values in 4 miniblocks of 32.
const (
	deltaBlock      = 128
	deltaMiniblocks = 4
	deltaMini       = deltaBlock / deltaMiniblocks
)

// deltaEncoder encodes integers as DELTA_BINARY_PACKED, a block at a
// time, with the arithmetic of T wrapping as Parquet's readers expect.
type deltaEncoder[T int32 | int64] struct {
	body    []byte
	first   T
	prev    T
	count   int
	pending []T // deltas of the block being filled
	packed  [deltaBlock]uint64
}

func (e *deltaEncoder[T]) reset() {
	e.body, e.count, e.pending, e.first = e.body[:0], 0, e.pending[:0], 0
}

func (e *deltaEncoder[T]) add(vals []T) {
	for _, v := range vals {
		if e.count == 0 {
			e.first = v
		} else {
			e.pending = append(e.pending, v-e.prev)
			if len(e.pending) == deltaBlock {
				e.flushBlock()
			}
		}
		e.prev = v
		e.count++
	}
}

// size is the encoded size so far, less the block being filled.
func (e *deltaEncoder[T]) size() int { return len(e.body) }

func (e *deltaEncoder[T]) flushBlock() {
	if len(e.pending) == 0 {
		return
	}
	minDelta := e.pending[0]
	for _, d := range e.pending[1:] {
		minDelta = min(minDelta, d)
	}
	e.body = binary.AppendVarint(e.body, int64(minDelta))
	var widths [deltaMiniblocks]uint
	for m := range deltaMiniblocks {
		lo := m * deltaMini
		if lo >= len(e.pending) {
			break
		}
		var or uint64
		for k := lo; k < lo+deltaMini; k++ {
			var u uint64
			if k < len(e.pending) {
				u = unsignedBits(e.pending[k] - minDelta)
			}
			e.packed[k] = u
			or |= u
		}
		widths[m] = uint(bits.Len64(or))
	}
	for _, w := range widths {
		e.body = append(e.body, byte(w))
	}
	for m := range deltaMiniblocks {
		lo := m * deltaMini
		if lo >= len(e.pending) {
			break
		}
		e.body = packBits(e.body, e.packed[lo:lo+deltaMini], widths[m])
	}
	e.pending = e.pending[:0]
}

// unsignedBits returns the bits of x as an unsigned integer of T's width.
func unsignedBits[T int32 | int64](x T) uint64 {
	if one := T(1); one<<31 < 0 { // T is int32
		return uint64(uint32(x))
	}
	return uint64(x)
}

// appendTo flushes the last block and appends the page's encoding:
// header, then blocks.
func (e *deltaEncoder[T]) appendTo(dst []byte) []byte {
	e.flushBlock()
	dst = binary.AppendUvarint(dst, deltaBlock)
	dst = binary.AppendUvarint(dst, deltaMiniblocks)
	dst = binary.AppendUvarint(dst, uint64(e.count))
	dst = binary.AppendVarint(dst, int64(e.first))
	return append(dst, e.body...)
}
