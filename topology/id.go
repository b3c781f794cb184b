package topology

import "strings"

// CanonicalID returns the form of a resource id used as a map key:
// lower case, one leading slash, no trailing slash. Azure compares ids
// case-insensitively and exports spell them inconsistently
// (resourceGroups/resourcegroups, Microsoft.compute/…).
func CanonicalID(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimRight(id, "/")
	if id == "" {
		return ""
	}
	if id[0] != '/' {
		id = "/" + id
	}
	return strings.ToLower(id)
}

// kind is the resource type of a fragment.
type kind uint8

const (
	kNone kind = iota
	kVNet
	kSubnet
	kPeering
	kNIC
	kIPConfig
	kNSG
	kRule
	kDefaultRule
	kRouteTable
	kRoute
	kASG
	kVM
	kVNetGateway
	kLocalGateway
	kConnection
	kPublicIP
)

type typeInfo struct {
	typ  string // canonical spelling
	what string // human name, for messages
}

var kinds = [...]typeInfo{
	kNone:         {"", "resource"},
	kVNet:         {"Microsoft.Network/virtualNetworks", "virtual network"},
	kSubnet:       {"Microsoft.Network/virtualNetworks/subnets", "subnet"},
	kPeering:      {"Microsoft.Network/virtualNetworks/virtualNetworkPeerings", "virtual network peering"},
	kNIC:          {"Microsoft.Network/networkInterfaces", "network interface"},
	kIPConfig:     {"Microsoft.Network/networkInterfaces/ipConfigurations", "IP configuration"},
	kNSG:          {"Microsoft.Network/networkSecurityGroups", "network security group"},
	kRule:         {"Microsoft.Network/networkSecurityGroups/securityRules", "security rule"},
	kDefaultRule:  {"Microsoft.Network/networkSecurityGroups/defaultSecurityRules", "default security rule"},
	kRouteTable:   {"Microsoft.Network/routeTables", "route table"},
	kRoute:        {"Microsoft.Network/routeTables/routes", "route"},
	kASG:          {"Microsoft.Network/applicationSecurityGroups", "application security group"},
	kVM:           {"Microsoft.Compute/virtualMachines", "virtual machine"},
	kVNetGateway:  {"Microsoft.Network/virtualNetworkGateways", "virtual network gateway"},
	kLocalGateway: {"Microsoft.Network/localNetworkGateways", "local network gateway"},
	kConnection:   {"Microsoft.Network/connections", "connection"},
	kPublicIP:     {"Microsoft.Network/publicIPAddresses", "public IP address"},
}

func (k kind) String() string { return kinds[k].what }

// parent returns the kind of the resource a child kind lives in.
func (k kind) parent() kind {
	switch k {
	case kSubnet, kPeering:
		return kVNet
	case kIPConfig:
		return kNIC
	case kRule, kDefaultRule:
		return kNSG
	case kRoute:
		return kRouteTable
	}
	return kNone
}

// segment is the id segment of a child kind under its parent.
func (k kind) segment() string {
	t := kinds[k].typ
	return t[strings.LastIndexByte(t, '/')+1:]
}

var kindByType = func() map[string]kind {
	m := make(map[string]kind, len(kinds))
	for k, ti := range kinds {
		if ti.typ != "" {
			m[strings.ToLower(ti.typ)] = kind(k)
		}
	}
	return m
}()

// kindOfType maps a resource type such as "Microsoft.Network/routeTables"
// (any case) to its kind, or kNone.
func kindOfType(t string) kind { return kindByType[strings.ToLower(strings.TrimSpace(t))] }

// resID is a parsed resource id.
type resID struct {
	sub, rg string
	typ     string   // namespace/type[/childtype…], as written
	names   []string // one per type segment
}

// parseID splits a resource id of the form
// /subscriptions/S/resourceGroups/RG/providers/NS/T1/N1[/T2/N2…].
// ok is false when the id has no provider part. For extension resources
// the last provider part wins.
func parseID(id string) (r resID, ok bool) {
	id = strings.Trim(strings.TrimSpace(id), "/")
	if id == "" {
		return r, false
	}
	segs := strings.Split(id, "/")
	prov := -1
	for i := 0; i+1 < len(segs); i++ {
		switch {
		case strings.EqualFold(segs[i], "subscriptions") && prov < 0:
			r.sub = segs[i+1]
		case strings.EqualFold(segs[i], "resourceGroups") && prov < 0:
			r.rg = segs[i+1]
		case strings.EqualFold(segs[i], "providers"):
			prov = i
		}
	}
	if prov < 0 || prov+2 >= len(segs) {
		return r, false
	}
	rest := segs[prov+2:] // T1 N1 T2 N2 …
	if len(rest)%2 != 0 {
		return r, false
	}
	typ := segs[prov+1]
	for i := 0; i < len(rest); i += 2 {
		if rest[i] == "" || rest[i+1] == "" {
			return r, false
		}
		typ += "/" + rest[i]
		r.names = append(r.names, rest[i+1])
	}
	r.typ = typ
	return r, true
}

// kindOfID returns the kind named by an id's type segments.
func kindOfID(id string) kind {
	r, ok := parseID(id)
	if !ok {
		return kNone
	}
	return kindOfType(r.typ)
}

// parentID strips the last type/name pair of an id, keeping its spelling.
func parentID(id string) string {
	id = strings.TrimRight(strings.TrimSpace(id), "/")
	for range 2 {
		i := strings.LastIndexByte(id, '/')
		if i < 0 {
			return ""
		}
		id = id[:i]
	}
	return id
}

// IDName returns the part of a resource id after its last slash: the
// resource's name.
func IDName(id string) string {
	id = strings.TrimRight(id, "/")
	return id[strings.LastIndexByte(id, '/')+1:]
}
