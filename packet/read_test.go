package packet

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/flowlens/flowlens/columnar"
)

// row is the part of a columnar.Flow that ReadFlows fills, as values.
type row struct {
	Time, EndTime                            int64
	Src, Dst                                 string
	SrcPort, DstPort, Proto                  int32
	State                                    byte
	PacketsOut, BytesOut, PacketsIn, BytesIn int64
	TCPFlags                                 int32
	HasTCPFlags                              bool
	VLAN                                     int32
	HasVLAN                                  bool
}

// readRows runs ReadFlows and copies the rows; it checks the columns every
// row must have.
func readRows(t *testing.T, r io.Reader, name string, cfg Config) ([]row, Stats, error) {
	t.Helper()
	var rows []row
	st, err := ReadFlows(context.Background(), r, name, cfg, func(f *columnar.Flow) error {
		if f.Source != columnar.SourcePcap || string(f.ResourceID) != name || !f.HasEndTime || !f.HasCounters ||
			f.Direction != columnar.DirectionUnknown || f.Decision != columnar.DecisionUnknown || f.EndTime < f.Time {
			t.Errorf("bad row %+v", f)
		}
		rows = append(rows, row{f.Time, f.EndTime, string(f.SrcIP), string(f.DstIP), f.SrcPort, f.DstPort, f.Proto, f.State,
			f.PacketsOut, f.BytesOut, f.PacketsIn, f.BytesIn, f.TCPFlags, f.HasTCPFlags, f.VLAN, f.HasVLAN})
		return nil
	})
	if st.Flows != int64(len(rows)) {
		t.Errorf("Stats.Flows = %d, emitted %d", st.Flows, len(rows))
	}
	return rows, st, err
}

func TestReadFlowsRows(t *testing.T) {
	tests := []struct {
		file string
		want []row
	}{
		{"tcpdump-tcp-handshake-nano.pcap", []row{{
			Time: 1418145369924505, EndTime: 1418145370052115, Src: "131.155.215.69", Dst: "137.116.81.94",
			SrcPort: 46656, DstPort: 80, Proto: 6, State: 'B', PacketsOut: 2, BytesOut: 144, PacketsIn: 1, BytesIn: 76,
			TCPFlags: 0x12, HasTCPFlags: true,
		}}},
		{"zeek-http-vlan-0.pcap", []row{{
			Time: 1362692526869344, EndTime: 1362692527080972, Src: "141.142.228.5", Dst: "192.150.187.43",
			SrcPort: 59856, DstPort: 80, Proto: 6, State: 'E', PacketsOut: 7, BytesOut: 638, PacketsIn: 7, BytesIn: 5505,
			TCPFlags: 0x1b, HasTCPFlags: true, VLAN: 0, HasVLAN: true, // priority 5, VLAN id 0
		}}},
		{"zeek-5-pings.pcap", []row{{
			Time: 1607454603986596, EndTime: 1607454608018993, Src: "172.16.133.2", Dst: "172.217.11.78",
			Proto: 1, State: 'B', PacketsOut: 5, BytesOut: 490, PacketsIn: 5, BytesIn: 490,
		}}},
		// A first fragment with the UDP header (60 bytes), a later fragment
		// (150), the first fragment again (338), all IP id 0xf2: the later
		// fragment is in the flow of the first, with its ports. (tshark's
		// rows, in the oracle, count it under ports 0 0.)
		{"zeek-ipv4-fragmented-1.pcap", []row{{
			Time: 950988235155866, EndTime: 950988235156457, Src: "164.1.123.163", Dst: "164.1.123.61",
			SrcPort: 123, DstPort: 137, Proto: 17, State: 'B', PacketsOut: 3, BytesOut: 548,
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			for range 2 { // twice: reading is pure
				got, _, err := readRows(t, openSample(t, "../testdata/pcap/"+tc.file), tc.file, DefaultConfig())
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %d rows %+v, want %d", len(got), got, len(tc.want))
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], tc.want[i])
					}
				}
			}
		})
	}
}

