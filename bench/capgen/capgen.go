// Package capgen writes large synthetic packet captures, deterministically
// (the same Config always gives the same bytes), and returns the totals a
// correct flow assembly of them must give.
//
// The capture interleaves many concurrent sessions, each with its own
// 5-tuple (no tuple is reused, so every session is exactly one
// bidirectional flow):
//
//   - TCP (about 45% of sessions): SYN, SYN+ACK, ACK (40-byte SYN options,
//     32-byte headers with timestamps after), one to a few request/response
//     rounds (requests of 80–1,400 bytes, responses mostly a few kB with a
//     heavy tail up to 6 MB, in 1,448-byte segments, the client ACKing
//     every second segment), then FIN/FIN/ACK from either side or an RST;
//     some connections are refused (SYN, RST+ACK) or unanswered (SYN and
//     retransmissions).
//   - DNS-like UDP to port 53 (about 47%): a query of 20–60 bytes and
//     mostly one answer of 40–480 bytes.
//   - bulk UDP (about 2%): 50–2,500 datagrams of 1,000–1,400 bytes, mostly
//     server to client (QUIC/RTP-like).
//   - ICMP echo (about 6%): 1–10 requests of 56 bytes, mostly answered
//     (ICMPv6 echo for IPv6 sessions).
//
// Link type Ethernet; a fraction of sessions are IPv6 (Config.IPv6) and a
// fraction carry an 802.1Q tag (Config.VLAN). The next packet always comes
// from a session picked uniformly among Config.Concurrent open ones; a
// finished session is replaced by a new one. Capture time advances by
// exponential gaps of mean 1/Config.PPS. Output is pcap (µs) or pcapng
// (one section, one Ethernet interface, Enhanced Packet Blocks, µs),
// written through a bufio.Writer: memory does not grow with the capture.
package capgen

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// Config chooses the capture.
type Config struct {
	Seed       uint64
	Format     string  // "pcap" or "pcapng"
	Packets    int64   // stop after this many packets (0: no limit)
	Size       int64   // or when the file reaches this many bytes (0: no limit)
	Concurrent int     // sessions open at once
	PPS        float64 // mean packets per second of capture time
	IPv6       float64 // fraction of sessions over IPv6
	VLAN       float64 // fraction of sessions with an 802.1Q tag
	Start      time.Time
	// IdleTimeout is the idle timeout for which Totals.PeakOpenFlows is
	// computed (0: 60 s).
	IdleTimeout time.Duration
}

// DefaultConfig is a 3,000,000-packet pcap with 20,000 sessions open at
// once, 20,000 packets/s of capture time (150 s), 6% IPv6, no VLAN tags.
func DefaultConfig() Config {
	return Config{
		Seed: 1, Format: "pcap", Packets: 3_000_000, Concurrent: 20_000, PPS: 20_000,
		IPv6: 0.06, Start: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
	}
}

// Totals are what a flow assembly of the capture must give (with an idle
// timeout above MaxGapSeconds and an active timeout above DurationSeconds).
type Totals struct {
	Format      string `json:"format"`
	FileBytes   int64  `json:"file_bytes"`
	Packets     int64  `json:"packets"`
	Bytes       int64  `json:"bytes"` // sum of frame (wire) lengths
	Flows       int64  `json:"flows"` // bidirectional 5-tuple flows (= sessions)
	FlowsTCP    int64  `json:"flows_tcp"`
	FlowsUDP    int64  `json:"flows_udp"`
	FlowsICMP   int64  `json:"flows_icmp"` // ICMP and ICMPv6
	FlowsIPv6   int64  `json:"flows_ipv6"`
	PacketsOut  int64  `json:"packets_out"` // initiator → responder
	BytesOut    int64  `json:"bytes_out"`
	PacketsIn   int64  `json:"packets_in"`
	BytesIn     int64  `json:"bytes_in"`
	VLANPackets int64  `json:"vlan_packets"`
	// FirstUs and LastUs are the first and last timestamps (Unix µs).
	FirstUs         int64   `json:"first_us"`
	LastUs          int64   `json:"last_us"`
	DurationSeconds float64 `json:"duration_seconds"`
	// MaxGapSeconds is the longest time between two packets of a flow.
	MaxGapSeconds float64 `json:"max_gap_seconds"`
	Concurrent    int     `json:"concurrent"`
	// PeakOpenFlows is the most flows a flow table with an idle timeout of
	// IdleTimeoutSeconds holds at once: flows begun and not yet idle for
	// longer than that (a finished session stays until it goes idle).
	PeakOpenFlows      int64   `json:"peak_open_flows"`
	IdleTimeoutSeconds float64 `json:"idle_timeout_seconds"`
}

