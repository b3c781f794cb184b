package query

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/flowlens/flowlens/columnar"
)

// block is one row group of one file, decoded as far as a query needs:
// columns are decoded when the filter or the output first asks for them,
// dictionary columns first their dictionary alone. A block is used by one
// goroutine at a time; its byte slices live until it is reused.
type block struct {
	file  int                  // position of the file in the scan's list
	first int64                // row number, in its file, of the block's row 0
	n     int                  // rows in the row group
	vecs  [numCols + 1]*vector // vecs[numCols] stays nil: "no column"
	all   []colID              // the columns of the query, in schema order
	state [numCols + 1]uint8   // how far each column is decoded
	src   *chunks              // where its column chunks are read from
	span  rowSpan              // pages to decode: nil for all
	cand  []int32              // rows the selector picked, ascending; nil: all
	rows  []int32              // rows to hand on, ascending
}

// Column states in a block.
const (
	stNone = iota // not read
	stDict        // its dictionary page read, not its data pages
	stFull        // decoded (pages outside the block's span skipped)
)

func newBlock(cols []colID) *block {
	b := &block{all: cols}
	mem := new(slab)
	for _, c := range cols {
		b.vecs[c] = newVector(c)
		b.vecs[c].mem = mem
	}
	return b
}

// chunks reads the column chunks of one row group of one file, through
// one page reader; it belongs to a worker.
type chunks struct {
	f    io.ReaderAt
	path string
	md   *footer
	rg   *rowGroup
	rgNo int
	leaf [numCols]int // leaf column of each schema column
	pr   *pageReader
	cur  colID // the column chunk pr holds; numCols for none
}

// need decodes column c as far as asked: its dictionary only (full false)
// or all of it, and returns it.
func (b *block) need(c colID, full bool) (*vector, error) {
	v := b.vecs[c]
	st := b.state[c]
	if v == nil {
		return nil, fmt.Errorf("BUG: column %s is not among those read", c)
	}
	if st == stFull || st == stDict && !full {
		return v, nil
	}
	s := b.src
	if st == stNone || s.cur != c {
		err := s.pr.resetSpan(s.f, &s.rg.chunks[s.leaf[c]], int64(b.n), b.span)
		if err == nil && st == stNone {
			err = v.start(&s.md.leaves[s.leaf[c]], b.n, b.span == nil)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: row group %d: column %s: %w", s.path, s.rgNo, c, err)
		}
		v.at = 0
		s.cur = c
	}
	done, err := v.read(s.pr, b.span, !full)
	if err != nil {
		return nil, fmt.Errorf("%s: row group %d: %w", s.path, s.rgNo, err)
	}
	b.state[c] = stDict
	if done {
		b.state[c] = stFull
	}
	return v, nil
}

// needAll decodes every column of cols.
func (b *block) needAll(cols []colID) error {
	for _, c := range cols {
		if _, err := b.need(c, true); err != nil {
			return err
		}
	}
	return nil
}

// vec returns column c if it is decoded, else nil.
func (b *block) vec(c colID) *vector {
	if b.state[c] == stFull {
		return b.vecs[c]
	}
	return nil
}

// rowList is an ascending list of rows, as a rowSpan.
type rowList []int32

// last returns the last row of the list in [from, to), or -1.
func (l rowList) last(from, to int) int {
	i := sort.Search(len(l), func(i int) bool { return int(l[i]) >= to })
	if i > 0 && int(l[i-1]) >= from {
		return int(l[i-1])
	}
	return -1
}

// first returns the first row of the list in [from, to), or -1.
func (l rowList) first(from, to int) int {
	i := sort.Search(len(l), func(i int) bool { return int(l[i]) >= from })
	if i < len(l) && int(l[i]) < to {
		return int(l[i])
	}
	return -1
}

// Dictionary values of the enum columns, by columnar code.
var (
	sourceNames = func() (s []string) {
		for i := 0; !strings.HasPrefix(columnar.Source(i).String(), "source("); i++ {
			s = append(s, columnar.Source(i).String())
		}
		return s
	}()
	directionNames = []string{columnar.DirectionIn: "in", columnar.DirectionOut: "out"}
	decisionNames  = []string{columnar.DecisionAllow: "allow", columnar.DecisionDeny: "deny"}
)

