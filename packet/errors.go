package packet

import (
	"errors"
	"fmt"
)

// Sentinel reasons wrapped by *Error. Test with errors.Is.
var (
	// ErrBadHeader: the file header is not a pcap or pcapng header this
	// package reads (unknown magic, unsupported version, bad first block).
	ErrBadHeader = errors.New("bad capture file header")
	// ErrTruncatedBlock: the file ends inside a record or block.
	ErrTruncatedBlock = errors.New("truncated block")
	// ErrBadBlock: a record or block mid-file is malformed (impossible
	// length, option overrunning its block, unknown interface,
	// unsupported section version).
	ErrBadBlock = errors.New("bad block")
)

// Error is a positioned error in a capture file. Offset is the byte offset,
// in the decompressed stream, of the file header, record or block at fault;
// Frame is the 1-based number of the packet record at fault (for a
// non-packet pcapng block, the number the next packet would have had), or
// 0 for the file header. Err is one of ErrBadHeader, ErrTruncatedBlock,
// ErrBadBlock, or an error of the underlying reader.
type Error struct {
	File   string
	Offset int64
	Frame  int64
	Err    error
	Detail string // what exactly was wrong, for people
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: offset %d", e.File, e.Offset)
	if e.Frame > 0 {
		s += fmt.Sprintf(", frame %d", e.Frame)
	}
	s += ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the reason, for errors.Is.
func (e *Error) Unwrap() error { return e.Err }

// reason names the sentinel an error wraps, for counting skips.
func (e *Error) reason() string {
	switch {
	case errors.Is(e.Err, ErrBadHeader):
		return "bad-header"
	case errors.Is(e.Err, ErrTruncatedBlock):
		return "truncated"
	case errors.Is(e.Err, ErrBadBlock):
		return "bad-block"
	}
	return "other"
}