// testPkt is one packet for buildPcap: IPv4, TCP or UDP.
type testPkt struct {
	at           time.Duration // after the capture start
	src, dst     string
	sport, dport uint16
	proto        uint8
	flags        uint8 // TCP
	pad          int   // payload bytes
}

var captureStart = time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC)

// buildPcap writes a little-endian µs pcap of Ethernet frames.
func buildPcap(pkts []testPkt) []byte {
	var b bytes.Buffer
	size := 24
	for _, p := range pkts {
		size += 16 + 14 + 20 + 20 + p.pad
	}
	b.Grow(size)
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr, magicMicros)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], linkEthernet)
	b.Write(hdr)
	for _, p := range pkts {
		frame := ethIPv4(p)
		ts := captureStart.Add(p.at)
		rec := make([]byte, 16)
		le.PutUint32(rec, uint32(ts.Unix()))
		le.PutUint32(rec[4:], uint32(ts.Nanosecond()/1000))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		b.Write(rec)
		b.Write(frame)
	}
	return b.Bytes()
}

func ethIPv4(p testPkt) []byte {
	be := binary.BigEndian
	l4 := make([]byte, 8)
	if p.proto == 6 {
		l4 = make([]byte, 20)
		l4[12] = 5 << 4
		l4[13] = p.flags
	}
	l4 = append(l4, make([]byte, p.pad)...)
	be.PutUint16(l4, p.sport)
	be.PutUint16(l4[2:], p.dport)
	ip := make([]byte, 20, 20+len(l4))
	ip[0] = 0x45
	be.PutUint16(ip[2:], uint16(20+len(l4)))
	ip[8], ip[9] = 64, p.proto
	s, d := netip.MustParseAddr(p.src).As4(), netip.MustParseAddr(p.dst).As4()
	copy(ip[12:], s[:])
	copy(ip[16:], d[:])
	eth := make([]byte, 14)
	be.PutUint16(eth[12:], 0x0800)
	return append(append(eth, ip...), l4...)
}

