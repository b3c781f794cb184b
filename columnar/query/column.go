package query

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/flowlens/flowlens/columnar"
)

// colID is a column of columnar.Schema, by position; TestQueryColumnIDs keeps
// the two in step.
type colID uint8

const (
	colTime colID = iota
	colEndTime
	colSource
	colResourceID
	colMAC
	colRule
	colSrcIP
	colDstIP
	colSrcPort
	colDstPort
	colProtocol
	colProto
	colDirection
	colDecision
	colState
	colPacketsOut
	colBytesOut
	colPacketsIn
	colBytesIn
	colACLID
	colFlowLogID
	colEncryption
	colTCPFlags
	colVLAN
	colCapturedLen
	numCols
)

func (c colID) String() string { return columnar.Schema.Field(int(c)).Name }

// colByName returns the column of a schema name.
func colByName(name string) (colID, bool) {
	for i, f := range columnar.Schema.Fields() {
		if f.Name == name {
			return colID(i), true
		}
	}
	return 0, false
}

// kind is how a column is held in memory.
type kind uint8

const (
	kindDict  kind = iota // strings: an index per row into a dictionary
	kindInt32             // int32 values
	kindInt64             // int64 values and timestamps
)

func kindOf(c colID) kind {
	switch c {
	case colTime, colEndTime, colPacketsOut, colBytesOut, colPacketsIn, colBytesIn:
		return kindInt64
	case colSrcPort, colDstPort, colProto, colTCPFlags, colVLAN, colCapturedLen:
		return kindInt32
	}
	return kindDict
}

// vector is one column of one row group, decoded. Nulls are -1 in idx for
// dictionary columns, and false in valid (with a zero value) for integer
// columns; valid is nil when the row group has no null in the column.
type vector struct {
	id    colID
	kind  kind
	n     int
	valid []bool
	i32   []int32
	i64   []int64
	idx   []int32
	// The dictionary: entry j is data[dictAt[j]+4 : dictAt[j+1]], data
	// holding the values as a PLAIN page does, each after its 4-byte
	// length. Offsets rather than slices: the table is a quarter the
	// size and holds no pointers, so it comes from the slab.
	dictAt []uint32
	data   []byte

	codeOf  []uint8 // enum columns: columnar code per dictionary entry
	hasCode bool

	mem    *slab // where its row-group-long buffers come from
	dense  bool  // its chunk is decoded whole: buffers are made resident
	at     int   // rows of the chunk read so far
	maxDef int
	// Rows given values while valid was empty, none of them null: when a
	// null comes and valid is made, they are marked valid, and no other
	// row (a row-group-long fill touched memory for nothing when only a
	// few rows are picked).
	clean  []rowRange
	levels []bool // scratch: definition levels of a page
	memo   map[string]int32
	delta  deltaDecoder

	// Scratch of pick (pick.go).
	want      []int32 // wanted rows of a page, relative to at
	pickValid []bool
	pickRank  []int32
	pickIdx   []int32
	pickOut32 []int32
	pickOut64 []int64
}

func newVector(c colID) *vector { return &vector{id: c, kind: kindOf(c)} }

// reset sizes the vector for n rows.
func (v *vector) reset(n int) {
	v.n = n
	v.valid = v.valid[:0]
	v.clean = v.clean[:0]
	v.dictAt = v.dictAt[:0]
	v.data = v.data[:0]
	v.hasCode = false
	switch v.kind {
	case kindDict:
		v.idx = growIn(v.mem, v.idx, n, v.dense)
		clear(v.memo)
	case kindInt32:
		v.i32 = growIn(v.mem, v.i32, n, v.dense)
	case kindInt64:
		v.i64 = growIn(v.mem, v.i64, n, v.dense)
	}
}

// grow returns s with length n, reusing its memory when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/8)
	}
	return s[:n]
}

// isNull reports whether row i is null.
func (v *vector) isNull(i int) bool {
	if v.kind == kindDict {
		return v.idx[i] < 0
	}
	return len(v.valid) > 0 && !v.valid[i]
}

