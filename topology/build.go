package topology

import (
	"net/netip"
	"slices"
	"strings"
)

// resource fills the common fields.
func (r *resolver) resource(f *frag) Resource {
	rid, _ := parseID(f.id)
	res := Resource{
		ID:            f.id,
		Type:          kinds[f.kind].typ,
		Subscription:  rid.sub,
		ResourceGroup: rid.rg,
		Location:      r.str(f.get("location")),
		Origin:        f.origin,
	}
	res.Name = r.str(f.get("name"))
	if res.Name == "" || strings.Contains(res.Name, "/") {
		res.Name = IDName(f.id)
	}
	if res.ResourceGroup == "" {
		if res.ResourceGroup = r.str(f.get("resourcegroup")); res.ResourceGroup == "" {
			res.ResourceGroup = r.str(f.get("resourcegroupname"))
		}
	}
	return res
}

func implicitResource(k kind, id string, o Origin) Resource {
	rid, _ := parseID(id)
	return Resource{ID: id, Name: IDName(id), Type: kinds[k].typ, Subscription: rid.sub,
		ResourceGroup: rid.rg, Implicit: true, Origin: o}
}

// build makes the typed resource of one merged fragment. Parents are
// built before children.
func (r *resolver) build(f *frag) {
	n := r.n
	res := r.resource(f)
	switch f.kind {
	case kVNet:
		n.VNets[f.cid] = &VNet{Resource: res,
			AddressSpace: r.prefixes(f.get("addressspace").get("addressPrefixes"))}

	case kSubnet:
		vnet := n.VNets[f.parentCID]
		if vnet == nil {
			vnet = &VNet{Resource: implicitResource(kVNet, f.parentID, f.origin)}
			n.VNets[f.parentCID] = vnet
		}
		inherit(&res, &vnet.Resource)
		s := &Subnet{Resource: res, VNetID: vnet.ID}
		s.Prefixes = r.prefixes(f.get("addressprefix"), f.get("addressprefixes"))
		s.NSGID = r.ref(f.get("networksecuritygroup"))
		r.expect(f.get("networksecuritygroup"), s.NSGID, kNSG, "subnet "+s.Name)
		s.RouteTableID = r.ref(f.get("routetable"))
		r.expect(f.get("routetable"), s.RouteTableID, kRouteTable, "subnet "+s.Name)
		s.NATGatewayID = r.ref(f.get("natgateway"))
		for _, e := range f.get("serviceendpoints").elems() {
			if svc := r.str(e.get("service")); svc != "" {
				s.ServiceEndpoints = append(s.ServiceEndpoints, ServiceEndpoint{Service: svc, Locations: r.strs(e.get("locations"))})
			}
		}
		s.IPConfigIDs = r.refs(f.get("ipconfigurations"))
		s.GatewaySubnet = strings.EqualFold(s.Name, "GatewaySubnet")
		n.Subnets[f.cid] = s
		vnet.Subnets = append(vnet.Subnets, s)

	case kPeering:
		vnet := n.VNets[f.parentCID]
		if vnet == nil {
			vnet = &VNet{Resource: implicitResource(kVNet, f.parentID, f.origin)}
			n.VNets[f.parentCID] = vnet
		}
		inherit(&res, &vnet.Resource)
		p := &Peering{Resource: res, VNetID: vnet.ID}
		p.RemoteVNetID = r.ref(f.get("remotevirtualnetwork"))
		p.RemoteAddressSpace = r.prefixes(f.get("remoteaddressspace").get("addressPrefixes"))
		if len(p.RemoteAddressSpace) == 0 {
			p.RemoteAddressSpace = r.prefixes(f.get("remotevirtualnetworkaddressspace").get("addressPrefixes"))
		}
		if len(p.RemoteAddressSpace) == 0 {
			r.expect(f.get("remotevirtualnetwork"), p.RemoteVNetID, kVNet, "peering "+p.Name)
		}
		var present bool
		if p.AllowVirtualNetworkAccess, present = r.boolean(f.get("allowvirtualnetworkaccess")); !present {
			p.AllowVirtualNetworkAccess = true
		}
		p.AllowForwardedTraffic, _ = r.boolean(f.get("allowforwardedtraffic"))
		p.AllowGatewayTransit, _ = r.boolean(f.get("allowgatewaytransit"))
		p.UseRemoteGateways, _ = r.boolean(f.get("useremotegateways"))
		p.PeeringState = r.enum(f.get("peeringstate"), "Initiated", "Connected", "Disconnected")
		p.PeeringSyncLevel = r.str(f.get("peeringsynclevel"))
		n.Peerings[f.cid] = p
		vnet.Peerings = append(vnet.Peerings, p)

	case kNIC:
		nic := &NIC{Resource: res}
		nic.NSGID = r.ref(f.get("networksecuritygroup"))
		r.expect(f.get("networksecuritygroup"), nic.NSGID, kNSG, "network interface "+nic.Name)
		nic.VMID = r.ref(f.get("virtualmachine"))
		r.expect(f.get("virtualmachine"), nic.VMID, kVM, "network interface "+nic.Name)
		nic.EnableIPForwarding, _ = r.boolean(f.get("enableipforwarding"))
		nic.Primary, _ = r.boolean(f.get("primary"))
		nic.MACAddress = r.str(f.get("macaddress"))
		n.NICs[f.cid] = nic

	case kIPConfig:
		nic := n.NICs[f.parentCID]
		if nic == nil {
			nic = &NIC{Resource: implicitResource(kNIC, f.parentID, f.origin)}
			n.NICs[f.parentCID] = nic
		}
		inherit(&res, &nic.Resource)
		c := &IPConfig{Resource: res, NICID: nic.ID}
		if s := r.str(f.get("privateipaddress")); s != "" {
			a, p, err := parseAddrOrPrefix(strings.TrimSpace(s))
			if err != nil {
				r.problem(f.get("privateipaddress"), ProblemBadValue, "bad private IP address %q", s)
			} else {
				if l, ok := r.integer(f.get("privateipaddressprefixlength")); ok && p.Bits() == a.BitLen() && l >= 0 && int(l) <= a.BitLen() {
					p = netip.PrefixFrom(a, int(l)).Masked()
					a = p.Addr()
				}
				c.PrivateIP, c.PrivatePrefix = a, p
			}
		}
		c.PrivateIPVersion = r.enum(f.get("privateipaddressversion"), "IPv4", "IPv6")
		c.Primary, _ = r.boolean(f.get("primary"))
		c.SubnetID = r.ref(f.get("subnet"))
		r.expect(f.get("subnet"), c.SubnetID, kSubnet, "IP configuration "+nic.Name+"/"+c.Name)
		c.PublicIPID = r.ref(f.get("publicipaddress"))
		r.expect(f.get("publicipaddress"), c.PublicIPID, kPublicIP, "IP configuration "+nic.Name+"/"+c.Name)
		for _, e := range f.get("applicationsecuritygroups").elems() {
			if id := r.ref(e); id != "" && !containsID(c.ASGIDs, id) {
				c.ASGIDs = append(c.ASGIDs, id)
				r.expect(e, id, kASG, "IP configuration "+nic.Name+"/"+c.Name)
			}
		}
		c.LBBackendPoolIDs = r.refs(f.get("loadbalancerbackendaddresspools"))
		n.IPConfigs[f.cid] = c
		nic.IPConfigs = append(nic.IPConfigs, c)

	case kNSG:
		g := &NSG{Resource: res}
		g.SubnetIDs = r.refs(f.get("subnets"))
		g.NICIDs = r.refs(f.get("networkinterfaces"))
		n.NSGs[f.cid] = g

	case kRule, kDefaultRule:
		g := n.NSGs[f.parentCID]
		if g == nil {
			g = &NSG{Resource: implicitResource(kNSG, f.parentID, f.origin)}
			n.NSGs[f.parentCID] = g
		}
		inherit(&res, &g.Resource)
		rule := r.rule(f, res, g)
		n.SecurityRules[f.cid] = rule
		if rule.Default {
			g.DefaultSecurityRules = append(g.DefaultSecurityRules, rule)
		} else {
			g.SecurityRules = append(g.SecurityRules, rule)
		}

	case kRouteTable:
		t := &RouteTable{Resource: res}
		t.DisableBGPRoutePropagation, _ = r.boolean(f.get("disablebgproutepropagation"))
		t.SubnetIDs = r.refs(f.get("subnets"))
		n.RouteTables[f.cid] = t

	case kRoute:
		t := n.RouteTables[f.parentCID]
		if t == nil {
			t = &RouteTable{Resource: implicitResource(kRouteTable, f.parentID, f.origin)}
			n.RouteTables[f.parentCID] = t
		}
		inherit(&res, &t.Resource)
		rt := &Route{Resource: res, RouteTableID: t.ID}
		rt.AddressPrefix = strings.TrimSpace(r.str(f.get("addressprefix")))
		switch {
		case rt.AddressPrefix == "":
			r.problem(f.get("addressprefix"), ProblemMissingValue, "route %s has no addressPrefix", rt.Name)
		case strings.Contains(rt.AddressPrefix, "/"):
			p, err := netip.ParsePrefix(rt.AddressPrefix)
			if err != nil {
				r.problem(f.get("addressprefix"), ProblemBadPrefix, "route %s: bad address prefix %q", rt.Name, rt.AddressPrefix)
			}
			rt.Prefix = p
		case !isTag(rt.AddressPrefix):
			r.problem(f.get("addressprefix"), ProblemBadPrefix, "route %s: bad address prefix %q: want a CIDR or a service tag", rt.Name, rt.AddressPrefix)
		}
		nh := f.get("nexthoptype")
		if s := r.str(nh); s == "" {
			r.problem(nh, ProblemMissingValue, "route %s has no nextHopType", rt.Name)
		} else if t, ok := ParseNextHopType(s); ok {
			rt.NextHopType = t
		} else {
			rt.NextHopType = NextHopType(s)
			r.problem(nh, ProblemBadValue, "route %s: unknown nextHopType %q (want VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance or None)", rt.Name, s)
		}
		rt.NextHopIP = r.addr(f.get("nexthopipaddress"))
		if rt.NextHopType == NextHopVirtualAppliance && !rt.NextHopIP.IsValid() {
			r.problem(f.get("nexthopipaddress"), ProblemMissingValue, "route %s: next hop VirtualAppliance needs nextHopIpAddress", rt.Name)
		}
		rt.HasBGPOverride, _ = r.boolean(f.get("hasbgpoverride"))
		n.Routes[f.cid] = rt
		t.Routes = append(t.Routes, rt)

	case kASG:
		n.ASGs[f.cid] = &ASG{Resource: res}

	case kVM:
		vm := &VM{Resource: res}
		for _, e := range f.get("networkprofile").get("networkInterfaces").elems() {
			id := r.ref(e)
			if id == "" || containsID(vm.NICIDs, id) {
				continue
			}
			vm.NICIDs = append(vm.NICIDs, id)
			r.expect(e, id, kNIC, "virtual machine "+vm.Name)
			if p, _ := r.boolean(e.get("primary")); p && vm.PrimaryNICID == "" {
				vm.PrimaryNICID = id
			}
		}
		n.VMs[f.cid] = vm

	case kVNetGateway:
		g := &VirtualNetworkGateway{Resource: res}
		g.GatewayType = r.enum(f.get("gatewaytype"), "Vpn", "ExpressRoute", "LocalGateway")
		g.VPNType = r.enum(f.get("vpntype"), "RouteBased", "PolicyBased")
		g.SKU = r.str(f.get("sku").get("name"))
		g.ActiveActive, _ = r.boolean(f.get("activeactive"))
		g.EnableBGP, _ = r.boolean(f.get("enablebgp"))
		g.BGP = r.bgp(f.get("bgpsettings"))
		for _, e := range f.get("ipconfigurations").elems() {
			c := GatewayIPConfig{
				Name:       r.str(e.get("name")),
				ID:         r.str(e.get("id")),
				SubnetID:   r.ref(e.get("subnet")),
				PublicIPID: r.ref(e.get("publicIPAddress")),
				PrivateIP:  r.addr(e.get("privateIPAddress")),
			}
			r.expect(e.get("subnet"), c.SubnetID, kSubnet, "virtual network gateway "+g.Name)
			g.IPConfigs = append(g.IPConfigs, c)
		}
		lr := f.get("learnedroutes")
		if v := lr.get("value"); v.ok() {
			lr = v
		}
		for _, e := range lr.elems() {
			gr := GatewayRoute{
				LocalAddress: r.addr(e.get("localAddress")),
				NextHop:      r.addr(e.get("nextHop")),
				SourcePeer:   r.str(e.get("sourcePeer")),
				Origin:       r.str(e.get("origin")),
				ASPath:       r.str(e.get("asPath")),
			}
			gr.Weight, _ = r.integer(e.get("weight"))
			if ps := r.prefixes(e.get("network")); len(ps) == 1 {
				gr.Network = ps[0]
				g.LearnedRoutes = append(g.LearnedRoutes, gr)
			}
		}
		n.VNetGateways[f.cid] = g

	case kLocalGateway:
		g := &LocalNetworkGateway{Resource: res}
		g.AddressPrefixes = r.prefixes(f.get("localnetworkaddressspace").get("addressPrefixes"))
		g.GatewayIP = r.addr(f.get("gatewayipaddress"))
		g.FQDN = r.str(f.get("fqdn"))
		g.BGP = r.bgp(f.get("bgpsettings"))
		n.LocalNetworkGateways[f.cid] = g

	case kConnection:
		c := &Connection{Resource: res}
		c.ConnectionType = r.enum(f.get("connectiontype"), "IPsec", "Vnet2Vnet", "ExpressRoute", "VPNClient")
		c.VirtualNetworkGateway1ID = r.ref(f.get("virtualnetworkgateway1"))
		c.VirtualNetworkGateway2ID = r.ref(f.get("virtualnetworkgateway2"))
		c.LocalNetworkGateway2ID = r.ref(f.get("localnetworkgateway2"))
		c.PeerID = r.ref(f.get("peer"))
		r.expect(f.get("virtualnetworkgateway1"), c.VirtualNetworkGateway1ID, kVNetGateway, "connection "+c.Name)
		r.expect(f.get("virtualnetworkgateway2"), c.VirtualNetworkGateway2ID, kVNetGateway, "connection "+c.Name)
		r.expect(f.get("localnetworkgateway2"), c.LocalNetworkGateway2ID, kLocalGateway, "connection "+c.Name)
		c.ConnectionStatus = r.enum(f.get("connectionstatus"), "Unknown", "Connecting", "Connected", "NotConnected")
		c.EnableBGP, _ = r.boolean(f.get("enablebgp"))
		n.Connections[f.cid] = c

	case kPublicIP:
		p := &PublicIP{Resource: res}
		p.IPAddress = r.addr(f.get("ipaddress"))
		p.AllocationMethod = r.enum(f.get("publicipallocationmethod"), "Static", "Dynamic")
		p.Version = r.enum(f.get("publicipaddressversion"), "IPv4", "IPv6")
		p.SKU = r.str(f.get("sku").get("name"))
		p.IPConfigID = r.ref(f.get("ipconfiguration"))
		n.PublicIPs[f.cid] = p
	}
}

