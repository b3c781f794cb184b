package ipflow

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/flowlens/flowlens/topology"
)

// Config sets what the evaluator knows beyond the network export.
type Config struct {
	// ServiceTags resolves tags other than VirtualNetwork, Internet and
	// AzureLoadBalancer; nil makes a rule that names one an error.
	ServiceTags *ServiceTags
	// Internet is what the Internet tag stands for; nil means
	// DefaultInternet.
	Internet *netipx.IPSet
}

// Evaluator answers questions about a network's security rules: IP flow
// verify and effective rules. It compiles each NSG once per direction and
// per VNet context (the VirtualNetwork tag depends on where the NIC is)
// and keeps the classifiers. Safe for concurrent use; the network must not
// change while the evaluator is in use.
type Evaluator struct {
	net      *topology.Network
	cfg      Config
	mu       sync.Mutex
	compiled map[compileKey]*RuleSet
	locals   map[localKey]*localClassifier
	vnetTags map[string]*netipx.IPSet
	targets  map[targetKey]*Target
	stages   map[stagesKey][]Stage
}

// localClassifier returns the classifier of rs specialised to one local
// address, building it once.
func (e *Evaluator) localClassifier(rs *RuleSet, addr netip.Addr) *localClassifier {
	key := localKey{rs, addr}
	e.mu.Lock()
	defer e.mu.Unlock()
	if lc, ok := e.locals[key]; ok {
		return lc
	}
	lc := newLocalClassifier(rs, addr)
	e.locals[key] = lc
	return lc
}

// NewEvaluator returns an evaluator over a resolved network.
func NewEvaluator(n *topology.Network, cfg Config) *Evaluator {
	if cfg.Internet == nil {
		cfg.Internet = DefaultInternet
	}
	return &Evaluator{net: n, cfg: cfg, compiled: map[compileKey]*RuleSet{}, locals: map[localKey]*localClassifier{},
		targets: map[targetKey]*Target{}, stages: map[stagesKey][]Stage{}, vnetTags: map[string]*netipx.IPSet{}}
}

// Network returns the network the evaluator answers for.
func (e *Evaluator) Network() *topology.Network { return e.net }

// RuleSet is one NSG's rules for one direction, compiled in one context.
type RuleSet struct {
	NSG        *topology.NSG
	Direction  Direction
	Rules      []Rule                   // evaluation order
	Source     []*topology.SecurityRule // Source[i] is what Rules[i] was compiled from
	Classifier *Classifier
}

type compileKey struct {
	nsg, context string
	dir          Direction
}

type localKey struct {
	rs    *RuleSet
	local netip.Addr
}

// Target is the place a packet is judged at: one IP configuration of a
// NIC, with its subnet and the NSGs on both.
type Target struct {
	NIC       *topology.NIC
	IPConfig  *topology.IPConfig
	Subnet    *topology.Subnet // nil when the export lacks it
	SubnetNSG *topology.NSG    // nil: none
	NICNSG    *topology.NSG    // nil: none
}

// TargetFor finds the IP configuration of nic holding addr (any
// configuration when addr is invalid) and what applies to it.
func (e *Evaluator) TargetFor(nic *topology.NIC, addr netip.Addr) (*Target, error) {
	var cfg *topology.IPConfig
	for _, c := range nic.IPConfigs {
		if !addr.IsValid() || c.PrivatePrefix.IsValid() && c.PrivatePrefix.Contains(addr) {
			cfg = c
			break
		}
	}
	if cfg == nil {
		var have []string
		for _, c := range nic.IPConfigs {
			have = append(have, c.PrivatePrefix.String())
		}
		return nil, fmt.Errorf("%w: %s is not a private address of %s (it has %s)", ErrBadRequest, addr, nic.Name, strings.Join(have, ", "))
	}
	t := &Target{NIC: nic, IPConfig: cfg, Subnet: e.net.SubnetOf(cfg), NICNSG: e.net.NSGOf(nic)}
	if t.Subnet != nil {
		t.SubnetNSG = e.net.NSGOf(t.Subnet)
	}
	return t, nil
}

// context names what the VirtualNetwork tag depends on: the VNet and the
// subnet's route table.
func (e *Evaluator) context(t *Target) string {
	if t.Subnet == nil {
		return ""
	}
	return topology.CanonicalID(t.Subnet.VNetID) + "|" + topology.CanonicalID(t.Subnet.RouteTableID)
}

// RuleSet returns nsg's rules for direction d, compiled for target t.
func (e *Evaluator) RuleSet(nsg *topology.NSG, d Direction, t *Target) (*RuleSet, error) {
	key := compileKey{nsg: topology.CanonicalID(nsg.ID), context: e.context(t), dir: d}
	e.mu.Lock()
	defer e.mu.Unlock()
	if rs, ok := e.compiled[key]; ok {
		return rs, nil
	}
	res := &targetResolver{e: e, t: t}
	rs := &RuleSet{NSG: nsg, Direction: d}
	for _, r := range nsg.Rules(topology.Direction(d.String())) {
		spec := specOf(r)
		rule, err := Compile(&spec, res)
		if err != nil {
			return nil, fmt.Errorf("NSG %s: %w", nsg.Name, err)
		}
		rs.Rules = append(rs.Rules, rule)
		rs.Source = append(rs.Source, r)
	}
	rs.Classifier = NewClassifier(rs.Rules)
	e.compiled[key] = rs
	return rs, nil
}

