package query

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// The pages of a column chunk are read here rather than through
// arrow-go's page reader, which allocates a reader and its buffers for
// every column chunk: a scan reads a chunk into one buffer, decompresses
// each page into another, and reuses both for the next chunk. Only the
// page headers are parsed (Thrift compact protocol); the file footer is
// read by footer.go with the same reader.

// Page types of parquet.thrift.
const (
	pageData   = 0
	pageIndex  = 1
	pageDict   = 2
	pageDataV2 = 3
)

// pageHeader holds the fields of a Parquet PageHeader a scan needs.
type pageHeader struct {
	typ              int32
	uncompressedSize int32
	compressedSize   int32
	numValues        int32
	encoding         encoding
	defEncoding      encoding // data pages v1
	numRows          int32    // data pages v2
	defLen, repLen   int32    // data pages v2: level bytes, not compressed
	compressed       bool     // data pages v2: whether the values are
}

// page is one page as stored; pageReader.body decompresses it.
type page struct {
	pageHeader
	raw []byte
}

// pageReader reads the pages of one column chunk at a time. It belongs to
// one worker and reuses its buffers.
type pageReader struct {
	raw   []byte // the column chunk as stored
	out   []byte // the current page, decompressed
	pos   int
	codec codec
	zstd  *zstd.Decoder
	gzip  *gzip.Reader
	rows  int64 // rows the pages seen so far hold
	want  int64 // rows of the chunk
	foot  []byte
	md    footer // the footer of the file being read
	read  int64  // bytes of column chunks read, for Stats

	// Reading only some pages (offsets.go): raw holds runs of pages.
	segs   []segment // the runs; empty when raw is the whole chunk
	seg    int       // the next run to enter
	loc    int       // the offset index entry of the next data page
	ranges []byteRange
	oi     []byte
	locs   []pageLoc
	// The file's offset indexes, when loadFooter read them: file bytes
	// from indexesOff on, in foot or indexBuf.
	indexes    []byte
	indexesOff int64
	indexBuf   []byte

	mem slab // where raw and out come from
}

// pageGap is the type of the pages next returns for rows whose pages
// were not read: numValues rows, nothing to decode.
const pageGap = -1

// reset reads the column chunk cc of the file r into the reader.
func (p *pageReader) reset(r io.ReaderAt, cc *chunk) error {
	start := cc.start()
	size := cc.size
	if start < 0 || size < 0 || size > math.MaxInt32 {
		return corrupt("column chunk at %d of %d bytes", start, size)
	}
	p.raw = growIn(&p.mem, p.raw, int(size), true)
	if n, err := r.ReadAt(p.raw, start); n != len(p.raw) {
		return fmt.Errorf("read column chunk: %w", err)
	}
	p.read += size
	p.segs = p.segs[:0]
	p.startChunk(cc)
	return p.setCodec()
}

// startChunk starts reading chunk cc from raw.
func (p *pageReader) startChunk(cc *chunk) {
	p.pos, p.rows, p.want, p.seg = 0, 0, cc.values, 0
	p.codec = cc.codec
}

// setCodec readies the decompressor of the chunk's codec.
func (p *pageReader) setCodec() error {
	switch p.codec {
	case codecUncompressed:
	case codecZstd:
		if p.zstd == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(false))
			if err != nil {
				return err
			}
			p.zstd = d
		}
	case codecSnappy, codecGzip:
	default:
		return fmt.Errorf("column chunk compressed with %s, which flowlens does not read (it reads UNCOMPRESSED, SNAPPY, GZIP and ZSTD)", p.codec)
	}
	return nil
}

// close releases the decompressor.
func (p *pageReader) close() {
	if p.zstd != nil {
		p.zstd.Close()
		p.zstd = nil
	}
}

// next returns the next dictionary or data page of the chunk; ok is false
// after the last. The page is valid until the next call.
func (p *pageReader) next() (pg page, ok bool, err error) {
	for p.rows < p.want {
		if p.seg < len(p.segs) && p.pos == p.segs[p.seg].start {
			s := p.segs[p.seg]
			p.seg++
			p.loc = s.loc
			if first := p.locs[s.loc].firstRow; first > p.rows {
				return p.gap(first), true, nil
			}
		}
		end := len(p.raw) // of the run of pages p.pos is in
		if p.seg < len(p.segs) {
			end = p.segs[p.seg].start
		}
		if p.pos >= len(p.raw) {
			if len(p.segs) > 0 {
				return p.gap(p.want), true, nil
			}
			break
		}
		h, n, err := readPageHeader(p.raw[p.pos:end])
		if err != nil {
			return pg, false, err
		}
		if len(p.segs) > 0 && (h.typ == pageData || h.typ == pageDataV2) {
			rows := int64(h.numValues)
			if h.typ == pageDataV2 {
				rows = int64(h.numRows)
			}
			if err := p.checkLoc(rows); err != nil {
				return pg, false, err
			}
		}
		p.pos += n
		if h.compressedSize < 0 || int(h.compressedSize) > end-p.pos || h.uncompressedSize < 0 {
			return pg, false, corrupt("page of %d bytes at byte %d of a chunk of %d", h.compressedSize, p.pos, len(p.raw))
		}
		body := p.raw[p.pos : p.pos+int(h.compressedSize)]
		p.pos += int(h.compressedSize)
		switch h.typ {
		case pageData:
			p.rows += int64(h.numValues)
		case pageDataV2:
			p.rows += int64(h.numRows)
		case pageDict:
		default:
			continue // index pages, and kinds this reader does not know
		}
		return page{pageHeader: h, raw: body}, true, nil
	}
	return pg, false, nil
}

