package ipflow

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"

	"go4.org/netipx"
)

// Classifier finds the first matching rule of a rule set with the
// bit-vector scheme of Lakshman and Stiliadis: each dimension (protocol,
// source address, destination address, source port, destination port) is
// cut into elementary intervals, and each interval holds the bit vector of
// the rules that cover it, bit i for rule i in evaluation order. A lookup
// is four binary searches and a table load, an AND of five vectors, and
// the lowest set bit.
//
// The vectors are dense words: an NSG holds at most about a thousand
// rules, so a vector is at most 16 words and the AND touches a few cache
// lines. Identical vectors are stored once. Build cost is
// O(rules × intervals) per dimension.
//
// A Classifier is immutable once built and safe for concurrent use. Match
// allocates nothing.
type Classifier struct {
	rules []Rule
	words int
	// proto[p] is the vector of protocol p.
	proto  [256]uint32
	src    addrDim
	dst    addrDim
	sport  portDim
	dport  portDim
	vecs   []uint64 // all distinct vectors, words each
	allVec uint32   // the vector with every rule set
}

// noPort is the port key of protocols without ports: only "*" port
// conditions cover it.
const noPort = 65536

type addrDim struct {
	v4    []uint32 // starts of the IPv4 intervals; v4[0] == 0
	v4Vec []uint32 // vector of each interval
	v4Dir directory
	v6    []u128
	v6Vec []uint32
}

type portDim struct {
	starts []uint32 // over 0..noPort; starts[0] == 0
	vec    []uint32
	dir    directory
}

// directory narrows the binary search over interval starts: bucket b
// (keys with the same top bits) lies within intervals first[b] to
// first[b+1].
type directory struct {
	shift uint
	first []uint32
}

func newDirectory(starts []uint32, shift uint, maxKey uint32) directory {
	d := directory{shift: shift, first: make([]uint32, maxKey>>shift+2)}
	for b := range len(d.first) - 1 {
		d.first[b] = uint32(search32(starts, uint32(b)<<shift))
	}
	d.first[len(d.first)-1] = uint32(len(starts) - 1)
	return d
}

// find returns the index of the interval holding x.
func (d *directory) find(starts []uint32, x uint32) int {
	b := x >> d.shift
	lo, hi := int(d.first[b]), int(d.first[b+1])
	for n := hi - lo + 1; n > 1; {
		half := n / 2
		if starts[lo+half] <= x {
			lo += half
		}
		n -= half
	}
	return lo
}

type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) next() u128 {
	lo := a.lo + 1
	hi := a.hi
	if lo == 0 {
		hi++
	}
	return u128{hi, lo}
}

