package ipflow

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/flowlens/flowlens/topology"
)

// SecurityGroupViewRequest is the body of Azure's security group view
// request (SecurityGroupViewParameters).
type SecurityGroupViewRequest struct {
	TargetResourceID string `json:"targetResourceId"`
}

// ParseSecurityGroupViewRequest reads a request body, or an ARM example
// envelope holding one under parameters.parameters.
func ParseSecurityGroupViewRequest(data []byte) (SecurityGroupViewRequest, error) {
	return parseRequestBody[SecurityGroupViewRequest](data)
}

// SecurityGroupViewResult is Azure's response body of security group
// view (SecurityGroupViewResult).
type SecurityGroupViewResult struct {
	NetworkInterfaces []SecurityGroupNetworkInterface `json:"networkInterfaces"`
}

// SecurityGroupNetworkInterface is the view of one NIC.
type SecurityGroupNetworkInterface struct {
	ID                       string                   `json:"id"`
	SecurityRuleAssociations SecurityRuleAssociations `json:"securityRuleAssociations"`
}

// SecurityRuleAssociations holds the NSGs that apply to a NIC and the
// rules that result. A missing association is null.
type SecurityRuleAssociations struct {
	NetworkInterfaceAssociation *Association                   `json:"networkInterfaceAssociation"`
	SubnetAssociation           *Association                   `json:"subnetAssociation"`
	DefaultSecurityRules        []RESTSecurityRule             `json:"defaultSecurityRules"`
	EffectiveSecurityRules      []EffectiveNetworkSecurityRule `json:"effectiveSecurityRules"`
}

// Association is a NIC's or subnet's NSG with its user rules.
type Association struct {
	ID            string             `json:"id"`
	SecurityRules []RESTSecurityRule `json:"securityRules"`
}

// RESTSecurityRule is a security rule in the REST shape.
type RESTSecurityRule struct {
	Name       string             `json:"name"`
	ID         string             `json:"id,omitempty"`
	Properties RESTRuleProperties `json:"properties"`
}

// RESTRuleProperties are a rule's properties in the REST shape. Single
// values go in the singular fields, several in the plural arrays.
type RESTRuleProperties struct {
	Description                          string   `json:"description,omitempty"`
	Protocol                             string   `json:"protocol"`
	SourcePortRange                      string   `json:"sourcePortRange,omitempty"`
	DestinationPortRange                 string   `json:"destinationPortRange,omitempty"`
	SourceAddressPrefix                  string   `json:"sourceAddressPrefix,omitempty"`
	DestinationAddressPrefix             string   `json:"destinationAddressPrefix,omitempty"`
	SourcePortRanges                     []string `json:"sourcePortRanges,omitempty"`
	DestinationPortRanges                []string `json:"destinationPortRanges,omitempty"`
	SourceAddressPrefixes                []string `json:"sourceAddressPrefixes,omitempty"`
	DestinationAddressPrefixes           []string `json:"destinationAddressPrefixes,omitempty"`
	SourceApplicationSecurityGroups      []IDRef  `json:"sourceApplicationSecurityGroups,omitempty"`
	DestinationApplicationSecurityGroups []IDRef  `json:"destinationApplicationSecurityGroups,omitempty"`
	Access                               string   `json:"access"`
	Priority                             int      `json:"priority"`
	Direction                            string   `json:"direction"`
	ProvisioningState                    string   `json:"provisioningState,omitempty"`
}

// IDRef is {"id": …}.
type IDRef struct {
	ID string `json:"id"`
}

// EffectiveNetworkSecurityRule is a rule as the effective rules APIs
// print it: ports as N-M, "*" as 0.0.0.0/0, protocol All for "*", tags
// and ASGs expanded into prefixes.
type EffectiveNetworkSecurityRule struct {
	Name                             string   `json:"name"`
	Protocol                         string   `json:"protocol"`
	SourcePortRange                  string   `json:"sourcePortRange,omitempty"`
	DestinationPortRange             string   `json:"destinationPortRange,omitempty"`
	SourcePortRanges                 []string `json:"sourcePortRanges"`
	DestinationPortRanges            []string `json:"destinationPortRanges"`
	SourceAddressPrefix              string   `json:"sourceAddressPrefix,omitempty"`
	DestinationAddressPrefix         string   `json:"destinationAddressPrefix,omitempty"`
	SourceAddressPrefixes            []string `json:"sourceAddressPrefixes"`
	DestinationAddressPrefixes       []string `json:"destinationAddressPrefixes"`
	ExpandedSourceAddressPrefix      []string `json:"expandedSourceAddressPrefix"`
	ExpandedDestinationAddressPrefix []string `json:"expandedDestinationAddressPrefix"`
	Access                           string   `json:"access"`
	Priority                         int      `json:"priority"`
	Direction                        string   `json:"direction"`
}

