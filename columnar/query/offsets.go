package query

import (
	"fmt"
	"io"
	"math"
)

// A query the index narrows to a few rows of a row group needs a few of
// each column chunk's pages. The chunk's OffsetIndex (Parquet's page
// locations, written beside the footer) says where each page starts and
// which row it starts with, so the reader reads the dictionary page and
// the pages holding selected rows, and skips the rest unread.

// pageLoc is a PageLocation of an OffsetIndex.
type pageLoc struct {
	off      int64 // file offset of the page header
	size     int32 // bytes of header and page
	firstRow int64 // its first row within the row group
}

// segment is a run of whole pages read into pageReader.raw.
type segment struct {
	start   int   // where it starts in raw
	fileOff int64 // and in the file
	loc     int   // the offset index entry of its first data page
}

// sparseWorth is the share of a chunk's bytes, in 1/8ths, above which the
// whole chunk is read in one go rather than page by page.
const sparseWorth = 4

// mergeGap is the most bytes of unwanted pages read to join two runs of
// wanted ones into one read.
const mergeGap = 8 << 10

// resetSpan reads into the reader the pages of column chunk cc that hold
// rows of span (all of it when span is nil, or when the chunk has no
// offset index, or when those pages are most of the chunk). Rows of pages
// left unread come out of next as gap pages.
func (p *pageReader) resetSpan(r io.ReaderAt, cc *chunk, rows int64, span rowSpan) error {
	if span == nil || cc.indexOff < 0 || cc.indexLen <= 0 {
		return p.reset(r, cc)
	}
	locs, err := p.offsetIndex(r, cc, rows)
	if err != nil {
		return fmt.Errorf("offset index: %w", err)
	}
	// Byte ranges to read: the dictionary page, then the wanted pages,
	// neighbours merged.
	p.segs = p.segs[:0]
	p.ranges = p.ranges[:0]
	if cc.dictOff > 0 && cc.dictOff < locs[0].off {
		p.ranges = append(p.ranges, byteRange{cc.dictOff, locs[0].off, 0})
	}
	var total int64
	for i, l := range locs {
		end := rows
		if i+1 < len(locs) {
			end = locs[i+1].firstRow
		}
		if span.last(int(l.firstRow), int(end)) < 0 {
			continue
		}
		to := l.off + int64(l.size)
		if n := len(p.ranges); n > 0 && l.off-p.ranges[n-1].to <= mergeGap {
			p.ranges[n-1].to = to
			continue
		}
		p.ranges = append(p.ranges, byteRange{l.off, to, i})
	}
	for _, br := range p.ranges {
		total += br.to - br.from
	}
	if total*8 > cc.size*sparseWorth {
		return p.reset(r, cc)
	}
	p.read += total
	p.raw = growIn(&p.mem, p.raw, int(total), true)[:0]
	for _, br := range p.ranges {
		p.segs = append(p.segs, segment{start: len(p.raw), fileOff: br.from, loc: br.loc})
		n := int(br.to - br.from)
		p.raw = p.raw[:len(p.raw)+n]
		if got, err := r.ReadAt(p.raw[len(p.raw)-n:], br.from); got != n {
			return fmt.Errorf("read pages at %d: %w", br.from, err)
		}
	}
	p.startChunk(cc)
	return p.setCodec()
}

// byteRange is a run of pages to read, [from, to) in the file.
type byteRange struct {
	from, to int64
	loc      int // the offset index entry of its first data page
}

// indexTail bounds the bytes of offset indexes loadFooter reads with a
// footer.
const indexTail = 4 << 20

