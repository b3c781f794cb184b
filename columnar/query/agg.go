package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
)

// Report kinds.
const (
	KindTop      = "top"      // top keys by a metric
	KindDenied   = "denied"   // denied flows by source, destination port and rule
	KindRules    = "rules"    // flows per rule and NSG, allowed and denied
	KindTimeline = "timeline" // flows, bytes and denies per interval
	KindPorts    = "ports"    // flows per protocol and destination port, allowed and denied
	KindAll      = "all"      // timeline, top talkers, denied and rules in one scan
)

// Kinds lists the report kinds; Bys the keys of a top report; Metrics
// its metrics.
var (
	Kinds   = []string{KindTop, KindDenied, KindRules, KindTimeline, KindPorts, KindAll}
	Bys     = []string{"src_ip", "dst_ip", "pair", "dst_port", "protocol", "rule", "nsg"}
	Metrics = []string{"flows", "bytes", "packets"}
)

// Report says what to count. The zero value of each field but Kind has a
// default: By src_ip, Metric flows (bytes for the talkers of KindAll),
// Every one hour, Top 0 (every row).
type Report struct {
	Kind   string
	By     string // KindTop: one of Bys
	Metric string // KindTop: one of Metrics
	Top    int    // rows per table, the largest first; 0 keeps all
	// KindTimeline: the interval, whole seconds. Intervals start at its
	// multiples since the Unix epoch: at UTC midnight when it divides a day.
	Every time.Duration
}

// KeyKind is how a key column prints.
type KeyKind uint8

// Key kinds.
const (
	KeyString KeyKind = iota // a string: an address, a rule, an NSG, a protocol name
	KeyInt                   // a number: a port
	KeyTime                  // the start of an interval, Unix microseconds UTC
)

// Key is one part of a group's key; Null for rows where the column is
// null (a flow without a rule, say).
type Key struct {
	Str  string
	Int  int64
	Null bool
}

// Row is one group: its key parts and metrics, in the order of the
// table's columns.
type Row struct {
	Keys    []Key
	Metrics []int64
}

// Table is one result of a report.
type Table struct {
	Name     string    // what the table holds, e.g. "top src_ip by bytes"
	ID       string    // a short identifier, e.g. "top", "denied_src_ip"
	Keys     []string  // names of the key columns
	KeyKinds []KeyKind // and how they print
	Metrics  []string  // names of the metric columns
	Rows     []Row
	Chart    string // how to draw it: "bars" (the first metric) or "timeline"
}

// Result is what a report found.
type Result struct {
	Report Report
	Where  string // the filter, as filter.Expr.String; "" for every row
	Tables []Table
	Stats  Stats
}

// metric is a counter of a group.
type metric uint8

const (
	mFlows metric = iota
	mBytes
	mPackets
	mAllowed
	mDenied
	numMetrics
)

var metricNames = [numMetrics]string{"flows", "bytes", "packets", "allowed", "denied"}

// part is one part of a group key.
type part uint8

const (
	pSrcIP part = iota
	pDstIP
	pDstPort
	pProtocol
	pRule
	pNSG
	pTime
)

var partNames = [...]string{"src_ip", "dst_ip", "dst_port", "protocol", "rule", "nsg", "time"}

// group is one table of a report: a key of one or two parts, the metrics
// to count, and how to order the rows.
type group struct {
	id, name string
	parts    []part
	metrics  []metric // in output order; the first orders the rows, unless byKey
	denyOnly bool     // count only denied flows
	byKey    bool     // order by key ascending (a timeline)
	top      int
	every    int64 // pTime: interval in microseconds
	chart    string
}

