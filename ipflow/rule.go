package ipflow

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/flowlens/flowlens/topology"
)

// Access is a rule's verdict.
type Access uint8

// Accesses. The zero value is not a verdict.
const (
	Allow Access = iota + 1
	Deny
)

func (a Access) String() string {
	switch a {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return ""
}

// ParseAccess reads "Allow" or "Deny", in any case.
func ParseAccess(s string) (Access, error) {
	switch {
	case strings.EqualFold(s, "Allow"):
		return Allow, nil
	case strings.EqualFold(s, "Deny"):
		return Deny, nil
	}
	return 0, fmt.Errorf("%w %q (want Allow or Deny)", ErrBadAccess, s)
}

// Direction is the direction of traffic relative to the evaluated NIC.
type Direction uint8

// Directions. The zero value is not a direction.
const (
	Inbound Direction = iota + 1
	Outbound
)

func (d Direction) String() string {
	switch d {
	case Inbound:
		return "Inbound"
	case Outbound:
		return "Outbound"
	}
	return ""
}

// ParseDirection reads "Inbound" or "Outbound" (also "in", "out"), in any case.
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(s) {
	case "inbound", "in":
		return Inbound, nil
	case "outbound", "out":
		return Outbound, nil
	}
	return 0, fmt.Errorf("%w %q (want Inbound or Outbound)", ErrBadDirection, s)
}

// IANA protocol numbers the rules name.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoESP    = 50
	ProtoAH     = 51
	ProtoICMPv6 = 58
)

// ProtoSet is a set of IANA protocol numbers. The zero value is empty.
type ProtoSet [4]uint64

// Has reports whether p is in the set.
func (s *ProtoSet) Has(p uint8) bool { return s[p>>6]&(1<<(p&63)) != 0 }

// Add puts p into the set.
func (s *ProtoSet) Add(p uint8) { s[p>>6] |= 1 << (p & 63) }

// AllProtocols is the set a rule with protocol "*" matches.
var AllProtocols = ProtoSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}

// ParseProtocol reads a rule's protocol: "*" (also "Any", "All"), "Tcp",
// "Udp", "Icmp" (which matches ICMP and ICMPv6), "Esp", "Ah", in any case,
// or a protocol number.
func ParseProtocol(s string) (ProtoSet, error) {
	var set ProtoSet
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "*", "any", "all":
		return AllProtocols, nil
	case "tcp":
		set.Add(ProtoTCP)
	case "udp":
		set.Add(ProtoUDP)
	case "icmp":
		set.Add(ProtoICMP)
		set.Add(ProtoICMPv6)
	case "icmpv6":
		set.Add(ProtoICMPv6)
	case "esp":
		set.Add(ProtoESP)
	case "ah":
		set.Add(ProtoAH)
	default:
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil {
			return set, fmt.Errorf("%w %q (want Tcp, Udp, Icmp, Esp, Ah, * or a number)", ErrBadProtocol, s)
		}
		set.Add(uint8(n))
	}
	return set, nil
}

// hasPorts reports whether packets of protocol p carry ports. Port
// conditions other than "*" never match the other protocols.
func hasPorts(p uint8) bool { return p == ProtoTCP || p == ProtoUDP }

// PortRange is an inclusive range of ports.
type PortRange struct{ Lo, Hi uint16 }

// AnyPort is the range "*" stands for.
var AnyPort = PortRange{0, 65535}

func (r PortRange) String() string {
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

// ParsePortRange reads "*" (or "Any"), "N" or "N-M" with
// 0 ≤ N ≤ M ≤ 65535, as topology.ParsePortRange does.
func ParsePortRange(s string) (PortRange, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "any") {
		s = "*"
	}
	lo, hi, err := topology.ParsePortRange(s)
	if err != nil {
		return PortRange{}, fmt.Errorf("%w: %w", ErrBadPort, err)
	}
	return PortRange{lo, hi}, nil
}

// Ports is a sorted set of disjoint, non-adjacent port ranges.
type Ports []PortRange

// IsAny reports whether the set covers every port.
func (p Ports) IsAny() bool { return len(p) == 1 && p[0] == AnyPort }

// Has reports whether port is in the set.
func (p Ports) Has(port uint16) bool {
	for _, r := range p {
		if port < r.Lo {
			return false
		}
		if port <= r.Hi {
			return true
		}
	}
	return false
}

