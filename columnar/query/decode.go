package query

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Decoders for the Parquet encodings flowlens writes (see
// columnar.ParquetWriter): the RLE/bit-packed hybrid of definition
// levels and dictionary indices, DELTA_BINARY_PACKED integers and PLAIN
// values. They decode from a page's bytes into slices the caller owns,
// check every length against the input, and never allocate.

// errCorrupt is the reason when page data does not decode.
var errCorrupt = errors.New("corrupt page data")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errCorrupt}, args...)...)
}

// uvarint reads an unsigned LEB128 varint from b at *pos.
func uvarint(b []byte, pos *int) (uint64, error) {
	v, n := binary.Uvarint(b[*pos:])
	if n <= 0 {
		return 0, corrupt("bad varint at byte %d", *pos)
	}
	*pos += n
	return v, nil
}

// zigzag reads a zigzag-encoded signed varint.
func zigzag(b []byte, pos *int) (int64, error) {
	u, err := uvarint(b, pos)
	return int64(u>>1) ^ -int64(u&1), err
}

// unpack32 unpacks len(dst) values of width bits (at most 32), packed
// least significant bit first, from src.
func unpack32(dst []int32, src []byte, width uint) {
	if width == 0 {
		clear(dst)
		return
	}
	mask := uint64(1)<<width - 1
	off := uint(0)
	i := 0
	// Fast path: a whole 8-byte load covers the value (shift ≤ 7, width ≤ 32).
	for ; i < len(dst); i++ {
		b := off >> 3
		if int(b)+8 > len(src) {
			break
		}
		dst[i] = int32(binary.LittleEndian.Uint64(src[b:]) >> (off & 7) & mask)
		off += width
	}
	for ; i < len(dst); i++ {
		dst[i] = int32(readBits(src, off, width))
		off += width
	}
}

// unpack64 unpacks len(dst) values of width bits (at most 64).
func unpack64(dst []uint64, src []byte, width uint) {
	if width == 0 {
		clear(dst)
		return
	}
	if width > 56 {
		off := uint(0)
		for i := range dst {
			dst[i] = readBits(src, off, width)
			off += width
		}
		return
	}
	mask := uint64(1)<<width - 1
	off := uint(0)
	i := 0
	for ; i < len(dst); i++ {
		b := off >> 3
		if int(b)+8 > len(src) {
			break
		}
		dst[i] = binary.LittleEndian.Uint64(src[b:]) >> (off & 7) & mask
		off += width
	}
	for ; i < len(dst); i++ {
		dst[i] = readBits(src, off, width)
		off += width
	}
}

// readBits reads width bits at bit offset off, one byte at a time; bits
// past the end of src read as zero.
func readBits(src []byte, off, width uint) uint64 {
	var v uint64
	got := uint(0)
	for got < width {
		b := (off + got) >> 3
		sh := (off + got) & 7
		var c uint64
		if int(b) < len(src) {
			c = uint64(src[b]) >> sh
		}
		take := min(8-sh, width-got)
		v |= (c & (1<<take - 1)) << got
		got += take
	}
	return v
}

// decodeHybrid decodes len(dst) values of the RLE/bit-packed hybrid
// encoding with the given bit width from b, and returns the bytes used.
// Runs that end before value skip are passed over, not written.
func decodeHybrid(b []byte, width uint, dst []int32, skip int) (int, error) {
	if width > 32 {
		return 0, corrupt("bit width %d", width)
	}
	pos, n := 0, 0
	vbytes := int(width+7) / 8
	for n < len(dst) {
		if pos >= len(b) {
			return pos, corrupt("hybrid run ends after %d of %d values", n, len(dst))
		}
		h, err := uvarint(b, &pos)
		if err != nil {
			return pos, err
		}
		if h&1 == 1 { // bit-packed groups of 8 values
			groups := h >> 1
			if groups == 0 || groups > uint64(len(b)) {
				return pos, corrupt("bit-packed run of %d groups", groups)
			}
			nb := int(groups) * int(width)
			if pos+nb > len(b) {
				return pos, corrupt("bit-packed run past the end of the page")
			}
			cnt := min(int(groups)*8, len(dst)-n)
			if n+cnt > skip {
				unpack32(dst[n:n+cnt], b[pos:], width) // loads may run past the run: bits beyond are masked
			}
			n += cnt
			pos += nb
			continue
		}
		cnt := h >> 1
		if pos+vbytes > len(b) {
			return pos, corrupt("RLE run past the end of the page")
		}
		var v uint32
		for i := 0; i < vbytes; i++ {
			v |= uint32(b[pos+i]) << (8 * i)
		}
		pos += vbytes
		if cnt > uint64(len(dst)-n) {
			cnt = uint64(len(dst) - n)
		}
		if n+int(cnt) > skip {
			fill(dst[max(n, skip):n+int(cnt)], int32(v))
		}
		n += int(cnt)
	}
	return pos, nil
}

