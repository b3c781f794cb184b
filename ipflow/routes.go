package ipflow

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/flowlens/flowlens/topology"
)

// RouteSource is where an effective route comes from (EffectiveRouteSource).
type RouteSource uint8

// Route sources. The zero value is Azure's Unknown.
const (
	SourceDefault RouteSource = iota + 1 // system routes
	SourceUser                           // the subnet's route table
	SourceGateway                        // a virtual network gateway: BGP, local network gateways
)

func (s RouteSource) String() string {
	switch s {
	case SourceDefault:
		return "Default"
	case SourceUser:
		return "User"
	case SourceGateway:
		return "VirtualNetworkGateway"
	}
	return "Unknown"
}

// RouteState says whether a route is used (EffectiveRouteState).
type RouteState uint8

// Route states. The zero value is not a state.
const (
	RouteActive RouteState = iota + 1
	RouteInvalid
)

func (s RouteState) String() string {
	switch s {
	case RouteActive:
		return "Active"
	case RouteInvalid:
		return "Invalid"
	}
	return ""
}

// HopType is the next hop of a route. String gives the effective-routes
// spelling, NextHopType the spelling of the next hop API.
type HopType uint8

// Next hop types. The zero value is not a type.
const (
	HopVnetLocal HopType = iota + 1
	HopInternet
	HopNone
	HopVirtualAppliance
	HopVirtualNetworkGateway
	HopVNetPeering
	HopVNetGlobalPeering
	HopServiceEndpoint
)

var hopNames = [...]string{
	HopVnetLocal:             "VnetLocal",
	HopInternet:              "Internet",
	HopNone:                  "None",
	HopVirtualAppliance:      "VirtualAppliance",
	HopVirtualNetworkGateway: "VirtualNetworkGateway",
	HopVNetPeering:           "VNetPeering",
	HopVNetGlobalPeering:     "VNetGlobalPeering",
	HopServiceEndpoint:       "VirtualNetworkServiceEndpoint",
}

// String returns the type as effective routes spell it: VnetLocal,
// Internet, None, VirtualAppliance, VirtualNetworkGateway, VNetPeering,
// VNetGlobalPeering or VirtualNetworkServiceEndpoint.
func (h HopType) String() string {
	if int(h) < len(hopNames) {
		return hopNames[h]
	}
	return ""
}

// NextHopType returns the type as the next hop API spells it. Peerings,
// same-region or global, are VnetPeering (the older CLI doc's string; the
// API's enum has none) [X spec §3.2 step 5]. HyperNetGateway is never
// returned.
func (h HopType) NextHopType() string {
	if h == HopVNetPeering || h == HopVNetGlobalPeering {
		return "VnetPeering"
	}
	return h.String()
}

// ParseHopType reads a next hop type in any case, in either spelling
// (VnetPeering and VNetPeering are the same).
func ParseHopType(s string) (HopType, bool) {
	for h := HopVnetLocal; h <= HopServiceEndpoint; h++ {
		if strings.EqualFold(s, h.String()) {
			return h, true
		}
	}
	return 0, false
}

// Route is one row of a subnet's effective routes, reduced to one prefix
// and at most one next hop address: Azure's rows that list several
// prefixes (service endpoints, service-tag routes) or several addresses
// are several Routes. A Route is a plain value; copying it is fine.
type Route struct {
	// Name is the user route's name; empty for other routes.
	Name   string
	Source RouteSource
	State  RouteState
	Prefix netip.Prefix
	Hop    HopType
	// HopIP is the next hop's address: the appliance of a VirtualAppliance
	// route, the gateway's address of a VirtualNetworkGateway route;
	// invalid for other types.
	HopIP netip.Addr
	// Tag is the service tag the prefix comes from (a user route's
	// addressPrefix, a service endpoint's service), or empty.
	Tag string
	// HasBGPOverride is the user route's hasBgpOverride: it beats more
	// specific BGP routes, as VNet, peering and service endpoint routes do.
	HasBGPOverride bool
	// RouteTableID is the id of the route table of a user route.
	RouteTableID string
	// Origin says, for people, what made the route: "address space of
	// VNet hub", "route table to-fw", "learned by gateway gw from
	// 10.0.255.30", ….
	Origin string

	row    int32  // the Azure row the route belongs to
	group  int32  // what produced it; equal groups at one prefix are ECMP
	rank   uint16 // precedence at identical prefixes, lower wins
	protec bool   // beats more specific BGP routes
}