// plan returns the groups of a report.
func (r *Report) plan() ([]*group, error) {
	top := r.Top
	if top < 0 {
		return nil, fmt.Errorf("top %d: want 0 or more", top)
	}
	every := r.Every
	if every == 0 {
		every = time.Hour
	}
	if every < time.Second || every%time.Second != 0 {
		return nil, fmt.Errorf("interval %s: want whole seconds", every)
	}
	metricOf := func(name string) (metric, error) {
		for i, m := range Metrics {
			if m == name {
				return metric(i), nil
			}
		}
		return 0, fmt.Errorf("metric %q: want one of %s", name, strings.Join(Metrics, ", "))
	}
	topGroup := func(by, mname string) (*group, error) {
		m, err := metricOf(mname)
		if err != nil {
			return nil, err
		}
		var parts []part
		switch by {
		case "pair":
			parts = []part{pSrcIP, pDstIP}
		case "src_ip":
			parts = []part{pSrcIP}
		case "dst_ip":
			parts = []part{pDstIP}
		case "dst_port":
			parts = []part{pDstPort}
		case "protocol":
			parts = []part{pProtocol}
		case "rule":
			parts = []part{pRule}
		case "nsg":
			parts = []part{pNSG}
		default:
			return nil, fmt.Errorf("by %q: want one of %s", by, strings.Join(Bys, ", "))
		}
		ms := []metric{m}
		if m != mFlows {
			ms = append(ms, mFlows)
		}
		return &group{id: "top_" + by, name: "top " + by + " by " + mname, parts: parts, metrics: ms, top: top, chart: "bars"}, nil
	}
	denied := func() []*group {
		var out []*group
		for _, p := range []part{pSrcIP, pDstPort, pRule} {
			out = append(out, &group{id: "denied_" + partNames[p], name: "denied flows by " + partNames[p],
				parts: []part{p}, metrics: []metric{mFlows}, denyOnly: true, top: top, chart: "bars"})
		}
		return out
	}
	rules := &group{id: "rules", name: "flows by rule and NSG", parts: []part{pRule, pNSG},
		metrics: []metric{mFlows, mAllowed, mDenied}, top: top}
	timeline := &group{id: "timeline", name: "flows, bytes and denies per " + shortDuration(every), parts: []part{pTime},
		metrics: []metric{mFlows, mBytes, mDenied}, byKey: true, top: top, every: every.Microseconds(), chart: "timeline"}
	switch r.Kind {
	case KindTop:
		g, err := topGroup(cmp.Or(r.By, "src_ip"), cmp.Or(r.Metric, "flows"))
		if err != nil {
			return nil, err
		}
		return []*group{g}, nil
	case KindDenied:
		return denied(), nil
	case KindRules:
		return []*group{rules}, nil
	case KindTimeline:
		return []*group{timeline}, nil
	case KindPorts:
		return []*group{{id: "ports", name: "flows by protocol and destination port", parts: []part{pProtocol, pDstPort},
			metrics: []metric{mFlows, mAllowed, mDenied}, top: top, chart: "bars"}}, nil
	case KindAll:
		mname := cmp.Or(r.Metric, "bytes")
		src, err := topGroup("src_ip", mname)
		if err != nil {
			return nil, err
		}
		dst, _ := topGroup("dst_ip", mname)
		port, _ := topGroup("dst_port", "flows")
		for _, g := range []*group{src, dst, port} {
			g.top = cmp.Or(top, 10)
		}
		gs := []*group{timeline, src, dst, port}
		for _, g := range denied() {
			g.top = cmp.Or(top, 10)
			gs = append(gs, g)
		}
		return append(gs, rules), nil
	}
	return nil, fmt.Errorf("report %q: want one of %s", r.Kind, strings.Join(Kinds, ", "))
}

// shortDuration prints 1h rather than 1h0m0s, and days as d.
func shortDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	s = strings.TrimSuffix(s, "0m")
	return s
}

// columns returns the columns a group reads.
func (g *group) columns() []string {
	var cols []string
	for _, p := range g.parts {
		switch p {
		case pDstPort:
			cols = append(cols, "dst_port")
		case pProtocol:
			cols = append(cols, "proto")
		case pNSG:
			cols = append(cols, "resource_id")
		default:
			cols = append(cols, partNames[p])
		}
	}
	for _, m := range g.metrics {
		switch m {
		case mBytes:
			cols = append(cols, "bytes_out", "bytes_in")
		case mPackets:
			cols = append(cols, "packets_out", "packets_in")
		case mAllowed, mDenied:
			cols = append(cols, "decision")
		}
	}
	if g.denyOnly {
		cols = append(cols, "decision")
	}
	return cols
}