// loadFooter reads the footer of the file r of size bytes into p.md and,
// when they lie within indexTail bytes before it (where writers put
// them), the offset indexes of all its column chunks: offsetIndex then
// finds a chunk's page locations in memory. A needle reads a few pages
// of many chunks; a read per offset index was a third of its reads.
func (p *pageReader) loadFooter(r io.ReaderAt, size int64) (*footer, error) {
	md, err := readFooter(r, size, &p.foot, &p.md)
	if err != nil {
		return nil, err
	}
	p.indexes, p.indexesOff = nil, 0
	lo, hi := int64(math.MaxInt64), int64(-1)
	for _, rg := range md.rowGroups {
		for _, c := range rg.chunks {
			if c.indexOff >= 0 && c.indexLen > 0 {
				lo, hi = min(lo, c.indexOff), max(hi, c.indexOff+int64(c.indexLen))
			}
		}
	}
	if hi < 0 || hi > size || hi-lo > indexTail {
		return md, nil
	}
	if tail := size - int64(len(p.foot)); lo >= tail {
		p.indexes, p.indexesOff = p.foot[lo-tail:hi-tail], lo
		return md, nil
	}
	p.indexBuf = grow(p.indexBuf, int(hi-lo))
	if n, _ := r.ReadAt(p.indexBuf, lo); n == len(p.indexBuf) {
		p.indexes, p.indexesOff = p.indexBuf, lo
	} // else offsetIndex reads, and reports, what it needs
	return md, nil
}

// offsetIndex reads and checks the page locations of chunk cc, a row
// group of rows rows.
func (p *pageReader) offsetIndex(r io.ReaderAt, cc *chunk, rows int64) ([]pageLoc, error) {
	if cc.indexLen > 1<<24 {
		return nil, corrupt("%d bytes", cc.indexLen)
	}
	var b []byte
	if from := cc.indexOff - p.indexesOff; p.indexes != nil && from >= 0 && from+int64(cc.indexLen) <= int64(len(p.indexes)) {
		b = p.indexes[from : from+int64(cc.indexLen)]
	} else {
		p.oi = grow(p.oi, int(cc.indexLen))
		if n, err := r.ReadAt(p.oi, cc.indexOff); n != len(p.oi) {
			return nil, fmt.Errorf("read %d bytes at %d: %w", len(p.oi), cc.indexOff, err)
		}
		b = p.oi
	}
	locs, err := parseOffsetIndex(b, p.locs[:0])
	p.locs = locs
	if err != nil {
		return nil, err
	}
	if len(locs) == 0 {
		return nil, corrupt("no pages")
	}
	from, to := cc.start(), cc.start()+cc.size
	for i, l := range locs {
		switch {
		case l.off < from || l.size <= 0 || l.off > to-int64(l.size):
			return nil, corrupt("page %d of %d bytes at %d, outside the chunk [%d, %d)", i, l.size, l.off, from, to)
		case i == 0 && l.firstRow != 0:
			return nil, corrupt("first page starts at row %d", l.firstRow)
		case i > 0 && (l.firstRow <= locs[i-1].firstRow || l.off < locs[i-1].off+int64(locs[i-1].size)):
			return nil, corrupt("page %d (row %d, byte %d) out of order", i, l.firstRow, l.off)
		case l.firstRow >= rows:
			return nil, corrupt("page %d starts at row %d of %d", i, l.firstRow, rows)
		}
	}
	return locs, nil
}

// parseOffsetIndex appends the page locations of an OffsetIndex (1:
// page_locations; PageLocation 1: offset, 2: compressed_page_size, 3:
// first_row_index) to locs.
func parseOffsetIndex(b []byte, locs []pageLoc) ([]pageLoc, error) {
	t := thrift{b: b}
	err := t.fields(func(id int16, typ byte) (bool, error) {
		if id != 1 || typ != tList {
			return false, nil
		}
		return true, t.list(tStruct, func() error {
			l := pageLoc{off: -1, size: -1, firstRow: -1}
			err := t.fields(func(id int16, typ byte) (bool, error) {
				var err error
				switch {
				case id == 1 && typ == tI64:
					l.off, err = t.int()
				case id == 2 && typ == tI32:
					l.size, err = t.i32()
				case id == 3 && typ == tI64:
					l.firstRow, err = t.int()
				default:
					return false, nil
				}
				return true, err
			})
			if err == nil && (l.off < 0 || l.size < 0 || l.firstRow < 0 || l.firstRow > math.MaxInt32) {
				err = corrupt("page location %d lacks a field or is out of range", len(locs))
			}
			locs = append(locs, l)
			return err
		})
	})
	return locs, err
}
