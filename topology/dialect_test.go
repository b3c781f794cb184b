package topology

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// load adds inline files and resolves them.
func load(t *testing.T, files ...string) (*Network, []Problem) {
	t.Helper()
	n := New()
	var probs []Problem
	for i, f := range files {
		p, err := n.Add("f"+string(rune('0'+i))+".json", []byte(f))
		if err != nil {
			t.Fatal(err)
		}
		probs = append(probs, p...)
	}
	return n, append(probs, n.Resolve()...)
}

func noProblems(t *testing.T, probs []Problem) {
	t.Helper()
	for _, p := range probs {
		t.Errorf("problem: %v", p)
	}
}

const rg = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"

// Resource Graph rows (az graph query), several JSON values in one file,
// lower-case types.
func TestResourceGraphAndConcatenated(t *testing.T) {
	n, probs := load(t, `{"count": 1, "data": [
	  {"id": "`+rg+`/applicationSecurityGroups/a1", "name": "a1", "type": "microsoft.network/applicationsecuritygroups",
	   "location": "westus", "resourceGroup": "rg", "subscriptionId": "s", "properties": {}}],
	 "skip_token": null, "total_records": 1}
	{"id": "`+rg+`/applicationSecurityGroups/a2"}
	[{"id": "`+rg+`/applicationSecurityGroups/a3"}]`)
	noProblems(t, probs)
	if len(n.ASGs) != 3 {
		t.Errorf("ASGs = %v", n.ASGs)
	}
	if a, _ := find(n.ASGs, kASG, "a1", func(a *ASG) string { return a.Name }); a == nil || a.Type != "Microsoft.Network/applicationSecurityGroups" {
		t.Errorf("a1 = %+v", a)
	}
}

