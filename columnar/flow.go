package columnar

import (
	"strconv"
)

// Flow is one row of the flow schema, as a parser fills it. Byte-slice
// fields may point into the parser's buffers: they are valid until the
// parser's next call, and Batch.Append copies them. The zero value is an
// empty row with every nullable column null.
type Flow struct {
	Time    int64 // flow start (or tuple time), Unix microseconds UTC
	EndTime int64 // last packet, Unix microseconds; valid when HasEndTime
	// HasEndTime reports whether EndTime is set (packet captures).
	HasEndTime bool

	Source Source
	// Context, when not 0, promises that every row with the same Context
	// has the same ResourceID, MAC, Rule, ACLID and FlowLogID, so a batch
	// can copy them from the previous row without comparing bytes. A
	// parser gives each group of tuples a new number.
	Context    uint64
	ResourceID []byte
	MAC        []byte
	Rule       []byte
	ACLID      []byte // VNet flow logs: the aclID of the flow group
	FlowLogID  []byte // VNet flow logs: flowLogResourceID

	// SrcIP and DstIP hold the canonical text form (netip.Addr.String).
	SrcIP, DstIP     []byte
	SrcPort, DstPort int32
	Proto            int32 // IANA protocol number
	Direction        Direction
	Decision         Decision
	State            byte // 'B', 'C', 'E', 'D'; 0 when the source has none
	Encryption       []byte

	// Counters, valid when HasCounters: Out is src→dst, In is dst→src.
	HasCounters          bool
	PacketsOut, BytesOut int64
	PacketsIn, BytesIn   int64
	TCPFlags             int32 // OR of flags seen; valid when HasTCPFlags
	HasTCPFlags          bool
	VLAN                 int32 // outer VLAN id; valid when HasVLAN
	HasVLAN              bool
	CapturedLen          int32 // per-packet rows: bytes captured; valid when HasCapturedLen
	HasCapturedLen       bool
}

// Source names where a row came from.
type Source uint8

// Sources, as written in the source column.
const (
	SourceUnknown Source = iota
	SourceNSGv1
	SourceNSGv2
	SourceVNet
	SourcePcap
)

var sourceNames = [...]string{"", "nsg-v1", "nsg-v2", "vnet", "pcap"}

func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "source(" + strconv.Itoa(int(s)) + ")"
}

// Direction of a flow relative to the resource that logged it.
type Direction uint8

// Directions, written as "in" and "out"; DirectionUnknown is written as null.
const (
	DirectionUnknown Direction = iota
	DirectionIn
	DirectionOut
)

func (d Direction) String() string {
	switch d {
	case DirectionIn:
		return "in"
	case DirectionOut:
		return "out"
	}
	return ""
}

// Decision is the verdict logged for a flow.
type Decision uint8

// Decisions, written as "allow" and "deny"; DecisionUnknown is written as null.
const (
	DecisionUnknown Decision = iota
	DecisionAllow
	DecisionDeny
)

func (d Decision) String() string {
	switch d {
	case DecisionAllow:
		return "allow"
	case DecisionDeny:
		return "deny"
	}
	return ""
}

// ProtocolName returns the lower-case name of an IANA protocol number as
// written in the protocol column ("tcp", "udp", "icmp", ...), or the number
// in decimal when it has no common name.
func ProtocolName(proto int32) string {
	switch proto {
	case 1:
		return "icmp"
	case 2:
		return "igmp"
	case 4:
		return "ipip"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 41:
		return "ipv6"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 58:
		return "icmpv6"
	case 132:
		return "sctp"
	}
	if proto >= 0 && proto < int32(len(protoNumbers)) {
		return protoNumbers[proto]
	}
	return strconv.Itoa(int(proto))
}

var protoNumbers = func() (s [256]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()
