package capgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/packet"
)

// TestReadFlows generates small captures and checks that packet.ReadFlows
// gives the generator's totals: packets, bytes, flows (by protocol), and
// the counters both ways.
func TestReadFlows(t *testing.T) {
	for _, tc := range []struct {
		format string
		vlan   float64
	}{{"pcap", 0}, {"pcapng", 0.2}} {
		t.Run(tc.format, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Format, cfg.Packets, cfg.Concurrent, cfg.PPS, cfg.VLAN, cfg.IPv6 = tc.format, 60_000, 500, 5000, tc.vlan, 0.1
			var buf bytes.Buffer
			tot, err := Write(&buf, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if int64(buf.Len()) != tot.FileBytes || tot.Packets != cfg.Packets {
				t.Fatalf("file %d bytes, totals say %d; %d packets", buf.Len(), tot.FileBytes, tot.Packets)
			}
			if tot.FlowsTCP == 0 || tot.FlowsUDP == 0 || tot.FlowsICMP == 0 || tot.FlowsIPv6 == 0 || (tc.vlan > 0) != (tot.VLANPackets > 0) {
				t.Fatalf("missing a kind of flow: %+v", tot)
			}
			if tot.MaxGapSeconds >= 60 {
				t.Fatalf("max gap %.1f s", tot.MaxGapSeconds)
			}
			var got Totals
			byProto := map[int32]int64{}
			v6 := int64(0)
			pcfg := packet.Config{IdleTimeout: time.Hour, ActiveTimeout: 24 * time.Hour}
			st, err := packet.ReadFlows(context.Background(), &buf, "gen."+tc.format, pcfg, func(f *columnar.Flow) error {
				got.Flows++
				got.PacketsOut += f.PacketsOut
				got.BytesOut += f.BytesOut
				got.PacketsIn += f.PacketsIn
				got.BytesIn += f.BytesIn
				byProto[f.Proto]++
				if bytes.IndexByte(f.SrcIP, ':') >= 0 {
					v6++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Packets != tot.Packets || st.Bytes != tot.Bytes || st.Flows != tot.Flows || len(st.Malformed) != 0 || st.NonIP != 0 {
				t.Errorf("stats %+v, want %d packets, %d bytes, %d flows", st, tot.Packets, tot.Bytes, tot.Flows)
			}
			if got.Flows != tot.Flows || got.PacketsOut != tot.PacketsOut || got.BytesOut != tot.BytesOut ||
				got.PacketsIn != tot.PacketsIn || got.BytesIn != tot.BytesIn {
				t.Errorf("rows: %d flows, out %d/%d, in %d/%d; want %d flows, out %d/%d, in %d/%d",
					got.Flows, got.PacketsOut, got.BytesOut, got.PacketsIn, got.BytesIn,
					tot.Flows, tot.PacketsOut, tot.BytesOut, tot.PacketsIn, tot.BytesIn)
			}
			if byProto[6] != tot.FlowsTCP || byProto[17] != tot.FlowsUDP || byProto[1]+byProto[58] != tot.FlowsICMP || v6 != tot.FlowsIPv6 {
				t.Errorf("flows by protocol %v, IPv6 %d; want tcp %d, udp %d, icmp %d, IPv6 %d",
					byProto, v6, tot.FlowsTCP, tot.FlowsUDP, tot.FlowsICMP, tot.FlowsIPv6)
			}
		})
	}
}

// TestDeterministic: the same Config gives the same bytes; Size stops the file.
func TestDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Packets, cfg.Concurrent = 20_000, 300
	sum := func(c Config) ([32]byte, Totals) {
		var b bytes.Buffer
		tot, err := Write(&b, c)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b.Bytes()), tot
	}
	a, _ := sum(cfg)
	b, _ := sum(cfg)
	if a != b {
		t.Fatal("two runs with the same Config differ")
	}
	cfg.Seed = 2
	if c, _ := sum(cfg); c == a {
		t.Fatal("another seed gives the same capture")
	}
	cfg.Packets, cfg.Size = 0, 1<<20
	if _, tot := sum(cfg); tot.FileBytes < 1<<20 || tot.FileBytes > 1<<20+2000 {
		t.Fatalf("-size 1MiB wrote %d bytes", tot.FileBytes)
	}
}
