package ipflow

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/flowlens/flowlens/topology"
)

// benchRouteNetwork is a hub VNet (10.0.0.0/16, two peerings) whose
// subnet app has a route table of nUser user routes (plus 0/0 to an
// appliance) and a NIC nic at 10.0.1.4, and whose VPN gateway learned
// nBGP routes over BGP; prefixes are random, /8 to /30. It returns a
// router over it and the subnet's routes.
func benchRouteNetwork(tb testing.TB, nUser, nBGP int) (*Router, *Routes) {
	tb.Helper()
	r := rand.New(rand.NewPCG(5, 5))
	const rg = "/subscriptions/00000000-0000-0000-0000-00000000000b/resourceGroups/rg-bench/providers/Microsoft.Network/"
	seen := map[netip.Prefix]bool{}
	prefix := func(minBits int) string {
		for {
			bits := minBits + r.IntN(31-minBits)
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], r.Uint32())
			if p := netip.PrefixFrom(netip.AddrFrom4(b), bits).Masked(); !seen[p] {
				seen[p] = true
				return p.String()
			}
		}
	}
	types := []string{"VirtualAppliance", "VirtualAppliance", "VirtualNetworkGateway", "Internet", "None", "VnetLocal"}
	var routes []any
	for i := range nUser {
		t := types[r.IntN(len(types))]
		props := map[string]any{"addressPrefix": prefix(8), "nextHopType": t}
		if t == "VirtualAppliance" {
			props["nextHopIpAddress"] = fmt.Sprintf("10.0.0.%d", 4+r.IntN(8))
		}
		routes = append(routes, map[string]any{"name": fmt.Sprintf("udr%d", i), "properties": props})
	}
	routes = append(routes, map[string]any{"name": "default", "properties": map[string]any{
		"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}})
	var learned []any
	for range nBGP {
		learned = append(learned, map[string]any{"network": prefix(8), "nextHop": "192.168.255.1", "origin": "EBgp", "asPath": "65010"})
	}
	peering := func(name, remote, space string) any {
		return map[string]any{"name": name, "properties": map[string]any{
			"remoteVirtualNetwork": map[string]any{"id": rg + "virtualNetworks/" + remote},
			"remoteAddressSpace":   map[string]any{"addressPrefixes": []string{space}}, "peeringState": "Connected"}}
	}
	doc := map[string]any{"value": []any{
		map[string]any{"id": rg + "virtualNetworks/hub", "location": "westeurope", "properties": map[string]any{
			"addressSpace": map[string]any{"addressPrefixes": []string{"10.0.0.0/16"}},
			"subnets": []any{
				map[string]any{"name": "GatewaySubnet", "properties": map[string]any{"addressPrefix": "10.0.255.0/27"}},
				map[string]any{"name": "app", "properties": map[string]any{"addressPrefix": "10.0.1.0/24",
					"routeTable": map[string]any{"id": rg + "routeTables/rt"}}},
			},
			"virtualNetworkPeerings": []any{peering("to-a", "spoke-a", "10.1.0.0/16"), peering("to-b", "spoke-b", "10.2.0.0/16")},
		}},
		map[string]any{"id": rg + "routeTables/rt", "properties": map[string]any{"routes": routes}},
		map[string]any{"id": rg + "virtualNetworkGateways/gw", "properties": map[string]any{
			"gatewayType": "Vpn", "bgpSettings": map[string]any{"asn": 65515, "bgpPeeringAddress": "10.0.255.30"},
			"ipConfigurations": []any{map[string]any{"name": "default", "properties": map[string]any{
				"subnet": map[string]any{"id": rg + "virtualNetworks/hub/subnets/GatewaySubnet"}}}},
			"learnedRoutes": learned,
		}},
		map[string]any{"id": rg + "networkInterfaces/nic", "properties": map[string]any{"ipConfigurations": []any{
			map[string]any{"name": "c", "properties": map[string]any{"privateIPAddress": "10.0.1.4",
				"subnet": map[string]any{"id": rg + "virtualNetworks/hub/subnets/app"}}}}}},
	}}
	data, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	n := topology.New()
	if _, err := n.Add("bench.json", data); err != nil {
		tb.Fatal(err)
	}
	n.Resolve()
	s, err := n.Subnet("hub/app")
	if err != nil {
		tb.Fatal(err)
	}
	rt := NewRouter(NewEvaluator(n, Config{}), RouteConfig{})
	rs := rt.RoutesOf(s)
	users, bgp := 0, 0
	for _, r := range rs.List {
		switch r.Source {
		case SourceUser:
			users++
		case SourceGateway:
			bgp++
		}
	}
	if users != nUser+1 || bgp != nBGP {
		tb.Fatalf("%d user routes, %d BGP routes; want %d and %d", users, bgp, nUser+1, nBGP)
	}
	return rt, rs
}

// benchDestinations returns n IPv4 destinations: half uniform over the
// address space, half inside a random route's prefix.
func benchDestinations(rs *Routes, n int) []uint32 {
	r := rand.New(rand.NewPCG(9, 9))
	out := make([]uint32, n)
	for i := range out {
		x := r.Uint32()
		if i%2 == 1 {
			p := rs.List[r.IntN(len(rs.List))].Prefix
			if p.Addr().Is4() {
				base := binary.BigEndian.Uint32(p.Addr().AsSlice())
				x = base | x>>uint(p.Bits())
				if p.Bits() == 0 {
					x = r.Uint32()
				}
			}
		}
		out[i] = x
	}
	return out
}

func benchAddr4(x uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}

// BenchmarkRouteLookup is next hop selection in a subnet with 400 user
// routes, 4,000 BGP routes and the system routes, over 10 million random
// destinations (cycled): the trie against the linear reference.
//
//	go test ./ipflow -run '^$' -bench 'RouteLookup' -benchtime 10000000x -count 6
func BenchmarkRouteLookup(b *testing.B) {
	_, rs := benchRouteNetwork(b, 400, 4000)
	dsts := benchDestinations(rs, 10_000_000)
	b.Run("bart", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			rs.Lookup(benchAddr4(dsts[i]))
			if i++; i == len(dsts) {
				i = 0
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	})
	b.Run("linear", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			rs.LookupLinear(benchAddr4(dsts[i]))
			if i++; i == len(dsts) {
				i = 0
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	})
}

// BenchmarkNextHop is a whole next hop request over the same subnet:
// parsing the addresses, finding the NIC and its routes, the lookup.
//
//	go test ./ipflow -run '^$' -bench 'NextHop$' -count 6
func BenchmarkNextHop(b *testing.B) {
	rt, _ := benchRouteNetwork(b, 400, 4000)
	req := NextHopRequest{TargetResourceID: "nic", SourceIPAddress: "10.0.1.4", DestinationIPAddress: "172.20.1.9"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.NextHop(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoutesBuild builds the effective routes of the 4,400-route
// subnet: states and the trie.
func BenchmarkRoutesBuild(b *testing.B) {
	_, rs := benchRouteNetwork(b, 400, 4000)
	list := append([]Route(nil), rs.List...)
	b.ReportAllocs()
	for b.Loop() {
		newRoutes(append([]Route(nil), list...))
	}
}
