package columnar

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Per-key totals. An index of version 3 may hold, besides the postings of
// its columns, one totals section for each column a report groups flows
// by: per distinct key of the file, the rows that hold it, their packets
// and bytes (both directions; a null counts 0), and how many of them were
// allowed and denied. A report over every row of a file (no filter) then
// reads a few hundred KiB of the index instead of scanning the file.
//
// A section's keys are what the query keys rows by, so that the totals
// of a file equal what a scan of it counts:
//
//   - src_ip, dst_ip (kindTotalsAddr): an address whose text is its
//     canonical one (netip.Addr.String) by the address, IPv4 and IPv6
//     apart; any other text (not an address, a zone, "2001:DB8::1",
//     "010.0.0.1") by its bytes, as a key of its own: a scan counts each
//     text of the column apart; null rows under the null key.
//   - dst_port, proto (kindTotalsInt): the int32 value, a null reading 0
//     as the scan reads it; ports outside 0-65535 are keys too.
//   - rule, resource_id (kindTotalsString): the string; null rows under
//     the null key.
//
// Section layout (docs/format/index.md): uvarint counts of the keys of
// each class (4-byte, 16-byte, string, null), then the keys in that
// order, each followed by its counters:
//
//	4-byte   uvarint(key) for the first, then uvarint(key − previous) > 0;
//	         an IPv4 address big-endian, or an int32 with its sign bit
//	         flipped (so that keys sort as the values do)
//	16-byte  the first as 16 bytes, then front coded (byte shared ≤ 15, the
//	         other bytes) as IPv6 keys of the postings are
//	string   the first as uvarint length and bytes, then front coded
//	         (uvarint shared, uvarint rest length, rest), as string keys are
//	null     no key, at most one
//	counters uvarint rows<<3 | flags (rows > 0); flags bits 0-1: 0 every
//	         row allowed, 1 every row denied, 2 uvarint denied rows follows
//	         (the others allowed), 3 uvarint denied rows and uvarint rows
//	         neither allowed nor denied follow (their sum at most rows);
//	         bit 2: varint packets and varint bytes follow (zigzag: sums
//	         wrap as int64 sums do), else both are 0
//
// Most keys of flow data are all allowed or all denied, and many have no
// counters (denied flows, NSG v1): their counters take a byte or two.
//
// The directory entry of a section has the column's name, the section's
// kind, shifts 0, the number of keys, 0 chunks, indexedRows the rows of
// the file (every row has a key), an empty fence, dataOff and dataLen the
// section, and the CRC of the section where a column has its fence's.

// totalsSpecs are the columns with totals, in file order, and the kind of
// their sections.
var totalsSpecs = [...]struct {
	name string
	kind colKind
}{
	{"src_ip", kindTotalsAddr}, {"dst_ip", kindTotalsAddr}, {"dst_port", kindTotalsInt},
	{"proto", kindTotalsInt}, {"rule", kindTotalsString}, {"resource_id", kindTotalsString},
}

// totalsInputs are the columns the totals count, besides their keys.
var totalsInputs = [...]string{"decision", "packets_out", "bytes_out", "packets_in", "bytes_in"}

// TotalsColumns returns the columns an index may hold per-key totals of.
func TotalsColumns() []string {
	out := make([]string, len(totalsSpecs))
	for i, s := range totalsSpecs {
		out[i] = s.name
	}
	return out
}

// indexReadColumns are the columns BuildIndex reads back from a Parquet
// file: the indexed ones and those the totals need.
func indexReadColumns() []string {
	out := IndexedColumns()
	out = append(out, "proto")
	return append(out, totalsInputs[1:]...)
}

// Totals are the counts of the rows holding one key.
type Totals struct {
	Flows   int64 // rows
	Packets int64 // packets_out + packets_in, a null counting 0
	Bytes   int64 // bytes_out + bytes_in, a null counting 0
	Allowed int64 // rows whose decision is allow
	Denied  int64 // rows whose decision is deny
}

// TotalsKey is one key of a column's totals. Which field holds it
// depends on the column, as TotalsColumns lists them:
//
//   - src_ip, dst_ip: Addr, for the rows whose text is the address's
//     canonical text (Addr.String()); or Text, for any other text (one
//     that is not an address, has a zone, or is not canonical, such as
//     "2001:DB8::1"), each a key of its own; or Null.
//   - dst_port, proto: Int, the value (a null reads 0, ports outside
//     0-65535 are keys too).
//   - rule, resource_id: Text, or Null.
//
// Text is not nil for a text key, even an empty one. It points into the
// index's buffer: it is valid only during the call that passes the key;
// copy it to keep it.
type TotalsKey struct {
	Null bool
	Addr netip.Addr
	Text []byte
	Int  int32
}