// Precedence classes (high byte of rank) at identical prefixes [D]:
// user routes, then the system routes that beat BGP (VNet, peering,
// service endpoint), then gateway routes, then the other system routes.
//
// classProtected ranks above classGateway on purpose. Spec §3.2 step 2,
// read alone, says BGP beats every system route at an identical prefix.
// Azure's route selection note (virtual-networks-udr-overview) says that
// VNet, peering and service endpoint system routes are preferred even
// over more specific BGP routes. If they win against a more specific BGP
// route, they win against one with the identical prefix too, so a BGP
// route equal to the VNet's own or a peered VNet's prefix is Invalid.
// The scenario testdata/routes/vpn-hub-edge-cases tests this choice.
const (
	classUser      = 0 << 8
	classProtected = 1 << 8
	classGateway   = 2 << 8
	classDefault   = 3 << 8
)

// RouteConfig sets what effective routes depend on beyond the network
// export and the evaluator's service tags.
type RouteConfig struct {
	// Reserved are the prefixes of the default None routes (spec §3.1);
	// nil means DocumentedReserved. A non-nil empty slice means none.
	Reserved []netip.Prefix
}

// Reserved prefix profiles: Azure's own set has changed over time, so it
// is configuration [X spec §3.1].
var (
	// DocumentedReserved is the set the docs list, in the order the
	// effective-routes API prints it.
	DocumentedReserved = mustPrefixes("10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16")
	// Observed2021Reserved is the set real effective-route dumps show
	// from 2021 on: no 172.16.0.0/12, two blocks of 25.0.0.0/8.
	Observed2021Reserved = mustPrefixes("10.0.0.0/8", "100.64.0.0/10", "192.168.0.0/16", "25.33.80.0/20", "25.41.3.0/25")
)

// ReservedProfile returns the reserved prefixes of a named profile:
// "documented" (also "") or "2021-observed".
func ReservedProfile(name string) ([]netip.Prefix, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "documented":
		return DocumentedReserved, nil
	case "2021-observed", "observed-2021", "2021":
		return Observed2021Reserved, nil
	}
	return nil, fmt.Errorf("unknown reserved-prefix profile %q (want documented or 2021-observed)", name)
}

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Router answers next hop and effective routes questions over the network
// of an Evaluator, whose service tags it uses. Make one with NewRouter;
// the zero value is not usable. It builds each subnet's routes once, on
// first use, and keeps them (see Routes for the cost). Safe for
// concurrent use; the network must not change while the router is in
// use. Do not copy a Router.
type Router struct {
	ev  *Evaluator
	cfg RouteConfig

	mu      sync.Mutex
	subnets map[string]*Routes
}

// NewRouter returns a router over the evaluator's network.
func NewRouter(ev *Evaluator, cfg RouteConfig) *Router {
	if cfg.Reserved == nil {
		cfg.Reserved = DocumentedReserved
	}
	return &Router{ev: ev, cfg: cfg, subnets: map[string]*Routes{}}
}

// Evaluator returns the evaluator the router answers with.
func (r *Router) Evaluator() *Evaluator { return r.ev }

// ErrNoSubnet is the reason of errors about a NIC whose subnet the export
// lacks.
var ErrNoSubnet = errors.New("subnet not in the export")

// EffectiveRoutes returns the effective routes of a NIC, by id or by name:
// those of the subnet of its primary IP configuration.
func (r *Router) EffectiveRoutes(nic string) (*Routes, error) {
	x, err := r.ev.net.NIC(nic)
	if err != nil {
		return nil, err
	}
	var cfg *topology.IPConfig
	for _, c := range x.IPConfigs {
		if cfg == nil || c.Primary && !cfg.Primary {
			cfg = c
		}
	}
	if cfg == nil {
		return nil, fmt.Errorf("%w: network interface %s has no IP configuration", ErrBadRequest, x.Name)
	}
	s := r.ev.net.SubnetOf(cfg)
	if s == nil {
		return nil, fmt.Errorf("%w: %s of network interface %s", ErrNoSubnet, cfg.SubnetID, x.Name)
	}
	return r.RoutesOf(s), nil
}

