package packet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// gopacketDiffs lists the samples that gopacket's pure-Go reader (pcapgo)
// reads differently from ours, each with the reason. The test fails if a
// listed sample reads the same (remove it) or an unlisted one differs.
var gopacketDiffs = map[string]string{
	"suricata-nfs3-01-input.pcap": "big-endian pcap whose header says version 2.1 (written in 1999): pcapgo refuses every minor version but 4 " +
		"(\"Unknown minor version 1\") and reads no frame; tshark and we read its 128 frames",
	"tcpdump-aoe-oobr-1.pcap": "its one record has 34 captured bytes of a 32-byte packet: pcapgo refuses the record (\"capture length exceeds " +
		"original packet length\"); tshark and we read it, and we count it as caplen-gt-len",
}

// capFrame is one packet record as a reader returns it.
type capFrame struct {
	ts       int64 // Unix ns; valid when hasTS
	hasTS    bool
	origLen  int64
	linkType uint32
	data     []byte
}

func (f capFrame) String() string {
	ts := "no time"
	if f.hasTS {
		ts = fmt.Sprint(f.ts)
	}
	return fmt.Sprintf("%s, link type %d, %d of %d bytes %x", ts, f.linkType, len(f.data), f.origLen, f.data[:min(len(f.data), 16)])
}

// readOurs reads every frame with capReader; err is nil at a clean end.
func readOurs(name string, data []byte) (frames []capFrame, err error) {
	var c capReader
	if err := c.open(bytes.NewReader(data), name); err != nil {
		return nil, err
	}
	for {
		var f frame
		if err := c.next(&f); err != nil {
			if err == io.EOF {
				return frames, nil
			}
			return frames, err
		}
		frames = append(frames, capFrame{f.ts, f.hasTS, f.origLen, f.linkType, bytes.Clone(f.data)})
	}
}

// readGopacket reads every frame with pcapgo's Reader or NgReader (with
// mixed link types); err is nil at a clean end.
func readGopacket(data []byte) (frames []capFrame, err error) {
	var next func() ([]byte, gopacket.CaptureInfo, error)
	var linkType func(ci gopacket.CaptureInfo) uint32
	if IsCapture(data) && bytes.HasPrefix(data, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, err
		}
		next = r.ReadPacketData
		linkType = func(ci gopacket.CaptureInfo) uint32 {
			if len(ci.AncillaryData) > 0 {
				if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					return uint32(lt)
				}
			}
			return ^uint32(0)
		}
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		next = r.ReadPacketData
		linkType = func(gopacket.CaptureInfo) uint32 { return uint32(r.LinkType()) & 0x03ffffff }
	}
	for {
		b, ci, err := next()
		if err != nil {
			if err == io.EOF {
				return frames, nil
			}
			return frames, err
		}
		f := capFrame{origLen: int64(ci.Length), linkType: linkType(ci), data: bytes.Clone(b)}
		if !ci.Timestamp.IsZero() {
			f.ts, f.hasTS = ci.Timestamp.UnixNano(), true
		}
		frames = append(frames, f)
	}
}

// TestGopacketReader compares our pcap and pcapng reader with gopacket's
// pcapgo on every sample, frame by frame: the number of frames, their
// timestamps, original lengths, link types and captured bytes, and
// whether the file reads to its end.
func TestGopacketReader(t *testing.T) {
	seen := map[string]bool{}
	for _, dir := range sampleDirs {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, path := range m {
			name := filepath.Base(path)
			if seen[name] || !IsCaptureName(name) {
				continue
			}
			seen[name] = true
			t.Run(name, func(t *testing.T) {
				data, err := io.ReadAll(openSample(t, path))
				if err != nil {
					t.Fatal(err)
				}
				ours, ourErr := readOurs(name, data)
				theirs, theirErr := readGopacket(data)
				var diff []string
				for i := range max(len(ours), len(theirs)) {
					switch {
					case i >= len(ours):
						diff = append(diff, fmt.Sprintf("frame %d: only gopacket reads it: %v", i+1, theirs[i]))
					case i >= len(theirs):
						diff = append(diff, fmt.Sprintf("frame %d: only we read it: %v", i+1, ours[i]))
					case ours[i].ts != theirs[i].ts || ours[i].hasTS != theirs[i].hasTS || ours[i].origLen != theirs[i].origLen ||
						ours[i].linkType != theirs[i].linkType || !bytes.Equal(ours[i].data, theirs[i].data):
						diff = append(diff, fmt.Sprintf("frame %d:\n  ours     %v\n  gopacket %v", i+1, ours[i], theirs[i]))
					}
					if len(diff) > 5 {
						diff = append(diff, "…")
						break
					}
				}
				if (ourErr == nil) != (theirErr == nil) {
					diff = append(diff, fmt.Sprintf("end of reading: ours %v, gopacket %v", ourErr, theirErr))
				}
				if ourErr != nil {
					var e *Error
					if !errors.As(ourErr, &e) {
						t.Errorf("error %v is not an *Error", ourErr)
					}
				}
				reason, known := gopacketDiffs[name]
				switch {
				case known && len(diff) == 0:
					t.Errorf("reads as gopacket does now: remove it from gopacketDiffs (%s)", reason)
				case known:
					t.Logf("known difference: %s\n%s", reason, strings.Join(diff, "\n"))
				case len(diff) > 0:
					t.Errorf("%d frames, gopacket %d; differences:\n%s", len(ours), len(theirs), strings.Join(diff, "\n"))
				case ourErr != nil:
					t.Logf("%d frames, as gopacket; both stop there: ours %v; gopacket %v", len(ours), ourErr, theirErr)
				default:
					t.Logf("%d frames, as gopacket", len(ours))
				}
			})
		}
	}
	if len(seen) < 30 {
		t.Errorf("only %d samples found", len(seen))
	}
}

