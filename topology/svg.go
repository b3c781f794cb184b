package topology

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteSVG draws the view as an SVG picture, laid out here (no Graphviz,
// no cgo) so that it always looks the same:
//
//   - each virtual network is a column: a box headed by its name, address
//     space and resource group, holding a box per subnet (prefix, NSG and
//     route table badges), which holds a card per VM with its NICs (private
//     IPs, public IP and NSG badges), cards for NICs without a VM, and
//     gateway cards (in GatewaySubnet) with their public IPs and
//     connections;
//   - peerings are lines above the columns, joining the networks they
//     link, labelled with their state and coloured by it: solid green when
//     Connected, dashed orange when Initiated or one-sided, dashed red when
//     Disconnected; peered networks outside the view are dashed columns;
//   - the last column lists the NSGs with their user rules (Allow green,
//     Deny red) and the route tables with their routes, then what sits in
//     no subnet (local network gateways, unattached public IPs, …).
//
// Each kind has one colour, used for its tag, its box and its badges, as
// in WriteDOT. Text is measured with DejaVu Sans metrics (the font asked
// for first) so that boxes fit their labels; every box carries the
// resource's full id as its tooltip (<title>). Names longer than 60
// characters are shortened with "…" in the picture, not in the tooltip.
// The output depends only on the network and the request.
func (v *View) WriteSVG(w io.Writer) error {
	sc := v.scene()
	bw := bufio.NewWriter(w)
	l := svgLayout(sc)
	l.write(bw)
	return bw.Flush()
}

// Layout constants, in px.
const (
	svgMargin    = 24.0
	svgColGap    = 32.0
	svgLaneGap   = 28.0
	svgLegendRow = 24.0
	svgMaxName   = 60 // runes of a name shown before "…"
	svgFontStack = "DejaVu Sans, Verdana, Geneva, sans-serif"
	svgInk       = "#263238"
	svgMuted     = "#607d8b"
)

// svgLine is one line of text in a box: an optional chip (a kind's tag
// on its colour) followed by text; or a badge (a pill in a kind's
// colours holding the kind's tag and the text).
type svgLine struct {
	chip   string // style key of the chip; "" for none
	badges []svgBadge
	text   string
	size   float64
	bold   bool
	italic bool
	color  string
}

type svgBadge struct {
	kind, text string
}

// svgBox is a box holding lines of text, then child boxes stacked
// downwards.
type svgBox struct {
	kind    string // style key; "" draws no frame
	dashed  bool
	title   string // tooltip
	lines   []svgLine
	kids    []*svgBox
	pad     float64
	gap     float64 // between kids (and after the lines); 0 means pad*0.75
	minW    float64
	w, h    float64 // computed: natural width, height
	x, y, W float64 // placed: position and given width
}

func (b *svgBox) line(l svgLine) *svgBox {
	if l.size == 0 {
		l.size = 12
	}
	b.lines = append(b.lines, l)
	return b
}

// svgLineHeight is the height a line takes.
func svgLineHeight(l svgLine) float64 {
	if len(l.badges) > 0 || l.chip != "" {
		return l.size*1.35 + 6
	}
	return l.size * 1.35
}

const (
	svgChipSize  = 10.0
	svgChipPadX  = 4.0
	svgChipGap   = 6.0
	svgBadgeSize = 11.0
	svgBadgeGap  = 6.0
)

func svgChipWidth(kind string) float64 {
	return svgTextWidth(sceneStyles[kind].tag, svgChipSize, true) + 2*svgChipPadX
}

func svgBadgeWidth(b svgBadge) float64 {
	return svgTextWidth(sceneStyles[b.kind].tag, svgChipSize, true) + 5 + svgTextWidth(b.text, svgBadgeSize, false) + 2*svgChipPadX + 2
}

func svgLineWidth(l svgLine) float64 {
	w := 0.0
	if l.chip != "" {
		w += svgChipWidth(l.chip) + svgChipGap
	}
	for i, b := range l.badges {
		if i > 0 {
			w += svgBadgeGap
		}
		w += svgBadgeWidth(b)
	}
	if l.text != "" {
		w += svgTextWidth(l.text, l.size, l.bold)
	}
	return w
}

// measure computes natural sizes, bottom up.
func (b *svgBox) measure() {
	w := b.minW
	h := b.pad
	for _, l := range b.lines {
		w = max(w, svgLineWidth(l)+2*b.pad)
		h += svgLineHeight(l)
	}
	for i, k := range b.kids {
		k.measure()
		w = max(w, k.w+2*b.pad)
		if i > 0 || len(b.lines) > 0 {
			h += b.kidGap()
		}
		h += k.h
	}
	b.w, b.h = w, h+b.pad
}

func (b *svgBox) kidGap() float64 {
	if b.gap > 0 {
		return b.gap
	}
	return b.pad * 0.75
}

// place gives the box its position and width, top down; kids stretch to
// the box's width.
func (b *svgBox) place(x, y, w float64) {
	b.x, b.y, b.W = x, y, w
	cy := y + b.pad
	for _, l := range b.lines {
		cy += svgLineHeight(l)
	}
	for i, k := range b.kids {
		if i > 0 || len(b.lines) > 0 {
			cy += b.kidGap()
		}
		k.place(x+b.pad, cy, w-2*b.pad)
		cy += k.h
	}
}

// svgPicture is a laid-out scene.
type svgPicture struct {
	title    string
	width    float64
	height   float64
	colTop   float64
	cols     []*svgBox
	vnetCols map[*sceneVNet]*svgBox
	peerings []*scenePeering
	lanes    []int // lane of each peering
	legend   []string
}

func svgLayout(sc *scene) *svgPicture {
	p := &svgPicture{title: "Topology: " + sc.title, vnetCols: map[*sceneVNet]*svgBox{}, peerings: sc.peerings}
	// Columns: networks in the view, then stubs, then policies and the rest.
	vnets := slices.Clone(sc.vnets)
	slices.SortStableFunc(vnets, func(a, b *sceneVNet) int {
		switch {
		case a.stub == b.stub:
			return 0
		case a.stub:
			return 1
		}
		return -1
	})
	used := map[string]bool{}
	for _, vn := range vnets {
		col := svgVNet(vn, used)
		p.vnetCols[vn] = col
		p.cols = append(p.cols, col)
	}
	if side := svgSide(sc, used); side != nil {
		p.cols = append(p.cols, side)
	}
	if len(sc.peerings) > 0 {
		used["peering"] = true
	}
	for _, k := range []string{"vnet", "subnet", "vm", "nic", "pip", "gw", "nsg", "rt", "lng", "conn", "peering"} {
		if used[k] {
			p.legend = append(p.legend, k)
		}
	}

	// Peering lanes: shortest spans nearest the columns.
	index := map[*svgBox]int{}
	for i, c := range p.cols {
		index[c] = i
	}
	order := make([]int, len(sc.peerings))
	for i := range order {
		order[i] = i
	}
	span := func(i int) int {
		a, b := index[p.vnetCols[sc.peerings[i].a]], index[p.vnetCols[sc.peerings[i].b]]
		return max(a-b, b-a)
	}
	slices.SortStableFunc(order, func(a, b int) int { return span(a) - span(b) })
	p.lanes = make([]int, len(sc.peerings))
	for lane, i := range order {
		p.lanes[i] = lane
	}

	// Sizes and positions: the width is the columns' (or the title's),
	// the legend wraps to it.
	width := svgMargin*2 + svgTextWidth(p.title, 18, true)
	x := svgMargin
	for _, c := range p.cols {
		c.measure()
		x += c.w + svgColGap
	}
	p.width = max(width, x-svgColGap+svgMargin, 640)
	top := svgMargin + 26 + 10 // title
	top += float64(len(p.legendRows(p.width-2*svgMargin))) * svgLegendRow
	if n := len(sc.peerings); n > 0 {
		top += float64(n)*svgLaneGap + 14
	}
	p.colTop = top
	x = svgMargin
	bottom := top
	for _, c := range p.cols {
		c.place(x, top, c.w)
		x += c.w + svgColGap
		bottom = max(bottom, top+c.h)
	}
	p.height = bottom + svgMargin
	return p
}

// svgName shortens a name for display.
func svgName(s string) string {
	r := []rune(s)
	if len(r) > svgMaxName {
		return string(r[:svgMaxName-1]) + "…"
	}
	return s
}

func svgVNet(vn *sceneVNet, used map[string]bool) *svgBox {
	used["vnet"] = true
	b := &svgBox{kind: "vnet", title: vn.id, pad: 12, minW: 240, dashed: vn.stub || vn.context}
	b.line(svgLine{chip: "vnet", text: svgName(vn.name), size: 14, bold: true, color: sceneStyles["vnet"].stroke})
	if len(vn.space) > 0 {
		b.line(svgLine{text: viewPrefixes(vn.space), size: 12, color: svgInk})
	}
	where := vn.where
	if vn.location != "" {
		where = strings.TrimPrefix(where+" · "+vn.location, " · ")
	}
	if where != "" {
		b.line(svgLine{text: where, size: 11, color: svgMuted})
	}
	switch {
	case vn.missing:
		b.line(svgLine{text: "not exported", size: 11, italic: true, color: svgMuted})
	case vn.stub || vn.context:
		b.line(svgLine{text: "outside the view", size: 11, italic: true, color: svgMuted})
	}
	for _, sn := range vn.subnets {
		b.kids = append(b.kids, svgSubnet(sn, used))
	}
	return b
}

func svgSubnet(sn *sceneSubnet, used map[string]bool) *svgBox {
	used["subnet"] = true
	kind := "subnet"
	if sn.s.GatewaySubnet {
		kind = "gwsubnet"
	}
	b := &svgBox{kind: kind, title: sn.s.ID, pad: 10, dashed: sn.context}
	b.line(svgLine{chip: kind, text: svgName(sn.s.Name), size: 13, bold: true, color: sceneStyles[kind].stroke})
	if len(sn.s.Prefixes) > 0 {
		b.line(svgLine{text: viewPrefixes(sn.s.Prefixes), size: 12, color: svgInk})
	}
	if sn.context {
		b.line(svgLine{text: "outside the view", size: 11, italic: true, color: svgMuted})
	}
	var badges []svgBadge
	if sn.nsg.id != "" {
		used["nsg"] = true
		badges = append(badges, svgBadge{"nsg", svgName(sn.nsg.name)})
	}
	if sn.rt.id != "" {
		used["rt"] = true
		badges = append(badges, svgBadge{"rt", svgName(sn.rt.name)})
	}
	if len(badges) > 0 {
		b.line(svgLine{badges: badges})
	}
	for _, vm := range sn.vms {
		used["vm"] = true
		c := &svgBox{kind: "vm", title: vm.vm.ID, pad: 8}
		c.line(svgLine{chip: "vm", text: svgName(vm.vm.Name), bold: true, color: svgInk})
		for _, nic := range vm.nics {
			c.kids = append(c.kids, svgNIC(nic, used))
		}
		b.kids = append(b.kids, c)
	}
	for _, nic := range sn.nics {
		b.kids = append(b.kids, svgNIC(nic, used))
	}
	for _, g := range sn.gateways {
		used["gw"] = true
		c := &svgBox{kind: "gw", title: g.g.ID, pad: 8}
		c.line(svgLine{chip: "gw", text: svgName(g.g.Name), bold: true, color: svgInk})
		c.line(svgLine{text: viewGatewayDetail(g.g), size: 11, color: svgMuted})
		for _, pip := range g.pips {
			used["pip"] = true
			c.line(svgLine{badges: []svgBadge{{"pip", svgPIPText(pip)}}})
		}
		for _, cn := range g.conns {
			if cn.toKind == "lng" {
				used["lng"] = true
			}
			c.line(svgLine{text: "⇄ " + svgName(cn.to), size: 11, color: svgInk})
			c.line(svgLine{text: "   " + svgName(cn.name) + " · " + viewOrUnknown(cn.status), size: 11, color: svgConnColor(cn.status)})
		}
		b.kids = append(b.kids, c)
	}
	if len(b.kids) == 0 {
		b.line(svgLine{text: "no NICs or gateways in the view", size: 11, italic: true, color: svgMuted})
	}
	return b
}

func svgNIC(nic *sceneNIC, used map[string]bool) *svgBox {
	used["nic"] = true
	c := &svgBox{kind: "nic", title: nic.nic.ID, pad: 7}
	c.line(svgLine{chip: "nic", text: svgName(nic.nic.Name), size: 12, color: svgInk})
	if len(nic.ips) > 0 {
		c.line(svgLine{text: strings.Join(nic.ips, ", "), size: 12, bold: true, color: svgInk})
	}
	if nic.vm != "" {
		c.line(svgLine{text: "of VM " + svgName(nic.vm), size: 11, italic: true, color: svgMuted})
	}
	for _, pip := range nic.pips {
		used["pip"] = true
		c.line(svgLine{badges: []svgBadge{{"pip", svgPIPText(pip)}}})
	}
	if nic.nsg.id != "" {
		used["nsg"] = true
		c.line(svgLine{badges: []svgBadge{{"nsg", svgName(nic.nsg.name)}}})
	}
	return c
}

func svgPIPText(r sceneRef) string {
	if r.detail == "" {
		return svgName(r.name)
	}
	return svgName(r.name) + " · " + r.detail
}

func svgConnColor(status string) string {
	switch status {
	case "Connected":
		return scenePeeringColors["ok"]
	case "NotConnected":
		return scenePeeringColors["bad"]
	}
	return scenePeeringColors["warn"]
}

// svgSide is the last column: NSGs, route tables and what sits in no
// subnet; nil when there is none of them.
func svgSide(sc *scene, used map[string]bool) *svgBox {
	if len(sc.nsgs)+len(sc.rts)+len(sc.others) == 0 {
		return nil
	}
	col := &svgBox{pad: 0, gap: 8, minW: 260}
	heading := func(s string) {
		col.kids = append(col.kids, (&svgBox{pad: 2}).line(svgLine{text: s, size: 14, bold: true, color: svgInk}))
	}
	if len(sc.nsgs) > 0 {
		used["nsg"] = true
		heading("Network security groups")
		for _, g := range sc.nsgs {
			c := &svgBox{kind: "nsg", title: g.ID, pad: 8}
			c.line(svgLine{chip: "nsg", text: svgName(g.Name), bold: true, color: svgInk})
			if g.Location != "" || g.ResourceGroup != "" {
				c.line(svgLine{text: strings.Trim(g.ResourceGroup+" · "+g.Location, " ·"), size: 11, color: svgMuted})
			}
			rules := viewUserRules(g)
			for i, r := range rules {
				if i == 30 {
					c.line(svgLine{text: fmt.Sprintf("… %d more rules", len(rules)-i), size: 11, italic: true, color: svgMuted})
					break
				}
				color := scenePeeringColors["ok"]
				if r.Access == Deny {
					color = scenePeeringColors["bad"]
				}
				c.line(svgLine{text: viewRuleLine(r), size: 11, color: color})
			}
			if len(rules) == 0 {
				c.line(svgLine{text: "default rules only", size: 11, italic: true, color: svgMuted})
			}
			col.kids = append(col.kids, c)
		}
	}
	if len(sc.rts) > 0 {
		used["rt"] = true
		heading("Route tables")
		for _, t := range sc.rts {
			c := &svgBox{kind: "rt", title: t.ID, pad: 8}
			c.line(svgLine{chip: "rt", text: svgName(t.Name), bold: true, color: svgInk})
			if t.Location != "" || t.ResourceGroup != "" {
				c.line(svgLine{text: strings.Trim(t.ResourceGroup+" · "+t.Location, " ·"), size: 11, color: svgMuted})
			}
			for i, r := range t.Routes {
				if i == 30 {
					c.line(svgLine{text: fmt.Sprintf("… %d more routes", len(t.Routes)-i), size: 11, italic: true, color: svgMuted})
					break
				}
				c.line(svgLine{text: viewRouteLine(r), size: 11, color: svgInk})
			}
			if len(t.Routes) == 0 {
				c.line(svgLine{text: "no routes", size: 11, italic: true, color: svgMuted})
			}
			if t.DisableBGPRoutePropagation {
				c.line(svgLine{text: "BGP route propagation off", size: 11, italic: true, color: svgMuted})
			}
			col.kids = append(col.kids, c)
		}
	}
	if len(sc.others) > 0 {
		heading("Not in a subnet")
		for _, it := range sc.others {
			used[it.kind] = true
			c := &svgBox{kind: it.kind, title: it.id, pad: 8}
			c.line(svgLine{chip: it.kind, text: svgName(it.name), bold: true, color: svgInk})
			for _, l := range it.lines {
				c.line(svgLine{text: l, size: 11, color: svgMuted})
			}
			col.kids = append(col.kids, c)
		}
	}
	return col
}

// svgLegendItem is one entry of the legend: a chip or a line sample,
// and its name.
type svgLegendItem struct {
	kind, level, name string
	w                 float64
}

// legendItems lists the legend's entries with their widths.
func (p *svgPicture) legendItems() []svgLegendItem {
	var out []svgLegendItem
	for _, k := range p.legend {
		if k == "peering" {
			for _, lv := range []struct{ level, name string }{{"ok", "Connected"}, {"warn", "Initiated or one-sided"}, {"bad", "Disconnected"}} {
				out = append(out, svgLegendItem{level: lv.level, name: lv.name, w: 40 + svgTextWidth(lv.name, 11, false) + 16})
			}
			continue
		}
		out = append(out, svgLegendItem{kind: k, name: svgLegendNames[k],
			w: svgChipWidth(k) + svgChipGap + svgTextWidth(svgLegendNames[k], 11, false) + 16})
	}
	return out
}

// legendRows breaks the legend into rows no wider than width (at least
// one entry a row).
func (p *svgPicture) legendRows(width float64) [][]svgLegendItem {
	var rows [][]svgLegendItem
	var row []svgLegendItem
	x := 0.0
	for _, it := range p.legendItems() {
		if len(row) > 0 && x+it.w > width {
			rows = append(rows, row)
			row, x = nil, 0
		}
		row = append(row, it)
		x += it.w
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

var svgLegendNames = map[string]string{
	"vnet": "virtual network", "subnet": "subnet", "vm": "virtual machine", "nic": "network interface",
	"pip": "public IP", "gw": "gateway", "nsg": "network security group", "rt": "route table",
	"lng": "local network gateway", "conn": "connection",
}

// svgWriter writes SVG elements.
type svgWriter struct {
	w *bufio.Writer
}

func (s svgWriter) printf(format string, args ...any) { fmt.Fprintf(s.w, format, args...) }

// svgEscape escapes text for XML.
func svgEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func svgNum(x float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", x), "0"), ".")
}

func (p *svgPicture) write(bw *bufio.Writer) {
	s := svgWriter{bw}
	s.printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	s.printf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%s\" height=\"%s\" viewBox=\"0 0 %s %s\" font-family=\"%s\">\n",
		svgNum(p.width), svgNum(p.height), svgNum(p.width), svgNum(p.height), svgFontStack)
	s.printf("<title>%s</title>\n", svgEscape(p.title))
	s.printf("<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n")
	s.text(svgMargin, svgMargin+16, p.title, 18, true, false, svgInk, "")

	// Legend.
	y := svgMargin + 26 + 14
	for _, row := range p.legendRows(p.width - 2*svgMargin) {
		x := svgMargin
		for _, it := range row {
			if it.kind == "" {
				s.printf("<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-width=\"2.5\"%s/>\n",
					svgNum(x), svgNum(y), svgNum(x+32), svgNum(y), scenePeeringColors[it.level], svgDash(it.level))
				s.text(x+40, y+4, it.name, 11, false, false, svgMuted, "")
			} else {
				s.chip(x, y, it.kind)
				s.text(x+svgChipWidth(it.kind)+svgChipGap, y+4, it.name, 11, false, false, svgMuted, "")
			}
			x += it.w
		}
		y += svgLegendRow
	}

	p.writePeerings(s)
	for _, c := range p.cols {
		s.box(c)
	}
	s.printf("</svg>\n")
}

func svgDash(level string) string {
	if level == "ok" {
		return ""
	}
	return " stroke-dasharray=\"7 4\""
}

// writePeerings draws each peering as a bracket above the columns: up
// from one network, along its lane, down to the other.
func (p *svgPicture) writePeerings(s svgWriter) {
	// Where each peering meets each column: spread over the column's top.
	ends := map[*svgBox][]int{}
	for i, pe := range p.peerings {
		ends[p.vnetCols[pe.a]] = append(ends[p.vnetCols[pe.a]], i)
		ends[p.vnetCols[pe.b]] = append(ends[p.vnetCols[pe.b]], i)
	}
	at := func(col *svgBox, i int) float64 {
		list := ends[col]
		// Lines to the left leave from the left, lines to the right from
		// the right; on each side the farther the other network, the
		// nearer the middle, so that the brackets nest and do not cross.
		slices.SortStableFunc(list, func(a, b int) int {
			xa, xb := p.otherX(col, a), p.otherX(col, b)
			if (xa < 0) != (xb < 0) {
				if xa < 0 {
					return -1
				}
				return 1
			}
			return cmp.Compare(xb, xa)
		})
		j := slices.Index(list, i)
		return col.x + col.W*float64(j+1)/float64(len(list)+1)
	}
	type label struct {
		x, y  float64
		text  string
		color string
	}
	var labels []label
	for i, pe := range p.peerings {
		a, b := p.vnetCols[pe.a], p.vnetCols[pe.b]
		xa, xb := at(a, i), at(b, i)
		ly := p.colTop - 14 - float64(p.lanes[i])*svgLaneGap
		color := scenePeeringColors[pe.Level()]
		s.printf("<path d=\"M%s %sV%sH%sV%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\" stroke-linejoin=\"round\"%s><title>%s</title></path>\n",
			svgNum(xa), svgNum(p.colTop), svgNum(ly), svgNum(xb), svgNum(p.colTop), color, svgDash(pe.Level()), svgEscape(svgPeeringTitle(pe)))
		for _, x := range []float64{xa, xb} {
			s.printf("<circle cx=\"%s\" cy=\"%s\" r=\"3.5\" fill=\"%s\"/>\n", svgNum(x), svgNum(p.colTop), color)
		}
		text := pe.State()
		if fl := pe.Flags(); fl != "" {
			text += " · " + fl
		}
		labels = append(labels, label{(xa + xb) / 2, ly - 5, text, color})
	}
	// Labels last, over the lines, with a white halo.
	for _, l := range labels {
		s.text(l.x, l.y, l.text, 11, true, false, l.color, "middle")
	}
}

// otherX is the x of the column at the other end of peering i from col.
func (p *svgPicture) otherX(col *svgBox, i int) float64 {
	pe := p.peerings[i]
	other := p.vnetCols[pe.a]
	if other == col {
		other = p.vnetCols[pe.b]
	}
	return other.x - col.x
}

func svgPeeringTitle(pe *scenePeering) string {
	var parts []string
	for _, x := range []*Peering{pe.ab, pe.ba} {
		if x != nil {
			parts = append(parts, x.ID+" ("+viewOrUnknown(x.PeeringState)+")")
		}
	}
	return strings.Join(parts, "\n")
}

// box draws a box, its lines and its kids.
func (s svgWriter) box(b *svgBox) {
	s.printf("<g>")
	if b.title != "" {
		s.printf("<title>%s</title>", svgEscape(b.title))
	}
	s.printf("\n")
	if st, ok := sceneStyles[b.kind]; ok {
		dash := ""
		if b.dashed {
			dash = " stroke-dasharray=\"6 4\""
		}
		sw := "1.2"
		if b.kind == "vnet" {
			sw = "1.8"
		}
		s.printf("<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" rx=\"7\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"%s/>\n",
			svgNum(b.x), svgNum(b.y), svgNum(b.W), svgNum(b.h), st.fill, st.stroke, sw, dash)
	}
	y := b.y + b.pad
	for _, l := range b.lines {
		lh := svgLineHeight(l)
		base := y + lh/2 + l.size*0.35 // baseline of text centred in the line
		x := b.x + b.pad
		if l.chip != "" {
			s.chip(x, y+lh/2, l.chip)
			x += svgChipWidth(l.chip) + svgChipGap
		}
		for _, bd := range l.badges {
			s.badge(x, y+lh/2, bd)
			x += svgBadgeWidth(bd) + svgBadgeGap
		}
		if l.text != "" {
			s.text(x, base, l.text, l.size, l.bold, l.italic, l.color, "")
		}
		y += lh
	}
	for _, k := range b.kids {
		s.box(k)
	}
	s.printf("</g>\n")
}

// chip draws a kind's tag, white on its colour, vertically centred on cy.
func (s svgWriter) chip(x, cy float64, kind string) {
	st := sceneStyles[kind]
	w := svgChipWidth(kind)
	h := svgChipSize + 6
	s.printf("<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" rx=\"3\" fill=\"%s\"/>",
		svgNum(x), svgNum(cy-h/2), svgNum(w), svgNum(h), st.stroke)
	s.text(x+svgChipPadX, cy+svgChipSize*0.36, st.tag, svgChipSize, true, false, "#ffffff", "")
}

// badge draws a pill in a kind's colours: tag, then text.
func (s svgWriter) badge(x, cy float64, b svgBadge) {
	st := sceneStyles[b.kind]
	w := svgBadgeWidth(b)
	h := svgBadgeSize + 8
	s.printf("<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" rx=\"%s\" fill=\"%s\" stroke=\"%s\"/>",
		svgNum(x), svgNum(cy-h/2), svgNum(w), svgNum(h), svgNum(h/2), st.fill, st.stroke)
	tx := x + svgChipPadX + 1
	s.text(tx, cy+svgChipSize*0.36, st.tag, svgChipSize, true, false, st.stroke, "")
	tx += svgTextWidth(st.tag, svgChipSize, true) + 5
	s.text(tx, cy+svgBadgeSize*0.36, b.text, svgBadgeSize, false, false, svgInk, "")
}

// text draws a line of text; anchor "" is start. Text drawn with anchor
// "middle" gets a white halo so that it reads over lines.
func (s svgWriter) text(x, y float64, t string, size float64, bold, italic bool, color, anchor string) {
	attrs := ""
	if bold {
		attrs += " font-weight=\"bold\""
	}
	if italic {
		attrs += " font-style=\"italic\""
	}
	if anchor != "" {
		attrs += " text-anchor=\"" + anchor + "\" stroke=\"#ffffff\" stroke-width=\"4\" paint-order=\"stroke\" stroke-linejoin=\"round\""
	}
	s.printf("<text x=\"%s\" y=\"%s\" font-size=\"%s\" fill=\"%s\"%s>%s</text>\n", svgNum(x), svgNum(y), svgNum(size), color, attrs, svgEscape(t))
}