// Report scans the dataset and counts what r asks for. Memory grows with
// the distinct keys of the report, not with the rows. The result does
// not depend on the number of workers.
func (q *Query) Report(ctx context.Context, r Report) (*Result, error) {
	groups, err := r.plan()
	if err != nil {
		return nil, err
	}
	var cols []string
	allDeny := true
	for _, g := range groups {
		cols = append(cols, g.columns()...)
		allDeny = allDeny && g.denyOnly
	}
	scan := *q
	if allDeny { // let the scan (and an index) drop allowed flows
		deny := &filter.Enum{Field: filter.FieldDecision, Value: uint8(columnar.DecisionDeny)}
		if q.Where == nil {
			scan.Where = deny
		} else {
			scan.Where = &filter.And{Terms: []filter.Expr{q.Where, deny}}
		}
	}
	ids, err := scan.columns(cols)
	if err != nil {
		return nil, err
	}
	files, err := columnar.Files(q.Root)
	if err != nil {
		return nil, err
	}
	e := scan.newEngine(files, ids)
	nw := q.workers()
	aggs := make([][]*counter, nw)
	for w := range aggs {
		for _, g := range groups {
			aggs[w] = append(aggs[w], newCounter(g))
		}
	}
	st, err := e.run(ctx, func(w int, b *block) (bool, error) {
		for _, c := range aggs[w] {
			c.add(b)
		}
		return false, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	res := &Result{Report: r, Stats: st}
	if q.Where != nil {
		res.Where = q.Where.String()
	}
	for i, g := range groups {
		var parts []*counter
		for w := range aggs {
			parts = append(parts, aggs[w][i])
		}
		res.Tables = append(res.Tables, g.table(parts))
	}
	return res, nil
}

// counter counts the groups of one table for one worker. Strings are
// interned per worker: a key id is a string's number (1 up; 0 is null),
// a port or protocol number, or an interval number.
type counter struct {
	g     *group
	strs  map[string]uint64
	ip4   map[uint32]uint64 // ids of IPv4 texts, by address: cheaper than strs
	names []string          // id-1 → string
	slots map[[2]uint64]int32
	keys  [][2]uint64         // the key of each slot
	sums  [][numMetrics]int64 // the counts of each slot
	// direct: a one-part key whose ids are small (strings, ports,
	// protocols) indexes dsums, and an entry with no flow is no group;
	// larger ids (a corrupt port) go through slots.
	direct bool
	dsums  [][numMetrics]int64
	lut    [2][]uint64 // per key part: a block's dictionary entry → id
	lutSet [2][]bool   // and whether it is known yet
	ids    [2][]uint64 // per key part: the id of each row of a block
	sel    []int32     // the denied rows of a block
}

func newCounter(g *group) *counter {
	return &counter{g: g, strs: map[string]uint64{}, ip4: map[uint32]uint64{}, slots: map[[2]uint64]int32{},
		direct: len(g.parts) == 1 && g.parts[0] != pTime}
}

// maxDirect bounds the ids that index counter.dsums.
const maxDirect = 1 << 22

// each calls fn with the key ids and sums of every group counted.
func (c *counter) each(fn func(k [2]uint64, sums *[numMetrics]int64)) {
	for id := range c.dsums {
		if c.dsums[id][mFlows] > 0 {
			fn([2]uint64{uint64(id)}, &c.dsums[id])
		}
	}
	for i, k := range c.keys {
		fn(k, &c.sums[i])
	}
}

func (c *counter) internString(s string) uint64 {
	if id, ok := c.strs[s]; ok {
		return id
	}
	c.names = append(c.names, s)
	id := uint64(len(c.names))
	c.strs[s] = id
	return id
}

func (c *counter) intern(s []byte) uint64 {
	if id, ok := c.strs[string(s)]; ok {
		return id
	}
	c.names = append(c.names, string(s))
	id := uint64(len(c.names))
	c.strs[c.names[id-1]] = id
	return id
}

// internAddr is intern for address texts: a dotted quad, which has one
// text per address (no leading zeros), is looked up by its 32 bits.
func (c *counter) internAddr(s []byte) uint64 {
	a, ok := dottedQuad(s)
	if !ok {
		return c.intern(s)
	}
	if id, ok := c.ip4[a]; ok {
		return id
	}
	id := c.intern(s)
	c.ip4[a] = id
	return id
}

// dottedQuad parses an IPv4 address in its one canonical text: four
// decimal octets, no leading zeros.
func dottedQuad(s []byte) (uint32, bool) {
	var a uint32
	octets, val, digits := 0, uint32(0), 0
	for _, ch := range s {
		switch {
		case '0' <= ch && ch <= '9':
			if digits == 1 && val == 0 {
				return 0, false
			}
			val = val*10 + uint32(ch-'0')
			digits++
			if val > 255 {
				return 0, false
			}
		case ch == '.' && digits > 0 && octets < 3:
			a = a<<8 | val
			octets++
			val, digits = 0, 0
		default:
			return 0, false
		}
	}
	if octets != 3 || digits == 0 {
		return 0, false
	}
	return a<<8 | val, true
}

// keyIDs sets c.ids[k][i] to the key id of part k of b's row rows[i].
func (c *counter) keyIDs(b *block, rows []int32, k int) {
	p := c.g.parts[k]
	ids := grow(c.ids[k], len(rows))
	c.ids[k] = ids
	switch p {
	case pDstPort:
		v := b.vecs[colDstPort].i32
		for i, r := range rows {
			ids[i] = uint64(uint32(v[r]))
		}
	case pProtocol:
		v := b.vecs[colProto].i32
		for i, r := range rows {
			ids[i] = uint64(uint32(v[r]))
		}
	case pTime:
		v := b.vecs[colTime].i64
		every := c.g.every
		for i, r := range rows {
			t := v[r]
			q := t / every
			if t%every < 0 {
				q--
			}
			ids[i] = uint64(q)
		}
	default: // strings: dictionary entries mapped to ids as they are met
		var v *vector
		switch p {
		case pSrcIP:
			v = b.vecs[colSrcIP]
		case pDstIP:
			v = b.vecs[colDstIP]
		case pRule:
			v = b.vecs[colRule]
		case pNSG:
			v = b.vecs[colResourceID]
		}
		lut := grow(c.lut[k], len(v.dict))
		set := grow(c.lutSet[k], len(v.dict))
		clear(set)
		c.lut[k], c.lutSet[k] = lut, set
		for i, r := range rows {
			j := v.idx[r]
			if j < 0 {
				ids[i] = 0
				continue
			}
			if !set[j] {
				s := v.dict[j]
				switch {
				case p == pNSG:
					lut[j] = c.intern(lastSegment(s))
				case p == pSrcIP || p == pDstIP:
					lut[j] = c.internAddr(s)
				default:
					lut[j] = c.intern(s)
				}
				set[j] = true
			}
			ids[i] = lut[j]
		}
	}
}

// lastSegment returns what follows the last "/" of a resource id.
func lastSegment(s []byte) []byte {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return s[i+1:]
		}
	}
	return s
}

