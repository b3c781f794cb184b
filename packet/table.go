package packet

import (
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/flowlens/flowlens/internal/prefetch"
	"github.com/flowlens/flowlens/internal/resident"
)

// flowKey is a conversation, endpoints in canonical order (a ≤ b, then
// pa ≤ pb): 40 bytes of plain words.
type flowKey struct {
	a, b   addr
	pa, pb uint16
	proto  uint8
	v6     bool
}

// eq reports whether k and o are the same key. It compares words; == on
// the struct calls memequal for the bytes before the padding.
func (k *flowKey) eq(o *flowKey) bool {
	return k.a == o.a && k.b == o.b && k.pa == o.pa && k.pb == o.pb && k.proto == o.proto && k.v6 == o.v6
}

// Directions of a flow's counters. The fragment slots hold later fragments
// (offset > 0) attributed to the flow through their first fragment; the
// public row adds them in, the oracle test keeps them apart.
const (
	dirOut     = iota // initiator → responder
	dirIn             // responder → initiator
	dirOutFrag        // later fragments, initiator → responder
	dirInFrag         // later fragments, responder → initiator
)

// flow is one row in the making, as the table holds it: 128 bytes, two
// cache lines (chunks are page-aligned), the key, first, last and
// activity in the first, the rest in the second; a packet touches both.
// Counters of later fragments, which few flows have, are in the table's
// fragCounts.
type flow struct {
	key      flowKey
	first    int64 // Unix ns: first and last packet (untimestamped packets: capture clock)
	last     int64
	activity int64 // capture clock at the last packet (idle timeout)
	started  int64 // capture clock when the row started (active timeout)
	seq      uint64
	packets  [2]int64 // by direction: dirOut, dirIn
	bytes    [2]int64
	frag     int32 // 1 + index in table.fragCounts, or 0
	vlan     uint16
	flags    [2]uint8 // OR of the TCP flags seen, valid when hasFlags
	hasFlags [2]bool
	initA    bool // the initiator is key.a
	cont     bool // continues a row cut by the active timeout
	hasVLAN  bool
}

// counts is what a flow keeps per direction: packets, wire bytes, and the
// OR of the TCP flags seen (valid when hasFlags).
type counts struct {
	packets, bytes int64
	flags          uint8
	hasFlags       bool
}

// fragCounts are the counters of the later fragments of a flow, by
// direction (dirOutFrag-dirOutFrag, dirInFrag-dirOutFrag).
type fragCounts struct {
	packets, bytes [2]int64
	flags          [2]uint8
	hasFlags       [2]bool
}

// ended is a flow as emitted, with the counters of its later fragments.
type ended struct {
	flow
	frag fragCounts
}

// counts returns the counters of direction dir (dirOut … dirInFrag).
func (e *ended) counts(dir int) counts {
	if dir >= dirOutFrag {
		d := dir - dirOutFrag
		return counts{e.frag.packets[d], e.frag.bytes[d], e.frag.flags[d], e.frag.hasFlags[d]}
	}
	return counts{e.packets[dir], e.bytes[dir], e.flags[dir], e.hasFlags[dir]}
}

// endpoints reports the source and destination of direction dir.
func (f *flow) endpoints(dir int) (src, dst addr, sport, dport uint16) {
	a2b := (dir == dirOut || dir == dirOutFrag) == f.initA
	if a2b {
		return f.key.a, f.key.b, f.key.pa, f.key.pb
	}
	return f.key.b, f.key.a, f.key.pb, f.key.pa
}

func (e *ended) packetCount() int64 {
	return e.packets[0] + e.packets[1] + e.frag.packets[0] + e.frag.packets[1]
}

// state is E when a FIN or RST was seen, C for a row that continues one cut
// by the active timeout, and B for a row that holds the first packet of
// its conversation.
func (e *ended) state() byte {
	if (e.flags[dirOut]|e.flags[dirIn])&0x05 != 0 {
		return 'E'
	}
	if e.cont {
		return 'C'
	}
	return 'B'
}

