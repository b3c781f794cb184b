package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// scene is what the pictures of a View draw, placed: virtual networks
// holding subnets holding VMs with their NICs, and gateways; peerings
// between networks; NSGs and route tables with their rules and routes;
// and the resources that have no place in a subnet. WriteDOT and
// WriteSVG both draw it, so the two pictures agree.
type scene struct {
	title    string
	vnets    []*sceneVNet
	peerings []*scenePeering
	nsgs     []*NSG
	rts      []*RouteTable
	others   []sceneItem // resources of the view with no subnet to sit in
}

// sceneVNet is a virtual network, drawn as a box holding its subnets.
type sceneVNet struct {
	id, name string
	// context is true for a network outside the view, drawn because
	// something in the view sits in it; stub is true for a peered
	// network outside the view (missing is true when it is not even in
	// the export), drawn without subnets.
	context, stub, missing bool
	space                  []netip.Prefix
	where                  string // resource group (and subscription when several are drawn)
	location               string
	subnets                []*sceneSubnet
}

type sceneSubnet struct {
	s        *Subnet
	context  bool     // outside the view
	nsg, rt  sceneRef // id "" when none
	vms      []*sceneVM
	nics     []*sceneNIC // NICs without a VM in this subnet
	gateways []*sceneGateway
}

type sceneVM struct {
	vm   *VM
	nics []*sceneNIC
}

type sceneNIC struct {
	nic  *NIC
	ips  []string   // private addresses, primary first
	pips []sceneRef // public IPs
	nsg  sceneRef   // the NIC's NSG; id "" when none
	vm   string     // the VM's name, when the VM is drawn elsewhere
}

type sceneGateway struct {
	g     *VirtualNetworkGateway
	pips  []sceneRef
	conns []sceneConn
}

// sceneConn is a connection of a gateway, to a local network gateway or
// another gateway.
type sceneConn struct {
	name, status, to, toID string
	toKind                 string // "lng" or "gw"
}

// sceneRef names a resource and what to show beside its name.
type sceneRef struct {
	id, name, detail string
}

// scenePeering is a peering between two drawn networks, both directions
// together.
type scenePeering struct {
	a, b   *sceneVNet
	ab, ba *Peering // the peering exported on each side; nil when absent
}

// sceneItem is a resource of the view that sits in no subnet.
type sceneItem struct {
	kind, id, name string
	lines          []string
}

// State describes a peering's state for a label: "Connected" when both
// sides agree, else each side's, e.g. "hub: Connected / spoke:
// Initiated", or "Initiated (hub side only)" when the other side has no
// peering in the export.
func (p *scenePeering) State() string {
	st := func(x *Peering) string {
		if x.PeeringState == "" {
			return "state unknown"
		}
		return x.PeeringState
	}
	switch {
	case p.ab != nil && p.ba != nil:
		if st(p.ab) == st(p.ba) {
			return st(p.ab)
		}
		return p.a.name + ": " + st(p.ab) + " / " + p.b.name + ": " + st(p.ba)
	case p.ab != nil:
		return st(p.ab) + " (" + p.a.name + " side only)"
	case p.ba != nil:
		return st(p.ba) + " (" + p.b.name + " side only)"
	}
	return "state unknown"
}

// Level is "ok", "warn" or "bad": Connected on every side the export
// could hold, some side Initiated or missing although its network is
// exported, or Disconnected.
func (p *scenePeering) Level() string {
	level := "ok"
	for _, side := range []struct {
		x    *Peering
		vnet *sceneVNet
	}{{p.ab, p.a}, {p.ba, p.b}} {
		switch {
		case side.x == nil && side.vnet.missing:
			// The other network is not exported: nothing to judge.
		case side.x != nil && side.x.PeeringState == "Disconnected":
			return "bad"
		case side.x == nil || side.x.PeeringState != "Connected":
			level = "warn"
		}
	}
	return level
}

// Flags lists the peering's options that matter for reading the picture:
// gateway transit and forwarded traffic.
func (p *scenePeering) Flags() string {
	var fl []string
	for _, x := range []*Peering{p.ab, p.ba} {
		if x == nil {
			continue
		}
		if x.AllowGatewayTransit && !slices.Contains(fl, "gateway transit") {
			fl = append(fl, "gateway transit")
		}
		if x.UseRemoteGateways && !slices.Contains(fl, "remote gateway") {
			fl = append(fl, "remote gateway")
		}
		if !x.AllowVirtualNetworkAccess && !slices.Contains(fl, "no VNet access") {
			fl = append(fl, "no VNet access")
		}
	}
	return strings.Join(fl, ", ")
}

