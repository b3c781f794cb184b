// Package nsggen generates the verify benchmark scenario: a VM whose NIC
// and subnet each carry an NSG of many rules with realistic prefixes,
// port ranges, service tags and application security groups, exported as
// ARM REST bodies, and streams of 5-tuples to judge at that NIC.
// Everything is deterministic for a seed.
package nsggen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
)

// Scenario ids and addresses.
const (
	scope  = "/subscriptions/00000000-0000-0000-0000-00000000beef/resourceGroups/rg-bench/providers"
	VM     = scope + "/Microsoft.Compute/virtualMachines/bench-vm"
	NICID  = scope + "/Microsoft.Network/networkInterfaces/bench-nic"
	VNetID = scope + "/Microsoft.Network/virtualNetworks/bench-vnet"
	// NICAddr is the VM's private address.
	NICAddr = "10.20.1.4"
	asgs    = 40
)

var commonPorts = []int{22, 25, 53, 80, 123, 135, 139, 389, 443, 445, 636, 1433, 1521, 3306, 3389, 5432, 5671, 5986, 6379, 8080, 8443, 9000, 9200, 27017}

type gen struct{ r *rand.Rand }

func (g gen) publicPrefix() string {
	a := netip.AddrFrom4([4]byte{byte(1 + g.r.IntN(223)), byte(g.r.IntN(256)), byte(g.r.IntN(256)), byte(g.r.IntN(256))})
	bits := []int{32, 32, 32, 29, 28, 27, 24, 24, 22, 20, 16}[g.r.IntN(11)]
	return netip.PrefixFrom(a, bits).Masked().String()
}

func (g gen) privatePrefix() string {
	var a netip.Addr
	switch g.r.IntN(4) {
	case 0, 1:
		a = netip.AddrFrom4([4]byte{10, byte(g.r.IntN(40)), byte(g.r.IntN(256)), byte(g.r.IntN(256))})
	case 2:
		a = netip.AddrFrom4([4]byte{172, byte(16 + g.r.IntN(16)), byte(g.r.IntN(256)), byte(g.r.IntN(256))})
	default:
		a = netip.AddrFrom4([4]byte{192, 168, byte(g.r.IntN(256)), byte(g.r.IntN(256))})
	}
	bits := []int{32, 32, 28, 26, 24, 24, 23, 22, 20, 16}[g.r.IntN(10)]
	return netip.PrefixFrom(a, bits).Masked().String()
}

func (g gen) address() []string {
	switch k := g.r.IntN(20); {
	case k == 0:
		return []string{"*"}
	case k == 1:
		return []string{"VirtualNetwork"}
	case k == 2:
		return []string{"Internet"}
	case k == 3:
		return []string{"AzureLoadBalancer"}
	case k < 10:
		n := 1 + g.r.IntN(4)
		out := make([]string, n)
		for i := range out {
			out[i] = g.publicPrefix()
		}
		return out
	default:
		n := 1 + g.r.IntN(3)
		out := make([]string, n)
		for i := range out {
			out[i] = g.privatePrefix()
		}
		return out
	}
}

func (g gen) ports() []string {
	switch k := g.r.IntN(10); {
	case k < 3:
		return []string{"*"}
	case k < 7:
		return []string{strconv.Itoa(commonPorts[g.r.IntN(len(commonPorts))])}
	case k < 9:
		lo := 1024 + g.r.IntN(50000)
		return []string{fmt.Sprintf("%d-%d", lo, lo+g.r.IntN(5000))}
	default:
		out := []string{}
		for range 2 + g.r.IntN(4) {
			out = append(out, strconv.Itoa(commonPorts[g.r.IntN(len(commonPorts))]))
		}
		return out
	}
}

func asgID(i int) string {
	return scope + "/Microsoft.Network/applicationSecurityGroups/asg-" + strconv.Itoa(i)
}

type idRef struct {
	ID string `json:"id"`
}

func (g gen) rules(nsg string, n int) []map[string]any {
	out := make([]map[string]any, 0, n)
	for i := range n {
		dir := "Inbound"
		if i%3 == 2 {
			dir = "Outbound"
		}
		p := map[string]any{
			"priority":              100 + i*3, // unique per NSG, within 100-4096
			"direction":             dir,
			"access":                []string{"Allow", "Allow", "Deny"}[g.r.IntN(3)],
			"protocol":              []string{"Tcp", "Tcp", "Tcp", "Udp", "*", "Icmp"}[g.r.IntN(6)],
			"sourcePortRanges":      []string{"*"},
			"destinationPortRanges": g.ports(),
		}
		if g.r.IntN(12) == 0 {
			p["sourcePortRanges"] = g.ports()
		}
		if g.r.IntN(8) == 0 {
			p["sourceApplicationSecurityGroups"] = []idRef{{asgID(g.r.IntN(asgs))}}
		} else {
			p["sourceAddressPrefixes"] = g.address()
		}
		if g.r.IntN(6) == 0 {
			p["destinationApplicationSecurityGroups"] = []idRef{{asgID(g.r.IntN(asgs))}}
		} else {
			p["destinationAddressPrefixes"] = g.address()
		}
		name := "r" + strconv.Itoa(i)
		out = append(out, map[string]any{"name": name, "id": nsg + "/securityRules/" + name, "properties": p})
	}
	return out
}

