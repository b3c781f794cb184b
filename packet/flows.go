package packet

import (
	"context"
	"errors"
	"io"
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
	// Sequential keeps the reading of a capture in the calling goroutine.
	// By default, a long capture is read and decoded in a second
	// goroutine, ahead of flow assembly: faster when a core is free (on 2
	// cores, 0.67 s instead of 0.77 s for 3,000,000 packets), but about 30%
	// more CPU time. Convert sets it when it reads several captures at
	// once on several workers.
	Sequential bool
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

// fill writes flow f into row, with addresses in the caller's buffers.
func fill(f *ended, row *columnar.Flow, addrs []byte) []byte {
	src, dst, sport, dport := f.endpoints(dirOut)
	addrs = src.netip(f.key.v6).Unmap().AppendTo(addrs[:0])
	n := len(addrs)
	addrs = dst.netip(f.key.v6).Unmap().AppendTo(addrs)
	row.SrcIP, row.DstIP = addrs[:n:n], addrs[n:]
	row.SrcPort, row.DstPort = int32(sport), int32(dport)
	row.Proto = int32(f.key.proto)
	row.Time, row.EndTime, row.HasEndTime = floorDiv(f.first, 1000), floorDiv(f.last, 1000), true
	row.HasCounters = true
	row.PacketsOut, row.BytesOut = f.packets[dirOut]+f.frag.packets[dirOut], f.bytes[dirOut]+f.frag.bytes[dirOut]
	row.PacketsIn, row.BytesIn = f.packets[dirIn]+f.frag.packets[dirIn], f.bytes[dirIn]+f.frag.bytes[dirIn]
	row.HasTCPFlags = f.hasFlags[dirOut] || f.hasFlags[dirIn]
	row.TCPFlags = int32(f.flags[dirOut] | f.flags[dirIn])
	row.HasVLAN, row.VLAN = f.hasVLAN, int32(f.vlan)
	row.State = f.state()
	return addrs
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
	return readFlows(ctx, r, name, cfg, func(f *ended) error {
		if f.packetCount() == 0 {
			return nil
		}
		addrs = fill(f, &row, addrs)
		return emit(&row)
	})
}

// readFlows is ReadFlows with the internal flow records, which keep
// per-direction times, flags and fragments (for the oracle test).
func readFlows(ctx context.Context, r io.Reader, name string, cfg Config, emit func(*ended) error) (Stats, error) {
	return readFlowsObserved(ctx, r, name, cfg, emit, nil)
}

// readFlowsObserved is readFlows with table.observe set (for the oracle
// test, which needs the times of each direction).
func readFlowsObserved(ctx context.Context, r io.Reader, name string, cfg Config, emit func(*ended) error,
	observe func(f *flow, dir int, ts int64, hasTS bool)) (Stats, error) {
	st := Stats{Malformed: map[string]int64{}, LinkTypes: map[uint32]int64{}}
	t := newTable(cfg, func(f *ended) error {
		if f.packetCount() == 0 {
			return nil
		}
		st.Flows++
		return emit(f)
	})
	t.observe = observe
	readErr := readFrames(ctx, r, name, &st, &frameSink{keys: &t.keys, ahead1: t.prefetchFlows, ahead2: t.prefetchSlots, onIP: t.add, sequential: cfg.Sequential})
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

// ReadPackets reads a capture like ReadFlows but emits one row per IP
// packet instead of one per flow: Time is the packet's (a packet without a
// timestamp takes the latest one seen), the 5-tuple as the packet has it
// (sender first; later fragments have ports 0), PacketsOut 1, BytesOut the
// original length, CapturedLen the bytes captured, TCP flags and outer
// VLAN. Stats.Flows stays 0.
func ReadPackets(ctx context.Context, r io.Reader, name string, emit func(*columnar.Flow) error) (Stats, error) {
	return readPackets(ctx, r, name, false, emit)
}

// readPackets is ReadPackets, optionally in the calling goroutine only
// (Config.Sequential).
func readPackets(ctx context.Context, r io.Reader, name string, sequential bool, emit func(*columnar.Flow) error) (Stats, error) {
	st := Stats{Malformed: map[string]int64{}, LinkTypes: map[uint32]int64{}}
	row := columnar.Flow{Source: columnar.SourcePcap, ResourceID: []byte(name), HasCounters: true, PacketsOut: 1, HasCapturedLen: true}
	var addrs []byte
	var last int64
	err := readFrames(ctx, r, name, &st, &frameSink{onIP: func(p *pkt) error {
		d := &p.d
		if p.hasTS {
			last = p.ts
		}
		row.Time = floorDiv(last, 1000)
		addrs = d.src.netip(d.v6).Unmap().AppendTo(addrs[:0])
		n := len(addrs)
		addrs = d.dst.netip(d.v6).Unmap().AppendTo(addrs)
		row.SrcIP, row.DstIP = addrs[:n:n], addrs[n:]
		row.SrcPort, row.DstPort, row.Proto = int32(d.sport), int32(d.dport), int32(d.proto)
		row.BytesOut = p.origLen
		row.CapturedLen = p.capLen
		row.TCPFlags, row.HasTCPFlags = int32(d.flags), d.hasFlags
		row.VLAN, row.HasVLAN = int32(d.vlan), d.hasVLAN
		return emit(&row)
	}, sequential: sequential})
	return st, err
}