// scene places the view's resources.
func (v *View) scene() *scene {
	sc := &scene{title: v.title}
	n := v.net
	if n == nil {
		return sc
	}
	in := func(id string) bool { return v.scope[CanonicalID(id)] }

	// Subnets to draw: those of the view, and those that NICs and
	// gateways of the view sit in.
	drawn := map[string]bool{}
	for id := range v.scope {
		if n.Subnets[id] != nil {
			drawn[id] = true
		}
	}
	nicSubnet := map[string]string{} // NIC → the subnet it is drawn in
	for _, nic := range Sorted(n.NICs) {
		if !in(nic.ID) {
			continue
		}
		for _, c := range viewConfigs(nic) {
			if k := CanonicalID(c.SubnetID); n.Subnets[k] != nil {
				nicSubnet[CanonicalID(nic.ID)] = k
				drawn[k] = true
				break
			}
		}
	}
	gwSubnet := map[string]string{}
	for _, g := range Sorted(n.VNetGateways) {
		if !in(g.ID) {
			continue
		}
		for _, c := range g.IPConfigs {
			if k := CanonicalID(c.SubnetID); n.Subnets[k] != nil {
				gwSubnet[CanonicalID(g.ID)] = k
				drawn[k] = true
				break
			}
		}
	}

	// Networks and subnets.
	subs := map[string]bool{}
	for id := range drawn {
		subs[strings.ToLower(n.Subnets[id].Subscription)] = true
	}
	for id := range v.scope {
		if x := n.VNets[id]; x != nil {
			subs[strings.ToLower(x.Subscription)] = true
		}
	}
	where := func(r *Resource) string {
		if len(subs) > 1 {
			return r.ResourceGroup + " · " + viewShortSub(r.Subscription)
		}
		return r.ResourceGroup
	}
	byID := map[string]*sceneVNet{}
	subnets := map[string]*sceneSubnet{}
	for _, x := range Sorted(n.VNets) {
		var ss []*sceneSubnet
		for _, s := range viewSortedByID(x.Subnets) {
			if !drawn[CanonicalID(s.ID)] {
				continue
			}
			sn := &sceneSubnet{s: s, context: !in(s.ID)}
			sn.nsg, sn.rt = n.sceneRef(s.NSGID), n.sceneRef(s.RouteTableID)
			subnets[CanonicalID(s.ID)] = sn
			ss = append(ss, sn)
		}
		if !in(x.ID) && len(ss) == 0 {
			continue
		}
		sv := &sceneVNet{id: x.ID, name: x.Name, context: !in(x.ID), space: x.AddressSpace,
			where: where(&x.Resource), location: x.Location, subnets: ss}
		byID[CanonicalID(x.ID)] = sv
		sc.vnets = append(sc.vnets, sv)
	}

	// A subnet whose network is not in the model cannot be drawn.
	for k, s := range nicSubnet {
		if subnets[s] == nil {
			delete(nicSubnet, k)
		}
	}
	for k, s := range gwSubnet {
		if subnets[s] == nil {
			delete(gwSubnet, k)
		}
	}

	// NICs and VMs.
	nics := map[string]*sceneNIC{}
	for _, nic := range Sorted(n.NICs) {
		if !in(nic.ID) {
			continue
		}
		sn := &sceneNIC{nic: nic}
		for _, c := range viewConfigs(nic) {
			if c.PrivatePrefix.IsValid() && !c.PrivatePrefix.IsSingleIP() {
				sn.ips = append(sn.ips, c.PrivatePrefix.String())
			} else if c.PrivateIP.IsValid() {
				sn.ips = append(sn.ips, c.PrivateIP.String())
			}
			if c.PublicIPID != "" {
				sn.pips = append(sn.pips, n.scenePublicIP(c.PublicIPID))
			}
		}
		sn.nsg = n.sceneRef(nic.NSGID)
		nics[CanonicalID(nic.ID)] = sn
	}
	placedNIC := map[string]bool{}
	placedPIP := map[string]bool{}
	for _, vm := range Sorted(n.VMs) {
		if !in(vm.ID) {
			continue
		}
		// The VM sits with its first NIC that is drawn in a subnet.
		var home string
		for _, nic := range n.NICsOf(vm) {
			if k := nicSubnet[CanonicalID(nic.ID)]; k != "" && nics[CanonicalID(nic.ID)] != nil {
				home = k
				break
			}
		}
		if home == "" {
			line := "no NIC"
			if ids := viewSortedIDs(vm.NICIDs); len(ids) > 0 {
				names := make([]string, len(ids))
				for i, id := range ids {
					names[i], _ = n.viewRef(id)
				}
				line = "NICs " + strings.Join(names, ", ") + " (not in a subnet of the view)"
			}
			sc.others = append(sc.others, sceneItem{kind: "vm", id: vm.ID, name: vm.Name, lines: []string{line}})
			continue
		}
		svm := &sceneVM{vm: vm}
		for _, nic := range n.NICsOf(vm) {
			k := CanonicalID(nic.ID)
			sn := nics[k]
			if sn == nil || nicSubnet[k] == "" {
				continue
			}
			if nicSubnet[k] == home {
				svm.nics = append(svm.nics, sn)
				placedNIC[k] = true
			} else {
				sn.vm = vm.Name
			}
		}
		subnets[home].vms = append(subnets[home].vms, svm)
	}
	for _, nic := range Sorted(n.NICs) {
		k := CanonicalID(nic.ID)
		sn := nics[k]
		if sn == nil || placedNIC[k] {
			continue
		}
		if sn.vm == "" {
			if vm := n.VMOf(nic); vm != nil {
				sn.vm = vm.Name
			}
		}
		if s := nicSubnet[k]; s != "" {
			subnets[s].nics = append(subnets[s].nics, sn)
			continue
		}
		lines := slices.Clone(sn.ips)
		if len(lines) == 0 {
			lines = append(lines, "no subnet in the export")
		}
		sc.others = append(sc.others, sceneItem{kind: "nic", id: nic.ID, name: nic.Name, lines: lines})
	}
	for _, sn := range nics {
		if nicSubnet[CanonicalID(sn.nic.ID)] != "" {
			for _, p := range sn.pips {
				placedPIP[CanonicalID(p.id)] = true
			}
		}
	}

	// Gateways and their connections.
	placedConn := map[string]bool{}
	for _, g := range Sorted(n.VNetGateways) {
		k := gwSubnet[CanonicalID(g.ID)]
		if k == "" {
			if in(g.ID) {
				sc.others = append(sc.others, sceneItem{kind: "gw", id: g.ID, name: g.Name, lines: []string{viewGatewayDetail(g)}})
			}
			continue
		}
		sg := &sceneGateway{g: g}
		for _, c := range g.IPConfigs {
			if c.PublicIPID != "" {
				sg.pips = append(sg.pips, n.scenePublicIP(c.PublicIPID))
				placedPIP[CanonicalID(c.PublicIPID)] = true
			}
		}
		for _, c := range Sorted(n.Connections) {
			if !in(c.ID) {
				continue
			}
			other := ""
			switch CanonicalID(g.ID) {
			case CanonicalID(c.VirtualNetworkGateway1ID):
				other = c.VirtualNetworkGateway2ID
				if c.LocalNetworkGateway2ID != "" {
					other = c.LocalNetworkGateway2ID
				}
				if other == "" {
					other = c.PeerID
				}
			case CanonicalID(c.VirtualNetworkGateway2ID):
				other = c.VirtualNetworkGateway1ID
			default:
				continue
			}
			name, _ := n.viewRef(other)
			conn := sceneConn{name: c.Name, status: c.ConnectionStatus, to: name, toID: other, toKind: "gw"}
			if kindOfID(other) == kLocalGateway {
				conn.toKind = "lng"
			}
			sg.conns = append(sg.conns, conn)
			placedConn[CanonicalID(c.ID)] = true
		}
		subnets[k].gateways = append(subnets[k].gateways, sg)
	}

	// Peerings, with stubs for peered networks that are not drawn.
	pairs := map[[2]string]*scenePeering{}
	var order [][2]string
	for _, p := range Sorted(n.Peerings) {
		a, b := CanonicalID(p.VNetID), CanonicalID(p.RemoteVNetID)
		if a == "" || b == "" || (byID[a] == nil && byID[b] == nil) {
			continue
		}
		for _, k := range []string{a, b} {
			if byID[k] != nil {
				continue
			}
			sv := &sceneVNet{id: k, name: IDName(k), stub: true}
			if x := n.VNets[k]; x != nil {
				sv.id, sv.name, sv.space, sv.where, sv.location = x.ID, x.Name, x.AddressSpace, where(&x.Resource), x.Location
			} else {
				sv.missing = true
				if k == b {
					sv.id, sv.name, sv.space = p.RemoteVNetID, IDName(p.RemoteVNetID), p.RemoteAddressSpace
				}
				if r, ok := parseID(sv.id); ok {
					sv.where = r.rg
					if len(subs) > 1 || !subs[strings.ToLower(r.sub)] {
						sv.where += " · " + viewShortSub(r.sub)
					}
				}
			}
			byID[k] = sv
			sc.vnets = append(sc.vnets, sv)
		}
		key := [2]string{min(a, b), max(a, b)}
		sp := pairs[key]
		if sp == nil {
			sp = &scenePeering{a: byID[key[0]], b: byID[key[1]]}
			pairs[key] = sp
			order = append(order, key)
		}
		if a == key[0] {
			sp.ab = p
		} else {
			sp.ba = p
		}
	}
	for _, k := range order {
		sc.peerings = append(sc.peerings, pairs[k])
	}
	slices.SortStableFunc(sc.peerings, func(x, y *scenePeering) int {
		return strings.Compare(CanonicalID(x.a.id)+" "+CanonicalID(x.b.id), CanonicalID(y.a.id)+" "+CanonicalID(y.b.id))
	})

	// NSGs, route tables and the rest.
	for _, g := range Sorted(n.NSGs) {
		if in(g.ID) {
			sc.nsgs = append(sc.nsgs, g)
		}
	}
	for _, t := range Sorted(n.RouteTables) {
		if in(t.ID) {
			sc.rts = append(sc.rts, t)
		}
	}
	for _, p := range Sorted(n.PublicIPs) {
		if in(p.ID) && !placedPIP[CanonicalID(p.ID)] {
			r := n.scenePublicIP(p.ID)
			line := r.detail
			if line == "" {
				line = "no address"
			}
			sc.others = append(sc.others, sceneItem{kind: "pip", id: p.ID, name: p.Name, lines: []string{line, "not attached in the view"}})
		}
	}
	for _, g := range Sorted(n.LocalNetworkGateways) {
		if !in(g.ID) {
			continue
		}
		var lines []string
		if len(g.AddressPrefixes) > 0 {
			lines = append(lines, viewPrefixes(g.AddressPrefixes))
		}
		if g.GatewayIP.IsValid() {
			lines = append(lines, "gateway "+g.GatewayIP.String())
		} else if g.FQDN != "" {
			lines = append(lines, "gateway "+g.FQDN)
		}
		sc.others = append(sc.others, sceneItem{kind: "lng", id: g.ID, name: g.Name, lines: lines})
	}
	for _, c := range Sorted(n.Connections) {
		if in(c.ID) && !placedConn[CanonicalID(c.ID)] {
			a, _ := n.viewRef(c.VirtualNetworkGateway1ID)
			b := c.LocalNetworkGateway2ID
			if b == "" {
				b = c.VirtualNetworkGateway2ID
			}
			bn, _ := n.viewRef(b)
			line := strings.Trim(a+" ⇄ "+bn, " ⇄")
			sc.others = append(sc.others, sceneItem{kind: "conn", id: c.ID, name: c.Name, lines: []string{line, viewOrUnknown(c.ConnectionStatus)}})
		}
	}
	return sc
}

