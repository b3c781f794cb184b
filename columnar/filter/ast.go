package filter

import (
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/flowlens/flowlens/columnar"
)

// Expr is a parsed filter: *And, *Or, *Not, or one of the leaves *IP,
// *Port, *Enum, *Text, *Counter and *Time. The set is closed (Expr has an
// unexported method), so a planner can walk an Expr with a type switch
// over these nine types, as ExampleExpr_walk does.
//
// Parse builds the tree; it can also be built by hand, but String round
// trips only the trees Parse makes (And and Or with two or more terms,
// values Parse accepts). The package never modifies an Expr, so one is
// safe for concurrent use once built. Match costs a few nanoseconds per
// leaf; an IP leaf parses the row's address text, about 15 ns.
type Expr interface {
	// Match reports whether the row satisfies the expression. It does not
	// allocate and does not keep f.
	Match(f *columnar.Flow) bool
	// String returns the canonical form of the expression: keywords in
	// lower case, "and", "or", "not" spelt out, parentheses only where
	// precedence needs them. Parse reads it back into an equal Expr.
	String() string

	appendTo(dst []byte, prec int) []byte
}

// Precedences, for printing: a node is parenthesized when printed where
// a higher one is expected.
const (
	precOr = iota + 1
	precAnd
	precUnary
)

// And is true when every term is. Parse gives it at least two terms, none
// of them an *And (a and (b and c) is read as a and b and c).
type And struct{ Terms []Expr }

// Or is true when any term is. Parse gives it at least two terms, none of
// them an *Or.
type Or struct{ Terms []Expr }

// Not is true when X is false. A comparison on a null column is false,
// so "not bytes > 1M" holds for rows without counters (the logic has two
// values, not SQL's three).
type Not struct{ X Expr }

// Side says which address or port of a flow a leaf looks at.
type Side uint8

// Sides. The zero value, Either, matches when the source or the
// destination does.
const (
	Either Side = iota
	Src
	Dst
)

func (s Side) String() string {
	switch s {
	case Src:
		return "src"
	case Dst:
		return "dst"
	}
	return ""
}

// IP matches flows whose address on Side lies in Prefix (a single address
// is a /32 or /128 prefix). Families do not mix: an IPv4 prefix does not
// match an IPv4-mapped IPv6 address. Index columns: src_ip, dst_ip.
type IP struct {
	Side   Side
	Prefix netip.Prefix
}

// MatchAddr reports whether a lies in the prefix: the test to run on the
// keys of the src_ip and dst_ip index.
func (e *IP) MatchAddr(a netip.Addr) bool { return e.Prefix.Contains(a) }

// Port matches flows whose port on Side is in [Lo, Hi]. Index columns:
// src_port, dst_port.
type Port struct {
	Side   Side
	Lo, Hi uint16
}

// Contains reports whether port p is in [Lo, Hi]: the test to run on the
// keys of the src_port and dst_port index.
func (e *Port) Contains(p int32) bool { return int32(e.Lo) <= p && p <= int32(e.Hi) }

// Enum matches flows whose Field equals Value. Field is one of
//
//	FieldProtocol   Value is the IANA protocol number (tcp is 6)
//	FieldDirection  Value is a columnar.Direction
//	FieldDecision   Value is a columnar.Decision
//	FieldState      Value is the state letter: 'B', 'C', 'E' or 'D'
//	FieldSource     Value is a columnar.Source
//
// Key returns the value as the column holds it, for an index look-up.
type Enum struct {
	Field Field
	Value uint8
}

// Key returns the value as written in Field's column ("tcp", "in",
// "deny", "B", "nsg-v2"), the key to look up in the index.
func (e *Enum) Key() string {
	switch e.Field {
	case FieldProtocol:
		return columnar.ProtocolName(int32(e.Value))
	case FieldDirection:
		return columnar.Direction(e.Value).String()
	case FieldDecision:
		return columnar.Decision(e.Value).String()
	case FieldState:
		return string(rune(e.Value))
	case FieldSource:
		return columnar.Source(e.Value).String()
	}
	return ""
}

// Text matches a string column against Pattern. Field is one of
//
//	FieldRule        "rule NAME": the rule name, ignoring ASCII case; * in
//	                 NAME matches any run of characters
//	FieldResourceID  "nsg NAME": the last path segment of the resource id,
//	                 or, when NAME contains "/", the whole id; ASCII case
//	                 ignored, * as for rules
//	FieldMAC         "mac ADDR": Pattern is the normalised MAC, 12
//	                 upper-case hex digits, as flowlog stores it
//
// A null (empty) column never matches. The index planner tests each key
// of the column with MatchString.
type Text struct {
	Field   Field
	Pattern string
}

// Counter compares a counter with Value. Field is FieldBytes or
// FieldPackets (the sum of both directions), or FieldBytesOut,
// FieldBytesIn, FieldPacketsOut, FieldPacketsIn. Rows without counters
// (NSG v1 flow logs) never match. No index: it is evaluated on the rows.
type Counter struct {
	Field Field
	Op    Op
	Value int64
}

