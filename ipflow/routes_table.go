package ipflow

import (
	"net/netip"

	"github.com/gaissmai/bart"

	"github.com/flowlens/flowlens/topology"
)

// Routes is the effective routes of one subnet, and the table that picks
// one of them for a destination.
//
// List holds every route, Active and Invalid, in the order Azure lists
// them: VNet address space, peerings, gateways, the Internet default, the
// reserved None prefixes, service endpoints, then user routes. States
// follow spec §3.2: at identical prefixes a user route beats the system
// routes that beat BGP (VNet, peering, service endpoint), which beat
// gateway routes (ExpressRoute before VPN), which beat the other system
// routes, and the losers are Invalid; a gateway route inside an Active
// VNet, peering or service endpoint route, or inside a user route with
// hasBgpOverride, is never chosen and is Invalid too. What is left is
// chosen by longest prefix match, the lowest next hop address among
// equal-cost rows [X].
//
// Lookup uses a multibit trie (github.com/gaissmai/bart) built from the
// Active routes; LookupLinear scans List and is the reference it must
// agree with. A Routes is read-only once built and safe for concurrent
// use; copies share the table. It costs a few hundred bytes per route
// (4,400 routes: about 1.5 MB to build, a few ms).
type Routes struct {
	Subnet *topology.Subnet
	VNet   *topology.VNet       // nil when not in the export
	Table  *topology.RouteTable // the subnet's route table; nil when none
	List   []Route
	// Notes say what the export lacked to build every route (service tags,
	// gateway addresses, a route table), and which routes were skipped.
	Notes []string

	fib *bart.Fast[int32] // Active routes: prefix -> index in List
}

// newRoutes sets the states of a subnet's routes and builds the lookup
// table. It keeps list.
func newRoutes(list []Route) *Routes {
	resolveStates(list)
	rs := &Routes{List: list, fib: new(bart.Fast[int32])}
	for i := range list {
		r := &list[i]
		if r.State != RouteActive {
			continue
		}
		if j, ok := rs.fib.Get(r.Prefix); ok && !r.HopIP.Less(list[j].HopIP) {
			continue
		}
		rs.fib.Insert(r.Prefix, int32(i))
	}
	return rs
}

// resolveStates marks the routes that lose Invalid (see Routes).
func resolveStates(list []Route) {
	best := make(map[netip.Prefix]int, len(list))
	for i := range list {
		list[i].State = RouteActive
		if j, ok := best[list[i].Prefix]; !ok || list[i].rank < list[j].rank {
			best[list[i].Prefix] = i
		}
	}
	for i := range list {
		r := &list[i]
		w := &list[best[r.Prefix]]
		// Rows of the winner's group with the same next hop type stay
		// Active: equal-cost paths.
		if r.rank != w.rank || r.group != w.group || r.Hop != w.Hop {
			r.State = RouteInvalid
		}
	}
	var protected bart.Lite
	for i := range list {
		if list[i].State == RouteActive && list[i].protec {
			protected.Insert(list[i].Prefix)
		}
	}
	if protected.Size() == 0 {
		return
	}
	for i := range list {
		r := &list[i]
		if r.State == RouteActive && r.Source == SourceGateway && protected.LookupPrefix(r.Prefix) {
			r.State = RouteInvalid
		}
	}
}

// Lookup returns the route a packet to dst takes, or nil when no route
// covers it. The route points into List. It does not allocate.
func (rs *Routes) Lookup(dst netip.Addr) *Route {
	i, ok := rs.fib.Lookup(dst.Unmap())
	if !ok {
		return nil
	}
	return &rs.List[i]
}

// LookupLinear is Lookup by a scan of every route: the obviously correct
// reference. Among Active routes holding dst it takes the longest
// prefix, then the lowest next hop address, then the first listed.
func (rs *Routes) LookupLinear(dst netip.Addr) *Route {
	dst = dst.Unmap()
	var best *Route
	for i := range rs.List {
		r := &rs.List[i]
		if r.State != RouteActive || !r.Prefix.Contains(dst) {
			continue
		}
		if best == nil || r.Prefix.Bits() > best.Prefix.Bits() ||
			r.Prefix.Bits() == best.Prefix.Bits() && r.HopIP.Less(best.HopIP) {
			best = r
		}
	}
	return best
}

// Effective returns the routes in the shape of Azure's effective route
// table response. Routes of one Azure row (the prefixes of a service
// endpoint or a service-tag route) share a row, split in two when some
// are Active and some Invalid; every next hop address has a row of its
// own. disableBgpRoutePropagation is the route table's, on every row.
func (rs *Routes) Effective() EffectiveRouteList {
	disable := rs.Table != nil && rs.Table.DisableBGPRoutePropagation
	type key struct {
		row   int32
		state RouteState
	}
	at := map[key]int{}
	out := EffectiveRouteList{Value: []EffectiveRoute{}}
	for i := range rs.List {
		r := &rs.List[i]
		k := key{r.row, r.State}
		j, ok := at[k]
		if !ok {
			e := EffectiveRoute{
				Source: r.Source.String(), State: r.State.String(), NextHopType: r.Hop.String(),
				AddressPrefix: []string{}, NextHopIPAddress: []string{},
				DisableBGPRoutePropagation: disable, HasBGPOverride: r.HasBGPOverride,
			}
			if r.Name != "" {
				name := r.Name
				e.Name = &name
			}
			if r.HopIP.IsValid() {
				e.NextHopIPAddress = append(e.NextHopIPAddress, r.HopIP.String())
			}
			j = len(out.Value)
			at[k] = j
			out.Value = append(out.Value, e)
		}
		out.Value[j].AddressPrefix = append(out.Value[j].AddressPrefix, r.Prefix.String())
	}
	return out
}