// RoutesOf returns the effective routes of a subnet.
func (r *Router) RoutesOf(s *topology.Subnet) *Routes {
	key := topology.CanonicalID(s.ID)
	r.mu.Lock()
	defer r.mu.Unlock()
	if rs, ok := r.subnets[key]; ok {
		return rs
	}
	b := routeBuilder{r: r, n: r.ev.net, s: s}
	rs := b.build()
	r.subnets[key] = rs
	return rs
}

// routeBuilder collects the routes of one subnet (spec §3.1).
type routeBuilder struct {
	r     *Router
	n     *topology.Network
	s     *topology.Subnet
	vnet  *topology.VNet
	table *topology.RouteTable
	list  []Route
	notes []string
	row   int32
	group int32
	v6    bool // the VNet has IPv6 address space
}

func (b *routeBuilder) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// add appends a route for each prefix and next hop address. The routes
// of one address make one Azure row, which lists all the prefixes.
func (b *routeBuilder) add(proto Route, prefixes []netip.Prefix, ips []netip.Addr) {
	b.group++
	proto.group = b.group
	if len(ips) == 0 {
		ips = []netip.Addr{{}}
	}
	for _, ip := range ips {
		b.row++
		for _, p := range prefixes {
			rt := proto
			rt.Prefix, rt.HopIP, rt.row, rt.State = p.Masked(), ip, b.row, RouteActive
			b.list = append(b.list, rt)
		}
	}
}

func (b *routeBuilder) build() *Routes {
	n, s := b.n, b.s
	b.vnet = n.VNetOf(s)
	b.table = n.RouteTableOf(s)
	if b.table == nil && s.RouteTableID != "" {
		b.note("route table %s of subnet %s is not in the export; its routes are missing", s.RouteTableID, s.Name)
	}
	var space []netip.Prefix
	if b.vnet != nil {
		space = b.vnet.AddressSpace
	}
	vnetName := topology.IDName(s.VNetID)
	if len(space) == 0 {
		space = s.Prefixes
		b.note("the address space of VNet %s is not in the export; the subnet's prefixes stand in for it", vnetName)
	}
	for _, p := range space {
		if p.Addr().Is6() {
			b.v6 = true
		}
	}
	forced := b.forcedTunnel()

	// VNet address space.
	for _, p := range space {
		b.add(Route{Source: SourceDefault, Hop: HopVnetLocal, rank: classProtected, protec: true,
			Origin: "address space of VNet " + vnetName}, []netip.Prefix{p}, nil)
	}
	// Peerings.
	if b.vnet != nil {
		for _, pr := range b.vnet.Peerings {
			if !peeringConnected(pr) {
				continue
			}
			remote := n.PeeringRemote(pr)
			prefixes := pr.RemoteAddressSpace
			if len(prefixes) == 0 && remote != nil {
				prefixes = remote.AddressSpace
			}
			hop := HopVNetPeering
			if remote != nil && b.vnet.Location != "" && remote.Location != "" && normLocation(remote.Location) != normLocation(b.vnet.Location) {
				hop = HopVNetGlobalPeering
			}
			for _, p := range prefixes {
				b.add(Route{Source: SourceDefault, Hop: hop, rank: classProtected | 1, protec: true,
					Origin: "peering " + pr.Name + " to VNet " + topology.IDName(pr.RemoteVNetID)}, []netip.Prefix{p}, nil)
			}
		}
	}
	// Gateways.
	if b.table != nil && b.table.DisableBGPRoutePropagation {
		// Every route of source VirtualNetworkGateway is dropped [D][S].
	} else {
		b.gatewayRoutes()
	}
	// The default route to the Internet.
	b.add(Route{Source: SourceDefault, Hop: HopInternet, rank: classDefault, Origin: "default route to the Internet"},
		[]netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}, nil)
	if b.v6 {
		b.add(Route{Source: SourceDefault, Hop: HopInternet, rank: classDefault, Origin: "default route to the Internet"},
			[]netip.Prefix{netip.MustParsePrefix("::/0")}, nil)
	}
	// Reserved prefixes.
