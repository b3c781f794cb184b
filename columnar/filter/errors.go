package filter

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Reasons a filter does not parse. A *SyntaxError wraps one of them, so
// that errors.Is(err, filter.ErrPort) works.
var (
	ErrSyntax      = errors.New("syntax error")                           // a token that cannot stand there
	ErrEmpty       = errors.New("empty filter")                           // nothing but blanks
	ErrImplicitAnd = errors.New("primitives must be joined by and or or") // "port 22 deny"
	ErrParen       = errors.New("unbalanced parentheses")                 // a missing "(" or ")"
	ErrTooDeep     = errors.New("too deeply nested")                      // more than MaxDepth "(" and "not"
	ErrString      = errors.New("bad quoted string")                      // unterminated, or a bad escape
	ErrAddress     = errors.New("bad address or network")                 // IP, CIDR, host bits set, zone
	ErrPort        = errors.New("bad port or port range")                 // not 0-65535, low > high
	ErrProto       = errors.New("bad protocol")                           // unknown name, not 0-255
	ErrValue       = errors.New("bad value")                              // direction, decision, state, source, MAC, name
	ErrNumber      = errors.New("bad number")                             // counter value, suffix, overflow
	ErrTime        = errors.New("bad time or duration")                   // not RFC 3339, out of range
	ErrNoNow       = errors.New("relative time without Options.Now")      // "since 24h" with a zero Now
	ErrOperator    = errors.New("missing comparison operator")            // "bytes 10"
	ErrTooLong     = errors.New("filter too long")                        // longer than MaxLen
)

// errBug is the reason when Parse recovers from a panic: a bug, the
// backstop behind "never panics".
var errBug = errors.New("BUG: filter parser panicked; please report")

// SyntaxError is the error Parse returns for a filter it cannot read. It
// names the column of the problem, what was found there and what would
// have been valid.
//
// Error reads like
//
//	filter:11: expected a port number or range after "port", found "https"
//
// and Caret returns the filter with a marker under the problem, for a
// terminal.
type SyntaxError struct {
	Input    string // the whole filter
	Col      int    // 1-based column, in characters, of the problem
	Found    string // the token found there; "" at the end of the filter
	Expected string // what would have been valid there, as a phrase
	Err      error  // the reason: one of the Err* variables of this package
}

func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString("filter:")
	b.WriteString(strconv.Itoa(e.Col))
	b.WriteString(": expected ")
	b.WriteString(e.Expected)
	b.WriteString(", found ")
	b.WriteString(quoteFound(e.Found))
	return b.String()
}

// Unwrap returns the reason, so that errors.Is sees it.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Caret returns two lines: the filter, and a marker under the token
// found at Col, as
//
//	src port https
//	         ^~~~~
//
// Tabs before the column are kept so that the marker lines up.
func (e *SyntaxError) Caret() string {
	var b strings.Builder
	line := strings.NewReplacer("\n", " ", "\r", " ").Replace(e.Input)
	b.WriteString(line)
	b.WriteByte('\n')
	col := 1
	for _, r := range line {
		if col >= e.Col {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		col++
	}
	b.WriteByte('^')
	for n := utf8.RuneCountInString(e.Found); n > 1; n-- {
		b.WriteByte('~')
	}
	return b.String()
}

// quoteFound quotes a token for a message; a quoted string is shown as
// written.
func quoteFound(s string) string {
	if s == "" {
		return "end of filter"
	}
	if s[0] == '"' {
		return s
	}
	return strconv.Quote(s)
}

// column returns the 1-based character column of byte offset off in s.
func column(s string, off int) int {
	if off > len(s) {
		off = len(s)
	}
	return utf8.RuneCountInString(s[:off]) + 1
}
