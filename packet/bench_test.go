package packet

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// synthetic returns a capture of n packets in conversations of 2 to 40
// packets (TCP handshakes and teardowns, some UDP), payloads of 0 to
// maxPad bytes, open conversations open at once, 10 µs between packets on
// average.
func synthetic(n, open, maxPad int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var pkts []testPkt
	at := time.Duration(0)
	type conv struct {
		c, s         string
		cport, sport uint16
		proto        uint8
		left         int
	}
	convs := make([]conv, open)
	for len(pkts) < n {
		i := rng.IntN(len(convs))
		c := &convs[i]
		at += time.Duration(rng.IntN(20)) * time.Microsecond
		if c.left == 0 {
			*c = conv{
				c: fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256)), s: fmt.Sprintf("192.0.%d.%d", rng.IntN(256), rng.IntN(256)),
				cport: uint16(1024 + rng.IntN(60000)), sport: 443, proto: 6, left: 2 + rng.IntN(39),
			}
			if rng.IntN(5) == 0 {
				c.proto, c.sport = 17, 53
			}
			pkts = append(pkts, testPkt{at: at, src: c.c, dst: c.s, sport: c.cport, dport: c.sport, proto: c.proto, flags: 0x02})
			c.left--
			continue
		}
		c.left--
		flags := uint8(0x10)
		if c.left == 0 {
			flags = 0x11
		}
		p := testPkt{at: at, src: c.c, dst: c.s, sport: c.cport, dport: c.sport, proto: c.proto, flags: flags, pad: rng.IntN(maxPad + 1)}
		if rng.IntN(2) == 0 {
			p.src, p.dst, p.sport, p.dport = p.dst, p.src, p.dport, p.sport
		}
		pkts = append(pkts, p)
	}
	return buildPcap(pkts)
}

// BenchmarkReadFlows: reading, decoding and flow assembly, from memory.
// synthetic-200k has 2,000 conversations open at once, whose flows stay in
// the caches; synthetic-open-100k has 100,000 (and short payloads, to keep
// the capture small), as on a busy link: most flow look-ups miss the
// caches. With -cpu 1 everything runs on one goroutine; with more, the
// reading and decoding run in a second one (see readFrames).
//
//	go test ./packet -run '^$' -bench ReadFlows -benchmem -count 6 -cpu 1,2
func BenchmarkReadFlows(b *testing.B) {
	inputs := []struct {
		name string
		data []byte
	}{{"synthetic-200k", synthetic(200_000, 2_000, 1400)}, {"synthetic-open-100k", synthetic(1_000_000, 100_000, 100)}}
	if d, err := os.ReadFile(findSample("zeek-cwd-navigation.pcap")); err == nil {
		inputs = append(inputs, struct {
			name string
			data []byte
		}{"zeek-cwd-navigation", d})
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			var packets int64
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				st, err := readFlows(context.Background(), bytes.NewReader(in.data), in.name, DefaultConfig(), func(*ended) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				packets += st.Packets
			}
			b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// BenchmarkDecode: the frame decoder alone, over the frames of a capture.
//
//	go test ./packet -run '^$' -bench Decode -benchmem -count 6
func BenchmarkDecode(b *testing.B) {
	data := synthetic(20_000, 2_000, 1400)
	var c capReader
	if err := c.open(bytes.NewReader(data), "x"); err != nil {
		b.Fatal(err)
	}
	var frames [][]byte
	var size int64
	var fr frame
	for c.next(&fr) == nil {
		frames = append(frames, bytes.Clone(fr.data))
		size += int64(len(fr.data))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var d decoded
	for b.Loop() {
		for _, f := range frames {
			decode(linkEthernet, f, &d)
		}
	}
	b.ReportMetric(float64(len(frames))*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