// inherit gives a child its parent's location and resource group when
// it has none.
func inherit(child, parent *Resource) {
	if child.Location == "" {
		child.Location = parent.Location
	}
	if child.ResourceGroup == "" {
		child.ResourceGroup = parent.ResourceGroup
	}
}

func (r *resolver) bgp(v val) *BGPSettings {
	if !v.ok() {
		return nil
	}
	b := &BGPSettings{}
	b.ASN, _ = r.integer(v.get("asn"))
	b.PeeringAddress = r.str(v.get("bgpPeeringAddress"))
	b.PeerWeight, _ = r.integer(v.get("peerWeight"))
	for _, e := range v.get("bgpPeeringAddresses").elems() {
		b.PeeringAddresses = append(b.PeeringAddresses, BGPPeeringAddress{
			IPConfigID:        r.str(e.get("ipconfigurationId")),
			DefaultAddresses:  r.addrs(e.get("defaultBgpIpAddresses")),
			CustomAddresses:   r.addrs(e.get("customBgpIpAddresses")),
			TunnelIPAddresses: r.addrs(e.get("tunnelIpAddresses")),
		})
	}
	return b
}

// rule reads a security rule and reports what is wrong with it.
func (r *resolver) rule(f *frag, res Resource, g *NSG) *SecurityRule {
	rule := &SecurityRule{Resource: res, NSGID: g.ID, Default: f.kind == kDefaultRule}
	what := "rule " + rule.Name
	if p, ok := r.integer(f.get("priority")); ok {
		rule.Priority = int(p)
		if !rule.Default && (p < 100 || p > 4096) {
			r.problem(f.get("priority"), ProblemBadValue, "%s: priority %d outside 100-4096", what, p)
		}
	} else if isEmpty(f.get("priority").v) {
		r.problem(f.get("priority"), ProblemMissingValue, "%s has no priority", what)
	}
	if s := r.str(f.get("direction")); s == "" {
		r.problem(f.get("direction"), ProblemMissingValue, "%s has no direction", what)
	} else if d, ok := ParseDirection(s); ok {
		rule.Direction = d
	} else {
		r.problem(f.get("direction"), ProblemBadValue, "%s: unknown direction %q (want Inbound or Outbound)", what, s)
	}
	if s := r.str(f.get("access")); s == "" {
		r.problem(f.get("access"), ProblemMissingValue, "%s has no access", what)
	} else if a, ok := ParseAccess(s); ok {
		rule.Access = a
	} else {
		r.problem(f.get("access"), ProblemBadValue, "%s: unknown access %q (want Allow or Deny)", what, s)
	}
	if s := r.str(f.get("protocol")); s == "" {
		r.problem(f.get("protocol"), ProblemMissingValue, "%s has no protocol", what)
	} else if p, ok := ParseProtocol(s); ok {
		rule.Protocol = p
	} else {
		rule.Protocol = Protocol(s)
		r.problem(f.get("protocol"), ProblemBadValue, "%s: unknown protocol %q (want Tcp, Udp, Icmp, Esp, Ah or *)", what, s)
	}
	rule.Description = r.str(f.get("description"))

	// side reads the source or destination half of the rule: the
	// singular and plural prefixes and ports, and the ASGs.
	side := func(name string) (prefixes, ports []string, asgIDs []string) {
		single, asgs := name, name+"applicationsecuritygroups"
		seen := map[string]bool{}
		for _, e := range append(f.get(single+"addressprefix").elems(), f.get(single+"addressprefixes").elems()...) {
			s := strings.TrimSpace(r.str(e))
			if s == "" || seen[s] {
				continue
			}
			seen[s] = true
			if _, _, err := ParseAddressPrefix(s); err != nil {
				r.problem(e, ProblemBadPrefix, "%s: %v", what, err)
				continue
			}
			prefixes = append(prefixes, s)
		}
		for _, e := range append(f.get(single+"portrange").elems(), f.get(single+"portranges").elems()...) {
			s := strings.TrimSpace(r.str(e))
			if s == "" || seen[":"+s] {
				continue
			}
			seen[":"+s] = true
			if _, _, err := ParsePortRange(s); err != nil {
				r.problem(e, ProblemBadPortRange, "%s: %v", what, err)
				continue
			}
			ports = append(ports, s)
		}
		for _, e := range f.get(asgs).elems() {
			if id := r.ref(e); id != "" && !containsID(asgIDs, id) {
				asgIDs = append(asgIDs, id)
				r.expect(e, id, kASG, what)
			}
		}
		if len(prefixes) == 0 && len(asgIDs) == 0 {
			r.problem(f.get(single+"addressprefix"), ProblemMissingValue, "%s has no %s address prefix or application security group", what, name)
		}
		if len(ports) == 0 {
			r.problem(f.get(single+"portrange"), ProblemMissingValue, "%s has no %s port range", what, name)
		}
		return prefixes, ports, asgIDs
	}
	rule.SourceAddressPrefixes, rule.SourcePortRanges, rule.SourceASGIDs = side("source")
	rule.DestinationAddressPrefixes, rule.DestinationPortRanges, rule.DestinationASGIDs = side("destination")
	return rule
}