// bytes returns row i of a dictionary column; nil for null.
func (v *vector) bytes(i int) []byte {
	if j := v.idx[i]; j >= 0 {
		return v.entry(j)
	}
	return nil
}

// rowSpan is the part of a row group that a selection needs: pages
// without a selected row are not decoded, and a page is decoded up to its
// last selected row only.
type rowSpan interface {
	// first and last return the first and last selected rows in
	// [from, to), or -1.
	first(from, to int) int
	last(from, to int) int
}

// start prepares the vector for a column chunk of rows rows, all of
// which are to be decoded when dense.
func (v *vector) start(descr *leaf, rows int, dense bool) error {
	v.dense = dense
	v.reset(rows)
	v.at = 0
	v.maxDef = descr.maxDef
	if descr.maxRep != 0 || v.maxDef > 1 {
		return fmt.Errorf("column %s: nested columns are not supported", v.id)
	}
	if want := storedType(v.kind); descr.typ != want {
		return fmt.Errorf("column %s: physical type %s, want %s", v.id, descr.typ, want)
	}
	return nil
}

// read decodes pages of the column chunk pr holds, from its first page
// after the ones already read. With dictOnly it stops after the
// dictionary page, and done is false; a chunk without one is read whole.
// Data pages whose rows span does not select are skipped, not even
// decompressed: their rows hold stale values, which may be indexes past
// this row group's dictionary. Only the rows of span may be looked at.
func (v *vector) read(pr *pageReader, span rowSpan, dictOnly bool) (done bool, err error) {
	for {
		p, ok, err := pr.next()
		if err != nil {
			return false, fmt.Errorf("column %s: %w", v.id, err)
		}
		if !ok {
			break
		}
		if p.typ == pageDict {
			data, err := pr.body(&p)
			if err != nil {
				return false, fmt.Errorf("column %s: %w", v.id, err)
			}
			if err := v.readDictionary(p, pr.take(data, v.data)); err != nil {
				return false, err
			}
			if dictOnly {
				return false, nil
			}
			continue
		}
		n := int(p.numValues)
		if p.typ == pageDataV2 {
			n = int(p.numRows)
		}
		if n < 0 || v.at+n > v.n {
			return false, corrupt("column %s: page of %d rows after %d of %d", v.id, n, v.at, v.n)
		}
		if p.typ == pageGap {
			if span == nil || span.last(v.at, v.at+n) >= 0 {
				return false, fmt.Errorf("BUG: column %s: rows %d to %d are wanted but were not read", v.id, v.at, v.at+n)
			}
			v.at += n
			continue
		}
		use := n  // rows of the page to decode: up to the last one selected
		skip := 0 // and of those, rows before the first selected one
		if span != nil {
			last := span.last(v.at, v.at+n)
			if last < 0 {
				v.at += n
				continue
			}
			use = last - v.at + 1
			skip = span.first(v.at, last+1) - v.at
		}
		b, err := pr.body(&p)
		if err != nil {
			return false, fmt.Errorf("column %s: %w", v.id, err)
		}
		var defs []byte
		if p.typ == pageDataV2 {
			dl, rl := int(p.defLen), int(p.repLen)
			defs, b = b[rl:rl+dl], b[rl+dl:]
		} else if v.maxDef > 0 {
			if p.defEncoding != encRLE {
				return false, fmt.Errorf("column %s: definition levels in encoding %s, want RLE", v.id, p.defEncoding)
			}
			if len(b) < 4 {
				return false, corrupt("column %s: page too short for its levels", v.id)
			}
			l := int(binary.LittleEndian.Uint32(b))
			if l < 0 || l > len(b)-4 {
				return false, corrupt("column %s: levels of %d bytes in a page of %d", v.id, l, len(b))
			}
			defs, b = b[4:4+l], b[4+l:]
		}
		if v.maxDef == 0 {
			defs = nil
		}
		if span != nil && v.maxDef <= 1 && v.pickable(p.encoding) && v.wanted(span, v.at+skip, v.at+use) {
			if err = v.pick(p.encoding, defs, b, use); err != nil {
				err = fmt.Errorf("column %s: %w", v.id, err)
			}
		} else {
			err = v.readValues(p.encoding, defs, v.maxDef, b, v.at, use, skip)
		}
		if err != nil {
			return false, err
		}
		v.at += n
	}
	if v.at != v.n {
		return false, corrupt("column %s: pages hold %d rows, the row group %d", v.id, v.at, v.n)
	}
	return true, nil
}

