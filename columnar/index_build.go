package columnar

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// IndexConfig says how index sidecars are built.
type IndexConfig struct {
	// Disabled turns the index off: PartitionWriter writes none.
	Disabled bool
	// Budget is the size an index aims at, as a fraction of the size of
	// its Parquet file. The string columns (protocol, direction,
	// decision, rule, resource_id, mac, acl_id) are always exact. The
	// address and port columns start exact too, a bit per row and a key
	// per value; while the index is over budget, the largest of them is
	// made coarser: its bits stand for blocks of 4, 16, ... up to 65536
	// rows, and a port column's keys may stand for buckets of 4, 16, ...
	// up to 256 ports. Key counts stay exact. The per-key totals are
	// exact too, and count in the budget like the string columns (about
	// 0.02 for flow logs). An index comes out within a sixteenth of its
	// budget unless the exact parts alone pass it. 0 means the default,
	// 0.135: issue 6 wants indexes under 15% of their Parquet.
	Budget float64
}

// DefaultIndexConfig returns the settings convert uses.
func DefaultIndexConfig() IndexConfig { return IndexConfig{Budget: 0.135} }

// indexSpecs are the indexed columns, in file order. kindIP4 stands for
// an IP column (two directory entries, v4 and v6).
var indexSpecs = [...]struct {
	name string
	kind colKind
}{
	{"src_ip", kindIP4}, {"dst_ip", kindIP4}, {"src_port", kindPort}, {"dst_port", kindPort},
	{"protocol", kindString}, {"direction", kindString}, {"decision", kindString},
	{"rule", kindString}, {"resource_id", kindString}, {"mac", kindString}, {"acl_id", kindString},
}

const nStringCols = 7

// IndexedColumns returns the names of the columns an index covers.
func IndexedColumns() []string {
	out := make([]string, len(indexSpecs))
	for i, s := range indexSpecs {
		out[i] = s.name
	}
	return out
}

// parquetID identifies the Parquet file an index is built for.
type parquetID struct {
	size      int64
	crc       uint32 // CRC-32C of the whole file
	footerLen uint32 // bytes at the end covered by footerCRC: the footer and its 8-byte trailer
	footerCRC uint32
}

// readParquetID reads the footer of the Parquet file f of the given size
// and completes id.
func readParquetID(f io.ReaderAt, id *parquetID) error {
	if id.size < 12 {
		return fmt.Errorf("parquet file of %d bytes", id.size)
	}
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], id.size-8); err != nil {
		return err
	}
	if string(tail[4:]) != "PAR1" {
		return errors.New("no parquet trailer")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4])) + 8
	if n > id.size-4 {
		return fmt.Errorf("parquet footer of %d bytes in a file of %d", n, id.size)
	}
	foot := make([]byte, n)
	if _, err := f.ReadAt(foot, id.size-n); err != nil {
		return err
	}
	id.footerLen, id.footerCRC = uint32(n), crc32c(foot)
	return nil
}

// indexBuilder gathers the index of one Parquet file as its record
// batches are written, in order. Per row it keeps a 16-bit key id for
// each address column (32 bits once a file has 65535 addresses) and the
// port of each port column, in pages of 65536 rows; full pages go to a
// spill file (spillDir), so that what a builder holds in memory grows
// with the distinct values of its file (maps, the string columns'
// bitmaps), not with its rows. finish reads the pages back and needs
// about 16 bytes per row of scratch, shared by the builders of a
// PartitionWriter (indexScratch). A builder is not safe for concurrent
// use; reset it (which also removes its spill file) to reuse it for the
// next file.
type indexBuilder struct {
	rows  uint64
	ips   [2]ipBuild
	ports [2]portBuild
	strs  [nStringCols]strBuild
	proto *intTotals // totals by the proto column
	// noTotals: a record lacked a column the totals count (or the file,
	// see lacks): the index gets no totals.
	noTotals bool
	*indexScratch

	// Full pages are spilled to a temporary file in spillDir, removed by
	// reset; "" keeps them in memory.
	spillDir string
	spill    *os.File
	spillOff int64
	spillErr error
}

// pageLen is the number of ids a page of an idPages holds.
const pageLen = 1 << 16

// indexScratch is the memory that builders can share because they use
// it one at a time: the pages of finished files, kept for the next, and
// the scratch of addRecord and finish. The builders of a PartitionWriter
// share one.
type indexScratch struct {
	u16 [][]uint16
	u32 [][]uint32

	spillBuf []byte
	page16   []uint16
	page32   []uint32

	str strScratch
	ids []int32 // the ids of a record's rows, before they are paged
	rt  rowTotals

	totalsW  totalsWriter
	rankTot  []totals
	oddTexts []oddText

	inv     inverted
	pinv    [2]inverted    // port columns, exact keys
	ipInv   [2][2]inverted // address columns, IPv4 and IPv6
	ipRows  [2][]uint32    // rows of ipInv
	rank    [2]ipRank      // by address column
	outs    []colOut
	chunker chunker
	blocks  []uint32
	bits    []uint64
	counts  []uint32
	next    []uint32
	order   []uint32
	post    []byte
	file    []byte
}

// idPage is one page of ids, 16 or 32 bits wide, in memory or, once
// full, in the builder's spill file.
type idPage struct {
	u16  []uint16
	u32  []uint32
	wide bool
	n    int   // ids in a spilled page
	off  int64 // of a spilled page in the spill file; −1 in memory
}

func (p *idPage) len() int { return len(p.u16) + len(p.u32) + p.n }

// idPages holds a number per row (a key id, a port), in pages. Full
// pages go to the builder's spill file, so that the memory a file's
// builder holds does not grow with its rows.
type idPages struct {
	pages []idPage
}

// append adds ids, 32 bits wide when wide, else truncated to 16 bits
// (−1 becomes math.MaxUint32 or math.MaxUint16).
func (c *idPages) append(b *indexBuilder, wide bool, ids []int32) {
	pool := b.indexScratch
	for len(ids) > 0 {
		k := len(c.pages)
		if k == 0 || c.pages[k-1].len() == pageLen || wide != c.pages[k-1].wide {
			if k > 0 {
				b.spillPage(&c.pages[k-1])
			}
			pg := idPage{wide: wide, off: -1}
			if wide {
				if n := len(pool.u32); n > 0 {
					pg.u32, pool.u32 = pool.u32[n-1][:0], pool.u32[:n-1]
				} else {
					pg.u32 = make([]uint32, 0, pageLen)
				}
			} else {
				if n := len(pool.u16); n > 0 {
					pg.u16, pool.u16 = pool.u16[n-1][:0], pool.u16[:n-1]
				} else {
					pg.u16 = make([]uint16, 0, pageLen)
				}
			}
			c.pages = append(c.pages, pg)
			k++
		}
		pg := &c.pages[k-1]
		n := min(len(ids), pageLen-pg.len())
		if wide {
			for _, id := range ids[:n] {
				pg.u32 = append(pg.u32, uint32(id))
			}
		} else {
			for _, id := range ids[:n] {
				pg.u16 = append(pg.u16, uint16(id))
			}
		}
		ids = ids[n:]
	}
}

