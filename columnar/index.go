package columnar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// The index file format; docs/format/index.md describes it in full.
//
//	header     56 bytes, fixed
//	directory  one entry per column, right after the header, then one
//	           per totals section
//	sections   per column: a fence (first key, length, key count and CRC
//	           of each chunk), then the chunks (keys, counts and postings);
//	           then the totals sections (index_totals.go)
const (
	indexMagic = "FLIDX\x00\r\n"
	// indexVersion is the version written; readers take minIndexVersion
	// up to it (version 2 added run postings, version 3 totals).
	indexVersion    = 3
	minIndexVersion = 1
	// totalsVersion is the first version that may hold totals sections.
	totalsVersion  = 3
	indexHeaderLen = 56
	// firstRead is what OpenIndex reads at once: the header and, for any
	// ordinary index, the whole directory.
	firstRead = 4096
	// Chunks hold at most chunkMaxKeys keys, and are cut once their
	// postings pass chunkMaxBytes, so that a look-up reads a few KiB.
	chunkMaxKeys  = 64
	chunkMaxBytes = 4096
	maxShift      = 16 // rows per block: 1<<16 at most (the builder's limit)
)

// Posting encodings, in the low two bits of a posting's length field.
const (
	encVarint  = 0 // uvarint first block, then uvarint(gap-1)
	encRoaring = 1 // roaring portable serialization
	encBitset  = 2 // bit b of the bytes (LSB first) is block b
	encRuns    = 3 // runs: uvarint(start), uvarint(len-1); then uvarint(start-prevEnd-2), uvarint(len-1)
)

type colKind uint8

const (
	kindString colKind = 1 + iota // any bytes, compared bytewise
	kindIP4                       // 4 bytes, big-endian
	kindIP6                       // 16 bytes (IPv4-mapped addresses are IPv6 here)
	kindPort                      // 2 bytes, big-endian: the port >> keyShift

	// Kinds of the totals sections (index_totals.go), by what their keys
	// are.
	kindTotalsAddr   // address texts: IPv4, IPv6, other texts, null
	kindTotalsInt    // int32 values
	kindTotalsString // strings, null
)

// isTotals reports whether k is the kind of a totals section.
func (k colKind) isTotals() bool { return k >= kindTotalsAddr && k <= kindTotalsString }

func (k colKind) keyLen() int {
	switch k {
	case kindIP4:
		return 4
	case kindIP6:
		return 16
	case kindPort:
		return 2
	}
	return -1
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Errors an index reports, wrapped in an *IndexError.
var (
	// ErrIndexCorrupt: the file is truncated, a checksum fails, or a
	// structure is inconsistent.
	ErrIndexCorrupt = errors.New("corrupt index")
	// ErrIndexStale: the index was built for another Parquet file (or
	// another version of it).
	ErrIndexStale = errors.New("index does not match its parquet file")
	// ErrIndexVersion: the file is an index of a version this build does
	// not read.
	ErrIndexVersion = errors.New("unsupported index version")
	// ErrNotIndexed: the index has no such column.
	ErrNotIndexed = errors.New("column not indexed")
	// ErrIndexOld: the index is of an older version than this build
	// writes. It reads, but lacks what came since (version 3: per-key
	// totals); Dataset.BuildIndexes rebuilds it.
	ErrIndexOld = errors.New("index of an older version")
)

// IndexError is an error reading an index: the file, the section (header,
// directory, the fence or a chunk of a column, the totals of a column)
// and the byte offset of the section or of the problem in the file. Err
// wraps ErrIndexCorrupt, ErrIndexStale, ErrIndexVersion, ErrNotIndexed,
// ErrIndexOld or an I/O error.
type IndexError struct {
	File    string
	Section string
	Offset  int64
	Err     error
}

func (e *IndexError) Error() string {
	return fmt.Sprintf("index %s: %s at offset %d: %v", e.File, e.Section, e.Offset, e.Err)
}

func (e *IndexError) Unwrap() error { return e.Err }

// IndexPath returns the path of the index sidecar of a Parquet file:
// part-X.parquet has part-X.idx beside it.
func IndexPath(parquetPath string) string {
	return strings.TrimSuffix(parquetPath, ".parquet") + ".idx"
}

// Index is an open index sidecar of one Parquet file. It maps each value
// of the indexed columns to the rows of the file that hold it, as a
// roaring bitmap of row numbers (0 is the file's first row).
//
// OpenIndex reads only the header and the directory; a look-up reads the
// column's fence (a few bytes per 64 keys, kept after the first use) and
// the chunks holding the keys it needs, with ReadAt. A column may be
// coarse, to keep the index small: its bitmaps then name blocks of rows
// (ColumnInfo.BlockRows) and, for ports, buckets of ports; Lookup then
// returns every row of each matching block, a superset of the rows that
// hold the value, which the caller must check against the data. Exact
// reports whether a column is exact. Key counts are always exact.
//
// An Index is safe for concurrent use. The bitmaps it returns belong to
// the caller, who may modify them; they stay valid after Close. The zero
// value is not usable; an Index must not be copied.
type Index struct {
	name  string
	r     io.ReaderAt
	c     io.Closer
	size  int64
	noCRC bool // fuzzing only: reach the decoders past the checksums

	rows        uint64
	parquetSize int64
	parquetCRC  uint32
	footerLen   uint32
	footerCRC   uint32
	version     uint16
	cols        []indexColumn
	totals      []indexColumn // totals sections: fence unused, data their bytes

	mu   sync.Mutex   // guards the fences
	read atomic.Int64 // bytes read, for tests and benchmarks
}

type indexColumn struct {
	name      string
	kind      colKind
	rowShift  uint8
	keyShift  uint8
	nkeys     uint64
	nchunks   uint64
	indexed   uint64 // rows that have a key
	fenceOff  int64  // absolute
	fenceLen  int64
	fenceCRC  uint32
	dataOff   int64 // absolute
	dataLen   int64
	dirOffset int64 // of the directory entry, for errors
	fence     *fence
}

// label names a column in errors: src_ip.v4, src_ip.v6, dst_port, rule;
// a totals section: totals of src_ip.
func (c *indexColumn) label() string {
	if c.kind.isTotals() {
		return "totals of " + c.name
	}
	switch c.kind {
	case kindIP4:
		return c.name + ".v4"
	case kindIP6:
		return c.name + ".v6"
	}
	return c.name
}

func (c *indexColumn) exact() bool { return c.rowShift == 0 && c.keyShift == 0 }

type fence struct {
	first []string // first key of each chunk, in key bytes
	off   []int64  // chunk offsets, absolute
	size  []int64
	nkeys []int
	crc   []uint32
}

// OpenIndex opens the index of the Parquet file at parquetPath (the file
// IndexPath names). It reads the index's header and directory and checks
// them, and checks that the Parquet file is the one the index was built
// for (its size and the checksum of its footer). An index that is
// missing gives an error wrapping fs.ErrNotExist; one that is corrupt,
// stale or of another version an *IndexError naming the file and the
// section. Either way, the caller scans the Parquet file instead.
func OpenIndex(parquetPath string) (*Index, error) {
	return openIndexFile(parquetPath, true)
}

// OpenIndexUnchecked is OpenIndex without the check of the Parquet file,
// for a caller that reads the file's footer anyway and checks it with
// ParquetCheck, saving a second read of the footer.
func OpenIndexUnchecked(parquetPath string) (*Index, error) {
	return openIndexFile(parquetPath, false)
}

func openIndexFile(parquetPath string, checkParquet bool) (*Index, error) {
	name := IndexPath(parquetPath)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	ix, err := openIndex(f, fi.Size(), name, false)
	if err == nil && checkParquet {
		err = ix.checkParquet(parquetPath)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	ix.c = f
	return ix, nil
}

// Close closes the index file.
func (ix *Index) Close() error {
	if ix.c == nil {
		return nil
	}
	err := ix.c.Close()
	ix.c = nil
	return err
}

// Rows returns the number of rows of the Parquet file the index covers.
func (ix *Index) Rows() int64 { return int64(ix.rows) }

func (ix *Index) errorf(section string, off int64, sentinel error, format string, args ...any) error {
	return &IndexError{File: ix.name, Section: section, Offset: off, Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))}
}