func storedType(k kind) physicalType {
	switch k {
	case kindInt32:
		return typeInt32
	case kindInt64:
		return typeInt64
	}
	return typeByteArray
}

// readDictionary makes a dictionary page's values, data, the vector's
// (data becomes v.data: see pageReader.take).
func (v *vector) readDictionary(p page, data []byte) error {
	if v.kind != kindDict {
		return fmt.Errorf("column %s: dictionary encoding of a numeric column is not supported", v.id)
	}
	if e := p.encoding; e != encPlain && e != encPlainDict {
		return fmt.Errorf("column %s: dictionary page in encoding %s", v.id, e)
	}
	n := int(p.numValues)
	if n < 0 {
		return corrupt("column %s: dictionary of %d values", v.id, n)
	}
	if uint64(len(data)) > math.MaxUint32 {
		return corrupt("column %s: dictionary of %d bytes", v.id, len(data))
	}
	v.data = data
	v.dictAt = growIn(v.mem, v.dictAt, n+1, true)
	end, err := plainOffsets(v.data, v.dictAt[:n])
	if err != nil {
		return fmt.Errorf("column %s: dictionary: %w", v.id, err)
	}
	v.dictAt[n] = uint32(end)
	v.data = v.data[:end] // values interned later follow
	return nil
}

// dictLen returns the number of dictionary entries.
func (v *vector) dictLen() int { return max(len(v.dictAt)-1, 0) }

// entry returns dictionary entry j.
func (v *vector) entry(j int32) []byte {
	from, to := v.dictAt[j]+4, v.dictAt[j+1]
	return v.data[from:to:to]
}

// readValues decodes the first n rows of one data page into rows
// [start, start+n): defs are the page's definition levels (nil for a
// required column) and b its values. The page may hold more rows. The
// first skip rows are not looked at: a dictionary column leaves their
// levels and indexes stale (numbers, whose encoding runs from the first
// value, are decoded whole).
func (v *vector) readValues(enc encoding, defs []byte, maxDef int, b []byte, start, n, skip int) error {
	k := n // values present
	if maxDef > 1 {
		return fmt.Errorf("column %s: nested columns are not supported", v.id)
	}
	if v.kind != kindDict {
		skip = 0 // numbers decode from the first value anyway
	}
	skipValues := skip
	if maxDef == 1 {
		v.levels = growIn(v.mem, v.levels, n, v.dense)
		var err error
		if k, skipValues, err = decodeLevels(defs, v.levels, skip); err != nil {
			return fmt.Errorf("column %s: definition levels: %w", v.id, err)
		}
	}
	var err error
	switch v.kind {
	case kindDict:
		err = v.readIndices(enc, b, v.idx[start:start+k], skipValues)
	case kindInt32:
		err = v.readInt32(enc, b, v.i32[start:start+k])
	case kindInt64:
		err = v.readInt64(enc, b, v.i64[start:start+k])
	}
	if err != nil {
		return fmt.Errorf("column %s: %w", v.id, err)
	}
	if k == n {
		if maxDef > 0 {
			v.setValid(start, start+n)
		}
		return nil
	}
	v.makeValid()
	copy(v.valid[start:start+n], v.levels)
	switch v.kind {
	case kindDict:
		spread(v.idx[start:start+n], v.levels, k, -1)
	case kindInt32:
		spread(v.i32[start:start+n], v.levels, k, 0)
	case kindInt64:
		spread(v.i64[start:start+n], v.levels, k, 0)
	}
	return nil
}

