package filter

import (
	"strconv"
	"strings"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tWord           // a run of characters that are not blanks or delimiters
	tString         // "..." with Go escapes
	tLParen         // (
	tRParen         // )
	tNot            // !
	tAnd            // &&
	tOr             // ||
	tCmp            // = == != < <= > >=
	tErr            // a lexical error; err says which
)

type token struct {
	kind tokKind
	off  int    // byte offset in the input
	text string // as written
	val  string // the value: text, unquoted for tString
	op   Op     // for tCmp
	err  *SyntaxError
}

// isDelim reports whether c ends a word.
func isDelim(c byte) bool {
	switch c {
	case '(', ')', '!', '&', '|', '<', '>', '=', '"':
		return true
	}
	return false
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// lex splits s into tokens, ending with tEOF, or with tErr at the first
// lexical error (the parser reports it when it gets there, so an earlier
// syntax error wins).
func lex(s string) []token {
	toks := make([]token, 0, len(s)/4+1) // words are about 4 bytes with a blank

	i := 0
	for {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
		if i == len(s) {
			return append(toks, token{kind: tEOF, off: i})
		}
		start := i
		tok := token{off: start}
		switch c := s[i]; c {
		case '(':
			tok.kind, i = tLParen, i+1
		case ')':
			tok.kind, i = tRParen, i+1
		case '&', '|':
			if i+1 < len(s) && s[i+1] == c {
				tok.kind, i = tAnd, i+2
				if c == '|' {
					tok.kind = tOr
				}
				break
			}
			want := `"&&" or "and"`
			if c == '|' {
				want = `"||" or "or"`
			}
			return append(toks, errToken(s, start, s[i:i+1], want, ErrSyntax))
		case '!':
			if i+1 < len(s) && s[i+1] == '=' {
				tok.kind, tok.op, i = tCmp, Ne, i+2
				break
			}
			tok.kind, i = tNot, i+1
		case '=':
			tok.kind, tok.op, i = tCmp, Eq, i+1
			if i < len(s) && s[i] == '=' {
				i++
			}
		case '<', '>':
			tok.kind, i = tCmp, i+1
			tok.op = Lt
			if c == '>' {
				tok.op = Gt
			}
			if i < len(s) && s[i] == '=' {
				tok.op++ // Lt→Le, Gt→Ge
				i++
			}
		case '"':
			end, ok := scanString(s, i)
			if !ok {
				return append(toks, errToken(s, start, s[start:], `a closing '"'`, ErrString))
			}
			v, err := strconv.Unquote(s[start:end])
			if err != nil {
				return append(toks, errToken(s, start, s[start:end], `a quoted string with Go escapes (\" \\ \t \xFF \u00e9)`, ErrString))
			}
			tok.kind, tok.val, i = tString, v, end
		default:
			for i < len(s) && !isBlank(s[i]) && !isDelim(s[i]) {
				i++
			}
			tok.kind = tWord
			tok.val = s[start:i]
		}
		tok.text = s[start:i]
		toks = append(toks, tok)
	}
}

// scanString returns the end of the quoted string that starts at s[i].
func scanString(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

func errToken(s string, off int, found, expected string, reason error) token {
	return token{kind: tErr, off: off, text: found, err: &SyntaxError{
		Input: s, Col: column(s, off), Found: found, Expected: expected, Err: reason,
	}}
}

// isOperatorWord reports whether s is "and", "or" or "not" in any case:
// words a name cannot be unless quoted.
func isOperatorWord(s string) bool {
	return strings.EqualFold(s, "and") || strings.EqualFold(s, "or") || strings.EqualFold(s, "not")
}
