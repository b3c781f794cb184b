package packet

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/netip"
	"os"
	"reflect"
	"testing"
	"time"
)

func v4(proto uint8, fragField uint16, l4 []byte) []byte {
	h := make([]byte, 20, 20+len(l4))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
	binary.BigEndian.PutUint16(h[4:], 0x1234) // identification
	binary.BigEndian.PutUint16(h[6:], fragField)
	h[8], h[9] = 64, proto
	copy(h[12:], []byte{192, 0, 2, 1})
	copy(h[16:], []byte{198, 51, 100, 2})
	return append(h, l4...)
}

func v6(nh uint8, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6], h[7] = nh, 64
	s, d := netip.MustParseAddr("2001:db8::1").As16(), netip.MustParseAddr("2001:db8::2").As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, payload...)
}

var (
	udpHdr = []byte{0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0}                                                 // 12345 → 53
	tcpHdr = []byte{0x01, 0xbb, 0xc3, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0} // 443 → 50000, SYN+ACK
)

// v4opts is v4 with IPv4 options (a multiple of 4 bytes) after the fixed
// header.
func v4opts(opts []byte, proto uint8, l4 []byte) []byte {
	b := v4(proto, 0, l4)
	b = cat(b[:20], opts, b[20:])
	b[0] = 0x40 | byte((20+len(opts))/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// tcpOptsHdr is tcpHdr with 12 bytes of options (MSS, SACK permitted,
// window scale, NOP padding): data offset 8, 32 bytes.
var tcpOptsHdr = cat(tcpHdr[:12], []byte{0x80, 0x12}, tcpHdr[14:], []byte{2, 4, 5, 0xb4, 4, 2, 1, 1, 1, 3, 3, 7})

// addrOf parses an IP address into an addr.
func addrOf(s string) addr {
	b := netip.MustParseAddr(s).As16()
	return addrFrom16(b[:])
}

func eth(et uint16, payload []byte) []byte {
	b := make([]byte, 14, 14+len(payload))
	binary.BigEndian.PutUint16(b[12:], et)
	return append(b, payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecode(t *testing.T) {
	src4, dst4 := addrOf("192.0.2.1"), addrOf("198.51.100.2")
	src6, dst6 := addrOf("2001:db8::1"), addrOf("2001:db8::2")
	udp4 := decoded{src: src4, dst: dst4, proto: 17, sport: 12345, dport: 53}
	tcp4 := decoded{src: src4, dst: dst4, proto: 6, sport: 443, dport: 50000, flags: 0x12, hasFlags: true}
	udp6 := decoded{src: src6, dst: dst6, v6: true, proto: 17, sport: 12345, dport: 53}
	with := func(d decoded, f func(*decoded)) decoded { f(&d); return d }
	routing := []byte{17, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // 24 bytes, next UDP
	tests := []struct {
		name   string
		link   uint32
		frame  []byte
		status status
		want   decoded
	}{
		{"ethernet udp", linkEthernet, eth(0x0800, v4(17, 0, udpHdr)), statusIP, udp4},
		{"ethernet tcp", linkEthernet, eth(0x0800, v4(6, 0, tcpHdr)), statusIP, tcp4},
		{"ethernet padding after ip", linkEthernet, append(eth(0x0800, v4(17, 0, udpHdr)), 0, 0, 0, 0), statusIP, udp4},
		{"802.1q", linkEthernet, eth(0x8100, cat([]byte{0x20, 0x07, 0x08, 0x00}, v4(17, 0, udpHdr))), statusIP,
			with(udp4, func(d *decoded) { d.vlan, d.hasVLAN = 7, true })},
		{"802.1ad qinq: outer id", linkEthernet, eth(0x88a8, cat([]byte{0x00, 0x64, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00}, v4(17, 0, udpHdr))), statusIP,
			with(udp4, func(d *decoded) { d.vlan, d.hasVLAN = 100, true })},
		{"mpls", linkEthernet, eth(0x8847, cat([]byte{0, 0x01, 0x01, 64}, v4(17, 0, udpHdr))), statusIP, udp4},
		{"llc snap", linkEthernet, eth(46, cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, v4(17, 0, udpHdr))), statusIP, udp4},
		{"arp", linkEthernet, eth(0x0806, make([]byte, 28)), statusNonIP, decoded{}},
		{"ethernet cut", linkEthernet, make([]byte, 13), statusTruncatedLink, decoded{}},
		{"vlan cut", linkEthernet, eth(0x8100, []byte{0, 1}), statusTruncatedLink, decoded{hasVLAN: false}},
		{"sll", linkSLL, cat(make([]byte, 14), []byte{0x08, 0x00}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"sll2", linkSLL2, cat([]byte{0x86, 0xdd}, make([]byte, 18), v6(17, udpHdr)), statusIP, udp6},
		{"raw 101 ipv6", linkRaw, v6(17, udpHdr), statusIP, udp6},
		{"raw 12 ipv4", linkRawA, v4(17, 0, udpHdr), statusIP, udp4},
		{"ipv4 228", linkIPv4, v4(17, 0, udpHdr), statusIP, udp4},
		{"ipv6 229", linkIPv6, v6(17, udpHdr), statusIP, udp6},
		{"null little-endian", linkNull, cat([]byte{2, 0, 0, 0}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"null big-endian ipv6", linkNull, cat([]byte{0, 0, 0, 24}, v6(17, udpHdr)), statusIP, udp6},
		{"loop", linkLoop, cat([]byte{0, 0, 0, 2}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"ppp hdlc-like framing", linkPPP, cat([]byte{0xff, 0x03, 0x00, 0x21}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"ppp without address and control", linkPPP, cat([]byte{0x00, 0x21}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"ppp compressed protocol", linkPPP, cat([]byte{0x21}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"ppp ipv6 compressed protocol", linkPPP, cat([]byte{0xff, 0x03, 0x57}, v6(17, udpHdr)), statusIP, udp6},
		{"ppp mpls", linkPPP, cat([]byte{0xff, 0x03, 0x02, 0x81, 0, 0x01, 0x01, 64}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"ppp lcp", linkPPP, []byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, statusNonIP, decoded{}},
		{"ppp cut in protocol", linkPPP, []byte{0xff, 0x03, 0x00}, statusTruncatedLink, decoded{}},
		{"ppp empty", linkPPP, nil, statusTruncatedLink, decoded{}},
		{"ppp carrying cisco hdlc", linkPPP, cat([]byte{0x0f, 0x00, 0x08, 0x00}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"ppp 50 hdlc-like framing", linkPPPHDLC, cat([]byte{0xff, 0x03, 0x00, 0x21}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"ppp 50 cisco hdlc ipv6", linkPPPHDLC, cat([]byte{0x8f, 0x00, 0x86, 0xdd}, v6(17, udpHdr)), statusIP, udp6},
		{"ppp 50 cisco hdlc cut", linkPPPHDLC, []byte{0x0f, 0x00, 0x08}, statusTruncatedLink, decoded{}},
		{"cisco hdlc 104", linkCHDLC, cat([]byte{0x0f, 0x00, 0x08, 0x00}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"pppoe 51", linkPPPoE, cat([]byte{0x11, 0, 0, 1, 0, 30, 0x00, 0x21}, v4(17, 0, udpHdr)), statusIP, udp4},
		{"pppoe 51 compressed protocol", linkPPPoE, cat([]byte{0x11, 0, 0, 1, 0, 29, 0x57}, v6(17, udpHdr)), statusIP, udp6},
		{"pppoe 51 lcp", linkPPPoE, []byte{0x11, 0, 0, 1, 0, 6, 0xc0, 0x21, 1, 1, 0, 4}, statusNonIP, decoded{}},
		{"pppoe 51 cut", linkPPPoE, []byte{0x11, 0, 0, 1, 0}, statusTruncatedLink, decoded{}},
		{"pppoe in ethernet", linkEthernet, eth(0x8864, cat([]byte{0x11, 0, 0, 1, 0, 30, 0x00, 0x21}, v4(17, 0, udpHdr))), statusIP, udp4},
		{"unknown link type", 147, v4(17, 0, udpHdr), statusUnknownLink, decoded{}},
		{"ipv4 cut at 19", linkIPv4, v4(17, 0, udpHdr)[:19], statusTruncatedIP, decoded{}},
		{"ipv4 ihl 4", linkIPv4, func() []byte { b := v4(17, 0, udpHdr); b[0] = 0x44; return b }(), statusBadIP, decoded{}},
		{"ipv4 total length < header", linkIPv4, func() []byte { b := v4(17, 0, udpHdr); b[3] = 10; return b }(), statusBadIP, decoded{}},
		{"ipv4 options cut", linkIPv4, func() []byte { b := v4(17, 0, nil); b[0], b[3] = 0x4f, 60; return b }(), statusTruncatedIP, decoded{}},
		{"ipv4 options: udp ports after them", linkIPv4, v4opts([]byte{0x94, 4, 0, 0}, 17, udpHdr), statusIP, udp4}, // router alert
		{"ipv4 options: tcp ports and flags after them", linkEthernet,
			eth(0x0800, v4opts([]byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 6, tcpHdr)), statusIP, tcp4}, // record route, EOL padding
		{"ipv4 options: tcp cut after them", linkIPv4, v4opts([]byte{0x94, 4, 0, 0}, 6, tcpHdr)[:24+14], statusIP,
			with(tcp4, func(d *decoded) { d.truncated = truncTCP })},
		{"tcp with options", linkIPv4, v4(6, 0, tcpOptsHdr), statusIP, tcp4},
		{"tcp cut inside its options: ports and flags", linkIPv4, v4(6, 0, tcpOptsHdr)[:20+31], statusIP,
			with(tcp4, func(d *decoded) { d.truncated = truncTCP })},
		{"tcp cut after 20 of 32 header bytes", linkIPv4, v4(6, 0, tcpOptsHdr)[:40], statusIP,
			with(tcp4, func(d *decoded) { d.truncated = truncTCP })},
		{"tcp cut at 14: ports and flags", linkIPv4, v4(6, 0, tcpHdr)[:34], statusIP,
			with(tcp4, func(d *decoded) { d.truncated = truncTCP })},
		{"tcp cut at 4: ports only", linkIPv4, v4(6, 0, tcpHdr)[:24], statusIP,
			with(tcp4, func(d *decoded) { d.flags, d.hasFlags, d.truncated = 0, false, truncTCP })},
		{"tcp cut at 3: nothing", linkIPv4, v4(6, 0, tcpHdr)[:23], statusIP,
			decoded{src: src4, dst: dst4, proto: 6, truncated: truncTCP}},
		{"udp cut at 7", linkIPv4, v4(17, 0, udpHdr)[:27], statusIP, decoded{src: src4, dst: dst4, proto: 17, truncated: truncUDP}},
		{"ipv4 first fragment keeps ports", linkIPv4, v4(17, 0x2000, udpHdr), statusIP,
			with(udp4, func(d *decoded) { d.frag, d.fragID = fragFirst, 0x1234 })},
		{"ipv4 later fragment", linkIPv4, v4(17, 0x0010, udpHdr), statusIP,
			decoded{src: src4, dst: dst4, proto: 17, frag: fragLater, fragID: 0x1234}},
		{"icmp: no ports", linkIPv4, v4(1, 0, []byte{8, 0, 0, 0, 0, 1, 0, 1}), statusIP, decoded{src: src4, dst: dst4, proto: 1}},
		{"ipv6 routing header", linkIPv6, v6(43, cat(routing, udpHdr)), statusIP, udp6},
		{"ipv6 hop-by-hop cut", linkIPv6, v6(0, []byte{17}), statusTruncatedIP, decoded{src: src6, dst: dst6, v6: true}},
		{"ipv6 first fragment", linkIPv6, v6(44, cat([]byte{17, 0, 0, 1, 0, 0, 0, 9}, udpHdr)), statusIP,
			with(udp6, func(d *decoded) { d.frag, d.fragID = fragFirst, 9 })},
		{"ipv6 later fragment", linkIPv6, v6(44, cat([]byte{17, 0, 0x05, 0xa8, 0, 0, 0, 9}, udpHdr)), statusIP,
			decoded{src: src6, dst: dst6, v6: true, proto: 17, frag: fragLater, fragID: 9}},
		{"ipv6 atomic fragment", linkIPv6, v6(44, cat([]byte{17, 0, 0, 0, 0, 0, 0, 9}, udpHdr)), statusIP, udp6},
		{"gre: outer header only", linkIPv4, v4(47, 0, cat([]byte{0, 0, 0x08, 0x00}, v4(17, 0, udpHdr))), statusIP,
			decoded{src: src4, dst: dst4, proto: 47}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 { // decoding is pure: the same result again
				var d decoded
				if s := decode(tc.link, tc.frame, &d); s != tc.status {
					t.Fatalf("status %d, want %d", s, tc.status)
				}
				if tc.status == statusIP && d != tc.want {
					t.Errorf("got  %+v\nwant %+v", d, tc.want)
				}
			}
		})
	}
}

// TestNoAllocs: decoding and flow assembly allocate nothing per packet
// once the flow exists.
func TestNoAllocs(t *testing.T) {
	frame := eth(0x8100, cat([]byte{0x20, 0x07, 0x86, 0xdd}, v6(43, cat([]byte{6, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, tcpHdr))))
	var d decoded
	if n := testing.AllocsPerRun(100, func() { decode(linkEthernet, frame, &d) }); n != 0 {
		t.Errorf("decode: %v allocs", n)
	}
	tb := newTable(DefaultConfig(), func(*ended) error { return nil })
	p := pkt{origLen: 100, ts: 1e18, hasTS: true}
	decode(linkEthernet, frame, &p.d)
	if n := testing.AllocsPerRun(100, func() { p.ts += 1000; _ = tb.add(&p) }); n != 0 {
		t.Errorf("table.add: %v allocs", n)
	}
}

// TestReadAllocs: reading a whole capture allocates a bounded amount,
// not per packet.
func TestReadAllocs(t *testing.T) {
	one, err := os.ReadFile("../testdata/pcap/zeek-contentline-irc-5k-line.pcap") // 118 packets, 6 flows
	if err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(5, func() {
		_, _ = readFlows(context.Background(), bytes.NewReader(one), "x", DefaultConfig(), func(*ended) error { return nil })
	})
	if n > 40 {
		t.Errorf("%v allocations for 118 packets in 6 flows", n)
	}
}

// TestFlowSize: a flow is two cache lines.
func TestFlowSize(t *testing.T) {
	if n := reflect.TypeFor[flow]().Size(); n != 128 {
		t.Errorf("a flow is %d bytes, want 128", n)
	}
}

// TestMemoryBound: the table's memory follows the flows open at once, not
// the flows or packets of the capture: ended flows are reused, and the
// index grows only to keep itself at most half full.
func TestMemoryBound(t *testing.T) {
	data := synthetic(100_000, 500, 0)
	for _, idle := range []time.Duration{time.Millisecond, time.Hour} {
		tb := newTable(Config{IdleTimeout: idle, ActiveTimeout: time.Hour}, func(*ended) error { return nil })
		var st Stats
		st.Malformed, st.LinkTypes = map[string]int64{}, map[uint32]int64{}
		if err := readFrames(context.Background(), bytes.NewReader(data), "m", &st, &frameSink{keys: &tb.keys, onIP: tb.add}); err != nil {
			t.Fatal(err)
		}
		created := tb.seq
		if err := tb.flush(); err != nil {
			t.Fatal(err)
		}
		chunks := (tb.peak + chunkFlows - 1) / chunkFlows
		if int(tb.n) != tb.peak || len(tb.chunks) != chunks || len(tb.slots) > max(1024, 4*tb.peak) || len(tb.links) != tb.peak {
			t.Errorf("idle %v: %d flows, at most %d open at once: %d flows allocated in %d chunks, %d links, %d index slots",
				idle, created, tb.peak, tb.n, len(tb.chunks), len(tb.links), len(tb.slots))
		}
		if idle == time.Millisecond && uint64(tb.peak) > created/4 {
			t.Errorf("idle %v: %d flows, %d open at once: the test needs flows to end along the way", idle, created, tb.peak)
		}
		t.Logf("idle %v: %d packets, %d flows, at most %d open at once, %d index slots", idle, st.Packets, created, tb.peak, len(tb.slots))
	}
}