// rowRange is rows [from, to) of a vector.
type rowRange struct{ from, to int }

// setValid records that rows [from, to) have values.
func (v *vector) setValid(from, to int) {
	if len(v.valid) > 0 {
		fill(v.valid[from:to], true)
		return
	}
	if n := len(v.clean); n > 0 && v.clean[n-1].to == from {
		v.clean[n-1].to = to
		return
	}
	v.clean = append(v.clean, rowRange{from, to})
}

// makeValid makes valid, for a null to come: rows given values before
// are valid; the others are stale until written.
func (v *vector) makeValid() {
	if len(v.valid) > 0 {
		return
	}
	v.valid = growIn(v.mem, v.valid, v.n, v.dense)
	for _, r := range v.clean {
		fill(v.valid[r.from:r.to], true)
	}
}

// spread moves the k values at the start of vals to the rows valid marks,
// and sets the others to null. The loop has no data-dependent branch:
// nulls are scattered through counter columns.
func spread[T any](vals []T, valid []bool, k int, null T) {
	j := k - 1
	i := len(vals) - 1
	for ; j >= 0 && i > j; i-- {
		x := vals[j]
		m := 0
		if valid[i] {
			m = 1
		} else {
			x = null
		}
		vals[i] = x
		j -= m
	}
	if j < 0 {
		fill(vals[:i+1], null)
	}
}

// readIndices decodes the dictionary indexes of a page into dst, but for
// the first skip, which it may leave as they were.
func (v *vector) readIndices(enc encoding, b []byte, dst []int32, skip int) error {
	switch enc {
	case encRLEDict, encPlainDict:
		if len(dst) == 0 {
			return nil
		}
		if len(b) < 1 {
			return corrupt("dictionary indices without a bit width")
		}
		if _, err := decodeHybrid(b[1:], uint(b[0]), dst, skip); err != nil {
			return err
		}
		n := int32(v.dictLen())
		for _, x := range dst[min(skip, len(dst)):] {
			if uint32(x) >= uint32(n) {
				return corrupt("dictionary index %d of %d values", x, n)
			}
		}
		return nil
	case encPlain:
		// A writer that gave up on the dictionary: intern the values.
		if v.memo == nil {
			v.memo = map[string]int32{}
		}
		var err error
		perr := plainByteArrays(b, len(dst), func(i int, s []byte) {
			j, ok := v.memo[string(s)]
			if !ok {
				if len(v.dictAt) == 0 {
					v.dictAt = append(v.dictAt, uint32(len(v.data)))
				}
				if uint64(len(v.data))+4+uint64(len(s)) > math.MaxUint32 {
					err = corrupt("column %s: over 4 GiB of distinct values", v.id)
					return
				}
				j = int32(v.dictLen())
				v.data = binary.LittleEndian.AppendUint32(v.data, uint32(len(s)))
				v.data = append(v.data, s...)
				v.dictAt = append(v.dictAt, uint32(len(v.data)))
				v.memo[string(s)] = j
			}
			dst[i] = j
		})
		return cmp.Or(perr, err)
	}
	return fmt.Errorf("string values in encoding %s are not supported", enc)
}

func (v *vector) readInt32(enc encoding, b []byte, dst []int32) error {
	switch enc {
	case encPlain:
		return plainInt32(b, dst)
	case encDeltaBinaryPacked:
		return decodeDelta(&v.delta, b, dst)
	}
	return fmt.Errorf("INT32 values in encoding %s are not supported", enc)
}

func (v *vector) readInt64(enc encoding, b []byte, dst []int64) error {
	switch enc {
	case encPlain:
		return plainInt64(b, dst)
	case encDeltaBinaryPacked:
		return decodeDelta(&v.delta, b, dst)
	}
	return fmt.Errorf("INT64 values in encoding %s are not supported", enc)
}
