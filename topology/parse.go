package topology

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Direction is a security rule's direction. The zero value means the
// export did not say.
type Direction string

// Directions.
const (
	Inbound  Direction = "Inbound"
	Outbound Direction = "Outbound"
)

// Access is a security rule's verdict. The zero value means the export
// did not say.
type Access string

// Accesses.
const (
	Allow Access = "Allow"
	Deny  Access = "Deny"
)

// Protocol is a security rule's protocol in the REST spelling.
type Protocol string

// Protocols (enum SecurityRuleProtocol).
const (
	ProtocolTCP  Protocol = "Tcp"
	ProtocolUDP  Protocol = "Udp"
	ProtocolICMP Protocol = "Icmp"
	ProtocolESP  Protocol = "Esp"
	ProtocolAH   Protocol = "Ah"
	ProtocolAny  Protocol = "*"
)

// NextHopType is a user route's next hop type in the REST spelling (enum
// RouteNextHopType).
type NextHopType string

// Next hop types of user routes.
const (
	NextHopVirtualNetworkGateway NextHopType = "VirtualNetworkGateway"
	NextHopVnetLocal             NextHopType = "VnetLocal"
	NextHopInternet              NextHopType = "Internet"
	NextHopVirtualAppliance      NextHopType = "VirtualAppliance"
	NextHopNone                  NextHopType = "None"
)

// ParseDirection reads Inbound or Outbound in any case.
func ParseDirection(s string) (Direction, bool) {
	switch {
	case strings.EqualFold(s, string(Inbound)):
		return Inbound, true
	case strings.EqualFold(s, string(Outbound)):
		return Outbound, true
	}
	return "", false
}

// ParseAccess reads Allow or Deny in any case.
func ParseAccess(s string) (Access, bool) {
	switch {
	case strings.EqualFold(s, string(Allow)):
		return Allow, true
	case strings.EqualFold(s, string(Deny)):
		return Deny, true
	}
	return "", false
}

// ParseProtocol reads a rule protocol in any case: Tcp, Udp, Icmp, Esp,
// Ah, or * (also written All, as the effective-rules API does, or Any,
// as the portal does).
func ParseProtocol(s string) (Protocol, bool) {
	for _, p := range [...]Protocol{ProtocolTCP, ProtocolUDP, ProtocolICMP, ProtocolESP, ProtocolAH, ProtocolAny} {
		if strings.EqualFold(s, string(p)) {
			return p, true
		}
	}
	if strings.EqualFold(s, "All") || strings.EqualFold(s, "Any") {
		return ProtocolAny, true
	}
	return "", false
}

// ParseNextHopType reads a user route's next hop type in any case
// (VNetLocal and VnetLocal are the same).
func ParseNextHopType(s string) (NextHopType, bool) {
	for _, t := range [...]NextHopType{NextHopVirtualNetworkGateway, NextHopVnetLocal, NextHopInternet, NextHopVirtualAppliance, NextHopNone} {
		if strings.EqualFold(s, string(t)) {
			return t, true
		}
	}
	return "", false
}

// canon returns the entry of vals equal to s ignoring case, or s.
func canon(s string, vals ...string) string {
	for _, v := range vals {
		if strings.EqualFold(s, v) {
			return v
		}
	}
	return s
}

// Errors of the token parsers.
var (
	ErrBadPortRange = errors.New("bad port range")
	ErrBadPrefix    = errors.New("bad address prefix")
)

// ParsePortRange reads a port token of a security rule: "*" (0-65535),
// "N", or "N-M" with 0 ≤ N ≤ M ≤ 65535. No spaces are allowed.
func ParsePortRange(s string) (lo, hi uint16, err error) {
	if s == "*" {
		return 0, 65535, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	lo, err = parsePort(a)
	if err != nil {
		return 0, 0, fmt.Errorf("%w %q: %v", ErrBadPortRange, s, err)
	}
	if !isRange {
		return lo, lo, nil
	}
	hi, err = parsePort(b)
	if err != nil {
		return 0, 0, fmt.Errorf("%w %q: %v", ErrBadPortRange, s, err)
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("%w %q: start above end", ErrBadPortRange, s)
	}
	return lo, hi, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" || len(s) > 5 {
		return 0, errors.New("want a number 0-65535")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("want a number 0-65535")
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 65535 {
		return 0, errors.New("want a number 0-65535")
	}
	return uint16(n), nil
}

// ParseAddressPrefix classifies an address token of a security rule. An
// IP becomes a single-address prefix, a CIDR its masked prefix; "*" and
// service tags (a letter followed by letters, digits, '.', '_' or '-',
// such as VirtualNetwork or Storage.WestEurope) come back as tag, with an
// invalid prefix. Anything else is an error wrapping ErrBadPrefix.
func ParseAddressPrefix(s string) (p netip.Prefix, tag string, err error) {
	if s == "*" {
		return netip.Prefix{}, s, nil
	}
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, "", fmt.Errorf("%w %q: %v", ErrBadPrefix, s, err)
		}
		return p.Masked(), "", nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return netip.Prefix{}, "", fmt.Errorf("%w %q: zone not allowed", ErrBadPrefix, s)
		}
		return netip.PrefixFrom(a, a.BitLen()), "", nil
	}
	if isTag(s) {
		return netip.Prefix{}, s, nil
	}
	return netip.Prefix{}, "", fmt.Errorf("%w %q: not an IP, a CIDR, * or a service tag", ErrBadPrefix, s)
}

func isTag(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// parseAddrOrPrefix reads "10.0.0.4" or "172.20.2.16/28".
func parseAddrOrPrefix(s string) (netip.Addr, netip.Prefix, error) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Addr{}, netip.Prefix{}, err
		}
		p = p.Masked()
		return p.Addr(), p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, netip.Prefix{}, err
	}
	return a, netip.PrefixFrom(a, a.BitLen()), nil
}