// sceneRef names the resource a reference points at; the zero sceneRef
// for an empty reference.
func (n *Network) sceneRef(id string) sceneRef {
	if strings.TrimSpace(id) == "" {
		return sceneRef{}
	}
	name, rid := n.viewRef(id)
	return sceneRef{id: rid, name: name}
}

// scenePublicIP names a public IP with its address.
func (n *Network) scenePublicIP(id string) sceneRef {
	name, rid := n.viewRef(id)
	r := sceneRef{id: rid, name: name}
	if p := n.PublicIPs[CanonicalID(id)]; p != nil && p.IPAddress.IsValid() {
		r.detail = p.IPAddress.String()
	}
	return r
}

// viewGatewayDetail describes a gateway: type, VPN type and SKU.
func viewGatewayDetail(g *VirtualNetworkGateway) string {
	var parts []string
	for _, s := range []string{g.GatewayType, g.VPNType, g.SKU} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if g.ActiveActive {
		parts = append(parts, "active-active")
	}
	if len(parts) == 0 {
		return "gateway"
	}
	return strings.Join(parts, " ")
}

// viewRuleLine describes a security rule in one line: priority, name,
// direction, access, protocol, sources → destinations:ports, e.g. "100
// allow-https · in Allow Tcp Internet → asg-web:443,8443".
func viewRuleLine(r *SecurityRule) string {
	dir := "?"
	switch r.Direction {
	case Inbound:
		dir = "in"
	case Outbound:
		dir = "out"
	}
	addrs := func(prefixes, asgs []string) string {
		parts := slices.Clone(prefixes)
		for _, id := range asgs {
			parts = append(parts, IDName(id))
		}
		if len(parts) == 0 {
			return "*"
		}
		return strings.Join(parts, ",")
	}
	ports := strings.Join(r.DestinationPortRanges, ",")
	if ports == "" {
		ports = "*"
	}
	return fmt.Sprintf("%d %s · %s %s %s %s → %s:%s", r.Priority, r.Name, dir, r.Access, r.Protocol,
		addrs(r.SourceAddressPrefixes, r.SourceASGIDs), addrs(r.DestinationAddressPrefixes, r.DestinationASGIDs), ports)
}

