package query

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Picking: when a page holds only a few wanted rows, their levels and
// values are found by walking the encoded runs, and only those rows of
// the vector are written. Decoding the page in place would write every
// row up to the last wanted one, and over a scan's row groups those
// writes reach every part of a row-group-long vector: memory touched
// for the first time costs a page fault per 4 KiB, which on a needle
// query cost more than all the decoding.

// pickRows is the most wanted rows of a page that are picked rather than
// decoded.
const pickRows = 64

// wanted sets v.want to the rows of span in [from, to), relative to
// v.at, and reports whether they are at most pickRows.
func (v *vector) wanted(span rowSpan, from, to int) bool {
	v.want = v.want[:0]
	for r := span.first(from, to); r >= 0; r = span.first(r+1, to) {
		if len(v.want) == pickRows {
			return false
		}
		v.want = append(v.want, int32(r-v.at))
	}
	return true
}

// pickable reports whether pick decodes values of encoding enc.
func (v *vector) pickable(enc encoding) bool {
	switch enc {
	case encRLEDict, encPlainDict:
		return v.kind == kindDict
	case encPlain, encDeltaBinaryPacked:
		return v.kind != kindDict
	}
	return false
}

// pick decodes the rows v.want of a page of n rows (defs its definition
// levels, nil when the column has no nulls; b its values) into the
// vector at v.at.
func (v *vector) pick(enc encoding, defs, b []byte, n int) error {
	k := len(v.want)
	if k == 0 {
		return nil
	}
	v.pickValid = grow(v.pickValid, k)
	v.pickRank = grow(v.pickRank, k)
	if defs != nil {
		if err := pickLevels(defs, n, v.want, v.pickValid, v.pickRank); err != nil {
			return err
		}
	} else {
		fill(v.pickValid, true)
		copy(v.pickRank, v.want)
	}
	// The ranks of present values, ascending; nulls take no value.
	ranks := v.pickIdx[:0]
	for j, ok := range v.pickValid {
		if ok {
			ranks = append(ranks, v.pickRank[j])
		}
	}
	v.pickIdx = ranks
	var err error
	switch v.kind {
	case kindDict:
		v.pickOut32 = grow(v.pickOut32, len(ranks))
		if len(b) < 1 {
			return corrupt("dictionary indices without a bit width")
		}
		if err = pickHybrid(b[1:], uint(b[0]), ranks, v.pickOut32); err != nil {
			return err
		}
		d := int32(v.dictLen())
		for _, x := range v.pickOut32 {
			if uint32(x) >= uint32(d) {
				return corrupt("dictionary index %d of %d values", x, d)
			}
		}
	case kindInt32:
		v.pickOut32 = grow(v.pickOut32, len(ranks))
		if enc == encPlain {
			err = pickPlain(b, ranks, v.pickOut32)
		} else {
			err = pickDelta(&v.delta, b, ranks, v.pickOut32)
		}
	case kindInt64:
		v.pickOut64 = grow(v.pickOut64, len(ranks))
		if enc == encPlain {
			err = pickPlain(b, ranks, v.pickOut64)
		} else {
			err = pickDelta(&v.delta, b, ranks, v.pickOut64)
		}
	}
	if err != nil {
		return err
	}
	if v.kind != kindDict && len(ranks) < k {
		v.makeValid()
	}
	x := 0 // next picked value
	for j, rel := range v.want {
		r := v.at + int(rel)
		ok := v.pickValid[j]
		switch v.kind {
		case kindDict:
			v.idx[r] = -1
			if ok {
				v.idx[r] = v.pickOut32[x]
			}
		case kindInt32:
			v.i32[r] = 0
			if ok {
				v.i32[r] = v.pickOut32[x]
			}
		case kindInt64:
			v.i64[r] = 0
			if ok {
				v.i64[r] = v.pickOut64[x]
			}
		}
		if v.kind != kindDict && v.maxDef > 0 {
			if len(v.valid) > 0 {
				v.valid[r] = ok
			} else {
				v.setValid(r, r+1)
			}
		}
		if ok {
			x++
		}
	}
	return nil
}

