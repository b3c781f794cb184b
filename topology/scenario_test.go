package topology

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/topology")

const (
	testdataDir   = "../testdata/topology"
	scenarioScope = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-demo"
)

// summary writes out a network's model, sorted and with canonical ids,
// leaving out what legitimately differs between dialects: where things
// were defined, the spelling of ids, back-reference lists, MAC addresses,
// whether default rules were synthesised.
func summary(n *Network) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	c := CanonicalID
	res := func(r Resource) string {
		s := fmt.Sprintf("%s name=%s rg=%s loc=%s", c(r.ID), r.Name, strings.ToLower(r.ResourceGroup), r.Location)
		if r.Implicit {
			s += " implicit"
		}
		return s
	}
	cs := func(ids []string) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = c(id)
		}
		slices.Sort(out)
		return out
	}
	for _, v := range Sorted(n.VNets) {
		p("vnet %s space=%v", res(v.Resource), v.AddressSpace)
		subnets := slices.Clone(v.Subnets)
		slices.SortFunc(subnets, func(a, b *Subnet) int { return strings.Compare(c(a.ID), c(b.ID)) })
		for _, s := range subnets {
			p("  subnet %s prefixes=%v nsg=%s rt=%s gw=%v vnet=%s", res(s.Resource), s.Prefixes, c(s.NSGID), c(s.RouteTableID), s.GatewaySubnet, c(s.VNetID))
			for _, e := range s.ServiceEndpoints {
				p("    endpoint %s %v", e.Service, e.Locations)
			}
		}
		for _, pe := range v.Peerings {
			p("  peering %s remote=%s space=%v access=%v fwd=%v transit=%v remotegw=%v state=%s",
				res(pe.Resource), c(pe.RemoteVNetID), pe.RemoteAddressSpace, pe.AllowVirtualNetworkAccess,
				pe.AllowForwardedTraffic, pe.AllowGatewayTransit, pe.UseRemoteGateways, pe.PeeringState)
		}
	}
	rule := func(r *SecurityRule) {
		p("  rule %s default=%v nsg=%s prio=%d %s %s %s src=%q sport=%q dst=%q dport=%q srcasg=%v dstasg=%v desc=%q",
			res(r.Resource), r.Default, c(r.NSGID), r.Priority, r.Direction, r.Access, r.Protocol,
			r.SourceAddressPrefixes, r.SourcePortRanges, r.DestinationAddressPrefixes, r.DestinationPortRanges,
			cs(r.SourceASGIDs), cs(r.DestinationASGIDs), r.Description)
	}
	for _, g := range Sorted(n.NSGs) {
		p("nsg %s", res(g.Resource))
		for _, d := range []Direction{Inbound, Outbound} {
			for _, r := range g.Rules(d) {
				rule(r)
			}
		}
	}
	for _, a := range Sorted(n.ASGs) {
		p("asg %s members=%d", res(a.Resource), len(n.ASGMembers(a.ID)))
	}
	for _, t := range Sorted(n.RouteTables) {
		p("routetable %s nobgp=%v", res(t.Resource), t.DisableBGPRoutePropagation)
		routes := slices.Clone(t.Routes)
		slices.SortFunc(routes, func(a, b *Route) int { return strings.Compare(c(a.ID), c(b.ID)) })
		for _, r := range routes {
			p("  route %s prefix=%s (%v) next=%s %v bgpoverride=%v", res(r.Resource), r.AddressPrefix, r.Prefix, r.NextHopType, r.NextHopIP, r.HasBGPOverride)
		}
	}
	for _, x := range Sorted(n.NICs) {
		p("nic %s nsg=%s vm=%s fwd=%v", res(x.Resource), c(x.NSGID), c(x.VMID), x.EnableIPForwarding)
		for _, ic := range x.IPConfigs {
			p("  ipconfig %s ip=%v prefix=%v v=%s primary=%v subnet=%s pip=%s asgs=%v", res(ic.Resource), ic.PrivateIP,
				ic.PrivatePrefix, ic.PrivateIPVersion, ic.Primary, c(ic.SubnetID), c(ic.PublicIPID), cs(ic.ASGIDs))
		}
	}
	for _, vm := range Sorted(n.VMs) {
		p("vm %s nics=%v primary=%s", res(vm.Resource), cs(vm.NICIDs), c(vm.PrimaryNICID))
	}
	for _, g := range Sorted(n.VNetGateways) {
		p("vnetgateway %s %+v", res(g.Resource), *g)
	}
	for _, g := range Sorted(n.LocalNetworkGateways) {
		p("localgateway %s prefixes=%v ip=%v", res(g.Resource), g.AddressPrefixes, g.GatewayIP)
	}
	for _, x := range Sorted(n.Connections) {
		p("connection %s %s gw1=%s lgw2=%s", res(x.Resource), x.ConnectionType, c(x.VirtualNetworkGateway1ID), c(x.LocalNetworkGateway2ID))
	}
	for _, x := range Sorted(n.PublicIPs) {
		p("publicip %s ip=%v ipconfig=%s", res(x.Resource), x.IPAddress, c(x.IPConfigID))
	}
	return b.String()
}