// checkLoc checks that the data page of rows rows at p.pos, in the run
// last entered, is where the offset index puts its next page, starting
// with the row the pages before it end with and as long as the index
// says: rows of pages left unread are placed by the index alone, so an
// index that disagrees with a page read is an error, not rows moved to
// wrong places.
func (p *pageReader) checkLoc(rows int64) error {
	s := p.segs[p.seg-1]
	off := s.fileOff + int64(p.pos-s.start)
	if p.loc >= len(p.locs) || p.locs[p.loc].off != off || p.locs[p.loc].firstRow != p.rows {
		return corrupt("data page at byte %d starts at row %d; the offset index has its page %d elsewhere", off, p.rows, p.loc)
	}
	end := p.want
	if p.loc+1 < len(p.locs) {
		end = p.locs[p.loc+1].firstRow
	}
	if end-p.rows != rows {
		return corrupt("data page at byte %d holds %d rows; the offset index says %d", off, rows, end-p.rows)
	}
	p.loc++
	return nil
}

// gap returns a gap page of the rows from p.rows to row.
func (p *pageReader) gap(row int64) page {
	n := row - p.rows
	p.rows = row
	return page{pageHeader: pageHeader{typ: pageGap, numValues: int32(n)}}
}

// body returns the levels and values of a page, decompressed. They are
// valid until the next call.
func (p *pageReader) body(pg *page) ([]byte, error) {
	if pg.typ != pageDataV2 {
		return p.decompress(pg.raw, int(pg.uncompressedSize), 0)
	}
	levels := int(pg.defLen) + int(pg.repLen)
	if pg.defLen < 0 || pg.repLen < 0 || levels > len(pg.raw) {
		return nil, corrupt("levels of %d bytes in a page of %d", levels, len(pg.raw))
	}
	if !pg.compressed {
		return pg.raw, nil
	}
	return p.decompress(pg.raw, int(pg.uncompressedSize), levels)
}

// maxPresize bounds the page size, as its header says, for which the
// output buffer is made before decompressing: a damaged header must not
// claim gigabytes.
const maxPresize = 16 << 20

// take returns data, a page body from body, as memory of the caller's
// own, which keeps it past the next page: the reader's buffer when data
// is in it (spare then becomes the reader's), else a copy in spare.
func (p *pageReader) take(data, spare []byte) []byte {
	if len(data) > 0 && cap(p.out) > 0 && &data[0] == &p.out[:1][0] {
		p.out = spare[:0]
		return data
	}
	return append(spare[:0], data...)
}

// decompress returns body decompressed to size bytes; its first keep
// bytes are stored uncompressed.
func (p *pageReader) decompress(body []byte, size, keep int) ([]byte, error) {
	if p.codec == codecUncompressed {
		if len(body) != size {
			return nil, corrupt("uncompressed page of %d bytes, its header says %d", len(body), size)
		}
		return body, nil
	}
	if size < keep || keep > len(body) {
		return nil, corrupt("page of %d bytes whose levels take %d", size, keep)
	}
	if size <= maxPresize {
		p.out = growIn(&p.mem, p.out, size, true) // DecodeAll appends within it
	}
	p.out = append(p.out[:0], body[:keep]...)
	var err error
	switch p.codec {
	case codecZstd:
		p.out, err = p.zstd.DecodeAll(body[keep:], p.out)
	case codecSnappy:
		p.out, err = p.snappy(body[keep:], size)
	case codecGzip:
		p.out, err = p.gunzip(body[keep:], size)
	default:
		err = fmt.Errorf("codec %s", p.codec)
	}
	if err != nil {
		return nil, fmt.Errorf("decompress page: %w", err)
	}
	if len(p.out) != size {
		return nil, corrupt("page decompresses to %d bytes, its header says %d", len(p.out), size)
	}
	return p.out, nil
}