// add counts the rows of a block.
func (c *counter) add(b *block) {
	rows := b.rows
	// decision code of each row, through the dictionary; code 0 is null
	var decIdx []int32
	var decCodes []uint8
	decision := func(r int32) uint8 {
		if j := decIdx[r]; j >= 0 {
			return decCodes[j]
		}
		return 0
	}
	if dec := b.vecs[colDecision]; dec != nil {
		decIdx, decCodes = dec.idx, dec.codes()
	}
	if c.g.denyOnly {
		c.sel = c.sel[:0]
		for _, r := range rows {
			if decision(r) == uint8(columnar.DecisionDeny) {
				c.sel = append(c.sel, r)
			}
		}
		rows = c.sel
	}
	for k := range c.g.parts {
		c.keyIDs(b, rows, k)
	}
	var bo, bi, po, pi []int64
	if v := b.vecs[colBytesOut]; v != nil {
		bo, bi = v.i64, b.vecs[colBytesIn].i64
	}
	if v := b.vecs[colPacketsOut]; v != nil {
		po, pi = v.i64, b.vecs[colPacketsIn].i64
	}
	var want [numMetrics]bool
	for _, m := range c.g.metrics {
		want[m] = true
	}
	id0 := c.ids[0]
	var id1 []uint64
	if len(c.g.parts) > 1 {
		id1 = c.ids[1]
	}
	lastKey, lastSlot := [2]uint64{}, int32(-1)
	for i, r := range rows {
		var s *[numMetrics]int64
		if id := id0[i]; c.direct && id < maxDirect {
			if id >= uint64(len(c.dsums)) {
				c.dsums = append(c.dsums, make([][numMetrics]int64, int(id)+1-len(c.dsums)+len(c.dsums)/2)...)
			}
			s = &c.dsums[id]
		} else {
			var k [2]uint64
			k[0] = id0[i]
			if id1 != nil {
				k[1] = id1[i]
			}
			// Neighbouring rows often share a key (rows come grouped by
			// rule and NSG, and in time order): one look-up for a run.
			if k != lastKey || lastSlot < 0 {
				lastKey, lastSlot = k, c.slot(k)
			}
			s = &c.sums[lastSlot]
		}
		s[mFlows]++
		if want[mBytes] {
			s[mBytes] += bo[r] + bi[r]
		}
		if want[mPackets] {
			s[mPackets] += po[r] + pi[r]
		}
		if want[mAllowed] || want[mDenied] {
			switch decision(r) {
			case uint8(columnar.DecisionAllow):
				s[mAllowed]++
			case uint8(columnar.DecisionDeny):
				s[mDenied]++
			}
		}
	}
}