// fragSlots is the size of the table that maps later fragments to the flow
// of their first fragment: direct-mapped, a colliding entry replaces the
// old one, so memory stays fixed.
const fragSlots = 4096

type fragEntry struct {
	src, dst addr
	id       uint32
	proto    uint8
	v6       bool
	used     bool
	clock    int64
	key      flowKey
}

// link is a flow's place in the idle list.
type link struct{ prev, next int32 }

// table assembles packets into flows. Make it with newTable (the zero
// value is not usable); it is not safe for concurrent use and must not be
// copied. It allocates nothing per packet once its flows and index have
// grown to the most flows open at once.
//
// Flows live in chunks of chunkFlows (growing copies nothing; ended flows
// are reused, so memory follows the most flows open at once). The index is
// open addressing with linear probing over slots of 8 bytes, each the upper
// 32 bits of the key's hash (which also pick the home slot) and 1 + the
// flow's number, at most half full; a look-up compares the full key only
// in the flow, which it reads anyway. Removal shifts the following
// entries back, so there are no tombstones. The idle list, least recently
// active first, is threaded through links, beside the flows: moving a flow
// to the back touches 8-byte entries, not whole flows. Per open flow that
// is 128 bytes of flow, 8 of link, 16 to 32 of index.
type table struct {
	cfg        Config
	idle, act  int64 // ns
	keys       hasher
	slots      []uint64
	mask       uint32
	used       int      // slots in use: flows open
	peak       int      // most flows open at once
	chunks     [][]flow // flows
	links      []link
	n          int32 // flows allocated in chunks
	free       []int32
	head       int32 // idle list
	tail       int32
	clock      int64 // highest packet timestamp seen
	seq        uint64
	frags      []fragEntry
	fragCounts []fragCounts
	fragFree   []int32
	out        ended
	emit       func(*ended) error
	ahead      [3 * group]uintptr // addresses to prefetch
	sink       uint64             // what flush reads ahead
	// observe, when set, sees every packet as it is counted: its flow,
	// direction (dirOut … dirInFrag) and time. For tests.
	observe func(f *flow, dir int, ts int64, hasTS bool)
}

// chunkFlows is the number of flows in one chunk of the table.
const (
	chunkShift = 12
	chunkFlows = 1 << chunkShift
)

// flow returns flow i of the table.
func (t *table) flow(i int32) *flow { return &t.chunks[i>>chunkShift][i&(chunkFlows-1)] }

func newTable(cfg Config, emit func(*ended) error) *table {
	t := &table{
		cfg: cfg, idle: int64(cfg.IdleTimeout), act: int64(cfg.ActiveTimeout),
		slots: make([]uint64, 1024), mask: 1023, head: -1, tail: -1, emit: emit,
	}
	t.keys = newHasher()
	return t
}

// hasher hashes flow keys with a random seed, so that a capture cannot be
// made to collide. It is read-only: the reader goroutine hashes with a
// copy of the table's.
type hasher struct{ seed [6]uint64 }

func newHasher() hasher {
	var h hasher
	for i := range h.seed {
		h.seed[i] = rand.Uint64()
	}
	h.seed[5] |= 1 << 63 // the ports word (< 2^48) never cancels it
	return h
}

// mix is the folded 128-bit product of a wyhash-style hash.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hash is a hash of the key (wyhash-style folded multiplications).
func (hs *hasher) hash(k *flowKey) uint64 {
	x := mix(k.a.hi^hs.seed[0], k.a.lo^hs.seed[1])
	y := mix(k.b.hi^hs.seed[2], k.b.lo^hs.seed[3])
	var v6 uint64
	if k.v6 {
		v6 = 1
	}
	z := uint64(k.pa)<<32 | uint64(k.pb)<<16 | uint64(k.proto)<<8 | v6
	return mix(x^y^hs.seed[4], z^hs.seed[5])
}