// each calls fn with the ids of every page in order (one of the two
// slices is empty). The slices are valid only during the call.
func (c *idPages) each(b *indexBuilder, fn func(u16 []uint16, u32 []uint32)) error {
	for i := range c.pages {
		pg := &c.pages[i]
		if pg.off < 0 {
			fn(pg.u16, pg.u32)
			continue
		}
		width := 2
		if pg.wide {
			width = 4
		}
		buf := slices.Grow(b.spillBuf[:0], pg.n*width)[:pg.n*width]
		b.spillBuf = buf
		if _, err := b.spill.ReadAt(buf, pg.off); err != nil {
			return fmt.Errorf("index spill: %w", err)
		}
		if pg.wide {
			u32 := slices.Grow(b.page32[:0], pg.n)[:pg.n]
			for j := range u32 {
				u32[j] = binary.LittleEndian.Uint32(buf[4*j:])
			}
			b.page32 = u32
			fn(nil, u32)
		} else {
			u16 := slices.Grow(b.page16[:0], pg.n)[:pg.n]
			for j := range u16 {
				u16[j] = binary.LittleEndian.Uint16(buf[2*j:])
			}
			b.page16 = u16
			fn(u16, nil)
		}
	}
	return nil
}

// spillPage writes a full page to the spill file and gives its memory
// back to the pool. Without a spill directory, or after an error (kept
// for finish to report), the page stays in memory.
func (b *indexBuilder) spillPage(pg *idPage) {
	if b.spillDir == "" || b.spillErr != nil || pg.off >= 0 {
		return
	}
	if b.spill == nil {
		f, err := os.CreateTemp(b.spillDir, ".idx-spill-*")
		if err != nil {
			b.spillErr = fmt.Errorf("index spill: %w", err)
			return
		}
		b.spill, b.spillOff = f, 0
	}
	buf := b.spillBuf[:0]
	for _, x := range pg.u16 {
		buf = binary.LittleEndian.AppendUint16(buf, x)
	}
	for _, x := range pg.u32 {
		buf = binary.LittleEndian.AppendUint32(buf, x)
	}
	b.spillBuf = buf
	if _, err := b.spill.WriteAt(buf, b.spillOff); err != nil {
		b.spillErr = fmt.Errorf("index spill: %w", err)
		return
	}
	pool := b.indexScratch
	if pg.wide {
		pool.u32 = append(pool.u32, pg.u32)
	} else {
		pool.u16 = append(pool.u16, pg.u16)
	}
	pg.n, pg.off = pg.len(), b.spillOff
	pg.u16, pg.u32 = nil, nil
	b.spillOff += int64(len(buf))
}

// free gives the pages in memory back to the pool.
func (c *idPages) free(pool *indexScratch) {
	for _, pg := range c.pages {
		switch {
		case pg.u32 != nil:
			pool.u32 = append(pool.u32, pg.u32)
		case pg.u16 != nil:
			pool.u16 = append(pool.u16, pg.u16)
		}
	}
	clear(c.pages)
	c.pages = c.pages[:0]
}

// newIndexBuilder returns a builder that uses s (nil: scratch of its own).
func newIndexBuilder(s *indexScratch) *indexBuilder {
	if s == nil {
		s = &indexScratch{}
	}
	b := &indexBuilder{indexScratch: s, proto: newIntTotals(256)}
	for i := range b.ips {
		b.ips[i].ids = map[string]int32{}
	}
	for i := range b.strs {
		b.strs[i].ids = map[string]int32{}
	}
	b.ports[1].tot = newIntTotals(1 << 16) // dst_port
	return b
}

func (b *indexBuilder) reset() {
	b.rows = 0
	b.noTotals = false
	b.proto.reset()
	if b.spill != nil {
		b.spill.Close()
		os.Remove(b.spill.Name())
		b.spill = nil
	}
	b.spillErr = nil
	for i := range b.ips {
		c := &b.ips[i]
		clear(c.ids)
		c.addrs, c.counts, c.wide = c.addrs[:0], c.counts[:0], false
		c.tot, c.odd, c.nodd, c.null = c.tot[:0], c.odd[:0], 0, totals{}
		c.rows.free(b.indexScratch)
	}
	for i := range b.ports {
		c := &b.ports[i]
		c.rows.free(b.indexScratch)
		c.bad = c.bad[:0]
		if c.tot != nil {
			c.tot.reset()
		}
	}
	for i := range b.strs {
		c := &b.strs[i]
		clear(c.ids)
		clear(c.keys)
		clear(c.bms)
		for id := range c.win {
			if w := &c.win[id]; w.bits != nil {
				clear(w.bits)
				b.str.free = append(b.str.free, w.bits)
			}
		}
		clear(c.win)
		c.keys, c.bms, c.win = c.keys[:0], c.bms[:0], c.win[:0]
		c.tot, c.null = c.tot[:0], totals{}
	}
}

// addRecord adds the rows of a record batch, numbered after those added
// before. Columns the record lacks are null in it.
func (b *indexBuilder) addRecord(rec arrow.RecordBatch) error {
	n := int(rec.NumRows())
	if b.rows+uint64(n) > math.MaxUint32+1 {
		return fmt.Errorf("index: more than %d rows in one file", uint64(math.MaxUint32)+1)
	}
	if n == 0 {
		return nil
	}
	base := uint32(b.rows)
	sc := rec.Schema()
	var rt *rowTotals
	if !b.noTotals {
		var err error
		if rt, err = b.rowTotals(rec, n); err != nil {
			return err
		}
		b.noTotals = rt == nil
	}
	for i, spec := range indexSpecs {
		var col arrow.Array
		if idx := sc.FieldIndices(spec.name); len(idx) > 0 {
			col = rec.Column(idx[0])
		} else if totalsKey(spec.name) {
			b.noTotals, rt = true, nil
		}
		var err error
		switch {
		case i < 2:
			err = b.ips[i].add(col, n, b, rt)
		case i < 4:
			err = b.ports[i-2].add(col, base, n, b, rt)
		case spec.name == "rule" || spec.name == "resource_id":
			err = b.strs[i-4].add(col, base, &b.str, rt)
		default:
			err = b.strs[i-4].add(col, base, &b.str, nil)
		}
		if err != nil {
			return fmt.Errorf("index %s: %w", spec.name, err)
		}
	}
	if rt != nil {
		idx := sc.FieldIndices("proto")
		if len(idx) == 0 {
			b.noTotals = true
		} else if err := b.proto.add(rec.Column(idx[0]), n, rt); err != nil {
			return fmt.Errorf("index proto: %w", err)
		}
	}
	b.rows += uint64(n)
	return nil
}

// totalsKey reports whether a column keys totals.
func totalsKey(name string) bool {
	for _, s := range totalsSpecs {
		if s.name == name {
			return true
		}
	}
	return false
}

