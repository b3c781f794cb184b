package topology

import "net/netip"

// Resource holds what every resource has. Ids keep the spelling of the
// export (the first spelling seen when several files name the resource);
// compare them with CanonicalID.
//
// The model types (VNet, Subnet, NSG, …) are plain data that Resolve
// builds and the Network holds: a zero field means the export had no
// value for it (absent, null or []); references are ids, empty when
// there is none, and may name resources the export lacks (reported as
// ProblemDangling). Treat them as read-only; they are shared by every
// reader of the Network.
type Resource struct {
	ID            string
	Name          string
	Type          string // canonical spelling, e.g. "Microsoft.Network/networkSecurityGroups"
	Subscription  string // from the id
	ResourceGroup string // from the id, else the resourceGroup field
	// Location as written; children (subnets, rules, routes, …) inherit
	// their parent's.
	Location string
	// Implicit is true for a resource that no file exports: it is known
	// only because a child resource (a subnet, a rule, …) names it as
	// parent. Only its id, name, resource group and children are known.
	Implicit bool
	// Origin is where the resource was first defined.
	Origin Origin
}

// Origin is a place in an export: a file and a JSON path.
type Origin struct {
	File string
	Path string
}

// VNet is a virtual network.
type VNet struct {
	Resource
	AddressSpace []netip.Prefix // addressSpace.addressPrefixes
	Subnets      []*Subnet      // in export order
	Peerings     []*Peering     // in export order
}

// Subnet is a subnet of a VNet. A nil or empty field means the export
// has no value for it.
type Subnet struct {
	Resource
	VNetID       string
	Prefixes     []netip.Prefix // addressPrefix and addressPrefixes together
	NSGID        string         // networkSecurityGroup.id, or filled from the NSG's subnets[] back-reference
	RouteTableID string         // routeTable.id, or filled from the route table's subnets[]
	NATGatewayID string
	// ServiceEndpoints as configured on the subnet.
	ServiceEndpoints []ServiceEndpoint
	// IPConfigIDs are the subnet's ipConfigurations[] back-references as
	// exported. They may name NIC IP configurations, load balancer
	// frontends or gateway IP configurations.
	IPConfigIDs []string
	// GatewaySubnet reports whether the subnet is named GatewaySubnet,
	// the subnet VPN and ExpressRoute gateways live in.
	GatewaySubnet bool
}

// ServiceEndpoint is a subnet's service endpoint, e.g. Microsoft.Storage.
type ServiceEndpoint struct {
	Service   string
	Locations []string
}

// Peering is a VNet peering, seen from the VNet it belongs to.
type Peering struct {
	Resource
	VNetID       string // the local VNet
	RemoteVNetID string
	// RemoteAddressSpace is remoteAddressSpace, or
	// remoteVirtualNetworkAddressSpace when the former is absent.
	RemoteAddressSpace []netip.Prefix
	// AllowVirtualNetworkAccess is true when the export leaves it out,
	// as Azure does on create.
	AllowVirtualNetworkAccess bool
	AllowForwardedTraffic     bool
	AllowGatewayTransit       bool
	UseRemoteGateways         bool
	PeeringState              string // Initiated, Connected or Disconnected (case normalised); "" when absent
	PeeringSyncLevel          string
}

// NIC is a network interface.
type NIC struct {
	Resource
	NSGID              string // networkSecurityGroup.id, or filled from the NSG's networkInterfaces[]
	VMID               string // virtualMachine.id, or filled from the VM's networkProfile
	EnableIPForwarding bool
	Primary            bool
	MACAddress         string
	IPConfigs          []*IPConfig // in export order
}

// IPConfig is an IP configuration of a NIC.
type IPConfig struct {
	Resource
	NICID string
	// PrivateIP is the private address, or the first address of
	// PrivatePrefix when the configuration holds a block.
	PrivateIP netip.Addr
	// PrivatePrefix is PrivateIP as a single-address prefix, or the block
	// when privateIPAddress is a prefix such as "172.20.2.16/28". The
	// whole block counts as the NIC's addresses.
	PrivatePrefix    netip.Prefix
	PrivateIPVersion string // IPv4 or IPv6, as written
	Primary          bool
	SubnetID         string
	PublicIPID       string
	ASGIDs           []string // applicationSecurityGroups[].id
	// LBBackendPoolIDs are loadBalancerBackendAddressPools[].id.
	LBBackendPoolIDs []string
}

// NSG is a network security group.
type NSG struct {
	Resource
	// SecurityRules are the user rules, in export order.
	SecurityRules []*SecurityRule
	// DefaultSecurityRules are the six default rules: as exported, with
	// any the export lacks synthesised (see SecurityRule.Synthesized).
	DefaultSecurityRules []*SecurityRule
	// SubnetIDs and NICIDs are the subnets[] and networkInterfaces[]
	// back-references as exported.
	SubnetIDs []string
	NICIDs    []string
}

