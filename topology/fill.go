package topology

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// backRefs fills references from the other end where the export lacks
// them.
func (r *resolver) backRefs() {
	n := r.n
	fill := func(ref *string, id string, o Origin, what string) {
		switch {
		case *ref == "":
			*ref = id
		case CanonicalID(*ref) != CanonicalID(id):
			r.problemAt(o, ProblemConflict, "%s names %s, but %s lists it", what, *ref, id)
		}
	}
	for _, g := range Sorted(n.NSGs) {
		for _, id := range g.SubnetIDs {
			if s := n.Subnets[CanonicalID(id)]; s != nil {
				fill(&s.NSGID, g.ID, s.Origin, "subnet "+s.Name)
			}
		}
		for _, id := range g.NICIDs {
			if nic := n.NICs[CanonicalID(id)]; nic != nil {
				fill(&nic.NSGID, g.ID, nic.Origin, "network interface "+nic.Name)
			}
		}
	}
	for _, t := range Sorted(n.RouteTables) {
		for _, id := range t.SubnetIDs {
			if s := n.Subnets[CanonicalID(id)]; s != nil {
				fill(&s.RouteTableID, t.ID, s.Origin, "subnet "+s.Name)
			}
		}
	}
	for _, s := range Sorted(n.Subnets) {
		for _, id := range s.IPConfigIDs {
			if c := n.IPConfigs[CanonicalID(id)]; c != nil {
				fill(&c.SubnetID, s.ID, c.Origin, "IP configuration "+c.Name)
			}
		}
	}
	for _, p := range Sorted(n.PublicIPs) {
		if c := n.IPConfigs[CanonicalID(p.IPConfigID)]; c != nil {
			fill(&c.PublicIPID, p.ID, c.Origin, "IP configuration "+c.Name)
		}
	}
	for _, vm := range Sorted(n.VMs) {
		for _, id := range vm.NICIDs {
			if nic := n.NICs[CanonicalID(id)]; nic != nil {
				fill(&nic.VMID, vm.ID, nic.Origin, "network interface "+nic.Name)
			}
		}
	}
	for _, nic := range Sorted(n.NICs) {
		if vm := n.VMs[CanonicalID(nic.VMID)]; vm != nil && !containsID(vm.NICIDs, nic.ID) {
			vm.NICIDs = append(vm.NICIDs, nic.ID)
		}
	}
	for _, vm := range Sorted(n.VMs) {
		if vm.PrimaryNICID == "" {
			for _, id := range vm.NICIDs {
				if nic := n.NICs[CanonicalID(id)]; nic != nil && nic.Primary {
					vm.PrimaryNICID = id
					break
				}
			}
		}
		if vm.PrimaryNICID == "" && len(vm.NICIDs) > 0 {
			vm.PrimaryNICID = vm.NICIDs[0]
		}
	}
}

// linkVMsByIP links a VM that names no NIC, as in the summary az vm
// create prints ({"id": …, "privateIpAddress": "10.0.0.4", …}) or az vm
// list -d rows (privateIps), to the one NIC without a VM in the same
// resource group that holds that private IP.
func (r *resolver) linkVMsByIP() {
	n := r.n
	var vms []*VM
	for _, vm := range Sorted(n.VMs) {
		if len(vm.NICIDs) == 0 {
			vms = append(vms, vm)
		}
	}
	if len(vms) == 0 {
		return
	}
	ips := map[string][]string{}
	for _, f := range r.n.frags {
		if f.kind != kVM {
			continue
		}
		for _, key := range []string{"privateipaddress", "privateips"} {
			if s, ok := f.get(key).scalar(); ok {
				ips[f.cid] = append(ips[f.cid], strings.Split(s, ",")...)
			}
		}
	}
	byAddr := map[netip.Addr][]*IPConfig{}
	for _, c := range Sorted(n.IPConfigs) {
		byAddr[c.PrivateIP] = append(byAddr[c.PrivateIP], c)
	}
	for _, vm := range vms {
		var nics []*NIC
		for _, s := range ips[CanonicalID(vm.ID)] {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				continue
			}
			for _, c := range byAddr[a] {
				nic := n.NICs[CanonicalID(c.NICID)]
				if c.PrivateIP == a && nic.VMID == "" && strings.EqualFold(nic.ResourceGroup, vm.ResourceGroup) &&
					strings.EqualFold(nic.Subscription, vm.Subscription) && !slices.Contains(nics, nic) {
					nics = append(nics, nic)
				}
			}
		}
		if len(nics) == 1 {
			nics[0].VMID = vm.ID
			vm.NICIDs = []string{nics[0].ID}
			vm.PrimaryNICID = nics[0].ID
		}
	}
}

