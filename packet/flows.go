package packet

import (
	"context"
	"errors"
	"hash/maphash"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/flowlens/flowlens/columnar"
)

// Config sets how packets are cut into flows. The zero value is not
// useful; start from DefaultConfig.
type Config struct {
	// IdleTimeout ends a flow when no packet of it was seen for longer
	// than this, in capture time.
	IdleTimeout time.Duration
	// ActiveTimeout ends a flow row that has lasted this long; the next
	// packet of the conversation starts a continuation row (state C).
	ActiveTimeout time.Duration
	// Packets makes Convert write one row per packet (ReadPackets)
	// instead of one per flow.
	Packets bool
}

// DefaultConfig returns an idle timeout of 60 s and an active timeout of
// 30 min.
func DefaultConfig() Config {
	return Config{IdleTimeout: 60 * time.Second, ActiveTimeout: 30 * time.Minute}
}

// Stats describes one capture as read by ReadFlows.
type Stats struct {
	Packets int64 // packet records read
	Bytes   int64 // sum of their original (wire) lengths
	Flows   int64 // flows emitted
	NonIP   int64 // well-formed frames without an IP header (ARP, ...)
	// Malformed counts packets by reason: unknown-linktype, truncated-link,
	// truncated-ip, bad-ip (not in any flow), truncated-tcp, truncated-udp
	// (in their flow, with the ports that were captured), caplen-gt-len
	// (captured length above the original length; still decoded),
	// bad-timestamp (pcap fraction of a second or more: added as it is).
	Malformed map[string]int64
	// LinkTypes counts packets by link type (LINKTYPE_ value).
	LinkTypes map[uint32]int64
}

// flowKey is a conversation, endpoints in canonical order (a ≤ b).
type flowKey struct {
	a, b   netip.Addr
	pa, pb uint16
	proto  uint8
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

// dirStats counts one direction of a flow.
type dirStats struct {
	packets, bytes int64
	first, last    int64 // Unix ns of timestamped packets; valid when hasTS
	hasTS          bool
	flags          uint8 // OR of TCP flags; valid when hasFlags
	hasFlags       bool
}

func (s *dirStats) add(bytes, ts int64, hasTS bool, d *decoded) {
	s.packets++
	s.bytes += bytes
	if hasTS {
		if !s.hasTS || ts < s.first {
			s.first = ts
		}
		if !s.hasTS || ts > s.last {
			s.last = ts
		}
		s.hasTS = true
	}
	if d.hasFlags {
		s.flags |= d.flags
		s.hasFlags = true
	}
}

// flow is one row in the making.
type flow struct {
	key        flowKey
	initA      bool // the initiator is key.a
	cont       bool // continues a row cut by the active timeout
	hasVLAN    bool
	vlan       uint16
	dir        [4]dirStats
	first      int64 // Unix ns: first and last packet (untimestamped packets: capture clock)
	last       int64
	started    int64 // capture clock when the row started (active timeout)
	activity   int64 // capture clock at the last packet (idle timeout)
	seq        uint64
	prev, next int32 // idle list, least recently active first
	hnext      int32 // next flow whose key has the same hash
}

// ends reports the source and destination address of direction dir.
func (f *flow) endpoints(dir int) (src, dst netip.Addr, sport, dport uint16) {
	a2b := (dir == dirOut || dir == dirOutFrag) == f.initA
	if a2b {
		return f.key.a, f.key.b, f.key.pa, f.key.pb
	}
	return f.key.b, f.key.a, f.key.pb, f.key.pa
}

// fragSlots is the size of the table that maps later fragments to the flow
// of their first fragment: direct-mapped, a colliding entry replaces the
// old one, so memory stays fixed.
const fragSlots = 4096

type fragEntry struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	used     bool
	clock    int64
	key      flowKey
}

// table assembles packets into flows.
type table struct {
	cfg        Config
	idle, act  int64            // ns
	index      map[uint64]int32 // key hash → first flow of that hash, chained by hnext
	seed       maphash.Seed
	chunks     [][]flow // flows, in chunks so that growing copies nothing
	n          int32    // flows allocated in chunks
	free       []int32
	head, tail int32 // idle list
	clock      int64 // highest packet timestamp seen
	seq        uint64
	frags      []fragEntry
	emit       func(*flow) error
}

// The flow index maps a 64-bit hash of the key to a chain of flows: the
// map's keys stay 8 bytes and a look-up compares full keys only in the flow,
// which it reads anyway.

func (t *table) hash(key *flowKey) uint64 { return maphash.Comparable(t.seed, *key) }