func (ix *Index) readAt(section string, off, n int64) ([]byte, error) {
	return ix.readInto(section, off, n, nil)
}

// readInto is readAt into buf's memory when it is large enough.
func (ix *Index) readInto(section string, off, n int64, buf []byte) ([]byte, error) {
	if off < 0 || n < 0 || off > ix.size || n > ix.size-off {
		return nil, ix.errorf(section, off, ErrIndexCorrupt, "%d bytes past the end of the %d-byte file", n, ix.size)
	}
	buf = slices.Grow(buf[:0], int(n))[:n]
	ix.read.Add(n)
	if _, err := ix.r.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ix.errorf(section, off, ErrIndexCorrupt, "truncated")
		}
		return nil, &IndexError{File: ix.name, Section: section, Offset: off, Err: err}
	}
	return buf, nil
}

func (ix *Index) checkCRC(section string, off int64, b []byte, want uint32) error {
	if ix.noCRC {
		return nil
	}
	if got := crc32c(b); got != want {
		return ix.errorf(section, off, ErrIndexCorrupt, "checksum %08x, want %08x", got, want)
	}
	return nil
}

// openIndex reads and checks the header and directory of an index of
// size bytes read through r. name is for errors.
func openIndex(r io.ReaderAt, size int64, name string, noCRC bool) (*Index, error) {
	ix := &Index{name: name, r: r, size: size, noCRC: noCRC}
	if size < indexHeaderLen {
		return nil, ix.errorf("header", 0, ErrIndexCorrupt, "file of %d bytes is shorter than the header", size)
	}
	first, err := ix.readAt("header", 0, min(size, firstRead))
	if err != nil {
		return nil, err
	}
	h := first[:indexHeaderLen]
	if string(h[:8]) != indexMagic {
		return nil, ix.errorf("header", 0, ErrIndexCorrupt, "bad magic %q", h[:8])
	}
	if err := ix.checkCRC("header", 0, h[:52], binary.LittleEndian.Uint32(h[52:])); err != nil {
		return nil, err
	}
	ix.version = binary.LittleEndian.Uint16(h[8:])
	if v := ix.version; v < minIndexVersion || v > indexVersion {
		return nil, ix.errorf("header", 8, ErrIndexVersion, "version %d, want %d to %d", v, minIndexVersion, indexVersion)
	}
	ncols := int(binary.LittleEndian.Uint16(h[10:]))
	dirLen := int64(binary.LittleEndian.Uint32(h[12:]))
	ix.rows = binary.LittleEndian.Uint64(h[16:])
	ix.parquetSize = int64(binary.LittleEndian.Uint64(h[24:]))
	ix.parquetCRC = binary.LittleEndian.Uint32(h[32:])
	ix.footerLen = binary.LittleEndian.Uint32(h[36:])
	ix.footerCRC = binary.LittleEndian.Uint32(h[40:])
	dirCRC := binary.LittleEndian.Uint32(h[44:])
	if ix.rows > math.MaxUint32+1 {
		return nil, ix.errorf("header", 16, ErrIndexCorrupt, "%d rows: more than row numbers can hold", ix.rows)
	}
	if ix.parquetSize < 0 || int64(ix.footerLen) > ix.parquetSize {
		return nil, ix.errorf("header", 24, ErrIndexCorrupt, "parquet size %d, footer %d", ix.parquetSize, ix.footerLen)
	}
	var dir []byte
	if indexHeaderLen+dirLen <= int64(len(first)) {
		dir = first[indexHeaderLen : indexHeaderLen+dirLen]
	} else if dir, err = ix.readAt("directory", indexHeaderLen, dirLen); err != nil {
		return nil, err
	}
	if err := ix.checkCRC("directory", indexHeaderLen, dir, dirCRC); err != nil {
		return nil, err
	}
	if err := ix.parseDirectory(dir, ncols, indexHeaderLen+dirLen); err != nil {
		return nil, err
	}
	return ix, nil
}

