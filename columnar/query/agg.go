package query

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
	"github.com/flowlens/flowlens/internal/resident"
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
//
// With q.IndexTotals, a report of one table keyed by one column (a top
// report by src_ip, dst_ip, dst_port, protocol, rule or nsg) over every
// row counts each file whose index is valid and holds the column's
// per-key totals from those totals, without reading the file
// (Stats.FilesFromIndex), and scans the others: the result is the one the
// scan gives. "Every row" is no q.Where, or one that compares times only
// (since 7d, time >= T and time < U) and covers the file's whole hour
// partition; a file it covers in part is scanned, with the filter. An
// index that fails validation (missing, stale, corrupt) is not used: the
// file is scanned.
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
	// The files answered from their index's totals are counted in one
	// counter, one file at a time: the workers read and check the totals
	// in parallel, but interning every key in each worker's counter, then
	// merging them, would cost more than it saves.
	var fromIndex *counter
	if col, ok := q.totalsColumn(groups); ok {
		fromIndex = newCounter(groups[0])
		var mu sync.Mutex
		e.answer = func(_, i int) (int64, bool) {
			if q.Where != nil { // time leaves only: does the file's hour match whole?
				if b := partitionBounds(files[i].Path); !allMatch(q.Where, &b) {
					return 0, false
				}
			}
			return fromIndex.fromIndex(filepath.Join(q.Root, filepath.FromSlash(files[i].Path)), col, &mu)
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
		if fromIndex != nil { // the one group: the others merge into it
			parts = append(parts, fromIndex)
		}
		for w := range aggs {
			parts = append(parts, aggs[w][i])
		}
		res.Tables = append(res.Tables, g.table(parts))
	}
	return res, nil
}

// totalsColumn returns the column of the index totals (columnar.Index
// Totals) that answer the report of groups over every row of a file: one
// table, keyed by one column, counting every row (not denied flows only),
// with no filter or one on time only (which matches every row of the
// files whose hour it covers). ok is false when totals cannot answer it,
// or when q does not ask for them.
func (q *Query) totalsColumn(groups []*group) (string, bool) {
	if !q.IndexTotals || q.Where != nil && !timeOnly(q.Where) || len(groups) != 1 {
		return "", false
	}
	g := groups[0]
	if len(g.parts) != 1 || g.denyOnly {
		return "", false
	}
	switch g.parts[0] {
	case pSrcIP:
		return "src_ip", true
	case pDstIP:
		return "dst_ip", true
	case pDstPort:
		return "dst_port", true
	case pProtocol:
		return "proto", true // keyed by number, as keyIDs keys it
	case pRule:
		return "rule", true
	case pNSG:
		return "resource_id", true // the NSG is its last segment
	}
	return "", false
}

// fromIndex counts every row of the Parquet file at path from the totals
// of column in its index, keyed as keyIDs keys rows, and returns the
// file's rows. ok is false, and nothing is counted, when the index does
// not open (missing, stale, corrupt), lacks those totals, or they fail
// validation (Totals checks the whole section before its first call):
// the file must be scanned then. c is shared: mu guards it, locked
// while the checked totals are counted.
func (c *counter) fromIndex(path, column string, mu *sync.Mutex) (rows int64, ok bool) {
	ix, err := columnar.OpenIndex(path)
	if err != nil {
		return 0, false
	}
	defer ix.Close()
	if !ix.HasTotals(column) {
		return 0, false
	}
	locked := false
	defer func() {
		if locked {
			mu.Unlock()
		}
	}()
	err = ix.Totals(column, func(k columnar.TotalsKey, t columnar.Totals) bool {
		if !locked { // the first key: Totals has checked the section
			mu.Lock()
			locked = true
			c.reserve(2 * int(ix.TotalsKeys(column)))
		}
		c.addTotals(k, &t)
		return true
	})
	if err != nil {
		return 0, false
	}
	return ix.Rows(), true
}

// reserve sizes an empty counter's tables for about n keys, rather than
// growing them key by key. Files of a dataset share most of their keys:
// twice the keys of the first file is about the keys of them all (20,342
// source addresses in the 204,538 keys of the 14 files of the 1 GiB
// benchmark, 14,600 in the largest file).
func (c *counter) reserve(n int) {
	if len(c.names) > 0 || len(c.sums) > 0 || len(c.dsums) > 0 || n <= 0 {
		return
	}
	n = min(n, 1<<20)
	switch c.g.parts[0] {
	case pSrcIP, pDstIP: // most texts are dotted quads, not in strs
		c.ip4 = make(map[uint32]uint64, n)
		c.names = make([]string, 0, n)
		c.dsums = make([][numMetrics]int64, 0, n+1)
	case pRule, pNSG:
		c.strs = make(map[string]uint64, n)
		c.names = make([]string, 0, n)
		c.dsums = make([][numMetrics]int64, 0, n+1)
	case pDstPort: // ids are the ports: all of them, when there are many
		if n > 1<<10 {
			c.dsums = make([][numMetrics]int64, 0, 1<<16)
		}
	}
	// Written key after key: resident at once, not a fault a page.
	resident.Slice(c.names)
	resident.Slice(c.dsums)
}