// dictionary returns the values and indices of a dictionary-encoded
// string column.
func dictionary(x *array.Dictionary) (*array.String, []int32, error) {
	dict, ok := x.Dictionary().(*array.String)
	if !ok {
		return nil, nil, fmt.Errorf("dictionary of %s, want string", x.Dictionary().DataType())
	}
	idx, ok := x.Indices().(*array.Int32)
	if !ok {
		return dict, nil, nil
	}
	return dict, idx.Int32Values(), nil
}

// dictIndex returns the dictionary index of row i, checked.
func dictIndex(x *array.Dictionary, vals []int32, i, n int) (int, error) {
	var d int
	if vals != nil {
		d = int(vals[i])
	} else {
		d = x.GetValueIndex(i)
	}
	if uint(d) >= uint(n) {
		return 0, fmt.Errorf("dictionary index %d of %d", d, n)
	}
	return d, nil
}

// dictIDs sets ids[i] to the key id of row i of a dictionary-encoded
// column, −1 for null, translating dictionary indices through trans
// (reset to the dictionary's length; −2 for not yet known, then what
// intern returns for the value, −1 for a null value).
func dictIDs(x *array.Dictionary, ids, trans []int32, intern func(string) int32) error {
	dict, vals, err := dictionary(x)
	if err != nil {
		return err
	}
	resolve := func(d int) int32 {
		t := int32(-1)
		if dict.IsValid(d) {
			t = intern(dict.Value(d))
		}
		trans[d] = t
		return t
	}
	if vals != nil && x.NullN() == 0 && len(vals) >= len(ids) {
		for i, d := range vals[:len(ids)] {
			if uint(d) >= uint(len(trans)) {
				return fmt.Errorf("dictionary index %d of %d", d, len(trans))
			}
			t := trans[d]
			if t == -2 {
				t = resolve(int(d))
			}
			ids[i] = t
		}
		return nil
	}
	for i := range ids {
		ids[i] = -1
		if x.IsNull(i) {
			continue
		}
		d, err := dictIndex(x, vals, i, len(trans))
		if err != nil {
			return err
		}
		t := trans[d]
		if t == -2 {
			t = resolve(d)
		}
		ids[i] = t
	}
	return nil
}

// transTable resets a dictionary translation table to n unknown entries.
func transTable(t []int32, n int) []int32 {
	t = slices.Grow(t[:0], n)[:n]
	for i := range t {
		t[i] = -2
	}
	return t
}

// noKey is the key id of a row without one (null, or not an address).
const noKey = math.MaxUint32

// ipBuild gathers an address column: a key id per row, 16 bits wide
// (math.MaxUint16 for none) until a file has 65535 addresses; and the
// totals of each text.
type ipBuild struct {
	// ids maps a text to its key id; a text that is not an address gets
	// an odd id, −2 down, which counts totals but is no key of the
	// postings.
	ids    map[string]int32
	addrs  []netip.Addr // by key id
	counts []uint32     // rows by key id
	rows   idPages      // key id by row
	wide   bool         // ids are 32 bits wide from the last page on
	trans  []int32

	tot  []totals // by key id
	odd  []totals // by odd id: odd[−2−id]
	nodd int32
	null totals
}

func (c *ipBuild) intern(s string) int32 {
	if id, ok := c.ids[s]; ok {
		return id
	}
	var id int32
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		// Texts of one address (2001:DB8::1, 2001:db8::1) get ids of
		// their own, merged by invertIPs.
		id = int32(len(c.addrs))
		c.addrs = append(c.addrs, a)
		c.counts = append(c.counts, 0)
	} else {
		id = -2 - c.nodd
		c.nodd++
	}
	c.ids[strings.Clone(s)] = id
	return id
}

func (c *ipBuild) add(a arrow.Array, n int, b *indexBuilder, rt *rowTotals) error {
	ids := slices.Grow(b.ids[:0], n)[:n]
	b.ids = ids
	grow := n // ids this record may add
	switch x := a.(type) {
	case nil, *array.Null:
		for i := range ids {
			ids[i] = -1
		}
		grow = 0
	case *array.Dictionary:
		grow = x.Dictionary().Len()
		c.trans = transTable(c.trans, grow)
		if err := dictIDs(x, ids, c.trans, c.intern); err != nil {
			return err
		}
	case *array.String:
		for i := range ids {
			ids[i] = -1
			if x.IsValid(i) {
				ids[i] = c.intern(x.Value(i))
			}
		}
	default:
		return fmt.Errorf("column of %s, want string", a.DataType())
	}
	counts := c.counts
	if rt == nil {
		for i, id := range ids {
			if id >= 0 {
				counts[id]++
			} else {
				ids[i] = -1 // no key of the postings
			}
		}
	} else {
		c.tot = append(c.tot, make([]totals, len(c.addrs)-len(c.tot))...)
		c.odd = append(c.odd, make([]totals, int(c.nodd)-len(c.odd))...)
		tot := c.tot
		for i, id := range ids {
			var t *totals
			switch {
			case id >= 0:
				counts[id]++
				t = &tot[id]
			case id == -1:
				t = &c.null
			default:
				t = &c.odd[-2-id]
				ids[i] = -1
			}
			rt.add(t, i)
		}
	}
	c.wide = c.wide || len(c.addrs)+grow >= math.MaxUint16
	c.rows.append(b, c.wide, ids)
	return nil
}

// portBuild gathers a port column: the port of each row; and, for
// dst_port, the totals of each value.
type portBuild struct {
	rows idPages    // 16 bits wide
	bad  []uint32   // rows without a port (null, or outside 0-65535), ascending
	tot  *intTotals // nil: no totals
}

func (c *portBuild) add(a arrow.Array, base uint32, n int, b *indexBuilder, rt *rowTotals) error {
	if rt != nil && c.tot != nil {
		if err := c.tot.add(a, n, rt); err != nil {
			return err
		}
	}
	ids := slices.Grow(b.ids[:0], n)[:n]
	b.ids = ids
	switch x := a.(type) {
	case nil, *array.Null:
		for i := range ids {
			ids[i] = 0
			c.bad = append(c.bad, base+uint32(i))
		}
	case *array.Int32:
		nulls := x.NullN() > 0
		for i, v := range x.Int32Values() {
			if uint32(v) > math.MaxUint16 || (nulls && x.IsNull(i)) {
				c.bad = append(c.bad, base+uint32(i))
				v = 0
			}
			ids[i] = v
		}
	default:
		return fmt.Errorf("column of %s, want int32", a.DataType())
	}
	c.rows.append(b, false, ids)
	return nil
}

// strBuild gathers a string column as a roaring bitmap per value. The
// rows of a value in the current block of 65536 rows (a roaring
// container's) are set in a dense window, which becomes a container, run
// optimized, when the value's rows reach the next block: runs cost a few
// word writes, and no container is rebuilt row by row.
type strBuild struct {
	ids   map[string]int32
	keys  []string
	bms   []*roaring.Bitmap
	win   []window // by key id
	trans []int32
	tot   []totals // by key id (rule and resource_id)
	null  totals
}

// window is the rows of one value in one block, a bit each.
type window struct {
	block uint32
	bits  []uint64 // 1024 words, nil while the value has no pending row
}

const windowWords = 1 << 16 / 64