func (ix *Index) parseDirectory(dir []byte, ncols int, base int64) error {
	d := decoder{b: dir}
	seen := map[string]bool{}
	for i := 0; i < ncols; i++ {
		at := indexHeaderLen + int64(d.off)
		bad := func(format string, args ...any) error {
			return ix.errorf("directory", at, ErrIndexCorrupt, "column %d: %s", i, fmt.Sprintf(format, args...))
		}
		c := indexColumn{dirOffset: at}
		nameLen := d.uvarint()
		c.name = string(d.bytes(nameLen))
		c.kind = colKind(d.byte())
		c.rowShift = d.byte()
		c.keyShift = d.byte()
		c.nkeys = d.uvarint()
		c.nchunks = d.uvarint()
		c.indexed = d.uvarint()
		fenceOff, fenceLen := d.uvarint(), d.uvarint()
		dataOff, dataLen := d.uvarint(), d.uvarint()
		c.fenceCRC = d.uint32()
		if d.err != nil {
			return bad("%v", d.err)
		}
		if c.kind.isTotals() && ix.version >= totalsVersion {
			if err := ix.checkTotalsEntry(&c, fenceOff, fenceLen, dataOff, dataLen, base, bad); err != nil {
				return err
			}
			if seen[c.label()] {
				return bad("%s twice", c.label())
			}
			seen[c.label()] = true
			ix.totals = append(ix.totals, c)
			continue
		}
		switch {
		case c.name == "" || nameLen > 256:
			return bad("bad name %q", c.name)
		case c.kind < kindString || c.kind > kindPort:
			return bad("unknown kind %d", c.kind)
		case c.rowShift > maxShift:
			return bad("row shift %d", c.rowShift)
		case c.keyShift > 15 || (c.keyShift > 0 && c.kind != kindPort):
			return bad("key shift %d", c.keyShift)
		case c.indexed > ix.rows || c.nkeys > c.indexed:
			return bad("%d keys, %d rows indexed of %d", c.nkeys, c.indexed, ix.rows)
		case c.nchunks > c.nkeys || (c.nkeys > 0) != (c.nchunks > 0):
			return bad("%d chunks for %d keys", c.nchunks, c.nkeys)
		case (c.nchunks == 0) != (fenceLen == 0) || (c.nchunks == 0) != (dataLen == 0):
			return bad("%d chunks in a %d-byte fence and %d bytes of data", c.nchunks, fenceLen, dataLen)
		}
		end := uint64(ix.size - base)
		if fenceOff > end || fenceLen > end-fenceOff || dataOff > end || dataLen > end-dataOff {
			return bad("sections [%d+%d) and [%d+%d) pass the end of the file (%d bytes)", fenceOff, fenceLen, dataOff, dataLen, ix.size)
		}
		if c.nchunks > fenceLen || c.nkeys > dataLen {
			return bad("%d chunks and %d keys in %d and %d bytes", c.nchunks, c.nkeys, fenceLen, dataLen)
		}
		c.fenceOff, c.fenceLen = base+int64(fenceOff), int64(fenceLen)
		c.dataOff, c.dataLen = base+int64(dataOff), int64(dataLen)
		id := c.label()
		if seen[id] {
			return bad("column %s twice", id)
		}
		seen[id] = true
		ix.cols = append(ix.cols, c)
	}
	if d.off != len(dir) {
		return ix.errorf("directory", indexHeaderLen+int64(d.off), ErrIndexCorrupt, "%d bytes after the last column", len(dir)-d.off)
	}
	return nil
}

// checkParquet checks that the Parquet file at path is the one the index
// was built for.
func (ix *Index) checkParquet(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &IndexError{File: ix.name, Section: "header", Offset: 24, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return &IndexError{File: ix.name, Section: "header", Offset: 24, Err: err}
	}
	return ix.ParquetCheck().File(f, fi.Size())
}

// ParquetCheck tells whether a Parquet file is the one an index was
// built for, from the file's size and tail: see Index.ParquetCheck.
type ParquetCheck struct {
	index     string // the index file, for errors
	size      int64
	footerLen uint32
	footerCRC uint32
}

// ParquetCheck returns what checks that a Parquet file is the one the
// index was built for, as OpenIndex does; it outlives the index.
func (ix *Index) ParquetCheck() ParquetCheck {
	return ParquetCheck{index: ix.name, size: ix.parquetSize, footerLen: ix.footerLen, footerCRC: ix.footerCRC}
}