// codes returns, for an enum column, the columnar code of each dictionary
// entry: Source, Direction, Decision, or the state letter. A value the
// code table lacks is 0, as a null is.
func (v *vector) codes() []uint8 {
	if v.hasCode {
		return v.codeOf
	}
	v.codeOf = grow(v.codeOf, v.dictLen())
	for j := range v.dictLen() {
		s := v.entry(int32(j))
		var c uint8
		switch v.id {
		case colSource:
			c = lookupCode(sourceNames, s)
		case colDirection:
			c = lookupCode(directionNames, s)
		case colDecision:
			c = lookupCode(decisionNames, s)
		case colState:
			if len(s) == 1 {
				c = s[0]
			}
		}
		v.codeOf[j] = c
	}
	v.hasCode = true
	return v.codeOf
}

func lookupCode(names []string, s []byte) uint8 {
	for i := 1; i < len(names); i++ {
		if names[i] == string(s) {
			return uint8(i)
		}
	}
	return 0
}

// code returns row i's enum code, 0 for null.
func (v *vector) code(i int) uint8 {
	j := v.idx[i]
	if j < 0 {
		return 0
	}
	return v.codes()[j]
}

// fill sets the fields of f that the block's columns hold from row i, and
// clears the others. Byte slices point into the block.
func (b *block) fill(i int, f *columnar.Flow) {
	*f = columnar.Flow{}
	for _, c := range b.all {
		v := b.vec(c)
		if v == nil {
			continue
		}
		switch c {
		case colTime:
			f.Time = v.i64[i]
		case colEndTime:
			f.EndTime, f.HasEndTime = v.i64[i], !v.isNull(i)
		case colSource:
			f.Source = columnar.Source(v.code(i))
		case colResourceID:
			f.ResourceID = v.bytes(i)
		case colMAC:
			f.MAC = v.bytes(i)
		case colRule:
			f.Rule = v.bytes(i)
		case colSrcIP:
			f.SrcIP = v.bytes(i)
		case colDstIP:
			f.DstIP = v.bytes(i)
		case colSrcPort:
			f.SrcPort = v.i32[i]
		case colDstPort:
			f.DstPort = v.i32[i]
		case colProto:
			f.Proto = v.i32[i]
		case colDirection:
			f.Direction = columnar.Direction(v.code(i))
		case colDecision:
			f.Decision = columnar.Decision(v.code(i))
		case colState:
			f.State = v.code(i)
		case colPacketsOut:
			f.PacketsOut = v.i64[i]
		case colBytesOut:
			f.BytesOut = v.i64[i]
		case colPacketsIn:
			f.PacketsIn = v.i64[i]
		case colBytesIn:
			f.BytesIn = v.i64[i]
		case colACLID:
			f.ACLID = v.bytes(i)
		case colFlowLogID:
			f.FlowLogID = v.bytes(i)
		case colEncryption:
			f.Encryption = v.bytes(i)
		case colTCPFlags:
			f.TCPFlags, f.HasTCPFlags = v.i32[i], !v.isNull(i)
		case colVLAN:
			f.VLAN, f.HasVLAN = v.i32[i], !v.isNull(i)
		case colCapturedLen:
			f.CapturedLen, f.HasCapturedLen = v.i32[i], !v.isNull(i)
		}
	}
	f.HasCounters = b.hasCounters(i)
}

var counterCols = [...]colID{colPacketsOut, colBytesOut, colPacketsIn, colBytesIn}

// hasCounters reports whether row i has counters: whether every counter
// column read is valid there. flowlens writes the four together, null
// together (NSG v1 rows).
func (b *block) hasCounters(i int) bool {
	read := false
	for _, c := range counterCols {
		if v := b.vec(c); v != nil {
			if v.isNull(i) {
				return false
			}
			read = true
		}
	}
	return read
}

// counters sets the counter fields of f from row i.
func (b *block) counters(i int, f *columnar.Flow) {
	f.PacketsOut, f.BytesOut, f.PacketsIn, f.BytesIn = 0, 0, 0, 0
	if v := b.vec(colPacketsOut); v != nil {
		f.PacketsOut = v.i64[i]
	}
	if v := b.vec(colBytesOut); v != nil {
		f.BytesOut = v.i64[i]
	}
	if v := b.vec(colPacketsIn); v != nil {
		f.PacketsIn = v.i64[i]
	}
	if v := b.vec(colBytesIn); v != nil {
		f.BytesIn = v.i64[i]
	}
	f.HasCounters = b.hasCounters(i)
}
