package ipflow

import (
	"net/netip"

	"go4.org/netipx"
)

// Query is a set of packets given by ranges: a request whose ports or
// addresses are ranges, or whose protocol is "*".
type Query struct {
	Protocols          ProtoSet
	Src, Dst           netipx.IPRange
	SrcPorts, DstPorts PortRange
	// AnySrcPort makes every source-port condition match (IP flow
	// verify's "*"), rather than expanding the source port range.
	AnySrcPort bool
}

// Part is a piece of a Query that one rule decides (Rule = -1: none).
type Part struct {
	Query
	Rule int
}

// span is a piece of one dimension of a query with the vector that
// covers it.
type span struct {
	lo, hi uint32 // ports, or an index into addrs
	vec    uint32
}

// Expand splits q into parts that are each decided by a single rule, in
// the order of protocol class, source, destination, source port and
// destination port, merging neighbouring destination port ranges with the
// same rule. It calls fn for each part and stops when fn returns false or
// after limit parts (limit ≤ 0: no limit); it reports whether it finished.
// Addresses of different families in Src and Dst give no parts.
func (c *Classifier) Expand(q Query, limit int, fn func(Part) bool) bool {
	if !q.Src.IsValid() || !q.Dst.IsValid() || q.Src.From().Is4() != q.Dst.From().Is4() {
		return true
	}
	// Protocols with the same vector are one class; within a class, ports
	// matter or not alike only if they agree on hasPorts.
	type class struct {
		protos ProtoSet
		vec    uint32
		ports  bool
	}
	var classes []class
	for p := 0; p < 256; p++ {
		if !q.Protocols.Has(uint8(p)) {
			continue
		}
		v, ports := c.proto[p], hasPorts(uint8(p))
		found := false
		for i := range classes {
			if classes[i].vec == v && classes[i].ports == ports {
				classes[i].protos.Add(uint8(p))
				found = true
				break
			}
		}
		if !found {
			cl := class{vec: v, ports: ports}
			cl.protos.Add(uint8(p))
			classes = append(classes, cl)
		}
	}
	srcs := c.src.spans(q.Src)
	dsts := c.dst.spans(q.Dst)
	n := 0
	for _, cl := range classes {
		var sps, dps []span
		switch {
		case !cl.ports:
			sps = []span{{lo: uint32(q.SrcPorts.Lo), hi: uint32(q.SrcPorts.Hi), vec: c.sport.vec[len(c.sport.vec)-1]}}
			dps = []span{{lo: uint32(q.DstPorts.Lo), hi: uint32(q.DstPorts.Hi), vec: c.dport.vec[len(c.dport.vec)-1]}}
		default:
			if q.AnySrcPort {
				sps = []span{{lo: uint32(q.SrcPorts.Lo), hi: uint32(q.SrcPorts.Hi), vec: c.allVec}}
			} else {
				sps = c.sport.spans(q.SrcPorts)
			}
			dps = c.dport.spans(q.DstPorts)
		}
		for _, s := range srcs {
			for _, d := range dsts {
				for _, sp := range sps {
					var cur Part
					open := false
					for _, dp := range dps {
						rule := c.first(cl.vec, s.vec, d.vec, sp.vec, dp.vec)
						if open && cur.Rule == rule {
							cur.DstPorts.Hi = uint16(dp.hi)
							continue
						}
						if open {
							if n++; !fn(cur) || limit > 0 && n >= limit {
								return false
							}
						}
						cur = Part{Rule: rule, Query: Query{
							Protocols:  cl.protos,
							Src:        c.src.rangeOf(q.Src, s),
							Dst:        c.dst.rangeOf(q.Dst, d),
							SrcPorts:   PortRange{uint16(sp.lo), uint16(sp.hi)},
							DstPorts:   PortRange{uint16(dp.lo), uint16(dp.hi)},
							AnySrcPort: q.AnySrcPort,
						}}
						open = true
					}
					if open {
						if n++; !fn(cur) || limit > 0 && n >= limit {
							return false
						}
					}
				}
			}
		}
	}
	return true
}

// spans cuts a port range at the dimension's interval starts.
func (d *portDim) spans(r PortRange) []span {
	var out []span
	for k := search32(d.starts, uint32(r.Lo)); k < len(d.starts); k++ {
		lo := max(d.starts[k], uint32(r.Lo))
		if lo > uint32(r.Hi) {
			break
		}
		hi := uint32(r.Hi)
		if k+1 < len(d.starts) {
			hi = min(hi, d.starts[k+1]-1)
		}
		out = append(out, span{lo: lo, hi: hi, vec: d.vec[k]})
	}
	return out
}

// spans cuts an address range at the dimension's interval starts; lo and
// hi of each span are interval indexes, resolved by rangeOf.
func (d *addrDim) spans(r netipx.IPRange) []span {
	var out []span
	if r.From().Is4() {
		lo, hi := v4key(r.From()), v4key(r.To())
		for k := search32(d.v4, lo); k < len(d.v4) && d.v4[k] <= hi; k++ {
			out = append(out, span{lo: uint32(k), hi: uint32(k), vec: d.v4Vec[k]})
		}
		return out
	}
	lo, hi := v6key(r.From()), v6key(r.To())
	for k := search128(d.v6, lo); k < len(d.v6) && !hi.less(d.v6[k]); k++ {
		out = append(out, span{lo: uint32(k), hi: uint32(k), vec: d.v6Vec[k]})
	}
	return out
}

// rangeOf returns the part of q inside the interval of span s.
func (d *addrDim) rangeOf(q netipx.IPRange, s span) netipx.IPRange {
	k := int(s.lo)
	var from, to netip.Addr
	if q.From().Is4() {
		from = addr4(d.v4[k])
		to = netip.AddrFrom4([4]byte{255, 255, 255, 255})
		if k+1 < len(d.v4) {
			to = addr4(d.v4[k+1] - 1)
		}
	} else {
		from = addr6(d.v6[k])
		to = netip.AddrFrom16([16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		if k+1 < len(d.v6) {
			to = addr6(d.v6[k+1]).Prev()
		}
	}
	if from.Less(q.From()) {
		from = q.From()
	}
	if q.To().Less(to) {
		to = q.To()
	}
	return netipx.IPRangeFrom(from, to)
}

func addr4(x uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}

func addr6(x u128) netip.Addr {
	var b [16]byte
	for i := range 8 {
		b[i] = byte(x.hi >> (56 - 8*i))
		b[8+i] = byte(x.lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}