// Tail checks a Parquet file of size bytes whose last len(tail) bytes
// are tail: its size and the checksum of its footer (which a reader of
// the footer has in its tail) must be those the index recorded. The error
// is an *IndexError wrapping ErrIndexStale.
func (pc ParquetCheck) Tail(size int64, tail []byte) error {
	stale := func(format string, args ...any) error {
		return &IndexError{File: pc.index, Section: "header", Offset: 24, Err: fmt.Errorf("%w: %s", ErrIndexStale, fmt.Sprintf(format, args...))}
	}
	switch {
	case size != pc.size:
		return stale("built for a parquet file of %d bytes, not %d", pc.size, size)
	case int64(len(tail)) < int64(pc.footerLen):
		return stale("built for a parquet footer of %d bytes, longer than the %d bytes read", pc.footerLen, len(tail))
	case crc32c(tail[len(tail)-int(pc.footerLen):]) != pc.footerCRC:
		return stale("parquet footer checksum differs")
	}
	return nil
}

// File checks the Parquet file r of size bytes, reading its tail.
func (pc ParquetCheck) File(r io.ReaderAt, size int64) error {
	if size != pc.size {
		return pc.Tail(size, nil)
	}
	tail := make([]byte, pc.footerLen)
	if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil {
		return &IndexError{File: pc.index, Section: "header", Offset: 36, Err: fmt.Errorf("read parquet footer: %w", err)}
	}
	return pc.Tail(size, tail)
}

// VerifyParquet reads the whole Parquet file at path and checks its
// checksum against the one the index recorded when it was built.
func (ix *Index) VerifyParquet(path string) error {
	size, sum, err := fileCRC(path)
	if err != nil {
		return &IndexError{File: ix.name, Section: "header", Offset: 24, Err: err}
	}
	if size != ix.parquetSize || sum != ix.parquetCRC {
		return ix.errorf("header", 32, ErrIndexStale, "%s: %d bytes with checksum %08x, index built for %d bytes with %08x", path, size, sum, ix.parquetSize, ix.parquetCRC)
	}
	return nil
}

// fileCRC returns the size and CRC-32C of a whole file.
func fileCRC(path string) (int64, uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, f)
	return n, h.Sum32(), err
}

// ColumnInfo describes one indexed column of an Index. An IP column has
// an entry per address family present.
type ColumnInfo struct {
	Name string // schema column name: src_ip, dst_port, rule, ...
	// Family is 4 or 6 for the two halves of an IP column, else 0.
	Family int
	Keys   int64 // distinct keys (values, or port buckets)
	Rows   int64 // rows that have a key (not null, and an address for IP columns)
	// BlockRows is the number of rows each bitmap bit stands for: 1 when
	// the bitmaps name rows, more when they name blocks of rows.
	BlockRows int64
	// BucketPorts is the number of ports one key stands for (port
	// columns): 1, or more when ports are grouped.
	BucketPorts int
	// Bytes is the size of the column in the index file.
	Bytes int64
}

// Exact reports whether look-ups in the column return exactly the rows
// that hold the value (each key is one value, each bit one row).
func (c ColumnInfo) Exact() bool { return c.BlockRows == 1 && c.BucketPorts <= 1 }

// Columns describes the indexed columns, in file order.
func (ix *Index) Columns() []ColumnInfo {
	out := make([]ColumnInfo, 0, len(ix.cols))
	for i := range ix.cols {
		c := &ix.cols[i]
		info := ColumnInfo{Name: c.name, Keys: int64(c.nkeys), Rows: int64(c.indexed),
			BlockRows: 1 << c.rowShift, Bytes: c.fenceLen + c.dataLen}
		switch c.kind {
		case kindIP4:
			info.Family = 4
		case kindIP6:
			info.Family = 6
		case kindPort:
			info.BucketPorts = 1 << c.keyShift
		}
		out = append(out, info)
	}
	return out
}

// Exact reports whether look-ups in column return exactly the rows that
// hold the values looked up. It is false for a column the index lacks.
func (ix *Index) Exact(column string) bool {
	found := false
	for i := range ix.cols {
		if ix.cols[i].name == column {
			if !ix.cols[i].exact() {
				return false
			}
			found = true
		}
	}
	return found
}

// ExactPrefix reports whether look-ups of p in an address column (src_ip
// or dst_ip) return exactly the rows that hold an address in p: whether
// the half of the column of p's family is exact. A family the file lacks
// is exact (no row holds such an address).
func (ix *Index) ExactPrefix(column string, p netip.Prefix) bool {
	kind := kindIP6
	if p.Addr().Is4() {
		kind = kindIP4
	}
	c, ok, err := ix.kindColumn(column, kind)
	return err == nil && (!ok || c.exact())
}

// columns returns the directory entries of a column name: two for an IP
// column (v4, v6), one otherwise.
func (ix *Index) columns(column string) ([]*indexColumn, error) {
	var cs []*indexColumn
	for i := range ix.cols {
		if ix.cols[i].name == column {
			cs = append(cs, &ix.cols[i])
		}
	}
	if len(cs) == 0 {
		return nil, &IndexError{File: ix.name, Section: "directory", Offset: indexHeaderLen, Err: fmt.Errorf("%w: %q", ErrNotIndexed, column)}
	}
	return cs, nil
}

func (ix *Index) kindColumn(column string, kinds ...colKind) (*indexColumn, bool, error) {
	cs, err := ix.columns(column)
	if err != nil {
		return nil, false, err
	}
	for _, c := range cs {
		for _, k := range kinds {
			if c.kind == k {
				return c, true, nil
			}
		}
	}
	// An IP column may lack a family: nothing matches then. A column of
	// another kind is a caller's mistake.
	if cs[0].kind == kindIP4 || cs[0].kind == kindIP6 {
		for _, k := range kinds {
			if k == kindIP4 || k == kindIP6 {
				return nil, false, nil
			}
		}
	}
	return nil, false, &IndexError{File: ix.name, Section: "directory", Offset: cs[0].dirOffset,
		Err: fmt.Errorf("%w: %q is not a column of that kind", ErrNotIndexed, column)}
}