// defaultRuleTable is §1.4 of the spec, with Azure's descriptions.
var defaultRuleTable = []struct {
	name     string
	dir      Direction
	prio     int
	src, dst string
	access   Access
	desc     string
}{
	{"AllowVnetInBound", Inbound, 65000, "VirtualNetwork", "VirtualNetwork", Allow, "Allow inbound traffic from all VMs in VNET"},
	{"AllowAzureLoadBalancerInBound", Inbound, 65001, "AzureLoadBalancer", "*", Allow, "Allow inbound traffic from azure load balancer"},
	{"DenyAllInBound", Inbound, 65500, "*", "*", Deny, "Deny all inbound traffic"},
	{"AllowVnetOutBound", Outbound, 65000, "VirtualNetwork", "VirtualNetwork", Allow, "Allow outbound traffic from all VMs to all VMs in VNET"},
	{"AllowInternetOutBound", Outbound, 65001, "*", "Internet", Allow, "Allow outbound traffic from all VMs to Internet"},
	{"DenyAllOutBound", Outbound, 65500, "*", "*", Deny, "Deny all outbound traffic"},
}

// DefaultRuleNames are the names of the six default security rules, in
// the order Azure lists them.
var DefaultRuleNames = [6]string{"AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound",
	"AllowVnetOutBound", "AllowInternetOutBound", "DenyAllOutBound"}