// TestTimeouts checks the idle and active timeouts, the order in which
// flows are emitted, the initiator and the state rules.
func TestTimeouts(t *testing.T) {
	const (
		a, b, c = "10.0.0.1", "10.0.0.2", "10.0.0.3"
		synAck  = 0x12
		ack     = 0x10
		fin     = 0x11
	)
	s := time.Second
	pkts := []testPkt{
		{at: 0, src: a, dst: b, sport: 1000, dport: 53, proto: 17},                   // UDP flow
		{at: 1 * s, src: b, dst: a, sport: 53, dport: 1000, proto: 17},               // its reply
		{at: 2 * s, src: c, dst: a, sport: 80, dport: 2000, proto: 6, flags: synAck}, // SYN missed: a initiates
		{at: 3 * s, src: a, dst: c, sport: 2000, dport: 80, proto: 6, flags: ack},
		{at: 50 * s, src: a, dst: c, sport: 2000, dport: 80, proto: 6, flags: ack},
		{at: 62 * s, src: a, dst: c, sport: 2000, dport: 80, proto: 6, flags: ack},  // UDP idle > 60 s: emitted
		{at: 100 * s, src: a, dst: b, sport: 1000, dport: 53, proto: 17},            // UDP again: a new flow
		{at: 110 * s, src: a, dst: c, sport: 2000, dport: 80, proto: 6, flags: fin}, // TCP row 108 s old: cut
		{at: 111 * s, src: c, dst: a, sport: 80, dport: 2000, proto: 6, flags: fin},
	}
	cfg := Config{IdleTimeout: 60 * s, ActiveTimeout: 100 * s}
	got, st, err := readRows(t, bytes.NewReader(buildPcap(pkts)), "t.pcap", cfg)
	if err != nil {
		t.Fatal(err)
	}
	us := func(d time.Duration) int64 { return captureStart.Add(d).UnixMicro() }
	want := []row{ // by timeout as they end, then by start time
		{Time: us(0), EndTime: us(1 * s), Src: a, Dst: b, SrcPort: 1000, DstPort: 53, Proto: 17, State: 'B', PacketsOut: 1, BytesOut: 42, PacketsIn: 1, BytesIn: 42},
		{Time: us(2 * s), EndTime: us(62 * s), Src: a, Dst: c, SrcPort: 2000, DstPort: 80, Proto: 6, State: 'B', PacketsOut: 3, BytesOut: 162, PacketsIn: 1, BytesIn: 54, TCPFlags: synAck | ack, HasTCPFlags: true},
		{Time: us(100 * s), EndTime: us(100 * s), Src: a, Dst: b, SrcPort: 1000, DstPort: 53, Proto: 17, State: 'B', PacketsOut: 1, BytesOut: 42},
		{Time: us(110 * s), EndTime: us(111 * s), Src: a, Dst: c, SrcPort: 2000, DstPort: 80, Proto: 6, State: 'E', PacketsOut: 1, BytesOut: 54, PacketsIn: 1, BytesIn: 54, TCPFlags: fin, HasTCPFlags: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows:\n%+v", len(got), got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if st.Packets != int64(len(pkts)) || st.Flows != 4 {
		t.Errorf("stats %+v", st)
	}
}

// TestActiveTimeoutContinues checks that a row cut by the active timeout
// is followed by a continuation row in state C.
func TestActiveTimeoutContinues(t *testing.T) {
	var pkts []testPkt
	for i := range 5 {
		pkts = append(pkts, testPkt{at: time.Duration(i) * 10 * time.Second, src: "10.0.0.1", dst: "10.0.0.2", sport: 5, dport: 6, proto: 17})
	}
	got, _, err := readRows(t, bytes.NewReader(buildPcap(pkts)), "t.pcap", Config{IdleTimeout: time.Minute, ActiveTimeout: 25 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var states []byte
	var n int64
	for _, r := range got {
		states = append(states, r.State)
		n += r.PacketsOut
	}
	if string(states) != "BC" || n != 5 {
		t.Errorf("states %q, packets %d; want \"BC\", 5", states, n)
	}
}

// TestBadInput checks positioned errors on the malformed samples, and that
// the flows of the packets before a bad block are emitted.
func TestBadInput(t *testing.T) {
	tests := []struct {
		file          string
		reason        error
		offset, frame int64
		flows         int
	}{
		{"libpcap-pcap-invalid-version-1.pcap", ErrBadHeader, 0, 0, 0},
		{"libpcap-shb-option-too-long.pcapng", ErrBadHeader, 0, 0, 0},
		{"gopacket-le-test901.pcapng", ErrBadBlock, 480, 2, 1},
		{"suricata-bug-6875-01-fuzz.pcap", ErrBadBlock, 228, 2, 1},
		{"suricata-http-mime-truncated-input.pcap", ErrTruncatedBlock, 2715459, 2697, 1},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := findSample(tc.file)
			if path == "" {
				t.Skipf("%s is missing: in neither %s (too large to copy) nor %s", tc.file, sampleDirs[0], sampleDirs[1])
			}
			got, _, err := readRows(t, openSample(t, path), tc.file, DefaultConfig())
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tc.reason) || e.Offset != tc.offset || e.Frame != tc.frame || e.File != tc.file {
				t.Fatalf("error %v (%#v), want %v at offset %d frame %d", err, e, tc.reason, tc.offset, tc.frame)
			}
			if len(got) != tc.flows {
				t.Errorf("%d flows, want %d", len(got), tc.flows)
			}
		})
	}
	for _, tc := range []struct{ name, data string }{
		{"empty", ""},
		{"short", "\xd4\xc3"},
		{"not a capture", "{\"records\": []}"},
		{"pcap header cut", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00"},
		{"pcapng header cut", "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readRows(t, strings.NewReader(tc.data), tc.name, DefaultConfig())
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrBadHeader) || e.Offset != 0 || e.Frame != 0 {
				t.Errorf("error %v, want ErrBadHeader at offset 0", err)
			}
		})
	}
}