func specOf(r *topology.SecurityRule) Spec {
	s := Spec{
		Name:     r.Name,
		Default:  r.Default,
		Priority: r.Priority,
		Protocol: string(r.Protocol),
		SrcAddrs: r.SourceAddressPrefixes, DstAddrs: r.DestinationAddressPrefixes,
		SrcPorts: r.SourcePortRanges, DstPorts: r.DestinationPortRanges,
		SrcASGs: r.SourceASGIDs, DstASGs: r.DestinationASGIDs,
	}
	s.Direction, _ = ParseDirection(string(r.Direction))
	s.Access, _ = ParseAccess(string(r.Access))
	if s.Protocol == "" {
		s.Protocol = "*"
	}
	return s
}

// targetResolver resolves tags and ASGs as seen from one target.
type targetResolver struct {
	e *Evaluator
	t *Target
}

var hostSet = func() *netipx.IPSet {
	var b netipx.IPSetBuilder
	b.Add(HostIP)
	s, _ := b.IPSet()
	return s
}()

func (r *targetResolver) Tag(name string) (*netipx.IPSet, error) {
	switch CanonicalTag(name) {
	case "VirtualNetwork":
		return r.e.virtualNetwork(r.t), nil
	case "AzureLoadBalancer":
		return hostSet, nil
	case "Internet":
		return r.e.cfg.Internet, nil
	}
	if set, ok := r.e.cfg.ServiceTags.Lookup(name); ok {
		return set, nil
	}
	if r.e.cfg.ServiceTags.Len() == 0 {
		return nil, fmt.Errorf("%w %q: give its prefixes with a ServiceTags_Public JSON file (--service-tags)", ErrUnknownTag, name)
	}
	return nil, fmt.Errorf("%w %q: not in the service tags file", ErrUnknownTag, name)
}

func (r *targetResolver) ASG(id string) (*netipx.IPSet, error) {
	var b netipx.IPSetBuilder
	for _, c := range r.e.net.ASGMembers(id) {
		if c.PrivatePrefix.IsValid() {
			b.AddPrefix(c.PrivatePrefix)
		}
	}
	return b.IPSet()
}

// VirtualNetwork returns what the VirtualNetwork tag stands for at t: the
// VNet's address space; the address space of peered VNets whose peering is
// connected and allows virtual network access; the prefixes of local
// network gateways connected to a gateway in the VNet (or in a peer whose
// gateway the VNet uses); prefixes learned by those gateways; the host IP
// 168.63.129.16; and the prefixes of the user routes of t's subnet [X].
func (e *Evaluator) VirtualNetwork(t *Target) *netipx.IPSet {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.virtualNetwork(t)
}

// virtualNetwork is VirtualNetwork with e.mu held.
func (e *Evaluator) virtualNetwork(t *Target) *netipx.IPSet {
	key := e.context(t)
	if s, ok := e.vnetTags[key]; ok {
		return s
	}
	var b netipx.IPSetBuilder
	b.Add(HostIP)
	if t.Subnet != nil {
		n := e.net
		vnet := n.VNetOf(t.Subnet)
		gatewayVNets := []string{topology.CanonicalID(t.Subnet.VNetID)}
		if vnet != nil {
			for _, p := range vnet.AddressSpace {
				b.AddPrefix(p)
			}
			for _, pr := range vnet.Peerings {
				if !pr.AllowVirtualNetworkAccess || pr.PeeringState != "" && !strings.EqualFold(pr.PeeringState, "Connected") {
					continue
				}
				space := pr.RemoteAddressSpace
				if remote := n.PeeringRemote(pr); len(space) == 0 && remote != nil {
					space = remote.AddressSpace
				}
				for _, p := range space {
					b.AddPrefix(p)
				}
				if pr.UseRemoteGateways {
					gatewayVNets = append(gatewayVNets, topology.CanonicalID(pr.RemoteVNetID))
				}
			}
		}
		for _, gw := range e.gatewaysIn(gatewayVNets) {
			for _, r := range gw.LearnedRoutes {
				if r.Network.IsValid() {
					b.AddPrefix(r.Network)
				}
			}
			for _, c := range n.Connections {
				if topology.CanonicalID(c.VirtualNetworkGateway1ID) != topology.CanonicalID(gw.ID) {
					continue
				}
				if lng := n.LocalNetworkGateways[topology.CanonicalID(c.LocalNetworkGateway2ID)]; lng != nil {
					for _, p := range lng.AddressPrefixes {
						b.AddPrefix(p)
					}
				}
			}
		}
		if rt := n.RouteTableOf(t.Subnet); rt != nil {
			for _, r := range rt.Routes {
				if r.Prefix.IsValid() {
					b.AddPrefix(r.Prefix)
				}
			}
		}
	}
	s, _ := b.IPSet()
	e.vnetTags[key] = s
	return s
}