// loadDir loads every file of a directory into a network with the
// scenario's template scope.
func loadDir(t *testing.T, dir string) (*Network, []Problem) {
	t.Helper()
	n := New()
	n.TemplateScope = scenarioScope
	var probs []Problem
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		p, err := n.Add(filepath.ToSlash(path), data)
		probs = append(probs, p...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, append(probs, n.Resolve()...)
}

// TestScenarioDialects loads the same network exported in every dialect
// and demands the same model from each.
func TestScenarioDialects(t *testing.T) {
	dir := filepath.Join(testdataDir, "scenarios")
	golden := filepath.Join(dir, "want.txt")
	var want string
	if data, err := os.ReadFile(golden); err == nil {
		want = string(data)
	} else if !*update {
		t.Fatal(err)
	}
	for _, dialect := range []string{"rest", "azcli", "azcreate", "arm-template", "powershell"} {
		t.Run(dialect, func(t *testing.T) {
			n, probs := loadDir(t, filepath.Join(dir, dialect))
			for _, p := range probs {
				t.Errorf("problem: %v", p)
			}
			got := shorten(summary(n))
			if *update && dialect == "rest" {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				want = got
			}
			if got != want {
				t.Errorf("model differs from %s:\n%s", golden, lineDiff(want, got))
			}
			// Resolving again gives the same model.
			if again := n.Resolve(); len(again) != len(probs) || shorten(summary(n)) != got {
				t.Errorf("second Resolve differs")
			}
		})
	}

	// All dialects at once describe one network: same model, and the
	// merges find no conflict.
	n := New()
	n.TemplateScope = scenarioScope
	for _, dialect := range []string{"rest", "azcli", "azcreate", "arm-template", "powershell"} {
		m, _ := loadDir(t, filepath.Join(dir, dialect))
		n.frags = append(n.frags, m.frags...)
	}
	for i, f := range n.frags {
		f.seq = i
	}
	for _, p := range n.Resolve() {
		t.Errorf("all dialects together: %v", p)
	}
	if got := shorten(summary(n)); got != want {
		t.Errorf("all dialects together:\n%s", lineDiff(want, got))
	}
}

// shorten writes the scenario's ids as ~/microsoft.network/….
func shorten(s string) string {
	return strings.ReplaceAll(s, CanonicalID(scenarioScope)+"/providers/", "~/")
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// TestScenarioModel checks the scenario model itself, field by field,
// through the lookups a caller uses.
func TestScenarioModel(t *testing.T) {
	n, probs := loadDir(t, filepath.Join(testdataDir, "scenarios", "rest"))
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	vm, err := n.VM("VM1")
	if err != nil {
		t.Fatal(err)
	}
	nics := n.NICsOf(vm)
	if len(nics) != 1 || nics[0].Name != "nic-vm1" {
		t.Fatalf("NICsOf(vm1) = %v", nics)
	}
	nic := nics[0]
	if got, _ := n.NIC(nic.ID); got != nic {
		t.Errorf("NIC(id) = %v", got)
	}
	if got, _ := n.NIC(strings.ToUpper(nic.ID) + "/"); got != nic {
		t.Errorf("NIC(ID in capitals with trailing slash) = %v", got)
	}
	if g := n.NSGOf(nic); g == nil || g.Name != "nsg-nic" {
		t.Errorf("NSGOf(nic) = %v", g)
	}
	if n.VMOf(nic) != vm {
		t.Errorf("VMOf(nic) != vm1")
	}
	c := nic.IPConfigs[0]
	if c.PrivateIP.String() != "10.0.1.4" || !c.Primary || n.NICOf(c) != nic {
		t.Errorf("ipconfig = %+v", c)
	}
	s := n.SubnetOf(c)
	if s == nil || s.Name != "web" || s.Prefixes[0].String() != "10.0.1.0/24" {
		t.Fatalf("SubnetOf = %+v", s)
	}
	if g := n.NSGOf(s); g == nil || g.Name != "nsg-web" {
		t.Errorf("NSGOf(subnet) = %v", g)
	}
	if rt := n.RouteTableOf(s); rt == nil || rt.Name != "rt-web" || !rt.DisableBGPRoutePropagation || len(rt.Routes) != 2 {
		t.Errorf("RouteTableOf = %+v", rt)
	}
	if v := n.VNetOf(s); v == nil || v.Name != "vnet-demo" || len(v.Subnets) != 2 {
		t.Errorf("VNetOf = %+v", v)
	}
	if got, c2, err := n.NICByIP(c.PrivateIP); err != nil || got != nic || c2 != c {
		t.Errorf("NICByIP = %v, %v, %v", got, c2, err)
	}
	members := n.ASGMembers("/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/resourceGroups/rg-demo/providers/Microsoft.Network/applicationSecurityGroups/ASG-WEB")
	if len(members) != 1 || members[0] != c {
		t.Errorf("ASGMembers = %v", members)
	}
	g, _ := n.NSG("nsg-web")
	in := g.Rules(Inbound)
	var names []string
	for _, r := range in {
		names = append(names, fmt.Sprint(r.Name, "/", r.Priority))
	}
	if want := "allow-https/100 deny-rdp/200 AllowVnetInBound/65000 AllowAzureLoadBalancerInBound/65001 DenyAllInBound/65500"; strings.Join(names, " ") != want {
		t.Errorf("Rules(Inbound) = %v, want %s", names, want)
	}
	https := in[0]
	if !slices.Equal(https.DestinationPortRanges, []string{"443", "8443"}) || !slices.Equal(https.SourceAddressPrefixes, []string{"Internet"}) ||
		len(https.DestinationASGIDs) != 1 || len(https.DestinationAddressPrefixes) != 0 || https.Protocol != ProtocolTCP {
		t.Errorf("allow-https = %+v", https)
	}
	// The rule exported on its own merged into nsg-web.
	if in[1].Origin.File != filepath.ToSlash(filepath.Join(testdataDir, "scenarios", "rest", "nsg-web-rule-deny-rdp.json")) {
		t.Errorf("deny-rdp origin = %v", in[1].Origin)
	}
}

// TestScenarioTemplateScope: without a scope, template ids use ARM's
// placeholders, and references inside the template still resolve.
func TestScenarioTemplateScope(t *testing.T) {
	n, probs, err := Load(filepath.Join(testdataDir, "scenarios", "arm-template"))
	if err != nil || len(probs) > 0 {
		t.Fatalf("Load: %v %v", err, probs)
	}
	nic, err := n.NIC("nic-vm1")
	if err != nil {
		t.Fatal(err)
	}
	want := "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/networkInterfaces/nic-vm1"
	if nic.ID != want || nic.ResourceGroup != "{resourceGroupName}" {
		t.Errorf("id = %s rg = %s", nic.ID, nic.ResourceGroup)
	}
	if s := n.SubnetOf(nic.IPConfigs[0]); s == nil || n.NSGOf(s) == nil || n.RouteTableOf(s) == nil {
		t.Errorf("references did not resolve: %+v", s)
	}
	g, _ := n.NSG("nsg-nic")
	if len(g.DefaultSecurityRules) != 6 || !g.DefaultSecurityRules[0].Synthesized {
		t.Errorf("default rules not synthesised: %v", g.DefaultSecurityRules)
	}
}