// strScratch is the per-record scratch of the string columns, and the
// windows not in use.
type strScratch struct {
	ids  []int32 // key id by row, −1 for null
	free [][]uint64
}

func (c *strBuild) intern(s string) int32 {
	if id, ok := c.ids[s]; ok {
		return id
	}
	id := int32(len(c.keys))
	s = strings.Clone(s)
	c.ids[s] = id
	c.keys = append(c.keys, s)
	c.bms = append(c.bms, roaring.New())
	c.win = append(c.win, window{})
	return id
}

// addRun adds rows [from, to) to key id.
func (c *strBuild) addRun(id int32, from, to uint32, s *strScratch) {
	w := &c.win[id]
	for from < to {
		block := from >> 16
		if w.bits != nil && w.block != block {
			c.flush(id, s)
		}
		if w.bits == nil {
			if n := len(s.free); n > 0 {
				w.bits, s.free = s.free[n-1], s.free[:n-1]
			} else {
				w.bits = make([]uint64, windowWords)
			}
			w.block = block
		}
		end := min(uint64(to), uint64(block+1)<<16)
		setBits(w.bits, from&0xffff, uint32(end-uint64(block)<<16))
		from = uint32(end)
		if end == 1<<32 {
			break
		}
	}
}

// setBits sets bits [lo, hi) of words.
func setBits(words []uint64, lo, hi uint32) {
	for lo < hi {
		i, b := lo>>6, lo&63
		n := min(hi-lo, 64-b)
		if n == 64 {
			words[i] = ^uint64(0)
		} else {
			words[i] |= (1<<n - 1) << b
		}
		lo += n
	}
}

// flush adds key id's window to its bitmap.
func (c *strBuild) flush(id int32, s *strScratch) {
	w := &c.win[id]
	if w.bits == nil {
		return
	}
	tmp := roaring.FromDense(w.bits, true)
	tmp.RunOptimize()
	if w.block > 0 {
		tmp = roaring.AddOffset64(tmp, int64(w.block)<<16)
	}
	c.bms[id].Or(tmp)
	clear(w.bits)
	s.free = append(s.free, w.bits)
	w.bits = nil
}

// flushAll adds every pending row to the bitmaps.
func (c *strBuild) flushAll(s *strScratch) {
	for id := range c.win {
		c.flush(int32(id), s)
	}
}

func (c *strBuild) add(a arrow.Array, base uint32, s *strScratch, rt *rowTotals) error {
	switch x := a.(type) {
	case nil:
		return nil
	case *array.Null:
		if rt != nil {
			for i := range x.Len() {
				rt.add(&c.null, i)
			}
		}
		return nil
	}
	ids := slices.Grow(s.ids[:0], a.Len())[:a.Len()]
	switch x := a.(type) {
	case *array.Dictionary:
		c.trans = transTable(c.trans, x.Dictionary().Len())
		if err := dictIDs(x, ids, c.trans, c.intern); err != nil {
			return err
		}
	case *array.String:
		for i := range ids {
			ids[i] = -1
			if x.IsValid(i) {
				ids[i] = c.intern(x.Value(i))
			}
		}
	default:
		return fmt.Errorf("column of %s, want string", a.DataType())
	}
	s.ids = ids
	if rt != nil {
		c.tot = append(c.tot, make([]totals, len(c.keys)-len(c.tot))...)
		for i, id := range ids {
			if id >= 0 {
				rt.add(&c.tot[id], i)
			} else {
				rt.add(&c.null, i)
			}
		}
	}
	start := 0
	for i := 1; i <= len(ids); i++ {
		if i == len(ids) || ids[i] != ids[start] {
			if id := ids[start]; id >= 0 {
				if i-start == 1 { // the common case of scattered values
					w := &c.win[id]
					if r := base + uint32(start); w.bits != nil && w.block == r>>16 {
						w.bits[r&0xffff>>6] |= 1 << (r & 63)
						start = i
						continue
					}
				}
				c.addRun(id, base+uint32(start), base+uint32(i), s)
			}
			start = i
		}
	}
	return nil
}

// inverted is a column turned around: for each key (in order), its rows.
// Its slices are reused from one column to the next.
type inverted struct {
	width  int    // bytes per key
	keys   []byte // n keys of width bytes, ascending
	counts []uint32
	start  []uint32 // rows of key i: rows[start[i]:start[i+1]]
	rows   []uint32 // ascending within each key
}

func (v *inverted) key(i int) []byte { return v.keys[i*v.width : (i+1)*v.width] }
func (v *inverted) n() int           { return len(v.counts) }

func (v *inverted) reset(width, n int) {
	v.width = width
	v.keys = slices.Grow(v.keys[:0], n*width)
	v.counts = slices.Grow(v.counts[:0], n)
	v.start = slices.Grow(v.start[:0], n+1)
}

// ipRank is an address column's distinct addresses in order, and the
// rank of each key id among them (texts of one address share a rank).
type ipRank struct {
	rank   []uint32 // by key id
	uniq   []netip.Addr
	counts []uint32 // rows by rank
	n4     int      // IPv4 addresses come first
	order  []uint32
}

func (r *ipRank) compute(c *ipBuild) {
	r.order = slices.Grow(r.order[:0], len(c.addrs))
	for i := range c.addrs {
		r.order = append(r.order, uint32(i))
	}
	slices.SortFunc(r.order, func(x, y uint32) int { return c.addrs[x].Compare(c.addrs[y]) })
	r.rank = slices.Grow(r.rank[:0], len(c.addrs))[:len(c.addrs)]
	r.uniq, r.counts, r.n4 = r.uniq[:0], r.counts[:0], 0
	for _, id := range r.order {
		a := c.addrs[id]
		if len(r.uniq) == 0 || r.uniq[len(r.uniq)-1] != a {
			r.uniq = append(r.uniq, a)
			r.counts = append(r.counts, 0)
			if a.Is4() {
				r.n4 = len(r.uniq)
			}
		}
		r.rank[id] = uint32(len(r.uniq) - 1)
		r.counts[len(r.uniq)-1] += c.counts[id]
	}
}

