package packet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowlens/flowlens/columnar"
)

// addSeeds adds the small sample captures as seeds.
func addSeeds(f *testing.F, add func([]byte)) {
	m, _ := filepath.Glob("../testdata/pcap/*.pcap*")
	for _, p := range m {
		if filepath.Ext(p) == ".tsv" {
			continue
		}
		b, err := os.ReadFile(p)
		if err == nil && len(b) <= 64<<10 {
			add(b)
		}
	}
}

// FuzzReadFlows reads arbitrary bytes as a pcap or pcapng capture. Besides
// never panicking: errors are positioned *Error values, and every packet
// is accounted for: in a flow, non-IP, or dropped as malformed.
//
//	go test ./packet -run '^$' -fuzz FuzzReadFlows -fuzztime 15s -fuzzminimizetime 2s
func FuzzReadFlows(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b) })
	f.Add([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x10\x00\x00\x00")) // record length far above the maximum
	f.Add([]byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00" +
		"\x06\x00\x00\x00\x20\x00\x00\x00\x00\x00\x00\x00")) // packet block before any interface, cut short
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		var inFlows, rows int64
		st, err := ReadFlows(context.Background(), bytes.NewReader(data), "fuzz", DefaultConfig(), func(r *columnar.Flow) error {
			if r.EndTime < r.Time || r.PacketsOut+r.PacketsIn == 0 {
				t.Errorf("bad row %+v", r)
			}
			inFlows += r.PacketsOut + r.PacketsIn
			rows++
			return nil
		})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > int64(len(data)) {
				t.Fatalf("error %v is not a positioned *Error", err)
			}
		}
		dropped := st.NonIP
		for _, reason := range statusReason {
			dropped += st.Malformed[reason]
		}
		if inFlows+dropped != st.Packets || rows != st.Flows {
			t.Errorf("%d packets in flows + %d not = %d packets; %d rows, %d flows", inFlows, dropped, st.Packets, rows, st.Flows)
		}
	})
}

// FuzzDecode decodes arbitrary frames of the supported link types.
//
//	go test ./packet -run '^$' -fuzz FuzzDecode -fuzztime 15s -fuzzminimizetime 2s
func FuzzDecode(f *testing.F) {
	addSeeds(f, func(b []byte) {
		var c capReader
		if c.open(bytes.NewReader(b), "seed") != nil {
			return
		}
		var fr frame
		for i := 0; i < 8 && c.next(&fr) == nil; i++ {
			f.Add(uint16(fr.linkType), bytes.Clone(fr.data))
		}
	})
	// Link types without a sample: PPP (with and without HDLC-like
	// framing, compressed protocol field), Cisco HDLC, PPPoE.
	udp := v4(17, 0, udpHdr)
	f.Add(uint16(linkPPP), cat([]byte{0xff, 0x03, 0x00, 0x21}, udp))
	f.Add(uint16(linkPPP), cat([]byte{0x21}, udp))
	f.Add(uint16(linkPPPHDLC), cat([]byte{0x0f, 0x00, 0x86, 0xdd}, v6(17, udpHdr)))
	f.Add(uint16(linkCHDLC), cat([]byte{0x8f, 0x00, 0x08, 0x00}, udp))
	f.Add(uint16(linkPPPoE), cat([]byte{0x11, 0, 0, 1, 0, 30, 0x02, 0x81, 0, 0x01, 0x01, 64}, udp))
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		var d, again decoded
		s := decode(uint32(link), data, &d)
		if decode(uint32(link), data, &again) != s || d != again {
			t.Fatal("decode is not pure")
		}
		if s != statusIP {
			return
		}
		if !d.v6 && (d.src.hi != 0 || d.src.lo>>32 != 0xffff || d.dst.hi != 0 || d.dst.lo>>32 != 0xffff) {
			t.Errorf("IPv4 addresses not in the IPv4-mapped form: %+v", d)
		}
		if (d.frag == fragLater || (d.proto != 6 && d.proto != 17)) && (d.sport != 0 || d.dport != 0 || d.hasFlags) {
			t.Errorf("ports or flags without a transport header: %+v", d)
		}
	})
}