// Lookup returns the rows whose column holds value, written as the column
// holds it: an address for src_ip and dst_ip, a port number for src_port
// and dst_port, the string otherwise (compared exactly). A value absent
// from the file gives an empty bitmap.
func (ix *Index) Lookup(column, value string) (*roaring.Bitmap, error) {
	cs, err := ix.columns(column)
	if err != nil {
		return nil, err
	}
	switch cs[0].kind {
	case kindIP4, kindIP6:
		a, err := netip.ParseAddr(value)
		if err != nil {
			return nil, fmt.Errorf("index look-up in %s: %w", column, err)
		}
		return ix.LookupAddr(column, a)
	case kindPort:
		p, err := strconv.ParseUint(value, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("index look-up in %s: bad port %q", column, value)
		}
		return ix.LookupPorts(column, uint16(p), uint16(p))
	}
	return ix.lookupRange(cs[0], value, value)
}

// LookupAddr returns the rows whose column (src_ip or dst_ip) holds a.
// Families do not mix: 10.0.0.1 does not find ::ffff:10.0.0.1.
func (ix *Index) LookupAddr(column string, a netip.Addr) (*roaring.Bitmap, error) {
	if !a.IsValid() {
		return roaring.New(), nil
	}
	return ix.LookupPrefix(column, netip.PrefixFrom(a, a.BitLen()))
}

// LookupPrefix returns the rows whose column (src_ip or dst_ip) holds an
// address in p: the union of the bitmaps of a range of keys.
func (ix *Index) LookupPrefix(column string, p netip.Prefix) (*roaring.Bitmap, error) {
	return ix.LookupPrefixWithin(column, p, nil)
}

// LookupPrefixWithin is LookupPrefix restricted to the rows of within
// (all rows when nil). A small within costs less than the look-up and an
// intersection: coarse postings are expanded only in its blocks.
func (ix *Index) LookupPrefixWithin(column string, p netip.Prefix, within *roaring.Bitmap) (*roaring.Bitmap, error) {
	if !p.IsValid() {
		return nil, fmt.Errorf("index look-up in %s: invalid prefix", column)
	}
	kind := kindIP6
	if p.Addr().Is4() {
		kind = kindIP4
	}
	c, ok, err := ix.kindColumn(column, kind)
	if err != nil || !ok {
		return roaring.New(), err
	}
	p = p.Masked()
	lo := p.Addr()
	hi := lastAddr(p)
	return ix.lookupWithin(c, addrKey(lo), addrKey(hi), within)
}

// lastAddr returns the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func addrKey(a netip.Addr) string {
	if a.Is4() {
		b := a.As4()
		return string(b[:])
	}
	b := a.As16()
	return string(b[:])
}

// LookupPorts returns the rows whose column (src_port or dst_port) holds
// a port in [lo, hi].
func (ix *Index) LookupPorts(column string, lo, hi uint16) (*roaring.Bitmap, error) {
	return ix.LookupPortsWithin(column, lo, hi, nil)
}

// LookupPortsWithin is LookupPorts restricted to the rows of within (all
// rows when nil), as LookupPrefixWithin.
func (ix *Index) LookupPortsWithin(column string, lo, hi uint16, within *roaring.Bitmap) (*roaring.Bitmap, error) {
	c, _, err := ix.kindColumn(column, kindPort)
	if err != nil {
		return nil, err
	}
	if lo > hi {
		return roaring.New(), nil
	}
	return ix.lookupWithin(c, portKey(lo>>c.keyShift), portKey(hi>>c.keyShift), within)
}

func portKey(p uint16) string { return string([]byte{byte(p >> 8), byte(p)}) }