// lookup finds the flow of key.
func (t *table) lookup(key flowKey) (int32, bool) {
	i, ok := t.index[t.hash(&key)]
	if !ok {
		return -1, false
	}
	for ; i >= 0; i = t.flow(i).hnext {
		if t.flow(i).key == key {
			return i, true
		}
	}
	return -1, false
}

// insert adds flow i to the index.
func (t *table) insert(i int32) {
	f := t.flow(i)
	h := t.hash(&f.key)
	f.hnext = -1
	if first, ok := t.index[h]; ok {
		f.hnext = first
	}
	t.index[h] = i
}

// unindex removes flow i from the index.
func (t *table) unindex(i int32) {
	f := t.flow(i)
	h := t.hash(&f.key)
	first := t.index[h]
	if first == i {
		if f.hnext >= 0 {
			t.index[h] = f.hnext
		} else {
			delete(t.index, h)
		}
		return
	}
	for j := first; j >= 0; j = t.flow(j).hnext {
		if t.flow(j).hnext == i {
			t.flow(j).hnext = f.hnext
			return
		}
	}
	panic("BUG: flow not in its hash chain")
}

// chunkFlows is the number of flows in one chunk of the table (a power of 2).
const chunkFlows = 4096

// flow returns flow i of the table.
func (t *table) flow(i int32) *flow { return &t.chunks[i/chunkFlows][i%chunkFlows] }

func newTable(cfg Config, emit func(*flow) error) *table {
	return &table{
		cfg: cfg, idle: int64(cfg.IdleTimeout), act: int64(cfg.ActiveTimeout),
		index: make(map[uint64]int32), seed: maphash.MakeSeed(), head: -1, tail: -1, emit: emit,
	}
}

func (t *table) unlink(i int32) {
	f := t.flow(i)
	if f.prev >= 0 {
		t.flow(f.prev).next = f.next
	} else {
		t.head = f.next
	}
	if f.next >= 0 {
		t.flow(f.next).prev = f.prev
	} else {
		t.tail = f.prev
	}
}

