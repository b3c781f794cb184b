package flowlog

import (
	"errors"
	"strconv"
	"strings"
)

// Reasons a record, tuple or blob is skipped. Every error the package
// returns for bad input wraps one of them, so errors.Is and Reason work.
var (
	ErrBadTuple    = errors.New("bad flow tuple")
	ErrBadRecord   = errors.New("bad record")
	ErrBadJSON     = errors.New("malformed JSON")
	ErrTruncated   = errors.New("truncated input")
	ErrTooLarge    = errors.New("record too large")
	ErrBlobChanged = errors.New("blob rewritten since the last run")
	ErrRead        = errors.New("read error")
)

// Reason returns the short name of the sentinel an error wraps, for
// counting skips by reason: "bad-tuple", "bad-record", and so on.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrBadTuple):
		return "bad-tuple"
	case errors.Is(err, ErrBadRecord):
		return "bad-record"
	case errors.Is(err, ErrBadJSON):
		return "bad-json"
	case errors.Is(err, ErrTruncated):
		return "truncated"
	case errors.Is(err, ErrTooLarge):
		return "too-large"
	case errors.Is(err, ErrBlobChanged):
		return "blob-changed"
	case errors.Is(err, ErrRead):
		return "read-error"
	}
	return "other"
}

// Error is a positioned error in a flow log: which file, where in its
// (decompressed) bytes, which record and tuple, and why. Fields that do not
// apply are -1 (or "" for File).
type Error struct {
	File   string
	Offset int64 // byte offset of the record (or of the problem) in the decoded stream
	Record int64 // 0-based index of the record in the file
	Tuple  int   // 0-based index of the tuple in the record
	Field  int   // 0-based field of the tuple
	Msg    string
	Err    error // the sentinel reason
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Offset >= 0 {
		b.WriteString("offset ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
		b.WriteString(": ")
	}
	if e.Record >= 0 {
		b.WriteString("record ")
		b.WriteString(strconv.FormatInt(e.Record, 10))
		b.WriteString(": ")
	}
	if e.Tuple >= 0 {
		b.WriteString("tuple ")
		b.WriteString(strconv.Itoa(e.Tuple))
		b.WriteString(": ")
	}
	if e.Field >= 0 {
		b.WriteString("field ")
		b.WriteString(strconv.Itoa(e.Field))
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// TupleError is the error ParseTuple returns: the field and the reason.
type TupleError struct {
	Field int
	Msg   string
	Value string
}

func (e *TupleError) Error() string {
	if e.Field < 0 {
		return e.Msg
	}
	return "field " + strconv.Itoa(e.Field) + ": " + e.Msg + " " + strconv.Quote(e.Value)
}

func (e *TupleError) Unwrap() error { return ErrBadTuple }