// invertIPs fills v4 and v6 with the two families of c, ranked by r,
// in one pass; their rows share *rowsBuf.
func (b *indexBuilder) invertIPs(c *ipBuild, r *ipRank, v4, v6 *inverted, rowsBuf *[]uint32) error {
	v4.reset(4, r.n4)
	v6.reset(16, len(r.uniq)-r.n4)
	next := slices.Grow(b.next[:0], len(r.uniq))[:len(r.uniq)]
	b.next = next
	pos := uint32(0)
	for k, a := range r.uniq {
		v := v6
		if k == r.n4 { // the end of v4's rows, the start of v6's
			v4.start = append(v4.start, pos)
			pos = 0
		}
		if k < r.n4 {
			x := a.As4()
			v4.keys = append(v4.keys, x[:]...)
			v = v4
		} else {
			x := a.As16()
			v6.keys = append(v6.keys, x[:]...)
		}
		v.counts = append(v.counts, r.counts[k])
		v.start = append(v.start, pos)
		pos += r.counts[k]
	}
	if r.n4 == len(r.uniq) {
		v4.start = append(v4.start, pos)
		v6.start = append(v6.start, 0)
	} else {
		v6.start = append(v6.start, pos)
	}
	total4 := v4.start[len(v4.start)-1]
	total6 := v6.start[len(v6.start)-1]
	rows := slices.Grow((*rowsBuf)[:0], int(total4+total6))[:total4+total6]
	*rowsBuf = rows
	v4.rows, v6.rows = rows[:total4:total4], rows[total4:]
	for k := range r.uniq {
		if k < r.n4 {
			next[k] = v4.start[k]
		} else {
			next[k] = total4 + v6.start[k-r.n4]
		}
	}
	row, rank := uint32(0), r.rank
	return c.rows.each(b, func(u16 []uint16, u32 []uint32) {
		for _, id := range u16 {
			if id != math.MaxUint16 {
				k := rank[id]
				rows[next[k]] = row
				next[k]++
			}
			row++
		}
		for _, id := range u32 {
			if id != noKey {
				k := rank[id]
				rows[next[k]] = row
				next[k]++
			}
			row++
		}
	})
}

// invertPorts fills v with the rows of c sorted by port >> ks.
func (b *indexBuilder) invertPorts(c *portBuild, ks uint8, v *inverted) error {
	nb := 1 << (16 - ks)
	counts := slices.Grow(b.counts[:0], nb)[:nb]
	clear(counts)
	b.counts = counts
	err := c.rows.each(b, func(u16 []uint16, _ []uint32) {
		for _, p := range u16 {
			counts[p>>ks]++
		}
	})
	if err != nil {
		return err
	}
	counts[0] -= uint32(len(c.bad)) // counted as port 0 above
	keys := 0
	for _, n := range counts {
		if n > 0 {
			keys++
		}
	}
	v.reset(2, keys)
	next := slices.Grow(b.next[:0], nb)[:nb]
	b.next = next
	pos := uint32(0)
	for k, n := range counts {
		next[k] = pos
		if n > 0 {
			v.keys = append(v.keys, byte(k>>8), byte(k))
			v.counts = append(v.counts, n)
			v.start = append(v.start, pos)
		}
		pos += n
	}
	v.start = append(v.start, pos)
	v.rows = slices.Grow(v.rows[:0], int(pos))[:pos]
	bad, row, rows := c.bad, uint32(0), v.rows
	return c.rows.each(b, func(u16 []uint16, _ []uint32) {
		for _, p := range u16 {
			if len(bad) > 0 && bad[0] == row {
				bad = bad[1:]
			} else {
				k := p >> ks
				rows[next[k]] = row
				next[k]++
			}
			row++
		}
	})
}

// Levels of coarseness the budget search tries: row shifts 0, 2, ..., 16
// for all, key shifts 0, 2, ..., 8 for ports.
const (
	nLevels    = maxShift/2 + 1
	nKeyLevels = 5
)

// estimateRows is about how many rows an estimate samples.
const estimateRows = 1 << 13

// estimate returns the bytes column v would take, its keys grouped by
// ks (a port column's: buckets of 1<<ks ports), at each row shift 0, 2,
// ..., 16: keys, counts, lengths, postings (the smallest of varint, runs
// and bitset) and fence. Keys and counts are counted exactly; postings on a
// sample of keys (every key holding more than 1/16 of the rows, and one
// in m of the others), scaled up.
func (b *indexBuilder) estimate(v *inverted, kind colKind, ks uint8) (out [nLevels]int64) {
	total := int(v.start[v.n()])
	if total == 0 {
		return out
	}
	m := max(1, total/estimateRows)
	heavy := max(1, total/16)
	var last, run, next [nLevels]int64 // per level: last block, start of its run, first block a next run may start at
	var vb, rb [nLevels]int            // per level: varint and run encoding bytes
	var fixed int64
	var prev, key [16]byte
	w := v.width
	for k, bi := 0, 0; k < v.n(); bi++ {
		e := k + 1
		copy(key[:w], v.key(k))
		if ks > 0 {
			bk := binary.BigEndian.Uint16(key[:]) >> ks
			for e < v.n() && binary.BigEndian.Uint16(v.key(e))>>ks == bk {
				e++
			}
			binary.BigEndian.PutUint16(key[:], bk)
		}
		n := int(v.start[e] - v.start[k])
		fixed += int64(uvarintLen(uint64(n)))
		if bi%chunkMaxKeys == 0 {
			fixed += int64(w + 8) // fence entry
		} else {
			fixed += int64(keyDeltaLen(kind, prev[:w], key[:w]))
		}
		prev = key
		weight := int64(0)
		switch {
		case n >= heavy:
			weight = 1
		case bi%m == 0:
			weight = int64(m)
		}
		if weight > 0 {
			rows := v.rows[v.start[k]:v.start[e]]
			if e-k > 1 {
				rows = b.merge(v, k, e)
			}
			for l := range last {
				last[l], vb[l], rb[l], run[l], next[l] = -1, 0, 0, -1, 0
			}
			for _, r := range rows {
				for l := 0; l < nLevels; l++ {
					b := int64(r >> (2 * l))
					if b == last[l] {
						break // coarser levels have not changed either
					}
					vb[l] += uvarintLen(uint64(b - last[l] - 1))
					if run[l] < 0 || b != last[l]+1 { // a new run
						if run[l] >= 0 {
							rb[l] += uvarintLen(uint64(last[l] - run[l]))
							next[l] = last[l] + 2
						}
						rb[l] += uvarintLen(uint64(b - next[l]))
						run[l] = b
					}
					last[l] = b
				}
			}
			for l := range out {
				rb[l] += uvarintLen(uint64(last[l] - run[l]))
				pb := min(vb[l], rb[l], int(last[l]/8+1))
				out[l] += weight * int64(pb+uvarintLen(uint64(pb)<<2))
			}
		}
		k = e
	}
	for l := range out {
		out[l] += fixed
	}
	return out
}

