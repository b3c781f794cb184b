package packet

import (
	"encoding/binary"
	"net/netip"
)

// Link types (LINKTYPE_* values as written in pcap and pcapng files).
const (
	linkNull     = 0   // BSD loopback, host byte order family
	linkEthernet = 1   // Ethernet II, 802.1Q, 802.1ad
	linkRawA     = 12  // raw IP on some systems (DLT_RAW)
	linkRawB     = 14  // raw IP on some systems (DLT_RAW)
	linkRaw      = 101 // LINKTYPE_RAW
	linkPPP      = 9   // PPP, with or without HDLC-like framing (RFC 1661, 1662)
	linkPPPHDLC  = 50  // PPP in HDLC-like framing, or Cisco HDLC (RFC 1547)
	linkPPPoE    = 51  // PPPoE session data (RFC 2516), from its header on
	linkCHDLC    = 104 // Cisco HDLC
	linkLoop     = 108 // OpenBSD loopback, network byte order family
	linkSLL      = 113 // Linux cooked capture v1
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276 // Linux cooked capture v2
)

// status is the outcome of decoding one frame.
type status uint8

const (
	statusIP    status = iota // an IP packet: the decoded fields are valid
	statusNonIP               // a well-formed frame that carries no IP (ARP, LLDP, ...)
	statusUnknownLink
	statusTruncatedLink
	statusTruncatedIP
	statusBadIP
)

// Reasons counted in Stats.Malformed. A packet counted as truncated-tcp or
// truncated-udp is still in its flow, with the ports it had (or 0).
const (
	reasonUnknownLink   = "unknown-linktype"
	reasonTruncatedLink = "truncated-link"
	reasonTruncatedIP   = "truncated-ip"
	reasonBadIP         = "bad-ip"
	reasonTruncatedTCP  = "truncated-tcp"
	reasonTruncatedUDP  = "truncated-udp"
	reasonCaplenGtLen   = "caplen-gt-len"
	reasonBadTimestamp  = "bad-timestamp"
)

var statusReason = [...]string{
	statusUnknownLink:   reasonUnknownLink,
	statusTruncatedLink: reasonTruncatedLink,
	statusTruncatedIP:   reasonTruncatedIP,
	statusBadIP:         reasonBadIP,
}

// Transport headers cut by the snap length (decoded.truncated).
const (
	truncNone = iota
	truncTCP  // fewer bytes of TCP header than 20 or than its data offset says
	truncUDP  // fewer than 8 bytes of UDP header
)

var truncReason = [...]string{truncTCP: reasonTruncatedTCP, truncUDP: reasonTruncatedUDP}

// Fragment kinds.
const (
	fragNone  = iota
	fragFirst // offset 0, more fragments follow: ports are read
	fragLater // offset > 0: no transport header, ports 0
)

// addr is an IP address as two big-endian halves, an IPv4 address in its
// IPv4-mapped IPv6 form ::ffff:a.b.c.d (as netip.Addr holds it): a plain
// value that compares, orders and hashes in a few word operations. Whether
// it is IPv4 or IPv6 is kept beside it (decoded.v6, flowKey.v6).
type addr struct{ hi, lo uint64 }

func addrFrom4(b []byte) addr {
	return addr{0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(b))}
}