const (
	kindTCP = iota
	kindDNS
	kindBulkUDP
	kindICMP
)

// TCP flags.
const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fPSH = 0x08
	fACK = 0x10
)

const mss = 1448

// TCP phases.
const (
	pSYN = iota
	pSYNACK
	pACK
	pReq
	pResp
	pRespAck
	pClose1
	pClose2
	pClose3
	pRST
	pRefusedRST
	pRetry
	pDone
)

type session struct {
	kind     uint8
	v6       bool
	vlan     uint16
	proto    uint8
	cip, sip [16]byte // IPv4 in the first 4 bytes
	cport    uint16
	sport    uint16
	phase    uint8
	closer   bool // the server closes (FIN or RST)
	rounds   int
	reqLeft  int
	respLeft int
	unacked  int
	left     int // UDP/ICMP: packets still to send; TCP retries
	seqC     uint32
	seqS     uint32
	icmpSeq  uint16
	answer   bool // DNS/ICMP: the request is answered
	sent     bool
	last     int64 // ns of the previous packet
}

// gen holds the generator state.
type gen struct {
	cfg    Config
	rng    *rand.Rand
	w      *bufio.Writer
	tot    Totals
	clock  int64  // ns
	k      uint64 // sessions created (tuple counter)
	kICMP  uint64
	ipid   uint16
	maxGap int64
	buf    []byte
	hdr    [32]byte
	zeros  []byte
	live   int64   // sessions that have sent a packet and not finished
	ending endHeap // when finished sessions go idle (ns)
	idle   int64
}

// endHeap is a min-heap of the times finished flows go idle.
type endHeap []int64

