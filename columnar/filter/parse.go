package filter

import (
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/columnar"
)

// Limits on what Parse reads.
const (
	MaxLen   = 64 << 10 // bytes of filter text
	MaxDepth = 100      // "(" and "not" nested in one another
)

// Options tunes Parse. The zero value is usable: it refuses relative
// times.
type Options struct {
	// Now is the instant relative times count back from: "since 24h" is
	// "time >= Now-24h". When zero, a relative time is an error wrapping
	// ErrNoNow. Parse never reads the clock itself.
	Now time.Time
}

// Parse reads a filter (see the package documentation for the language)
// and returns its tree. An error is a *SyntaxError. Parse never panics,
// does not keep s, and may be called concurrently.
func Parse(s string, opts Options) (e Expr, err error) {
	if len(s) > MaxLen {
		return nil, &SyntaxError{Input: s, Col: column(s, MaxLen), Found: "",
			Expected: fmt.Sprintf("a filter of at most %d bytes", MaxLen), Err: ErrTooLong}
	}
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, &SyntaxError{Input: s, Col: 1, Found: s,
				Expected: fmt.Sprintf("a filter the parser can read (it panicked: %v)", r), Err: errBug}
		}
	}()
	p := &parser{in: s, toks: lex(s), now: opts.Now}
	if t := p.peek(); t.kind == tEOF {
		return nil, p.fail(t, `a filter such as "src ip 10.0.0.4 and dst port 443"`, ErrEmpty)
	}
	e, err = p.or("")
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.afterPrimary(t, -1)
	}
	return e, nil
}

// MustParse is Parse with zero Options that panics on error. It is
// intended for use in tests with hard-coded filters.
func MustParse(s string) Expr {
	e, err := Parse(s, Options{})
	if err != nil {
		panic(err)
	}
	return e
}

type parser struct {
	in    string
	toks  []token
	pos   int
	depth int
	now   time.Time
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF && t.kind != tErr {
		p.pos++
	}
	return t
}

// fail returns a *SyntaxError at t, or t's own error when t is a
// lexical error.
func (p *parser) fail(t token, expected string, reason error) error {
	if t.kind == tErr {
		return t.err
	}
	return &SyntaxError{Input: p.in, Col: column(p.in, t.off), Found: t.text, Expected: expected, Err: reason}
}

func isWord(t token, w string) bool { return t.kind == tWord && strings.EqualFold(t.val, w) }

func (p *parser) isOr(t token) bool  { return t.kind == tOr || isWord(t, "or") }
func (p *parser) isAnd(t token) bool { return t.kind == tAnd || isWord(t, "and") }

// afterPrimary explains token t, found where "and", "or", the end or
// (when open >= 0, the offset of the "(") a ")" was expected.
func (p *parser) afterPrimary(t token, open int) error {
	end := "end of filter"
	if open >= 0 {
		end = `")"`
	}
	switch t.kind {
	case tEOF:
		return p.fail(t, fmt.Sprintf(`"and", "or" or ")" to close the "(" at column %d`, column(p.in, open)), ErrParen)
	case tRParen:
		return p.fail(t, `"and", "or" or end of filter (this ")" closes no "(")`, ErrParen)
	case tWord, tString, tLParen, tNot:
		return p.fail(t, `"and" or "or" between primitives, or `+end, ErrImplicitAnd)
	}
	return p.fail(t, `"and", "or" or `+end, ErrSyntax)
}

// or reads terms joined by "or"; after is the token before it, for
// messages.
func (p *parser) or(after string) (Expr, error) {
	x, err := p.and(after)
	if err != nil || !p.isOr(p.peek()) {
		return x, err
	}
	terms := flatten(nil, x, false)
	for p.isOr(p.peek()) {
		op := p.next()
		y, err := p.and(op.text)
		if err != nil {
			return nil, err
		}
		terms = flatten(terms, y, false)
	}
	return &Or{Terms: terms}, nil
}

// and reads unary terms joined by "and"; after is the operator before
// it, for messages.
func (p *parser) and(after string) (Expr, error) {
	x, err := p.unary(after)
	if err != nil || !p.isAnd(p.peek()) {
		return x, err
	}
	terms := flatten(nil, x, true)
	for p.isAnd(p.peek()) {
		op := p.next()
		y, err := p.unary(op.text)
		if err != nil {
			return nil, err
		}
		terms = flatten(terms, y, true)
	}
	return &And{Terms: terms}, nil
}