// Network returns the export: {"value": [resources…]} with a VNet of two
// subnets, a NIC in the first (member of a few ASGs), the VM, 40 ASGs with
// members among 200 other NICs, and NSGs on the subnet and on the NIC
// with rules rules each.
func Network(rules int, seed uint64) ([]byte, error) {
	g := gen{rand.New(rand.NewPCG(seed, 0x5eed))}
	subnetID := VNetID + "/subnets/app"
	nsgSubnet := scope + "/Microsoft.Network/networkSecurityGroups/nsg-subnet"
	nsgNIC := scope + "/Microsoft.Network/networkSecurityGroups/nsg-nic"
	var res []any
	res = append(res, map[string]any{"id": VNetID, "name": "bench-vnet", "type": "Microsoft.Network/virtualNetworks", "location": "westeurope",
		"properties": map[string]any{"addressSpace": map[string]any{"addressPrefixes": []string{"10.20.0.0/16"}},
			"subnets": []any{map[string]any{"id": subnetID, "name": "app", "properties": map[string]any{
				"addressPrefix": "10.20.0.0/20", "networkSecurityGroup": idRef{nsgSubnet}}}}}})
	for _, nsg := range []struct{ id, name string }{{nsgSubnet, "nsg-subnet"}, {nsgNIC, "nsg-nic"}} {
		res = append(res, map[string]any{"id": nsg.id, "name": nsg.name, "type": "Microsoft.Network/networkSecurityGroups", "location": "westeurope",
			"properties": map[string]any{"securityRules": g.rules(nsg.id, rules)}})
	}
	for i := range asgs {
		res = append(res, map[string]any{"id": asgID(i), "name": "asg-" + strconv.Itoa(i), "type": "Microsoft.Network/applicationSecurityGroups", "location": "westeurope", "properties": map[string]any{}})
	}
	nic := func(id, addr string, nsg string, memberOf []idRef) map[string]any {
		p := map[string]any{"ipConfigurations": []any{map[string]any{"name": "ipconfig1", "id": id + "/ipConfigurations/ipconfig1",
			"properties": map[string]any{"privateIPAddress": addr, "primary": true, "subnet": idRef{subnetID}, "applicationSecurityGroups": memberOf}}}}
		if nsg != "" {
			p["networkSecurityGroup"] = idRef{nsg}
		}
		return map[string]any{"id": id, "name": id[len(scope)+len("/Microsoft.Network/networkInterfaces/"):], "type": "Microsoft.Network/networkInterfaces", "location": "westeurope", "properties": p}
	}
	main := nic(NICID, NICAddr, nsgNIC, []idRef{{asgID(0)}, {asgID(1)}, {asgID(2)}})
	main["properties"].(map[string]any)["virtualMachine"] = idRef{VM}
	res = append(res, main)
	for i := range 200 {
		addr := netip.AddrFrom4([4]byte{10, 20, byte(2 + i/250), byte(1 + i%250)}).String()
		res = append(res, nic(scope+"/Microsoft.Network/networkInterfaces/peer-"+strconv.Itoa(i), addr, "", []idRef{{asgID(g.r.IntN(asgs))}}))
	}
	res = append(res, map[string]any{"id": VM, "name": "bench-vm", "type": "Microsoft.Compute/virtualMachines", "location": "westeurope",
		"properties": map[string]any{"networkProfile": map[string]any{"networkInterfaces": []idRef{{NICID}}}}})
	return json.MarshalIndent(map[string]any{"value": res}, "", " ")
}

// Tuple is one 5-tuple to judge, in the request's terms.
type Tuple struct {
	Inbound               bool
	Protocol              uint8 // 6, 17 or 1
	Remote                netip.Addr
	LocalPort, RemotePort uint16
}

// Tuples returns n tuples: two thirds inbound, a third outbound; remotes
// from anywhere on the Internet (60%), the VNet and RFC 1918 space (40%);
// ports mostly the common ones on the server side, ephemeral on the other.
func Tuples(n int, seed uint64) []Tuple {
	r := rand.New(rand.NewPCG(seed, 0x7e1e))
	out := make([]Tuple, n)
	for i := range out {
		t := &out[i]
		t.Inbound = r.IntN(3) != 0
		t.Protocol = []uint8{6, 6, 6, 6, 17, 17, 1}[r.IntN(7)]
		if r.IntN(5) < 3 {
			t.Remote = netip.AddrFrom4([4]byte{byte(1 + r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		} else {
			t.Remote = netip.AddrFrom4([4]byte{10, byte(r.IntN(40)), byte(r.IntN(256)), byte(r.IntN(256))})
		}
		service := uint16(commonPorts[r.IntN(len(commonPorts))])
		if r.IntN(5) == 0 {
			service = uint16(r.IntN(65536))
		}
		ephemeral := uint16(32768 + r.IntN(28232))
		if t.Inbound {
			t.LocalPort, t.RemotePort = service, ephemeral
		} else {
			t.LocalPort, t.RemotePort = ephemeral, service
		}
	}
	return out
}
