package ipflow

import (
	"slices"

	"go4.org/netipx"

	"github.com/flowlens/flowlens/topology"
)

// Shadow tells whether a rule can ever decide a packet.
type Shadow struct {
	Rule int // index in the rule set
	// Shadowed is true when rules before it match every packet it
	// would: it can never fire and can be removed without changing any
	// verdict.
	Shadowed bool
	// By lists the earlier rules that take its packets (all of them when
	// Shadowed, the partial overlaps otherwise), in evaluation order.
	By []int
	// Witness is a part of the rule's packets that it decides, when it
	// is not shadowed.
	Witness *Query
	// Unknown is true when the rule's space was too large to split
	// (more than maxShadowQueries range combinations); Shadowed is then
	// false.
	Unknown bool
}

// maxShadowQueries bounds the range combinations tried per rule.
const maxShadowQueries = 4096

// Shadows checks every rule of a rule set: for each rule, the packets it
// matches are split by the classifier into the parts one rule decides;
// the rule is shadowed when no part is its own. Exact, not sampled.
// local, when not nil, is every address the NSG can see on its own side
// (the destination inbound, the source outbound): the prefixes of the
// subnets and NICs it is attached to.
func Shadows(rules []Rule, cls *Classifier, d Direction, local *netipx.IPSet) []Shadow {
	out := make([]Shadow, len(rules))
	for k := range rules {
		r := &rules[k]
		sh := Shadow{Rule: k, Shadowed: true}
		src, dst := r.Src, r.Dst
		if local != nil {
			side := &dst
			if d == Outbound {
				side = &src
			}
			var b netipx.IPSetBuilder
			b.AddSet(*side)
			b.Intersect(local)
			*side, _ = b.IPSet()
		}
		srcs, dsts := src.Ranges(), dst.Ranges()
		if len(srcs)*len(dsts)*len(r.SrcPorts)*len(r.DstPorts) > maxShadowQueries {
			out[k] = Shadow{Rule: k, Unknown: true}
			continue
		}
		seen := map[int]bool{}
	ranges:
		for _, s := range srcs {
			for _, d := range dsts {
				if s.From().Is4() != d.From().Is4() {
					continue
				}
				for _, sp := range r.SrcPorts {
					for _, dp := range r.DstPorts {
						q := Query{Protocols: r.Protocols, Src: s, Dst: d, SrcPorts: sp, DstPorts: dp}
						cls.Expand(q, 0, func(p Part) bool {
							if p.Rule == k {
								if sh.Shadowed {
									w := p.Query
									sh.Witness = &w
								}
								sh.Shadowed = false
							} else if p.Rule >= 0 {
								seen[p.Rule] = true
							}
							return true
						})
						if !sh.Shadowed && len(seen) > 64 {
							break ranges
						}
					}
				}
			}
		}
		if len(srcs) == 0 || len(dsts) == 0 || !reachableFamilies(src, dst) {
			sh.Shadowed, sh.Witness = true, nil // an IPv4 source with an IPv6 destination matches nothing
		}
		for i := range seen {
			sh.By = append(sh.By, i)
		}
		slices.Sort(sh.By)
		out[k] = sh
	}
	return out
}

// reachableFamilies reports whether a rule's sides share an address
// family, without which it matches nothing.
func reachableFamilies(src, dst *netipx.IPSet) bool {
	has := func(s *netipx.IPSet, v4 bool) bool {
		for _, rg := range s.Ranges() {
			if rg.From().Is4() == v4 {
				return true
			}
		}
		return false
	}
	return has(src, true) && has(dst, true) || has(src, false) && has(dst, false)
}

// RuleShadow names a rule that can never fire, or could not be checked.
type RuleShadow struct {
	NSG       string   `json:"nsg"`
	NSGID     string   `json:"nsgId"`
	Direction string   `json:"direction"`
	Rule      string   `json:"rule"` // securityRules/NAME or defaultSecurityRules/NAME
	Priority  int      `json:"priority"`
	Shadowed  bool     `json:"shadowed"`
	By        []string `json:"shadowedBy,omitempty"`
	Unknown   bool     `json:"unknown,omitempty"`
}

// ShadowedRules lists, for every NSG of the network, the rules that
// earlier rules shadow (and those too large to check), for the addresses
// the NSG guards: the prefixes of the subnets and NICs it is attached to
// (every address when it is attached to none). Tags are resolved as seen
// from the first subnet the NSG is attached to, else its first NIC, else
// from nowhere (VirtualNetwork is then the host IP only).
func (e *Evaluator) ShadowedRules() ([]RuleShadow, error) {
	var out []RuleShadow
	for _, nsg := range topology.Sorted(e.net.NSGs) {
		t := &Target{}
		var scope netipx.IPSetBuilder
		attached := false
		for _, s := range topology.Sorted(e.net.Subnets) {
			if e.net.NSGOf(s) == nsg {
				if t.Subnet == nil {
					t.Subnet = s
				}
				for _, p := range s.Prefixes {
					scope.AddPrefix(p)
				}
				attached = true
			}
		}
		for _, nic := range topology.Sorted(e.net.NICs) {
			if e.net.NSGOf(nic) != nsg {
				continue
			}
			for _, c := range nic.IPConfigs {
				if t.Subnet == nil {
					t.NIC, t.IPConfig, t.Subnet = nic, c, e.net.SubnetOf(c)
				}
				if c.PrivatePrefix.IsValid() {
					scope.AddPrefix(c.PrivatePrefix)
					attached = true
				}
			}
		}
		var local *netipx.IPSet
		if attached {
			local, _ = scope.IPSet()
		}
		for _, d := range []Direction{Inbound, Outbound} {
			rs, err := e.RuleSet(nsg, d, t)
			if err != nil {
				return nil, err
			}
			for _, sh := range Shadows(rs.Rules, rs.Classifier, d, local) {
				if !sh.Shadowed && !sh.Unknown {
					continue
				}
				r := &rs.Rules[sh.Rule]
				rsh := RuleShadow{NSG: nsg.Name, NSGID: nsg.ID, Direction: d.String(), Rule: r.AzureName(),
					Priority: r.Priority, Shadowed: sh.Shadowed, Unknown: sh.Unknown}
				for _, b := range sh.By {
					rsh.By = append(rsh.By, rs.Rules[b].AzureName())
				}
				out = append(out, rsh)
			}
		}
	}
	return out, nil
}
