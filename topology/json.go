package topology

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeAll reads every JSON value of data (a file may hold several,
// one after the other). Numbers stay json.Number. Byte order marks are
// dropped and UTF-16 (what Windows PowerShell's Out-File writes) is
// turned into UTF-8 first.
func decodeAll(file string, data []byte) ([]any, error) {
	data = toUTF8(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var vals []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			off := dec.InputOffset()
			var se *json.SyntaxError
			switch {
			case errors.As(err, &se):
				// Offset counts the bytes read, the bad one included.
				off = max(se.Offset-1, 0)
			case errors.Is(err, io.ErrUnexpectedEOF):
				off = int64(len(data))
			}
			off = min(off, int64(len(data)))
			line, col := lineCol(data[:off])
			return nil, &SyntaxError{File: file, Offset: off, Line: line, Column: col, Err: err}
		}
		vals = append(vals, v)
	}
	if len(vals) == 0 {
		return nil, &SyntaxError{File: file, Offset: int64(len(data)), Line: 1, Column: 1, Err: errors.New("no JSON value (empty file)")}
	}
	return vals, nil
}

// lineCol returns the 1-based line and column (in bytes) just after b.
func lineCol(b []byte) (line, col int) {
	line = 1 + bytes.Count(b, []byte{'\n'})
	col = 1 + len(b) - (bytes.LastIndexByte(b, '\n') + 1)
	return line, col
}

func toUTF8(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return utf16ToUTF8(b[2:], false)
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return utf16ToUTF8(b[2:], true)
	}
	return b
}

func utf16ToUTF8(b []byte, bigEndian bool) []byte {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	out := make([]byte, 0, len(u))
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return out
}

// lookup finds key in m ignoring case; an exact match wins.
func lookup(m map[string]any, key string) (k string, v any, ok bool) {
	if v, ok := m[key]; ok {
		return key, v, true
	}
	for mk, mv := range m {
		if strings.EqualFold(mk, key) {
			// Several keys differing only in case: pick the smallest for a
			// deterministic result.
			if !ok || mk < k {
				k, v, ok = mk, mv, true
			}
		}
	}
	return k, v, ok
}

// sortedKeys returns m's keys in order, so that walks are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// isEmpty reports whether v is null, [] or {} — all of which mean "no
// value" in the exports.
func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

// Paths.

func pathKey(base, key string) string {
	if isIdent(key) {
		return base + "." + key
	}
	return base + "[" + strconv.Quote(key) + "]"
}

func pathIdx(base string, i int) string { return base + "[" + strconv.Itoa(i) + "]" }

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && c != '_' && c != '$' && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// val is a JSON value with the place it came from.
type val struct {
	v    any
	file string
	path string
}

func (x val) ok() bool { return !isEmpty(x.v) }

// get descends into x by keys, ignoring case. At each step a key missing
// from an object is also looked up under the object's "properties", so
// REST bodies and flattened CLI output read alike.
func (x val) get(keys ...string) val {
	for _, key := range keys {
		m, ok := x.v.(map[string]any)
		if !ok {
			return val{file: x.file, path: pathKey(x.path, key)}
		}
		if k, v, ok := lookup(m, key); ok && !isEmpty(v) {
			x = val{v: v, file: x.file, path: pathKey(x.path, k)}
			continue
		}
		if pk, p, ok := lookup(m, "properties"); ok {
			if pm, ok := p.(map[string]any); ok {
				if k, v, ok := lookup(pm, key); ok {
					x = val{v: v, file: x.file, path: pathKey(pathKey(x.path, pk), k)}
					continue
				}
			}
		}
		return val{file: x.file, path: pathKey(x.path, key)}
	}
	return x
}

// elems returns the elements of an array; a single non-array value is a
// one-element list (PowerShell and hand-written exports do both).
func (x val) elems() []val {
	switch t := x.v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]val, 0, len(t))
		for i, e := range t {
			out = append(out, val{v: e, file: x.file, path: pathIdx(x.path, i)})
		}
		return out
	}
	return []val{x}
}

// scalar returns the text of a string, number or bool, and whether x was
// one. A one-element array of one counts (PowerShell).
func (x val) scalar() (string, bool) {
	switch t := x.v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	case []any:
		if len(t) == 1 {
			return val{v: t[0]}.scalar()
		}
	}
	return "", false
}