// flatten appends x to terms, or x's terms when x is an And (isAnd) or
// an Or (!isAnd) itself: the tree of "a and (b and c)" is that of
// "a and b and c".
func flatten(terms []Expr, x Expr, isAnd bool) []Expr {
	switch y := x.(type) {
	case *And:
		if isAnd {
			return append(terms, y.Terms...)
		}
	case *Or:
		if !isAnd {
			return append(terms, y.Terms...)
		}
	}
	return append(terms, x)
}

const primitiveHint = `a primitive (such as "ip 10.0.0.4", "port 443", "proto tcp", "deny") or "("`

// unary reads "not X", "(X)" or a primitive; after is the operator
// before it, for messages.
func (p *parser) unary(after string) (Expr, error) {
	t := p.peek()
	switch {
	case t.kind == tNot || isWord(t, "not"):
		if p.depth >= MaxDepth {
			return nil, p.fail(t, fmt.Sprintf("at most %d nested parentheses and nots", MaxDepth), ErrTooDeep)
		}
		p.next()
		p.depth++
		x, err := p.unary(t.text)
		p.depth--
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	case t.kind == tLParen:
		if p.depth >= MaxDepth {
			return nil, p.fail(t, fmt.Sprintf("at most %d nested parentheses and nots", MaxDepth), ErrTooDeep)
		}
		p.next()
		p.depth++
		x, err := p.or(t.text)
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tRParen {
			return nil, p.afterPrimary(c, t.off)
		}
		p.next()
		return x, nil
	case t.kind == tWord && !isWord(t, "and") && !isWord(t, "or"):
		return p.primitive()
	}
	want := primitiveHint
	if after != "" {
		want += " after " + strconv.Quote(after)
	}
	reason := ErrSyntax
	if t.kind == tRParen {
		reason = ErrParen
	}
	return nil, p.fail(t, want, reason)
}

// value reads the token after keyword kw: a word other than and, or,
// not, or a quoted string.
func (p *parser) value(kw token, what string, reason error) (token, error) {
	t := p.peek()
	if t.kind == tString || t.kind == tWord && !isOperatorWord(t.val) {
		return p.next(), nil
	}
	return t, p.fail(t, what+" after "+strconv.Quote(kw.text), reason)
}

// failAt is fail for a value token already read, with a message naming
// the keyword it follows and maybe a hint.
func (p *parser) failAt(t, kw token, what string, reason error, hint ...string) error {
	what += " after " + strconv.Quote(kw.text)
	for _, h := range hint {
		if h != "" {
			what += " (" + h + ")"
		}
	}
	return p.fail(t, what, reason)
}

// joined returns a token standing for "kw op" in messages.
func joined(kw, op token) token {
	op.text = kw.text + " " + op.text
	return op
}

var counterFields = map[string]Field{
	"bytes": FieldBytes, "packets": FieldPackets,
	"bytes_out": FieldBytesOut, "bytes_in": FieldBytesIn,
	"packets_out": FieldPacketsOut, "packets_in": FieldPacketsIn,
}

func (p *parser) primitive() (Expr, error) {
	kw := p.next()
	name := strings.ToLower(kw.val)
	switch name {
	case "src", "dst":
		side := Src
		if name == "dst" {
			side = Dst
		}
		return p.sided(kw, side)
	case "ip", "host", "net":
		return p.address(kw, Either)
	case "port":
		return p.port(kw, Either)
	case "proto":
		return p.proto(kw)
	case "tcp":
		return &Enum{Field: FieldProtocol, Value: 6}, nil
	case "udp":
		return &Enum{Field: FieldProtocol, Value: 17}, nil
	case "icmp":
		return &Enum{Field: FieldProtocol, Value: 1}, nil
	case "in":
		return &Enum{Field: FieldDirection, Value: uint8(columnar.DirectionIn)}, nil
	case "out":
		return &Enum{Field: FieldDirection, Value: uint8(columnar.DirectionOut)}, nil
	case "allow":
		return &Enum{Field: FieldDecision, Value: uint8(columnar.DecisionAllow)}, nil
	case "deny":
		return &Enum{Field: FieldDecision, Value: uint8(columnar.DecisionDeny)}, nil
	case "direction", "decision", "state", "source":
		return p.enum(kw, name)
	case "rule", "nsg", "resource":
		return p.name(kw, name)
	case "mac":
		return p.mac(kw)
	case "time":
		return p.time(kw)
	case "since", "after", "before":
		return p.relative(kw, name)
	}
	if f, ok := counterFields[name]; ok {
		return p.counter(kw, f)
	}
	return nil, p.fail(kw, primitiveHint, ErrSyntax)
}

