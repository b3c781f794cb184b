package flowlog

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"strconv"
)

// Scanner splits a flow log stream into records without loading it whole.
// It accepts every shape flow logs come in:
//
//   - a whole blob, {"records":[{...},{...}]}, pretty-printed or not;
//   - an appended block: ",{...}" (the leading comma of an append, a BOM);
//   - newline-delimited bare records, or records concatenated;
//   - a bare JSON array of records.
//
// It finds record boundaries by brace matching on bytes; decoding a record
// is Decoder's job. Memory is the largest record plus a read buffer.
//
// The slice Next returns is valid until the next call to Next.
type Scanner struct {
	r     io.Reader
	buf   []byte
	pos   int   // next unconsumed byte
	end   int   // end of valid bytes
	base  int64 // stream offset of buf[0]
	eof   bool
	state scanState
	wrap  bool // the current array is a {"records":[...]} wrapper's

	// MaxRecord bounds the size of one record; larger ones end the scan
	// with ErrTooLarge.
	MaxRecord int

	crc       uint32 // CRC-32C of the stream before buf[hashed]
	endCRC    uint32 // CRC-32C of the stream before recordEnd
	hashed    int    // buf index up to which crc covers
	trailing  bool   // the last record had a trailing comma before } or ]
	recordEnd int64

	// The record last returned, not yet accepted: Resync may still
	// reject it. Buffer indices.
	pending            bool
	lastStart, lastEnd int
	endMode            string // mode at recordEnd
}

type scanState uint8

const (
	stStart scanState = iota
	stTop
	stArray
	stAfterArray
	stDone
)