// SecurityGroupView answers the security group view request for a VM
// (or a NIC), by id or by name.
func (e *Evaluator) SecurityGroupView(target string) (*SecurityGroupViewResult, error) {
	nics, err := e.targetNICs(target)
	if err != nil {
		return nil, err
	}
	out := &SecurityGroupViewResult{NetworkInterfaces: []SecurityGroupNetworkInterface{}}
	for _, nic := range nics {
		t, err := e.TargetFor(nic, netip.Addr{})
		if err != nil {
			return nil, err
		}
		var a SecurityRuleAssociations
		if t.NICNSG != nil {
			a.NetworkInterfaceAssociation = &Association{ID: nic.ID, SecurityRules: restRules(t.NICNSG.SecurityRules)}
		}
		if t.SubnetNSG != nil {
			a.SubnetAssociation = &Association{ID: t.Subnet.ID, SecurityRules: restRules(t.SubnetNSG.SecurityRules)}
		}
		a.DefaultSecurityRules = []RESTSecurityRule{}
		if nsg := cmpOr(t.NICNSG, t.SubnetNSG); nsg != nil {
			a.DefaultSecurityRules = restRules(nsg.DefaultSecurityRules)
		}
		a.EffectiveSecurityRules = []EffectiveNetworkSecurityRule{}
		for _, d := range []Direction{Inbound, Outbound} {
			rules, err := e.EffectiveRules(t, d)
			if err != nil {
				return nil, err
			}
			a.EffectiveSecurityRules = append(a.EffectiveSecurityRules, rules...)
		}
		out.NetworkInterfaces = append(out.NetworkInterfaces, SecurityGroupNetworkInterface{ID: nic.ID, SecurityRuleAssociations: a})
	}
	return out, nil
}

func cmpOr(a, b *topology.NSG) *topology.NSG {
	if a != nil {
		return a
	}
	return b
}

// targetNICs returns the NICs of a VM, or the NIC itself.
func (e *Evaluator) targetNICs(target string) ([]*topology.NIC, error) {
	if vm, err := e.net.VM(target); err == nil {
		nics := e.net.NICsOf(vm)
		if len(nics) == 0 {
			return nil, fmt.Errorf("%w: VM %s has no network interface in the export", ErrBadRequest, vm.Name)
		}
		return nics, nil
	}
	nic, err := e.net.NIC(target)
	if err != nil {
		return nil, fmt.Errorf("%w: no VM or NIC %q in the network", ErrBadRequest, target)
	}
	return []*topology.NIC{nic}, nil
}

func restRules(rules []*topology.SecurityRule) []RESTSecurityRule {
	out := make([]RESTSecurityRule, 0, len(rules))
	for _, r := range rules {
		p := RESTRuleProperties{
			Description: r.Description, Protocol: string(r.Protocol), Access: string(r.Access),
			Priority: r.Priority, Direction: string(r.Direction), ProvisioningState: "Succeeded",
		}
		p.SourceAddressPrefix, p.SourceAddressPrefixes = singleOrMany(r.SourceAddressPrefixes)
		p.DestinationAddressPrefix, p.DestinationAddressPrefixes = singleOrMany(r.DestinationAddressPrefixes)
		p.SourcePortRange, p.SourcePortRanges = singleOrMany(r.SourcePortRanges)
		p.DestinationPortRange, p.DestinationPortRanges = singleOrMany(r.DestinationPortRanges)
		for _, id := range r.SourceASGIDs {
			p.SourceApplicationSecurityGroups = append(p.SourceApplicationSecurityGroups, IDRef{id})
		}
		for _, id := range r.DestinationASGIDs {
			p.DestinationApplicationSecurityGroups = append(p.DestinationApplicationSecurityGroups, IDRef{id})
		}
		out = append(out, RESTSecurityRule{Name: r.Name, ID: r.ID, Properties: p})
	}
	return out
}

