// Package packet reads .cap, .pcap and .pcapng captures into the flow
// schema of package columnar: one row per bidirectional flow, with
// counters both ways, agreeing with tshark (see TestOracle).
//
// # Reading
//
// ReadFlows reads pcap (µs or ns timestamps, either byte order, any 2.x
// version, including the 2.1 files pcapgo refuses) and pcapng (several
// sections, byte orders and interfaces with different link types and
// timestamp resolutions; Enhanced, Simple and obsolete Packet Blocks).
// Both are parsed here, from the byte stream, so that an error can name
// the byte offset and frame number of the record or block at fault: a bad
// file header returns ErrBadHeader and no flows; a bad or cut-short block
// mid-file returns ErrBadBlock or ErrTruncatedBlock after the flows of
// every packet before it. Decompression (.gz, .zst) is the caller's job;
// IsCapture recognises the magic numbers.
//
// The reader and the decoder are ours, not gopacket's pcapgo and
// DecodingLayerParser, for speed and for correctness: issue 3 asks for 3
// million packets per second per core with nothing allocated per packet,
// where a minimal gopacket program that only counts flows took 1.9 s for
// 3 million packets; and checking gopacket against tshark found traps
// (pcapgo.NgReader drops packets of interfaces whose link type differs from
// the first, pcapgo refuses pcap version 2.1, gopacket gives a first
// fragment no ports, and its TCP decoder needs 20 bytes where tshark reads
// ports and flags from a cut header). gopacket stays in the tests as a
// differential oracle for the reader (gopacket_test.go), as tshark is for
// the flows (TestOracle).
//
// Link types: Ethernet (with 802.1Q, 802.1ad/QinQ, MPLS, PPPoE and
// LLC/SNAP), Linux cooked SLL and SLL2, raw IP (12, 14, 101, 228, 229),
// BSD null and OpenBSD loopback, PPP (9 and 50; with or without HDLC-like
// framing, compressed protocol field; or Cisco HDLC, told apart by the
// first byte as tshark does), PPPoE (51) and Cisco HDLC (104). Frames of other link types, and frames
// whose IP header is cut or invalid, are counted in Stats.Malformed and
// are in no flow; frames without IP (ARP, ...) are counted in
// Stats.NonIP. Decoding and flow assembly allocate nothing per packet.
//
// # Flows
//
// The flow key is the outermost IP header: addresses, protocol (for IPv6,
// after Hop-by-Hop, Routing, Fragment and Destination Options headers) and,
// for TCP and UDP only, ports; every other protocol, ICMP included, has
// ports 0. Tunnels (GRE, IP-in-IP, VXLAN, ...) are not followed: the outer
// packet is the flow. There is no reassembly: a first fragment carries
// its ports, later fragments are attributed to the flow of their first
// fragment when it was seen (matched on addresses, protocol and IP id, in
// a fixed-size table), else to the flow with ports 0. TCP ports and flags
// are read from a header cut by the snap length as far as the captured
// bytes reach (ports need 4 bytes, flags 14), as tshark does; a packet with
// fewer bytes of TCP header than 20, or than its data offset says (cut
// inside its options), is also counted as truncated-tcp.
//
// The initiator is the sender of the first packet of the flow, or the
// receiver when that packet is a TCP SYN+ACK (the SYN was not captured).
// SrcIP/SrcPort are the initiator's; PacketsOut/BytesOut count initiator →
// responder and PacketsIn/BytesIn the reverse, as in NSG v2 tuples. Bytes
// are original (wire) lengths, also for packets cut by the snap length.
// Time and EndTime are the first and last packet, in µs; packets without
// a timestamp (Simple Packet Blocks) take the capture's latest time.
// TCPFlags is the OR of the low 8 flag bits seen both ways; VLAN the outer
// VLAN id of the first packet. Direction and Decision are unknown.
//
// State is E when a FIN or RST was seen in the row, else C when the row
// continues a flow cut by the active timeout, else B (the row holds the
// first packet of its flow).
//
// A flow ends when no packet of it was seen for longer than
// Config.IdleTimeout of capture time (the highest timestamp seen so far),
// or, at its next packet, when its row has lasted Config.ActiveTimeout;
// then a continuation row starts. Ended flows are emitted at once, so
// memory grows with the flows open at one time, not with the capture; the
// rest are emitted at the end, by start time.
//
// # Cost
//
// An open flow takes 128 bytes (two cache lines), plus 8 of idle list and
// 16 to 32 of index (open addressing, at most half full); ended flows are
// reused. Nothing is allocated per packet. The index slots, flows and
// idle-list entries of a group of packets are prefetched a group or two
// before they are used (package internal/prefetch), so that their cache
// misses overlap the work on other packets. Captures are read 128 KiB at
// a time, which keeps the kernel's copy and the parse in cache. A
// capture longer than 16 batches of 1024 frames is read, parsed and
// decoded in a second goroutine, batches ahead of flow assembly, when more
// than one P may run and Config.Sequential is not set.
package packet
