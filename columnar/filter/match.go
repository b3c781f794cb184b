package filter

import (
	"math"
	"net/netip"

	"github.com/flowlens/flowlens/columnar"
)

// Match methods: the reference evaluation on one row. None allocates.

// Match reports whether every term matches; an And without terms matches
// every row.
func (e *And) Match(f *columnar.Flow) bool {
	for _, t := range e.Terms {
		if !t.Match(f) {
			return false
		}
	}
	return true
}

// Match reports whether any term matches; an Or without terms matches no
// row.
func (e *Or) Match(f *columnar.Flow) bool {
	for _, t := range e.Terms {
		if t.Match(f) {
			return true
		}
	}
	return false
}

// Match reports whether X does not match.
func (e *Not) Match(f *columnar.Flow) bool { return !e.X.Match(f) }

// Match reports whether the row's address on e.Side is in e.Prefix. An
// address that does not parse matches nothing.
func (e *IP) Match(f *columnar.Flow) bool {
	switch e.Side {
	case Src:
		return e.matchText(f.SrcIP)
	case Dst:
		return e.matchText(f.DstIP)
	}
	return e.matchText(f.SrcIP) || e.matchText(f.DstIP)
}

func (e *IP) matchText(b []byte) bool {
	a, ok := parseAddr(b)
	return ok && e.Prefix.Contains(a)
}

// Match reports whether the row's port on e.Side is in [Lo, Hi].
func (e *Port) Match(f *columnar.Flow) bool {
	switch e.Side {
	case Src:
		return e.Contains(f.SrcPort)
	case Dst:
		return e.Contains(f.DstPort)
	}
	return e.Contains(f.SrcPort) || e.Contains(f.DstPort)
}

// Match reports whether the row's field equals e.Value.
func (e *Enum) Match(f *columnar.Flow) bool {
	switch e.Field {
	case FieldProtocol:
		return f.Proto == int32(e.Value)
	case FieldDirection:
		return f.Direction == columnar.Direction(e.Value)
	case FieldDecision:
		return f.Decision == columnar.Decision(e.Value)
	case FieldState:
		return f.State != 0 && f.State == e.Value
	case FieldSource:
		return f.Source == columnar.Source(e.Value)
	}
	return false
}

// Match reports whether the row's column matches the pattern; see Text.
func (e *Text) Match(f *columnar.Flow) bool {
	switch e.Field {
	case FieldRule:
		return matchText(e.Field, e.Pattern, f.Rule)
	case FieldResourceID:
		return matchText(e.Field, e.Pattern, f.ResourceID)
	case FieldMAC:
		return matchText(e.Field, e.Pattern, f.MAC)
	}
	return false
}

// MatchString reports whether s, a value of e.Field's column (an index
// key), matches the pattern.
func (e *Text) MatchString(s string) bool { return matchText(e.Field, e.Pattern, s) }

func matchText[S string | []byte](field Field, pattern string, s S) bool {
	if len(s) == 0 {
		return false
	}
	switch field {
	case FieldMAC:
		return foldEqual(pattern, s)
	case FieldResourceID:
		if !containsByte(pattern, '/') {
			s = lastSegment(s)
		}
	}
	return globFold(pattern, s)
}

// Match compares the row's counter with e.Value; a row without counters
// does not match. The sums of FieldBytes and FieldPackets saturate at
// math.MaxInt64.
func (e *Counter) Match(f *columnar.Flow) bool {
	if !f.HasCounters {
		return false
	}
	var v int64
	switch e.Field {
	case FieldBytes:
		v = satAdd(f.BytesOut, f.BytesIn)
	case FieldPackets:
		v = satAdd(f.PacketsOut, f.PacketsIn)
	case FieldBytesOut:
		v = f.BytesOut
	case FieldBytesIn:
		v = f.BytesIn
	case FieldPacketsOut:
		v = f.PacketsOut
	case FieldPacketsIn:
		v = f.PacketsIn
	default:
		return false
	}
	return e.Op.compare(v, e.Value)
}

// Match compares the row's time with e.At.
func (e *Time) Match(f *columnar.Flow) bool { return e.Op.compare(f.Time, e.At) }

func satAdd(a, b int64) int64 {
	s := a + b
	if a > 0 && b > 0 && s < 0 {
		return math.MaxInt64
	}
	if a < 0 && b < 0 && s >= 0 {
		return math.MinInt64
	}
	return s
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// lastSegment returns what follows the last "/" of s.
func lastSegment[S string | []byte](s S) S {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return s[i+1:]
		}
	}
	return s
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldEqual reports whether a and b are equal ignoring ASCII case.
func foldEqual[S string | []byte](a string, b S) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// globFold reports whether s matches pattern, where * matches any run of
// bytes and ASCII case is ignored. It backtracks only to the last *, so
// it runs in O(len(pattern)·len(s)) at worst.
func globFold[S string | []byte](pattern string, s S) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && lower(pattern[p]) == lower(s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// parseAddr parses the text form of an IPv4 or IPv6 address, as
// netip.ParseAddr does but from bytes and without allocating; addresses
// with a zone are refused. FuzzParseAddr checks it against netip.
func parseAddr(b []byte) (netip.Addr, bool) {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '.':
			var ip [4]byte
			if !parseAddr4(b, ip[:]) {
				return netip.Addr{}, false
			}
			return netip.AddrFrom4(ip), true
		case ':':
			return parseAddr6(b)
		}
	}
	return netip.Addr{}, false
}

// parseAddr4 parses dotted-quad b into ip (4 bytes). Like netip, it
// refuses octets with leading zeros.
func parseAddr4(b []byte, ip []byte) bool {
	val, pos, digits := 0, 0, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case '0' <= c && c <= '9':
			if digits == 1 && val == 0 {
				return false
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return false
			}
		case c == '.':
			if digits == 0 || pos == 3 {
				return false
			}
			ip[pos] = byte(val)
			pos++
			val, digits = 0, 0
		default:
			return false
		}
	}
	if pos != 3 || digits == 0 {
		return false
	}
	ip[3] = byte(val)
	return true
}

// parseAddr6 follows net/netip's parseIPv6, without zones.
func parseAddr6(s []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1 // position of the "::" in ip
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
		if len(s) == 0 {
			return netip.IPv6Unspecified(), true
		}
	}
	i := 0
	for i < 16 {
		off := 0
		acc := uint32(0)
	digits:
		for ; off < len(s); off++ {
			c := s[off]
			switch {
			case '0' <= c && c <= '9':
				acc = acc<<4 + uint32(c-'0')
			case 'a' <= c && c <= 'f':
				acc = acc<<4 + uint32(c-'a'+10)
			case 'A' <= c && c <= 'F':
				acc = acc<<4 + uint32(c-'A'+10)
			default:
				break digits
			}
			if off > 3 || acc > math.MaxUint16 {
				return netip.Addr{}, false
			}
		}
		if off == 0 {
			return netip.Addr{}, false
		}
		if off < len(s) && s[off] == '.' { // trailing IPv4
			if ellipsis < 0 && i != 12 || i+4 > 16 {
				return netip.Addr{}, false
			}
			if !parseAddr4(s, ip[i:i+4]) {
				return netip.Addr{}, false
			}
			s = nil
			i += 4
			break
		}
		ip[i] = byte(acc >> 8)
		ip[i+1] = byte(acc)
		i += 2
		s = s[off:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return netip.Addr{}, false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			s = s[1:]
			if len(s) == 0 {
				break
			}
		}
	}
	if len(s) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		for j := i - 1; j >= ellipsis; j-- {
			ip[j+n] = ip[j]
		}
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(ip), true
}