// TestGopacketWritten compares the readers on captures that pcapgo writes:
// pcap with µs and ns timestamps, and pcapng with three interfaces of
// different link types and timestamp units (ns; µs with an offset;
// 2^-20 s), with packets cut short by a snap length.
func TestGopacketWritten(t *testing.T) {
	pkts := make([]testPkt, 300)
	for i := range pkts {
		pkts[i] = testPkt{at: time.Duration(i) * 1234567 * time.Nanosecond, src: "10.0.0.1", dst: fmt.Sprintf("10.1.%d.%d", i/256, i%256),
			sport: uint16(1000 + i), dport: 443, proto: 6, flags: 0x10, pad: i * 7 % 1500}
	}
	frame := func(i int) (data []byte, length int) {
		b := ethIPv4(pkts[i])
		length = len(b)
		if i%5 == 0 {
			b = b[:min(len(b), 60)] // cut by a snap length
		}
		return b, length
	}
	t.Run("pcap", func(t *testing.T) {
		for _, nanos := range []bool{false, true} {
			var buf bytes.Buffer
			w := pcapgo.NewWriter(&buf)
			if nanos {
				w = pcapgo.NewWriterNanos(&buf)
			}
			if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
				t.Fatal(err)
			}
			for i := range pkts {
				b, n := frame(i)
				ci := gopacket.CaptureInfo{Timestamp: captureStart.Add(pkts[i].at), CaptureLength: len(b), Length: n}
				if err := w.WritePacket(ci, b); err != nil {
					t.Fatal(err)
				}
			}
			compareReaders(t, buf.Bytes(), len(pkts))
		}
	})
	t.Run("pcapng", func(t *testing.T) {
		var buf bytes.Buffer
		w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, TimestampResolution: 9, SnapLength: 65535},
			pcapgo.NgWriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, intf := range []pcapgo.NgInterface{
			{LinkType: layers.LinkTypeRaw, TimestampResolution: 6, TimestampOffset: 3600},
			{LinkType: layers.LinkTypeLinuxSLL, TimestampResolution: 0x80 | 20},
		} {
			if _, err := w.AddInterface(intf); err != nil {
				t.Fatal(err)
			}
		}
		start := captureStart.Unix()
		for i := range pkts {
			b, n := frame(i)
			// NgWriter writes the nanoseconds of the timestamp whatever
			// the interface's units: give it the count of those units.
			ci := gopacket.CaptureInfo{InterfaceIndex: i % 3}
			switch i % 3 {
			case 0:
				ci.Timestamp = captureStart.Add(pkts[i].at)
			case 1:
				b, n = b[14:], n-14 // raw IP
				ci.Timestamp = time.Unix(0, (start-3600)*1e6+pkts[i].at.Microseconds())
			case 2:
				sll := make([]byte, 16, 16+len(b))
				binary.BigEndian.PutUint16(sll[14:], 0x0800)
				b, n = append(sll, b[14:]...), n+2
				ci.Timestamp = time.Unix(0, start<<20+int64(pkts[i].at)<<20/1e9)
			}
			ci.CaptureLength, ci.Length = len(b), n
			if err := w.WritePacket(ci, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		compareReaders(t, buf.Bytes(), len(pkts))
	})
}

// compareReaders checks that both readers read the same n frames.
func compareReaders(t *testing.T, data []byte, n int) {
	t.Helper()
	ours, ourErr := readOurs("written", data)
	theirs, theirErr := readGopacket(data)
	if ourErr != nil || theirErr != nil || len(ours) != n || len(theirs) != n {
		t.Fatalf("%d frames (error %v), gopacket %d (error %v), want %d", len(ours), ourErr, len(theirs), theirErr, n)
	}
	for i := range ours {
		o, g := ours[i], theirs[i]
		if o.ts != g.ts || o.hasTS != g.hasTS || o.origLen != g.origLen || o.linkType != g.linkType || !bytes.Equal(o.data, g.data) {
			t.Fatalf("frame %d:\n  ours     %v\n  gopacket %v", i+1, o, g)
		}
	}
	if ours[0].ts == ours[1].ts || ours[1].ts == ours[2].ts {
		t.Errorf("timestamps not read: %v, %v, %v", ours[0], ours[1], ours[2])
	}
}