// HasTotals reports whether the index holds the per-key totals of column
// (one of TotalsColumns). Indexes older than version 3 hold none, nor do
// indexes of files that lack a column the totals count.
func (ix *Index) HasTotals(column string) bool { return ix.totalsOf(column) != nil }

// TotalsKeys returns the number of keys of column's totals: 0 when the
// index holds none.
func (ix *Index) TotalsKeys(column string) int64 {
	if c := ix.totalsOf(column); c != nil {
		return int64(c.nkeys)
	}
	return 0
}

func (ix *Index) totalsOf(column string) *indexColumn {
	for i := range ix.totals {
		if ix.totals[i].name == column {
			return &ix.totals[i]
		}
	}
	return nil
}

// Totals calls fn with every key of column's totals (column is one of
// TotalsColumns), in key order, until fn returns false. The keys cover
// every row of the file once: their Flows add up to Rows. It reads the
// column's totals section, checks its CRC and decodes all of it before
// the first call, so that a corrupt section gives an error and no call.
// An index without totals of column gives an *IndexError wrapping
// ErrNotIndexed.
func (ix *Index) Totals(column string, fn func(k TotalsKey, t Totals) bool) error {
	c := ix.totalsOf(column)
	if c == nil {
		return &IndexError{File: ix.name, Section: "directory", Offset: indexHeaderLen, Err: fmt.Errorf("%w: no totals of %q", ErrNotIndexed, column)}
	}
	bp := totalsBufs.Get().(*[]byte)
	defer totalsBufs.Put(bp)
	b, err := ix.readTotals(c, *bp)
	if err != nil {
		return err
	}
	*bp = b
	return ix.walkTotals(c, b, fn)
}

// totalsBufs are buffers for the totals sections Totals reads: a report
// reads one per file.
var totalsBufs = sync.Pool{New: func() any { return new([]byte) }}