// merge returns the rows of keys [k, e) of v in order, in scratch: small
// sets sorted, large ones through a bitset.
func (b *indexBuilder) merge(v *inverted, k, e int) []uint32 {
	rows := append(b.blocks[:0], v.rows[v.start[k]:v.start[e]]...)
	b.blocks = rows
	if len(rows) < 256 {
		slices.Sort(rows)
		return rows
	}
	lo, hi := rows[0], rows[0]
	for _, r := range rows {
		lo, hi = min(lo, r), max(hi, r)
	}
	nw := int(hi>>6-lo>>6) + 1
	set := slices.Grow(b.bits[:0], nw)[:nw]
	clear(set)
	b.bits = set
	for _, r := range rows {
		set[r>>6-lo>>6] |= 1 << (r & 63)
	}
	rows = rows[:0]
	for i, x := range set {
		for ; x != 0; x &= x - 1 {
			rows = append(rows, (lo>>6+uint32(i))<<6+uint32(bits.TrailingZeros64(x)))
		}
	}
	return rows
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// keyDeltaLen is len(appendKey(nil, kind, prev, key)).
func keyDeltaLen(kind colKind, prev, key []byte) int {
	switch kind {
	case kindIP4:
		return uvarintLen(uint64(binary.BigEndian.Uint32(key) - binary.BigEndian.Uint32(prev)))
	case kindPort:
		return uvarintLen(uint64(binary.BigEndian.Uint16(key) - binary.BigEndian.Uint16(prev)))
	}
	shared := 0
	for shared < len(prev) && shared < len(key) && prev[shared] == key[shared] {
		shared++
	}
	n := uvarintLen(uint64(shared)) + len(key) - shared
	if kind != kindIP6 {
		n += uvarintLen(uint64(len(key) - shared))
	}
	return n
}

// coarse is an address or port column during the budget search.
type coarse struct {
	name   string
	kind   colKind
	port   *portBuild                 // port columns
	sizes  [nKeyLevels][nLevels]int64 // estimated, by ks/2 and rs/2
	have   [nKeyLevels]bool
	inv    *inverted // exact keys
	rs, ks uint8
}

func (c *coarse) size() int64 { return c.sizes[c.ks/2][c.rs/2] }

// colOut is one encoded column.
type colOut struct {
	name           string
	kind           colKind
	rs, ks         uint8
	nkeys, nchunks uint64
	indexed        uint64
	fence, data    []byte
}

func (o *colOut) reset(name string, kind colKind) {
	*o = colOut{name: name, kind: kind, fence: o.fence[:0], data: o.data[:0]}
}

// finish encodes the index of the rows added, for the Parquet file id.
// The result is valid until the next finish with the builder's scratch.
func (b *indexBuilder) finish(id parquetID, cfg IndexConfig) ([]byte, error) {
	if b.spillErr != nil {
		return nil, b.spillErr
	}
	budget := cfg.Budget
	if budget <= 0 {
		budget = DefaultIndexConfig().Budget
	}
	s := b.indexScratch
	const nOut = 6 + nStringCols
	if len(s.outs) < nOut+len(totalsSpecs) {
		s.outs = make([]colOut, nOut+len(totalsSpecs))
	}
	// The string columns: exact, a fixed cost.
	fixed := int64(indexHeaderLen + 64*nOut)
	for i := range b.strs {
		o := &s.outs[6+i]
		b.strs[i].flushAll(&b.str)
		b.encodeStrings(&b.strs[i], indexSpecs[4+i].name, o)
		fixed += int64(len(o.fence) + len(o.data))
	}
	// The totals: exact, a fixed cost too. They, and the address
	// postings below, need each address column's ranks.
	for i := range b.ips {
		s.rank[i].compute(&b.ips[i])
	}
	nt, err := b.encodeTotals(s.outs[nOut:])
	if err != nil {
		return nil, err
	}
	for _, o := range s.outs[nOut : nOut+nt] {
		fixed += int64(len(o.fence) + len(o.data))
	}
	// Address and port columns: the finest levels in budget.
	var cs [6]coarse
	for i := range b.ips {
		r := &s.rank[i]
		v4, v6 := &s.ipInv[i][0], &s.ipInv[i][1]
		if err := b.invertIPs(&b.ips[i], r, v4, v6, &s.ipRows[i]); err != nil {
			return nil, err
		}
		for f, v := range []*inverted{v4, v6} {
			kind := []colKind{kindIP4, kindIP6}[f]
			c := &cs[2*i+f]
			*c = coarse{name: indexSpecs[i].name, kind: kind, inv: v}
			c.sizes[0], c.have[0] = b.estimate(v, kind, 0), true
		}
	}
	for i := range b.ports {
		c := &cs[4+i]
		*c = coarse{name: indexSpecs[2+i].name, kind: kindPort, port: &b.ports[i], inv: &s.pinv[i]}
		if err := b.invertPorts(c.port, 0, c.inv); err != nil {
			return nil, err
		}
		c.sizes[0], c.have[0] = b.estimate(c.inv, kindPort, 0), true
	}
	limit := int64(budget * float64(id.size))
	var done [len(cs)]struct{ rs, ks uint8 }
	for round := 0; ; round++ {
		for {
			total := fixed
			for i := range cs {
				total += cs[i].size()
			}
			if total <= limit || !b.coarsen(cs[:]) {
				break
			}
		}
		total := fixed
		for i := range cs {
			c := &cs[i]
			if round == 0 || done[i].rs != c.rs || done[i].ks != c.ks {
				v := c.inv
				if c.ks > 0 {
					v = &s.inv
					if err := b.invertPorts(c.port, c.ks, v); err != nil {
						return nil, err
					}
				}
				b.encodeCoarse(c, v, &s.outs[i])
				done[i].rs, done[i].ks = c.rs, c.ks
			}
			total += int64(len(s.outs[i].fence) + len(s.outs[i].data))
		}
		// The estimates sample: when the index came out more than a
		// sixteenth over budget, correct them by what the encoding took,
		// and coarsen again.
		if total <= limit+limit/16 || round == 3 {
			break
		}
		for i := range cs {
			c := &cs[i]
			est, got := c.size(), int64(len(s.outs[i].fence)+len(s.outs[i].data))
			if est <= 0 {
				continue
			}
			for k := range c.sizes {
				for l := range c.sizes[k] {
					c.sizes[k][l] = c.sizes[k][l] * got / est
				}
			}
		}
	}
	s.file = assembleIndex(s.file[:0], s.outs[:nOut+nt], b.rows, id)
	return s.file, nil
}

// coarsen makes the one column coarser that saves the most bytes per
// step of coarseness (a step is 4 times the rows per block, or, for
// ports, 4 times the ports per key), jumping several steps at once where
// the first alone saves little. It reports false when no step saves
// anything.
func (b *indexBuilder) coarsen(cs []coarse) bool {
	var best *coarse
	var bestRatio float64
	var bestRS, bestKS uint8
	try := func(c *coarse, rs, ks uint8) {
		steps := float64(rs-c.rs)/2 + float64(ks-c.ks)/2
		if r := float64(c.size()-c.sizes[ks/2][rs/2]) / steps; r > bestRatio {
			best, bestRatio, bestRS, bestKS = c, r, rs, ks
		}
	}
	for i := range cs {
		c := &cs[i]
		for rs := c.rs + 2; rs <= maxShift; rs += 2 {
			try(c, rs, c.ks)
		}
		if c.kind != kindPort || c.ks >= 2*(nKeyLevels-1) {
			continue
		}
		if k := c.ks/2 + 1; !c.have[k] {
			c.sizes[k], c.have[k] = b.estimate(c.inv, kindPort, 2*k), true
		}
		for rs := c.rs; rs <= maxShift; rs += 2 {
			try(c, rs, c.ks+2)
		}
	}
	if best == nil {
		return false
	}
	best.rs, best.ks = bestRS, bestKS
	return true
}

// chunker cuts a column's keys into chunks and writes its fence.
type chunker struct {
	out   *colOut
	ents  []byte // entries of the open chunk
	posts []byte // postings of the open chunk
	first []byte
	prev  []byte
	n     int
}

func (w *chunker) start(o *colOut) {
	w.out, w.ents, w.posts, w.n = o, w.ents[:0], w.posts[:0], 0
}

func (w *chunker) add(key []byte, count uint64, enc byte, posting []byte) {
	if w.n > 0 && (w.n >= chunkMaxKeys || len(w.posts) > 0 && len(w.posts)+len(posting) > chunkMaxBytes) {
		w.cut()
	}
	if w.n == 0 {
		w.first = append(w.first[:0], key...)
	} else {
		w.ents = appendKey(w.ents, w.out.kind, w.prev, key)
	}
	w.ents = binary.AppendUvarint(w.ents, count)
	w.ents = binary.AppendUvarint(w.ents, uint64(len(posting))<<2|uint64(enc))
	w.posts = append(w.posts, posting...)
	w.prev = append(w.prev[:0], key...)
	w.n++
	w.out.nkeys++
	w.out.indexed += count
}

func (w *chunker) cut() {
	if w.n == 0 {
		return
	}
	start := len(w.out.data)
	w.out.data = append(append(w.out.data, w.ents...), w.posts...)
	chunk := w.out.data[start:]
	if w.out.kind.keyLen() < 0 {
		w.out.fence = binary.AppendUvarint(w.out.fence, uint64(len(w.first)))
	}
	w.out.fence = append(w.out.fence, w.first...)
	w.out.fence = binary.AppendUvarint(w.out.fence, uint64(len(chunk)))
	w.out.fence = binary.AppendUvarint(w.out.fence, uint64(w.n))
	w.out.fence = binary.LittleEndian.AppendUint32(w.out.fence, crc32c(chunk))
	w.out.nchunks++
	w.ents, w.posts, w.n = w.ents[:0], w.posts[:0], 0
}

// appendKey appends key, which sorts after prev, encoded after it.
func appendKey(dst []byte, kind colKind, prev, key []byte) []byte {
	switch kind {
	case kindIP4:
		return binary.AppendUvarint(dst, uint64(binary.BigEndian.Uint32(key)-binary.BigEndian.Uint32(prev)))
	case kindPort:
		return binary.AppendUvarint(dst, uint64(binary.BigEndian.Uint16(key)-binary.BigEndian.Uint16(prev)))
	}
	shared := 0
	for shared < len(prev) && shared < len(key) && prev[shared] == key[shared] {
		shared++
	}
	dst = binary.AppendUvarint(dst, uint64(shared))
	if kind != kindIP6 {
		dst = binary.AppendUvarint(dst, uint64(len(key)-shared))
	}
	return append(dst, key[shared:]...)
}

// appendBlocks appends the smallest encoding of an ascending list of
// distinct block numbers: varint gaps, runs, a bitset, or (with long
// runs over many containers' worth of blocks) a roaring bitmap.
func appendBlocks(dst []byte, blocks []uint32) ([]byte, byte) {
	vlen, rlen, prev, runs := 0, 0, int64(-1), 0
	next, start := int64(0), int64(-1) // runs: first block a run may start at, start of the open run
	for _, b := range blocks {
		vlen += uvarintLen(uint64(int64(b) - prev - 1))
		if start < 0 || int64(b) != prev+1 {
			if start >= 0 {
				rlen += uvarintLen(uint64(prev - start))
				next = prev + 2
			}
			rlen += uvarintLen(uint64(int64(b) - next))
			start = int64(b)
			runs++
		}
		prev = int64(b)
	}
	rlen += uvarintLen(uint64(prev - start))
	blen := int(blocks[len(blocks)-1]/8 + 1)
	// A roaring bitmap of run containers takes about 4 bytes a run, plus
	// 8 and 6 a container: try it only if it may be smaller.
	containers := int(blocks[len(blocks)-1]>>16-blocks[0]>>16) + 1
	if 8+6*containers+4*runs < min(vlen, blen, rlen) {
		bm := roaring.New()
		bm.AddMany(blocks)
		bm.RunOptimize()
		if n := int(bm.GetSerializedSizeInBytes()); n < vlen && n < blen && n < rlen {
			out, err := bm.ToBytes()
			if err != nil {
				panic("BUG: roaring serialization: " + err.Error())
			}
			return append(dst, out...), encRoaring
		}
	}
	switch {
	case blen < vlen && blen < rlen:
		start := len(dst)
		dst = append(dst, make([]byte, blen)...)
		for _, b := range blocks {
			dst[start+int(b/8)] |= 1 << (b % 8)
		}
		return dst, encBitset
	case rlen < vlen:
		dst = slices.Grow(dst, rlen)
		next, start, prev := int64(0), int64(blocks[0]), int64(blocks[0])
		for _, b := range blocks[1:] {
			if int64(b) != prev+1 {
				dst = binary.AppendUvarint(dst, uint64(start-next))
				dst = binary.AppendUvarint(dst, uint64(prev-start))
				next, start = prev+2, int64(b)
			}
			prev = int64(b)
		}
		dst = binary.AppendUvarint(dst, uint64(start-next))
		return binary.AppendUvarint(dst, uint64(prev-start)), encRuns
	}
	dst = slices.Grow(dst, vlen)
	prev = -1
	for _, b := range blocks {
		dst = binary.AppendUvarint(dst, uint64(int64(b)-prev-1))
		prev = int64(b)
	}
	return dst, encVarint
}

// encodeCoarse encodes an address or port column at its chosen levels;
// v holds its keys grouped by c.ks.
func (b *indexBuilder) encodeCoarse(c *coarse, v *inverted, o *colOut) {
	o.reset(c.name, c.kind)
	o.rs, o.ks = c.rs, c.ks
	w := &b.chunker
	w.start(o)
	for k := 0; k < v.n(); k++ {
		blocks := v.rows[v.start[k]:v.start[k+1]]
		if c.rs > 0 {
			bl := b.blocks[:0]
			last := int64(-1)
			for _, r := range blocks {
				if x := r >> c.rs; int64(x) != last {
					bl = append(bl, x)
					last = int64(x)
				}
			}
			b.blocks, blocks = bl, bl
		}
		var enc byte
		b.post, enc = appendBlocks(b.post[:0], blocks)
		w.add(v.key(k), uint64(v.counts[k]), enc, b.post)
	}
	w.cut()
}

// encodeStrings encodes a string column, exact.
func (b *indexBuilder) encodeStrings(c *strBuild, name string, o *colOut) {
	o.reset(name, kindString)
	w := &b.chunker
	w.start(o)
	order := b.order[:0]
	for i := range c.keys {
		order = append(order, uint32(i))
	}
	b.order = order
	slices.SortFunc(order, func(x, y uint32) int { return strings.Compare(c.keys[x], c.keys[y]) })
	for _, id := range order {
		bm := c.bms[id]
		bm.RunOptimize()
		card := bm.GetCardinality()
		var enc byte = encRoaring
		size := bm.GetSerializedSizeInBytes()
		if card < size || uint64(bm.Maximum()/8+1) < size {
			b.blocks = slices.Grow(b.blocks[:0], int(card))[:card]
			bm.ToExistingArray(&b.blocks)
			b.post, enc = appendBlocks(b.post[:0], b.blocks)
		} else {
			b.post = slices.Grow(b.post[:0], int(size))
			buf := bytes.NewBuffer(b.post)
			if _, err := bm.WriteTo(buf); err != nil {
				panic("BUG: roaring serialization: " + err.Error())
			}
			b.post = buf.Bytes()
		}
		w.add([]byte(c.keys[id]), card, enc, b.post)
	}
	w.cut()
}

// assembleIndex appends the header, the directory and the sections of
// an index to dst.
func assembleIndex(dst []byte, cols []colOut, rows uint64, id parquetID) []byte {
	var dir []byte
	off := 0
	for i := range cols {
		c := &cols[i]
		dir = binary.AppendUvarint(dir, uint64(len(c.name)))
		dir = append(dir, c.name...)
		dir = append(dir, byte(c.kind), c.rs, c.ks)
		dir = binary.AppendUvarint(dir, c.nkeys)
		dir = binary.AppendUvarint(dir, c.nchunks)
		dir = binary.AppendUvarint(dir, c.indexed)
		dir = binary.AppendUvarint(dir, uint64(off))
		dir = binary.AppendUvarint(dir, uint64(len(c.fence)))
		off += len(c.fence)
		dir = binary.AppendUvarint(dir, uint64(off))
		dir = binary.AppendUvarint(dir, uint64(len(c.data)))
		off += len(c.data)
		if c.kind.isTotals() { // no fence: the CRC is the section's
			dir = binary.LittleEndian.AppendUint32(dir, crc32c(c.data))
		} else {
			dir = binary.LittleEndian.AppendUint32(dir, crc32c(c.fence))
		}
	}
	dst = slices.Grow(dst, indexHeaderLen+len(dir)+off)
	h := dst[len(dst) : len(dst)+indexHeaderLen]
	clear(h)
	copy(h, indexMagic)
	binary.LittleEndian.PutUint16(h[8:], indexVersion)
	binary.LittleEndian.PutUint16(h[10:], uint16(len(cols)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(dir)))
	binary.LittleEndian.PutUint64(h[16:], rows)
	binary.LittleEndian.PutUint64(h[24:], uint64(id.size))
	binary.LittleEndian.PutUint32(h[32:], id.crc)
	binary.LittleEndian.PutUint32(h[36:], id.footerLen)
	binary.LittleEndian.PutUint32(h[40:], id.footerCRC)
	binary.LittleEndian.PutUint32(h[44:], crc32c(dir))
	binary.LittleEndian.PutUint32(h[52:], crc32c(h[:52]))
	dst = append(append(dst, h...), dir...)
	for i := range cols {
		dst = append(append(dst, cols[i].fence...), cols[i].data...)
	}
	return dst
}

// FileScanner reads the rows of one Parquet file of the flow schema, for
// BuildIndex and Dataset.BuildIndexes. It calls fn with every row of the
// file at name, in file order, with at least the columns cols (Schema
// names) filled in, and returns the file's row count. A column the file
// lacks is not an error: its fields are left zero and the result lists it
// in Missing. The Flow is valid only during the call. An error from fn
// ends the scan and is returned.
//
// columnar has no Parquet reader of its own, and cannot import the one of
// columnar/query (which imports columnar): cmd passes query.ScanFile in.
type FileScanner func(ctx context.Context, name string, cols []string, fn func(f *Flow) error) (FileScan, error)

// FileScan is what a FileScanner tells of the file it read.
type FileScan struct {
	Rows    int64    // rows in the file
	Missing []string // the columns asked for that the file lacks
}

// BuildIndex builds the index of the Parquet file at parquetPath from
// its rows, read by scan, and writes it beside it (IndexPath), replacing
// any index there atomically. It does not touch a dataset's manifest: see
// Dataset.BuildIndexes for that.
func BuildIndex(parquetPath string, scan FileScanner) error {
	_, err := buildIndexFile(context.Background(), scan, nil, parquetPath, IndexPath(parquetPath), DefaultIndexConfig())
	return err
}

// buildIndexFile builds the index of a Parquet file into out and returns
// its size. The rows scan reads go through batch (nil: a new one) into
// the record batches the writer indexes, RowGroupRows at a time, so the
// index is the one PartitionWriter wrote with the file: the writer
// indexes its records in the order it writes their rows, and a record's
// length does not change the index.
func buildIndexFile(ctx context.Context, scan FileScanner, batch *Batch, parquetPath, out string, cfg IndexConfig) (int64, error) {
	if scan == nil {
		return 0, errors.New("BUG: no FileScanner to read Parquet files with")
	}
	size, sum, err := fileCRC(parquetPath)
	if err != nil {
		return 0, err
	}
	id := parquetID{size: size, crc: sum}
	f, err := os.Open(parquetPath)
	if err != nil {
		return 0, err
	}
	err = readParquetID(f, &id)
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", parquetPath, err)
	}
	b := newIndexBuilder(nil)
	b.spillDir = filepath.Dir(out)
	defer b.reset() // removes the spill file
	if err := os.MkdirAll(b.spillDir, 0o755); err != nil {
		return 0, err
	}
	if batch == nil {
		batch = NewBatch()
	}
	batch.Reset()
	defer batch.Reset()
	flush := func() error {
		if batch.Len() == 0 {
			return nil
		}
		rec := batch.Record()
		err := b.addRecord(rec)
		rec.Release()
		batch.Reset()
		if err != nil {
			return fmt.Errorf("%s: %w", parquetPath, err)
		}
		return nil
	}
	res, err := scan(ctx, parquetPath, indexReadColumns(), func(f *Flow) error {
		batch.Append(f)
		if batch.Len() >= RowGroupRows {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, err
	}
	b.lacks(res.Missing)
	if uint64(res.Rows) != b.rows {
		return 0, fmt.Errorf("%s: %d rows read of %d", parquetPath, b.rows, res.Rows)
	}
	data, err := b.finish(id, cfg)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", parquetPath, err)
	}
	return int64(len(data)), writeAtomic(out, data)
}

// lacks makes the named columns null in every row added, as addRecord
// makes a column its records lack: rows handed on as Flows fill a column
// the file lacks with zeros, and which columns those are is known only
// after the last row. Only the port columns need it: the Batch writes a
// missing address as "", which is no address, and a missing string as
// null, already. A file that lacks a column the totals count gets no
// totals, as a record lacking it does.
func (b *indexBuilder) lacks(names []string) {
	for _, name := range names {
		if totalsKey(name) || slices.Contains(totalsInputs[:], name) {
			b.noTotals = true
		}
		for i := range b.ports {
			if indexSpecs[2+i].name != name {
				continue
			}
			c := &b.ports[i]
			c.bad = slices.Grow(c.bad[:0], int(b.rows))
			for r := range b.rows {
				c.bad = append(c.bad, uint32(r))
			}
		}
	}
}

// writeAtomic writes a whole file through an AtomicFile.
func writeAtomic(name string, data []byte) error {
	f, err := CreateAtomic(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