// Resume modes recorded in the manifest: where the scanner stood after the
// last record it returned.
const (
	ModeTop        = "top"
	ModeWrapped    = "records"
	ModeBareArray  = "array"
	defaultMaxRec  = 64 << 20
	initialBufSize = 256 << 10
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// NewScanner returns a scanner reading r from the start of a stream.
func NewScanner(r io.Reader) *Scanner {
	return &Scanner{r: r, buf: make([]byte, initialBufSize), MaxRecord: defaultMaxRec, endMode: ModeTop}
}

// ResumeScanner returns a scanner continuing a stream at offset, where an
// earlier scanner stood after a record in the given mode (Mode), with crc
// the CRC-32C of the stream's bytes before offset. r must be positioned at
// offset.
func ResumeScanner(r io.Reader, offset int64, mode string, crc uint32) *Scanner {
	s := NewScanner(r)
	s.base = offset
	s.crc, s.endCRC = crc, crc
	s.recordEnd = offset
	switch mode {
	case ModeWrapped:
		s.state, s.wrap = stArray, true
	case ModeBareArray:
		s.state = stArray
	default:
		s.state = stTop
	}
	s.endMode = s.curMode()
	return s
}

// Mode reports the mode of the resume point End returns, for
// ResumeScanner.
func (s *Scanner) Mode() string {
	s.accept()
	return s.endMode
}

// curMode is the mode of the scanner's current position.
func (s *Scanner) curMode() string {
	switch {
	case s.state == stArray && s.wrap:
		return ModeWrapped
	case s.state == stArray:
		return ModeBareArray
	}
	return ModeTop
}

// End returns the stream offset just past the last record returned, and the
// CRC-32C of the stream's bytes before it.
func (s *Scanner) End() (offset int64, crc uint32) {
	s.accept()
	return s.recordEnd, s.endCRC
}

// Done reports whether the scan has ended: at the end of the input, or
// after an error it cannot recover from.
func (s *Scanner) Done() bool { return s.state == stDone }

// accept marks the last record returned as consumed.
func (s *Scanner) accept() {
	if !s.pending {
		return
	}
	s.pending = false
	s.crc = crc32.Update(s.crc, crcTable, s.buf[s.hashed:s.lastEnd])
	s.hashed = s.lastEnd
	s.recordEnd = s.base + int64(s.lastEnd)
	s.endCRC = s.crc
	s.endMode = s.curMode()
}

// skipTo consumes the input up to buffer index i, which becomes the
// resume point.
func (s *Scanner) skipTo(i int) {
	s.hashTo(i)
	s.recordEnd = s.base + int64(i)
	s.endCRC = s.crc
	s.pos = i
	s.endMode = s.curMode()
}

// hashTo adds the bytes before buffer index i to the running CRC, so that
// the buffer need not keep them.
func (s *Scanner) hashTo(i int) {
	if i > s.hashed {
		s.crc = crc32.Update(s.crc, crcTable, s.buf[s.hashed:i])
		s.hashed = i
	}
}

// Resync rejects the record last returned, which its decoder found
// malformed, and moves to the first record start inside it, if any: a
// broken record (an unbalanced quote, say) can swallow the records after
// it. It reports whether it found one; if not, the scan goes on after the
// rejected record.
func (s *Scanner) Resync() bool {
	if !s.pending {
		return false
	}
	i := findRecordStart(s.buf[:s.lastEnd], s.lastStart+1)
	if i < 0 {
		return false
	}
	s.pending = false
	s.skipTo(i)
	return true
}

// recordKeys are keys that only a flow log record (not an object nested
// in one) has; a record that starts with one of them can be found again
// after damage.
var recordKeys = []string{"time", "category", "systemId", "macAddress", "resourceId", "operationName",
	"flowLogGUID", "flowLogVersion", "flowLogResourceID", "targetResourceID"}

// findRecordStart returns the index of the first '{' at or after from
// that opens a record: preceded by ',' '[' or '}' and followed by one of
// recordKeys. It returns -1 if there is none.
func findRecordStart(b []byte, from int) int {
	for from < len(b) {
		i := bytes.IndexByte(b[from:], '{')
		if i < 0 {
			return -1
		}
		i += from
		from = i + 1
		p := i - 1
		for p >= 0 && isSpace(b[p]) {
			p--
		}
		if p >= 0 && b[p] != ',' && b[p] != '[' && b[p] != '}' {
			continue
		}
		k := i + 1
		for k < len(b) && isSpace(b[k]) {
			k++
		}
		if k >= len(b) || b[k] != '"' {
			continue
		}
		rest := b[k+1:]
		for _, key := range recordKeys {
			if len(rest) > len(key) && rest[len(key)] == '"' && bytes.EqualFold(rest[:len(key)], []byte(key)) {
				return i
			}
		}
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// HadTrailingComma reports whether the last record held a comma right
// before a closing brace or bracket (invalid JSON that some tools write).
func (s *Scanner) HadTrailingComma() bool { return s.trailing }

// fill reads more input, keeping buf[keep:]. It returns false at EOF or on
// a read error (kept in s.err via eof).
func (s *Scanner) fill(keep int) (shift int, err error) {
	if s.eof {
		return 0, io.EOF
	}
	if keep > s.hashed {
		keep = s.hashed
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:s.end])
		s.base += int64(keep)
		s.pos -= keep
		s.hashed -= keep
		s.lastStart -= keep
		s.lastEnd -= keep
		s.end = n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.MaxRecord+initialBufSize {
			return keep, ErrTooLarge
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, rerr := s.r.Read(s.buf[s.end:])
		s.end += n
		if rerr != nil {
			s.eof = true
			if !errors.Is(rerr, io.EOF) {
				return keep, &Error{Offset: s.base + int64(s.end), Record: -1, Tuple: -1, Field: -1, Msg: rerr.Error(), Err: ErrRead}
			}
			if n == 0 {
				return keep, io.EOF
			}
			return keep, nil
		}
		if n > 0 {
			return keep, nil
		}
	}
}

func (s *Scanner) errAt(off int, reason error, msg string) error {
	s.state = stDone
	return &Error{Offset: s.base + int64(off), Record: -1, Tuple: -1, Field: -1, Msg: msg, Err: reason}
}

// skipSpace moves pos past whitespace, BOMs and (when commas) commas. It
// returns false at the end of the input.
func (s *Scanner) skipSpace(commas bool) (bool, error) {
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			case ',':
				if !commas {
					return true, nil
				}
				s.pos++
			case 0xEF:
				if s.pos+3 <= s.end {
					if s.buf[s.pos+1] == 0xBB && s.buf[s.pos+2] == 0xBF {
						s.pos += 3
						continue
					}
					return true, nil
				}
				goto more
			default:
				return true, nil
			}
		}
	more:
		if !s.pending {
			s.hashTo(s.pos) // blanks between records need not stay buffered
		}
		if _, err := s.fill(s.pos); err != nil {
			if errors.Is(err, io.EOF) {
				return s.pos < s.end, nil
			}
			return false, err
		}
	}
}