// fill sets every element of s to v. Long runs (RLE runs of a
// low-cardinality column span whole pages) are filled by doubling copies,
// which move many elements per instruction.
func fill[T any](s []T, v T) {
	if len(s) < 64 {
		for i := range s {
			s[i] = v
		}
		return
	}
	s[0] = v
	for n := 1; n < len(s); n *= 2 {
		copy(s[n:], s[:n])
	}
}

// deltaDecoder decodes DELTA_BINARY_PACKED values. Its scratch space is
// reused from one page to the next.
type deltaDecoder struct {
	deltas []uint64
	b      []byte // the page
	pos    int
	total  uint64 // values in the page
	first  int64  // the first value
	per    int    // values per miniblock
	blocks int    // miniblocks per block
	widths []byte // bit widths of the current block's miniblocks not yet read
	min    uint64 // the current block's minimum delta
}

// open reads the header of page b.
func (d *deltaDecoder) open(b []byte) error {
	d.b, d.pos, d.widths = b, 0, nil
	blockSize, err := uvarint(b, &d.pos)
	if err != nil {
		return err
	}
	miniBlocks, err := uvarint(b, &d.pos)
	if err != nil {
		return err
	}
	if d.total, err = uvarint(b, &d.pos); err != nil {
		return err
	}
	if d.first, err = zigzag(b, &d.pos); err != nil {
		return err
	}
	if blockSize == 0 || blockSize%128 != 0 || miniBlocks == 0 || blockSize%miniBlocks != 0 || (blockSize/miniBlocks)%32 != 0 || blockSize > 1<<20 {
		return corrupt("delta block of %d values in %d miniblocks", blockSize, miniBlocks)
	}
	d.per, d.blocks = int(blockSize/miniBlocks), int(miniBlocks)
	if cap(d.deltas) < d.per {
		d.deltas = make([]uint64, d.per)
	}
	return nil
}

// next unpacks the next miniblock: its deltas, less the block's minimum
// delta, which it returns too.
func (d *deltaDecoder) next() (deltas []uint64, minDelta uint64, err error) {
	b := d.b
	if len(d.widths) == 0 {
		md, err := zigzag(b, &d.pos)
		if err != nil {
			return nil, 0, err
		}
		if d.pos+d.blocks > len(b) {
			return nil, 0, corrupt("delta block header past the end of the page")
		}
		d.min, d.widths = uint64(md), b[d.pos:d.pos+d.blocks]
		d.pos += d.blocks
	}
	w := d.widths[0]
	d.widths = d.widths[1:]
	if w > 64 {
		return nil, 0, corrupt("delta bit width %d", w)
	}
	nb := d.per * int(w) / 8
	if d.pos+nb > len(b) {
		return nil, 0, corrupt("delta miniblock past the end of the page")
	}
	deltas = d.deltas[:d.per]
	unpack64(deltas, b[d.pos:], uint(w)) // loads may run past the miniblock: bits beyond are masked
	d.pos += nb
	return deltas, d.min, nil
}

// decodeDelta decodes len(dst) DELTA_BINARY_PACKED values from b. Sums
// wrap in 64 bits and are truncated to T, which is what the encoder's
// arithmetic gives for INT32 columns too.
func decodeDelta[T int32 | int64](d *deltaDecoder, b []byte, dst []T) error {
	if err := d.open(b); err != nil {
		return err
	}
	if d.total < uint64(len(dst)) {
		return corrupt("delta page holds %d values, want %d", d.total, len(dst))
	}
	if len(dst) == 0 {
		return nil
	}
	v := uint64(d.first)
	dst[0] = T(v)
	for n := 1; n < len(dst); {
		deltas, md, err := d.next()
		if err != nil {
			return err
		}
		out := dst[n : n+min(d.per, len(dst)-n)]
		for i := range out {
			v += md + deltas[i]
			out[i] = T(v)
		}
		n += len(out)
	}
	return nil
}