// Gateways, local gateways, connections and public IPs in REST form.
func TestGateways(t *testing.T) {
	n, probs := load(t, `{"value": [
	{"id": "`+rg+`/virtualNetworks/hub", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
	  "subnets": [{"name": "GatewaySubnet", "properties": {"addressPrefix": "10.0.255.0/27"}}]}},
	{"id": "`+rg+`/virtualNetworkGateways/gw", "name": "gw", "type": "Microsoft.Network/virtualNetworkGateways", "location": "westus",
	 "properties": {"gatewayType": "VPN", "vpnType": "routebased", "activeActive": true, "enableBgp": true, "sku": {"name": "VpnGw1"},
	  "bgpSettings": {"asn": 65515, "bgpPeeringAddress": "10.0.255.4,10.0.255.5", "peerWeight": 0,
	   "bgpPeeringAddresses": [{"ipconfigurationId": "`+rg+`/virtualNetworkGateways/gw/ipConfigurations/default",
	     "defaultBgpIpAddresses": ["10.0.255.4"], "customBgpIpAddresses": [], "tunnelIpAddresses": ["20.1.2.3"]}]},
	  "ipConfigurations": [{"name": "default", "id": "`+rg+`/virtualNetworkGateways/gw/ipConfigurations/default",
	    "properties": {"subnet": {"id": "`+rg+`/virtualNetworks/hub/subnets/GatewaySubnet"},
	     "publicIPAddress": {"id": "`+rg+`/publicIPAddresses/gw-pip"}, "privateIPAddress": "10.0.255.4"}}],
	  "learnedRoutes": {"value": [{"localAddress": "10.0.255.4", "network": "192.168.0.0/16", "nextHop": "10.0.255.30",
	    "sourcePeer": "10.0.255.30", "origin": "EBgp", "asPath": "65010", "weight": 32768},
	   {"localAddress": "10.0.255.4", "network": "10.0.0.0/16", "nextHop": null, "sourcePeer": "10.0.255.4", "origin": "Network", "asPath": "", "weight": 32768}]}}},
	{"id": "`+rg+`/localNetworkGateways/onprem", "properties": {"localNetworkAddressSpace": {"addressPrefixes": ["192.168.0.0/16", "172.16.0.0/12"]},
	  "gatewayIpAddress": "203.0.113.10"}},
	{"id": "`+rg+`/connections/to-onprem", "properties": {"connectionType": "ipsec", "connectionStatus": "Connected", "enableBgp": true,
	  "virtualNetworkGateway1": {"id": "`+rg+`/virtualNetworkGateways/gw"}, "localNetworkGateway2": {"id": "`+rg+`/localNetworkGateways/onprem"}}},
	{"id": "`+rg+`/publicIPAddresses/gw-pip", "sku": {"name": "Standard"}, "properties": {"ipAddress": "20.1.2.3",
	  "publicIPAllocationMethod": "static", "publicIPAddressVersion": "IPv4",
	  "ipConfiguration": {"id": "`+rg+`/virtualNetworkGateways/gw/ipConfigurations/default"}}}
	]}`)
	noProblems(t, probs)
	gw := n.VNetGateways[CanonicalID(rg+"/virtualNetworkGateways/gw")]
	if gw == nil || gw.GatewayType != "Vpn" || gw.VPNType != "RouteBased" || !gw.ActiveActive || !gw.EnableBGP || gw.SKU != "VpnGw1" {
		t.Fatalf("gateway = %+v", gw)
	}
	if b := gw.BGP; b == nil || b.ASN != 65515 || len(b.PeeringAddresses) != 1 || b.PeeringAddresses[0].TunnelIPAddresses[0] != netip.MustParseAddr("20.1.2.3") {
		t.Errorf("bgp = %+v", gw.BGP)
	}
	if len(gw.IPConfigs) != 1 || !strings.HasSuffix(gw.IPConfigs[0].SubnetID, "/GatewaySubnet") || gw.IPConfigs[0].PrivateIP != netip.MustParseAddr("10.0.255.4") {
		t.Errorf("ipconfigs = %+v", gw.IPConfigs)
	}
	if len(gw.LearnedRoutes) != 2 || gw.LearnedRoutes[0].Network != netip.MustParsePrefix("192.168.0.0/16") || gw.LearnedRoutes[1].NextHop.IsValid() {
		t.Errorf("learned routes = %+v", gw.LearnedRoutes)
	}
	if s, _ := n.Subnet("GatewaySubnet"); s == nil || !s.GatewaySubnet {
		t.Errorf("GatewaySubnet = %+v", s)
	}
	lg := Sorted(n.LocalNetworkGateways)
	if len(lg) != 1 || len(lg[0].AddressPrefixes) != 2 || lg[0].GatewayIP != netip.MustParseAddr("203.0.113.10") {
		t.Errorf("local gateways = %+v", lg)
	}
	c := Sorted(n.Connections)
	if len(c) != 1 || c[0].ConnectionType != "IPsec" || c[0].ConnectionStatus != "Connected" || !c[0].EnableBGP || c[0].LocalNetworkGateway2ID == "" {
		t.Errorf("connections = %+v", c)
	}
	p := Sorted(n.PublicIPs)
	if len(p) != 1 || p[0].IPAddress != netip.MustParseAddr("20.1.2.3") || p[0].AllocationMethod != "Static" || p[0].SKU != "Standard" {
		t.Errorf("public IPs = %+v", p)
	}
}

