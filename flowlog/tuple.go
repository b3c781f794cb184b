package flowlog

import (
	"net/netip"
	"strconv"

	"github.com/flowlens/flowlens/columnar"
)

// Format is the tuple layout of a record.
type Format uint8

// Tuple formats. FormatAuto infers v1 or v2 from the number of fields.
const (
	FormatAuto Format = iota
	FormatNSGv1
	FormatNSGv2
	FormatVNet
)

func (f Format) source() columnar.Source {
	switch f {
	case FormatNSGv1:
		return columnar.SourceNSGv1
	case FormatNSGv2:
		return columnar.SourceNSGv2
	case FormatVNet:
		return columnar.SourceVNet
	}
	return columnar.SourceUnknown
}

// TupleParser parses flow tuples into columnar.Flow rows. The SrcIP, DstIP
// and Encryption slices it sets point into the tuple (when the text is
// already canonical) or into the parser's own buffers (when it had to be
// rewritten): they are valid until the parser's next call and while the
// tuple's bytes are unchanged. The zero value is ready to use; a
// TupleParser is not safe for concurrent use.
type TupleParser struct {
	src, dst [64]byte
	fields   [16][]byte
}

// maxTupleFields bounds the fields of one tuple; the longest format has 13.
const maxTupleFields = 16

// Parse parses one tuple of format f into row. It sets Time, SrcIP, DstIP,
// SrcPort, DstPort, Proto, Direction, Decision, State, Encryption, Source and
// the counters, and leaves every other field of row as it was. Errors are
// *TupleError values wrapping ErrBadTuple.
func (p *TupleParser) Parse(t []byte, f Format, row *columnar.Flow) error {
	// Split at commas in one pass: tuples are short, and a byte loop beats
	// a call to bytes.IndexByte per field.
	n, from := 0, 0
	for i, c := range t {
		if c != ',' {
			continue
		}
		if n == maxTupleFields-1 {
			return &TupleError{Field: -1, Msg: "too many fields"}
		}
		p.fields[n] = t[from:i]
		n++
		from = i + 1
	}
	p.fields[n] = t[from:]
	n++
	fs := p.fields[:n]
	if f == FormatAuto {
		switch n {
		case 8:
			f = FormatNSGv1
		case 13:
			f = FormatNSGv2
		default:
			return &TupleError{Field: -1, Msg: "cannot tell the version from the field count " + itoa(n)}
		}
	}
	want := 13
	if f == FormatNSGv1 {
		want = 8
	}
	if n != want {
		return &TupleError{Field: -1, Msg: "has " + itoa(n) + " fields, " + f.String() + " tuples have " + itoa(want)}
	}
	row.Source = f.source()

	ts, ok := parseUint(fs[0], 19)
	if !ok {
		return &TupleError{Field: 0, Msg: "bad timestamp", Value: string(fs[0])}
	}
	// Tuple times are seconds in NSG logs and milliseconds in VNet logs;
	// tell them apart by magnitude as well, for logs that mix them up.
	switch {
	case f == FormatVNet || ts >= 1e11:
		if ts >= 1e14 {
			return &TupleError{Field: 0, Msg: "timestamp out of range", Value: string(fs[0])}
		}
		row.Time = int64(ts) * 1000
	default:
		row.Time = int64(ts) * 1e6
	}

	var err *TupleError
	if row.SrcIP, err = canonicalIP(p.src[:0], fs[1], 1); err != nil {
		return err
	}
	if row.DstIP, err = canonicalIP(p.dst[:0], fs[2], 2); err != nil {
		return err
	}
	sp, ok := parseUint(fs[3], 5)
	if !ok || sp > 65535 {
		return &TupleError{Field: 3, Msg: "bad port", Value: string(fs[3])}
	}
	dp, ok := parseUint(fs[4], 5)
	if !ok || dp > 65535 {
		return &TupleError{Field: 4, Msg: "bad port", Value: string(fs[4])}
	}
	row.SrcPort, row.DstPort = int32(sp), int32(dp)

	proto, ok := parseProtocol(fs[5])
	if !ok {
		return &TupleError{Field: 5, Msg: "bad protocol", Value: string(fs[5])}
	}
	row.Proto = proto

	switch string(fs[6]) {
	case "I":
		row.Direction = columnar.DirectionIn
	case "O":
		row.Direction = columnar.DirectionOut
	default:
		return &TupleError{Field: 6, Msg: "bad direction", Value: string(fs[6])}
	}

	row.Encryption = nil
	row.HasCounters = false
	row.PacketsOut, row.BytesOut, row.PacketsIn, row.BytesIn = 0, 0, 0, 0
	switch f {
	case FormatNSGv1, FormatNSGv2:
		switch string(fs[7]) {
		case "A":
			row.Decision = columnar.DecisionAllow
		case "D":
			row.Decision = columnar.DecisionDeny
		default:
			return &TupleError{Field: 7, Msg: "bad decision", Value: string(fs[7])}
		}
		row.State = 0
		if f == FormatNSGv1 {
			return nil
		}
		if row.State, ok = parseState(fs[8], false); !ok {
			return &TupleError{Field: 8, Msg: "bad flow state", Value: string(fs[8])}
		}
	case FormatVNet:
		if row.State, ok = parseState(fs[7], true); !ok {
			return &TupleError{Field: 7, Msg: "bad flow state", Value: string(fs[7])}
		}
		row.Decision = columnar.DecisionAllow
		if row.State == 'D' {
			row.Decision = columnar.DecisionDeny
		}
		if len(fs[8]) == 0 {
			return &TupleError{Field: 8, Msg: "empty encryption status", Value: ""}
		}
		row.Encryption = fs[8]
	}
	// Counters: all four present, or (v2 begin tuples) all four empty.
	if len(fs[9]) == 0 && len(fs[10]) == 0 && len(fs[11]) == 0 && len(fs[12]) == 0 {
		return nil
	}
	var c [4]int64
	for i := range c {
		v, ok := parseUint(fs[9+i], 19)
		if !ok || v > 1<<62 {
			return &TupleError{Field: 9 + i, Msg: "bad counter", Value: string(fs[9+i])}
		}
		c[i] = int64(v)
	}
	row.HasCounters = true
	row.PacketsOut, row.BytesOut, row.PacketsIn, row.BytesIn = c[0], c[1], c[2], c[3]
	return nil
}