func addrFrom16(b []byte) addr {
	return addr{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
}

func (a addr) less(b addr) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

// netip returns a as an IPv6 address, or the IPv4 address of its low 32 bits.
func (a addr) netip(v6 bool) netip.Addr {
	if !v6 {
		return netip.AddrFrom4([4]byte{byte(a.lo >> 24), byte(a.lo >> 16), byte(a.lo >> 8), byte(a.lo)})
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	return netip.AddrFrom16(b)
}

// decoded is what the flow table needs from one packet: the outermost IP
// header and the transport ports and flags directly after it.
type decoded struct {
	src, dst     addr
	sport, dport uint16
	proto        uint8
	v6           bool  // an IPv6 header; else IPv4
	flags        uint8 // TCP flags (low 8 bits); valid when hasFlags
	hasFlags     bool
	frag         uint8 // fragNone, fragFirst, fragLater
	truncated    uint8 // truncNone, truncTCP or truncUDP
	hasVLAN      bool
	vlan         uint16 // outer VLAN id; valid when hasVLAN
	fragID       uint32 // IPv4 or IPv6 identification; valid when frag != fragNone
}

// decode reads the frame b of the given link type into d. It never
// allocates, never panics and reads nothing beyond b.
func decode(linkType uint32, b []byte, d *decoded) status {
	*d = decoded{}
	switch linkType {
	case linkEthernet:
		if len(b) < 14 {
			return statusTruncatedLink
		}
		return d.ethertype(binary.BigEndian.Uint16(b[12:]), b[14:])
	case linkSLL:
		if len(b) < 16 {
			return statusTruncatedLink
		}
		return d.ethertype(binary.BigEndian.Uint16(b[14:]), b[16:])
	case linkSLL2:
		if len(b) < 20 {
			return statusTruncatedLink
		}
		return d.ethertype(binary.BigEndian.Uint16(b), b[20:])
	case linkRaw, linkRawA, linkRawB:
		return d.ip(b)
	case linkIPv4:
		return d.ipv4(b)
	case linkIPv6:
		return d.ipv6(b)
	case linkPPP, linkPPPHDLC, linkCHDLC:
		// As tshark: an address byte of 0x0f or 0x8f is Cisco HDLC
		// (address, control, ethertype), 0xff PPP's address and control
		// bytes, anything else a PPP protocol field without them.
		if len(b) == 0 {
			return statusTruncatedLink
		}
		switch {
		case b[0] == 0x0f || b[0] == 0x8f || linkType == linkCHDLC:
			if len(b) < 4 {
				return statusTruncatedLink
			}
			return d.ethertype(binary.BigEndian.Uint16(b[2:]), b[4:])
		case b[0] == 0xff:
			if len(b) < 2 {
				return statusTruncatedLink
			}
			b = b[2:]
		}
		return d.ppp(b)
	case linkPPPoE:
		return d.pppoe(b)
	case linkNull, linkLoop:
		if len(b) < 4 {
			return statusTruncatedLink
		}
		var family uint32
		switch {
		case linkType == linkLoop:
			family = binary.BigEndian.Uint32(b)
		case b[0] == 0 && b[1] == 0: // written by a big-endian host
			family = binary.BigEndian.Uint32(b)
		default:
			family = binary.LittleEndian.Uint32(b)
		}
		switch family {
		case 2: // AF_INET
			return d.ipv4(b[4:])
		case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			return d.ipv6(b[4:])
		}
		return statusNonIP
	}
	return statusUnknownLink
}

// ethertype follows VLAN tags, MPLS labels, PPPoE and LLC/SNAP to an IP header.
func (d *decoded) ethertype(et uint16, b []byte) status {
	for range 16 {
		switch et {
		case 0x0800:
			return d.ipv4(b)
		case 0x86dd:
			return d.ipv6(b)
		case 0x8100, 0x88a8, 0x9100: // 802.1Q, 802.1ad, old QinQ
			if len(b) < 4 {
				return statusTruncatedLink
			}
			if !d.hasVLAN {
				d.vlan, d.hasVLAN = binary.BigEndian.Uint16(b)&0x0fff, true
			}
			et, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		case 0x8847, 0x8848: // MPLS unicast, multicast
			return d.mpls(b)
		case 0x8864: // PPPoE session
			return d.pppoe(b)
		default:
			// 802.3 length field followed by LLC/SNAP.
			if et <= 1500 && len(b) >= 8 && b[0] == 0xaa && b[1] == 0xaa && b[2] == 0x03 {
				et, b = binary.BigEndian.Uint16(b[6:]), b[8:]
				continue
			}
			return statusNonIP
		}
	}
	return statusNonIP
}

// mpls skips MPLS labels up to the bottom of the stack and decodes the IP
// header after them, by its version.
func (d *decoded) mpls(b []byte) status {
	for {
		if len(b) < 4 {
			return statusTruncatedLink
		}
		bos := b[2]&1 != 0
		b = b[4:]
		if bos {
			return d.ip(b)
		}
	}
}

// pppoe decodes a PPPoE session header (version and type, code, session
// id, length) and the PPP frame after it.
func (d *decoded) pppoe(b []byte) status {
	if len(b) < 6 {
		return statusTruncatedLink
	}
	return d.ppp(b[6:])
}

// ppp decodes a PPP frame from its protocol field on: two bytes, or one
// when compressed (an odd first byte, RFC 1661 section 6.5).
func (d *decoded) ppp(b []byte) status {
	if len(b) == 0 {
		return statusTruncatedLink
	}
	proto := uint16(b[0])
	if b = b[1:]; proto&1 == 0 {
		if len(b) == 0 {
			return statusTruncatedLink
		}
		proto = proto<<8 | uint16(b[0])
		b = b[1:]
	}
	switch proto {
	case 0x0021:
		return d.ipv4(b)
	case 0x0057:
		return d.ipv6(b)
	case 0x0281, 0x0283: // MPLS unicast, multicast
		return d.mpls(b)
	}
	return statusNonIP
}

// ip decodes an IPv4 or IPv6 header, chosen by the version nibble.
func (d *decoded) ip(b []byte) status {
	if len(b) == 0 {
		return statusTruncatedIP
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b)
	case 6:
		return d.ipv6(b)
	}
	return statusNonIP
}

func (d *decoded) ipv4(b []byte) status {
	if len(b) < 20 {
		return statusTruncatedIP
	}
	hlen := int(b[0]&0x0f) * 4
	if b[0]>>4 != 4 || hlen < 20 {
		return statusBadIP
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	switch {
	case total == 0: // TSO: the length is not filled in
		total = len(b)
	case total < hlen:
		return statusBadIP
	}
	if len(b) < hlen {
		return statusTruncatedIP
	}
	d.src = addrFrom4(b[12:16])
	d.dst = addrFrom4(b[16:20])
	d.proto = b[9]
	fo := binary.BigEndian.Uint16(b[6:])
	if off, mf := fo&0x1fff, fo&0x2000 != 0; off != 0 || mf {
		d.fragID = uint32(binary.BigEndian.Uint16(b[4:]))
		if off != 0 {
			d.frag = fragLater
			return statusIP
		}
		d.frag = fragFirst
	}
	d.transport(b[hlen:min(total, len(b))])
	return statusIP
}

func (d *decoded) ipv6(b []byte) status {
	if len(b) < 40 {
		return statusTruncatedIP
	}
	if b[0]>>4 != 6 {
		return statusBadIP
	}
	end := len(b)
	if plen := int(binary.BigEndian.Uint16(b[4:])); plen != 0 { // 0: jumbogram or TSO
		end = min(end, 40+plen)
	}
	d.src = addrFrom16(b[8:24])
	d.dst = addrFrom16(b[24:40])
	d.v6 = true
	nh, p := b[6], b[40:end]
	// Skip Hop-by-Hop, Routing, Fragment and Destination Options headers,
	// as the oracle does; AH, ESP and Mobility end the walk.
	for range 16 {
		switch nh {
		case 0, 43, 60:
			if len(p) < 2 || len(p) < (int(p[1])+1)*8 {
				return statusTruncatedIP
			}
			nh, p = p[0], p[(int(p[1])+1)*8:]
			continue
		case 44:
			if len(p) < 8 {
				return statusTruncatedIP
			}
			fo := binary.BigEndian.Uint16(p[2:])
			nh = p[0]
			if off, mf := fo&^7, fo&1 != 0; off != 0 || mf {
				d.fragID = binary.BigEndian.Uint32(p[4:])
				if off != 0 {
					d.proto, d.frag = nh, fragLater
					return statusIP
				}
				d.frag = fragFirst
			}
			p = p[8:]
			continue
		}
		break
	}
	d.proto = nh
	d.transport(p)
	return statusIP
}

// transport reads ports (TCP and UDP) and flags (TCP) from the header at
// the start of p, as far as the captured bytes reach: TCP ports need 4
// bytes and flags 14, as in tshark; UDP ports need the whole 8-byte header.
// A TCP header is truncated when p holds fewer than 20 bytes of it, or
// fewer than its data offset says (cut inside its options).
func (d *decoded) transport(p []byte) {
	switch d.proto {
	case 6:
		if len(p) >= 4 {
			d.sport, d.dport = binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:])
		}
		if len(p) >= 14 {
			d.flags, d.hasFlags = p[13], true
		}
		if len(p) < 20 || len(p) < int(p[12]>>4)*4 {
			d.truncated = truncTCP
		}
	case 17:
		if len(p) >= 8 {
			d.sport, d.dport = binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:])
		} else {
			d.truncated = truncUDP
		}
	}
}