// defaultRules adds the default rules each NSG's export lacks.
func (r *resolver) defaultRules() {
	for _, g := range Sorted(r.n.NSGs) {
		for _, d := range defaultRuleTable {
			// A rule is the default one by its name or by its id's last
			// segment (the two may disagree in an edited export), and no
			// second rule may take an id already held.
			if slices.ContainsFunc(g.DefaultSecurityRules, func(x *SecurityRule) bool {
				return strings.EqualFold(x.Name, d.name) || strings.EqualFold(IDName(x.ID), d.name)
			}) {
				continue
			}
			id := strings.TrimRight(g.ID, "/") + "/defaultSecurityRules/" + d.name
			if r.n.SecurityRules[CanonicalID(id)] != nil {
				continue
			}
			rule := &SecurityRule{
				Resource: Resource{ID: id, Name: d.name, Type: kinds[kDefaultRule].typ, Subscription: g.Subscription,
					ResourceGroup: g.ResourceGroup, Location: g.Location, Origin: g.Origin},
				NSGID: g.ID, Default: true, Synthesized: true,
				Priority: d.prio, Direction: d.dir, Access: d.access, Protocol: ProtocolAny,
				SourceAddressPrefixes: []string{d.src}, DestinationAddressPrefixes: []string{d.dst},
				SourcePortRanges: []string{"*"}, DestinationPortRanges: []string{"*"},
				Description: d.desc,
			}
			g.DefaultSecurityRules = append(g.DefaultSecurityRules, rule)
			r.n.SecurityRules[CanonicalID(id)] = rule
		}
	}
}
