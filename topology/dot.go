package topology

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// dotMaxLines caps the rules or routes listed in one node.
const dotMaxLines = 12

// dotPolicyRank is how many ranks right of a subnet its NSG and route
// table go: past the VMs, NICs and public IPs (ranks 0, 1, 2), so that
// the wide NSG and route table boxes share no rank with them.
const dotPolicyRank = 3

// WriteDOT draws the view in Graphviz DOT, laid out left to right: each
// virtual network is a cluster headed by its name, address space and
// resource group, holding a cluster per subnet, which holds the subnet's
// VMs (each tied to its NICs), the NICs without a VM and the gateways (in
// GatewaySubnet). Public IPs sit right of what they are attached to, NSGs
// and route tables further right, tied to the subnets and NICs they are
// attached to and listing their user rules and routes. Peerings join the
// networks' headings, labelled with their state and coloured by it (green
// Connected, orange Initiated or one-sided, red Disconnected); a
// connection joins a gateway with its local network gateway. Peered
// networks outside the view are dashed boxes; subnets and networks drawn
// only because a resource of the view sits in them are dashed clusters.
// Each kind has its own shape and colour (the same as in WriteSVG), every
// label gives the name with the address or prefix that identifies it, and
// every node and cluster has the resource's id as its tooltip.
//
// The output depends only on the network and the request: nodes and
// edges come in canonical id order, so it suits golden files. Render it
// with `dot -Tsvg`, or use WriteSVG, which needs no Graphviz.
func (v *View) WriteDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	d := &dotWriter{w: bw, declared: map[string]bool{}, gateways: map[string]bool{},
		ids: map[string]string{}, full: map[string]string{}, counts: map[string]int{}}
	d.scene(v.scene())
	return bw.Flush()
}

type dotWriter struct {
	w        *bufio.Writer
	indent   int
	declared map[string]bool   // node ids written
	ids      map[string]string // kind:canonical id → node id
	full     map[string]string // node id → resource id
	counts   map[string]int    // node ids given per kind
	gateways map[string]bool   // node ids of the gateways drawn in subnets
	lngs     []sceneConn       // local network gateways connections lead to
	tail     []string          // statements written after the clusters, outside them
}

func (d *dotWriter) line(format string, args ...any) {
	d.w.WriteString(strings.Repeat("\t", d.indent))
	fmt.Fprintf(d.w, format, args...)
	d.w.WriteByte('\n')
}

func (d *dotWriter) edge(from, to string, attrs string) {
	d.tail = append(d.tail, fmt.Sprintf("%s -> %s [%s];", dotQuote(from), dotQuote(to), attrs))
}

// topNode declares a node outside every cluster (after them), once.
func (d *dotWriter) topNode(id, kind, label, extra string) {
	if d.declared[id] {
		return
	}
	d.declared[id] = true
	d.tail = append(d.tail, fmt.Sprintf("%s [%s];", dotQuote(id), d.nodeAttrs(id, kind, label, extra)))
}

// node writes a node once, styled for its kind.
func (d *dotWriter) node(id, kind, label string, extra string) {
	if d.declared[id] {
		return
	}
	d.declared[id] = true
	d.line("%s [%s];", dotQuote(id), d.nodeAttrs(id, kind, label, extra))
}

// nodeAttrs styles a node for its kind.
func (d *dotWriter) nodeAttrs(id, kind, label, extra string) string {
	st := sceneStyles[kind]
	attrs := fmt.Sprintf("label=%s, tooltip=%s, color=%q, fillcolor=%q", dotQuote(label), dotQuote(d.full[id]), st.stroke, st.fill)
	if s := dotShapes[kind]; s != "" {
		attrs += ", " + s
	}
	if extra != "" {
		attrs += ", " + extra
	}
	return attrs
}