func (h endHeap) Len() int           { return len(h) }
func (h endHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h endHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *endHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Write writes the capture to w and returns its totals.
func Write(w io.Writer, cfg Config) (Totals, error) {
	if cfg.Format != "pcap" && cfg.Format != "pcapng" {
		return Totals{}, fmt.Errorf("capgen: format %q: want pcap or pcapng", cfg.Format)
	}
	if cfg.Packets <= 0 && cfg.Size <= 0 {
		return Totals{}, errors.New("capgen: set Packets or Size")
	}
	if cfg.Concurrent <= 0 || cfg.PPS <= 0 {
		return Totals{}, errors.New("capgen: Concurrent and PPS must be positive")
	}
	g := &gen{
		cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		w: bufio.NewWriterSize(w, 1<<20), buf: make([]byte, 0, 2048), zeros: make([]byte, 1500),
	}
	g.tot.Format = cfg.Format
	g.tot.Concurrent = cfg.Concurrent
	g.clock = cfg.Start.UnixNano()
	g.idle = int64(cfg.IdleTimeout)
	if g.idle <= 0 {
		g.idle = int64(60 * time.Second)
	}
	g.tot.IdleTimeoutSeconds = float64(g.idle) / 1e9
	for i := range g.zeros {
		g.zeros[i] = byte(i * 7)
	}
	g.writeFileHeader()
	open := make([]session, cfg.Concurrent)
	for i := range open {
		g.newSession(&open[i])
	}
	meanGap := 1e9 / cfg.PPS
	for (cfg.Packets <= 0 || g.tot.Packets < cfg.Packets) && (cfg.Size <= 0 || g.tot.FileBytes < cfg.Size) {
		g.clock += 1 + int64(g.rng.ExpFloat64()*meanGap)
		s := &open[g.rng.IntN(len(open))]
		if !g.step(s) {
			g.live--
			heap.Push(&g.ending, s.last+g.idle)
			g.newSession(s)
			g.step(s)
		}
	}
	g.tot.DurationSeconds = float64(g.tot.LastUs-g.tot.FirstUs) / 1e6
	g.tot.MaxGapSeconds = float64(g.maxGap) / 1e9
	return g.tot, g.w.Flush()
}

// newSession starts session k.
func (g *gen) newSession(s *session) {
	r := g.rng
	*s = session{}
	s.v6 = r.Float64() < g.cfg.IPv6
	if g.cfg.VLAN > 0 && r.Float64() < g.cfg.VLAN {
		s.vlan = uint16(100 + r.IntN(8))
	}
	x := r.Float64()
	switch {
	case x < 0.45:
		s.kind, s.proto = kindTCP, 6
	case x < 0.92:
		s.kind, s.proto = kindDNS, 17
	case x < 0.94:
		s.kind, s.proto = kindBulkUDP, 17
	default:
		s.kind, s.proto = kindICMP, 1
		if s.v6 {
			s.proto = 58
		}
	}
	// Client address and port: unique per session (k ↦ (k mod H, k div H)).
	const hosts = 16381
	if s.kind == kindICMP {
		// ICMP flows have no ports: a fresh client address each time.
		n := g.kICMP
		g.kICMP++
		if s.v6 {
			s.cip = [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2}
			binary.BigEndian.PutUint64(s.cip[8:], n+1)
		} else {
			binary.BigEndian.PutUint32(s.cip[:], 0x64400000+uint32(n%(1<<22))+1) // 100.64.0.0/10
		}
	} else {
		n := g.k
		g.k++
		host := uint32(n % hosts)
		s.cport = uint16(1024 + (n/hosts)%64000)
		if s.v6 {
			s.cip = [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1}
			binary.BigEndian.PutUint32(s.cip[12:], host+1)
		} else {
			binary.BigEndian.PutUint32(s.cip[:], 0x0a000000+host+1) // 10.0.0.0/8
		}
	}
	// Server: Zipf-like over 4,096 addresses.
	srv := uint32(math.Pow(r.Float64(), 3) * 4096)
	if s.kind == kindDNS {
		srv = uint32(r.IntN(4))
	}
	if s.v6 {
		s.sip = [16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff}
		binary.BigEndian.PutUint32(s.sip[12:], srv+1)
	} else {
		binary.BigEndian.PutUint32(s.sip[:], 0xc6120000+srv+1) // 198.18.0.0/15
	}
	switch s.kind {
	case kindTCP:
		s.sport = tcpPorts[weighted(r, tcpPortWeights)]
		s.seqC, s.seqS = r.Uint32(), r.Uint32()
		s.rounds = 1 + int(math.Pow(r.Float64(), 4)*6)
		s.reqLeft = 80 + r.IntN(1320)
		s.respLeft = respSize(r)
		s.closer = r.IntN(2) == 0
		switch y := r.Float64(); {
		case y < 0.03:
			s.phase = pSYN
			s.left = -1 // refused
		case y < 0.05:
			s.phase = pSYN
			s.left = 1 + r.IntN(3) // unanswered: retransmissions
		default:
			s.phase = pSYN
		}
	case kindDNS:
		s.sport = 53
		s.answer = r.Float64() < 0.96
	case kindBulkUDP:
		s.sport = udpPorts[r.IntN(len(udpPorts))]
		s.left = 50 + r.IntN(2450)
	case kindICMP:
		s.left = 1 + r.IntN(10)
		s.answer = r.Float64() < 0.9
		s.icmpSeq = uint16(r.IntN(1000))
	}
}

var (
	tcpPorts       = []uint16{443, 80, 22, 3389, 1433, 5432, 8080, 25, 993, 6443}
	tcpPortWeights = []float64{60, 15, 4, 3, 3, 3, 5, 2, 2, 3}
	udpPorts       = []uint16{443, 5004, 4500, 1194, 3478}
)

func weighted(r *rand.Rand, w []float64) int {
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	x := r.Float64() * sum
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// respSize: mostly a few kB, a heavy tail up to 6 MB.
func respSize(r *rand.Rand) int {
	switch x := r.Float64(); {
	case x < 0.70:
		return 200 + r.IntN(3000)
	case x < 0.94:
		return 3000 + r.IntN(40000)
	case x < 0.995:
		return 40000 + r.IntN(400000)
	default:
		return 400000 + r.IntN(5600000)
	}
}

// step emits the next packet of s; false when s has nothing left.
func (g *gen) step(s *session) bool {
	r := g.rng
	switch s.kind {
	case kindTCP:
		return g.stepTCP(s)
	case kindDNS:
		switch {
		case !s.sent:
			g.emitUDP(s, true, 20+r.IntN(40))
		case s.answer:
			s.answer = false
			g.emitUDP(s, false, 40+r.IntN(440))
		default:
			return false
		}
	case kindBulkUDP:
		if s.left == 0 {
			return false
		}
		s.left--
		g.emitUDP(s, !s.sent || r.IntN(5) == 0, 1000+r.IntN(400))
	case kindICMP:
		if s.left == 0 {
			return false
		}
		if s.answer && s.sent && s.phase == 1 {
			s.phase = 0
			s.left--
			g.emitICMP(s, false)
		} else {
			s.icmpSeq++
			g.emitICMP(s, true)
			if s.answer {
				s.phase = 1
			} else {
				s.left--
			}
		}
	}
	return true
}

func (g *gen) stepTCP(s *session) bool {
	switch s.phase {
	case pSYN:
		g.emitTCP(s, true, fSYN, 0)
		switch {
		case s.left < 0:
			s.phase = pRefusedRST
		case s.left > 0:
			s.phase = pRetry
		default:
			s.phase = pSYNACK
		}
	case pRetry:
		if s.left == 0 {
			return false
		}
		s.left--
		g.emitTCP(s, true, fSYN, 0)
	case pRefusedRST:
		g.emitTCP(s, false, fRST|fACK, 0)
		s.phase = pDone
	case pSYNACK:
		g.emitTCP(s, false, fSYN|fACK, 0)
		s.phase = pACK
	case pACK:
		g.emitTCP(s, true, fACK, 0)
		s.phase = pReq
	case pReq:
		n := min(s.reqLeft, mss)
		s.reqLeft -= n
		g.emitTCP(s, true, fPSH|fACK, n)
		if s.reqLeft == 0 {
			s.phase = pResp
		}
	case pResp:
		if s.unacked >= 2 {
			s.unacked = 0
			g.emitTCP(s, true, fACK, 0)
			break
		}
		n := min(s.respLeft, mss)
		s.respLeft -= n
		s.unacked++
		fl := uint8(fACK)
		if s.respLeft == 0 {
			fl |= fPSH
			s.phase = pRespAck
		}
		g.emitTCP(s, false, fl, n)
	case pRespAck:
		s.unacked = 0
		g.emitTCP(s, true, fACK, 0)
		s.rounds--
		if s.rounds > 0 {
			s.reqLeft = 80 + g.rng.IntN(1320)
			s.respLeft = respSize(g.rng)
			s.phase = pReq
		} else if g.rng.IntN(10) == 0 {
			s.phase = pRST
		} else {
			s.phase = pClose1
		}
	case pRST:
		g.emitTCP(s, !s.closer, fRST|fACK, 0)
		s.phase = pDone
	case pClose1:
		g.emitTCP(s, !s.closer, fFIN|fACK, 0)
		s.phase = pClose2
	case pClose2:
		g.emitTCP(s, s.closer, fFIN|fACK, 0)
		s.phase = pClose3
	case pClose3:
		g.emitTCP(s, !s.closer, fACK, 0)
		s.phase = pDone
	default:
		return false
	}
	return true
}

// Link and network headers; returns the offset where L4 starts and the
// offset of the IP header.
func (g *gen) ipHeader(s *session, fromClient bool, l4len int) {
	b := g.buf[:0]
	src, dst := s.cip, s.sip
	if !fromClient {
		src, dst = dst, src
	}
	// MACs: client side 02:00:<ip>, gateway 02:ff:00:00:00:01.
	cmac := [6]byte{0x02, 0x00, s.cip[0] ^ s.cip[12], s.cip[1] ^ s.cip[13], s.cip[2] ^ s.cip[14], s.cip[3] ^ s.cip[15]}
	gw := [6]byte{0x02, 0xff, 0, 0, 0, 1}
	if fromClient {
		b = append(b, gw[:]...)
		b = append(b, cmac[:]...)
	} else {
		b = append(b, cmac[:]...)
		b = append(b, gw[:]...)
	}
	if s.vlan != 0 {
		b = append(b, 0x81, 0x00, byte(s.vlan>>8), byte(s.vlan))
	}
	g.ipid++
	if s.v6 {
		b = append(b, 0x86, 0xdd)
		b = append(b, 0x60, 0, 0, 0, byte(l4len>>8), byte(l4len), s.proto, 64)
		b = append(b, src[:]...)
		b = append(b, dst[:]...)
	} else {
		b = append(b, 0x08, 0x00)
		ip := len(b)
		tl := 20 + l4len
		b = append(b, 0x45, 0, byte(tl>>8), byte(tl), byte(g.ipid>>8), byte(g.ipid), 0x40, 0, 64, s.proto, 0, 0)
		b = append(b, src[:4]...)
		b = append(b, dst[:4]...)
		var sum uint32
		for i := ip; i < ip+20; i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(b[ip+10:], ^uint16(sum))
	}
	g.buf = b
}

func (g *gen) emitTCP(s *session, fromClient bool, flags uint8, payload int) {
	hl := 32
	if flags&fSYN != 0 {
		hl = 40
	}
	g.ipHeader(s, fromClient, hl+payload)
	sp, dp := s.cport, s.sport
	seq, ack := s.seqC, s.seqS
	if !fromClient {
		sp, dp = dp, sp
		seq, ack = ack, seq
	}
	b := g.buf
	b = binary.BigEndian.AppendUint16(b, sp)
	b = binary.BigEndian.AppendUint16(b, dp)
	b = binary.BigEndian.AppendUint32(b, seq)
	if flags&fACK == 0 {
		ack = 0
	}
	b = binary.BigEndian.AppendUint32(b, ack)
	b = append(b, byte(hl/4)<<4, flags, 0xff, 0xff, 0, 0, 0, 0) // window 65535, checksum 0
	ts := uint32(g.clock / 1e6)
	if flags&fSYN != 0 {
		b = append(b, 2, 4, mss>>8, mss&0xff, 4, 2, 8, 10)
		b = binary.BigEndian.AppendUint32(b, ts)
		b = append(b, 0, 0, 0, 0, 1, 3, 3, 7)
	} else {
		b = append(b, 1, 1, 8, 10)
		b = binary.BigEndian.AppendUint32(b, ts)
		b = binary.BigEndian.AppendUint32(b, ts-17)
	}
	adv := uint32(payload)
	if flags&(fSYN|fFIN) != 0 {
		adv++
	}
	if fromClient {
		s.seqC += adv
	} else {
		s.seqS += adv
	}
	g.buf = b
	g.emit(s, fromClient, payload)
}

func (g *gen) emitUDP(s *session, fromClient bool, payload int) {
	g.ipHeader(s, fromClient, 8+payload)
	sp, dp := s.cport, s.sport
	if !fromClient {
		sp, dp = dp, sp
	}
	b := g.buf
	b = binary.BigEndian.AppendUint16(b, sp)
	b = binary.BigEndian.AppendUint16(b, dp)
	b = binary.BigEndian.AppendUint16(b, uint16(8+payload))
	b = append(b, 0, 0)
	g.buf = b
	g.emit(s, fromClient, payload)
}

func (g *gen) emitICMP(s *session, request bool) {
	const payload = 56
	g.ipHeader(s, request, 8+payload)
	typ := byte(0)
	switch {
	case s.v6 && request:
		typ = 128
	case s.v6:
		typ = 129
	case request:
		typ = 8
	}
	b := append(g.buf, typ, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(s.cip[3])<<8|uint16(s.cip[15]))
	b = binary.BigEndian.AppendUint16(b, s.icmpSeq)
	g.buf = b
	g.emit(s, request, payload)
}

// emit writes the frame in g.buf followed by payload bytes.
func (g *gen) emit(s *session, fromClient bool, payload int) {
	n := len(g.buf) + payload
	us := g.clock / 1000
	t := &g.tot
	if !s.sent {
		s.sent = true
		t.Flows++
		g.live++
		for len(g.ending) > 0 && g.ending[0] < g.clock {
			heap.Pop(&g.ending)
		}
		if n := g.live + int64(len(g.ending)); n > t.PeakOpenFlows {
			t.PeakOpenFlows = n
		}
		switch s.proto {
		case 6:
			t.FlowsTCP++
		case 17:
			t.FlowsUDP++
		default:
			t.FlowsICMP++
		}
		if s.v6 {
			t.FlowsIPv6++
		}
	} else if gap := g.clock - s.last; gap > g.maxGap {
		g.maxGap = gap
	}
	s.last = g.clock
	if t.Packets == 0 {
		t.FirstUs = us
	}
	t.LastUs = us
	t.Packets++
	t.Bytes += int64(n)
	if fromClient {
		t.PacketsOut++
		t.BytesOut += int64(n)
	} else {
		t.PacketsIn++
		t.BytesIn += int64(n)
	}
	if s.vlan != 0 {
		t.VLANPackets++
	}
	h := g.hdr[:]
	if g.cfg.Format == "pcap" {
		binary.LittleEndian.PutUint32(h[0:], uint32(us/1e6))
		binary.LittleEndian.PutUint32(h[4:], uint32(us%1e6))
		binary.LittleEndian.PutUint32(h[8:], uint32(n))
		binary.LittleEndian.PutUint32(h[12:], uint32(n))
		g.w.Write(h[:16])
		g.w.Write(g.buf)
		g.w.Write(g.zeros[:payload])
		t.FileBytes += 16 + int64(n)
		return
	}
	pad := (4 - n%4) % 4
	total := 32 + n + pad
	binary.LittleEndian.PutUint32(h[0:], 6)
	binary.LittleEndian.PutUint32(h[4:], uint32(total))
	binary.LittleEndian.PutUint32(h[8:], 0)
	binary.LittleEndian.PutUint32(h[12:], uint32(uint64(us)>>32))
	binary.LittleEndian.PutUint32(h[16:], uint32(us))
	binary.LittleEndian.PutUint32(h[20:], uint32(n))
	binary.LittleEndian.PutUint32(h[24:], uint32(n))
	g.w.Write(h[:28])
	g.w.Write(g.buf)
	g.w.Write(g.zeros[:payload])
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[pad:], uint32(total))
	g.w.Write(tail[:pad+4])
	t.FileBytes += int64(total)
}

func (g *gen) writeFileHeader() {
	var b []byte
	if g.cfg.Format == "pcap" {
		b = binary.LittleEndian.AppendUint32(b, 0xa1b2c3d4)
		b = binary.LittleEndian.AppendUint16(b, 2)
		b = binary.LittleEndian.AppendUint16(b, 4)
		b = binary.LittleEndian.AppendUint32(b, 0)      // thiszone
		b = binary.LittleEndian.AppendUint32(b, 0)      // sigfigs
		b = binary.LittleEndian.AppendUint32(b, 262144) // snaplen
		b = binary.LittleEndian.AppendUint32(b, 1)      // LINKTYPE_ETHERNET
	} else {
		// Section Header Block, no options, section length unknown.
		b = binary.LittleEndian.AppendUint32(b, 0x0a0d0d0a)
		b = binary.LittleEndian.AppendUint32(b, 28)
		b = binary.LittleEndian.AppendUint32(b, 0x1a2b3c4d)
		b = binary.LittleEndian.AppendUint16(b, 1)
		b = binary.LittleEndian.AppendUint16(b, 0)
		b = binary.LittleEndian.AppendUint64(b, math.MaxUint64)
		b = binary.LittleEndian.AppendUint32(b, 28)
		// Interface Description Block: Ethernet, snaplen 262144, µs (default).
		b = binary.LittleEndian.AppendUint32(b, 1)
		b = binary.LittleEndian.AppendUint32(b, 20)
		b = binary.LittleEndian.AppendUint16(b, 1)
		b = binary.LittleEndian.AppendUint16(b, 0)
		b = binary.LittleEndian.AppendUint32(b, 262144)
		b = binary.LittleEndian.AppendUint32(b, 20)
	}
	g.w.Write(b)
	g.tot.FileBytes += int64(len(b))
}