// sided reads what follows "src" or "dst": ip, host, net, port, or an
// address or network directly.
func (p *parser) sided(kw token, side Side) (Expr, error) {
	t := p.peek()
	if t.kind == tWord {
		switch strings.ToLower(t.val) {
		case "ip", "host", "net":
			return p.address(p.next(), side)
		case "port":
			return p.port(p.next(), side)
		}
		if pf, problem, hint := parsePrefix(t.val); problem == "" {
			p.next()
			return &IP{Side: side, Prefix: pf}, nil
		} else if problem != badAddress {
			return nil, p.failAt(t, kw, problem, ErrAddress, hint)
		}
	}
	return nil, p.fail(t, `"ip", "net", "port" or an address after `+strconv.Quote(kw.text), ErrSyntax)
}

const badAddress = "an IP address"

// parsePrefix reads an address (as a one-address prefix) or a network.
// On failure it returns what was expected instead, and maybe a hint.
func parsePrefix(s string) (pf netip.Prefix, problem, hint string) {
	if strings.IndexByte(s, '/') >= 0 {
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, badAddress, ""
		}
		if m := pf.Masked(); m != pf {
			return netip.Prefix{}, "a network with no host bits set", "did you mean " + m.String() + "?"
		}
		return pf, "", ""
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, badAddress, ""
	}
	if a.Zone() != "" {
		return netip.Prefix{}, "an IP address without a zone", ""
	}
	return netip.PrefixFrom(a, a.BitLen()), "", ""
}

func (p *parser) address(kw token, side Side) (Expr, error) {
	what := "an IP address or network (such as 10.0.0.4, 10.0.0.0/8 or 2001:db8::/32)"
	if strings.EqualFold(kw.val, "net") {
		what = "a network (such as 10.0.0.0/8 or 2001:db8::/32)"
	}
	t, err := p.value(kw, what, ErrAddress)
	if err != nil {
		return nil, err
	}
	pf, problem, hint := parsePrefix(t.val)
	if problem == badAddress {
		problem = what
	}
	if problem != "" {
		return nil, p.failAt(t, kw, problem, ErrAddress, hint)
	}
	return &IP{Side: side, Prefix: pf}, nil
}

