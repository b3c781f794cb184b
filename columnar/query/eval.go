package query

import (
	"bytes"
	"slices"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

// evaluator runs a filter over the rows of a block, a column at a time:
// a leaf on a dictionary column is evaluated once per dictionary entry
// (with the leaf's own Match, on a row holding only that value) and then
// looked up per row; ports and protocols are compared per row; counters
// and times go through Match on a row holding only those fields. The
// result equals Match on every row (TestQueryEvalMatchesMatch).
//
// Columns are decoded as the filter reaches them: the terms of an and
// are taken cheapest first and stop at the first that leaves no row, and
// a dictionary leaf that no entry satisfies answers without decoding the
// column's data pages. So a needle query reads, in most row groups, one
// dictionary page. An evaluator belongs to one worker.
type evaluator struct {
	root  *node
	masks [][]bool // scratch, a stack
	depth int
	lut   []bool
	tmp   columnar.Flow
}

// node is the evaluator's form of a filter: and and or terms ordered by
// cost, an either-side address leaf split into its two sides.
type node struct {
	op    byte // '&', '|', '!', or 0 for a leaf
	terms []*node
	leaf  filter.Expr
	col   colID // a dictionary leaf's column, else numCols
	cost  int
	// text, when set, is the one value a dictionary entry must equal to
	// match: an IPv4 address leaf's text. Match parses dotted quads
	// without leading zeros and never lets an IPv4 prefix match an IPv6
	// address, so a text matches if and only if it is the address's
	// canonical form.
	text []byte
}

// ipLeaf compiles an address leaf on one side.
func ipLeaf(e *filter.IP, c colID) *node {
	n := &node{leaf: e, col: c, cost: 1}
	if p := e.Prefix; p.IsValid() && p.Addr().Is4() && p.IsSingleIP() {
		n.text = []byte(p.Addr().String())
	}
	return n
}

func compile(e filter.Expr) *node {
	switch e := e.(type) {
	case *filter.And:
		return compileGroup('&', e.Terms)
	case *filter.Or:
		return compileGroup('|', e.Terms)
	case *filter.Not:
		x := compile(e.X)
		return &node{op: '!', terms: []*node{x}, cost: x.cost}
	case *filter.IP:
		switch e.Side {
		case filter.Src:
			return ipLeaf(e, colSrcIP)
		case filter.Dst:
			return ipLeaf(e, colDstIP)
		}
		return &node{op: '|', cost: 2, terms: []*node{
			ipLeaf(&filter.IP{Side: filter.Src, Prefix: e.Prefix}, colSrcIP),
			ipLeaf(&filter.IP{Side: filter.Dst, Prefix: e.Prefix}, colDstIP),
		}}
	case *filter.Enum:
		if e.Field == filter.FieldProtocol {
			return &node{leaf: e, col: numCols, cost: 3}
		}
		if c := enumCol(e.Field); c != numCols {
			return &node{leaf: e, col: c, cost: 1}
		}
	case *filter.Text:
		if c := textCol(e.Field); c != numCols {
			return &node{leaf: e, col: c, cost: 1}
		}
	case *filter.Port:
		if e.Side == filter.Either {
			return &node{leaf: e, col: numCols, cost: 6}
		}
		return &node{leaf: e, col: numCols, cost: 3}
	case *filter.Time:
		return &node{leaf: e, col: numCols, cost: 4}
	case *filter.Counter:
		return &node{leaf: e, col: numCols, cost: 8}
	}
	return &node{leaf: e, col: numCols, cost: 9} // a leaf Parse does not make: Match on whole rows
}

func compileGroup(op byte, terms []filter.Expr) *node {
	n := &node{op: op}
	for _, t := range terms {
		c := compile(t)
		n.terms = append(n.terms, c)
		n.cost += c.cost
	}
	// Cheap terms first: they may settle every row before a costly one
	// is decoded. Terms have no side effects, so the order is free.
	slices.SortStableFunc(n.terms, func(a, b *node) int { return a.cost - b.cost })
	return n
}

// withoutLeaves returns e less the leaves of drop found through "and"
// nodes from its root; nil when nothing is left.
func withoutLeaves(e filter.Expr, drop []filter.Expr) filter.Expr {
	if slices.Contains(drop, e) {
		return nil
	}
	a, ok := e.(*filter.And)
	if !ok {
		return e
	}
	var terms []filter.Expr
	changed := false
	for _, t := range a.Terms {
		r := withoutLeaves(t, drop)
		if r != nil {
			terms = append(terms, r)
		}
		changed = changed || r != t
	}
	switch {
	case !changed:
		return e
	case len(terms) == 0:
		return nil
	case len(terms) == 1:
		return terms[0]
	}
	return &filter.And{Terms: terms}
}

// sparse is the share of candidate rows below which a block is filtered
// row by row rather than column by column.
const sparse = 16

// filter sets b.rows to the candidate rows of b that match. Columns the
// filter reads are decoded on the way (first is the list of them).
func (ev *evaluator) filter(b *block, first []colID) error {
	b.rows = b.rows[:0]
	switch {
	case ev.root == nil && b.cand == nil:
		b.rows = grow(b.rows, b.n)
		for i := range b.rows {
			b.rows[i] = int32(i)
		}
	case ev.root == nil:
		b.rows = append(b.rows, b.cand...)
	case b.cand != nil && len(b.cand)*sparse < b.n:
		if err := b.needAll(first); err != nil {
			return err
		}
		for _, r := range b.cand {
			b.fill(int(r), &ev.tmp)
			if ev.match(ev.root, &ev.tmp) {
				b.rows = append(b.rows, r)
			}
		}
	default:
		// Every row is evaluated, so every page is decoded: rows of
		// pages a span skips hold stale values (CI's race run once
		// panicked on a stale dictionary index).
		b.span = nil
		m := ev.push(b.n)
		defer ev.pop()
		if err := ev.eval(ev.root, b, m); err != nil {
			return err
		}
		if b.cand != nil {
			for _, r := range b.cand {
				if m[r] {
					b.rows = append(b.rows, r)
				}
			}
			return nil
		}
		for i, ok := range m {
			if ok {
				b.rows = append(b.rows, int32(i))
			}
		}
	}
	return nil
}

// match evaluates n on one row with Match.
func (ev *evaluator) match(n *node, f *columnar.Flow) bool {
	switch n.op {
	case '&':
		for _, t := range n.terms {
			if !ev.match(t, f) {
				return false
			}
		}
		return true
	case '|':
		for _, t := range n.terms {
			if ev.match(t, f) {
				return true
			}
		}
		return false
	case '!':
		return !ev.match(n.terms[0], f)
	}
	return n.leaf.Match(f)
}

func (ev *evaluator) push(n int) []bool {
	if ev.depth == len(ev.masks) {
		ev.masks = append(ev.masks, nil)
	}
	m := grow(ev.masks[ev.depth], n)
	ev.masks[ev.depth] = m
	ev.depth++
	return m
}

func (ev *evaluator) pop() { ev.depth-- }

// eval sets out[i] to whether row i matches n.
func (ev *evaluator) eval(n *node, b *block, out []bool) error {
	switch n.op {
	case '&', '|':
		if err := ev.eval(n.terms[0], b, out); err != nil {
			return err
		}
		tmp := ev.push(len(out))
		defer ev.pop()
		for _, t := range n.terms[1:] {
			if n.op == '&' && !anyOf(out, true) || n.op == '|' && !anyOf(out, false) {
				break // settled
			}
			if err := ev.eval(t, b, tmp); err != nil {
				return err
			}
			if n.op == '&' {
				for i := range out {
					out[i] = out[i] && tmp[i]
				}
			} else {
				for i := range out {
					out[i] = out[i] || tmp[i]
				}
			}
		}
		return nil
	case '!':
		if err := ev.eval(n.terms[0], b, out); err != nil {
			return err
		}
		for i := range out {
			out[i] = !out[i]
		}
		return nil
	}
	if n.col != numCols {
		return ev.lookup(n, b, out)
	}
	switch e := n.leaf.(type) {
	case *filter.Port:
		lo, hi := int32(e.Lo), int32(e.Hi)
		if e.Side != filter.Dst {
			src, err := b.need(colSrcPort, true)
			if err != nil {
				return err
			}
			for i, p := range src.i32[:len(out)] {
				out[i] = lo <= p && p <= hi
			}
		}
		if e.Side != filter.Src {
			dst, err := b.need(colDstPort, true)
			if err != nil {
				return err
			}
			d := dst.i32[:len(out)]
			if e.Side == filter.Dst {
				for i, p := range d {
					out[i] = lo <= p && p <= hi
				}
			} else {
				for i, p := range d {
					out[i] = out[i] || lo <= p && p <= hi
				}
			}
		}
	case *filter.Enum: // the protocol: other enums are dictionary leaves
		v, err := b.need(colProto, true)
		if err != nil {
			return err
		}
		want := int32(e.Value)
		for i, p := range v.i32[:len(out)] {
			out[i] = p == want
		}
	case *filter.Time:
		v, err := b.need(colTime, true)
		if err != nil {
			return err
		}
		for i, t := range v.i64[:len(out)] {
			ev.tmp.Time = t
			out[i] = e.Match(&ev.tmp)
		}
	case *filter.Counter: // Match on a row holding the counters
		for _, c := range counterCols {
			if b.vecs[c] != nil {
				if _, err := b.need(c, true); err != nil {
					return err
				}
			}
		}
		for i := range out {
			b.counters(i, &ev.tmp)
			out[i] = e.Match(&ev.tmp)
		}
	default:
		if err := b.needAll(b.all); err != nil {
			return err
		}
		for i := range out {
			b.fill(i, &ev.tmp)
			out[i] = e.Match(&ev.tmp)
		}
	}
	return nil
}

// anyOf reports whether m holds v.
func anyOf(m []bool, v bool) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// lookup evaluates a leaf that reads only one dictionary column: once per
// dictionary entry and once for null, then per row from that table. When
// the table is all false or all true, the column's data pages are not
// decoded.
func (ev *evaluator) lookup(n *node, b *block, out []bool) error {
	v, err := b.need(n.col, false)
	if err != nil {
		return err
	}
	ev.lut = grow(ev.lut, v.dictLen()+1)
	var f columnar.Flow
	ev.lut[0] = n.leaf.Match(&f)
	trues := 0
	if n.text != nil {
		for j := range v.dictLen() {
			d := v.entry(int32(j))
			ev.lut[j+1] = bytes.Equal(d, n.text)
			if ev.lut[j+1] {
				trues++
			}
		}
	} else {
		for j := range v.dictLen() {
			setDict(&f, v, int32(j))
			ev.lut[j+1] = n.leaf.Match(&f)
			if ev.lut[j+1] {
				trues++
			}
		}
	}
	// A null row matches as ev.lut[0]; if every entry agrees with it,
	// no row can differ.
	if trues == 0 && !ev.lut[0] || trues == v.dictLen() && ev.lut[0] {
		fill(out, ev.lut[0])
		return nil
	}
	if v, err = b.need(n.col, true); err != nil {
		return err
	}
	// Decoding the data pages may have added dictionary entries (a
	// dictionary read in parts): judge those too.
	if known := len(ev.lut) - 1; v.dictLen() > known {
		ev.lut = append(ev.lut, make([]bool, v.dictLen()-known)...)
		for j := known; j < v.dictLen(); j++ {
			if n.text != nil {
				ev.lut[j+1] = bytes.Equal(v.entry(int32(j)), n.text)
			} else {
				setDict(&f, v, int32(j))
				ev.lut[j+1] = n.leaf.Match(&f)
			}
		}
	}
	lut := ev.lut[:v.dictLen()+1]
	for i, j := range v.idx[:len(out)] {
		out[i] = lut[j+1]
	}
	return nil
}

// setDict sets the field of f that v's column fills to dictionary entry j.
func setDict(f *columnar.Flow, v *vector, j int32) {
	switch v.id {
	case colSrcIP:
		f.SrcIP = v.entry(j)
	case colDstIP:
		f.DstIP = v.entry(j)
	case colRule:
		f.Rule = v.entry(j)
	case colResourceID:
		f.ResourceID = v.entry(j)
	case colMAC:
		f.MAC = v.entry(j)
	case colSource:
		f.Source = columnar.Source(v.codes()[j])
	case colDirection:
		f.Direction = columnar.Direction(v.codes()[j])
	case colDecision:
		f.Decision = columnar.Decision(v.codes()[j])
	case colState:
		f.State = v.codes()[j]
	}
}

// enumCol and textCol name the column a leaf's field reads; numCols for
// none.
func enumCol(f filter.Field) colID {
	switch f {
	case filter.FieldDirection:
		return colDirection
	case filter.FieldDecision:
		return colDecision
	case filter.FieldState:
		return colState
	case filter.FieldSource:
		return colSource
	}
	return numCols
}

func textCol(f filter.Field) colID {
	switch f {
	case filter.FieldRule:
		return colRule
	case filter.FieldResourceID:
		return colResourceID
	case filter.FieldMAC:
		return colMAC
	}
	return numCols
}
