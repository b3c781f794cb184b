package topology

import (
	"net/netip"
	"slices"
	"strings"
)

// find looks a resource up by id (anything starting with "/") or by
// name, ignoring case. A name must match exactly one resource.
func find[V any](m map[string]V, k kind, query string, name func(V) string) (V, error) {
	var zero V
	q := strings.TrimSpace(query)
	if strings.HasPrefix(q, "/") {
		if v, ok := m[CanonicalID(q)]; ok {
			return v, nil
		}
		return zero, &LookupError{What: k.String(), Query: query, Err: ErrNotFound}
	}
	var ids []string
	for id, v := range m {
		if strings.EqualFold(name(v), q) {
			ids = append(ids, id)
		}
	}
	switch len(ids) {
	case 1:
		return m[ids[0]], nil
	case 0:
		return zero, &LookupError{What: k.String(), Query: query, Err: ErrNotFound}
	}
	slices.Sort(ids)
	return zero, &LookupError{What: k.String(), Query: query, Candidates: ids, Err: ErrAmbiguous}
}

// NIC returns the network interface with this id, or with this name when
// exactly one has it. The error is a *LookupError.
func (n *Network) NIC(idOrName string) (*NIC, error) {
	return find(n.NICs, kNIC, idOrName, func(x *NIC) string { return x.Name })
}

// VM returns the virtual machine with this id, or with this name when
// exactly one has it. The error is a *LookupError.
func (n *Network) VM(idOrName string) (*VM, error) {
	return find(n.VMs, kVM, idOrName, func(x *VM) string { return x.Name })
}

// NSG returns the network security group with this id, or with this name
// when exactly one has it. The error is a *LookupError.
func (n *Network) NSG(idOrName string) (*NSG, error) {
	return find(n.NSGs, kNSG, idOrName, func(x *NSG) string { return x.Name })
}

// VNet returns the virtual network with this id, or with this name when
// exactly one has it. The error is a *LookupError.
func (n *Network) VNet(idOrName string) (*VNet, error) {
	return find(n.VNets, kVNet, idOrName, func(x *VNet) string { return x.Name })
}

// Subnet returns the subnet with this id, or with this name ("web") or
// VNet-qualified name ("vnet1/web") when exactly one has it. The error is
// a *LookupError.
func (n *Network) Subnet(idOrName string) (*Subnet, error) {
	if !strings.HasPrefix(strings.TrimSpace(idOrName), "/") && strings.Contains(idOrName, "/") {
		return find(n.Subnets, kSubnet, idOrName, func(x *Subnet) string { return IDName(x.VNetID) + "/" + x.Name })
	}
	return find(n.Subnets, kSubnet, idOrName, func(x *Subnet) string { return x.Name })
}

// IPConfigsByIP returns the IP configurations whose private address, or
// private prefix, holds ip, sorted by id. Several VNets may use the same
// private addresses, so there may be several.
func (n *Network) IPConfigsByIP(ip netip.Addr) []*IPConfig {
	out := slices.Clone(n.byAddr[ip.Unmap()])
	for _, c := range n.blocks {
		if c.PrivatePrefix.Contains(ip.Unmap()) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *IPConfig) int { return strings.Compare(CanonicalID(a.ID), CanonicalID(b.ID)) })
	return out
}

// NICByIP returns the NIC, and its IP configuration, that owns the
// private address ip. When IP configurations of several NICs hold it
// (the same private range in several VNets) the error is a *LookupError
// with ErrAmbiguous listing them; use IPConfigsByIP to choose.
func (n *Network) NICByIP(ip netip.Addr) (*NIC, *IPConfig, error) {
	cs := n.IPConfigsByIP(ip)
	var nics []string
	for _, c := range cs {
		if !slices.Contains(nics, CanonicalID(c.NICID)) {
			nics = append(nics, CanonicalID(c.NICID))
		}
	}
	switch len(nics) {
	case 0:
		return nil, nil, &LookupError{What: "network interface with private IP", Query: ip.String(), Err: ErrNotFound}
	case 1:
		// Prefer the configuration holding exactly ip over a block.
		best := cs[0]
		for _, c := range cs {
			if c.PrivatePrefix.IsSingleIP() {
				best = c
				break
			}
		}
		return n.NICs[nics[0]], best, nil
	}
	slices.Sort(nics)
	return nil, nil, &LookupError{What: "network interface with private IP", Query: ip.String(), Candidates: nics, Err: ErrAmbiguous}
}

// NICOf returns the NIC of an IP configuration.
func (n *Network) NICOf(c *IPConfig) *NIC { return n.NICs[CanonicalID(c.NICID)] }

// SubnetOf returns the subnet of an IP configuration, or nil when it is
// not in the export.
func (n *Network) SubnetOf(c *IPConfig) *Subnet { return n.Subnets[CanonicalID(c.SubnetID)] }

// VNetOf returns the VNet of a subnet.
func (n *Network) VNetOf(s *Subnet) *VNet { return n.VNets[CanonicalID(s.VNetID)] }

// RouteTableOf returns the route table attached to a subnet, or nil.
func (n *Network) RouteTableOf(s *Subnet) *RouteTable {
	return n.RouteTables[CanonicalID(s.RouteTableID)]
}

// NSGAttachment is what an NSG attaches to: *Subnet or *NIC.
type NSGAttachment interface{ nsgID() string }

func (s *Subnet) nsgID() string {
	if s == nil {
		return ""
	}
	return s.NSGID
}

func (x *NIC) nsgID() string {
	if x == nil {
		return ""
	}
	return x.NSGID
}

// NSGOf returns the NSG attached to a subnet or NIC, or nil when there is
// none (or it is not in the export).
func (n *Network) NSGOf(x NSGAttachment) *NSG {
	if x == nil {
		return nil
	}
	return n.NSGs[CanonicalID(x.nsgID())]
}

// VMOf returns the VM a NIC is attached to, or nil.
func (n *Network) VMOf(x *NIC) *VM { return n.VMs[CanonicalID(x.VMID)] }

// NICsOf returns the NICs of a VM that are in the export, primary first.
func (n *Network) NICsOf(vm *VM) []*NIC {
	var out []*NIC
	if nic := n.NICs[CanonicalID(vm.PrimaryNICID)]; nic != nil {
		out = append(out, nic)
	}
	for _, id := range vm.NICIDs {
		if nic := n.NICs[CanonicalID(id)]; nic != nil && !slices.Contains(out, nic) {
			out = append(out, nic)
		}
	}
	return out
}

// ASGMembers returns the IP configurations that are members of an ASG
// (given by id), sorted by id.
func (n *Network) ASGMembers(asgID string) []*IPConfig {
	return slices.Clone(n.asgMembers[CanonicalID(asgID)])
}

// PeeringRemote returns the remote VNet of a peering, or nil when it is
// not in the export (RemoteAddressSpace still tells its prefixes).
func (n *Network) PeeringRemote(p *Peering) *VNet { return n.VNets[CanonicalID(p.RemoteVNetID)] }
