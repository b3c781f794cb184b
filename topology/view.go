package topology

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrBadRequest is wrapped by the errors of ParseViewRequest and
// Network.View for a request that is not JSON or names no usable target.
var ErrBadRequest = errors.New("bad topology request")

// ViewRequest is the body of Network Watcher's topology request
// (TopologyParameters, op NetworkWatchers_GetTopology): one target, a
// resource group by name, a virtual network or a subnet by id. Network.View
// also takes names where Azure takes ids ("vnet1", "vnet1/web").
//
// When several targets are given the narrowest wins (subnet, then virtual
// network, then resource group), and a subnet must then belong to the
// virtual network; Azure documents no rule for this ([X] in the spec's
// sense).
//
// The zero value names no target and is rejected by Network.View unless
// All is set.
type ViewRequest struct {
	TargetResourceGroupName string       `json:"targetResourceGroupName,omitempty"`
	TargetVirtualNetwork    *SubResource `json:"targetVirtualNetwork,omitempty"`
	TargetSubnet            *SubResource `json:"targetSubnet,omitempty"`

	// Subscription restricts TargetResourceGroupName to one subscription
	// (resource group names repeat across subscriptions). Azure takes it
	// from the request's path; ParseViewRequest takes it from an ARM
	// example envelope's subscriptionId. Empty means every subscription.
	Subscription string `json:"-"`
	// All asks for every resource of the network, across resource groups
	// and subscriptions, ignoring the targets. It goes beyond Azure, which
	// answers for one resource group at a time.
	All bool `json:"-"`
}

// SubResource is a reference to a resource by id, as in Azure's REST API.
type SubResource struct {
	ID string `json:"id"`
}

