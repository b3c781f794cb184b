package ipflow

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// routeGen makes random candidate route sets the way routeBuilder does
// (sources, next hop types, precedence ranks, groups), with prefixes drawn
// from a few nested bases so that identical and nested prefixes, ECMP rows
// and protected routes over BGP routes are common.
type routeGen struct{ r *rand.Rand }

var routeGenBases = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("20.60.0.0/14"),
}

var routeGenBase6 = netip.MustParsePrefix("fd00::/16")

// prefix returns a prefix inside a base, of a length near the base's.
func (g routeGen) prefix() netip.Prefix {
	base := routeGenBases[g.r.IntN(len(routeGenBases))]
	if g.r.IntN(12) == 0 {
		base = routeGenBase6
	}
	max := base.Addr().BitLen()
	bits := base.Bits() + g.r.IntN(min(max-base.Bits(), 12)+1)
	if g.r.IntN(8) == 0 {
		bits = max
	}
	return netip.PrefixFrom(g.addrIn(base), bits).Masked()
}

// addrIn returns a random address inside p: its first or last address,
// or one at random.
func (g routeGen) addrIn(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		var bit bool
		switch g.r.IntN(8) {
		case 0:
			bit = false
		case 1:
			bit = true
		default:
			bit = g.r.IntN(2) == 0
		}
		if bit {
			b[i/8] |= 0x80 >> (i % 8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

var routeGenIPs = []netip.Addr{{}, netip.MustParseAddr("10.0.0.4"), netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("20.1.2.3"), netip.MustParseAddr("10.50.255.12")}

// routes returns n candidate routes in builder order (source by source is
// not needed: states do not depend on order but for ties).
func (g routeGen) routes(n int) []Route {
	out := make([]Route, 0, n)
	for group := int32(1); len(out) < n; group++ {
		r := Route{State: RouteActive}
		k := 1 + g.r.IntN(3) // prefixes in this group
		switch g.r.IntN(5) {
		case 0, 1: // user route
			r.Source = SourceUser
			r.Hop = []HopType{HopVirtualAppliance, HopVirtualNetworkGateway, HopVnetLocal, HopInternet, HopNone}[g.r.IntN(5)]
			r.rank = classUser | uint16(g.r.IntN(5))
			r.HasBGPOverride = g.r.IntN(6) == 0
			r.protec = r.HasBGPOverride
			r.Name = "udr"
		case 2: // system routes that beat BGP
			r.Source = SourceDefault
			kind := g.r.IntN(4)
			r.Hop = []HopType{HopVnetLocal, HopVNetPeering, HopVNetGlobalPeering, HopServiceEndpoint}[kind]
			r.rank = classProtected | uint16(min(kind, 2))
			r.protec = true
		case 3: // gateway
			r.Source = SourceGateway
			r.Hop = HopVirtualNetworkGateway
			r.rank = classGateway | uint16(g.r.IntN(2))
			group = int32(100 + g.r.IntN(3)) // few gateways: ECMP
		default: // other system routes
			r.Source = SourceDefault
			r.Hop = []HopType{HopInternet, HopNone}[g.r.IntN(2)]
			r.rank = classDefault | uint16(r.Hop-HopInternet)
		}
		r.group = group
		prefixes := make([]netip.Prefix, k)
		for i := range prefixes {
			prefixes[i] = g.prefix()
		}
		ips := 1
		if r.Hop == HopVirtualNetworkGateway || r.Hop == HopVirtualAppliance {
			ips += g.r.IntN(2)
		}
		for range ips {
			ip := routeGenIPs[g.r.IntN(len(routeGenIPs))]
			for _, p := range prefixes {
				rt := r
				rt.Prefix, rt.HopIP = p, ip
				out = append(out, rt)
			}
		}
	}
	return out
}

// dest returns a destination inside one of the routes, or anywhere.
func (g routeGen) dest(routes []Route) netip.Addr {
	if len(routes) == 0 || g.r.IntN(5) == 0 {
		if g.r.IntN(10) == 0 {
			return g.addrIn(routeGenBase6)
		}
		return g.addrIn(netip.MustParsePrefix("0.0.0.0/0"))
	}
	return g.addrIn(routes[g.r.IntN(len(routes))].Prefix)
}

// referenceNextHop applies spec §3.2 to the candidate routes for one
// destination, literally: the routes holding dst; at each prefix the best
// precedence (equal-cost rows of the winner kept); a system route of the
// kinds that beat BGP (or a user route with hasBgpOverride) holding dst
// removes the BGP routes at least as specific; then the longest prefix,
// the lowest next hop address, the first listed. It returns an index into
// cands, or -1.
func referenceNextHop(cands []Route, dst netip.Addr) int {
	var hold []int
	for i, r := range cands {
		if r.Prefix.Contains(dst) {
			hold = append(hold, i)
		}
	}
	// Step 2: at identical prefixes the best precedence.
	var survivors []int
	for _, i := range hold {
		best := -1
		for _, j := range hold {
			if cands[j].Prefix == cands[i].Prefix && (best < 0 || cands[j].rank < cands[best].rank) {
				best = j
			}
		}
		w, r := cands[best], cands[i]
		if r.rank == w.rank && r.group == w.group && r.Hop == w.Hop {
			survivors = append(survivors, i)
		}
	}
	// Step 4's exception.
	shortestProtected := 129
	for _, i := range survivors {
		if cands[i].protec {
			shortestProtected = min(shortestProtected, cands[i].Prefix.Bits())
		}
	}
	pick := -1
	for _, i := range survivors {
		r := cands[i]
		if r.Source == SourceGateway && r.Prefix.Bits() >= shortestProtected {
			continue
		}
		if pick < 0 || r.Prefix.Bits() > cands[pick].Prefix.Bits() ||
			r.Prefix.Bits() == cands[pick].Prefix.Bits() && r.HopIP.Less(cands[pick].HopIP) {
			pick = i
		}
	}
	return pick
}

// checkRouteSet builds Routes from cands and demands that the trie, the
// linear scan and the literal reference choose the same route for every
// destination.
func checkRouteSet(t *testing.T, g routeGen, cands []Route, dests int) {
	t.Helper()
	orig := append([]Route(nil), cands...)
	rs := newRoutes(cands)
	index := func(r *Route) int {
		if r == nil {
			return -1
		}
		for i := range rs.List {
			if &rs.List[i] == r {
				return i
			}
		}
		t.Fatalf("route %+v not in the list", r)
		return -2
	}
	for range dests {
		dst := g.dest(orig)
		fast, lin, ref := index(rs.Lookup(dst)), index(rs.LookupLinear(dst)), referenceNextHop(orig, dst)
		if fast != lin || lin != ref {
			t.Fatalf("%d routes, destination %s: trie %d, linear %d, reference %d\n%s", len(orig), dst, fast, lin, ref, describeRoutes(rs.List, fast, lin, ref))
		}
	}
}

func describeRoutes(list []Route, picks ...int) string {
	s := ""
	for i, r := range list {
		mark := " "
		for _, p := range picks {
			if p == i {
				mark = "*"
			}
		}
		s += mark + " " + r.Prefix.String() + " " + r.Source.String() + " " + r.State.String() + " " + r.Hop.String() + " " + r.HopIP.String() + "\n"
	}
	return s
}

// TestRouteLookupAgrees compares the trie, the linear scan and the
// literal reference on random route sets and destinations.
func TestRouteLookupAgrees(t *testing.T) {
	for seed := range uint64(300) {
		g := routeGen{rand.New(rand.NewPCG(seed, 7))}
		checkRouteSet(t, g, g.routes(1+g.r.IntN(60)), 300)
	}
}

// FuzzRouteLookup builds a route set and destinations from the input and
// demands the trie, the linear scan and the literal reference agree.
//
//	go test ./ipflow -run '^$' -fuzz FuzzRouteLookup -fuzztime 30s
func FuzzRouteLookup(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x03\x00\x00\x00\x00\x00\x00\x00 three groups"))
	seed := make([]byte, 2048)
	for i := range seed {
		seed[i] = byte(i * 13)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		g := routeGen{rand.New(&byteSource{b: data})}
		checkRouteSet(t, g, g.routes(g.r.IntN(120)), 200)
	})
}