// keyOf is the flow key of a packet: its endpoints in canonical order.
func keyOf(d *decoded) flowKey {
	k := flowKey{proto: d.proto, v6: d.v6}
	if d.src.less(d.dst) || (d.src == d.dst && d.sport <= d.dport) {
		k.a, k.b, k.pa, k.pb = d.src, d.dst, d.sport, d.dport
	} else {
		k.a, k.b, k.pa, k.pb = d.dst, d.src, d.dport, d.sport
	}
	return k
}

// lookup finds the flow of key, whose hash is h, or returns -1.
func (t *table) lookup(key *flowKey, h uint64) int32 {
	tag := uint32(h >> 32)
	for p := tag & t.mask; ; p = (p + 1) & t.mask {
		s := t.slots[p]
		if s == 0 {
			return -1
		}
		if uint32(s>>32) == tag {
			if i := int32(uint32(s)) - 1; t.flow(i).key.eq(key) {
				return i
			}
		}
	}
}

// insert adds flow i, whose key hashes to h, to the index.
func (t *table) insert(i int32, h uint64) {
	if 2*(t.used+1) > len(t.slots) {
		t.grow()
	}
	tag := uint32(h >> 32)
	p := tag & t.mask
	for t.slots[p] != 0 {
		p = (p + 1) & t.mask
	}
	t.slots[p] = uint64(tag)<<32 | uint64(uint32(i+1))
	t.used++
	t.peak = max(t.peak, t.used)
}

// grow doubles the index. The tags give each entry's new home slot.
func (t *table) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	resident.Slice(t.slots)
	t.mask = uint32(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		p := uint32(s>>32) & t.mask
		for t.slots[p] != 0 {
			p = (p + 1) & t.mask
		}
		t.slots[p] = s
	}
}

// unindex removes flow i from the index, shifting back the entries after
// it that would otherwise no longer be found.
func (t *table) unindex(i int32) {
	h := t.keys.hash(&t.flow(i).key)
	want := uint64(uint32(h>>32))<<32 | uint64(uint32(i+1))
	p := uint32(h>>32) & t.mask
	for t.slots[p] != want {
		if t.slots[p] == 0 {
			panic("BUG: flow not in the index")
		}
		p = (p + 1) & t.mask
	}
	for q := (p + 1) & t.mask; t.slots[q] != 0; q = (q + 1) & t.mask {
		// The entry at q may move to the hole at p unless its home slot
		// lies cyclically in (p, q].
		home := uint32(t.slots[q]>>32) & t.mask
		if (q-home)&t.mask >= (q-p)&t.mask {
			t.slots[p] = t.slots[q]
			p = q
		}
	}
	t.slots[p] = 0
	t.used--
}

func (t *table) unlink(i int32) {
	l := t.links[i]
	if l.prev >= 0 {
		t.links[l.prev].next = l.next
	} else {
		t.head = l.next
	}
	if l.next >= 0 {
		t.links[l.next].prev = l.prev
	} else {
		t.tail = l.prev
	}
}

func (t *table) pushBack(i int32) {
	t.links[i] = link{prev: t.tail, next: -1}
	if t.tail >= 0 {
		t.links[t.tail].next = i
	} else {
		t.head = i
	}
	t.tail = i
}

// expire emits flow i and removes it from the table.
func (t *table) expire(i int32) error {
	t.unlink(i)
	t.unindex(i)
	t.free = append(t.free, i)
	return t.end(i)
}

// end emits flow i and frees its fragment counters; its seq becomes 0,
// the mark of a flow not in use.
func (t *table) end(i int32) error {
	f := t.flow(i)
	t.out.flow = *f
	t.out.frag = fragCounts{}
	if f.frag > 0 {
		t.out.frag = t.fragCounts[f.frag-1]
		t.fragFree = append(t.fragFree, f.frag-1)
	}
	f.seq = 0
	return t.emit(&t.out)
}

// sweep emits the flows idle for longer than the idle timeout.
func (t *table) sweep() error {
	for t.head >= 0 && t.clock-t.flow(t.head).activity > t.idle {
		if err := t.expire(t.head); err != nil {
			return err
		}
	}
	return nil
}

