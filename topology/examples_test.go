package topology

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// loadOne loads one file of testdata/topology/azure-examples on its own.
func loadOne(t *testing.T, name string) (*Network, []Problem) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, "azure-examples", name))
	if err != nil {
		t.Fatal(err)
	}
	n := New()
	probs, err := n.Add(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return n, append(probs, n.Resolve()...)
}

// kinds counts problems by kind.
func problemKinds(probs []Problem) map[ProblemKind]int {
	m := map[ProblemKind]int{}
	for _, p := range probs {
		m[p.Kind]++
	}
	return m
}

func ruleNames(rules []*SecurityRule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Name)
	}
	return out
}

const sub0 = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.Network"

// TestAzureExamples loads each example of the spec on its own and checks
// what it holds.
func TestAzureExamples(t *testing.T) {
	tests := []struct {
		file  string
		probs map[ProblemKind]int
		check func(t *testing.T, n *Network)
	}{
		{"ApplicationSecurityGroupGet.json", nil, func(t *testing.T, n *Network) {
			a := Sorted(n.ASGs)
			if len(a) != 1 || a[0].Name != "test-asg" || a[0].ResourceGroup != "rg1" || a[0].Location != "westus" ||
				a[0].ID != sub0+"/applicationSecurityGroups/test-asg" {
				t.Errorf("ASGs = %+v", a)
			}
		}},
		// Network Watcher results hold no resource.
		{"NetworkInterfaceEffectiveNSGList.json", map[ProblemKind]int{ProblemSkipped: 1}, empty},
		{"NetworkInterfaceEffectiveRouteTableList.json", map[ProblemKind]int{ProblemSkipped: 1}, empty},
		{"NetworkWatcherIpFlowVerify.json", map[ProblemKind]int{ProblemSkipped: 1}, empty},
		{"NetworkWatcherNextHopGet.json", map[ProblemKind]int{ProblemSkipped: 1}, empty},
		{"NetworkWatcherSecurityGroupViewGet.json", map[ProblemKind]int{ProblemSkipped: 1}, empty},
		{"NetworkWatcherTopologyGet.json", map[ProblemKind]int{ProblemSkipped: 1}, empty},
		// The NIC names an NSG, a VM, a public IP and a subnet the file
		// lacks: five dangling references (the subnet twice).
		{"NetworkInterfaceGet.json", map[ProblemKind]int{ProblemDangling: 5}, func(t *testing.T, n *Network) {
			nic, err := n.NIC("test-nic")
			if err != nil {
				t.Fatal(err)
			}
			if nic.ID != sub0+"/networkInterfaces/test-nic" || nic.Location != "eastus" || !nic.Primary || nic.EnableIPForwarding ||
				nic.MACAddress != "00-0D-3A-1B-C7-21" || nic.NSGID != sub0+"/networkSecurityGroups/nsg" ||
				nic.VMID != "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1" {
				t.Errorf("nic = %+v", nic)
			}
			if len(nic.IPConfigs) != 2 {
				t.Fatalf("ipconfigs = %v", nic.IPConfigs)
			}
			c1, c2 := nic.IPConfigs[0], nic.IPConfigs[1]
			if c1.Name != "ipconfig1" || c1.PrivateIP != netip.MustParseAddr("172.20.2.4") || !c1.PrivatePrefix.IsSingleIP() ||
				!c1.Primary || c1.PublicIPID != sub0+"/publicIPAddresses/test-ip" || c1.PrivateIPVersion != "IPv4" ||
				c1.SubnetID != sub0+"/virtualNetworks/rg1-vnet/subnets/default" {
				t.Errorf("ipconfig1 = %+v", c1)
			}
			// privateIPAddress as a prefix: the whole block is the NIC's.
			if c2.PrivatePrefix != netip.MustParsePrefix("172.20.2.16/28") || c2.Primary || c2.PublicIPID != "" {
				t.Errorf("ipconfig2 = %+v", c2)
			}
			if _, c, err := n.NICByIP(netip.MustParseAddr("172.20.2.20")); err != nil || c != c2 {
				t.Errorf("NICByIP(172.20.2.20) = %v, %v", c, err)
			}
			if _, c, err := n.NICByIP(netip.MustParseAddr("172.20.2.4")); err != nil || c != c1 {
				t.Errorf("NICByIP(172.20.2.4) = %v, %v", c, err)
			}
			if n.SubnetOf(c1) != nil || n.NSGOf(nic) != nil {
				t.Errorf("dangling references resolved to something")
			}
		}},
		{"NetworkSecurityGroupGet.json", nil, func(t *testing.T, n *Network) {
			g, err := n.NSG(sub0 + "/networkSecurityGroups/testnsg")
			if err != nil {
				t.Fatal(err)
			}
			if g.Location != "westus" || len(g.SecurityRules) != 1 || len(g.DefaultSecurityRules) != 6 {
				t.Fatalf("nsg = %+v", g)
			}
			r := g.SecurityRules[0]
			if r.Name != "rule1" || r.Priority != 130 || r.Direction != Inbound || r.Access != Allow || r.Protocol != ProtocolAny ||
				!slices.Equal(r.DestinationPortRanges, []string{"80"}) || !slices.Equal(r.SourcePortRanges, []string{"*"}) ||
				!slices.Equal(r.SourceAddressPrefixes, []string{"*"}) || r.ID != sub0+"/networkSecurityGroups/testnsg/securityRules/rule1" ||
				r.Default || r.NSGID != g.ID {
				t.Errorf("rule1 = %+v", r)
			}
			if got := ruleNames(g.DefaultSecurityRules); !slices.Equal(got, DefaultRuleNames[:]) {
				t.Errorf("default rules = %v", got)
			}
			for _, d := range g.DefaultSecurityRules {
				if d.Synthesized || !d.Default || d.ID != g.ID+"/defaultSecurityRules/"+d.Name {
					t.Errorf("default rule %+v", d)
				}
			}
			if d := g.DefaultSecurityRules[4]; d.Priority != 65001 || d.Direction != Outbound ||
				!slices.Equal(d.DestinationAddressPrefixes, []string{"Internet"}) || d.Description != "Allow outbound traffic from all VMs to Internet" {
				t.Errorf("AllowInternetOutBound = %+v", d)
			}
		}},
		// The request body (no id: the path parameters give it) and the
		// response body are the same rule; the NSG itself is implicit and
		// gets the six default rules.
		{"NetworkSecurityGroupRuleCreate.json", nil, func(t *testing.T, n *Network) {
			g, _ := n.NSG("testnsg")
			if g == nil || !g.Implicit || len(g.SecurityRules) != 1 || len(g.DefaultSecurityRules) != 6 || !g.DefaultSecurityRules[0].Synthesized {
				t.Fatalf("nsg = %+v", g)
			}
			r := g.SecurityRules[0]
			if r.Priority != 100 || r.Direction != Outbound || r.Access != Deny || !slices.Equal(r.SourceAddressPrefixes, []string{"10.0.0.0/8"}) ||
				!slices.Equal(r.DestinationAddressPrefixes, []string{"11.0.0.0/8"}) || !slices.Equal(r.DestinationPortRanges, []string{"8080"}) {
				t.Errorf("rule1 = %+v", r)
			}
			if len(n.SecurityRules) != 7 {
				t.Errorf("%d rules", len(n.SecurityRules))
			}
		}},
		{"RouteTableGet.json", nil, func(t *testing.T, n *Network) {
			rt := Sorted(n.RouteTables)
			if len(rt) != 1 || rt[0].Name != "testrt" || rt[0].DisableBGPRoutePropagation || len(rt[0].Routes) != 1 {
				t.Fatalf("route tables = %+v", rt)
			}
			r := rt[0].Routes[0]
			if r.Name != "route1" || r.AddressPrefix != "10.0.3.0/24" || r.Prefix != netip.MustParsePrefix("10.0.3.0/24") ||
				r.NextHopType != NextHopVirtualNetworkGateway || r.NextHopIP.IsValid() || r.ID != sub0+"/routeTables/testrt/routes/route1" {
				t.Errorf("route1 = %+v", r)
			}
		}},
		// A subnet on its own: its VNet is implicit.
		{"SubnetGet.json", nil, func(t *testing.T, n *Network) {
			s, err := n.Subnet("vnetname/subnet1")
			if err != nil {
				t.Fatal(err)
			}
			if s.ResourceGroup != "subnet-test" || !slices.Equal(s.Prefixes, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}) {
				t.Errorf("subnet = %+v", s)
			}
			if v := n.VNetOf(s); v == nil || !v.Implicit || v.Name != "vnetname" || len(v.Subnets) != 1 {
				t.Errorf("vnet = %+v", v)
			}
		}},
		// The subnet's ipConfigurations back-reference names a load
		// balancer frontend: kept, not a problem.
		{"VirtualNetworkGet.json", nil, func(t *testing.T, n *Network) {
			v, err := n.VNet("test-vnet")
			if err != nil {
				t.Fatal(err)
			}
			if v.Implicit || !slices.Equal(v.AddressSpace, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}) || len(v.Subnets) != 1 || len(v.Peerings) != 0 {
				t.Fatalf("vnet = %+v", v)
			}
			s := v.Subnets[0]
			if s.Name != "subnet1" || s.Prefixes[0] != netip.MustParsePrefix("10.0.1.0/24") || s.Location != "westus" ||
				len(s.IPConfigIDs) != 1 || !strings.HasSuffix(s.IPConfigIDs[0], "/loadBalancers/lb/frontendIPConfigurations/fe") {
				t.Errorf("subnet = %+v", s)
			}
		}},
		// The remote VNet is not exported, but the peering carries its
		// address space: not a problem.
		{"VirtualNetworkPeeringGet.json", nil, func(t *testing.T, n *Network) {
			p := Sorted(n.Peerings)
			if len(p) != 1 {
				t.Fatalf("peerings = %v", p)
			}
			if x := p[0]; x.Name != "peer" || !x.AllowForwardedTraffic || x.AllowGatewayTransit || !x.AllowVirtualNetworkAccess ||
				x.UseRemoteGateways || x.PeeringState != "Initiated" || x.PeeringSyncLevel != "FullyInSync" ||
				!slices.Equal(x.RemoteAddressSpace, []netip.Prefix{netip.MustParsePrefix("12.0.0.0/8")}) ||
				!strings.HasSuffix(x.RemoteVNetID, "/virtualNetworks/vnet2") || !strings.HasSuffix(x.VNetID, "/virtualNetworks/vnet1") ||
				n.PeeringRemote(x) != nil {
				t.Errorf("peering = %+v", x)
			}
		}},
		// Real az network nsg show output.
		{"create-cli-complete.md.az-network-nsg-show.json", nil, func(t *testing.T, n *Network) {
			g, err := n.NSG("myNetworkSecurityGroup")
			if err != nil {
				t.Fatal(err)
			}
			if g.Location != "eastus" || g.ResourceGroup != "myResourceGroup" || len(g.SubnetIDs)+len(g.NICIDs) != 0 {
				t.Errorf("nsg = %+v", g)
			}
			if got := ruleNames(g.SecurityRules); !slices.Equal(got, []string{"myNetworkSecurityGroupRuleSSH", "myNetworkSecurityGroupRuleWeb"}) {
				t.Errorf("rules = %v", got)
			}
			ssh, web := g.SecurityRules[0], g.SecurityRules[1]
			if ssh.Priority != 1000 || ssh.Protocol != ProtocolTCP || !slices.Equal(ssh.DestinationPortRanges, []string{"22"}) || ssh.Description != "" ||
				web.Priority != 1001 || !slices.Equal(web.DestinationPortRanges, []string{"80"}) {
				t.Errorf("rules = %+v %+v", ssh, web)
			}
			// All six default rules are exported, one with an id the docs
			// truncated: the name comes from "name", nothing is synthesised.
			if got := ruleNames(g.DefaultSecurityRules); !slices.Equal(got, DefaultRuleNames[:]) {
				t.Errorf("default rules = %v", got)
			}
			for _, d := range g.DefaultSecurityRules {
				if d.Synthesized {
					t.Errorf("%s synthesised", d.Name)
				}
			}
			if id := g.DefaultSecurityRules[1].ID; !strings.HasSuffix(id, "/defaultSecurityRules/AllowAzureLoadBalancerInBou") {
				t.Errorf("id = %s", id)
			}
		}},
		{"create-cli-complete.md.az-network-vnet-create.json", nil, func(t *testing.T, n *Network) {
			v, err := n.VNet("myVnet")
			if err != nil {
				t.Fatal(err)
			}
			if v.AddressSpace[0] != netip.MustParsePrefix("192.168.0.0/16") || len(v.Subnets) != 1 {
				t.Fatalf("vnet = %+v", v)
			}
			if s := v.Subnets[0]; s.Name != "mySubnet" || s.Prefixes[0] != netip.MustParsePrefix("192.168.1.0/24") ||
				s.NSGID != "" || s.RouteTableID != "" || s.ResourceGroup != "myResourceGroup" {
				t.Errorf("subnet = %+v", s)
			}
		}},
	}
	entries, err := os.ReadDir(filepath.Join(testdataDir, "azure-examples"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			n, probs := loadOne(t, tc.file)
			if got := problemKinds(probs); !mapsEqual(got, tc.probs) {
				t.Errorf("problems %v, want %v:", got, tc.probs)
				for _, p := range probs {
					t.Log(p)
				}
			}
			for _, p := range probs {
				if p.File != tc.file || !strings.HasPrefix(p.Path, "$") {
					t.Errorf("problem without place: %+v", p)
				}
			}
			tc.check(t, n)
		})
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") && !covered[e.Name()] {
			t.Errorf("%s has no test", e.Name())
		}
	}
}

