package topology_test

import (
	"fmt"
	"net/netip"

	"github.com/flowlens/flowlens/topology"
)

// Load a directory of exports, find a VM's NIC by its private IP, and
// walk to the NSGs and route table that apply to it.
func Example() {
	n, problems, err := topology.Load("../testdata/topology/scenarios/azcli")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("problems:", len(problems))

	nic, ipc, err := n.NICByIP(netip.MustParseAddr("10.0.1.4"))
	if err != nil {
		fmt.Println(err)
		return
	}
	subnet := n.SubnetOf(ipc)
	fmt.Println("NIC:", nic.Name, "in subnet", subnet.Name, subnet.Prefixes, "of VNet", n.VNetOf(subnet).Name)
	for _, nsg := range []*topology.NSG{n.NSGOf(subnet), n.NSGOf(nic)} {
		fmt.Println("NSG", nsg.Name)
		for _, r := range nsg.Rules(topology.Inbound) {
			fmt.Println("  ", r.Priority, r.Name, r.Access, r.Protocol, r.SourceAddressPrefixes, r.DestinationPortRanges)
		}
	}
	for _, r := range n.RouteTableOf(subnet).Routes {
		fmt.Println("route", r.AddressPrefix, r.NextHopType, r.NextHopIP)
	}
	// Output:
	// problems: 0
	// NIC: nic-vm1 in subnet web [10.0.1.0/24] of VNet vnet-demo
	// NSG nsg-web
	//    100 allow-https Allow Tcp [Internet] [443 8443]
	//    200 deny-rdp Deny Tcp [*] [3389]
	//    65000 AllowVnetInBound Allow * [VirtualNetwork] [*]
	//    65001 AllowAzureLoadBalancerInBound Allow * [AzureLoadBalancer] [*]
	//    65500 DenyAllInBound Deny * [*] [*]
	// NSG nsg-nic
	//    110 allow-ssh-from-app Allow Tcp [10.0.2.0/24] [22]
	//    65000 AllowVnetInBound Allow * [VirtualNetwork] [*]
	//    65001 AllowAzureLoadBalancerInBound Allow * [AzureLoadBalancer] [*]
	//    65500 DenyAllInBound Deny * [*] [*]
	// route 0.0.0.0/0 VirtualAppliance 10.0.2.4
	// route Storage Internet invalid IP
}

// Add takes one file's content at a time; Resolve builds the model.
func ExampleNetwork_Add() {
	n := topology.New()
	problems, err := n.Add("nsg.json", []byte(`{"NewNSG": {
		"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/web",
		"securityRules": [{"name": "ssh", "priority": 100, "direction": "inbound", "access": "allow", "protocol": "TCP",
		  "sourceAddressPrefixes": ["10.0.0.0/8"], "sourcePortRange": "*", "destinationPortRanges": ["22"],
		  "destinationAddressPrefix": "*"}]}}`))
	fmt.Println(len(problems), err)
	problems = n.Resolve()
	fmt.Println(len(problems))

	nsg, _ := n.NSG("web")
	r := nsg.SecurityRules[0]
	fmt.Println(r.Name, r.Direction, r.Access, r.Protocol, r.SourceAddressPrefixes, r.DestinationPortRanges)
	fmt.Println(len(nsg.DefaultSecurityRules), "default rules, synthesised:", nsg.DefaultSecurityRules[0].Synthesized)
	// Output:
	// 0 <nil>
	// 0
	// ssh Inbound Allow Tcp [10.0.0.0/8] [22]
	// 6 default rules, synthesised: true
}

func ExampleParsePortRange() {
	for _, s := range []string{"*", "443", "1000-2000", "2000-1000"} {
		lo, hi, err := topology.ParsePortRange(s)
		fmt.Println(lo, hi, err)
	}
	// Output:
	// 0 65535 <nil>
	// 443 443 <nil>
	// 1000 2000 <nil>
	// 0 0 bad port range "2000-1000": start above end
}