// plainInt32 decodes len(dst) PLAIN INT32 values.
func plainInt32(b []byte, dst []int32) error {
	if len(b) < 4*len(dst) {
		return corrupt("%d bytes for %d INT32 values", len(b), len(dst))
	}
	for i := range dst {
		dst[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}

// plainInt64 decodes len(dst) PLAIN INT64 values.
func plainInt64(b []byte, dst []int64) error {
	if len(b) < 8*len(dst) {
		return corrupt("%d bytes for %d INT64 values", len(b), len(dst))
	}
	for i := range dst {
		dst[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return nil
}

// plainByteArrays calls fn with each of n PLAIN BYTE_ARRAY values of b.
// The slices point into b.
func plainByteArrays(b []byte, n int, fn func(i int, v []byte)) error {
	pos := 0
	for i := 0; i < n; i++ {
		if pos+4 > len(b) {
			return corrupt("byte array %d of %d past the end of the page", i, n)
		}
		l := int(binary.LittleEndian.Uint32(b[pos:]))
		pos += 4
		if l < 0 || l > len(b)-pos {
			return corrupt("byte array %d of length %d past the end of the page", i, l)
		}
		fn(i, b[pos:pos+l:pos+l])
		pos += l
	}
	return nil
}

// plainOffsets sets at[i] to the offset in b of the i-th of len(at) PLAIN
// byte arrays (of its 4-byte length) and returns the offset after the
// last.
func plainOffsets(b []byte, at []uint32) (int, error) {
	pos := 0
	for i := range at {
		if pos+4 > len(b) {
			return 0, corrupt("byte array %d of %d past the end of the page", i, len(at))
		}
		at[i] = uint32(pos)
		l := int(binary.LittleEndian.Uint32(b[pos:]))
		pos += 4
		if l < 0 || l > len(b)-pos {
			return 0, corrupt("byte array %d of length %d past the end of the page", i, l)
		}
		pos += l
	}
	return pos, nil
}

// byteBits[b] are the eight bits of b, least significant first.
var byteBits = func() (t [256][8]bool) {
	for b := range t {
		for i := range 8 {
			t[b][i] = b>>i&1 == 1
		}
	}
	return t
}()

// decodeLevels decodes the definition levels of a page of len(valid) rows
// (RLE/bit-packed hybrid, bit width 1) into valid, but for the first skip
// rows, which it counts without writing. It returns the number of values
// present, and how many of them are in the first skip rows.
func decodeLevels(b []byte, valid []bool, skip int) (k, before int, err error) {
	pos, n := 0, 0
	for n < len(valid) {
		if pos >= len(b) {
			return 0, 0, corrupt("definition levels end after %d of %d rows", n, len(valid))
		}
		h, err := uvarint(b, &pos)
		if err != nil {
			return 0, 0, err
		}
		if h&1 == 1 { // bit-packed: a byte holds 8 levels
			groups := h >> 1
			if groups == 0 || groups > uint64(len(b)-pos) {
				return 0, 0, corrupt("bit-packed run of %d groups past the end of the page", groups)
			}
			for _, c := range b[pos : pos+int(groups)] {
				m := min(8, len(valid)-n) // the last levels; the rest of the byte is padding
				if m <= 0 {
					break
				}
				c &= byte(1<<m - 1)
				if n < skip {
					below := min(skip-n, m)
					before += bits.OnesCount8(c & byte(1<<below-1))
				}
				if n+m > skip {
					copy(valid[n:n+m], byteBits[c][:m])
				}
				n += m
				k += bits.OnesCount8(c)
			}
			pos += int(groups)
			continue
		}
		cnt := int(min(h>>1, uint64(len(valid)-n)))
		if pos >= len(b) {
			return 0, 0, corrupt("RLE run past the end of the page")
		}
		v := b[pos]
		pos++
		if v > 1 {
			return 0, 0, corrupt("definition level %d in a column of level 1", v)
		}
		if n+cnt > skip {
			fill(valid[max(n, skip):n+cnt], v == 1)
		}
		if v == 1 {
			k += cnt
			before += max(0, min(n+cnt, skip)-n)
		}
		n += cnt
	}
	return k, before, nil
}