// index builds the private IP and ASG indexes.
func (r *resolver) index() {
	n := r.n
	n.byAddr = map[netip.Addr][]*IPConfig{}
	n.blocks = nil
	n.asgMembers = map[string][]*IPConfig{}
	for _, c := range Sorted(n.IPConfigs) {
		if c.PrivatePrefix.IsValid() {
			if c.PrivatePrefix.IsSingleIP() {
				n.byAddr[c.PrivateIP] = append(n.byAddr[c.PrivateIP], c)
			} else {
				n.blocks = append(n.blocks, c)
			}
		}
		for _, id := range c.ASGIDs {
			cid := CanonicalID(id)
			n.asgMembers[cid] = append(n.asgMembers[cid], c)
		}
	}
}

// checkRefs reports references to resources the export lacks.
func (r *resolver) checkRefs() {
	n := r.n
	for _, p := range r.pending {
		cid := CanonicalID(p.id)
		var found bool
		switch p.want {
		case kNSG:
			_, found = n.NSGs[cid]
		case kRouteTable:
			_, found = n.RouteTables[cid]
		case kVM:
			_, found = n.VMs[cid]
		case kNIC:
			_, found = n.NICs[cid]
		case kASG:
			_, found = n.ASGs[cid]
		case kPublicIP:
			_, found = n.PublicIPs[cid]
		case kVNet:
			_, found = n.VNets[cid]
		case kSubnet:
			_, found = n.Subnets[cid]
		case kVNetGateway:
			_, found = n.VNetGateways[cid]
		case kLocalGateway:
			_, found = n.LocalNetworkGateways[cid]
		}
		if !found {
			r.problem(p.at, ProblemDangling, "%s references %s %s, which is not in the export", p.from, p.want, p.id)
		}
	}
	// An IP configuration's address means nothing without its subnet.
	for _, c := range Sorted(n.IPConfigs) {
		if c.SubnetID == "" {
			r.problemAt(c.Origin, ProblemMissingValue, "IP configuration %s has no subnet", c.Name)
		}
	}
}

// checkRules reports user rules of one NSG that share priority and
// direction.
func (r *resolver) checkRules() {
	for _, g := range Sorted(r.n.NSGs) {
		seen := map[string]*SecurityRule{}
		for _, rule := range g.SecurityRules {
			if rule.Direction == "" || rule.Priority == 0 {
				continue
			}
			key := string(rule.Direction) + "/" + strconv.Itoa(rule.Priority)
			if first, dup := seen[key]; dup {
				r.problemAt(rule.Origin, ProblemDuplicatePriority, "NSG %s: rules %s and %s both have priority %d %s",
					g.Name, first.Name, rule.Name, rule.Priority, rule.Direction)
				continue
			}
			seen[key] = rule
		}
	}
}

// vnetOf returns the canonical id of the VNet of an IP configuration.
func (n *Network) vnetOfConfig(c *IPConfig) string {
	if s := n.Subnets[CanonicalID(c.SubnetID)]; s != nil {
		return CanonicalID(s.VNetID)
	}
	return ""
}

// asgVNet returns the VNet of an ASG's first member, and "" when the ASG
// has no member with a known subnet.
func (n *Network) asgVNet(asgID string) string {
	for _, c := range n.asgMembers[CanonicalID(asgID)] {
		if v := n.vnetOfConfig(c); v != "" {
			return v
		}
	}
	return ""
}

// checkASGs reports ASGs whose members sit in several VNets, and rules
// naming ASGs of different VNets on their two sides.
func (r *resolver) checkASGs() {
	n := r.n
	keys := make([]string, 0, len(n.asgMembers))
	for k := range n.asgMembers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		first := n.asgVNet(k)
		for _, c := range n.asgMembers[k] {
			if v := n.vnetOfConfig(c); v != "" && v != first {
				r.problemAt(c.Origin, ProblemASGVNet, "IP configuration %s is in VNet %s, but application security group %s already has members in VNet %s",
					c.Name, IDName(v), IDName(k), IDName(first))
			}
		}
	}
	for _, rule := range Sorted(n.SecurityRules) {
		for _, s := range rule.SourceASGIDs {
			for _, d := range rule.DestinationASGIDs {
				vs, vd := n.asgVNet(s), n.asgVNet(d)
				if vs != "" && vd != "" && vs != vd {
					r.problemAt(rule.Origin, ProblemASGVNet, "rule %s names application security groups of different VNets: %s (%s) and %s (%s)",
						rule.Name, IDName(s), IDName(vs), IDName(d), IDName(vd))
				}
			}
		}
	}
}