reserved:
	for _, p := range b.r.cfg.Reserved {
		if forced[addrFamily(p.Addr())] {
			continue // a UDR 0/0 to an appliance or gateway removes them [D][R]
		}
		for _, v := range space {
			if v.Bits() <= p.Bits() && v.Contains(p.Addr()) {
				continue reserved // equal: VnetLocal already; containing: removed [D]
			}
		}
		b.add(Route{Source: SourceDefault, Hop: HopNone, rank: classDefault | 1, Origin: "reserved prefix"}, []netip.Prefix{p}, nil)
	}
	// Service endpoints.
	for _, se := range s.ServiceEndpoints {
		b.serviceEndpoint(se)
	}
	// User routes.
	if b.table != nil {
		for _, ur := range b.table.Routes {
			b.userRoute(ur)
		}
	}
	rs := newRoutes(b.list)
	rs.Subnet, rs.VNet, rs.Table, rs.Notes = s, b.vnet, b.table, b.notes
	return rs
}

// forcedTunnel reports, per family, whether the route
// table holds a default route to a virtual appliance or a gateway.
func (b *routeBuilder) forcedTunnel() [2]bool {
	var out [2]bool
	if b.table == nil {
		return out
	}
	for _, ur := range b.table.Routes {
		if ur.Prefix.IsValid() && ur.Prefix.Bits() == 0 &&
			(ur.NextHopType == topology.NextHopVirtualAppliance || ur.NextHopType == topology.NextHopVirtualNetworkGateway) {
			out[addrFamily(ur.Prefix.Addr())] = true
		}
	}
	return out
}

// addrFamily is 0 for IPv4, 1 for IPv6.
func addrFamily(a netip.Addr) int {
	if a.Is6() {
		return 1
	}
	return 0
}

// peeringConnected reports whether a peering gives routes: it is
// connected, or its state is not exported (as the VirtualNetwork tag
// counts it). allowVirtualNetworkAccess does not matter for routes.
func peeringConnected(p *topology.Peering) bool {
	return p.PeeringState == "" || strings.EqualFold(p.PeeringState, "Connected")
}

func normLocation(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, " ", ""))
}

// gatewaySource is a gateway whose routes a subnet gets, and how.
type gatewaySource struct {
	gw  *topology.VirtualNetworkGateway
	via string // the peering of gateway transit, or "" for the VNet's own
}

// gateways returns the gateways of the subnet's VNet and of peered VNets
// whose gateway it uses: useRemoteGateways on a connected peering, unless
// the peering back is exported and does not allow gateway transit (Azure
// refuses that configuration, so an export without the other side is
// trusted).
func (b *routeBuilder) gateways() []gatewaySource {
	var out []gatewaySource
	for _, gw := range b.gatewaysIn(b.s.VNetID) {
		out = append(out, gatewaySource{gw: gw})
	}
	if b.vnet == nil {
		return out
	}
	for _, pr := range b.vnet.Peerings {
		if !pr.UseRemoteGateways || !peeringConnected(pr) {
			continue
		}
		if remote := b.n.PeeringRemote(pr); remote != nil {
			refused := false
			for _, rp := range remote.Peerings {
				if topology.CanonicalID(rp.RemoteVNetID) == topology.CanonicalID(b.s.VNetID) && !rp.AllowGatewayTransit {
					refused = true
				}
			}
			if refused {
				b.note("peering %s uses the remote gateways of VNet %s, whose peering back does not allow gateway transit; no gateway routes from it", pr.Name, remote.Name)
				continue
			}
		}
		for _, gw := range b.gatewaysIn(pr.RemoteVNetID) {
			out = append(out, gatewaySource{gw: gw, via: pr.Name})
		}
	}
	return out
}

// gatewaysIn returns the gateways whose IP configurations sit in a VNet,
// by id.
func (b *routeBuilder) gatewaysIn(vnetID string) []*topology.VirtualNetworkGateway {
	var out []*topology.VirtualNetworkGateway
	want := topology.CanonicalID(vnetID)
	for _, gw := range topology.Sorted(b.n.VNetGateways) {
		for _, c := range gw.IPConfigs {
			if sub := b.n.Subnets[topology.CanonicalID(c.SubnetID)]; sub != nil && topology.CanonicalID(sub.VNetID) == want {
				out = append(out, gw)
				break
			}
		}
	}
	return out
}