// dotShapes gives each kind its shape.
var dotShapes = map[string]string{
	"vm":   `shape=box3d`,
	"nic":  `shape=box, style="rounded,filled"`,
	"nsg":  `shape=box, style="filled", penwidth=1.6`,
	"rt":   `shape=note`,
	"pip":  `shape=oval`,
	"gw":   `shape=cds`,
	"lng":  `shape=house`,
	"conn": `shape=box`,
	"vnet": `shape=box, style="rounded,dashed,filled"`,
}

// id returns the short node id of a resource, e.g. "nic3": its kind and
// the order it was first asked for in (the full id is the tooltip).
func (d *dotWriter) id(kind, id string) string {
	k := kind + ":" + CanonicalID(id)
	if s, ok := d.ids[k]; ok {
		return s
	}
	d.counts[kind]++
	s := kind + strconv.Itoa(d.counts[kind])
	d.ids[k] = s
	d.full[s] = id
	return s
}

func (d *dotWriter) scene(sc *scene) {
	d.line("// flowlens topology: %s", dotComment(sc.title))
	d.line("digraph topology {")
	d.indent++
	d.line("graph [rankdir=LR, compound=true, nodesep=0.2, ranksep=0.45, fontname=%q, fontsize=12, labelloc=t, labeljust=l, label=%s];",
		dotFont, dotQuote("Topology: "+sc.title))
	d.line("node [fontname=%q, fontsize=10, style=filled, penwidth=1.2, margin=\"0.12,0.06\"];", dotFont)
	d.line("edge [fontname=%q, fontsize=9, color=\"#78909c\", arrowsize=0.7];", dotFont)

	nsgs := map[string]bool{}
	for _, g := range sc.nsgs {
		nsgs[CanonicalID(g.ID)] = true
	}
	rts := map[string]bool{}
	for _, t := range sc.rts {
		rts[CanonicalID(t.ID)] = true
	}
	for _, vn := range sc.vnets {
		for _, sn := range vn.subnets {
			for _, g := range sn.gateways {
				d.gateways[d.id("gw", g.g.ID)] = true
			}
		}
	}
	for _, vn := range sc.vnets {
		d.vnet(vn)
	}

	// NSGs and route tables with their rules and routes; those only
	// referenced are dashed.
	for _, g := range sc.nsgs {
		lines := []string{"NSG " + g.Name}
		rules := viewUserRules(g)
		for i, r := range rules {
			if i == dotMaxLines {
				lines = append(lines, fmt.Sprintf("… %d more", len(rules)-i))
				break
			}
			lines = append(lines, viewRuleLine(r))
		}
		if len(rules) == 0 {
			lines = append(lines, "default rules only")
		}
		d.node(d.id("nsg", g.ID), "nsg", dotLeft(lines), "")
	}
	for _, t := range sc.rts {
		lines := []string{"Route table " + t.Name}
		for i, r := range t.Routes {
			if i == dotMaxLines {
				lines = append(lines, fmt.Sprintf("… %d more", len(t.Routes)-i))
				break
			}
			lines = append(lines, viewRouteLine(r))
		}
		if t.DisableBGPRoutePropagation {
			lines = append(lines, "BGP route propagation off")
		}
		d.node(d.id("rt", t.ID), "rt", dotLeft(lines), "")
	}
	refNode := func(kind string, r sceneRef, known map[string]bool) string {
		id := d.id(kind, r.id)
		if !known[CanonicalID(r.id)] {
			d.node(id, kind, sceneStyles[kind].tag+" "+r.name+"\n(outside the view)", `style="dashed,filled"`)
		}
		return id
	}
	for _, vn := range sc.vnets {
		for _, sn := range vn.subnets {
			anchor := d.id("subnet", sn.s.ID)
			cluster := "cluster_" + anchor
			if sn.nsg.id != "" {
				d.edge(anchor, refNode("nsg", sn.nsg, nsgs), fmt.Sprintf("ltail=%s, minlen=%d, color=%q, style=dashed, arrowhead=none", dotQuote(cluster), dotPolicyRank, sceneStyles["nsg"].stroke))
			}
			if sn.rt.id != "" {
				d.edge(anchor, refNode("rt", sn.rt, rts), fmt.Sprintf("ltail=%s, minlen=%d, color=%q, style=dashed, arrowhead=none", dotQuote(cluster), dotPolicyRank, sceneStyles["rt"].stroke))
			}
			for _, nic := range sceneNICs(sn) {
				if nic.nsg.id != "" {
					d.edge(d.id("nic", nic.nic.ID), refNode("nsg", nic.nsg, nsgs), fmt.Sprintf("minlen=%d, color=%q, style=dashed, arrowhead=none", dotPolicyRank-1, sceneStyles["nsg"].stroke))
				}
			}
		}
	}

	// Peerings between network clusters (or stub boxes).
	for _, p := range sc.peerings {
		label := p.State()
		if fl := p.Flags(); fl != "" {
			label += "\n" + fl
		}
		attrs := fmt.Sprintf("constraint=false, dir=both, arrowhead=none, arrowtail=none, penwidth=2, color=%q, fontcolor=%q, label=%s",
			scenePeeringColors[p.Level()], scenePeeringColors[p.Level()], dotQuote(label))
		if p.Level() == "bad" {
			attrs += ", style=dashed"
		}
		d.edge(d.id("vnet", p.a.id), d.id("vnet", p.b.id), attrs)
	}

	// What sits in no subnet.
	for _, it := range sc.others {
		lines := append([]string{sceneStyles[it.kind].tag + " " + it.name}, it.lines...)
		d.node(d.id(it.kind, it.id), it.kind, strings.Join(lines, "\n"), "")
	}
	for _, c := range d.lngs {
		d.topNode(d.id("lng", c.toID), "lng", "On-prem "+c.to+"\n(outside the view)", `style="dashed,filled"`)
	}

	for _, e := range d.tail {
		d.line("%s", e)
	}
	d.indent--
	d.line("}")
}