// snappy appends the snappy block src, of size bytes with what out
// holds, to out.
func (p *pageReader) snappy(src []byte, size int) ([]byte, error) {
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return p.out, err
	}
	if n != size-len(p.out) {
		return p.out, corrupt("snappy block of %d bytes, the page header says %d", n, size-len(p.out))
	}
	// A snappy element of 2 or 3 bytes yields at most 64: a larger claim
	// is corrupt, and is not allocated.
	if n > 32*len(src)+64 {
		return p.out, corrupt("snappy block of %d bytes decoding to %d", len(src), n)
	}
	keep := len(p.out)
	p.out = slices.Grow(p.out, n)
	d, err := snappy.Decode(p.out[keep:keep+n], src)
	return p.out[:keep+len(d)], err
}

// gunzip appends the gzip stream src, of size bytes with what out holds,
// to out. The buffer grows with what the stream yields, not with what the
// page header claims.
func (p *pageReader) gunzip(src []byte, size int) ([]byte, error) {
	var err error
	if p.gzip == nil {
		p.gzip, err = gzip.NewReader(bytes.NewReader(src))
	} else {
		err = p.gzip.Reset(bytes.NewReader(src))
	}
	if err != nil {
		return p.out, err
	}
	buf := bytes.NewBuffer(p.out)
	_, err = io.CopyN(buf, p.gzip, int64(size-len(p.out))+1) // one byte more than the header says: a longer stream is caught
	if err == io.EOF {
		err = nil
	}
	return buf.Bytes(), err
}

// Thrift compact protocol types.
const (
	tStop   = 0
	tTrue   = 1
	tFalse  = 2
	tByte   = 3
	tI16    = 4
	tI32    = 5
	tI64    = 6
	tDouble = 7
	tBinary = 8
	tList   = 9
	tSet    = 10
	tMap    = 11
	tStruct = 12
)

// thrift reads the compact protocol from a byte slice: page headers and
// the file footer.
type thrift struct {
	b     []byte
	pos   int
	depth int
}

func (t *thrift) byte() (byte, error) {
	if t.pos >= len(t.b) {
		return 0, corrupt("thrift data ends early")
	}
	c := t.b[t.pos]
	t.pos++
	return c, nil
}

func (t *thrift) uvarint() (uint64, error) {
	v, n := binary.Uvarint(t.b[t.pos:])
	if n <= 0 {
		return 0, corrupt("bad thrift varint")
	}
	t.pos += n
	return v, nil
}

func (t *thrift) int() (int64, error) {
	u, err := t.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

func (t *thrift) i32() (int32, error) {
	v, err := t.int()
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, corrupt("thrift i32 out of range")
	}
	return int32(v), err
}

// field reads a field header: its id and type; typ is tStop at the end
// of a struct.
func (t *thrift) field(last int16) (id int16, typ byte, err error) {
	c, err := t.byte()
	if err != nil || c == tStop {
		return 0, tStop, err
	}
	typ = c & 0x0f
	if d := c >> 4; d != 0 {
		return last + int16(d), typ, nil
	}
	v, err := t.int()
	return int16(v), typ, err
}

// skip skips a value of type typ.
func (t *thrift) skip(typ byte) error {
	switch typ {
	case tTrue, tFalse:
		return nil
	case tByte:
		_, err := t.byte()
		return err
	case tI16, tI32, tI64:
		_, err := t.uvarint()
		return err
	case tDouble:
		if len(t.b)-t.pos < 8 {
			return corrupt("thrift data ends early")
		}
		t.pos += 8
		return nil
	case tBinary:
		n, err := t.uvarint()
		if err != nil {
			return err
		}
		if n > uint64(len(t.b)-t.pos) {
			return corrupt("thrift data ends early")
		}
		t.pos += int(n)
		return nil
	case tList, tSet:
		n, elem, err := t.listHeader()
		if err != nil {
			return err
		}
		return t.skipN(n, elem, 0)
	case tMap:
		n, err := t.uvarint()
		if err != nil || n == 0 {
			return err
		}
		c, err := t.byte()
		if err != nil {
			return err
		}
		return t.skipN(n, c>>4, c&0x0f)
	case tStruct:
		if t.depth++; t.depth > 32 {
			return corrupt("thrift structs nested too deeply")
		}
		defer func() { t.depth-- }()
		var last int16
		for {
			id, ft, err := t.field(last)
			if err != nil || ft == tStop {
				return err
			}
			if err := t.skip(ft); err != nil {
				return err
			}
			last = id
		}
	}
	return corrupt("unknown thrift type %d", typ)
}

// listHeader reads the header of a list or set: its length and the type
// of its elements.
func (t *thrift) listHeader() (n uint64, elem byte, err error) {
	c, err := t.byte()
	if err != nil {
		return 0, 0, err
	}
	n = uint64(c >> 4)
	if n == 15 {
		n, err = t.uvarint()
	}
	return n, c & 0x0f, err
}