// gatewayAddrs returns the addresses a gateway route's next hop shows
// [R spec §3.1]: the instance private addresses of an active-active
// gateway (one row each), else the public IP; a private address stands
// in when the export has no public one.
func (b *routeBuilder) gatewayAddrs(gw *topology.VirtualNetworkGateway) []netip.Addr {
	var private, public []netip.Addr
	addOnce := func(l *[]netip.Addr, a netip.Addr) {
		if a.IsValid() && !slices.Contains(*l, a.Unmap()) {
			*l = append(*l, a.Unmap())
		}
	}
	if gw.BGP != nil {
		for _, pa := range gw.BGP.PeeringAddresses {
			for _, a := range pa.DefaultAddresses {
				addOnce(&private, a)
			}
		}
	}
	for _, c := range gw.IPConfigs {
		addOnce(&private, c.PrivateIP)
		if pip := b.n.PublicIPs[topology.CanonicalID(c.PublicIPID)]; pip != nil {
			addOnce(&public, pip.IPAddress)
		}
	}
	if len(private) == 0 && gw.BGP != nil {
		for _, s := range strings.Split(gw.BGP.PeeringAddress, ",") {
			if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
				addOnce(&private, a)
			}
		}
	}
	switch {
	case gw.ActiveActive && len(private) > 0:
		return private
	case len(public) > 0:
		return public[:1]
	case len(private) > 0:
		return private[:1]
	}
	return nil
}

func (b *routeBuilder) gatewayRoutes() {
	for _, src := range b.gateways() {
		gw := src.gw
		addrs := b.gatewayAddrs(gw)
		if len(addrs) == 0 {
			b.note("gateway %s: no address in the export (public IP, BGP peering address); its routes show no next hop address", gw.Name)
		}
		rank := uint16(classGateway | 1)
		if strings.EqualFold(gw.GatewayType, "ExpressRoute") {
			rank = classGateway // ExpressRoute beats VPN at identical prefixes [D]
		}
		suffix := ""
		if src.via != "" {
			suffix = ", by gateway transit over peering " + src.via
		}
		b.group++
		group := b.group
		seen := map[netip.Prefix]map[netip.Addr]bool{}
		emit := func(p netip.Prefix, ips []netip.Addr, origin string) {
			if !p.IsValid() {
				return
			}
			p = p.Masked()
			if seen[p] == nil {
				seen[p] = map[netip.Addr]bool{}
			}
			if len(ips) == 0 {
				ips = []netip.Addr{{}}
			}
			for _, ip := range ips {
				if seen[p][ip] {
					continue
				}
				seen[p][ip] = true
				b.row++
				b.list = append(b.list, Route{Source: SourceGateway, State: RouteActive, Prefix: p, Hop: HopVirtualNetworkGateway,
					HopIP: ip, Origin: origin + suffix, row: b.row, group: group, rank: rank})
			}
		}
		gwID := topology.CanonicalID(gw.ID)
		for _, c := range topology.Sorted(b.n.Connections) {
			switch gwID {
			case topology.CanonicalID(c.VirtualNetworkGateway1ID):
				if lng := b.n.LocalNetworkGateways[topology.CanonicalID(c.LocalNetworkGateway2ID)]; lng != nil {
					for _, p := range lng.AddressPrefixes {
						emit(p, addrs, "local network gateway "+lng.Name+" via connection "+c.Name+" on gateway "+gw.Name)
					}
				}
				b.vnet2vnet(c, c.VirtualNetworkGateway2ID, addrs, gw, emit)
			case topology.CanonicalID(c.VirtualNetworkGateway2ID):
				b.vnet2vnet(c, c.VirtualNetworkGateway1ID, addrs, gw, emit)
			}
		}
		er := strings.EqualFold(gw.GatewayType, "ExpressRoute")
		for _, lr := range gw.LearnedRoutes {
			if strings.EqualFold(lr.Origin, "Network") {
				continue // the gateway's own VNet prefixes
			}
			ips := addrs
			if er && lr.NextHop.IsValid() {
				// ExpressRoute: traffic goes to the edge routers the route
				// was learned from (ECMP over both) [X].
				ips = []netip.Addr{lr.NextHop.Unmap()}
			}
			from := ""
			if lr.SourcePeer != "" {
				from = " from " + lr.SourcePeer
			}
			emit(lr.Network, ips, "learned by gateway "+gw.Name+from)
		}
	}
}