// Back-references fill gaps; when both ends are given and disagree, the
// resource's own reference wins and the disagreement is reported.
func TestBackReferences(t *testing.T) {
	n, probs := load(t, `[
	{"id": "`+rg+`/virtualNetworks/v", "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [
	  {"name": "a", "addressPrefix": "10.0.1.0/24", "ipConfigurations": [{"id": "`+rg+`/networkInterfaces/n/ipConfigurations/c"}]},
	  {"name": "b", "addressPrefix": "10.0.2.0/24", "networkSecurityGroup": {"id": "`+rg+`/networkSecurityGroups/g1"}}]},
	{"id": "`+rg+`/networkSecurityGroups/g1", "securityRules": []},
	{"id": "`+rg+`/networkSecurityGroups/g2", "securityRules": [],
	 "subnets": [{"id": "`+rg+`/virtualNetworks/v/subnets/a"}, {"id": "`+rg+`/virtualNetworks/v/subnets/b"}],
	 "networkInterfaces": [{"id": "`+rg+`/networkInterfaces/n"}]},
	{"id": "`+rg+`/routeTables/rt", "routes": [], "subnets": [{"id": "`+rg+`/VIRTUALNETWORKS/v/subnets/A/"}]},
	{"id": "`+rg+`/networkInterfaces/n", "ipConfigurations": [{"name": "c", "privateIpAddress": "10.0.1.4"}]},
	{"id": "`+rg+`/publicIPAddresses/p", "ipAddress": "20.0.0.1", "publicIPAllocationMethod": "Static",
	 "ipConfiguration": {"id": "`+rg+`/networkInterfaces/n/ipConfigurations/c"}}]`)
	var conflicts int
	for _, p := range probs {
		if p.Kind != ProblemConflict || !strings.Contains(p.Message, "subnet b names") {
			t.Errorf("problem: %v", p)
		}
		conflicts++
	}
	if conflicts != 1 {
		t.Errorf("%d conflicts", conflicts)
	}
	a, _ := n.Subnet("v/a")
	b, _ := n.Subnet("v/b")
	if g := n.NSGOf(a); g == nil || g.Name != "g2" {
		t.Errorf("NSGOf(a) = %v", g)
	}
	if g := n.NSGOf(b); g == nil || g.Name != "g1" {
		t.Errorf("NSGOf(b) = %v", g)
	}
	if rt := n.RouteTableOf(a); rt == nil || rt.Name != "rt" {
		t.Errorf("RouteTableOf(a) = %v", rt)
	}
	nic, _ := n.NIC("n")
	if g := n.NSGOf(nic); g == nil || g.Name != "g2" {
		t.Errorf("NSGOf(nic) = %v", g)
	}
	c := nic.IPConfigs[0]
	if n.SubnetOf(c) != a || !strings.HasSuffix(c.PublicIPID, "/publicIPAddresses/p") {
		t.Errorf("ipconfig = %+v", c)
	}
}

// Lookups by name: ambiguous names list the candidates; ids need not be
// spelled as exported.
func TestLookups(t *testing.T) {
	n, probs := load(t, `[
	{"id": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v", "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
	 "subnets": [{"name": "default", "addressPrefix": "10.0.0.0/24"}]},
	{"id": "/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/v", "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
	 "subnets": [{"name": "default", "addressPrefix": "10.0.0.0/24"}]},
	{"id": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/web", "ipConfigurations": [{"name": "c",
	  "privateIpAddress": "10.0.0.4", "subnet": {"id": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v/subnets/default"}}]},
	{"id": "/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Network/networkInterfaces/web", "ipConfigurations": [{"name": "c",
	  "privateIpAddress": "10.0.0.4", "subnet": {"id": "/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/v/subnets/default"}}]},
	{"id": "/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Network/networkInterfaces/db", "ipConfigurations": [{"name": "c",
	  "privateIpAddress": "10.0.0.5", "subnet": {"id": "/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/v/subnets/default"}}]}
	]`)
	noProblems(t, probs)
	_, err := n.NIC("WEB")
	var le *LookupError
	if !errors.As(err, &le) || !errors.Is(err, ErrAmbiguous) || len(le.Candidates) != 2 || !strings.Contains(err.Error(), "rg2/providers") {
		t.Errorf("NIC(WEB) = %v", err)
	}
	if _, err := n.NIC("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("NIC(nope) = %v", err)
	}
	if _, err := n.NIC("/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("NIC(id) = %v", err)
	}
	if x, err := n.NIC("db"); err != nil || x.ResourceGroup != "rg2" {
		t.Errorf("NIC(db) = %v, %v", x, err)
	}
	if x, err := n.NIC("/SUBSCRIPTIONS/s/resourcegroups/RG1/providers/microsoft.network/networkinterfaces/WEB/"); err != nil || x.ResourceGroup != "rg1" {
		t.Errorf("NIC(id) = %v, %v", x, err)
	}
	if _, _, err := n.NICByIP(netip.MustParseAddr("10.0.0.4")); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("NICByIP(10.0.0.4) = %v", err)
	}
	if cs := n.IPConfigsByIP(netip.MustParseAddr("10.0.0.4")); len(cs) != 2 {
		t.Errorf("IPConfigsByIP = %v", cs)
	}
	if nic, c, err := n.NICByIP(netip.MustParseAddr("::ffff:10.0.0.5")); err != nil || nic.Name != "db" || c.Name != "c" {
		t.Errorf("NICByIP(10.0.0.5) = %v %v %v", nic, c, err)
	}
	if _, _, err := n.NICByIP(netip.MustParseAddr("10.0.0.6")); !errors.Is(err, ErrNotFound) {
		t.Errorf("NICByIP(10.0.0.6) = %v", err)
	}
	if _, err := n.Subnet("default"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("Subnet(default) = %v", err)
	}
	if n.NSGOf((*Subnet)(nil)) != nil || n.NSGOf(nil) != nil {
		t.Error("NSGOf(nil)")
	}
}