// viewRouteLine describes a route in one line: name, prefix and next hop,
// e.g. "default · 0.0.0.0/0 → VirtualAppliance 10.0.2.4".
func viewRouteLine(r *Route) string {
	hop := string(r.NextHopType)
	if r.NextHopIP.IsValid() {
		hop += " " + r.NextHopIP.String()
	}
	return fmt.Sprintf("%s · %s → %s", r.Name, r.AddressPrefix, hop)
}

// viewUserRules returns an NSG's user rules, inbound then outbound, each by
// priority, then any whose direction the export leaves unknown.
func viewUserRules(g *NSG) []*SecurityRule {
	var out []*SecurityRule
	for _, d := range []Direction{Inbound, Outbound} {
		for _, r := range g.Rules(d) {
			if !r.Default {
				out = append(out, r)
			}
		}
	}
	for _, r := range g.SecurityRules {
		if r.Direction != Inbound && r.Direction != Outbound {
			out = append(out, r)
		}
	}
	return out
}

// viewPrefixes joins prefixes with commas.
func viewPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// viewShortSub abbreviates a subscription id to its first group.
func viewShortSub(s string) string {
	if i := strings.IndexByte(s, '-'); i > 0 {
		return "sub " + s[:i]
	}
	if s == "" {
		return "sub ?"
	}
	return "sub " + s
}