// pickLevels reads definition levels (RLE/bit-packed hybrid of bit width
// 1) of a page of n rows, and sets, for each row of the ascending rows,
// whether it is present and how many present values come before it.
func pickLevels(b []byte, n int, rows []int32, valid []bool, rank []int32) error {
	pos, row, present, j := 0, 0, 0, 0
	for j < len(rows) {
		if row >= n || pos >= len(b) {
			return corrupt("definition levels end after %d of %d rows", row, n)
		}
		h, err := uvarint(b, &pos)
		if err != nil {
			return err
		}
		if h&1 == 1 { // bit-packed: a byte holds 8 levels
			groups := h >> 1
			if groups == 0 || groups > uint64(len(b)-pos) {
				return corrupt("bit-packed run of %d groups past the end of the page", groups)
			}
			for _, c := range b[pos : pos+int(groups)] {
				m := min(8, n-row)
				if m <= 0 {
					break
				}
				c &= byte(1<<m - 1)
				for ; j < len(rows) && int(rows[j]) < row+m; j++ {
					i := uint(int(rows[j]) - row)
					valid[j] = c>>i&1 == 1
					rank[j] = int32(present + bits.OnesCount8(c&byte(1<<i-1)))
				}
				present += bits.OnesCount8(c)
				row += m
			}
			pos += int(groups)
			continue
		}
		cnt := int(min(h>>1, uint64(n-row)))
		if pos >= len(b) {
			return corrupt("RLE run past the end of the page")
		}
		lv := b[pos]
		pos++
		if lv > 1 {
			return corrupt("definition level %d in a column of level 1", lv)
		}
		for ; j < len(rows) && int(rows[j]) < row+cnt; j++ {
			valid[j] = lv == 1
			rank[j] = int32(present)
			if lv == 1 {
				rank[j] += rows[j] - int32(row)
			}
		}
		if lv == 1 {
			present += cnt
		}
		row += cnt
	}
	return nil
}

// pickHybrid sets out[j] to value idx[j] (ascending) of the RLE/bit-packed
// hybrid encoding with the given bit width in b.
func pickHybrid(b []byte, width uint, idx []int32, out []int32) error {
	if width > 32 {
		return corrupt("bit width %d", width)
	}
	pos, n, j := 0, 0, 0
	vbytes := int(width+7) / 8
	for j < len(idx) {
		if pos >= len(b) {
			return corrupt("hybrid run ends after %d values, value %d wanted", n, idx[j])
		}
		h, err := uvarint(b, &pos)
		if err != nil {
			return err
		}
		if h&1 == 1 { // bit-packed groups of 8 values
			groups := h >> 1
			if groups == 0 || groups > uint64(len(b)) {
				return corrupt("bit-packed run of %d groups", groups)
			}
			nb := int(groups) * int(width)
			if pos+nb > len(b) {
				return corrupt("bit-packed run past the end of the page")
			}
			cnt := int(groups) * 8
			for ; j < len(idx) && int(idx[j]) < n+cnt; j++ {
				out[j] = int32(readBits(b[pos:pos+nb], uint(int(idx[j])-n)*width, width))
			}
			n += cnt
			pos += nb
			continue
		}
		if pos+vbytes > len(b) {
			return corrupt("RLE run past the end of the page")
		}
		var x uint32
		for i := 0; i < vbytes; i++ {
			x |= uint32(b[pos+i]) << (8 * i)
		}
		pos += vbytes
		cnt := h >> 1
		for ; j < len(idx) && uint64(idx[j]) < uint64(n)+cnt; j++ {
			out[j] = int32(x)
		}
		n += int(min(cnt, 1<<31))
	}
	return nil
}

// pickDelta sets out[j] to value idx[j] (ascending) of a
// DELTA_BINARY_PACKED page, decoding a miniblock at a time into the
// decoder's scratch.
func pickDelta[T int32 | int64](d *deltaDecoder, b []byte, idx []int32, out []T) error {
	if len(idx) == 0 {
		return nil
	}
	if err := d.open(b); err != nil {
		return err
	}
	if last := uint64(idx[len(idx)-1]); d.total <= last {
		return corrupt("delta page holds %d values, value %d wanted", d.total, last)
	}
	v := uint64(d.first)
	j := 0
	for ; j < len(idx) && idx[j] == 0; j++ {
		out[j] = T(v)
	}
	for n := 1; j < len(idx); n += d.per { // v is value n−1
		deltas, md, err := d.next()
		if err != nil {
			return err
		}
		if int(idx[j]) >= n+d.per { // nothing wanted here: sum it
			var s uint64
			for _, x := range deltas {
				s += x
			}
			v += s + md*uint64(d.per)
			continue
		}
		for i, x := range deltas {
			v += md + x
			for ; j < len(idx) && int(idx[j]) == n+i; j++ {
				out[j] = T(v)
			}
			if j == len(idx) {
				break
			}
		}
	}
	return nil
}

// pickPlain sets out[j] to PLAIN value idx[j] of a page of 4- or 8-byte
// little-endian integers.
func pickPlain[T int32 | int64](b []byte, idx []int32, out []T) error {
	size := int(unsafe.Sizeof(T(0)))
	for j, i := range idx {
		if int(i) >= len(b)/size {
			return corrupt("plain page of %d bytes, value %d wanted", len(b), i)
		}
		v := b[size*int(i):]
		if size == 4 {
			out[j] = T(int32(binary.LittleEndian.Uint32(v)))
		} else {
			out[j] = T(int64(binary.LittleEndian.Uint64(v)))
		}
	}
	return nil
}