func fragHash(src, dst addr, id uint32, proto uint8) uint32 {
	h := uint64(id)*0x9e3779b97f4a7c15 ^ uint64(proto)
	h = (h ^ src.hi) * 0xff51afd7ed558ccd
	h = (h ^ dst.hi) * 0xc4ceb9fe1a85ec53
	h = (h ^ src.lo) * 0xff51afd7ed558ccd
	h = (h ^ dst.lo) * 0xc4ceb9fe1a85ec53
	return uint32(h>>32) % fragSlots
}

// add counts one packet.
func (t *table) add(p *pkt) error {
	d, bytes, ts, hasTS := &p.d, p.origLen, p.ts, p.hasTS
	if hasTS && ts > t.clock {
		t.clock = ts
		if t.head >= 0 && t.clock-t.flow(t.head).activity > t.idle {
			if err := t.sweep(); err != nil {
				return err
			}
		}
	}
	if !hasTS {
		ts = t.clock
	}
	var key flowKey
	var h uint64
	later := false
	if d.frag == fragLater {
		// Attribute to the flow of the first fragment, when it was seen.
		if t.frags != nil {
			e := &t.frags[fragHash(d.src, d.dst, d.fragID, d.proto)]
			if e.used && e.id == d.fragID && e.proto == d.proto && e.v6 == d.v6 && e.src == d.src && e.dst == d.dst && t.clock-e.clock <= t.idle {
				key, later = e.key, true
			}
		}
	}
	switch {
	case later:
		h = t.keys.hash(&key)
	case p.hashed:
		key, h = p.key, p.hash
	default:
		key = keyOf(d)
		h = t.keys.hash(&key)
	}
	if !later && d.frag == fragFirst {
		if t.frags == nil {
			t.frags = make([]fragEntry, fragSlots)
		}
		t.frags[fragHash(d.src, d.dst, d.fragID, d.proto)] = fragEntry{
			src: d.src, dst: d.dst, id: d.fragID, proto: d.proto, v6: d.v6, used: true, clock: t.clock, key: key,
		}
	}
	i := t.lookup(&key, h)
	var f *flow
	fresh := i < 0
	if !fresh {
		f = t.flow(i)
		if t.clock-f.started >= t.act && t.act > 0 {
			// Active timeout: emit this row, continue in a fresh one.
			initA := f.initA
			if err := t.expire(i); err != nil {
				return err
			}
			i = t.newFlow(&key, h)
			f = t.flow(i)
			f.initA, f.cont = initA, true
			fresh = true
		} else if i != t.tail {
			t.unlink(i)
			t.pushBack(i)
		}
	} else {
		i = t.newFlow(&key, h)
		f = t.flow(i)
		// The initiator sends the first packet, or receives a SYN+ACK
		// whose SYN was not captured.
		f.initA = key.a == d.src && key.pa == d.sport
		if d.proto == 6 && d.hasFlags && d.flags&0x12 == 0x12 && !(key.a == key.b && key.pa == key.pb) {
			f.initA = !f.initA
		}
	}
	if fresh {
		f.first, f.last = ts, ts
		f.hasVLAN, f.vlan = d.hasVLAN, d.vlan
	} else {
		f.first, f.last = min(f.first, ts), max(f.last, ts)
	}
	f.activity = t.clock
	initAddr, initPort := f.key.b, f.key.pb
	if f.initA {
		initAddr, initPort = f.key.a, f.key.pa
	}
	dir := dirIn
	if d.src == initAddr && (later || d.sport == initPort) {
		dir = dirOut
	}
	if t.observe != nil {
		o := dir
		if later {
			o += dirOutFrag
		}
		t.observe(f, o, ts, hasTS)
	}
	if !later {
		f.packets[dir]++
		f.bytes[dir] += bytes
		if d.hasFlags {
			f.flags[dir] |= d.flags
			f.hasFlags[dir] = true
		}
		return nil
	}
	if f.frag == 0 {
		var k int32
		if n := len(t.fragFree); n > 0 {
			k, t.fragFree = t.fragFree[n-1], t.fragFree[:n-1]
			t.fragCounts[k] = fragCounts{}
		} else {
			k = int32(len(t.fragCounts))
			t.fragCounts = append(t.fragCounts, fragCounts{})
		}
		f.frag = k + 1
	}
	c := &t.fragCounts[f.frag-1]
	c.packets[dir]++
	c.bytes[dir] += bytes
	if d.hasFlags {
		c.flags[dir] |= d.flags
		c.hasFlags[dir] = true
	}
	return nil
}

