package query

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
)

// TestOffsetIndexDisagrees: reading the pages of a few rows by the
// offset index gives gap pages for the rest; an offset index that puts a
// page at another row or byte than the pages read say is an error.
func TestOffsetIndexDisagrees(t *testing.T) {
	name := footerFiles(t)[0]
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	var buf []byte
	md, err := readFooter(f, fi.Size(), &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	rg := &md.rowGroups[0]
	cc := rg.chunks[md.leafIndex("time")]
	var p pageReader
	locs, err := p.offsetIndex(f, &cc, rg.rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(locs) < 4 {
		t.Fatalf("time has %d pages, want 4 or more", len(locs))
	}
	locs = append([]pageLoc(nil), locs...)
	// Rows of the third page only.
	span := rowList{int32(locs[2].firstRow), int32(locs[2].firstRow + 1)}
	read := func(locs []pageLoc) (gaps, pages int, err error) {
		raw := encodeOffsetIndex(locs)
		c := cc
		c.indexOff, c.indexLen = fi.Size()+1000, int32(len(raw)) // served by indexAt
		var p pageReader
		if err := p.resetSpan(indexAt{f, c.indexOff, raw}, &c, rg.rows, span); err != nil {
			return 0, 0, err
		}
		for {
			pg, ok, err := p.next()
			if err != nil || !ok {
				return gaps, pages, err
			}
			if pg.typ == pageGap {
				gaps++
			} else {
				pages++
			}
		}
	}
	if gaps, pages, err := read(locs); err != nil || gaps != 2 || pages != 1 {
		t.Fatalf("the index as written: %d gaps, %d pages, %v; want 2 gaps (before and after) and 1 page", gaps, pages, err)
	}
	shifted := append([]pageLoc(nil), locs...)
	shifted[2].firstRow++
	if _, _, err := read(shifted); !errors.Is(err, errCorrupt) {
		t.Errorf("page 2 a row later in the index: %v, want a corrupt-file error", err)
	}
	moved := append([]pageLoc(nil), locs...)
	moved[2].off += 3
	moved[2].size -= 3
	if _, _, err := read(moved); !errors.Is(err, errCorrupt) {
		t.Errorf("page 2 three bytes later in the index: %v, want a corrupt-file error", err)
	}
}

// indexAt serves a file, and raw at off.
type indexAt struct {
	f   io.ReaderAt
	off int64
	raw []byte
}

func (r indexAt) ReadAt(b []byte, off int64) (int, error) {
	if off == r.off {
		return copy(b, r.raw), nil
	}
	return r.f.ReadAt(b, off)
}

// encodeOffsetIndex writes an OffsetIndex in the Thrift compact protocol.
func encodeOffsetIndex(locs []pageLoc) []byte {
	zz := func(b []byte, v int64) []byte { return binary.AppendUvarint(b, uint64(v<<1^v>>63)) }
	b := []byte{0x19} // field 1, a list
	if len(locs) < 15 {
		b = append(b, byte(len(locs))<<4|tStruct)
	} else {
		b = binary.AppendUvarint(append(b, 0xf0|tStruct), uint64(len(locs)))
	}
	for _, l := range locs {
		b = zz(append(b, 0x10|tI64), l.off)
		b = zz(append(b, 0x10|tI32), int64(l.size))
		b = zz(append(b, 0x10|tI64), l.firstRow)
		b = append(b, tStop)
	}
	return append(b, tStop)
}

// TestOffsetIndexesWithFooter: loadFooter reads the offset indexes of
// every chunk with the footer, and a chunk's page locations from them,
// found without a read, equal those of a read of its own.
func TestOffsetIndexesWithFooter(t *testing.T) {
	for _, name := range footerFiles(t) {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		var p pageReader
		md, err := p.loadFooter(countReads{f, new(int)}, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		if p.indexes == nil {
			t.Fatalf("%s: offset indexes not loaded with the footer", name)
		}
		for g := range md.rowGroups {
			rg := &md.rowGroups[g]
			for c := range rg.chunks {
				cc := &rg.chunks[c]
				reads := new(int)
				fromMemory, err := p.offsetIndex(countReads{f, reads}, cc, rg.rows)
				if err != nil || *reads != 0 {
					t.Fatalf("%s: row group %d, column %d: %v, %d reads", name, g, c, err, *reads)
				}
				fromMemory = append([]pageLoc(nil), fromMemory...)
				var q pageReader
				read, err := q.offsetIndex(f, cc, rg.rows)
				if err != nil || len(read) != len(fromMemory) {
					t.Fatalf("%s: row group %d, column %d: %v, %d and %d pages", name, g, c, err, len(read), len(fromMemory))
				}
				for i := range read {
					if read[i] != fromMemory[i] {
						t.Fatalf("%s: row group %d, column %d, page %d: %+v read, %+v from memory", name, g, c, i, read[i], fromMemory[i])
					}
				}
			}
		}
		f.Close()
	}
}

// countReads counts the reads of a file.
type countReads struct {
	io.ReaderAt
	n *int
}

func (r countReads) ReadAt(b []byte, off int64) (int, error) {
	*r.n++
	return r.ReaderAt.ReadAt(b, off)
}