func empty(t *testing.T, n *Network) {
	t.Helper()
	if len(n.frags) != 0 {
		t.Errorf("found %d resources in a file that holds none", len(n.frags))
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestAzureExamplesTogether loads the whole directory at once: the two
// definitions of rule1 in testnsg (from the NSG GET and the rule create
// example) disagree, the later file wins and the conflict is reported.
func TestAzureExamplesTogether(t *testing.T) {
	n, probs, err := Load(filepath.Join(testdataDir, "azure-examples"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[ProblemKind]int{ProblemSkipped: 6, ProblemDangling: 5, ProblemConflict: 1}
	if got := problemKinds(probs); !mapsEqual(got, want) {
		t.Errorf("problems %v, want %v", got, want)
		for _, p := range probs {
			t.Log(p)
		}
	}
	for _, p := range probs {
		if p.Kind == ProblemConflict && (!strings.HasSuffix(p.File, "NetworkSecurityGroupRuleCreate.json") ||
			!strings.Contains(p.Message, "access, destinationAddressPrefix, destinationPortRange, direction, priority, sourceAddressPrefix")) {
			t.Errorf("conflict = %v", p)
		}
	}
	g, _ := n.NSG("testnsg")
	if g == nil || g.Implicit || len(g.SecurityRules) != 1 || g.SecurityRules[0].Priority != 100 || len(g.DefaultSecurityRules) != 6 {
		t.Errorf("testnsg = %+v", g)
	}
	if got := []int{len(n.VNets), len(n.Subnets), len(n.Peerings), len(n.NICs), len(n.IPConfigs), len(n.NSGs), len(n.SecurityRules),
		len(n.RouteTables), len(n.Routes), len(n.ASGs)}; !slices.Equal(got, []int{4, 3, 1, 1, 2, 2, 15, 1, 1, 1}) {
		t.Errorf("counts = %v", got)
	}
}