// addTotals counts the rows of one key of an index's totals.
func (c *counter) addTotals(k columnar.TotalsKey, t *columnar.Totals) {
	var id uint64
	switch c.g.parts[0] {
	case pDstPort, pProtocol:
		id = uint64(uint32(k.Int))
	case pSrcIP, pDstIP:
		switch {
		case k.Null:
		case k.Text != nil: // a text of its own, as a scan meets it
			id = c.internAddr(k.Text)
		case k.Addr.Is4():
			id = c.internIP4(k.Addr)
		default:
			c.text = k.Addr.AppendTo(c.text[:0])
			id = c.intern(c.text)
		}
	case pRule:
		if !k.Null {
			id = c.intern(k.Text)
		}
	case pNSG:
		if !k.Null {
			id = c.intern(lastSegment(k.Text))
		}
	}
	s := c.sumsOf([2]uint64{id})
	s[mFlows] += t.Flows
	s[mBytes] += t.Bytes
	s[mPackets] += t.Packets
	s[mAllowed] += t.Allowed
	s[mDenied] += t.Denied
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
	text   []byte      // scratch: an address's text
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
// text per address (no leading zeros), is looked up by its 32 bits, in
// ip4 only (strs holds the other texts).
func (c *counter) internAddr(s []byte) uint64 {
	a, ok := dottedQuad(s)
	if !ok {
		return c.intern(s)
	}
	if id, ok := c.ip4[a]; ok {
		return id
	}
	return c.newIP4(a, string(s))
}

// internAddrString is internAddr for a text of another counter.
func (c *counter) internAddrString(s string) uint64 {
	a, ok := dottedQuad(s)
	if !ok {
		return c.internString(s)
	}
	if id, ok := c.ip4[a]; ok {
		return id
	}
	return c.newIP4(a, s)
}

// internIP4 is internAddr for the IPv4 address a, whose text is its
// canonical one: the text is made only for an address not met before.
func (c *counter) internIP4(a netip.Addr) uint64 {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if id, ok := c.ip4[v]; ok {
		return id
	}
	c.text = a.AppendTo(c.text[:0])
	return c.newIP4(v, string(c.text))
}

// newIP4 gives the IPv4 address a, of text text, the next id.
func (c *counter) newIP4(a uint32, text string) uint64 {
	c.names = append(c.names, text)
	id := uint64(len(c.names))
	c.ip4[a] = id
	return id
}

// dottedQuad parses an IPv4 address in its one canonical text: four
// decimal octets, no leading zeros.
func dottedQuad[T string | []byte](s T) (uint32, bool) {
	var a uint32
	octets, val, digits := 0, uint32(0), 0
	for i := range len(s) {
		ch := s[i]
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
		lut := grow(c.lut[k], v.dictLen())
		set := grow(c.lutSet[k], v.dictLen())
		clear(set)
		c.lut[k], c.lutSet[k] = lut, set
		for i, r := range rows {
			j := v.idx[r]
			if j < 0 {
				ids[i] = 0
				continue
			}
			if !set[j] {
				s := v.entry(j)
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
				c.growDirect(id)
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
			switch {
			case k[p] == 0 || part == pDstPort || part == pProtocol || part == pTime:
			case part == pSrcIP || part == pDstIP:
				k[p] = c.internAddrString(o.names[k[p]-1])
			default:
				k[p] = c.internString(o.names[k[p]-1])
			}
		}
		s := c.sumsOf(k)
		for m := range s {
			s[m] += sums[m]
		}
	})
}

// sumsOf returns the sums of the group of key k, a new group's zero.
func (c *counter) sumsOf(k [2]uint64) *[numMetrics]int64 {
	if c.direct && k[0] < maxDirect {
		if k[0] >= uint64(len(c.dsums)) {
			c.growDirect(k[0])
		}
		return &c.dsums[k[0]]
	}
	return &c.sums[c.slot(k)]
}

// growDirect makes dsums long enough for id, doubling its capacity when
// it must grow (ports come in ascending order: growing by what each
// needs would copy it again and again).
func (c *counter) growDirect(id uint64) {
	n := int(id) + 1
	if n > cap(c.dsums) {
		c.dsums = slices.Grow(c.dsums, max(n, 2*cap(c.dsums), 64)-len(c.dsums))
		resident.Slice(c.dsums[len(c.dsums):cap(c.dsums)])
	}
	old := len(c.dsums)
	c.dsums = c.dsums[:n]
	clear(c.dsums[old:])
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
	all := make([]entry, 0, len(c.dsums)+len(c.keys))
	c.each(func(k [2]uint64, sums *[numMetrics]int64) { all = append(all, entry{k, sums}) })
	keys := func(e entry) []Key {
		out := make([]Key, len(g.parts))
		for p := range out {
			out[p] = c.key(p, e.k[p])
		}
		return out
	}
	first := g.metrics[0]
	order := func(a, b entry) int {
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
	}
	if g.top > 0 {
		all = smallest(all, g.top, order)
	} else {
		slices.SortFunc(all, order)
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

// smallest returns the n first elements of s in the order of cmp, sorted,
// reordering s: through a heap of n elements, cheaper than sorting all of
// s when n is much smaller. No two elements of s may compare equal.
func smallest[E any](s []E, n int, cmp func(a, b E) int) []E {
	if n >= len(s) {
		slices.SortFunc(s, cmp)
		return s
	}
	h := s[:n] // a heap, its last element in the order of cmp first
	after := func(i, j int) bool { return cmp(h[i], h[j]) > 0 }
	down := func(i int) {
		for {
			m := 2*i + 1
			if m >= n {
				return
			}
			if r := m + 1; r < n && after(r, m) {
				m = r
			}
			if !after(m, i) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := n/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, x := range s[n:] {
		if cmp(x, h[0]) < 0 {
			h[0] = x
			down(0)
		}
	}
	slices.SortFunc(h, cmp)
	return h
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