func (c *counter) slot(k [2]uint64) int32 {
	s, ok := c.slots[k]
	if !ok {
		s = int32(len(c.sums))
		c.slots[k] = s
		c.keys = append(c.keys, k)
		c.sums = append(c.sums, [numMetrics]int64{})
	}
	return s
}

// key turns a key id of part k back into a Key.
func (c *counter) key(k int, id uint64) Key {
	switch p := c.g.parts[k]; p {
	case pDstPort:
		return Key{Int: int64(int32(uint32(id)))}
	case pProtocol:
		return Key{Str: columnar.ProtocolName(int32(uint32(id)))}
	case pTime:
		return Key{Int: int64(id) * c.g.every}
	default:
		if id == 0 {
			return Key{Null: true}
		}
		return Key{Str: c.names[id-1]}
	}
}

// merge adds the groups of o, another worker's counter of the same
// table, into c.
func (c *counter) merge(o *counter) {
	o.each(func(k [2]uint64, sums *[numMetrics]int64) {
		for p, part := range c.g.parts {
			switch part {
			case pDstPort, pProtocol, pTime:
			default:
				if k[p] != 0 {
					k[p] = c.internString(o.names[k[p]-1])
				}
			}
		}
		var s *[numMetrics]int64
		if c.direct && k[0] < maxDirect {
			if k[0] >= uint64(len(c.dsums)) {
				c.dsums = append(c.dsums, make([][numMetrics]int64, int(k[0])+1-len(c.dsums))...)
			}
			s = &c.dsums[k[0]]
		} else {
			s = &c.sums[c.slot(k)]
		}
		for m := range s {
			s[m] += sums[m]
		}
	})
}

// table merges the counters of every worker and orders the rows; only
// the rows kept become Rows.
func (g *group) table(cs []*counter) Table {
	t := Table{Name: g.name, ID: g.id, Chart: g.chart}
	for _, p := range g.parts {
		t.Keys = append(t.Keys, partNames[p])
		kind := KeyString
		switch p {
		case pDstPort:
			kind = KeyInt
		case pTime:
			kind = KeyTime
		}
		t.KeyKinds = append(t.KeyKinds, kind)
	}
	for _, m := range g.metrics {
		t.Metrics = append(t.Metrics, metricNames[m])
	}
	c := cs[0]
	for _, o := range cs[1:] {
		c.merge(o)
	}
	type entry struct {
		k    [2]uint64
		sums *[numMetrics]int64
	}
	var all []entry
	c.each(func(k [2]uint64, sums *[numMetrics]int64) { all = append(all, entry{k, sums}) })
	keys := func(e entry) []Key {
		out := make([]Key, len(g.parts))
		for p := range out {
			out[p] = c.key(p, e.k[p])
		}
		return out
	}
	first := g.metrics[0]
	slices.SortFunc(all, func(a, b entry) int {
		if !g.byKey {
			if d := cmp.Compare(b.sums[first], a.sums[first]); d != 0 {
				return d
			}
		}
		var ka, kb [2]Key
		for p := range g.parts {
			ka[p], kb[p] = c.key(p, a.k[p]), c.key(p, b.k[p])
		}
		return compareKeys(ka[:len(g.parts)], kb[:len(g.parts)], t.KeyKinds)
	})
	if g.top > 0 && len(all) > g.top {
		all = all[:g.top]
	}
	for _, e := range all {
		r := Row{Keys: keys(e), Metrics: make([]int64, len(g.metrics))}
		for m, id := range g.metrics {
			r.Metrics[m] = e.sums[id]
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// compareKeys orders keys part by part: strings bytewise, numbers by
// value, nulls last.
func compareKeys(a, b []Key, kinds []KeyKind) int {
	for i := range a {
		x, y := a[i], b[i]
		switch {
		case x.Null && y.Null:
			continue
		case x.Null:
			return 1
		case y.Null:
			return -1
		}
		var d int
		if kinds[i] == KeyString {
			d = strings.Compare(x.Str, y.Str)
		} else {
			d = cmp.Compare(x.Int, y.Int)
		}
		if d != 0 {
			return d
		}
	}
	return 0
}