// sceneNICs returns every NIC drawn in a subnet: those of its VMs, then
// those without a VM.
func sceneNICs(sn *sceneSubnet) []*sceneNIC {
	var out []*sceneNIC
	for _, vm := range sn.vms {
		out = append(out, vm.nics...)
	}
	return append(out, sn.nics...)
}

func (d *dotWriter) vnet(vn *sceneVNet) {
	id := d.id("vnet", vn.id)
	head := "VNet " + vn.name
	var info []string
	if len(vn.space) > 0 {
		info = append(info, viewPrefixes(vn.space))
	}
	if vn.where != "" {
		info = append(info, vn.where)
	}
	if vn.stub {
		note := "(outside the view)"
		if vn.missing {
			note = "(not exported)"
		}
		d.node(id, "vnet", strings.Join(append(append([]string{head}, info...), note), "\n"), "")
		return
	}
	st := sceneStyles["vnet"]
	d.line("subgraph %s {", dotQuote("cluster_"+id))
	d.indent++
	style := "rounded,filled"
	if vn.context {
		style += ",dashed"
		info = append(info, "(outside the view)")
	}
	// The network's name heads the cluster as a node of its own, which
	// the peerings join.
	d.line("label=\"\"; tooltip=%s; style=%q; color=%q; fillcolor=%q; penwidth=1.6;", dotQuote(vn.id), style, st.stroke, st.fill)
	d.line("%s [shape=plaintext, style=\"\", label=%s, tooltip=%s, fontsize=12, fontcolor=%q];",
		dotQuote(id), dotQuote(dotLeft(append([]string{head}, info...))), dotQuote(vn.id), st.stroke)
	d.declared[id] = true
	for _, sn := range vn.subnets {
		d.subnet(sn)
	}
	d.indent--
	d.line("}")
}