func singleOrMany(v []string) (string, []string) {
	if len(v) == 1 {
		return v[0], nil
	}
	return "", v
}

// EffectiveName is a rule's name in the security group view's effective
// rules (spec §1.8): UserRule_NAME [X], DefaultRule_NAME, and
// DefaultInboundDenyAll / DefaultOutboundDenyAll for the deny-all rules.
func EffectiveName(r *topology.SecurityRule) string {
	if !r.Default {
		return "UserRule_" + r.Name
	}
	switch {
	case strings.EqualFold(r.Name, "DenyAllInBound"):
		return "DefaultInboundDenyAll"
	case strings.EqualFold(r.Name, "DenyAllOutBound"):
		return "DefaultOutboundDenyAll"
	}
	return "DefaultRule_" + r.Name
}

// EffectiveRules returns the rules that apply to traffic of direction d
// at t, in evaluation order: each NSG's rules by priority, inbound the
// subnet's then the NIC's, outbound the NIC's then the subnet's [X].
// Names are the security group view's (EffectiveName).
func (e *Evaluator) EffectiveRules(t *Target, d Direction) ([]EffectiveNetworkSecurityRule, error) {
	stages, err := e.Stages(t, d)
	if err != nil {
		return nil, err
	}
	var out []EffectiveNetworkSecurityRule
	for _, st := range stages {
		rules, err := e.effectiveRulesOf(t, st.Rules, EffectiveName)
		if err != nil {
			return nil, err
		}
		out = append(out, rules...)
	}
	return out, nil
}