// readTotals reads a totals section (into buf's memory when it is large
// enough), checks its CRC and decodes it once.
func (ix *Index) readTotals(c *indexColumn, buf []byte) ([]byte, error) {
	section := c.label()
	b, err := ix.readInto(section, c.dataOff, c.dataLen, buf)
	if err != nil {
		return nil, err
	}
	if err := ix.checkCRC(section, c.dataOff, b, c.fenceCRC); err != nil {
		return nil, err
	}
	if err := ix.walkTotals(c, b, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// checkTotalsEntry checks the directory entry of a totals section and
// sets its offsets.
func (ix *Index) checkTotalsEntry(c *indexColumn, fenceOff, fenceLen, dataOff, dataLen uint64, base int64, bad func(string, ...any) error) error {
	known := false
	for _, s := range totalsSpecs {
		known = known || s.name == c.name && s.kind == c.kind
	}
	switch {
	case !known:
		return bad("totals of %q of kind %d", c.name, c.kind)
	case c.rowShift != 0 || c.keyShift != 0 || c.nchunks != 0 || fenceLen != 0 || fenceOff != dataOff:
		return bad("%s: shifts %d and %d, %d chunks, a %d-byte fence", c.label(), c.rowShift, c.keyShift, c.nchunks, fenceLen)
	case c.indexed != ix.rows || c.nkeys > c.indexed:
		return bad("%s: %d keys, %d rows of %d", c.label(), c.nkeys, c.indexed, ix.rows)
	}
	end := uint64(ix.size - base)
	if dataOff > end || dataLen > end-dataOff {
		return bad("%s [%d+%d) passes the end of the file (%d bytes)", c.label(), dataOff, dataLen, ix.size)
	}
	if dataLen < 4 || c.nkeys > dataLen {
		return bad("%s: %d keys in %d bytes", c.label(), c.nkeys, dataLen)
	}
	c.fenceOff, c.dataOff, c.dataLen = base+int64(dataOff), base+int64(dataOff), int64(dataLen)
	return nil
}

// walkTotals decodes and checks the totals section b of c, calling fn
// (when not nil) with each key until it returns false.
func (ix *Index) walkTotals(c *indexColumn, b []byte, fn func(TotalsKey, Totals) bool) error {
	section := c.label()
	d := decoder{b: b}
	var n [4]uint64 // keys: 4-byte, 16-byte, string, null
	for i := range n {
		n[i] = d.uvarint()
	}
	bad := func(format string, args ...any) error {
		return ix.errorf(section, c.dataOff+int64(d.off), ErrIndexCorrupt, format, args...)
	}
	if d.err != nil {
		return bad("key counts: %v", d.err)
	}
	keys := uint64(0)
	for i, x := range n {
		if x > c.nkeys-keys {
			return bad("%d keys, directory says %d", keys+x, c.nkeys)
		}
		keys += x
		if x > 0 && !totalsClassOK(c.kind, i) || i == 3 && x > 1 {
			return bad("%d keys of class %d in a section of kind %d", x, i, c.kind)
		}
	}
	if keys != c.nkeys {
		return bad("%d keys, directory says %d", keys, c.nkeys)
	}
	var key4 [4]byte
	var key16 [16]byte
	k16 := key16[:]
	str := make([]byte, 0, 64) // not nil: an empty text is a Text

	rows := uint64(0)
	for class := range n {
		for i := uint64(0); i < n[class]; i++ {
			var k TotalsKey
			switch class {
			case 0:
				if i == 0 {
					v := d.uvarint()
					if d.err == nil && v > math.MaxUint32 {
						return bad("key %d", v)
					}
					binary.BigEndian.PutUint32(key4[:], uint32(v))
				} else {
					k4 := key4[:]
					if err := d.nextKey(kindIP4, &k4); err != nil {
						return bad("key %d: %v", i, err)
					}
				}
				if c.kind == kindTotalsAddr {
					k.Addr = netip.AddrFrom4(key4)
				} else {
					k.Int = int32(binary.BigEndian.Uint32(key4[:]) ^ 1<<31)
				}
			case 1:
				if i == 0 {
					copy(key16[:], d.bytes(16))
				} else if err := d.nextKey(kindIP6, &k16); err != nil {
					return bad("key %d: %v", i, err)
				}
				k.Addr = netip.AddrFrom16(key16)
			case 2:
				if i == 0 {
					str = append(str[:0], d.bytes(d.uvarint())...)
				} else if err := d.nextKey(kindString, &str); err != nil {
					return bad("key %d: %v", i, err)
				}
				k.Text = str
			case 3:
				k.Null = true
			}
			h := d.uvarint()
			flows, denied, neither := h>>3, uint64(0), uint64(0)
			switch h & 3 {
			case 1:
				denied = flows
			case 2:
				denied = d.uvarint()
			case 3:
				denied, neither = d.uvarint(), d.uvarint()
			}
			var packets, bytes int64
			if h&4 != 0 {
				packets, bytes = d.varint(), d.varint()
			}
			if d.err != nil {
				return bad("key %d: %v", i, d.err)
			}
			if flows == 0 || flows > c.indexed-rows || denied > flows || neither > flows-denied {
				return bad("key %d: %d rows (%d denied, %d neither allowed nor denied), %d of %d rows left", i, flows, denied, neither, c.indexed-rows, c.indexed)
			}
			rows += flows
			if fn != nil && !fn(k, Totals{Flows: int64(flows), Packets: packets, Bytes: bytes, Allowed: int64(flows - denied - neither), Denied: int64(denied)}) {
				return nil
			}
		}
	}
	if rows != c.indexed {
		return bad("keys count %d rows of %d", rows, c.indexed)
	}
	if d.off != len(b) {
		return bad("%d bytes after the last key", len(b)-d.off)
	}
	return nil
}

// totalsClassOK reports whether a section of kind may hold keys of class
// (0 4-byte, 1 16-byte, 2 string, 3 null).
func totalsClassOK(kind colKind, class int) bool {
	switch kind {
	case kindTotalsAddr:
		return true
	case kindTotalsInt:
		return class == 0
	}
	return class >= 2
}

// varint reads a zigzag varint, as binary.Varint does.
func (d *decoder) varint() int64 {
	u := d.uvarintLong()
	return int64(u>>1) ^ -int64(u&1)
}

// totals are the counts of one key while a file is indexed.
type totals struct {
	packets, bytes int64
	n              [3]int64 // rows by decision code: 0 neither (null), 1 allow, 2 deny
}

func (t *totals) flows() int64 { return t.n[0] + t.n[1] + t.n[2] }

func (t *totals) merge(o *totals) {
	t.packets += o.packets
	t.bytes += o.bytes
	for i := range t.n {
		t.n[i] += o.n[i]
	}
}

// rowTotals is what each row of a record adds to the totals of its keys.
type rowTotals struct {
	packets, bytes []int64
	dec            []uint8 // decision code: 0 null (or neither), 1 allow, 2 deny
	codes          []uint8 // scratch: code by dictionary entry
}

func (r *rowTotals) add(t *totals, i int) {
	t.packets += r.packets[i]
	t.bytes += r.bytes[i]
	t.n[r.dec[i]]++
}

// rowTotals computes what each row of rec adds to the totals. It returns
// nil when rec lacks a column the totals count: the file then gets none.
func (b *indexBuilder) rowTotals(rec arrow.RecordBatch, n int) (*rowTotals, error) {
	sc := rec.Schema()
	var cols [len(totalsInputs)]arrow.Array
	for i, name := range totalsInputs {
		idx := sc.FieldIndices(name)
		if len(idx) == 0 {
			return nil, nil
		}
		cols[i] = rec.Column(idx[0])
	}
	r := &b.rt
	r.packets = slices.Grow(r.packets[:0], n)[:n]
	r.bytes = slices.Grow(r.bytes[:0], n)[:n]
	r.dec = slices.Grow(r.dec[:0], n)[:n]
	clear(r.packets)
	clear(r.bytes)
	for i, dst := range [][]int64{r.packets, r.bytes, r.packets, r.bytes} {
		if err := addCounter(dst, cols[1+i]); err != nil {
			return nil, fmt.Errorf("index %s: %w", totalsInputs[1+i], err)
		}
	}
	if err := r.decisions(cols[0]); err != nil {
		return nil, fmt.Errorf("index decision: %w", err)
	}
	return r, nil
}

// addCounter adds the values of a counter column to dst, a null adding 0.
func addCounter(dst []int64, a arrow.Array) error {
	x, ok := a.(*array.Int64)
	if !ok {
		if _, null := a.(*array.Null); null {
			return nil
		}
		return fmt.Errorf("column of %s, want int64", a.DataType())
	}
	v := x.Int64Values()[:len(dst)]
	if x.NullN() == 0 {
		for i := range dst {
			dst[i] += v[i]
		}
		return nil
	}
	for i := range dst {
		if x.IsValid(i) {
			dst[i] += v[i]
		}
	}
	return nil
}

// decisions sets r.dec from the decision column a.
func (r *rowTotals) decisions(a arrow.Array) error {
	code := func(s string) uint8 {
		switch s {
		case "allow":
			return uint8(DecisionAllow)
		case "deny":
			return uint8(DecisionDeny)
		}
		return 0
	}
	dec := r.dec
	switch x := a.(type) {
	case *array.Null:
		clear(dec)
	case *array.String:
		for i := range dec {
			dec[i] = 0
			if x.IsValid(i) {
				dec[i] = code(x.Value(i))
			}
		}
	case *array.Dictionary:
		dict, vals, err := dictionary(x)
		if err != nil {
			return err
		}
		codes := slices.Grow(r.codes[:0], dict.Len())[:dict.Len()]
		r.codes = codes
		for j := range codes {
			codes[j] = 0
			if dict.IsValid(j) {
				codes[j] = code(dict.Value(j))
			}
		}
		for i := range dec {
			dec[i] = 0
			if x.IsNull(i) {
				continue
			}
			d, err := dictIndex(x, vals, i, len(codes))
			if err != nil {
				return err
			}
			dec[i] = codes[d]
		}
	default:
		return fmt.Errorf("column of %s, want string", a.DataType())
	}
	return nil
}

// intTotals gathers the totals of an int32 column (dst_port, proto) by
// value: values below len(slot) through slot, others through a map.
type intTotals struct {
	slot  []int32         // value → 1 + its index in tot; 0 for none yet
	other map[int32]int32 // the same for other values
	keys  []int32         // by index in tot
	tot   []totals
}

func newIntTotals(dense int) *intTotals { return &intTotals{slot: make([]int32, dense)} }

func (c *intTotals) at(v int32) *totals {
	var s int32
	if uint32(v) < uint32(len(c.slot)) {
		if s = c.slot[v]; s == 0 {
			s = c.newKey(v)
			c.slot[v] = s
		}
	} else {
		var ok bool
		if s, ok = c.other[v]; !ok {
			if c.other == nil {
				c.other = map[int32]int32{}
			}
			s = c.newKey(v)
			c.other[v] = s
		}
	}
	return &c.tot[s-1]
}

func (c *intTotals) newKey(v int32) int32 {
	c.keys = append(c.keys, v)
	c.tot = append(c.tot, totals{})
	return int32(len(c.tot))
}

// add adds the rows of an int32 column, a null reading 0.
func (c *intTotals) add(a arrow.Array, n int, rt *rowTotals) error {
	switch x := a.(type) {
	case nil, *array.Null:
		t := c.at(0)
		for i := range n {
			rt.add(t, i)
		}
	case *array.Int32:
		nulls := x.NullN() > 0
		for i, v := range x.Int32Values()[:n] {
			if nulls && x.IsNull(i) {
				v = 0
			}
			rt.add(c.at(v), i)
		}
	default:
		return fmt.Errorf("column of %s, want int32", a.DataType())
	}
	return nil
}

func (c *intTotals) reset() {
	for _, v := range c.keys {
		if uint32(v) < uint32(len(c.slot)) {
			c.slot[v] = 0
		}
	}
	clear(c.other)
	c.keys, c.tot = c.keys[:0], c.tot[:0]
}

// totalsWriter encodes one totals section.
type totalsWriter struct {
	ents []byte
	n    [4]uint64
	prev []byte
	rows uint64
	scr  []byte
}

func (w *totalsWriter) start() {
	w.ents, w.n, w.rows = w.ents[:0], [4]uint64{}, 0
}

func (w *totalsWriter) counters(t *totals) {
	flows, denied, neither := uint64(t.flows()), uint64(t.n[DecisionDeny]), uint64(t.n[0])
	w.rows += flows
	var flags uint64
	switch {
	case denied == 0 && neither == 0:
	case denied == flows:
		flags = 1
	case neither == 0:
		flags = 2
	default:
		flags = 3
	}
	if t.packets != 0 || t.bytes != 0 {
		flags |= 4
	}
	w.ents = binary.AppendUvarint(w.ents, flows<<3|flags)
	if flags&3 >= 2 {
		w.ents = binary.AppendUvarint(w.ents, denied)
	}
	if flags&3 == 3 {
		w.ents = binary.AppendUvarint(w.ents, neither)
	}
	if flags&4 != 0 {
		w.ents = binary.AppendVarint(w.ents, t.packets)
		w.ents = binary.AppendVarint(w.ents, t.bytes)
	}
}

// add4 adds a 4-byte key, above the one before.
func (w *totalsWriter) add4(k uint32, t *totals) {
	if w.n[0] == 0 {
		w.ents = binary.AppendUvarint(w.ents, uint64(k))
	} else {
		w.ents = binary.AppendUvarint(w.ents, uint64(k-binary.BigEndian.Uint32(w.prev)))
	}
	w.prev = binary.BigEndian.AppendUint32(w.prev[:0], k)
	w.n[0]++
	w.counters(t)
}

// add16 adds a 16-byte key, above the one before.
func (w *totalsWriter) add16(k [16]byte, t *totals) {
	if w.n[1] == 0 {
		w.ents = append(w.ents, k[:]...)
	} else {
		w.ents = appendKey(w.ents, kindIP6, w.prev, k[:])
	}
	w.prev = append(w.prev[:0], k[:]...)
	w.n[1]++
	w.counters(t)
}

// addString adds a string key, above the one before.
func (w *totalsWriter) addString(k []byte, t *totals) {
	if w.n[2] == 0 {
		w.ents = binary.AppendUvarint(w.ents, uint64(len(k)))
		w.ents = append(w.ents, k...)
	} else {
		w.ents = appendKey(w.ents, kindString, w.prev, k)
	}
	w.prev = append(w.prev[:0], k...)
	w.n[2]++
	w.counters(t)
}

func (w *totalsWriter) addNull(t *totals) {
	w.n[3]++
	w.counters(t)
}

// finish writes the section into o. Its keys must count every row.
func (w *totalsWriter) finish(o *colOut, name string, kind colKind, rows uint64) error {
	if w.rows != rows {
		return fmt.Errorf("BUG: totals of %s count %d rows of %d", name, w.rows, rows)
	}
	o.reset(name, kind)
	for _, x := range w.n {
		o.data = binary.AppendUvarint(o.data, x)
		o.nkeys += x
	}
	o.data = append(o.data, w.ents...)
	o.indexed = rows
	return nil
}

// oddText is a text of an address column kept under its own bytes.
type oddText struct {
	text string
	t    *totals
}

// encodeIPTotals encodes the totals of an address column; r ranks its
// addresses (ipRank.compute).
func (b *indexBuilder) encodeIPTotals(c *ipBuild, r *ipRank, name string, o *colOut) error {
	s := b.indexScratch
	byRank := slices.Grow(s.rankTot[:0], len(r.uniq))[:len(r.uniq)]
	clear(byRank)
	s.rankTot = byRank
	odd := s.oddTexts[:0]
	var buf [64]byte
	for text, id := range c.ids {
		switch {
		case id >= 0 && c.tot[id].flows() > 0:
			if string(c.addrs[id].AppendTo(buf[:0])) == text {
				byRank[r.rank[id]].merge(&c.tot[id])
			} else {
				odd = append(odd, oddText{text, &c.tot[id]})
			}
		case id <= -2 && c.odd[-2-id].flows() > 0:
			odd = append(odd, oddText{text, &c.odd[-2-id]})
		}
	}
	slices.SortFunc(odd, func(x, y oddText) int { return cmp.Compare(x.text, y.text) })
	s.oddTexts = odd
	w := &s.totalsW
	w.start()
	for k, a := range r.uniq {
		t := &byRank[k]
		switch {
		case t.flows() == 0:
		case k < r.n4:
			x := a.As4()
			w.add4(binary.BigEndian.Uint32(x[:]), t)
		default:
			w.add16(a.As16(), t)
		}
	}
	for _, x := range odd {
		w.scr = append(w.scr[:0], x.text...)
		w.addString(w.scr, x.t)
	}
	if c.null.flows() > 0 {
		w.addNull(&c.null)
	}
	clear(odd) // drop the pointers
	return w.finish(o, name, kindTotalsAddr, b.rows)
}

// encodeIntTotals encodes the totals of an int32 column.
func (b *indexBuilder) encodeIntTotals(c *intTotals, name string, o *colOut) error {
	order := b.order[:0]
	for i := range c.keys {
		order = append(order, uint32(i))
	}
	b.order = order
	slices.SortFunc(order, func(x, y uint32) int { return cmp.Compare(c.keys[x], c.keys[y]) })
	w := &b.totalsW
	w.start()
	for _, i := range order {
		w.add4(uint32(c.keys[i])^1<<31, &c.tot[i])
	}
	return w.finish(o, name, kindTotalsInt, b.rows)
}

// encodeStringTotals encodes the totals of a string column.
func (b *indexBuilder) encodeStringTotals(c *strBuild, name string, o *colOut) error {
	order := b.order[:0]
	for i := range c.tot {
		if c.tot[i].flows() > 0 {
			order = append(order, uint32(i))
		}
	}
	b.order = order
	slices.SortFunc(order, func(x, y uint32) int { return cmp.Compare(c.keys[x], c.keys[y]) })
	w := &b.totalsW
	w.start()
	for _, i := range order {
		w.scr = append(w.scr[:0], c.keys[i]...)
		w.addString(w.scr, &c.tot[i])
	}
	if c.null.flows() > 0 {
		w.addNull(&c.null)
	}
	return w.finish(o, name, kindTotalsString, b.rows)
}

// encodeTotals encodes the totals sections of the file into outs (one
// per totalsSpecs entry) and returns how many it wrote: none when the
// file lacks a column they count.
func (b *indexBuilder) encodeTotals(outs []colOut) (int, error) {
	if b.noTotals {
		return 0, nil
	}
	for i, spec := range totalsSpecs {
		o := &outs[i]
		var err error
		switch spec.name {
		case "src_ip":
			err = b.encodeIPTotals(&b.ips[0], &b.rank[0], spec.name, o)
		case "dst_ip":
			err = b.encodeIPTotals(&b.ips[1], &b.rank[1], spec.name, o)
		case "dst_port":
			err = b.encodeIntTotals(b.ports[1].tot, spec.name, o)
		case "proto":
			err = b.encodeIntTotals(b.proto, spec.name, o)
		case "rule":
			err = b.encodeStringTotals(&b.strs[3], spec.name, o)
		case "resource_id":
			err = b.encodeStringTotals(&b.strs[4], spec.name, o)
		default:
			panic("BUG: totals of " + spec.name)
		}
		if err != nil {
			return 0, err
		}
	}
	return len(totalsSpecs), nil
}
