package gen

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// Kind is the flow log format a resource writes.
type Kind uint8

// Flow log formats.
const (
	NSGv1 Kind = iota // NSG flow log, properties.Version 1
	NSGv2             // NSG flow log, properties.Version 2
	VNet              // VNet flow log, flowLogVersion 4
	numKinds
)

// String returns the name the flowlens schema uses in its source column.
func (k Kind) String() string {
	switch k {
	case NSGv1:
		return "nsg-v1"
	case NSGv2:
		return "nsg-v2"
	case VNet:
		return "vnet"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Sizes of the address pools.
const (
	externalAddrs = 20000 // public talkers, Zipf-ranked
	ipv6Every     = 33    // every 33rd public address is IPv6
	peersPerRes   = 12    // other hosts of a resource's virtual network
)

// service is a port a NIC serves, with the NSG rule that lets it in.
type service struct {
	port  int
	proto int // 6 or 17
	rule  string
}

var (
	webServices  = []service{{443, 6, "UserRule_AllowHTTPS"}, {80, 6, "UserRule_AllowHTTP"}}
	jumpServices = []service{{22, 6, "UserRule_AllowSSH"}, {3389, 6, "UserRule_AllowRDP"}}
	dbServices   = []service{{1433, 6, "UserRule_AllowSQL"}, {5432, 6, "UserRule_AllowPostgres"}}
	dnsServices  = []service{{53, 17, "UserRule_AllowDNS"}, {53, 6, "UserRule_AllowDNS"}}
	roles        = [][]service{webServices, webServices, jumpServices, dbServices, dnsServices}

	// scanPorts are what denied inbound probes aim at, most likely first.
	scanPorts   = []int{22, 3389, 23, 445, 1433, 8080, 5900, 3306, 6379, 8443, 21, 25}
	eastWest    = []int{1433, 22, 3389, 445, 5432, 6379, 9200, 8080, 443}
	regions     = []string{"WESTEUROPE", "EASTUS", "EASTUS2", "WESTUS2", "NORTHEUROPE", "UKSOUTH", "CANADAEAST", "SOUTHEASTASIA"}
	groupNames  = []string{"PROD-WEB", "PROD-DATA", "SHARED-SERVICES", "AKS-NODES", "DEV", "HUB-NETWORK", "PAYMENTS", "ANALYTICS"}
	encryptions = []string{"NX", "NX", "NX", "NX", "NX", "NX", "NX", "NX_HW_NOT_SUPPORTED", "X", "NX_SECURE_CONNECTIVITY_NOT_ENABLED"}
)

// nic is one network interface: one blob per hour.
type nic struct {
	mac      string
	addr     int // index in addrs
	services []service
}

// resource is an NSG (v1 or v2) or a VNet flow log.
type resource struct {
	kind     Kind
	path     string // blob directory up to (excluding) y=
	id       string // resource id written in NSG records
	systemID string // NSG records' systemId, VNet records' flowLogGUID
	// VNet flow logs only.
	flowLogID string
	targetID  string
	nsgACL    string // aclID of the flow groups of NSG rules
	nics      []nic
	peers     []int // indexes in addrs of other hosts in the network
}

// topology is everything shared by the blobs of a tree.
type topology struct {
	addrs     []string // canonical text of every address
	platform  int      // index of 168.63.129.16, Azure's platform address
	resources []resource
}

func guid(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// publicAddr draws a global unicast address outside private, shared and
// reserved ranges.
func publicAddr(r *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		var b [16]byte
		b[0], b[1] = 0x26, 0x03 // 2603::/16, where Azure's IPv6 lives
		for i := 2; i < 16; i++ {
			b[i] = byte(r.Uint32())
		}
		return netip.AddrFrom16(b)
	}
	for {
		a := netip.AddrFrom4([4]byte{byte(1 + r.IntN(222)), byte(r.Uint32()), byte(r.Uint32()), byte(1 + r.IntN(254))})
		o := a.As4()
		if a.IsPrivate() || o[0] == 100 && o[1]&0xc0 == 64 || o[0] == 169 && o[1] == 254 || o[0] == 127 {
			continue
		}
		return a
	}
}

// kindCounts splits n resources between the kinds in proportion to the mix
// (largest remainder), so that small trees still hold every kind asked for.
func kindCounts(n int, m Mix) [numKinds]int {
	w := [numKinds]float64{m.V1, m.V2, m.VNet}
	var sum float64
	for _, x := range w {
		sum += x
	}
	var counts [numKinds]int
	var rem [numKinds]float64
	given := 0
	for k, x := range w {
		exact := float64(n) * x / sum
		counts[k] = int(exact)
		rem[k] = exact - float64(counts[k])
		given += counts[k]
	}
	for ; given < n; given++ {
		best := 0
		for k := range rem {
			if rem[k] > rem[best] || (w[best] == 0 && w[k] > 0) {
				best = k
			}
		}
		counts[best]++
		rem[best] = -1
	}
	return counts
}

func newTopology(cfg *Config) *topology {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x746f706f6c6f6779)) // "topology"
	t := &topology{}
	seen := map[netip.Addr]bool{}
	for len(t.addrs) < externalAddrs {
		a := publicAddr(r, len(t.addrs)%ipv6Every == ipv6Every-1)
		if !seen[a] {
			seen[a] = true
			t.addrs = append(t.addrs, a.String())
		}
	}
	t.platform = len(t.addrs)
	t.addrs = append(t.addrs, "168.63.129.16")
	counts := kindCounts(cfg.Resources, cfg.Mix)
	var kinds []Kind
	for k, n := range counts {
		for range n {
			kinds = append(kinds, Kind(k))
		}
	}
	r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })

	subs := []string{strings.ToUpper(guid(r)), strings.ToUpper(guid(r)), strings.ToUpper(guid(r))}
	for i, kind := range kinds {
		sub := subs[i%len(subs)]
		rg := groupNames[r.IntN(len(groupNames))]
		res := resource{kind: kind, systemID: guid(r)}
		name := fmt.Sprintf("%s-%s-%02d", strings.ToLower(rg), []string{"vm", "app", "db", "aks"}[r.IntN(4)], i)
		nsgID := "/SUBSCRIPTIONS/" + sub + "/RESOURCEGROUPS/" + rg + "/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/" + strings.ToUpper(name) + "-NSG"
		switch kind {
		case NSGv1, NSGv2:
			res.id = nsgID
			res.path = "insights-logs-networksecuritygroupflowevent/resourceId=" + nsgID
		case VNet:
			region := regions[r.IntN(len(regions))]
			res.flowLogID = "/SUBSCRIPTIONS/" + sub + "/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_" + region + "/FLOWLOGS/" + strings.ToUpper(name) + "-FLOWLOG"
			res.path = "insights-logs-flowlogflowevent/flowLogResourceID=" + res.flowLogID
			lsub, lrg := strings.ToLower(sub), strings.ToLower(rg)
			base := "/subscriptions/" + lsub + "/resourceGroups/" + lrg + "/providers/Microsoft.Network/"
			switch r.IntN(3) {
			case 0:
				res.targetID = base + "virtualNetworks/" + name + "-vnet"
			case 1:
				res.targetID = base + "virtualNetworks/" + name + "-vnet/subnets/default"
			default:
				res.targetID = base + "networkInterfaces/" + name + "-nic"
			}
			res.nsgACL = base + "networkSecurityGroups/" + name + "-nsg"
		}
		// Private addresses of the resource's network: a /20 of 10.0.0.0/8
		// (4096 resources fit), subnets of 256 addresses.
		hostAddr := func(subnet, host int) int {
			t.addrs = append(t.addrs, netip.AddrFrom4([4]byte{10, byte(i >> 4), byte(i&15<<4 | subnet), byte(host)}).String())
			return len(t.addrs) - 1
		}
		for n := range 1 + r.IntN(3) {
			var mac [6]byte
			for j := range mac {
				mac[j] = byte(r.Uint32())
			}
			mac[0], mac[1], mac[2] = 0x00, 0x0D, 0x3A // Microsoft's OUI
			role := roles[r.IntN(len(roles))]
			res.nics = append(res.nics, nic{mac: fmt.Sprintf("%X", mac[:]), addr: hostAddr(0, 4+n), services: role})
		}
		for p := range peersPerRes {
			res.peers = append(res.peers, hostAddr(1+p%3, 4+p))
		}
		t.resources = append(t.resources, res)
	}
	return t
}