// Odd inputs that must be reported, not crash or vanish.
func TestOddInputs(t *testing.T) {
	n, probs := load(t,
		// PowerShell ConvertTo-Json without -Depth writes nested objects
		// as type names.
		`{"Id": "`+rg+`/virtualNetworks/v", "AddressSpace": {"AddressPrefixes": ["10.0.0.0/16"]},
		  "Subnets": ["Microsoft.Azure.Commands.Network.Models.PSSubnet"]}`,
		// A Network Watcher request, and a gateway route list with no
		// gateway.
		`{"targetResourceId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "direction": "Inbound"}`,
		`{"value": [{"network": "10.0.0.0/8", "sourcePeer": "1.2.3.4", "origin": "EBgp"}]}`,
		// Unknown type by id; a scalar; an object of no known shape.
		`{"id": "`+rg+`/loadBalancers/lb", "properties": {}}`,
		`42`,
		`{"hello": "world"}`,
		// A child id that does not sit under its parent kind.
		`{"type": "Microsoft.Network/virtualNetworks/subnets", "id": "`+rg+`/routeTables/x/subnets/y", "addressPrefix": "10.0.0.0/24"}`,
		// An empty list is fine.
		`[]`,
		// A peering without allowVirtualNetworkAccess: Azure's default is true.
		`{"id": "`+rg+`/virtualNetworks/v/virtualNetworkPeerings/p", "remoteVirtualNetwork": {"id": "`+rg+`/virtualNetworks/w"},
		  "peeringState": "connected"}`,
	)
	want := []struct {
		file string
		kind ProblemKind
		text string
	}{
		{"f0.json", ProblemSkipped, "-Depth"},
		{"f1.json", ProblemSkipped, "Network Watcher request"},
		{"f2.json", ProblemSkipped, "learnedRoutes"},
		{"f3.json", ProblemUnknownType, "Microsoft.Network/loadBalancers"},
		{"f4.json", ProblemSkipped, "number"},
		{"f5.json", ProblemSkipped, "unknown shape"},
		{"f6.json", ProblemBadValue, "does not sit under"},
		{"f8.json", ProblemDangling, "virtual network " + rg + "/virtualNetworks/w"},
	}
	for i, p := range probs {
		if i >= len(want) || p.File != want[i].file || p.Kind != want[i].kind || !strings.Contains(p.Message, want[i].text) {
			t.Errorf("problem %d: %v (%s)", i, p, p.Kind)
		}
	}
	if len(probs) != len(want) {
		t.Errorf("%d problems, want %d", len(probs), len(want))
	}
	v, _ := n.VNet("v")
	if v == nil || len(v.Subnets) != 0 || len(v.Peerings) != 1 {
		t.Fatalf("vnet = %+v", v)
	}
	if p := v.Peerings[0]; !p.AllowVirtualNetworkAccess || p.PeeringState != "Connected" {
		t.Errorf("peering = %+v", p)
	}
}

