package topology

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
)

// Network is the model of exported Azure networking resources: VNets
// with their subnets and peerings, NICs with their IP configurations,
// NSGs with their rules, route tables, ASGs, VMs, gateways, connections
// and public IPs.
//
// Every map is keyed by CanonicalID of the resource's id and holds every
// resource of its kind, children included (Subnets holds the subnets of
// all VNets, SecurityRules the user and default rules of all NSGs).
// References between resources are ids as written in the export; the
// lookup methods (NSGOf, SubnetOf, …) follow them.
//
// Build a Network with Load, or with Add for each file followed by
// Resolve. The zero value is an empty network ready for Add. The maps are
// rebuilt by Resolve and are nil before the first call; treat them as
// read-only. A resolved Network is not modified by its methods, so any
// number of goroutines may read it at once; Add and Resolve need
// exclusive access. Do not copy a Network after first use.
//
// Cost: the network keeps every file's parsed JSON (the fragments Resolve
// merges) besides the typed model, a few times the size of the files.
type Network struct {
	VNets                map[string]*VNet
	Subnets              map[string]*Subnet
	Peerings             map[string]*Peering
	NICs                 map[string]*NIC
	IPConfigs            map[string]*IPConfig
	NSGs                 map[string]*NSG
	SecurityRules        map[string]*SecurityRule
	RouteTables          map[string]*RouteTable
	Routes               map[string]*Route
	ASGs                 map[string]*ASG
	VMs                  map[string]*VM
	VNetGateways         map[string]*VirtualNetworkGateway
	LocalNetworkGateways map[string]*LocalNetworkGateway
	Connections          map[string]*Connection
	PublicIPs            map[string]*PublicIP

	// TemplateScope is the scope ARM template resources are deployed
	// into, as "/subscriptions/S/resourceGroups/RG". Templates hold no
	// ids: the ids of their resources, and resourceId() references that
	// leave out subscription or resource group, are built in this scope.
	// When empty, the placeholders {subscriptionId} and
	// {resourceGroupName} stand in. Set it before Add.
	TemplateScope string

	frags []*frag

	byAddr     map[netip.Addr][]*IPConfig
	blocks     []*IPConfig // IP configurations holding a prefix
	asgMembers map[string][]*IPConfig
}

// New returns an empty network.
func New() *Network { return &Network{} }

// Add parses one file's content (name is used in problems and errors)
// and records the resources it holds. Call Resolve after the last Add to
// build the model. Data that is not JSON is an error of type
// *SyntaxError, and nothing of it is recorded; anything else that is
// wrong is reported as a Problem, and what can be used is kept.
//
// Accepted: REST GET bodies and lists ({"value": […]}), ARM example
// envelopes (responses.200.body and request bodies that are resources),
// ARM templates, az CLI show/list output and wrapped create output
// ({"NewNSG": {…}}), Resource Graph rows ({"data": […]}) and PowerShell
// Get-Az… | ConvertTo-Json output, in UTF-8 or UTF-16, one JSON value or
// several after one another. Keys compare ignoring case; null, a missing
// key and [] mean the same.
func (n *Network) Add(name string, data []byte) ([]Problem, error) {
	vals, err := decodeAll(name, data)
	if err != nil {
		return nil, err
	}
	w := &walker{n: n, file: name}
	for i, v := range vals {
		path := "$"
		if len(vals) > 1 {
			path = "$[" + strconv.Itoa(i) + "]"
		}
		before := len(w.frags) + len(w.probs)
		w.top(v, path)
		if len(w.frags)+len(w.probs) == before {
			if l, ok := v.([]any); !ok || len(l) != 0 { // [] is an empty list, fine
				w.problem(path, ProblemSkipped, "no resource found")
			}
		}
	}
	for _, f := range w.frags {
		f.seq = len(n.frags)
		n.frags = append(n.frags, f)
	}
	return w.probs, nil
}

// Sorted returns the values of one of a Network's maps ordered by key
// (canonical id), for deterministic output.
func Sorted[V any](m map[string]V) []V {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// Rules returns an NSG's user and default rules for one direction in
// evaluation order: ascending priority, user rules before default rules
// at equal priority, then export order.
func (g *NSG) Rules(d Direction) []*SecurityRule {
	var out []*SecurityRule
	for _, r := range g.SecurityRules {
		if r.Direction == d {
			out = append(out, r)
		}
	}
	for _, r := range g.DefaultSecurityRules {
		if r.Direction == d {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b *SecurityRule) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		if a.Default != b.Default {
			if a.Default {
				return 1
			}
			return -1
		}
		return 0
	})
	return out
}