func (f Format) String() string {
	switch f {
	case FormatNSGv1:
		return "NSG v1"
	case FormatNSGv2:
		return "NSG v2"
	case FormatVNet:
		return "VNet"
	}
	return "auto"
}

func parseState(b []byte, vnet bool) (byte, bool) {
	if len(b) != 1 {
		return 0, false
	}
	switch b[0] {
	case 'B', 'C', 'E':
		return b[0], true
	case 'D':
		return 'D', vnet
	}
	return 0, false
}

func parseProtocol(b []byte) (int32, bool) {
	if len(b) == 1 {
		switch b[0] {
		case 'T':
			return 6, true
		case 'U':
			return 17, true
		}
	}
	v, ok := parseUint(b, 3)
	if !ok || v > 255 {
		return 0, false
	}
	return int32(v), true
}

// parseUint parses at most maxDigits decimal digits.
func parseUint(b []byte, maxDigits int) (uint64, bool) {
	if len(b) == 0 || len(b) > maxDigits {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + uint64(c)
	}
	return v, true
}

// canonicalIP validates an address and returns its canonical text form:
// b itself when it is already canonical (dotted-quad IPv4 without leading
// zeros), else the form netip gives, appended to dst.
func canonicalIP(dst, b []byte, field int) ([]byte, *TupleError) {
	if ipv4Canonical(b) {
		return b, nil
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return nil, &TupleError{Field: field, Msg: "bad IP address", Value: string(b)}
	}
	return a.Unmap().WithZone("").AppendTo(dst), nil
}

// ipv4Canonical reports whether b is a dotted-quad IPv4 address in
// canonical form: four decimal octets ≤ 255 without leading zeros.
func ipv4Canonical(b []byte) bool {
	if len(b) < 7 || len(b) > 15 {
		return false
	}
	octets, digits, v := 0, 0, 0
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && v == 0 {
				return false // leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return false
			}
		case c == '.':
			if digits == 0 || i == len(b)-1 {
				return false
			}
			octets++
			digits, v = 0, 0
		default:
			return false
		}
	}
	return octets == 3 && digits > 0
}

func itoa(n int) string { return strconv.Itoa(n) }