// Next returns the next record's bytes and its offset in the stream. It
// returns io.EOF at the end; a structural error ends the scan.
func (s *Scanner) Next() ([]byte, int64, error) {
	s.accept()
	for {
		switch s.state {
		case stDone:
			return nil, 0, io.EOF
		case stStart, stTop:
			s.state = stTop
			ok, err := s.skipSpace(true)
			if err != nil {
				s.state = stDone
				return nil, 0, err
			}
			if !ok {
				s.state = stDone
				return nil, 0, io.EOF
			}
			switch s.buf[s.pos] {
			case '[':
				s.pos++
				s.state, s.wrap = stArray, false
				continue
			case '{':
				wrapped, err := s.openWrapper()
				if err != nil {
					return nil, 0, err
				}
				if wrapped {
					continue
				}
				return s.record()
			default:
				return nil, 0, s.errAt(s.pos, ErrBadJSON, "expected a record or {\"records\": [...]}, found "+quoteByte(s.buf[s.pos]))
			}
		case stArray:
			ok, err := s.skipSpace(true)
			if err != nil {
				s.state = stDone
				return nil, 0, err
			}
			if !ok {
				return nil, 0, s.errAt(s.pos, ErrTruncated, "records array not closed")
			}
			switch s.buf[s.pos] {
			case '{':
				return s.record()
			case ']':
				s.pos++
				if s.wrap {
					s.state = stAfterArray
				} else {
					s.state = stTop
				}
				continue
			default:
				return nil, 0, s.errAt(s.pos, ErrBadJSON, "expected a record in the records array, found "+quoteByte(s.buf[s.pos]))
			}
		case stAfterArray:
			ok, err := s.skipSpace(false)
			if err != nil {
				s.state = stDone
				return nil, 0, err
			}
			if !ok {
				return nil, 0, s.errAt(s.pos, ErrTruncated, "records object not closed")
			}
			switch s.buf[s.pos] {
			case '}':
				s.pos++
				s.state = stTop
			case ',':
				// Another key of the wrapper object: skip "key": value.
				s.pos++
				if ok, err := s.skipSpace(false); err != nil || !ok {
					return nil, 0, s.errAt(s.pos, ErrTruncated, "records object not closed")
				}
				if _, err := s.span(); err != nil { // the key
					return nil, 0, err
				}
				if ok, err := s.skipSpace(false); err != nil || !ok || s.buf[s.pos] != ':' {
					return nil, 0, s.errAt(s.pos, ErrBadJSON, "expected ':' after a key")
				}
				s.pos++
				if ok, err := s.skipSpace(false); err != nil || !ok {
					return nil, 0, s.errAt(s.pos, ErrTruncated, "records object not closed")
				}
				if _, err := s.span(); err != nil {
					return nil, 0, err
				}
			default:
				return nil, 0, s.errAt(s.pos, ErrBadJSON, "expected ',' or '}' after the records array, found "+quoteByte(s.buf[s.pos]))
			}
		}
	}
}

// openWrapper looks at the object at pos. If its first key is "records"
// with an array value, it consumes up to the '[' and reports true.
func (s *Scanner) openWrapper() (bool, error) {
	// Make sure a short look-ahead is buffered.
	for s.end-s.pos < 64 && !s.eof {
		if _, err := s.fill(s.pos); err != nil && !errors.Is(err, io.EOF) {
			s.state = stDone
			return false, err
		}
	}
	i := s.pos + 1
	skip := func() {
		for i < s.end && (s.buf[i] == ' ' || s.buf[i] == '\t' || s.buf[i] == '\n' || s.buf[i] == '\r') {
			i++
		}
	}
	skip()
	const key = `"records"`
	if i+len(key) > s.end || !bytes.EqualFold(s.buf[i:i+len(key)], []byte(key)) {
		return false, nil
	}
	i += len(key)
	skip()
	if i >= s.end || s.buf[i] != ':' {
		return false, nil
	}
	i++
	skip()
	if i >= s.end || s.buf[i] != '[' {
		return false, nil
	}
	s.pos = i + 1
	s.state, s.wrap = stArray, true
	return true, nil
}

// record returns the object starting at pos.
func (s *Scanner) record() ([]byte, int64, error) {
	start := s.base + int64(s.pos)
	n, err := s.span()
	if err != nil {
		return nil, 0, err
	}
	s.lastStart, s.lastEnd = s.pos-n, s.pos
	s.pending = true
	return s.buf[s.lastStart:s.lastEnd], start, nil
}