func (t *table) pushBack(i int32) {
	f := t.flow(i)
	f.prev, f.next = t.tail, -1
	if t.tail >= 0 {
		t.flow(t.tail).next = i
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
	return t.emit(t.flow(i))
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

func fragHash(src, dst netip.Addr, id uint32, proto uint8) uint32 {
	s, d := src.As16(), dst.As16()
	h := uint64(id)*0x9e3779b97f4a7c15 ^ uint64(proto)
	for i := 0; i < 16; i += 8 {
		h = (h ^ binary64(s[i:])) * 0xff51afd7ed558ccd
		h = (h ^ binary64(d[i:])) * 0xc4ceb9fe1a85ec53
	}
	return uint32(h>>32) % fragSlots
}

func binary64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// add counts one decoded packet of wire length bytes.
func (t *table) add(d *decoded, bytes, ts int64, hasTS bool) error {
	if hasTS && ts > t.clock {
		t.clock = ts
		if err := t.sweep(); err != nil {
			return err
		}
	}
	if !hasTS {
		ts = t.clock
	}
	var key flowKey
	later := false
	if d.frag == fragLater {
		// Attribute to the flow of the first fragment, when it was seen.
		if t.frags != nil {
			e := &t.frags[fragHash(d.src, d.dst, d.fragID, d.proto)]
			if e.used && e.id == d.fragID && e.proto == d.proto && e.src == d.src && e.dst == d.dst && t.clock-e.clock <= t.idle {
				key, later = e.key, true
			}
		}
	}
	if !later {
		key.proto = d.proto
		if d.src.Less(d.dst) || (d.src == d.dst && d.sport <= d.dport) {
			key.a, key.b, key.pa, key.pb = d.src, d.dst, d.sport, d.dport
		} else {
			key.a, key.b, key.pa, key.pb = d.dst, d.src, d.dport, d.sport
		}
		if d.frag == fragFirst {
			if t.frags == nil {
				t.frags = make([]fragEntry, fragSlots)
			}
			t.frags[fragHash(d.src, d.dst, d.fragID, d.proto)] = fragEntry{
				src: d.src, dst: d.dst, id: d.fragID, proto: d.proto, used: true, clock: t.clock, key: key,
			}
		}
	}
	i, ok := t.lookup(key)
	var f *flow
	if ok {
		f = t.flow(i)
		if t.clock-f.started >= t.act && t.act > 0 {
			// Active timeout: emit this row, continue in a fresh one.
			initA := f.initA
			if err := t.expire(i); err != nil {
				return err
			}
			i = t.newFlow(key)
			f = t.flow(i)
			f.initA, f.cont = initA, true
		} else {
			t.unlink(i)
			t.pushBack(i)
		}
	} else {
		i = t.newFlow(key)
		f = t.flow(i)
		// The initiator sends the first packet, or receives a SYN+ACK
		// whose SYN was not captured.
		f.initA = key.a == d.src && key.pa == d.sport
		if d.proto == 6 && d.hasFlags && d.flags&0x12 == 0x12 && !(key.a == key.b && key.pa == key.pb) {
			f.initA = !f.initA
		}
	}
	if !ok || f.packets() == 0 {
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
	if later {
		dir += dirOutFrag
	}
	f.dir[dir].add(bytes, ts, hasTS, d)
	return nil
}

func (f *flow) packets() int64 {
	return f.dir[0].packets + f.dir[1].packets + f.dir[2].packets + f.dir[3].packets
}

func (t *table) newFlow(key flowKey) int32 {
	var i int32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		if t.n&(chunkFlows-1) == 0 {
			t.chunks = append(t.chunks, make([]flow, chunkFlows))
		}
		i = t.n
		t.n++
	}
	t.seq++
	*t.flow(i) = flow{key: key, seq: t.seq, started: t.clock, activity: t.clock}
	t.insert(i)
	t.pushBack(i)
	return i
}

// flush emits the flows still open, by start time.
func (t *table) flush() error {
	open := make([]int32, 0, len(t.index))
	for _, i := range t.index {
		for ; i >= 0; i = t.flow(i).hnext {
			open = append(open, i)
		}
	}
	slices.SortFunc(open, func(x, y int32) int {
		fx, fy := t.flow(x), t.flow(y)
		if fx.first != fy.first {
			if fx.first < fy.first {
				return -1
			}
			return 1
		}
		if fx.seq < fy.seq {
			return -1
		}
		return 1
	})
	for _, i := range open {
		if err := t.expire(i); err != nil {
			return err
		}
	}
	return nil
}

// fill writes flow f into row, with addresses in the caller's buffers.
func fill(f *flow, row *columnar.Flow, addrs []byte) []byte {
	src, dst, sport, dport := f.endpoints(dirOut)
	addrs = src.Unmap().AppendTo(addrs[:0])
	n := len(addrs)
	addrs = dst.Unmap().AppendTo(addrs)
	row.SrcIP, row.DstIP = addrs[:n:n], addrs[n:]
	row.SrcPort, row.DstPort = int32(sport), int32(dport)
	row.Proto = int32(f.key.proto)
	row.Time, row.EndTime, row.HasEndTime = floorDiv(f.first, 1000), floorDiv(f.last, 1000), true
	out, in := &f.dir[dirOut], &f.dir[dirIn]
	of, inf := &f.dir[dirOutFrag], &f.dir[dirInFrag]
	row.HasCounters = true
	row.PacketsOut, row.BytesOut = out.packets+of.packets, out.bytes+of.bytes
	row.PacketsIn, row.BytesIn = in.packets+inf.packets, in.bytes+inf.bytes
	row.HasTCPFlags = out.hasFlags || in.hasFlags
	row.TCPFlags = int32(out.flags | in.flags)
	row.HasVLAN, row.VLAN = f.hasVLAN, int32(f.vlan)
	row.State = f.state()
	return addrs
}

// state is E when a FIN or RST was seen, C for a row that continues one cut
// by the active timeout, and B for a row that holds the first packet of
// its conversation.
func (f *flow) state() byte {
	if (f.dir[dirOut].flags|f.dir[dirIn].flags)&0x05 != 0 {
		return 'E'
	}
	if f.cont {
		return 'C'
	}
	return 'B'
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ReadFlows reads a whole capture (pcap or pcapng, already decompressed)
// from r and calls emit for every flow: first the flows that end by a
// timeout, in the order they end, then at the end of the capture the rest,
// by start time. name is the ResourceID of every row and names the file in
// errors. The *columnar.Flow passed to emit, and the bytes it points to,
// are only valid during the call; an error from emit stops the reading
// and is returned.
//
// A bad file header returns an *Error wrapping ErrBadHeader and no flows.
// A bad or cut-short record or block mid-file returns an *Error wrapping
// ErrBadBlock or ErrTruncatedBlock, with its byte offset and frame number,
// after the flows of every packet before it were emitted. Malformed packets
// are counted in Stats.Malformed and never stop the reading.
func ReadFlows(ctx context.Context, r io.Reader, name string, cfg Config, emit func(*columnar.Flow) error) (Stats, error) {
	row := columnar.Flow{Source: columnar.SourcePcap, ResourceID: []byte(name)}
	var addrs []byte
	return readFlows(ctx, r, name, cfg, func(f *flow) error {
		if f.packets() == 0 {
			return nil
		}
		addrs = fill(f, &row, addrs)
		return emit(&row)
	})
}

// readFlows is ReadFlows with the internal flow records, which keep
// per-direction times, flags and fragments (for the oracle test).
func readFlows(ctx context.Context, r io.Reader, name string, cfg Config, emit func(*flow) error) (Stats, error) {
	st := Stats{Malformed: map[string]int64{}, LinkTypes: map[uint32]int64{}}
	t := newTable(cfg, func(f *flow) error {
		if f.packets() == 0 {
			return nil
		}
		st.Flows++
		return emit(f)
	})
	readErr := readFrames(ctx, r, name, &st, func(d *decoded, fr *frame) error {
		return t.add(d, fr.origLen, fr.ts, fr.hasTS)
	})
	if readErr != nil && !isCaptureError(readErr) {
		return st, readErr
	}
	if err := t.flush(); err != nil {
		return st, err
	}
	return st, readErr
}

// isCaptureError reports whether err is the capture's own fault (an *Error),
// after which what was read is still good.
func isCaptureError(err error) bool {
	var pe *Error
	return errors.As(err, &pe)
}

// readFrames reads every frame of a capture, counts it in st, decodes it
// and calls onIP for each packet with an IP header. It returns the reader's
// error (an *Error) or the first error of onIP or ctx.
func readFrames(ctx context.Context, r io.Reader, name string, st *Stats, onIP func(d *decoded, fr *frame) error) error {
	var c capReader
	if err := c.open(r, name); err != nil {
		return err
	}
	var (
		fr      frame
		d       decoded
		lastLT  uint32
		ltCount int64
	)
	lastLT = ^uint32(0)
	defer func() {
		if ltCount > 0 {
			st.LinkTypes[lastLT] += ltCount
		}
	}()
	for {
		if c.frames&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := c.next(&fr); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		st.Packets++
		st.Bytes += fr.origLen
		if fr.linkType != lastLT { // count link types without a map write per packet
			if ltCount > 0 {
				st.LinkTypes[lastLT] += ltCount
			}
			lastLT, ltCount = fr.linkType, 0
		}
		ltCount++
		if fr.badTS {
			st.Malformed[reasonBadTimestamp]++
		}
		if int64(len(fr.data)) > fr.origLen {
			st.Malformed[reasonCaplenGtLen]++
		}
		switch s := decode(fr.linkType, fr.data, &d); s {
		case statusIP:
			if d.truncated != "" {
				st.Malformed[d.truncated]++
			}
			if err := onIP(&d, &fr); err != nil {
				return err
			}
		case statusNonIP:
			st.NonIP++
		default:
			st.Malformed[statusReason[s]]++
		}
	}
}

// ReadPackets reads a capture like ReadFlows but emits one row per IP
// packet instead of one per flow: Time is the packet's (a packet without a
// timestamp takes the latest one seen), the 5-tuple as the packet has it
// (sender first; later fragments have ports 0), PacketsOut 1, BytesOut the
// original length, CapturedLen the bytes captured, TCP flags and outer
// VLAN. Stats.Flows stays 0.
func ReadPackets(ctx context.Context, r io.Reader, name string, emit func(*columnar.Flow) error) (Stats, error) {
	st := Stats{Malformed: map[string]int64{}, LinkTypes: map[uint32]int64{}}
	row := columnar.Flow{Source: columnar.SourcePcap, ResourceID: []byte(name), HasCounters: true, PacketsOut: 1, HasCapturedLen: true}
	var addrs []byte
	var last int64
	err := readFrames(ctx, r, name, &st, func(d *decoded, fr *frame) error {
		if fr.hasTS {
			last = fr.ts
		}
		row.Time = floorDiv(last, 1000)
		addrs = d.src.Unmap().AppendTo(addrs[:0])
		n := len(addrs)
		addrs = d.dst.Unmap().AppendTo(addrs)
		row.SrcIP, row.DstIP = addrs[:n:n], addrs[n:]
		row.SrcPort, row.DstPort, row.Proto = int32(d.sport), int32(d.dport), int32(d.proto)
		row.BytesOut = fr.origLen
		row.CapturedLen = int32(len(fr.data))
		row.TCPFlags, row.HasTCPFlags = int32(d.flags), d.hasFlags
		row.VLAN, row.HasVLAN = int32(d.vlan), d.hasVLAN
		return emit(&row)
	})
	return st, err
}