func (p *parser) port(kw token, side Side) (Expr, error) {
	const what = "a port number or range"
	t, err := p.value(kw, what, ErrPort)
	if err != nil {
		return nil, err
	}
	lo, hi, ok := strings.Cut(t.val, "-")
	if !ok {
		hi = lo
	}
	l, okl := parsePort(lo)
	h, okh := parsePort(hi)
	switch {
	case !okl || !okh:
		if allDigits(lo) && allDigits(hi) {
			return nil, p.failAt(t, kw, "a port number from 0 to 65535 or a range", ErrPort)
		}
		return nil, p.failAt(t, kw, what, ErrPort)
	case l > h:
		return nil, p.failAt(t, kw, "a port range from low to high", ErrPort)
	}
	return &Port{Side: side, Lo: l, Hi: h}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func parsePort(s string) (uint16, bool) {
	if !allDigits(s) || len(s) > 5 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > math.MaxUint16 {
		return 0, false
	}
	return uint16(n), true
}

func (p *parser) proto(kw token) (Expr, error) {
	const what = "a protocol name (tcp, udp, icmp, gre, esp, ...) or number from 0 to 255"
	t, err := p.value(kw, what, ErrProto)
	if err != nil {
		return nil, err
	}
	v := strings.ToLower(t.val)
	if allDigits(v) {
		if n, err := strconv.Atoi(v); err == nil && n <= 255 && len(v) <= 3 {
			return &Enum{Field: FieldProtocol, Value: uint8(n)}, nil
		}
		return nil, p.failAt(t, kw, what, ErrProto)
	}
	if v == "icmp6" {
		v = "icmpv6"
	}
	for n := range 256 {
		if columnar.ProtocolName(int32(n)) == v {
			return &Enum{Field: FieldProtocol, Value: uint8(n)}, nil
		}
	}
	return nil, p.failAt(t, kw, what, ErrProto)
}

// enum reads the value after direction, decision, state or source.
func (p *parser) enum(kw token, name string) (Expr, error) {
	var (
		field  Field
		what   string
		values []string // by code; "" is not a value
	)
	switch name {
	case "direction":
		field, what = FieldDirection, `"in" or "out"`
		values = []string{int(columnar.DirectionIn): "in", int(columnar.DirectionOut): "out"}
	case "decision":
		field, what = FieldDecision, `"allow" or "deny"`
		values = []string{int(columnar.DecisionAllow): "allow", int(columnar.DecisionDeny): "deny"}
	case "state":
		field, what = FieldState, "a flow state: B (begin), C (continuing), E (end) or D (denied)"
	case "source":
		field, what = FieldSource, "a source: nsg-v1, nsg-v2, vnet or pcap"
		for s := range columnar.SourcePcap + 1 {
			values = append(values, s.String()) // "" for SourceUnknown
		}
	}
	t, err := p.value(kw, what, ErrValue)
	if err != nil {
		return nil, err
	}
	if field == FieldState {
		if len(t.val) == 1 {
			switch c := t.val[0] &^ 0x20; c { // upper case
			case 'B', 'C', 'E', 'D':
				return &Enum{Field: field, Value: c}, nil
			}
		}
		return nil, p.failAt(t, kw, what, ErrValue)
	}
	for code, v := range values {
		if v != "" && strings.EqualFold(v, t.val) {
			return &Enum{Field: field, Value: uint8(code)}, nil
		}
	}
	return nil, p.failAt(t, kw, what, ErrValue)
}

func (p *parser) name(kw token, name string) (Expr, error) {
	field, what := FieldRule, "a rule name (* matches any characters)"
	if name != "rule" {
		field, what = FieldResourceID, "an NSG name or resource id (* matches any characters)"
	}
	t, err := p.value(kw, what, ErrValue)
	if err != nil {
		return nil, err
	}
	if t.val == "" {
		return nil, p.failAt(t, kw, what, ErrValue)
	}
	return &Text{Field: field, Pattern: t.val}, nil
}

func (p *parser) mac(kw token) (Expr, error) {
	const what = "a MAC address (such as 00-0D-3A-0A-F5-19 or 00:0d:3a:0a:f5:19)"
	t, err := p.value(kw, what, ErrValue)
	if err != nil {
		return nil, err
	}
	m, ok := normMAC(t.val)
	if !ok {
		return nil, p.failAt(t, kw, what, ErrValue)
	}
	return &Text{Field: FieldMAC, Pattern: m}, nil
}

// normMAC returns a MAC address as flowlog stores it: 12 upper-case hex
// digits, without the separators "-", ":" and ".".
func normMAC(s string) (string, bool) {
	var b [12]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ':' || c == '.':
			continue
		case '0' <= c && c <= '9', 'A' <= c && c <= 'F':
		case 'a' <= c && c <= 'f':
			c -= 'a' - 'A'
		default:
			return "", false
		}
		if n == len(b) {
			return "", false
		}
		b[n] = c
		n++
	}
	if n != len(b) {
		return "", false
	}
	return string(b[:]), true
}

const opHint = "a comparison (=, !=, <, <=, >, >=)"

func (p *parser) counter(kw token, f Field) (Expr, error) {
	op := p.peek()
	if op.kind != tCmp {
		return nil, p.failAt(op, kw, opHint, ErrOperator)
	}
	p.next()
	const what = "a count (such as 1500, 10K, 1.5M or 2GiB)"
	t, err := p.value(joined(kw, op), what, ErrNumber)
	if err != nil {
		return nil, err
	}
	n, problem := parseCount(t.val)
	if problem != "" {
		return nil, p.failAt(t, joined(kw, op), problem, ErrNumber)
	}
	return &Counter{Field: f, Op: op.op, Value: n}, nil
}

