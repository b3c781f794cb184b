package ipflow

import (
	"cmp"
	"net/netip"
	"slices"
)

// Packet is what a rule set judges: one packet of the initiating direction
// of a flow. Addresses are unmapped (IPv4 as IPv4); a packet whose
// addresses are of different families matches no rule.
type Packet struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Protocol         uint8
	// AnySrcPort makes every source-port condition match, as IP flow
	// verify does for a source port given as "*".
	AnySrcPort bool
}

// Matches reports whether the rule matches the packet.
func (r *Rule) Matches(p *Packet) bool {
	return r.Protocols.Has(p.Protocol) &&
		r.Src.Contains(p.Src) && r.Dst.Contains(p.Dst) &&
		portMatches(r.SrcPorts, p.Protocol, p.SrcPort, p.AnySrcPort) &&
		portMatches(r.DstPorts, p.Protocol, p.DstPort, false)
}

func portMatches(ports Ports, proto uint8, port uint16, any bool) bool {
	if ports.IsAny() {
		return true
	}
	return hasPorts(proto) && (any || ports.Has(port))
}

// SortRules orders rules as an NSG evaluates them: by ascending priority,
// then by name so that equal priorities (a broken export) still give one
// answer.
func SortRules(rules []Rule) {
	slices.SortStableFunc(rules, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Name, b.Name))
	})
}

// Linear is the reference evaluator: it tries the rules in order and
// returns the first that matches. It is obviously correct and slow; the
// Classifier must agree with it. The zero value has no rules.
type Linear struct {
	Rules []Rule // in evaluation order (SortRules)
}

// Match returns the index of the first rule that matches p, or -1.
func (l *Linear) Match(p *Packet) int {
	if p.Src.Is4() != p.Dst.Is4() {
		return -1
	}
	for i := range l.Rules {
		if l.Rules[i].Matches(p) {
			return i
		}
	}
	return -1
}