func (d *dotWriter) subnet(sn *sceneSubnet) {
	id := d.id("subnet", sn.s.ID)
	kind := "subnet"
	if sn.s.GatewaySubnet {
		kind = "gwsubnet"
	}
	st := sceneStyles[kind]
	lines := []string{"Subnet " + sn.s.Name}
	if len(sn.s.Prefixes) > 0 {
		lines = append(lines, viewPrefixes(sn.s.Prefixes))
	}
	style := "rounded,filled"
	if sn.context {
		style += ",dashed"
		lines = append(lines, "(outside the view)")
	}
	label := dotLeft(lines)
	d.line("subgraph %s {", dotQuote("cluster_"+id))
	d.indent++
	d.line("label=%s; tooltip=%s; style=%q; color=%q; fillcolor=%q; fontcolor=%q; penwidth=1.2;",
		dotQuote(label), dotQuote(sn.s.ID), style, st.stroke, st.fill, st.stroke)
	d.line("%s [shape=point, style=invis, width=0.01, label=\"\"];", dotQuote(id))
	d.declared[id] = true
	for _, vm := range sn.vms {
		vid := d.id("vm", vm.vm.ID)
		d.node(vid, "vm", "VM "+vm.vm.Name, "")
		for _, nic := range vm.nics {
			d.nic(nic)
			d.edge(vid, d.id("nic", nic.nic.ID), fmt.Sprintf("arrowhead=none, color=%q", sceneStyles["vm"].stroke))
		}
	}
	for _, nic := range sn.nics {
		d.nic(nic)
	}
	for _, g := range sn.gateways {
		gid := d.id("gw", g.g.ID)
		d.node(gid, "gw", "Gateway "+g.g.Name+"\n"+viewGatewayDetail(g.g), "")
		for _, p := range g.pips {
			d.pip(p, gid)
		}
		for _, c := range g.conns {
			kind := c.toKind
			to := d.id(kind, c.toID)
			switch {
			case kind == "lng":
				d.lngs = append(d.lngs, c) // declared after the resources that sit in no subnet
			case !d.gateways[to]:
				d.topNode(to, "gw", "Gateway "+c.to+"\n(outside the view)", `style="dashed,filled"`)
			}
			d.edge(gid, to, fmt.Sprintf("minlen=%d, dir=both, arrowhead=none, arrowtail=none, penwidth=1.6, color=%q, label=%s", dotPolicyRank,
				sceneStyles["gw"].stroke, dotQuote(c.name+"\n"+viewOrUnknown(c.status))))
		}
	}
	d.indent--
	d.line("}")
}

func (d *dotWriter) nic(nic *sceneNIC) {
	id := d.id("nic", nic.nic.ID)
	lines := []string{"NIC " + nic.nic.Name}
	lines = append(lines, nic.ips...)
	if nic.vm != "" {
		lines = append(lines, "of VM "+nic.vm)
	}
	d.node(id, "nic", strings.Join(lines, "\n"), "")
	for _, p := range nic.pips {
		d.pip(p, id)
	}
}

// pip draws a public IP attached to a node (right of it).
func (d *dotWriter) pip(p sceneRef, to string) {
	id := d.id("pip", p.id)
	label := "PIP " + p.name
	if p.detail != "" {
		label += "\n" + p.detail
	}
	d.topNode(id, "pip", label, "")
	d.edge(to, id, fmt.Sprintf("arrowhead=none, color=%q", sceneStyles["pip"].stroke))
}

// dotFont is the font the DOT output asks for.
const dotFont = "Helvetica"

// dotQuote quotes s as a DOT string: "\n" in s becomes a centred line
// break, "\v" (from dotLeft) a left-justified one.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b.WriteString(`\"`)
		case '\v':
			b.WriteString(`\l`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// dotLeft joins lines as a left-justified DOT label (see dotQuote).
func dotLeft(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.ReplaceAll(l, "\v", " "))
		b.WriteByte('\v')
	}
	return b.String()
}

// dotComment makes s safe for a // comment.
func dotComment(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