// gatewaysIn returns the virtual network gateways whose IP configurations
// sit in one of the VNets (canonical ids).
func (e *Evaluator) gatewaysIn(vnets []string) []*topology.VirtualNetworkGateway {
	var out []*topology.VirtualNetworkGateway
	for _, gw := range topology.Sorted(e.net.VNetGateways) {
		for _, c := range gw.IPConfigs {
			sub := e.net.Subnets[topology.CanonicalID(c.SubnetID)]
			if sub != nil && containsFold(vnets, sub.VNetID) {
				out = append(out, gw)
				break
			}
		}
	}
	return out
}

func containsFold(ids []string, id string) bool {
	id = topology.CanonicalID(id)
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Level says where an NSG is attached.
type Level uint8

// Levels.
const (
	LevelSubnet Level = iota + 1
	LevelNIC
)

func (l Level) String() string {
	switch l {
	case LevelSubnet:
		return "subnet"
	case LevelNIC:
		return "NIC"
	}
	return ""
}

// Stage is one NSG of an evaluation.
type Stage struct {
	Level Level
	Rules *RuleSet
	// local, when set, is a classifier over only the rules whose local
	// side (destination inbound, source outbound) holds the target's
	// address, with that side widened to every address: one dimension
	// less to search and fewer rules to AND. index maps its rules to
	// Rules.Rules. It answers only packets whose local address is the
	// target's.
	local *localClassifier
}

type localClassifier struct {
	cls   *Classifier
	index []int32
}

// classifier returns the classifier a packet at this stage goes through
// and the map of its rule numbers to Rules.Rules (nil: the same).
func (st *Stage) classifier() (*Classifier, []int32) {
	if st.local != nil {
		return st.local.cls, st.local.index
	}
	return st.Rules.Classifier, nil
}

// newLocalClassifier keeps the rules of rs whose local side holds addr.
func newLocalClassifier(rs *RuleSet, addr netip.Addr) *localClassifier {
	lc := &localClassifier{}
	var rules []Rule
	for i, r := range rs.Rules {
		side := &r.Dst
		if rs.Direction == Outbound {
			side = &r.Src
		}
		if !(*side).Contains(addr) {
			continue
		}
		*side = everything
		rules = append(rules, r)
		lc.index = append(lc.index, int32(i))
	}
	lc.cls = NewClassifier(rules)
	return lc
}

// Stages returns the NSGs a packet of direction d crosses at t, in
// order: inbound subnet then NIC, outbound NIC then subnet.
func (e *Evaluator) Stages(t *Target, d Direction) ([]Stage, error) {
	var out []Stage
	add := func(nsg *topology.NSG, l Level) error {
		if nsg == nil {
			return nil
		}
		rs, err := e.RuleSet(nsg, d, t)
		if err != nil {
			return err
		}
		st := Stage{Level: l, Rules: rs}
		if t.IPConfig != nil && t.IPConfig.PrivatePrefix.IsSingleIP() {
			st.local = e.localClassifier(rs, t.IPConfig.PrivatePrefix.Addr())
		}
		out = append(out, st)
		return nil
	}
	first, second := t.SubnetNSG, t.NICNSG
	l1, l2 := LevelSubnet, LevelNIC
	if d == Outbound {
		first, second, l1, l2 = second, first, l2, l1
	}
	if err := add(first, l1); err != nil {
		return nil, err
	}
	if err := add(second, l2); err != nil {
		return nil, err
	}
	return out, nil
}

// Verdict is the answer for one packet at one target.
type Verdict struct {
	Access Access
	// Stage and Rule name the deciding rule: the denying one, or when
	// every NSG allows, the rule of the last NSG evaluated [X]. Stage is
	// nil when no NSG applies (Access is then Allow) and Rule is -1 when
	// an NSG had no matching rule (Access is then Deny).
	Stage *Stage
	Rule  int
}

// RuleName is the deciding rule in Azure's form (securityRules/NAME or
// defaultSecurityRules/NAME), or "" when there is none.
func (v *Verdict) RuleName() string {
	if r := v.DecidingRule(); r != nil {
		return r.AzureName()
	}
	return ""
}

// DecidingRule returns the deciding rule, or nil.
func (v *Verdict) DecidingRule() *Rule {
	if v.Stage == nil || v.Rule < 0 {
		return nil
	}
	return &v.Stage.Rules.Rules[v.Rule]
}

// Judge runs the stages on one packet. The first NSG that denies decides.
func Judge(stages []Stage, p *Packet) Verdict {
	v := Verdict{Access: Allow, Rule: -1}
	for i := range stages {
		st := &stages[i]
		cls, index := st.classifier()
		k := cls.Match(p)
		if k >= 0 && index != nil {
			k = int(index[k])
		}
		v.Stage, v.Rule = st, k
		if k < 0 {
			v.Access = Deny
			return v
		}
		if st.Rules.Rules[k].Access == Deny {
			v.Access = Deny
			return v
		}
	}
	return v
}

// ErrBadRequest is the reason of errors about a request that cannot be
// answered as asked.
var ErrBadRequest = errors.New("bad request")
