// Package packet will read .cap, .pcap and .pcapng captures into the flow
// schema of package columnar: bidirectional flows keyed by 5-tuple, with
// idle and active timeouts. Not implemented yet (issue 3); nothing here is
// used by the rest of flowlens.
package packet