// prefetchSlots and prefetchFlows fetch ahead what add will need for a
// group of packets: the index slots of their keys; then, a group later,
// the flows and idle-list links those slots point to, found by probing
// the slots (by then in a cache) as lookup will. The flows of a large
// capture are rarely still in a cache when their next packet comes;
// fetched a group or two ahead, without waiting, their cache misses
// overlap the work on other packets. Neither changes anything: add does
// the real look-ups, in order.
func (t *table) prefetchSlots(g []pkt) {
	n := 0
	for j := range g {
		if p := &g[j]; p.hashed {
			t.ahead[n] = prefetch.Addr(&t.slots[uint32(p.hash>>32)&t.mask])
			n++
		}
	}
	prefetch.Addrs(t.ahead[:n])
}

func (t *table) prefetchFlows(g []pkt) {
	n := 0
	for j := range g {
		p := &g[j]
		if !p.hashed {
			continue
		}
		tag := uint32(p.hash >> 32)
		for q := tag & t.mask; ; q = (q + 1) & t.mask {
			s := t.slots[q]
			if s == 0 {
				break
			}
			if uint32(s>>32) == tag {
				i := int32(uint32(s)) - 1
				f := t.flow(i)
				t.ahead[n] = prefetch.Addr(f) // both cache lines
				t.ahead[n+1] = prefetch.Addr(f) + 64
				t.ahead[n+2] = prefetch.Addr(&t.links[i])
				n += 3
				break
			}
		}
	}
	prefetch.Addrs(t.ahead[:n])
}

// newFlow adds a flow for key, whose hash is h, at the back of the idle
// list.
func (t *table) newFlow(key *flowKey, h uint64) int32 {
	var i int32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		if t.n&(chunkFlows-1) == 0 {
			// Both are written whole as flows come: made resident in
			// one call each (package resident), not a fault per page.
			chunk := make([]flow, chunkFlows)
			resident.Slice(chunk)
			t.chunks = append(t.chunks, chunk)
			if len(t.links)+chunkFlows > cap(t.links) {
				links := make([]link, len(t.links), 2*cap(t.links)+chunkFlows)
				resident.Slice(links)
				t.links = links[:copy(links, t.links)]
			}
		}
		i = t.n
		t.n++
		t.links = append(t.links, link{})
	}
	t.seq++
	*t.flow(i) = flow{key: *key, seq: t.seq, started: t.clock, activity: t.clock}
	t.insert(i, h)
	t.pushBack(i)
	return i
}

// flush emits the flows still open, by start time; the table is not to
// be used after it. It finds them in one pass over the flows, sorts their
// start times and indices (not the flows), and reads a few flows ahead of
// the one it emits: with many flows open, flows are rarely in a cache.
func (t *table) flush() error {
	type entry struct {
		first int64
		i     int32
	}
	open := make([]entry, 0, t.used)
	for i := range t.n {
		if f := t.flow(i); f.seq != 0 {
			open = append(open, entry{f.first, i})
		}
	}
	if len(open) != t.used {
		panic("BUG: open flows and index disagree")
	}
	slices.SortFunc(open, func(x, y entry) int {
		if x.first != y.first {
			if x.first < y.first {
				return -1
			}
			return 1
		}
		if t.flow(x.i).seq < t.flow(y.i).seq { // rare: the same start time
			return -1
		}
		return 1
	})
	const ahead = 8
	for k, e := range open {
		if k+ahead < len(open) {
			t.sink += uint64(t.flow(open[k+ahead].i).activity)
		}
		if err := t.end(e.i); err != nil {
			return err
		}
	}
	return nil
}