// Time compares the flow's time (its start, or the tuple time of a flow
// log) with At, in Unix microseconds UTC. No index, but Bounds gives the
// range to prune hourly partitions with.
type Time struct {
	Op Op
	At int64
}

// Bounds returns the half-open range [from, to) of Unix microseconds the
// comparison admits; math.MinInt64 and math.MaxInt64 stand for no bound.
// For Ne it is the whole line.
func (e *Time) Bounds() (from, to int64) {
	from, to = math.MinInt64, math.MaxInt64
	next := e.At
	if next < math.MaxInt64 {
		next++
	}
	switch e.Op {
	case Eq:
		return e.At, next
	case Lt:
		return from, e.At
	case Le:
		return from, next
	case Gt:
		return next, to
	case Ge:
		return e.At, to
	}
	return from, to
}

// Op is a comparison operator.
type Op uint8

// Comparison operators.
const (
	Eq Op = iota // =  (also ==)
	Ne           // !=
	Lt           // <
	Le           // <=
	Gt           // >
	Ge           // >=
)

var opNames = [...]string{"=", "!=", "<", "<=", ">", ">="}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

func (o Op) compare(a, b int64) bool {
	switch o {
	case Eq:
		return a == b
	case Ne:
		return a != b
	case Lt:
		return a < b
	case Le:
		return a <= b
	case Gt:
		return a > b
	case Ge:
		return a >= b
	}
	return false
}

// Field names what a leaf looks at. Most fields are one column of
// columnar.Schema, and String returns the column's name; FieldBytes and
// FieldPackets are sums of two columns.
type Field uint8

// Fields.
const (
	FieldTime Field = iota
	FieldSource
	FieldResourceID
	FieldMAC
	FieldRule
	FieldSrcIP
	FieldDstIP
	FieldSrcPort
	FieldDstPort
	FieldProtocol
	FieldDirection
	FieldDecision
	FieldState
	FieldPacketsOut
	FieldBytesOut
	FieldPacketsIn
	FieldBytesIn
	FieldPackets // packets_out + packets_in
	FieldBytes   // bytes_out + bytes_in
	numFields
)

var fieldNames = [numFields]string{
	"time", "source", "resource_id", "mac", "rule", "src_ip", "dst_ip",
	"src_port", "dst_port", "protocol", "direction", "decision", "state",
	"packets_out", "bytes_out", "packets_in", "bytes_in", "packets", "bytes",
}

func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return "field(" + strconv.Itoa(int(f)) + ")"
}

// Indexed reports whether the flow index has a bitmap per value of f:
// src_ip, dst_ip, src_port, dst_port, protocol, direction, decision, rule,
// resource_id and mac. The others are evaluated on the rows.
func (f Field) Indexed() bool {
	switch f {
	case FieldSrcIP, FieldDstIP, FieldSrcPort, FieldDstPort, FieldProtocol,
		FieldDirection, FieldDecision, FieldRule, FieldResourceID, FieldMAC:
		return true
	}
	return false
}

// Columns returns the names of the columnar.Schema columns e reads, in
// schema order, each once.
func Columns(e Expr) []string {
	var need [numFields]bool
	walkFields(e, func(f Field) { need[f] = true })
	if need[FieldPackets] {
		need[FieldPacketsOut], need[FieldPacketsIn] = true, true
	}
	if need[FieldBytes] {
		need[FieldBytesOut], need[FieldBytesIn] = true, true
	}
	var cols []string
	for _, fld := range columnar.Schema.Fields() {
		for f := range FieldPackets {
			if need[f] && fieldNames[f] == fld.Name {
				cols = append(cols, fld.Name)
			}
		}
	}
	return cols
}

// IsIndexed reports whether every leaf of e reads only indexed fields, so
// that the index alone answers it.
func IsIndexed(e Expr) bool {
	ok := true
	walkFields(e, func(f Field) { ok = ok && f.Indexed() })
	return ok
}

// walkFields calls fn with every field the leaves of e read.
func walkFields(e Expr, fn func(Field)) {
	switch e := e.(type) {
	case *And:
		for _, t := range e.Terms {
			walkFields(t, fn)
		}
	case *Or:
		for _, t := range e.Terms {
			walkFields(t, fn)
		}
	case *Not:
		walkFields(e.X, fn)
	case *IP:
		if e.Side != Dst {
			fn(FieldSrcIP)
		}
		if e.Side != Src {
			fn(FieldDstIP)
		}
	case *Port:
		if e.Side != Dst {
			fn(FieldSrcPort)
		}
		if e.Side != Src {
			fn(FieldDstPort)
		}
	case *Enum:
		fn(e.Field)
	case *Text:
		fn(e.Field)
	case *Counter:
		fn(e.Field)
	case *Time:
		fn(FieldTime)
	}
}

// String methods: canonical forms, which Parse reads back.

