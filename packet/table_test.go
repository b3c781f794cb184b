package packet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"
)

// swapAddrs returns a copy of an IPv4 or IPv6 packet with its source and
// destination addresses (and, after a header of hlen bytes, its UDP or TCP
// ports) swapped: the reply direction.
func swapAddrs(b []byte, hlen int) []byte {
	b = bytes.Clone(b)
	off, n := 12, 4
	if b[0]>>4 == 6 {
		off, n = 8, 16
	}
	for i := range n {
		b[off+i], b[off+n+i] = b[off+n+i], b[off+i]
	}
	if hlen > 0 {
		p := b[hlen:]
		p[0], p[1], p[2], p[3] = p[2], p[3], p[0], p[1]
	}
	return b
}

// TestLaterFragments: a later fragment (offset > 0, no transport header)
// is counted in the flow of its first fragment, matched on addresses,
// protocol and IP id, in the direction it travels; one whose first
// fragment was not seen is in the flow of its addresses with ports 0.
func TestLaterFragments(t *testing.T) {
	const ip4, ip6 = "192.0.2.1", "2001:db8::1" // the senders of v4 and v6
	payload := make([]byte, 40)
	// IPv4: the first fragment has more-fragments set and offset 0, later
	// ones offset 8 (64 bytes on); v4 sets id 0x1234, setID4 another.
	setID4 := func(b []byte, id uint16) []byte { binary.BigEndian.PutUint16(b[4:], id); return b }
	first4 := v4(17, 0x2000, cat(udpHdr, payload))
	later4 := v4(17, 0x0008, payload)
	// IPv6: a fragment header (next header UDP, offset and M flag, id).
	frag6 := func(offM uint16, id uint32, rest []byte) []byte {
		h := make([]byte, 8)
		h[0] = 17
		binary.BigEndian.PutUint16(h[2:], offM)
		binary.BigEndian.PutUint32(h[4:], id)
		return v6(44, cat(h, rest))
	}
	type want struct {
		src          string // the initiator
		sport, dport uint16
		counts       [4]int64 // packets by dirOut, dirIn, dirOutFrag, dirInFrag
	}
	tests := []struct {
		name   string
		link   uint32
		frames [][]byte
		want   []want // by start time
	}{
		{"ipv4", linkIPv4, [][]byte{
			first4,
			later4,
			setID4(swapAddrs(first4, 20), 0x99), // the reply, id 0x99
			setID4(swapAddrs(later4, 0), 0x99),
			setID4(bytes.Clone(later4), 0x77), // first fragment not seen
		}, []want{{ip4, 12345, 53, [4]int64{1, 1, 1, 1}}, {ip4, 0, 0, [4]int64{1, 0, 0, 0}}}},
		{"ipv4 later fragment before its first", linkIPv4, [][]byte{later4, first4},
			[]want{{ip4, 0, 0, [4]int64{1, 0, 0, 0}}, {ip4, 12345, 53, [4]int64{1, 0, 0, 0}}}},
		{"ipv6", linkIPv6, [][]byte{
			frag6(1, 7, cat(udpHdr, payload)),
			frag6(8<<3, 7, payload),
			swapAddrs(frag6(1, 8, cat(udpHdr, payload)), 48),
			swapAddrs(frag6(8<<3, 8, payload), 0),
			frag6(8<<3, 9, payload), // first fragment not seen
		}, []want{{ip6, 12345, 53, [4]int64{1, 1, 1, 1}}, {ip6, 0, 0, [4]int64{1, 0, 0, 0}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []want
			tb := newTable(DefaultConfig(), func(e *ended) error {
				src, _, sport, dport := e.endpoints(dirOut)
				if e.key.proto != 17 {
					t.Errorf("flow %+v", e.key)
				}
				w := want{src: src.netip(e.key.v6).String(), sport: sport, dport: dport}
				for dir := range w.counts {
					w.counts[dir] = e.counts(dir).packets
				}
				got = append(got, w)
				return nil
			})
			for i, b := range tc.frames {
				p := pkt{origLen: int64(len(b)), ts: captureStart.Add(time.Duration(i) * time.Millisecond).UnixNano(), hasTS: true}
				if s := decode(tc.link, b, &p.d); s != statusIP {
					t.Fatalf("frame %d: status %d", i, s)
				}
				if err := tb.add(&p); err != nil {
					t.Fatal(err)
				}
			}
			if err := tb.flush(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("flows (ports; packets out, in, later fragments out, in):\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestState: E when a FIN or an RST was seen either way, C for a row that
// continues one cut by the active timeout, else B.
func TestState(t *testing.T) {
	const (
		a, b                      = "10.0.0.1", "10.0.0.2"
		fin, syn, rst, psh, ack   = 0x01, 0x02, 0x04, 0x08, 0x10
		synAck, rstAck, pshAckFin = syn | ack, rst | ack, psh | ack | fin
	)
	out := func(at time.Duration, flags uint8) testPkt {
		return testPkt{at: at, src: a, dst: b, sport: 40000, dport: 443, proto: 6, flags: flags}
	}
	in := func(at time.Duration, flags uint8) testPkt {
		return testPkt{at: at, src: b, dst: a, sport: 443, dport: 40000, proto: 6, flags: flags}
	}
	s := time.Second
	tests := []struct {
		name   string
		pkts   []testPkt
		active time.Duration
		want   string // the states of the rows, in order
	}{
		{"syn", []testPkt{out(0, syn)}, time.Hour, "B"},
		{"handshake", []testPkt{out(0, syn), in(s, synAck), out(2*s, ack)}, time.Hour, "B"},
		{"fin from the initiator", []testPkt{out(0, syn), in(s, synAck), out(2*s, pshAckFin)}, time.Hour, "E"},
		{"rst from the responder: refused", []testPkt{out(0, syn), in(s, rstAck)}, time.Hour, "E"},
		{"rst from the initiator", []testPkt{out(0, ack), out(s, rst)}, time.Hour, "E"},
		{"rst+ack from the responder mid-flow", []testPkt{out(0, ack), in(s, psh|ack), in(2*s, rstAck)}, time.Hour, "E"},
		{"continued", []testPkt{out(0, ack), out(30*s, ack)}, 25 * s, "BC"},
		{"rst in a continued row", []testPkt{out(0, ack), out(30*s, rst)}, 25 * s, "BE"},
		{"udp", []testPkt{{src: a, dst: b, sport: 5, dport: 6, proto: 17}}, time.Hour, "B"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, _, err := readRows(t, bytes.NewReader(buildPcap(tc.pkts)), "s.pcap", Config{IdleTimeout: time.Minute, ActiveTimeout: tc.active})
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			for _, r := range rows {
				got = append(got, r.State)
			}
			if string(got) != tc.want {
				t.Errorf("states %q, want %q (rows %s)", got, tc.want, fmt.Sprint(rows))
			}
		})
	}
}