// skipN skips n values of type a, alternating with values of type b when
// b is not 0 (map entries).
func (t *thrift) skipN(n uint64, a, b byte) error {
	if n > uint64(len(t.b)-t.pos) {
		return corrupt("thrift data ends early")
	}
	for range n {
		if a == tTrue || a == tFalse { // booleans in containers take a byte
			if _, err := t.byte(); err != nil {
				return err
			}
		} else if err := t.skip(a); err != nil {
			return err
		}
		if b == 0 {
			continue
		}
		if b == tTrue || b == tFalse {
			if _, err := t.byte(); err != nil {
				return err
			}
		} else if err := t.skip(b); err != nil {
			return err
		}
	}
	return nil
}

// readPageHeader parses a PageHeader at the start of b and returns it with
// its length in bytes.
func readPageHeader(b []byte) (pageHeader, int, error) {
	t := &thrift{b: b}
	var h pageHeader
	h.typ = -1
	var last int16
	for {
		id, typ, err := t.field(last)
		if err != nil {
			return h, 0, err
		}
		if typ == tStop {
			break
		}
		last = id
		switch {
		case id == 1 && typ == tI32:
			h.typ, err = t.i32()
		case id == 2 && typ == tI32:
			h.uncompressedSize, err = t.i32()
		case id == 3 && typ == tI32:
			h.compressedSize, err = t.i32()
		case id == 5 && typ == tStruct:
			err = t.dataPageHeader(&h)
		case id == 7 && typ == tStruct:
			err = t.dictPageHeader(&h)
		case id == 8 && typ == tStruct:
			err = t.dataPageHeaderV2(&h)
		default:
			err = t.skip(typ)
		}
		if err != nil {
			return h, 0, err
		}
	}
	if h.typ < 0 {
		return h, 0, corrupt("page header without a type")
	}
	return h, t.pos, nil
}

// fields reads the fields of a struct, handing each to fn, which returns
// false for the ones it does not read (they are skipped).
func (t *thrift) fields(fn func(id int16, typ byte) (bool, error)) error {
	if t.depth++; t.depth > 32 {
		return corrupt("thrift structs nested too deeply")
	}
	defer func() { t.depth-- }()
	var last int16
	for {
		id, typ, err := t.field(last)
		if err != nil || typ == tStop {
			return err
		}
		last = id
		done, err := fn(id, typ)
		if err != nil {
			return err
		}
		if !done {
			if err := t.skip(typ); err != nil {
				return err
			}
		}
	}
}

func (t *thrift) enc() (encoding, error) {
	v, err := t.i32()
	return encoding(v), err
}

// DataPageHeader: 1 num_values, 2 encoding, 3 definition_level_encoding,
// 4 repetition_level_encoding, 5 statistics.
func (t *thrift) dataPageHeader(h *pageHeader) error {
	return t.fields(func(id int16, typ byte) (bool, error) {
		var err error
		switch {
		case id == 1 && typ == tI32:
			h.numValues, err = t.i32()
		case id == 2 && typ == tI32:
			h.encoding, err = t.enc()
		case id == 3 && typ == tI32:
			h.defEncoding, err = t.enc()
		default:
			return false, nil
		}
		return true, err
	})
}

// DictionaryPageHeader: 1 num_values, 2 encoding, 3 is_sorted.
func (t *thrift) dictPageHeader(h *pageHeader) error {
	return t.fields(func(id int16, typ byte) (bool, error) {
		var err error
		switch {
		case id == 1 && typ == tI32:
			h.numValues, err = t.i32()
		case id == 2 && typ == tI32:
			h.encoding, err = t.enc()
		default:
			return false, nil
		}
		return true, err
	})
}

// DataPageHeaderV2: 1 num_values, 2 num_nulls, 3 num_rows, 4 encoding,
// 5 definition_levels_byte_length, 6 repetition_levels_byte_length,
// 7 is_compressed (default true), 8 statistics.
func (t *thrift) dataPageHeaderV2(h *pageHeader) error {
	h.compressed = true
	return t.fields(func(id int16, typ byte) (bool, error) {
		var err error
		switch {
		case id == 1 && typ == tI32:
			h.numValues, err = t.i32()
		case id == 3 && typ == tI32:
			h.numRows, err = t.i32()
		case id == 4 && typ == tI32:
			h.encoding, err = t.enc()
		case id == 5 && typ == tI32:
			h.defLen, err = t.i32()
		case id == 6 && typ == tI32:
			h.repLen, err = t.i32()
		case id == 7 && (typ == tTrue || typ == tFalse):
			h.compressed = typ == tTrue
		default:
			return false, nil
		}
		return true, err
	})
}