// normalizePorts sorts and merges overlapping or adjacent ranges.
func normalizePorts(rs []PortRange) Ports {
	slices.SortFunc(rs, func(a, b PortRange) int { return int(a.Lo) - int(b.Lo) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && uint32(r.Lo) <= uint32(out[n-1].Hi)+1 {
			out[n-1].Hi = max(out[n-1].Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return Ports(out)
}

// Spec is a security rule as exported, before its tokens are resolved.
// One side (source or destination) matches the union of its address
// tokens and its ASGs; an empty side means "*".
type Spec struct {
	Name      string
	Default   bool // one of the NSG's default security rules
	Priority  int
	Direction Direction
	Access    Access
	Protocol  string
	// Address tokens: "*", an address, a CIDR or a service tag.
	SrcAddrs, DstAddrs []string
	SrcPorts, DstPorts []string
	// Application security group ids.
	SrcASGs, DstASGs []string
}

// Resolver turns the tokens of a rule that depend on the network into
// address sets. Implementations decide what VirtualNetwork means for the
// NIC being evaluated.
type Resolver interface {
	// Tag returns the addresses of a service tag; an unknown tag is an
	// error naming it.
	Tag(name string) (*netipx.IPSet, error)
	// ASG returns the addresses of the IP configurations in an
	// application security group.
	ASG(id string) (*netipx.IPSet, error)
}

// Rule is a security rule compiled for evaluation: every side is a set.
// A Rule is immutable once compiled and safe for concurrent use.
type Rule struct {
	Name      string
	Default   bool
	Priority  int
	Direction Direction
	Access    Access
	Protocols ProtoSet
	Src, Dst  *netipx.IPSet
	// SrcPorts and DstPorts; a set other than AnyPort never matches a
	// protocol without ports.
	SrcPorts, DstPorts Ports
}

// AzureName is the rule's name as IP flow verify and the effective rules
// API print it: securityRules/NAME or defaultSecurityRules/NAME.
func (r *Rule) AzureName() string {
	if r.Default {
		return "defaultSecurityRules/" + r.Name
	}
	return "securityRules/" + r.Name
}

// Compile resolves a Spec's tokens into sets.
func Compile(s *Spec, res Resolver) (Rule, error) {
	r := Rule{Name: s.Name, Default: s.Default, Priority: s.Priority, Direction: s.Direction, Access: s.Access}
	wrap := func(err error) error { return fmt.Errorf("rule %q: %w", s.Name, err) }
	if s.Direction == 0 || s.Access == 0 {
		return r, wrap(errors.New("direction and access are required"))
	}
	var err error
	if r.Protocols, err = ParseProtocol(s.Protocol); err != nil {
		return r, wrap(err)
	}
	if r.Src, err = addressSet(s.SrcAddrs, s.SrcASGs, res); err != nil {
		return r, wrap(err)
	}
	if r.Dst, err = addressSet(s.DstAddrs, s.DstASGs, res); err != nil {
		return r, wrap(err)
	}
	if r.SrcPorts, err = portSet(s.SrcPorts); err != nil {
		return r, wrap(err)
	}
	if r.DstPorts, err = portSet(s.DstPorts); err != nil {
		return r, wrap(err)
	}
	return r, nil
}

func portSet(tokens []string) (Ports, error) {
	if len(tokens) == 0 {
		return Ports{AnyPort}, nil
	}
	rs := make([]PortRange, 0, len(tokens))
	for _, t := range tokens {
		for part := range strings.SplitSeq(t, ",") {
			r, err := ParsePortRange(part)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
	}
	return normalizePorts(rs), nil
}

var everything = func() *netipx.IPSet {
	var b netipx.IPSetBuilder
	b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
	b.AddPrefix(netip.MustParsePrefix("::/0"))
	s, _ := b.IPSet()
	return s
}()

// IsAnyAddress reports whether the token means every address.
func IsAnyAddress(tok string) bool {
	tok = strings.TrimSpace(tok)
	return tok == "*" || strings.EqualFold(tok, "any")
}

func addressSet(tokens, asgs []string, res Resolver) (*netipx.IPSet, error) {
	if len(tokens) == 0 && len(asgs) == 0 {
		return everything, nil
	}
	var b netipx.IPSetBuilder
	for _, t := range tokens {
		for part := range strings.SplitSeq(t, ",") {
			part = strings.TrimSpace(part)
			if IsAnyAddress(part) {
				return everything, nil
			}
			if p, ok := ParseAddressPrefix(part); ok {
				b.AddPrefix(p)
				continue
			}
			if !isTagName(part) {
				return nil, fmt.Errorf("%w %q (want *, an address, a CIDR or a service tag)", ErrBadAddress, part)
			}
			set, err := res.Tag(part)
			if err != nil {
				return nil, err
			}
			b.AddSet(set)
		}
	}
	for _, id := range asgs {
		set, err := res.ASG(id)
		if err != nil {
			return nil, err
		}
		b.AddSet(set)
	}
	return b.IPSet()
}

// ParseAddressPrefix reads an address ("10.0.0.4") or a CIDR
// ("10.0.0.0/24", host bits allowed and cleared) as a prefix, with
// topology.ParseAddressPrefix; IPv4-mapped addresses become IPv4.
func ParseAddressPrefix(s string) (netip.Prefix, bool) {
	p, tag, err := topology.ParseAddressPrefix(s)
	if err != nil || tag != "" || !p.IsValid() {
		return netip.Prefix{}, false
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96), true
	}
	return p, true
}

// isTagName reports whether s is a service tag's name, as
// topology.ParseAddressPrefix tells them from addresses.
func isTagName(s string) bool {
	_, tag, err := topology.ParseAddressPrefix(s)
	return err == nil && tag != "" && tag != "*"
}