func v4key(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func v6key(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// vectorBuilder collects vectors and stores each distinct one once.
type vectorBuilder struct {
	words int
	vecs  []uint64
	seen  map[string]uint32
	key   []byte
}

func (vb *vectorBuilder) add(v []uint64) uint32 {
	vb.key = vb.key[:0]
	for _, w := range v {
		vb.key = binary.LittleEndian.AppendUint64(vb.key, w)
	}
	if id, ok := vb.seen[string(vb.key)]; ok {
		return id
	}
	id := uint32(len(vb.vecs) / vb.words)
	vb.vecs = append(vb.vecs, v...)
	vb.seen[string(vb.key)] = id
	return id
}

// NewClassifier builds a classifier over rules, which must be in
// evaluation order (SortRules). The classifier keeps the slice.
func NewClassifier(rules []Rule) *Classifier {
	words := max(1, (len(rules)+63)/64)
	c := &Classifier{rules: rules, words: words}
	vb := &vectorBuilder{words: words, seen: map[string]uint32{}}
	all := make([]uint64, words)
	for i := range rules {
		all[i/64] |= 1 << (i % 64)
	}
	c.allVec = vb.add(all)

	v := make([]uint64, words)
	for p := 0; p < 256; p++ {
		clear(v)
		for i := range rules {
			if rules[i].Protocols.Has(uint8(p)) {
				v[i/64] |= 1 << (i % 64)
			}
		}
		c.proto[p] = vb.add(v)
	}
	c.src = buildAddrDim(rules, vb, func(r *Rule) []netipx.IPRange { return r.Src.Ranges() })
	c.dst = buildAddrDim(rules, vb, func(r *Rule) []netipx.IPRange { return r.Dst.Ranges() })
	c.sport = buildPortDim(rules, vb, func(r *Rule) Ports { return r.SrcPorts })
	c.dport = buildPortDim(rules, vb, func(r *Rule) Ports { return r.DstPorts })
	c.vecs = slices.Clip(vb.vecs)
	return c
}

// Rules returns the rules in evaluation order. The caller must not modify
// them.
func (c *Classifier) Rules() []Rule { return c.rules }

// Match returns the index of the first rule that matches p, or -1.
func (c *Classifier) Match(p *Packet) int {
	var sv, dv uint32
	switch {
	case p.Src.Is4() && p.Dst.Is4():
		sv = c.src.v4Vec[c.src.v4Dir.find(c.src.v4, v4key(p.Src))]
		dv = c.dst.v4Vec[c.dst.v4Dir.find(c.dst.v4, v4key(p.Dst))]
	case p.Src.Is6() && p.Dst.Is6():
		sv = c.src.v6Vec[search128(c.src.v6, v6key(p.Src))]
		dv = c.dst.v6Vec[search128(c.dst.v6, v6key(p.Dst))]
	default:
		return -1
	}
	var spv, dpv uint32
	if hasPorts(p.Protocol) {
		if p.AnySrcPort {
			spv = c.allVec
		} else {
			spv = c.sport.vec[c.sport.dir.find(c.sport.starts, uint32(p.SrcPort))]
		}
		dpv = c.dport.vec[c.dport.dir.find(c.dport.starts, uint32(p.DstPort))]
	} else {
		spv = c.sport.vec[len(c.sport.vec)-1]
		dpv = c.dport.vec[len(c.dport.vec)-1]
	}
	return c.first(c.proto[p.Protocol], sv, dv, spv, dpv)
}

// first returns the lowest bit set in all five vectors, or -1.
func (c *Classifier) first(a, b, d, e, f uint32) int {
	w := c.words
	va := c.vecs[int(a)*w:][:w]
	vb := c.vecs[int(b)*w:][:w]
	vd := c.vecs[int(d)*w:][:w]
	ve := c.vecs[int(e)*w:][:w]
	vf := c.vecs[int(f)*w:][:w]
	for k := range va {
		if x := va[k] & vb[k] & vd[k] & ve[k] & vf[k]; x != 0 {
			return k*64 + bits.TrailingZeros64(x)
		}
	}
	return -1
}

// search32 returns the index of the last start ≤ x; starts[0] must be 0.
func search32(starts []uint32, x uint32) int {
	lo, n := 0, len(starts)
	for n > 1 {
		half := n / 2
		if starts[lo+half] <= x {
			lo += half
		}
		n -= half
	}
	return lo
}

func search128(starts []u128, x u128) int {
	lo, n := 0, len(starts)
	for n > 1 {
		half := n / 2
		if !x.less(starts[lo+half]) {
			lo += half
		}
		n -= half
	}
	return lo
}

func buildAddrDim(rules []Rule, vb *vectorBuilder, side func(*Rule) []netipx.IPRange) addrDim {
	per := make([][]netipx.IPRange, len(rules))
	var p4 []uint32
	var p6 []u128
	p4 = append(p4, 0)
	p6 = append(p6, u128{})
	for i := range rules {
		per[i] = side(&rules[i])
		for _, r := range per[i] {
			if r.From().Is4() {
				p4 = append(p4, v4key(r.From()))
				if hi := v4key(r.To()); hi != ^uint32(0) {
					p4 = append(p4, hi+1)
				}
			} else {
				p6 = append(p6, v6key(r.From()))
				if hi := v6key(r.To()); hi != (u128{^uint64(0), ^uint64(0)}) {
					p6 = append(p6, hi.next())
				}
			}
		}
	}
	slices.Sort(p4)
	p4 = slices.Compact(p4)
	slices.SortFunc(p6, func(a, b u128) int {
		switch {
		case a.less(b):
			return -1
		case b.less(a):
			return 1
		}
		return 0
	})
	p6 = slices.Compact(p6)

	words := vb.words
	m4 := make([]uint64, len(p4)*words)
	m6 := make([]uint64, len(p6)*words)
	for i := range rules {
		bit, word := uint64(1)<<(i%64), i/64
		for _, r := range per[i] {
			if r.From().Is4() {
				for k := search32(p4, v4key(r.From())); k <= search32(p4, v4key(r.To())); k++ {
					m4[k*words+word] |= bit
				}
			} else {
				for k := search128(p6, v6key(r.From())); k <= search128(p6, v6key(r.To())); k++ {
					m6[k*words+word] |= bit
				}
			}
		}
	}
	d := addrDim{v4: p4, v6: p6, v4Vec: make([]uint32, len(p4)), v6Vec: make([]uint32, len(p6)),
		v4Dir: newDirectory(p4, 20, ^uint32(0))}
	for k := range p4 {
		d.v4Vec[k] = vb.add(m4[k*words:][:words])
	}
	for k := range p6 {
		d.v6Vec[k] = vb.add(m6[k*words:][:words])
	}
	return d
}

func buildPortDim(rules []Rule, vb *vectorBuilder, side func(*Rule) Ports) portDim {
	points := []uint32{0, noPort}
	for i := range rules {
		for _, r := range side(&rules[i]) {
			points = append(points, uint32(r.Lo), uint32(r.Hi)+1)
		}
	}
	slices.Sort(points)
	points = slices.Compact(points) // the largest is noPort
	words := vb.words
	m := make([]uint64, len(points)*words)
	for i := range rules {
		bit, word := uint64(1)<<(i%64), i/64
		ports := side(&rules[i])
		if ports.IsAny() {
			for k := range points {
				m[k*words+word] |= bit
			}
			continue
		}
		for _, r := range ports {
			for k := search32(points, uint32(r.Lo)); k <= search32(points, uint32(r.Hi)); k++ {
				m[k*words+word] |= bit
			}
		}
	}
	d := portDim{starts: points, vec: make([]uint32, len(points)), dir: newDirectory(points, 5, noPort)}
	for k := range points {
		d.vec[k] = vb.add(m[k*words:][:words])
	}
	return d
}