// Count suffixes: K, M, G, T (and KB, ...) are powers of 1000; Ki, Mi,
// Gi, Ti (and KiB, ...) are powers of 1024.
var countMult = map[string]int64{
	"":  1,
	"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30, "ti": 1 << 40,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseCount reads a non-negative count with an optional fraction and
// suffix; the result must be a whole number that fits in an int64. On
// failure it returns what was expected instead.
func parseCount(s string) (int64, string) {
	const what = "a count (such as 1500, 10K, 1.5M or 2GiB)"
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, suffix := s[:i], strings.ToLower(s[i:])
	mult, ok := countMult[suffix]
	whole, frac, _ := strings.Cut(num, ".")
	if !ok || !allDigits(whole) || strings.Contains(frac, ".") || strings.HasSuffix(num, ".") ||
		frac != "" && !allDigits(frac) || len(num) > 40 {
		return 0, what
	}
	var n, scale big.Int
	n.SetString(whole+frac, 10)
	n.Mul(&n, big.NewInt(mult))
	scale.Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
	var rem big.Int
	n.QuoRem(&n, &scale, &rem)
	if rem.Sign() != 0 {
		return 0, "a count that is a whole number"
	}
	if !n.IsInt64() {
		return 0, "a count below 2^63"
	}
	return n.Int64(), ""
}

// Times Parse accepts and prints: years 0000 to 9999, as RFC 3339 can
// write them.
var (
	minTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

const timeHint = "a time (such as 2024-05-01T13:00Z, 2024-05-01T13:00:05.25+02:00 or 2024-05-01)"

func (p *parser) time(kw token) (Expr, error) {
	op := p.peek()
	if op.kind != tCmp {
		return nil, p.failAt(op, kw, opHint, ErrOperator)
	}
	p.next()
	t, err := p.value(joined(kw, op), timeHint, ErrTime)
	if err != nil {
		return nil, err
	}
	at, problem := parseTime(t.val)
	if problem != "" {
		return nil, p.failAt(t, joined(kw, op), problem, ErrTime)
	}
	return &Time{Op: op.op, At: at}, nil
}

var timeLayouts = []string{
	"2006-01-02",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05Z07:00", // with or without a fraction
	"2006-01-02T15:04",
	"2006-01-02T15:04:05",
}

// parseTime reads an RFC 3339 time, seconds optional, or a date (its
// midnight); without a zone it is UTC. It returns Unix microseconds, or
// what was expected instead.
func parseTime(s string) (int64, string) {
	u := strings.ToUpper(s)
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, u)
		if err != nil {
			continue
		}
		if t.Nanosecond()%1000 != 0 {
			return 0, "a time with at most microsecond precision"
		}
		at := t.UnixMicro()
		if at < minTime || at > maxTime {
			return 0, "a time from year 0000 to 9999 in UTC"
		}
		return at, ""
	}
	return 0, timeHint
}

const durationHint = "a duration (such as 24h, 7d, 1h30m) or " + timeHint

// relative reads since, after and before, with a duration back from Now
// or an absolute time: since and after mean time >= T, before means
// time < T.
func (p *parser) relative(kw token, name string) (Expr, error) {
	t, err := p.value(kw, durationHint, ErrTime)
	if err != nil {
		return nil, err
	}
	op := Ge
	if name == "before" {
		op = Lt
	}
	if secs, ok := parseDuration(t.val); ok {
		if p.now.IsZero() {
			return nil, p.failAt(t, kw, "an absolute time (relative times need Options.Now)", ErrNoNow)
		}
		now := p.now.UnixMicro()
		if now < minTime || now > maxTime {
			return nil, p.failAt(t, kw, "Options.Now from year 0000 to 9999", ErrTime)
		}
		at := now - secs*1e6
		if at < minTime {
			return nil, p.failAt(t, kw, "a duration that ends after year 0000", ErrTime)
		}
		return &Time{Op: op, At: at}, nil
	}
	at, problem := parseTime(t.val)
	if problem == timeHint {
		problem = durationHint
	}
	if problem != "" {
		return nil, p.failAt(t, kw, problem, ErrTime)
	}
	return &Time{Op: op, At: at}, nil
}

var durationUnits = map[byte]int64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 7 * 86400}

// parseDuration reads a sequence of whole numbers with units s, m, h, d,
// w ("1d12h") and returns it in seconds.
func parseDuration(s string) (int64, bool) {
	var total int64
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 || i == len(s) {
			return 0, false
		}
		n, _ := strconv.ParseInt(s[:i], 10, 64)
		unit, ok := durationUnits[lower(s[i])]
		if !ok {
			return 0, false
		}
		total += n * unit
		if total > 1<<40 {
			return 0, false
		}
		s = s[i+1:]
	}
	return total, true
}