func (e *And) String() string     { return string(e.appendTo(nil, 0)) }
func (e *Or) String() string      { return string(e.appendTo(nil, 0)) }
func (e *Not) String() string     { return string(e.appendTo(nil, 0)) }
func (e *IP) String() string      { return string(e.appendTo(nil, 0)) }
func (e *Port) String() string    { return string(e.appendTo(nil, 0)) }
func (e *Enum) String() string    { return string(e.appendTo(nil, 0)) }
func (e *Text) String() string    { return string(e.appendTo(nil, 0)) }
func (e *Counter) String() string { return string(e.appendTo(nil, 0)) }
func (e *Time) String() string    { return string(e.appendTo(nil, 0)) }

func appendTerms(dst []byte, terms []Expr, op string, prec, mine int) []byte {
	if prec > mine {
		dst = append(dst, '(')
	}
	for i, t := range terms {
		if i > 0 {
			dst = append(dst, op...)
		}
		dst = t.appendTo(dst, mine+1)
	}
	if prec > mine {
		dst = append(dst, ')')
	}
	return dst
}

func (e *And) appendTo(dst []byte, prec int) []byte {
	return appendTerms(dst, e.Terms, " and ", prec, precAnd)
}

func (e *Or) appendTo(dst []byte, prec int) []byte {
	return appendTerms(dst, e.Terms, " or ", prec, precOr)
}

func (e *Not) appendTo(dst []byte, prec int) []byte {
	return e.X.appendTo(append(dst, "not "...), precUnary)
}

func appendSide(dst []byte, s Side) []byte {
	if s == Src || s == Dst {
		dst = append(dst, s.String()...)
		dst = append(dst, ' ')
	}
	return dst
}

func (e *IP) appendTo(dst []byte, _ int) []byte {
	dst = appendSide(dst, e.Side)
	p := e.Prefix.Masked()
	if p.IsSingleIP() {
		return p.Addr().AppendTo(append(dst, "ip "...))
	}
	return p.AppendTo(append(dst, "net "...))
}

func (e *Port) appendTo(dst []byte, _ int) []byte {
	dst = appendSide(dst, e.Side)
	dst = strconv.AppendUint(append(dst, "port "...), uint64(e.Lo), 10)
	if e.Hi != e.Lo {
		dst = strconv.AppendUint(append(dst, '-'), uint64(e.Hi), 10)
	}
	return dst
}

func (e *Enum) appendTo(dst []byte, _ int) []byte {
	switch e.Field {
	case FieldProtocol:
		return append(dst, "proto "+columnar.ProtocolName(int32(e.Value))...)
	case FieldDirection, FieldDecision:
		if k := e.Key(); k != "" {
			return append(dst, k...)
		}
	case FieldState, FieldSource:
		return appendValue(append(dst, e.Field.String()+" "...), e.Key())
	}
	// Not a value Parse makes; printed so that it fails to parse.
	return append(dst, e.Field.String()+" "+strconv.Itoa(int(e.Value))...)
}

func (e *Text) appendTo(dst []byte, _ int) []byte {
	switch e.Field {
	case FieldRule:
		dst = append(dst, "rule "...)
	case FieldResourceID:
		dst = append(dst, "nsg "...)
	case FieldMAC:
		dst = append(dst, "mac "...)
	default:
		dst = append(dst, e.Field.String()+" "...)
	}
	return appendValue(dst, e.Pattern)
}

func (e *Counter) appendTo(dst []byte, _ int) []byte {
	dst = append(dst, e.Field.String()...)
	dst = append(dst, ' ')
	dst = append(dst, e.Op.String()...)
	dst = append(dst, ' ')
	return appendCount(dst, e.Value)
}

func (e *Time) appendTo(dst []byte, _ int) []byte {
	dst = append(dst, "time "...)
	dst = append(dst, e.Op.String()...)
	dst = append(dst, ' ')
	return time.UnixMicro(e.At).UTC().AppendFormat(dst, time.RFC3339Nano)
}

// appendValue appends a name, quoted when it would not read back as one
// word.
func appendValue(dst []byte, s string) []byte {
	if needsQuote(s) {
		return strconv.AppendQuote(dst, s)
	}
	return append(dst, s...)
}

func needsQuote(s string) bool {
	if s == "" || isOperatorWord(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || isDelim(c) {
			return true
		}
	}
	return false
}

// Count suffixes, largest first; decimal ones are preferred when printing.
var suffixes = []struct {
	name string
	mult int64
}{
	{"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3},
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
}

// appendCount appends n with the largest suffix that divides it exactly:
// 1000000 is "1M", 1048576 "1MiB", 1500 "1500".
func appendCount(dst []byte, n int64) []byte {
	if n > 0 {
		for _, s := range suffixes {
			if n%s.mult == 0 {
				return append(strconv.AppendInt(dst, n/s.mult, 10), s.name...)
			}
		}
	}
	return strconv.AppendInt(dst, n, 10)
}