// effectiveRulesOf writes one NSG's rules of one direction in the
// effective shape, naming each with name.
func (e *Evaluator) effectiveRulesOf(t *Target, rs *RuleSet, name func(*topology.SecurityRule) string) ([]EffectiveNetworkSecurityRule, error) {
	res := &targetResolver{e: e, t: t}
	out := make([]EffectiveNetworkSecurityRule, 0, len(rs.Source))
	var err error
	for i, src := range rs.Source {
		r := EffectiveNetworkSecurityRule{
			Name: name(src), Access: rs.Rules[i].Access.String(),
			Priority: src.Priority, Direction: rs.Direction.String(), Protocol: effectiveProtocol(string(src.Protocol)),
		}
		r.SourcePortRange, r.SourcePortRanges = effectivePorts(src.SourcePortRanges)
		r.DestinationPortRange, r.DestinationPortRanges = effectivePorts(src.DestinationPortRanges)
		if r.SourceAddressPrefix, r.SourceAddressPrefixes, r.ExpandedSourceAddressPrefix, err = e.effectiveAddrs(res, src.SourceAddressPrefixes, src.SourceASGIDs); err != nil {
			return nil, err
		}
		if r.DestinationAddressPrefix, r.DestinationAddressPrefixes, r.ExpandedDestinationAddressPrefix, err = e.effectiveAddrs(res, src.DestinationAddressPrefixes, src.DestinationASGIDs); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// EffectiveNetworkSecurityGroupList is the body of Azure's effective
// network security groups of a NIC (effectiveNetworkSecurityGroups).
type EffectiveNetworkSecurityGroupList struct {
	Value    []EffectiveNetworkSecurityGroup `json:"value"`
	NextLink *string                         `json:"nextLink"`
}

// EffectiveNetworkSecurityGroup is one NSG that applies to a NIC.
type EffectiveNetworkSecurityGroup struct {
	NetworkSecurityGroup   IDRef                          `json:"networkSecurityGroup"`
	Association            EffectiveAssociation           `json:"association"`
	EffectiveSecurityRules []EffectiveNetworkSecurityRule `json:"effectiveSecurityRules"`
	TagMap                 map[string][]string            `json:"tagMap"`
}

// EffectiveAssociation says where an NSG is attached.
type EffectiveAssociation struct {
	Subnet           *IDRef `json:"subnet,omitempty"`
	NetworkInterface *IDRef `json:"networkInterface,omitempty"`
}

// EffectiveNetworkSecurityGroups answers Azure's effective network
// security groups request for a NIC (by id or name): one element per NSG
// that applies, subnet NSG first, each with its rules of both directions
// (names securityRules/… and defaultSecurityRules/…) and the prefixes of
// the service tags they name.
func (e *Evaluator) EffectiveNetworkSecurityGroups(nicName string) (*EffectiveNetworkSecurityGroupList, error) {
	nic, err := e.net.NIC(nicName)
	if err != nil {
		return nil, err
	}
	t, err := e.TargetFor(nic, netip.Addr{})
	if err != nil {
		return nil, err
	}
	out := &EffectiveNetworkSecurityGroupList{Value: []EffectiveNetworkSecurityGroup{}}
	add := func(nsg *topology.NSG) error {
		g := EffectiveNetworkSecurityGroup{NetworkSecurityGroup: IDRef{nsg.ID}, EffectiveSecurityRules: []EffectiveNetworkSecurityRule{}, TagMap: map[string][]string{}}
		if t.SubnetNSG == nsg {
			g.Association.Subnet = &IDRef{t.Subnet.ID}
		}
		if t.NICNSG == nsg {
			g.Association.NetworkInterface = &IDRef{nic.ID}
		}
		for _, d := range []Direction{Inbound, Outbound} {
			rs, err := e.RuleSet(nsg, d, t)
			if err != nil {
				return err
			}
			rules, err := e.effectiveRulesOf(t, rs, func(r *topology.SecurityRule) string {
				var x Rule
				x.Name, x.Default = r.Name, r.Default
				return x.AzureName()
			})
			if err != nil {
				return err
			}
			res := &targetResolver{e: e, t: t}
			for _, r := range rs.Source {
				for _, tok := range slices.Concat(r.SourceAddressPrefixes, r.DestinationAddressPrefixes) {
					if _, done := g.TagMap[tok]; done || !isTagName(tok) {
						continue
					}
					set, err := res.Tag(tok)
					if err != nil {
						return err
					}
					prefixes := []string{}
					for _, p := range set.Prefixes() {
						prefixes = append(prefixes, p.String())
					}
					g.TagMap[tok] = prefixes
				}
			}
			g.EffectiveSecurityRules = append(g.EffectiveSecurityRules, rules...)
		}
		out.Value = append(out.Value, g)
		return nil
	}
	if t.SubnetNSG != nil {
		if err := add(t.SubnetNSG); err != nil {
			return nil, err
		}
	}
	if t.NICNSG != nil && t.NICNSG != t.SubnetNSG {
		if err := add(t.NICNSG); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func effectiveProtocol(p string) string {
	if p == "" || p == "*" {
		return "All"
	}
	return p
}

// effectivePorts writes ports as N-M (0-65535 for *); the plural array
// repeats a single value.
func effectivePorts(tokens []string) (string, []string) {
	if len(tokens) == 0 {
		tokens = []string{"*"}
	}
	out := make([]string, 0, len(tokens))
	for _, t := range tokens {
		if r, err := ParsePortRange(t); err == nil {
			out = append(out, r.String())
		} else {
			out = append(out, t)
		}
	}
	if len(out) == 1 {
		return out[0], out
	}
	return "", out
}

// effectiveAddrs writes address tokens with * as 0.0.0.0/0, and expands
// service tags and ASGs (the ASG's name stands in the prefix list [X]).
func (e *Evaluator) effectiveAddrs(res *targetResolver, tokens, asgs []string) (string, []string, []string, error) {
	if len(tokens) == 0 && len(asgs) == 0 {
		tokens = []string{"*"}
	}
	var list []string
	var b netipx.IPSetBuilder
	expand := false
	for _, t := range tokens {
		switch {
		case IsAnyAddress(t):
			list = append(list, "0.0.0.0/0")
		case isTagName(t):
			set, err := res.Tag(t)
			if err != nil {
				return "", nil, nil, err
			}
			b.AddSet(set)
			expand = true
			list = append(list, t)
		default:
			if p, ok := ParseAddressPrefix(t); ok {
				b.AddPrefix(p)
				list = append(list, p.String()) // 1.1.1.1 is written 1.1.1.1/32
			} else {
				list = append(list, t)
			}
		}
	}
	for _, id := range asgs {
		set, err := res.ASG(id)
		if err != nil {
			return "", nil, nil, err
		}
		b.AddSet(set)
		expand = true
		list = append(list, topology.IDName(id))
	}
	var expanded []string
	if expand {
		set, err := b.IPSet()
		if err != nil {
			return "", nil, nil, err
		}
		expanded = []string{}
		for _, p := range set.Prefixes() {
			expanded = append(expanded, p.String())
		}
	}
	if len(list) == 1 {
		return list[0], list, expanded, nil
	}
	return "", list, expanded, nil
}