// LookupStrings returns the rows whose column (a string column: protocol,
// direction, decision, rule, resource_id, mac, acl_id) holds a value for
// which match returns true. It reads the column's whole key list, which
// is small for these columns; match is called once per distinct value.
func (ix *Index) LookupStrings(column string, match func(string) bool) (*roaring.Bitmap, error) {
	c, _, err := ix.kindColumn(column, kindString)
	if err != nil {
		return nil, err
	}
	blocks := roaring.New()
	err = ix.scan(c, "", "", true, func(e *entry) error {
		if match(e.key) {
			return ix.orPosting(blocks, c, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ix.expand(c, blocks), nil
}

// Key is one key of an index column with the number of rows that hold it.
type Key struct {
	// Value is the key as the column holds it: the address text, the port
	// in decimal, the string; for a bucket of ports, "lo-hi".
	Value string
	Addr  netip.Addr // IP columns
	// Lo and Hi are the port range of a port column's key (Lo == Hi
	// unless ports are grouped in buckets).
	Lo, Hi uint16
	Rows   int64 // rows holding the value (exact, also in coarse columns)
}

// Keys calls fn with every key of column in order (for an IP column, IPv4
// addresses first), until fn returns false. It reads the whole column but
// decodes no bitmap.
func (ix *Index) Keys(column string, fn func(Key) bool) error {
	cs, err := ix.columns(column)
	if err != nil {
		return err
	}
	stop := errors.New("stop")
	for _, c := range cs {
		err := ix.scan(c, "", "", true, func(e *entry) error {
			k := Key{Value: e.key, Rows: int64(e.count)}
			switch c.kind {
			case kindIP4, kindIP6:
				k.Addr, _ = netip.AddrFromSlice([]byte(e.key))
				k.Value = k.Addr.String()
			case kindPort:
				b := uint16(e.key[0])<<8 | uint16(e.key[1])
				k.Lo = b << c.keyShift
				k.Hi = k.Lo + (1<<c.keyShift - 1)
				k.Value = strconv.Itoa(int(k.Lo))
				if k.Hi != k.Lo {
					k.Value += "-" + strconv.Itoa(int(k.Hi))
				}
			}
			if !fn(k) {
				return stop
			}
			return nil
		})
		if errors.Is(err, stop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Verify reads the whole index and checks every checksum, every key and
// every bitmap, and that each column's counts add up; and every totals
// section. OpenIndex and the
// look-ups check only what they read.
func (ix *Index) Verify() error {
	for i := range ix.cols {
		c := &ix.cols[i]
		var n, keys uint64
		err := ix.scan(c, "", "", true, func(e *entry) error {
			keys++
			n += e.count
			_, err := ix.posting(c, e)
			return err
		})
		if err != nil {
			return err
		}
		if n != c.indexed || keys != c.nkeys {
			return ix.errorf("directory", c.dirOffset, ErrIndexCorrupt, "%s: %d keys counting %d rows, directory says %d and %d", c.label(), keys, n, c.nkeys, c.indexed)
		}
	}
	for i := range ix.totals {
		if _, err := ix.readTotals(&ix.totals[i], nil); err != nil {
			return err
		}
	}
	return nil
}

// lookupRange returns the rows of the keys in [lo, hi] of c.
func (ix *Index) lookupRange(c *indexColumn, lo, hi string) (*roaring.Bitmap, error) {
	blocks := roaring.New()
	err := ix.scan(c, lo, hi, false, func(e *entry) error { return ix.orPosting(blocks, c, e) })
	if err != nil {
		return nil, err
	}
	return ix.expand(c, blocks), nil
}

// lookupWithin returns the rows of the keys in [lo, hi] of c that are in
// within (nil: every row). The blocks of the postings are narrowed to the
// blocks within touches before they are expanded to rows.
func (ix *Index) lookupWithin(c *indexColumn, lo, hi string, within *roaring.Bitmap) (*roaring.Bitmap, error) {
	if within == nil {
		return ix.lookupRange(c, lo, hi)
	}
	blocks := roaring.New()
	err := ix.scan(c, lo, hi, false, func(e *entry) error { return ix.orPosting(blocks, c, e) })
	if err != nil {
		return nil, err
	}
	touched := roaring.New()
	prev := int64(-1)
	within.Iterate(func(r uint32) bool {
		if b := int64(r >> c.rowShift); b != prev {
			touched.Add(uint32(b))
			prev = b
		}
		return true
	})
	blocks.And(touched)
	rows := ix.expand(c, blocks)
	rows.And(within)
	return rows, nil
}

func (ix *Index) orPosting(dst *roaring.Bitmap, c *indexColumn, e *entry) error {
	p, err := ix.posting(c, e)
	if err != nil {
		return err
	}
	dst.Or(p)
	return nil
}

// expand turns a bitmap of blocks into one of their rows: many rows
// through a dense bitset (at most 8 MiB), few as ranges.
func (ix *Index) expand(c *indexColumn, blocks *roaring.Bitmap) *roaring.Bitmap {
	if c.rowShift == 0 {
		return blocks
	}
	if blocks.GetCardinality()<<c.rowShift >= ix.rows/64 && ix.rows <= 1<<26 {
		words := make([]uint64, (ix.rows+63)/64)
		blocks.Iterate(func(b uint32) bool {
			lo := uint64(b) << c.rowShift
			setRowBits(words, lo, min(lo+1<<c.rowShift, ix.rows))
			return true
		})
		return roaring.FromDense(words, false)
	}
	out := roaring.New()
	it := blocks.ManyIterator()
	buf := make([]uint32, 256)
	var start, end uint64 // current run of blocks [start, end)
	flush := func() {
		if end > start {
			out.AddRange(start<<c.rowShift, min(end<<c.rowShift, ix.rows))
		}
	}
	for {
		n := it.NextMany(buf)
		if n == 0 {
			break
		}
		for _, b := range buf[:n] {
			if uint64(b) == end {
				end++
				continue
			}
			flush()
			start, end = uint64(b), uint64(b)+1
		}
	}
	flush()
	return out
}

// loadFence reads, checks and keeps the fence of c.
func (ix *Index) loadFence(c *indexColumn) (*fence, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if c.fence != nil {
		return c.fence, nil
	}
	section := "fence of " + c.label()
	b, err := ix.readAt(section, c.fenceOff, c.fenceLen)
	if err != nil {
		return nil, err
	}
	if err := ix.checkCRC(section, c.fenceOff, b, c.fenceCRC); err != nil {
		return nil, err
	}
	// Sized once, and the keys cut from one string: a needle loads the
	// fences of a few columns of every file, and fresh memory costs.
	n := int(c.nchunks) // at most the fence's bytes (parseDirectory)
	f := &fence{first: make([]string, 0, n), off: make([]int64, 0, n), size: make([]int64, 0, n),
		nkeys: make([]int, 0, n), crc: make([]uint32, 0, n)}
	text := string(b)
	d := decoder{b: b}
	off, keys := c.dataOff, uint64(0)
	for i := uint64(0); i < c.nchunks; i++ {
		at := c.fenceOff + int64(d.off)
		var kb []byte
		if n := c.kind.keyLen(); n > 0 {
			kb = d.bytes(uint64(n))
		} else {
			kb = d.bytes(d.uvarint())
		}
		k := text[d.off-len(kb) : d.off]
		size, nk, crc := d.uvarint(), d.uvarint(), d.uint32()
		if d.err != nil {
			return nil, ix.errorf(section, at, ErrIndexCorrupt, "chunk %d: %v", i, d.err)
		}
		if i > 0 && k <= f.first[i-1] {
			return nil, ix.errorf(section, at, ErrIndexCorrupt, "chunk %d: keys out of order", i)
		}
		if size == 0 || nk == 0 || size > uint64(c.dataOff+c.dataLen-off) || nk > c.nkeys-keys {
			return nil, ix.errorf(section, at, ErrIndexCorrupt, "chunk %d: %d keys in %d bytes overflow the column", i, nk, size)
		}
		f.first = append(f.first, k)
		f.off = append(f.off, off)
		f.size = append(f.size, int64(size))
		f.nkeys = append(f.nkeys, int(nk))
		f.crc = append(f.crc, crc)
		off += int64(size)
		keys += nk
	}
	if d.off != len(b) || off != c.dataOff+c.dataLen || keys != c.nkeys {
		return nil, ix.errorf(section, c.fenceOff, ErrIndexCorrupt, "chunks cover %d bytes and %d keys of %d and %d", off-c.dataOff, keys, c.dataLen, c.nkeys)
	}
	c.fence = f
	return f, nil
}

// entry is one key of a chunk, with its posting (which points into the
// chunk's buffer).
type entry struct {
	key     string
	count   uint64
	enc     byte
	posting []byte
	at      int64 // file offset of the posting, for errors
}

// scan calls fn with the entries of c whose keys are in [lo, hi] (all of
// them with all set), in key order. It reads the chunks that may hold
// such keys with one ReadAt.
func (ix *Index) scan(c *indexColumn, lo, hi string, all bool, fn func(*entry) error) error {
	if c.nchunks == 0 {
		return nil
	}
	f, err := ix.loadFence(c)
	if err != nil {
		return err
	}
	first, last := 0, len(f.first)-1
	if !all {
		if hi < lo || hi < f.first[0] {
			return nil
		}
		// The last chunk starting at or before lo, and before or at hi.
		first = max(sort.Search(len(f.first), func(i int) bool { return f.first[i] > lo })-1, 0)
		last = sort.Search(len(f.first), func(i int) bool { return f.first[i] > hi }) - 1
	}
	start := f.off[first]
	b, err := ix.readAt("chunks of "+c.label(), start, f.off[last]+f.size[last]-start)
	if err != nil {
		return err
	}
	var ents []entry
	for i := first; i <= last; i++ {
		chunk := b[f.off[i]-start : f.off[i]-start+f.size[i]]
		next := ""
		if i+1 < len(f.first) {
			next = f.first[i+1]
		}
		if ents, err = ix.parseChunk(c, f, i, chunk, next, ents[:0]); err != nil {
			return err
		}
		for j := range ents {
			e := &ents[j]
			if !all && (e.key < lo || e.key > hi) {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseChunk checks and decodes chunk i of c; next is the first key of
// the next chunk ("" for the last).
func (ix *Index) parseChunk(c *indexColumn, f *fence, i int, b []byte, next string, ents []entry) ([]entry, error) {
	section := fmt.Sprintf("chunk %d of %s", i, c.label())
	at := f.off[i]
	if err := ix.checkCRC(section, at, b, f.crc[i]); err != nil {
		return nil, err
	}
	d := decoder{b: b}
	key := []byte(f.first[i])
	var plen uint64
	for k := 0; k < f.nkeys[i]; k++ {
		if k > 0 {
			if err := d.nextKey(c.kind, &key); err != nil {
				return nil, ix.errorf(section, at+int64(d.off), ErrIndexCorrupt, "key %d: %v", k, err)
			}
		}
		count, lenEnc := d.uvarint(), d.uvarint()
		if d.err != nil {
			return nil, ix.errorf(section, at+int64(d.off), ErrIndexCorrupt, "key %d: %v", k, d.err)
		}
		if count == 0 || count > c.indexed || lenEnc>>2 == 0 || lenEnc>>2 > uint64(len(b)) {
			return nil, ix.errorf(section, at+int64(d.off), ErrIndexCorrupt, "key %d: %d rows, %d-byte posting", k, count, lenEnc>>2)
		}
		// at holds the posting's length until the postings are placed.
		ents = append(ents, entry{key: string(key), count: count, enc: byte(lenEnc & 3), at: int64(lenEnc >> 2)})
		plen += lenEnc >> 2
	}
	if next != "" && len(ents) > 0 && ents[len(ents)-1].key >= next {
		return nil, ix.errorf(section, at, ErrIndexCorrupt, "last key not before the next chunk's first")
	}
	if uint64(len(b)-d.off) != plen {
		return nil, ix.errorf(section, at+int64(d.off), ErrIndexCorrupt, "postings take %d bytes, chunk has %d left", plen, len(b)-d.off)
	}
	p := d.off
	for j := len(ents) - f.nkeys[i]; j < len(ents); j++ {
		n := int(ents[j].at)
		ents[j].posting = b[p : p+n]
		ents[j].at = at + int64(p)
		p += n
	}
	return ents, nil
}

// posting decodes and checks the bitmap of blocks of an entry.
func (ix *Index) posting(c *indexColumn, e *entry) (bm *roaring.Bitmap, err error) {
	section := "posting of " + c.label()
	nblocks := (ix.rows + 1<<c.rowShift - 1) >> c.rowShift
	bad := func(format string, args ...any) error {
		return ix.errorf(section, e.at, ErrIndexCorrupt, format, args...)
	}
	bm = roaring.New()
	switch e.enc {
	case encVarint:
		d := decoder{b: e.posting}
		prev := int64(-1)
		var buf [64]uint32
		n := 0
		for d.off < len(d.b) {
			v := prev + 1 + int64(d.uvarint())
			if d.err != nil || v >= int64(nblocks) || v < 0 {
				return nil, bad("block %d of %d (%v)", v, nblocks, d.err)
			}
			buf[n] = uint32(v)
			if n++; n == len(buf) {
				bm.AddMany(buf[:n])
				n = 0
			}
			prev = v
		}
		bm.AddMany(buf[:n])
	case encRuns:
		d := decoder{b: e.posting}
		next := uint64(0) // the first block the next run may start at
		for first := true; d.off < len(d.b); first = false {
			gap, n := d.uvarint(), d.uvarint()
			if !first {
				gap++ // runs are maximal: one block at least between two
			}
			lo := next + gap
			if d.err != nil || lo < next || lo >= nblocks || n >= nblocks-lo {
				return nil, bad("run of %d blocks at %d of %d (%v)", n+1, lo, nblocks, d.err)
			}
			bm.AddRange(lo, lo+n+1)
			next = lo + n + 1
		}
	case encBitset:
		if uint64(len(e.posting)) > (nblocks+7)/8 {
			return nil, bad("%d-byte bitset for %d blocks", len(e.posting), nblocks)
		}
		if n := len(e.posting); n > 0 && nblocks%8 != 0 && uint64(n) == (nblocks+7)/8 && e.posting[n-1]>>(nblocks%8) != 0 {
			return nil, bad("bits past block %d", nblocks)
		}
		words := make([]uint64, (len(e.posting)+7)/8)
		for i, x := range e.posting {
			words[i/8] |= uint64(x) << (8 * (i % 8))
		}
		bm = roaring.FromDense(words, false)
	case encRoaring:
		defer func() {
			if r := recover(); r != nil {
				bm, err = nil, bad("bitmap: %v", r)
			}
		}()
		n, err := bm.ReadFrom(bytes.NewReader(e.posting))
		if err != nil {
			return nil, bad("bitmap: %v", err)
		}
		if n != int64(len(e.posting)) {
			return nil, bad("bitmap of %d bytes in a %d-byte posting", n, len(e.posting))
		}
		if err := bm.Validate(); err != nil {
			return nil, bad("bitmap: %v", err)
		}
		if !bm.IsEmpty() && uint64(bm.Maximum()) >= nblocks {
			return nil, bad("block %d of %d", bm.Maximum(), nblocks)
		}
	default:
		return nil, bad("unknown encoding %d", e.enc)
	}
	card := bm.GetCardinality()
	if card == 0 || card > e.count || (c.rowShift == 0 && card != e.count) || e.count > card<<c.rowShift {
		return nil, bad("%d blocks of %d rows for a key of %d rows", card, 1<<c.rowShift, e.count)
	}
	return bm, nil
}

// setRowBits sets bits [lo, hi) of words.
func setRowBits(words []uint64, lo, hi uint64) {
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

// decoder reads the fields of a section; the first error sticks.
type decoder struct {
	b   []byte
	off int
	err error
}

var errShort = errors.New("truncated")

func (d *decoder) uvarint() uint64 {
	if d.off < len(d.b) && d.b[d.off] < 0x80 && d.err == nil { // one byte: most
		d.off++
		return uint64(d.b[d.off-1])
	}
	return d.uvarintLong()
}

func (d *decoder) uvarintLong() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = errShort
		if n < 0 {
			d.err = errors.New("varint overflows")
		}
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.err = errShort
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil || n > uint64(len(d.b)-d.off) {
		d.err = errShort
		return nil
	}
	d.off += int(n)
	return d.b[d.off-int(n) : d.off]
}

func (d *decoder) uint32() uint32 {
	b := d.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// nextKey decodes the key after *key (which it replaces), checking that
// it sorts after it.
func (d *decoder) nextKey(kind colKind, key *[]byte) error {
	switch kind {
	case kindIP4, kindPort:
		delta := d.uvarint()
		if d.err != nil {
			return d.err
		}
		var v, limit uint64
		if kind == kindIP4 {
			v, limit = uint64(binary.BigEndian.Uint32(*key)), math.MaxUint32
		} else {
			v, limit = uint64(binary.BigEndian.Uint16(*key)), math.MaxUint16
		}
		if delta == 0 || delta > limit-v {
			return fmt.Errorf("key step %d", delta)
		}
		v += delta
		if kind == kindIP4 {
			binary.BigEndian.PutUint32(*key, uint32(v))
		} else {
			binary.BigEndian.PutUint16(*key, uint16(v))
		}
		return nil
	}
	// Front coded: bytes shared with the previous key, then the rest.
	prev := string(*key)
	shared := d.uvarint()
	var rest uint64
	if kind == kindIP6 {
		rest = 16 - shared
		if shared > 15 {
			return fmt.Errorf("shares %d bytes", shared)
		}
	} else {
		rest = d.uvarint()
	}
	if d.err != nil {
		return d.err
	}
	if shared > uint64(len(*key)) {
		return fmt.Errorf("shares %d bytes of %d", shared, len(*key))
	}
	suffix := d.bytes(rest)
	if d.err != nil {
		return d.err
	}
	*key = append((*key)[:shared], suffix...)
	if string(*key) <= prev {
		return errors.New("keys out of order")
	}
	return nil
}