// ParseViewRequest reads a topology request body: TopologyParameters
// ({"targetResourceGroupName": "rg1"}, {"targetVirtualNetwork": {"id":
// …}} or {"targetSubnet": {"id": …}}), keys in any case, or an ARM
// example envelope whose parameters.parameters holds it (the envelope's
// subscriptionId then fills Subscription). Errors wrap ErrBadRequest.
func ParseViewRequest(data []byte) (ViewRequest, error) {
	var req ViewRequest
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var env struct {
		Parameters *struct {
			Parameters     *ViewRequest `json:"parameters"`
			SubscriptionID string       `json:"subscriptionId"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return req, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if p := env.Parameters; p != nil && p.Parameters != nil {
		req = *p.Parameters
		req.Subscription = p.SubscriptionID
	} else if err := json.Unmarshal(data, &req); err != nil {
		return req, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if req.TargetResourceGroupName == "" && req.TargetVirtualNetwork.id() == "" && req.TargetSubnet.id() == "" {
		return req, fmt.Errorf("%w: no targetResourceGroupName, targetVirtualNetwork or targetSubnet", ErrBadRequest)
	}
	return req, nil
}

func (r *SubResource) id() string {
	if r == nil {
		return ""
	}
	return strings.TrimSpace(r.ID)
}

// ViewOptions are the parts of a topology answer that do not come from
// the network. The zero value stamps the answer with the current time.
type ViewOptions struct {
	// Time is the answer's createdDateTime; zero means time.Now().
	Time time.Time
	// LastModified is the answer's lastModified (in Azure, when the
	// resource group last changed); zero means Time.
	LastModified time.Time
}

// View is Network Watcher's topology answer (Topology): the resources of
// the request's target, each with its associations. It also draws them:
// WriteDOT and WriteSVG.
//
// Resources holds the target's top-level resources in this order, each
// kind sorted by canonical id: virtual networks (each followed by its
// subnets), VMs, NICs, NSGs (each followed by its user security rules),
// route tables (each followed by its routes), public IPs, virtual network
// gateways, local network gateways and connections. Application security
// groups are not a topology type and are left out; the network model has
// no load balancers or application gateways, so those appear only as the
// targets of associations. Associations follow spec §5 (see
// Network.View).
//
// A View refers to the Network it was made from, which must not change
// while the View is used. The zero value is an empty answer that draws
// nothing. A View may be copied, and read by several goroutines at once.
// Cost: making one walks the network's maps a few times; drawing one
// places every resource again, linear in the resources of the view.
type View struct {
	ID              string         `json:"id"`
	CreatedDateTime time.Time      `json:"createdDateTime"`
	LastModified    time.Time      `json:"lastModified"`
	Resources       []ViewResource `json:"resources"`

	net   *Network
	scope map[string]bool // canonical ids of the resources in the view, children included
	title string
}

// ViewResource is one resource of a topology answer (TopologyResource).
// Location is empty when the export has none. Associations is never nil,
// so that it encodes as [] as Azure's does.
type ViewResource struct {
	Name         string        `json:"name"`
	ID           string        `json:"id"`
	Location     string        `json:"location,omitempty"`
	Associations []Association `json:"associations"`
}

// Association links a topology resource with another
// (TopologyAssociation). The other resource need not be in the answer,
// nor in the export: its name is then the last segment of its id.
type Association struct {
	Name            string          `json:"name"`
	ResourceID      string          `json:"resourceId"`
	AssociationType AssociationType `json:"associationType"`
}

// AssociationType is Associated or Contains.
type AssociationType string

// The association types of Azure's topology.
const (
	// AssociationContains links a parent with a child it holds: VM→NIC,
	// VNet→subnet, NSG→security rule, route table→route.
	AssociationContains AssociationType = "Contains"
	// AssociationAssociated links peers: NIC→VM, NIC→NSG, NIC→subnet,
	// NIC→public IP, public IP→NIC, subnet→NSG, VNet↔peered VNet, ….
	AssociationAssociated AssociationType = "Associated"
)

// Title describes the view's target for people, e.g. "resource group
// rg1" or "subnet vnet1/web".
func (v *View) Title() string { return v.title }

// viewTimeLayout is Azure's spelling of times: seven fractional digits.
const viewTimeLayout = "2006-01-02T15:04:05.0000000Z07:00"

// MarshalJSON encodes the answer in Azure's shape, times in UTC with
// seven fractional digits as Azure writes them
// ("2017-08-02T19:31:55.9461781Z").
func (v View) MarshalJSON() ([]byte, error) {
	res := v.Resources
	if res == nil {
		res = []ViewResource{}
	}
	return json.Marshal(struct {
		ID              string         `json:"id"`
		CreatedDateTime string         `json:"createdDateTime"`
		LastModified    string         `json:"lastModified"`
		Resources       []ViewResource `json:"resources"`
	}{v.ID, v.CreatedDateTime.UTC().Format(viewTimeLayout), v.LastModified.UTC().Format(viewTimeLayout), res})
}

// View answers a topology request from the network, as Network Watcher
// does (spec §5), and keeps what WriteDOT and WriteSVG need to draw it.
//
// The target's resources: for a resource group, every resource whose id
// (or resourceGroup field) names it; for a virtual network, the network,
// its subnets and what is in them; for a subnet, the subnet and what is in
// it. What is in a subnet: the NICs with an IP configuration in it and
// their VMs, public IPs and NSGs, the subnet's NSG and route table, the
// gateways in it with their public IPs, connections and the local network
// gateways of those. Virtual networks, NSGs and route tables come with
// all their subnets, user security rules and routes. A target that
// matches nothing is a *LookupError (ErrNotFound); a request without a
// target an error wrapping ErrBadRequest.
//
// Associations, per resource, in this order:
//
//   - virtual network: Contains each subnet; Associated with each virtual
//     network it is peered with, both ways, even when only one side's
//     peering is exported (a peering is no resource of its own);
//   - subnet: Associated with its NSG and its route table ([X]: Azure's
//     example leaves subnets without associations);
//   - VM: Contains each NIC its network profile names, exported or not;
//   - NIC: Associated with its VM, its NSG, the subnets, public IPs and
//     load balancer backend pools of its IP configurations;
//   - NSG: Contains each user security rule (default rules are left out,
//     as Azure does); route table: Contains each route;
//   - public IP: Associated with what it is attached to (a NIC, a
//     gateway, a load balancer, …);
//   - virtual network gateway ([X]): Associated with its subnet and public
//     IPs; connection ([X]): Associated with the gateways it links;
//   - subnets, rules, routes and local network gateways otherwise have
//     none. Rules and routes take their parent's location.
//
// The answer's id is a version 5 UUID of the target (ignoring case) and
// the resources, so the same network and request give the same answer;
// its times come from opt.
func (n *Network) View(req ViewRequest, opt ViewOptions) (*View, error) {
	scope, title, err := n.viewScope(req)
	if err != nil {
		return nil, err
	}
	v := &View{net: n, scope: scope, title: title}
	v.Resources = n.viewResources(scope)
	v.CreatedDateTime = opt.Time
	if v.CreatedDateTime.IsZero() {
		v.CreatedDateTime = time.Now()
	}
	v.LastModified = opt.LastModified
	if v.LastModified.IsZero() {
		v.LastModified = v.CreatedDateTime
	}
	body, err := json.Marshal(v.Resources)
	if err != nil {
		panic("BUG: topology resources do not encode: " + err.Error())
	}
	v.ID = viewUUID5(viewNamespace, "flowlens topology\n"+strings.ToLower(title)+"\n"+string(body))
	return v, nil
}

// viewNamespace is the UUID namespace of topology answer ids.
var viewNamespace = [16]byte{0x6f, 0x0c, 0x2e, 0x51, 0x8a, 0x3d, 0x4b, 0x1e, 0x9d, 0x27, 0x4f, 0x6a, 0x10, 0xc3, 0x5e, 0x88}

// viewUUID5 returns the name-based (SHA-1) UUID of name in namespace ns
// (RFC 9562 §5.5), in its text form.
func viewUUID5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// viewScope returns the canonical ids of the resources a request targets,
// children included, and a title for the target.
func (n *Network) viewScope(req ViewRequest) (map[string]bool, string, error) {
	scope := map[string]bool{}
	add := func(r *Resource) { scope[CanonicalID(r.ID)] = true }
	switch {
	case req.All:
		for _, v := range n.VNets {
			add(&v.Resource)
		}
		for _, s := range n.Subnets {
			add(&s.Resource)
		}
		n.viewTopLevel(func(r *Resource) { add(r) })
		n.viewChildren(scope)
		return scope, "all resource groups and subscriptions", nil

	case req.TargetSubnet.id() != "":
		s, err := n.Subnet(req.TargetSubnet.id())
		if err != nil {
			return nil, "", err
		}
		if q := req.TargetVirtualNetwork.id(); q != "" {
			v, err := n.VNet(q)
			if err != nil {
				return nil, "", err
			}
			if CanonicalID(v.ID) != CanonicalID(s.VNetID) {
				return nil, "", fmt.Errorf("%w: subnet %q is not in virtual network %q", ErrBadRequest, s.ID, v.ID)
			}
		}
		add(&s.Resource)
		n.viewMembers(scope, []*Subnet{s})
		return scope, "subnet " + IDName(s.VNetID) + "/" + s.Name, nil

	case req.TargetVirtualNetwork.id() != "":
		v, err := n.VNet(req.TargetVirtualNetwork.id())
		if err != nil {
			return nil, "", err
		}
		add(&v.Resource)
		for _, s := range v.Subnets {
			add(&s.Resource)
		}
		n.viewMembers(scope, v.Subnets)
		return scope, "virtual network " + v.Name, nil

	case strings.TrimSpace(req.TargetResourceGroupName) != "":
		rg, sub := strings.TrimSpace(req.TargetResourceGroupName), strings.TrimSpace(req.Subscription)
		in := func(r *Resource) bool {
			return strings.EqualFold(r.ResourceGroup, rg) && (sub == "" || strings.EqualFold(r.Subscription, sub))
		}
		for _, v := range n.VNets {
			if in(&v.Resource) {
				add(&v.Resource)
				for _, s := range v.Subnets {
					add(&s.Resource)
				}
			}
		}
		n.viewTopLevel(func(r *Resource) {
			if in(r) {
				add(r)
			}
		})
		if len(scope) == 0 {
			q := rg
			if sub != "" {
				q = "/subscriptions/" + sub + "/resourceGroups/" + rg
			}
			return nil, "", &LookupError{What: "resource group", Query: q, Err: ErrNotFound}
		}
		n.viewChildren(scope)
		title := "resource group " + rg
		if sub != "" {
			title += " (subscription " + sub + ")"
		}
		return scope, title, nil
	}
	return nil, "", fmt.Errorf("%w: no targetResourceGroupName, targetVirtualNetwork or targetSubnet", ErrBadRequest)
}

// viewTopLevel calls f for every top-level resource other than virtual
// networks, in no particular order.
func (n *Network) viewTopLevel(f func(*Resource)) {
	for _, x := range n.VMs {
		f(&x.Resource)
	}
	for _, x := range n.NICs {
		f(&x.Resource)
	}
	for _, x := range n.NSGs {
		f(&x.Resource)
	}
	for _, x := range n.RouteTables {
		f(&x.Resource)
	}
	for _, x := range n.PublicIPs {
		f(&x.Resource)
	}
	for _, x := range n.VNetGateways {
		f(&x.Resource)
	}
	for _, x := range n.LocalNetworkGateways {
		f(&x.Resource)
	}
	for _, x := range n.Connections {
		f(&x.Resource)
	}
}

// viewChildren adds the rules of the NSGs and the routes of the route
// tables in scope.
func (n *Network) viewChildren(scope map[string]bool) {
	for id, g := range n.NSGs {
		if scope[id] {
			for _, r := range g.SecurityRules {
				scope[CanonicalID(r.ID)] = true
			}
		}
	}
	for id, t := range n.RouteTables {
		if scope[id] {
			for _, r := range t.Routes {
				scope[CanonicalID(r.ID)] = true
			}
		}
	}
}

// viewMembers adds what is in the subnets: NICs and their VMs, NSGs and
// public IPs, the subnets' NSGs and route tables, gateways with their
// public IPs, connections and local network gateways.
func (n *Network) viewMembers(scope map[string]bool, subnets []*Subnet) {
	in := map[string]bool{}
	for _, s := range subnets {
		in[CanonicalID(s.ID)] = true
	}
	add := func(id string, known bool) {
		if known {
			scope[CanonicalID(id)] = true
		}
	}
	for _, s := range subnets {
		add(s.NSGID, n.NSGs[CanonicalID(s.NSGID)] != nil)
		add(s.RouteTableID, n.RouteTables[CanonicalID(s.RouteTableID)] != nil)
	}
	for _, c := range n.IPConfigs {
		if !in[CanonicalID(c.SubnetID)] {
			continue
		}
		nic := n.NICOf(c)
		if nic == nil {
			continue
		}
		add(nic.ID, true)
		add(c.PublicIPID, n.PublicIPs[CanonicalID(c.PublicIPID)] != nil)
		add(nic.NSGID, n.NSGs[CanonicalID(nic.NSGID)] != nil)
		if vm := n.VMOf(nic); vm != nil {
			add(vm.ID, true)
		}
	}
	for _, vm := range n.VMs { // VMs naming a NIC of the subnets that does not name them
		for _, id := range vm.NICIDs {
			if scope[CanonicalID(id)] {
				add(vm.ID, true)
			}
		}
	}
	gws := map[string]bool{}
	for id, g := range n.VNetGateways {
		for _, c := range g.IPConfigs {
			if in[CanonicalID(c.SubnetID)] {
				gws[id] = true
				add(g.ID, true)
				add(c.PublicIPID, n.PublicIPs[CanonicalID(c.PublicIPID)] != nil)
			}
		}
	}
	for _, c := range n.Connections {
		if gws[CanonicalID(c.VirtualNetworkGateway1ID)] || gws[CanonicalID(c.VirtualNetworkGateway2ID)] {
			add(c.ID, true)
			add(c.LocalNetworkGateway2ID, n.LocalNetworkGateways[CanonicalID(c.LocalNetworkGateway2ID)] != nil)
		}
	}
	n.viewChildren(scope)
}

// viewResources builds the answer's resources for a scope.
func (n *Network) viewResources(scope map[string]bool) []ViewResource {
	out := []ViewResource{}
	var cur *ViewResource
	emit := func(r *Resource) {
		out = append(out, ViewResource{Name: r.Name, ID: r.ID, Location: r.Location, Associations: []Association{}})
		cur = &out[len(out)-1]
	}
	assoc := func(t AssociationType, id string) {
		if strings.TrimSpace(id) == "" {
			return
		}
		name, rid := n.viewRef(id)
		for _, a := range cur.Associations {
			if CanonicalID(a.ResourceID) == CanonicalID(rid) && a.AssociationType == t {
				return
			}
		}
		cur.Associations = append(cur.Associations, Association{Name: name, ResourceID: rid, AssociationType: t})
	}
	in := func(r *Resource) bool { return scope[CanonicalID(r.ID)] }

	peers := n.viewPeers()
	for _, v := range Sorted(n.VNets) {
		var subnets []*Subnet
		for _, s := range viewSortedByID(v.Subnets) {
			if in(&s.Resource) {
				subnets = append(subnets, s)
			}
		}
		if in(&v.Resource) {
			emit(&v.Resource)
			for _, s := range viewSortedByID(v.Subnets) {
				assoc(AssociationContains, s.ID)
			}
			for _, p := range peers[CanonicalID(v.ID)] {
				assoc(AssociationAssociated, p)
			}
		}
		for _, s := range subnets {
			emit(&s.Resource)
			assoc(AssociationAssociated, s.NSGID)
			assoc(AssociationAssociated, s.RouteTableID)
		}
	}
	for _, vm := range Sorted(n.VMs) {
		if in(&vm.Resource) {
			emit(&vm.Resource)
			for _, id := range viewSortedIDs(vm.NICIDs) {
				assoc(AssociationContains, id)
			}
		}
	}
	for _, nic := range Sorted(n.NICs) {
		if !in(&nic.Resource) {
			continue
		}
		emit(&nic.Resource)
		assoc(AssociationAssociated, nic.VMID)
		assoc(AssociationAssociated, nic.NSGID)
		cs := viewConfigs(nic)
		for _, c := range cs {
			assoc(AssociationAssociated, c.SubnetID)
		}
		for _, c := range cs {
			assoc(AssociationAssociated, c.PublicIPID)
		}
		for _, c := range cs {
			for _, id := range viewSortedIDs(c.LBBackendPoolIDs) {
				assoc(AssociationAssociated, id)
			}
		}
	}
	for _, g := range Sorted(n.NSGs) {
		if !in(&g.Resource) {
			continue
		}
		emit(&g.Resource)
		rules := viewSortedByID(g.SecurityRules)
		for _, r := range rules {
			assoc(AssociationContains, r.ID)
		}
		for _, r := range rules {
			emit(&r.Resource)
			if cur.Location == "" {
				cur.Location = g.Location
			}
		}
	}
	for _, t := range Sorted(n.RouteTables) {
		if !in(&t.Resource) {
			continue
		}
		emit(&t.Resource)
		routes := viewSortedByID(t.Routes)
		for _, r := range routes {
			assoc(AssociationContains, r.ID)
		}
		for _, r := range routes {
			emit(&r.Resource)
			if cur.Location == "" {
				cur.Location = t.Location
			}
		}
	}
	owners := n.viewPublicIPOwners()
	for _, p := range Sorted(n.PublicIPs) {
		if in(&p.Resource) {
			emit(&p.Resource)
			for _, id := range owners[CanonicalID(p.ID)] {
				assoc(AssociationAssociated, id)
			}
		}
	}
	for _, g := range Sorted(n.VNetGateways) {
		if !in(&g.Resource) {
			continue
		}
		emit(&g.Resource)
		for _, c := range g.IPConfigs {
			assoc(AssociationAssociated, c.SubnetID)
		}
		for _, c := range g.IPConfigs {
			assoc(AssociationAssociated, c.PublicIPID)
		}
	}
	for _, g := range Sorted(n.LocalNetworkGateways) {
		if in(&g.Resource) {
			emit(&g.Resource)
		}
	}
	for _, c := range Sorted(n.Connections) {
		if in(&c.Resource) {
			emit(&c.Resource)
			assoc(AssociationAssociated, c.VirtualNetworkGateway1ID)
			assoc(AssociationAssociated, c.VirtualNetworkGateway2ID)
			assoc(AssociationAssociated, c.LocalNetworkGateway2ID)
			assoc(AssociationAssociated, c.PeerID)
		}
	}
	return out
}

// viewPeers maps each virtual network (canonical id) to the ids of the
// networks it is peered with, in either direction, sorted.
func (n *Network) viewPeers() map[string][]string {
	peers := map[string][]string{}
	link := func(a, b string) {
		ca := CanonicalID(a)
		for _, x := range peers[ca] {
			if CanonicalID(x) == CanonicalID(b) {
				return
			}
		}
		peers[ca] = append(peers[ca], b)
	}
	for _, p := range n.Peerings {
		if p.VNetID == "" || p.RemoteVNetID == "" {
			continue
		}
		link(p.VNetID, p.RemoteVNetID)
		link(p.RemoteVNetID, p.VNetID)
	}
	for k, ids := range peers {
		peers[k] = viewSortedIDs(ids)
	}
	return peers
}

// viewPublicIPOwners maps each public IP (canonical id) to the ids of
// what it is attached to: NICs, gateways, or the parent of its
// ipConfiguration (a load balancer, an application gateway, …).
func (n *Network) viewPublicIPOwners() map[string][]string {
	owners := map[string][]string{}
	add := func(pip, owner string) {
		if pip == "" || owner == "" {
			return
		}
		k := CanonicalID(pip)
		for _, o := range owners[k] {
			if CanonicalID(o) == CanonicalID(owner) {
				return
			}
		}
		owners[k] = append(owners[k], owner)
	}
	for _, c := range n.IPConfigs {
		add(c.PublicIPID, n.viewID(c.NICID))
	}
	for _, g := range n.VNetGateways {
		for _, c := range g.IPConfigs {
			add(c.PublicIPID, g.ID)
		}
	}
	for _, p := range n.PublicIPs {
		if c := n.IPConfigs[CanonicalID(p.IPConfigID)]; c != nil {
			add(p.ID, n.viewID(c.NICID))
		} else if p.IPConfigID != "" {
			add(p.ID, n.viewID(parentID(p.IPConfigID)))
		}
	}
	for k, ids := range owners {
		owners[k] = viewSortedIDs(ids)
	}
	return owners
}

// viewRef returns the name and id an association gives for a reference:
// the resource's own when the network has it, else the reference's last
// segment and the reference as written.
func (n *Network) viewRef(id string) (name, rid string) {
	if r := n.viewResource(id); r != nil {
		return r.Name, r.ID
	}
	id = strings.TrimRight(strings.TrimSpace(id), "/")
	return IDName(id), id
}

// viewID returns the resource's own spelling of an id.
func (n *Network) viewID(id string) string {
	_, rid := n.viewRef(id)
	return rid
}

// viewResource finds a resource of any kind by id, or returns nil.
func (n *Network) viewResource(id string) *Resource {
	k := CanonicalID(id)
	if k == "" {
		return nil
	}
	switch kindOfID(id) {
	case kVNet:
		if x := n.VNets[k]; x != nil {
			return &x.Resource
		}
	case kSubnet:
		if x := n.Subnets[k]; x != nil {
			return &x.Resource
		}
	case kNIC:
		if x := n.NICs[k]; x != nil {
			return &x.Resource
		}
	case kIPConfig:
		if x := n.IPConfigs[k]; x != nil {
			return &x.Resource
		}
	case kNSG:
		if x := n.NSGs[k]; x != nil {
			return &x.Resource
		}
	case kRule, kDefaultRule:
		if x := n.SecurityRules[k]; x != nil {
			return &x.Resource
		}
	case kRouteTable:
		if x := n.RouteTables[k]; x != nil {
			return &x.Resource
		}
	case kRoute:
		if x := n.Routes[k]; x != nil {
			return &x.Resource
		}
	case kVM:
		if x := n.VMs[k]; x != nil {
			return &x.Resource
		}
	case kVNetGateway:
		if x := n.VNetGateways[k]; x != nil {
			return &x.Resource
		}
	case kLocalGateway:
		if x := n.LocalNetworkGateways[k]; x != nil {
			return &x.Resource
		}
	case kConnection:
		if x := n.Connections[k]; x != nil {
			return &x.Resource
		}
	case kPublicIP:
		if x := n.PublicIPs[k]; x != nil {
			return &x.Resource
		}
	case kASG:
		if x := n.ASGs[k]; x != nil {
			return &x.Resource
		}
	}
	return nil
}

// viewConfigs returns a NIC's IP configurations, primary first, then by
// id.
func viewConfigs(nic *NIC) []*IPConfig {
	cs := viewSortedByID(nic.IPConfigs)
	slices.SortStableFunc(cs, func(a, b *IPConfig) int {
		switch {
		case a.Primary && !b.Primary:
			return -1
		case b.Primary && !a.Primary:
			return 1
		}
		return 0
	})
	return cs
}

// viewResourcer is a model type: it embeds Resource.
type viewResourcer interface{ viewRes() *Resource }

func (r *Resource) viewRes() *Resource { return r }

// viewSortedByID returns a copy of rs sorted by canonical id.
func viewSortedByID[T viewResourcer](rs []T) []T {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b T) int { return strings.Compare(CanonicalID(a.viewRes().ID), CanonicalID(b.viewRes().ID)) })
	return out
}

// viewSortedIDs returns ids without blanks and repeats (ignoring case),
// sorted by canonical id.
func viewSortedIDs(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		k := CanonicalID(id)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, id)
	}
	slices.SortStableFunc(out, func(a, b string) int { return strings.Compare(CanonicalID(a), CanonicalID(b)) })
	return out
}
