package ipflow_test

import (
	"fmt"
	"net/netip"

	"github.com/flowlens/flowlens/ipflow"
	"github.com/flowlens/flowlens/topology"
)

// A VNet peered with another whose appliance (10.1.0.4) gets all
// Internet traffic of subnet app: where do packets go?
func ExampleRouter_NextHop() {
	n, _, err := topology.Load("../testdata/routes/spec7-forced-tunnel/network")
	if err != nil {
		panic(err)
	}
	rt := ipflow.NewRouter(ipflow.NewEvaluator(n, ipflow.Config{}), ipflow.RouteConfig{})
	for _, dst := range []string{"8.8.8.8", "10.1.0.9"} {
		a, err := rt.NextHop(ipflow.NextHopRequest{TargetResourceID: "app", SourceIPAddress: "10.0.1.4", DestinationIPAddress: dst})
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Sentence())
	}
	// Output:
	// 10.0.1.4 to 8.8.8.8: next hop VirtualAppliance 10.1.0.4, by user route default-to-nva (0.0.0.0/0) of route table to-nva
	// 10.0.1.4 to 10.1.0.9: next hop VnetPeering, by system route 10.1.0.0/16 (peering to-vnet2 to VNet vnet2)
}

// The effective routes of a NIC, as Azure lists them.
func ExampleRoutes_Effective() {
	n, _, err := topology.Load("../testdata/routes/spec7-forced-tunnel/network")
	if err != nil {
		panic(err)
	}
	rt := ipflow.NewRouter(ipflow.NewEvaluator(n, ipflow.Config{}), ipflow.RouteConfig{})
	rs, err := rt.EffectiveRoutes("app-nic")
	if err != nil {
		panic(err)
	}
	for _, e := range rs.Effective().Value {
		fmt.Println(e.Source, e.State, e.AddressPrefix, e.NextHopType, e.NextHopIPAddress)
	}
	// Output:
	// Default Active [10.0.0.0/16] VnetLocal []
	// Default Active [10.1.0.0/16] VNetPeering []
	// Default Invalid [0.0.0.0/0] Internet []
	// User Active [0.0.0.0/0] VirtualAppliance [10.1.0.4]
}

// Lookup is the allocation-free path for many destinations.
func ExampleRoutes_Lookup() {
	n, _, err := topology.Load("../testdata/routes/spec7-default-routes/network")
	if err != nil {
		panic(err)
	}
	rt := ipflow.NewRouter(ipflow.NewEvaluator(n, ipflow.Config{}), ipflow.RouteConfig{Reserved: ipflow.Observed2021Reserved})
	rs, err := rt.EffectiveRoutes("vm1-nic")
	if err != nil {
		panic(err)
	}
	for _, dst := range []string{"10.0.3.4", "172.31.0.100", "25.33.80.1"} {
		r := rs.Lookup(netip.MustParseAddr(dst))
		fmt.Println(dst, r.Prefix, r.Hop.NextHopType())
	}
	// Output:
	// 10.0.3.4 10.0.0.0/16 VnetLocal
	// 172.31.0.100 0.0.0.0/0 Internet
	// 25.33.80.1 25.33.80.0/20 None
}