// vnet2vnet adds the address space of the VNet of the other gateway of a
// VNet-to-VNet connection.
func (b *routeBuilder) vnet2vnet(c *topology.Connection, otherID string, addrs []netip.Addr, gw *topology.VirtualNetworkGateway, emit func(netip.Prefix, []netip.Addr, string)) {
	other := b.n.VNetGateways[topology.CanonicalID(otherID)]
	if other == nil || otherID == "" {
		return
	}
	for _, gc := range other.IPConfigs {
		sub := b.n.Subnets[topology.CanonicalID(gc.SubnetID)]
		if sub == nil {
			continue
		}
		if v := b.n.VNetOf(sub); v != nil {
			for _, p := range v.AddressSpace {
				emit(p, addrs, "VNet "+v.Name+" via connection "+c.Name+" on gateway "+gw.Name)
			}
		}
		return
	}
}

// families returns the prefixes of set in the families the VNet uses.
func (b *routeBuilder) families(set *netipx.IPSet) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range set.Prefixes() {
		if p.Addr().Is4() || b.v6 {
			out = append(out, p)
		}
	}
	return out
}

// endpointTags maps service endpoint services to their service tags.
var endpointTags = map[string]string{
	"microsoft.storage":              "Storage",
	"microsoft.storage.global":       "Storage",
	"microsoft.sql":                  "Sql",
	"microsoft.azurecosmosdb":        "AzureCosmosDB",
	"microsoft.keyvault":             "AzureKeyVault",
	"microsoft.servicebus":           "ServiceBus",
	"microsoft.eventhub":             "EventHub",
	"microsoft.web":                  "AppService",
	"microsoft.containerregistry":    "AzureContainerRegistry",
	"microsoft.azureactivedirectory": "AzureActiveDirectory",
	"microsoft.cognitiveservices":    "CognitiveServicesManagement",
}

// EndpointTag returns the service tag of a service endpoint's service,
// e.g. Storage for Microsoft.Storage.
func EndpointTag(service string) string {
	if t, ok := endpointTags[strings.ToLower(service)]; ok {
		return t
	}
	if len(service) > len("Microsoft.") && strings.EqualFold(service[:len("Microsoft.")], "Microsoft.") {
		return service[len("Microsoft."):]
	}
	return service
}

// serviceEndpoint adds the routes of a service endpoint: the prefixes of
// the service's tag in each of its locations (the VNet's when it names
// none), in one row.
func (b *routeBuilder) serviceEndpoint(se topology.ServiceEndpoint) {
	tags := b.r.ev.cfg.ServiceTags
	tag := EndpointTag(se.Service)
	locs := se.Locations
	if len(locs) == 0 && b.vnet != nil && b.vnet.Location != "" {
		locs = []string{b.vnet.Location}
	}
	var names []string
	for _, l := range locs {
		if l == "*" {
			names = []string{tag}
			break
		}
		names = append(names, tag+"."+strings.ReplaceAll(l, " ", ""))
	}
	if len(names) == 0 {
		names = []string{tag}
	}
	if tags.Len() == 0 {
		b.note("service endpoint %s: its routes carry the prefixes of %s; give a ServiceTags_Public file (--service-tags)", se.Service, strings.Join(names, ", "))
		return
	}
	var sb netipx.IPSetBuilder
	var found []string
	for _, name := range names {
		set, ok := tags.Lookup(name)
		if !ok {
			b.note("service endpoint %s: service tag %s is not in the service tags file", se.Service, name)
			continue
		}
		sb.AddSet(set)
		found = append(found, name)
	}
	set, _ := sb.IPSet()
	if len(found) == 0 {
		return
	}
	b.add(Route{Source: SourceDefault, Hop: HopServiceEndpoint, rank: classProtected | 2, protec: true,
		Tag: strings.Join(found, ","), Origin: "service endpoint " + se.Service + " (" + strings.Join(found, ", ") + ")"},
		b.families(set), nil)
}