// TestMalformedCounts: the packets each sample counts as malformed, by
// reason. In zeek-tcp-truncated-header.pcap the SYN's TCP header says 40
// bytes and 34 are captured (cut inside its options); the other 23 packets
// have whole 20- or 24-byte headers and are cut in their payload only.
func TestMalformedCounts(t *testing.T) {
	for _, tc := range []struct {
		file string
		want map[string]int64
	}{
		{"zeek-tcp-truncated-header.pcap", map[string]int64{reasonTruncatedTCP: 1}},
		{"tcpdump-aoe-oobr-1.pcap", map[string]int64{reasonCaplenGtLen: 1}},
		{"tcpdump-timestamp_invalid_nano.pcap", map[string]int64{reasonBadTimestamp: 2}},
		{"zeek-contentline-irc-5k-line.pcap", map[string]int64{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, st, err := readRows(t, openSample(t, "../testdata/pcap/"+tc.file), tc.file, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(st.Malformed, tc.want) {
				t.Errorf("malformed %v, want %v", st.Malformed, tc.want)
			}
		})
	}
}

func findSample(name string) string {
	for _, dir := range sampleDirs {
		if _, err := os.Stat(dir + "/" + name); err == nil {
			return dir + "/" + name
		}
	}
	return ""
}

// TestCutShort cuts captures at every length: the packets of the records
// wholly before the cut are all read, then ErrTruncatedBlock names the
// offset of the cut record.
func TestCutShort(t *testing.T) {
	for _, file := range []string{"tcpdump-tcp-handshake-nano.pcap", "zeek-pcapng-multi-interface.pcapng", "gopacket-be-test202.pcapng"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile("../testdata/pcap/" + file)
			if err != nil {
				t.Fatal(err)
			}
			// The end offset of every record that yields a packet.
			var c capReader
			if err := c.open(bytes.NewReader(data), file); err != nil {
				t.Fatal(err)
			}
			headerEnd := c.off
			var ends []int64
			var f frame
			for c.next(&f) == nil {
				ends = append(ends, c.off)
			}
			boundaries := blockEnds(data, c.ng)
			for cut := headerEnd; cut < int64(len(data)); cut++ {
				_, st, err := readRows(t, bytes.NewReader(data[:cut]), file, DefaultConfig())
				var whole int64
				for _, e := range ends {
					if e <= cut {
						whole++
					}
				}
				var e *Error
				if cut > headerEnd && !(errors.As(err, &e) && errors.Is(err, ErrTruncatedBlock) && e.Offset < cut && e.Frame >= st.Packets+1) {
					// A cut at a block boundary is a clean end.
					if err != nil || !isBoundary(cut, boundaries) {
						t.Fatalf("cut at %d: error %v", cut, err)
					}
				}
				if st.Packets != whole {
					t.Fatalf("cut at %d: %d packets, want %d", cut, st.Packets, whole)
				}
			}
		})
	}
}

// isBoundary reports whether off is in ends.
func isBoundary(off int64, ends []int64) bool {
	for _, e := range ends {
		if e == off {
			return true
		}
	}
	return false
}

// blockEnds returns the end offsets of every record or block of a
// well-formed capture.
func blockEnds(data []byte, ng bool) []int64 {
	var ends []int64
	if !ng {
		le := binary.LittleEndian
		if binary.BigEndian.Uint32(data) == magicMicros || binary.BigEndian.Uint32(data) == magicNanos {
			return blockEndsPcap(data, binary.BigEndian)
		}
		return blockEndsPcap(data, le)
	}
	var order binary.ByteOrder = binary.LittleEndian
	for off := 0; off+12 <= len(data); {
		if binary.BigEndian.Uint32(data[off:]) == blockSHB {
			order = binary.LittleEndian
			if binary.BigEndian.Uint32(data[off+8:]) == 0x1a2b3c4d {
				order = binary.BigEndian
			}
		}
		off += int(order.Uint32(data[off+4:]))
		ends = append(ends, int64(off))
	}
	return ends
}