func viewOrUnknown(s string) string {
	if s == "" {
		return "status unknown"
	}
	return s
}

// sceneStyle is how the pictures draw one kind of resource: a short tag,
// a stroke colour and a fill colour. Both pictures use the same.
type sceneStyle struct{ tag, stroke, fill string }

var sceneStyles = map[string]sceneStyle{
	"vnet":     {"VNet", "#1f5fad", "#eaf2fc"},
	"subnet":   {"Subnet", "#5b8fd0", "#ffffff"},
	"gwsubnet": {"Subnet", "#c77c12", "#fff8ec"},
	"vm":       {"VM", "#2e7d32", "#e8f5e9"},
	"nic":      {"NIC", "#455a64", "#f4f6f7"},
	"nsg":      {"NSG", "#c62828", "#fdecea"},
	"rt":       {"Routes", "#9a6700", "#fff4d6"},
	"pip":      {"PIP", "#6a1b9a", "#f3e8fa"},
	"gw":       {"Gateway", "#d84315", "#fff0e0"},
	"lng":      {"On-prem", "#37474f", "#eceff1"},
	"conn":     {"Conn", "#37474f", "#eceff1"},
}

// scenePeeringColors colour peerings by Level.
var scenePeeringColors = map[string]string{"ok": "#2e7d32", "warn": "#ef6c00", "bad": "#c62828"}