// tagRank orders service tags at identical prefixes [D]: an explicit
// prefix, then a regional tag, a top-level tag, AzureCloud.<region>,
// AzureCloud.
func tagRank(tag string) uint16 {
	switch {
	case tag == "":
		return 0
	case strings.EqualFold(tag, "AzureCloud"):
		return 4
	case len(tag) > len("AzureCloud.") && strings.EqualFold(tag[:len("AzureCloud.")], "AzureCloud."):
		return 3
	case strings.Contains(tag, "."):
		return 1
	}
	return 2
}

func (b *routeBuilder) userRoute(ur *topology.Route) {
	hop, ok := ParseHopType(string(ur.NextHopType))
	if !ok || hop > HopVirtualNetworkGateway {
		b.note("route %s: next hop type %q is not one a user route can have; route skipped", ur.Name, ur.NextHopType)
		return
	}
	var prefixes []netip.Prefix
	tag := ""
	switch {
	case ur.Prefix.IsValid():
		prefixes = []netip.Prefix{ur.Prefix}
	case ur.AddressPrefix != "":
		tag = ur.AddressPrefix
		set, err := b.tagSet(tag)
		if err != nil {
			b.note("route %s: %v; route skipped", ur.Name, err)
			return
		}
		prefixes = b.families(set)
	default:
		return
	}
	var ips []netip.Addr
	switch hop {
	case HopVirtualAppliance:
		if !ur.NextHopIP.IsValid() {
			b.note("route %s: next hop VirtualAppliance without nextHopIpAddress", ur.Name)
		}
		ips = []netip.Addr{ur.NextHopIP.Unmap()}
	case HopVirtualNetworkGateway:
		ips = b.udrGatewayAddrs()
		if len(ips) == 0 {
			b.note("route %s: next hop VirtualNetworkGateway, but no VPN gateway serves the VNet; traffic is dropped", ur.Name)
		}
	}
	b.add(Route{Name: ur.Name, Source: SourceUser, Hop: hop, Tag: tag, HasBGPOverride: ur.HasBGPOverride,
		RouteTableID: b.table.ID, Origin: "route table " + b.table.Name,
		rank: classUser | tagRank(tag), protec: ur.HasBGPOverride}, prefixes, ips)
}

// udrGatewayAddrs returns the addresses of the gateway a user route of
// type VirtualNetworkGateway sends to: a VPN gateway of the VNet, or of
// the VNet whose gateway it uses, else any gateway.
func (b *routeBuilder) udrGatewayAddrs() []netip.Addr {
	srcs := b.gateways()
	for _, vpnOnly := range []bool{true, false} {
		for _, src := range srcs {
			if !vpnOnly || !strings.EqualFold(src.gw.GatewayType, "ExpressRoute") {
				if a := b.gatewayAddrs(src.gw); len(a) > 0 {
					return a
				}
			}
		}
	}
	return nil
}

// tagSet returns the prefixes of a service tag named by a user route.
func (b *routeBuilder) tagSet(name string) (*netipx.IPSet, error) {
	cfg := &b.r.ev.cfg
	switch CanonicalTag(name) {
	case "Internet":
		return cfg.Internet, nil
	case "AzureLoadBalancer":
		return hostSet, nil
	}
	if set, ok := cfg.ServiceTags.Lookup(name); ok {
		return set, nil
	}
	if cfg.ServiceTags.Len() == 0 {
		return nil, fmt.Errorf("%w %q: give its prefixes with a ServiceTags_Public JSON file (--service-tags)", ErrUnknownTag, name)
	}
	return nil, fmt.Errorf("%w %q: not in the service tags file", ErrUnknownTag, name)
}

// EffectiveRouteList is the body of Azure's effective route table
// response (EffectiveRouteListResult).
type EffectiveRouteList struct {
	Value    []EffectiveRoute `json:"value"`
	NextLink *string          `json:"nextLink"`
}

// EffectiveRoute is one row of it (EffectiveRoute).
type EffectiveRoute struct {
	Name                       *string  `json:"name"`
	Source                     string   `json:"source"`
	State                      string   `json:"state"`
	AddressPrefix              []string `json:"addressPrefix"`
	NextHopIPAddress           []string `json:"nextHopIpAddress"`
	NextHopType                string   `json:"nextHopType"`
	DisableBGPRoutePropagation bool     `json:"disableBgpRoutePropagation"`
	HasBGPOverride             bool     `json:"hasBgpOverride"`
}