// az vm list -d names no NIC either; privateIps links it when one NIC
// in its resource group holds the address and none when several do.
func TestVMLinkByIP(t *testing.T) {
	nic := func(rg, name, ip string) string {
		return `{"id": "/subscriptions/s/resourceGroups/` + rg + `/providers/Microsoft.Network/networkInterfaces/` + name + `",
		  "ipConfigurations": [{"name": "c", "privateIpAddress": "` + ip + `"}]}`
	}
	vm := func(rg, name, ips string) string {
		return `{"id": "/subscriptions/s/resourceGroups/` + rg + `/providers/Microsoft.Compute/virtualMachines/` + name + `", "privateIps": "` + ips + `"}`
	}
	n, _ := load(t, "["+strings.Join([]string{
		nic("rg1", "a", "10.0.0.4"), nic("rg1", "b", "10.0.0.5"), nic("rg2", "c", "10.0.0.4"),
		nic("rg3", "d", "10.0.0.4"), nic("rg3", "e", "10.0.0.4"),
		vm("rg1", "vm1", "10.0.0.4"), vm("rg3", "vm3", "10.0.0.4"),
	}, ",")+"]")
	vm1, _ := n.VM("vm1")
	if got := n.NICsOf(vm1); len(got) != 1 || got[0].Name != "a" || !strings.HasSuffix(got[0].VMID, "/vm1") {
		t.Errorf("vm1 NICs = %v", got)
	}
	vm3, _ := n.VM("vm3")
	if len(vm3.NICIDs) != 0 {
		t.Errorf("vm3 linked to %v", vm3.NICIDs)
	}
}

// Adding the same export twice changes nothing: merging is idempotent.
func TestAddTwice(t *testing.T) {
	a, pa := loadDir(t, "../testdata/topology/scenarios/azcli")
	b := New()
	for _, f := range a.frags {
		b.frags = append(b.frags, f, f)
	}
	for i, f := range b.frags {
		f.seq = i
	}
	pb := b.Resolve()
	if len(pa) != 0 || len(pb) != 0 || summary(a) != summary(b) {
		t.Errorf("twice: %v %v\n%s", pa, pb, lineDiff(summary(a), summary(b)))
	}
	if !slices.Equal(ruleNames(Sorted(b.NSGs)[1].SecurityRules), ruleNames(Sorted(a.NSGs)[1].SecurityRules)) {
		t.Error("rule order changed")
	}
}

// A child whose id is missing or does not sit under its parent gets the
// id its parent and name give it.
func TestChildIDDerived(t *testing.T) {
	n, probs := load(t, `{"id": "`+rg+`/networkSecurityGroups/g", "defaultSecurityRules": [
	  {"name": "AllowVnetInBound", "id": "/subscriptions//resourceGroups//providers/Microsoft.Network/networkSecurityGroups//defaultSecurityRules/",
	   "properties": {"priority": 65000, "direction": "Inbound", "access": "Allow", "protocol": "*", "sourceAddressPrefix": "VirtualNetwork",
	    "destinationAddressPrefix": "VirtualNetwork", "sourcePortRange": "*", "destinationPortRange": "*"}},
	  {"name": "DenyAllInBound", "id": "/subscriptions//resourceGroups//providers/Microsoft.Network/networkSecurityGroups//defaultSecurityRules/",
	   "properties": {"priority": 65500, "direction": "Inbound", "access": "Deny", "protocol": "*", "sourceAddressPrefix": "*",
	    "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "*"}}]}`)
	noProblems(t, probs)
	g, _ := n.NSG("g")
	if len(g.DefaultSecurityRules) != 6 {
		t.Fatalf("default rules = %v", ruleNames(g.DefaultSecurityRules))
	}
	if d := g.DefaultSecurityRules[1]; d.Name != "DenyAllInBound" || d.ID != rg+"/networkSecurityGroups/g/defaultSecurityRules/DenyAllInBound" || d.Synthesized {
		t.Errorf("rule = %+v", d)
	}
}