// SecurityRule is a rule of an NSG, user or default. Address prefixes,
// port ranges and the protocol keep the tokens of the export (their
// meaning is the job of package ipflow); enums have their case
// normalised. An empty field means the export has no value for it, which
// the load reports as a problem where the field is required.
type SecurityRule struct {
	Resource
	NSGID       string
	Default     bool // a default rule (defaultSecurityRules)
	Synthesized bool // a default rule the export lacked, made by this package
	Priority    int
	Direction   Direction
	Access      Access
	// Protocol is Tcp, Udp, Icmp, Esp, Ah or * ("All" and "Any" read as
	// *); an unknown protocol is kept as written.
	Protocol Protocol
	// Address prefixes: the singular field and the plural array together,
	// deduplicated, in order. Tokens are "*", an IP, a CIDR or a service
	// tag, as written.
	SourceAddressPrefixes      []string
	DestinationAddressPrefixes []string
	// Port ranges likewise: "*", "N" or "N-M", as written.
	SourcePortRanges      []string
	DestinationPortRanges []string
	SourceASGIDs          []string
	DestinationASGIDs     []string
	Description           string
}

// RouteTable is a route table.
type RouteTable struct {
	Resource
	Routes                     []*Route // in export order
	DisableBGPRoutePropagation bool
	SubnetIDs                  []string // subnets[] back-references as exported
}

// Route is a user-defined route.
type Route struct {
	Resource
	RouteTableID string
	// AddressPrefix as written: a CIDR or a service tag.
	AddressPrefix string
	// Prefix is AddressPrefix parsed; invalid when it is a service tag.
	Prefix      netip.Prefix
	NextHopType NextHopType
	NextHopIP   netip.Addr // nextHopIpAddress; invalid when absent
	// HasBGPOverride is the read-only hasBgpOverride.
	HasBGPOverride bool
}

// ASG is an application security group. Its members are the IP
// configurations that name it; see Network.ASGMembers.
type ASG struct {
	Resource
}

// VM is a virtual machine, as far as networking goes.
type VM struct {
	Resource
	// NICIDs are networkProfile.networkInterfaces[].id, plus NICs whose
	// virtualMachine names this VM.
	NICIDs []string
	// PrimaryNICID is the NIC marked primary, or the first NIC.
	PrimaryNICID string
}

// VirtualNetworkGateway is a VPN or ExpressRoute gateway.
type VirtualNetworkGateway struct {
	Resource
	GatewayType  string // Vpn, ExpressRoute or LocalGateway (case normalised)
	VPNType      string // RouteBased or PolicyBased
	SKU          string
	ActiveActive bool
	EnableBGP    bool
	BGP          *BGPSettings // nil when the export has no bgpSettings
	IPConfigs    []GatewayIPConfig
	// LearnedRoutes are the routes the gateway learned, when the export
	// carries them as a learnedRoutes array on the gateway (the body of
	// `az network vnet-gateway list-learned-routes` pasted into it).
	LearnedRoutes []GatewayRoute
}

// BGPSettings are a gateway's BGP settings.
type BGPSettings struct {
	ASN            int64
	PeeringAddress string // bgpPeeringAddress as written (may list several, comma separated)
	PeerWeight     int64
	// PeeringAddresses are bgpPeeringAddresses[], one per gateway IP
	// configuration.
	PeeringAddresses []BGPPeeringAddress
}

// BGPPeeringAddress is one entry of bgpSettings.bgpPeeringAddresses.
type BGPPeeringAddress struct {
	IPConfigID        string
	DefaultAddresses  []netip.Addr
	CustomAddresses   []netip.Addr
	TunnelIPAddresses []netip.Addr
}

// GatewayIPConfig is an IP configuration of a gateway.
type GatewayIPConfig struct {
	Name       string
	ID         string
	SubnetID   string
	PublicIPID string
	PrivateIP  netip.Addr // invalid when absent
}

// GatewayRoute is a route a gateway learned (GatewayRoute in the REST API).
type GatewayRoute struct {
	LocalAddress netip.Addr
	Network      netip.Prefix
	NextHop      netip.Addr // invalid for routes the gateway originates
	SourcePeer   string
	Origin       string // Network, EBgp, IBgp
	ASPath       string
	Weight       int64
}

// LocalNetworkGateway is the Azure side's view of an on-premises site.
type LocalNetworkGateway struct {
	Resource
	AddressPrefixes []netip.Prefix // localNetworkAddressSpace.addressPrefixes
	GatewayIP       netip.Addr     // gatewayIpAddress; invalid when absent
	FQDN            string
	BGP             *BGPSettings
}

// Connection links a virtual network gateway with a local network
// gateway, another virtual network gateway or an ExpressRoute circuit.
type Connection struct {
	Resource
	ConnectionType           string // IPsec, Vnet2Vnet, ExpressRoute, VPNClient
	VirtualNetworkGateway1ID string
	VirtualNetworkGateway2ID string
	LocalNetworkGateway2ID   string
	PeerID                   string // ExpressRoute circuit
	ConnectionStatus         string
	EnableBGP                bool
}

// PublicIP is a public IP address resource.
type PublicIP struct {
	Resource
	IPAddress        netip.Addr // invalid when not allocated
	AllocationMethod string     // Static or Dynamic
	Version          string     // IPv4 or IPv6
	SKU              string
	IPConfigID       string // ipConfiguration.id: what the address is attached to
}