// span consumes one JSON value starting at pos (an object, array, string
// or literal) by brace matching and returns its length. It records whether
// a trailing comma appeared. A value longer than MaxRecord is consumed
// without being kept (its bytes are dropped as they are scanned) and
// reported as ErrTooLarge; the scan goes on after it.
func (s *Scanner) span() (int, error) {
	start := s.pos
	startOff := s.base + int64(start)
	k := 0 // offset from start
	depth := 0
	var last byte
	discard := false
	s.trailing = false

	// refill reads more input. Past MaxRecord it first looks for a record
	// swallowed by damage, then drops what was scanned, up to cut.
	refill := func(cut int) (int, error) {
		if !discard && s.end-start > s.MaxRecord {
			if i := findRecordStart(s.buf[:s.end], start+1); i >= 0 {
				return 0, s.resyncAt(start, i)
			}
			discard = true
		}
		keep := start
		if discard {
			s.hashTo(cut)
			keep = cut
		}
		shift, err := s.fill(keep)
		start -= shift
		if err != nil {
			return shift, s.spanFailed(start, startOff, err)
		}
		return shift, nil
	}

	for {
		if start+k >= s.end {
			if _, err := refill(s.end); err != nil {
				return 0, err
			}
			continue
		}
		c := s.buf[start+k]
		switch c {
		case '"':
			// Find the closing quote: one not preceded by an odd run of
			// backslashes.
			j := start + k + 1
			for {
				q := bytes.IndexByte(s.buf[j:s.end], '"')
				if q < 0 {
					// Nothing in [j, end): search on from there, keeping a
					// trailing run of backslashes.
					cut := s.end
					for cut > j && s.buf[cut-1] == '\\' {
						cut--
					}
					j = s.end
					shift, err := refill(cut)
					if err != nil {
						return 0, err
					}
					j -= shift
					continue
				}
				q += j
				bs := 0
				for p := q - 1; p >= 0 && s.buf[p] == '\\'; p-- {
					bs++
				}
				if bs%2 == 0 {
					k = q - start + 1
					break
				}
				j = q + 1
			}
			last = '"'
			if depth == 0 {
				s.pos = start + k
				return k, nil
			}
			continue
		case '{', '[':
			depth++
			last = c
		case '}', ']':
			if depth == 0 { // the end of a literal value
				s.pos = start + k
				return k, nil
			}
			if last == ',' {
				s.trailing = true
			}
			depth--
			last = c
			if depth <= 0 {
				k++
				s.pos = start + k
				if depth < 0 {
					return 0, s.errAt(start+k-1, ErrBadJSON, "unbalanced "+quoteByte(c))
				}
				if n := s.base + int64(s.pos) - startOff; n > int64(s.MaxRecord) {
					s.skipTo(s.pos)
					return 0, &Error{Offset: startOff, Record: -1, Tuple: -1, Field: -1, Err: ErrTooLarge,
						Msg: "record of " + strconv.FormatInt(n, 10) + " bytes exceeds " + itoa(s.MaxRecord) + "; skipped"}
				}
				return k, nil
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 && k > 0 {
				s.pos = start + k
				return k, nil
			}
		case ',':
			last = c
			if depth == 0 {
				s.pos = start + k
				return k, nil
			}
		default:
			last = c
		}
		k++
	}
}

// resyncAt reports a damaged value at buffer index start and moves the
// scan to the record found inside it at index i.
func (s *Scanner) resyncAt(start, i int) error {
	off := s.base + int64(start)
	s.skipTo(i)
	return &Error{Offset: off, Record: -1, Tuple: -1, Field: -1, Err: ErrBadJSON,
		Msg: "unbalanced record; resuming at the record at offset " + strconv.FormatInt(s.base+int64(i), 10)}
}

// spanFailed handles the end of the input inside a value that starts at
// buffer index start (stream offset startOff; the start may be gone from
// the buffer). If a record starts inside the value, the value was damaged
// (an unbalanced quote or brace swallowed what follows): the scan resumes
// there. Otherwise the input was cut short.
func (s *Scanner) spanFailed(start int, startOff int64, err error) error {
	if errors.Is(err, io.EOF) && start >= 0 {
		if i := findRecordStart(s.buf[:s.end], start+1); i >= 0 {
			return s.resyncAt(start, i)
		}
	}
	s.state = stDone
	if errors.Is(err, io.EOF) {
		return &Error{Offset: startOff, Record: -1, Tuple: -1, Field: -1, Err: ErrTruncated, Msg: "input ends inside a record"}
	}
	return err
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return "byte 0x" + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
}