func blockEndsPcap(data []byte, order binary.ByteOrder) []int64 {
	var ends []int64
	for off := 24; off+16 <= len(data); {
		off += 16 + int(order.Uint32(data[off+8:]))
		ends = append(ends, int64(off))
	}
	return ends
}

func TestIsCapture(t *testing.T) {
	for _, tc := range []struct {
		magic string
		want  bool
	}{
		{"\xa1\xb2\xc3\xd4", true}, {"\xd4\xc3\xb2\xa1", true}, {"\xa1\xb2\x3c\x4d", true}, {"\x4d\x3c\xb2\xa1", true},
		{"\x0a\x0d\x0d\x0a", true}, {"\x1f\x8b\x08\x00", false}, {"\xa1\xb2\xc3", false}, {"", false}, {"{\"re", false},
	} {
		if got := IsCapture([]byte(tc.magic)); got != tc.want {
			t.Errorf("IsCapture(%q) = %v", tc.magic, got)
		}
	}
}

// TestCancel checks that a cancelled context stops the reading.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ReadFlows(ctx, bytes.NewReader(buildPcap([]testPkt{{src: "1.1.1.1", dst: "2.2.2.2", proto: 17}})), "x", DefaultConfig(), func(*columnar.Flow) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// TestReadPackets: one row per IP packet, whose bytes and packets add up to
// the flows of the same capture.
func TestReadPackets(t *testing.T) {
	for _, name := range []string{"zeek-5-pings.pcap", "tcpdump-tcp-handshake-nano.pcap", "gopacket-le-test100.pcapng", "tcpdump-ipv6-routing-header.pcap"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "testdata", "pcap", name))
			if err != nil {
				t.Fatal(err)
			}
			var fpk, fby int64
			if _, err := ReadFlows(context.Background(), bytes.NewReader(b), name, DefaultConfig(), func(f *columnar.Flow) error {
				fpk += f.PacketsOut + f.PacketsIn
				fby += f.BytesOut + f.BytesIn
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var rows, by int64
			st, err := ReadPackets(context.Background(), bytes.NewReader(b), name, func(f *columnar.Flow) error {
				rows++
				by += f.BytesOut
				if f.PacketsOut != 1 || !f.HasCapturedLen || f.CapturedLen <= 0 || int64(f.CapturedLen) > f.BytesOut && f.BytesOut > 0 && name != "tcpdump-aoe-oobr-1.pcap" {
					t.Errorf("row %+v", f)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if rows != fpk || by != fby || rows == 0 || st.Flows != 0 {
				t.Fatalf("%d packet rows of %d bytes; flows hold %d packets of %d bytes", rows, by, fpk, fby)
			}
		})
	}
}

// TestPipeline reads a capture of many batches with the reader in a
// goroutine of its own (GOMAXPROCS 2) and without (1): the rows and Stats
// are the same, also when emit fails part-way, and no goroutine is left.
func TestPipeline(t *testing.T) {
	// The goroutine starts after 16 batches of 1024 frames; flows end
	// all along.
	data := synthetic(60_000, 500, 200)
	cfg := Config{IdleTimeout: time.Millisecond, ActiveTimeout: time.Hour}
	type result struct {
		rows []row
		st   Stats
		err  error
	}
	read := func(procs, failAt int) result {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var res result
		before := runtime.NumGoroutine()
		res.st, res.err = ReadFlows(context.Background(), bytes.NewReader(data), "p.pcap", cfg, func(f *columnar.Flow) error {
			if len(res.rows) == failAt {
				return errStop
			}
			res.rows = append(res.rows, row{f.Time, f.EndTime, string(f.SrcIP), string(f.DstIP), f.SrcPort, f.DstPort, f.Proto, f.State,
				f.PacketsOut, f.BytesOut, f.PacketsIn, f.BytesIn, f.TCPFlags, f.HasTCPFlags, f.VLAN, f.HasVLAN})
			return nil
		})
		// The reader goroutine has signalled its end; give it a moment
		// to be gone.
		for wait := 0; runtime.NumGoroutine() > before && wait < 1000; wait++ {
			time.Sleep(time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("%d goroutines after ReadFlows, %d before", n, before)
		}
		return res
	}
	for _, failAt := range []int{-1, 0, 100, 1000, 40_000} {
		t.Run(fmt.Sprint("fail at ", failAt), func(t *testing.T) {
			one, two := read(1, failAt), read(2, failAt)
			if failAt >= 0 && (!errors.Is(one.err, errStop) || !errors.Is(two.err, errStop)) || failAt < 0 && (one.err != nil || two.err != nil) {
				t.Fatalf("errors %v and %v", one.err, two.err)
			}
			if !slices.Equal(one.rows, two.rows) || failAt >= 0 && len(one.rows) != failAt || len(one.rows) == 0 && failAt != 0 {
				t.Errorf("%d and %d rows differ", len(one.rows), len(two.rows))
			}
			if !reflect.DeepEqual(one.st, two.st) {
				t.Errorf("stats differ:\n%+v\n%+v", one.st, two.st)
			}
			if failAt < 0 && (one.st.Packets != 60_000 || one.st.Flows != int64(len(one.rows))) {
				t.Errorf("stats %+v for %d rows", one.st, len(one.rows))
			}
		})
	}
}

var errStop = errors.New("stop")

// TestReaderShapes reads captures through readers that return a byte at a
// time, or data together with io.EOF, or fail part-way, or never make
// progress: the same rows as from a plain reader, or a positioned error.
func TestReaderShapes(t *testing.T) {
	for _, name := range []string{"zeek-contentline-irc-5k-line.pcap", "zeek-pcapng-multi-interface.pcapng", "gopacket-be-test202.pcapng"} {
		data, err := os.ReadFile("../testdata/pcap/" + name)
		if err != nil {
			t.Fatal(err)
		}
		want, wantSt, err := readRows(t, bytes.NewReader(data), name, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		for _, shape := range []struct {
			name string
			r    io.Reader
		}{
			{"one byte", iotest.OneByteReader(bytes.NewReader(data))},
			{"data with EOF", iotest.DataErrReader(bytes.NewReader(data))},
			{"half", iotest.HalfReader(bytes.NewReader(data))},
		} {
			got, st, err := readRows(t, shape.r, name, DefaultConfig())
			if err != nil || !slices.Equal(got, want) || !reflect.DeepEqual(st, wantSt) {
				t.Errorf("%s, %s: error %v, %d rows (want %d), stats %+v", name, shape.name, err, len(got), len(want), st)
			}
		}
		// Fail after 1000 bytes: an *Error at offset 1000 wrapping the
		// reader's error, after the packets wholly before it.
		boom := errors.New("disk on fire")
		_, st, err := readRows(t, io.MultiReader(bytes.NewReader(data[:1000]), iotest.ErrReader(boom)), name, DefaultConfig())
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, boom) || e.Offset != 1000 || e.File != name || st.Packets == 0 {
			t.Errorf("%s, failing reader: error %v (%#v), %d packets", name, err, e, st.Packets)
		}
	}
	// A reader that returns nothing, forever.
	_, _, err := readRows(t, io.MultiReader(bytes.NewReader(buildPcap(nil)), stuck{}), "stuck", DefaultConfig())
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("stuck reader: error %v, want io.ErrNoProgress", err)
	}
}

// stuck is a reader that reads nothing and reports no error.
type stuck struct{}

func (stuck) Read([]byte) (int, error) { return 0, nil }
