package packet

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Magic numbers of capture files, as read big-endian from the first four bytes.
const (
	magicMicros     = 0xa1b2c3d4 // pcap, µs timestamps, big-endian writer
	magicMicrosSwap = 0xd4c3b2a1 // pcap, µs timestamps, little-endian writer
	magicNanos      = 0xa1b23c4d // pcap, ns timestamps, big-endian writer
	magicNanosSwap  = 0x4d3cb2a1 // pcap, ns timestamps, little-endian writer
	magicNG         = 0x0a0d0d0a // pcapng Section Header Block type
)

// pcapng block types.
const (
	blockSHB = 0x0a0d0d0a
	blockIDB = 0x00000001
	blockOPB = 0x00000002 // obsolete Packet Block
	blockSPB = 0x00000003
	blockEPB = 0x00000006
)

const (
	maxPcapRecord  = 262144   // tshark's WTAP_MAX_PACKET_SIZE_STANDARD
	maxNgBlock     = 16 << 20 // refuse larger pcapng blocks rather than allocate
	maxInterfaces  = 1 << 16
	readBufferSize = 64 << 10
)

// IsCapture reports whether the first bytes of a file (at least 4) are the
// magic of a pcap file (either byte order, µs or ns timestamps) or of a
// pcapng Section Header Block.
func IsCapture(magic []byte) bool {
	if len(magic) < 4 {
		return false
	}
	switch binary.BigEndian.Uint32(magic) {
	case magicMicros, magicMicrosSwap, magicNanos, magicNanosSwap, magicNG:
		return true
	}
	return false
}

// frame is one packet record as read from the file. data is only valid
// until the next call to capReader.next.
type frame struct {
	data     []byte
	origLen  int64
	ts       int64 // Unix nanoseconds; valid when hasTS
	hasTS    bool
	badTS    bool // pcap: the fraction is a second or more (it is added anyway)
	linkType uint32
}

// iface is a pcapng interface: link type, snap length and timestamp units.
type iface struct {
	linkType uint32
	snapLen  uint32
	resol    uint8 // if_tsresol: bit 7 clear: 10^-n s, set: 2^-n s
	offset   int64 // if_tsoffset, seconds
}

// capReader reads the records of a pcap or pcapng file. It keeps its own
// byte offset so that errors name the record or block at fault.
type capReader struct {
	r      *bufio.Reader
	name   string
	off    int64 // offset of the next unread byte
	frames int64 // packet records returned so far
	buf    []byte

	ng    bool
	order binary.ByteOrder
	// pcap
	nanos    bool
	linkType uint32
	// pcapng
	ifaces []iface
}

func (c *capReader) errorf(at int64, reason error, format string, args ...any) *Error {
	return &Error{File: c.name, Offset: at, Frame: c.frames + 1, Err: reason, Detail: fmt.Sprintf(format, args...)}
}

// read reads exactly n bytes into c.buf[:n]. At a clean end of file (no
// byte read) it returns io.EOF; a short read is ErrTruncatedBlock at the
// offset of the record, start.
func (c *capReader) read(n int, start int64, what string) ([]byte, error) {
	if cap(c.buf) < n {
		c.buf = make([]byte, n, max(n, 2*cap(c.buf)))
	}
	b := c.buf[:n]
	k, err := io.ReadFull(c.r, b)
	c.off += int64(k)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, io.EOF) && c.off == start:
		return nil, io.EOF
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, c.errorf(start, ErrTruncatedBlock, "file ends %d bytes into a %d-byte %s", c.off-start, n+int(c.off-start)-k, what)
	}
	return nil, &Error{File: c.name, Offset: c.off, Frame: c.frames + 1, Err: err}
}

// readMore reads n more bytes after the b already at the front of c.buf
// (which it keeps) and returns the whole.
func (c *capReader) readMore(have, n int, start int64, what string) ([]byte, error) {
	if cap(c.buf) < have+n {
		nb := make([]byte, have+n, max(have+n, 2*cap(c.buf)))
		copy(nb, c.buf[:have])
		c.buf = nb
	}
	b := c.buf[:have+n]
	k, err := io.ReadFull(c.r, b[have:])
	c.off += int64(k)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, c.errorf(start, ErrTruncatedBlock, "file ends %d bytes into a %d-byte %s", c.off-start, have+n, what)
		}
		return nil, &Error{File: c.name, Offset: c.off, Frame: c.frames + 1, Err: err}
	}
	return b, nil
}

// open reads the file header.
func (c *capReader) open(r io.Reader, name string) error {
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= 64<<10 {
		c.r = br
	} else {
		c.r = bufio.NewReaderSize(r, readBufferSize)
	}
	c.name = name
	hdr, err := c.read(4, 0, "file header")
	if err != nil {
		if errors.Is(err, io.EOF) {
			return &Error{File: name, Err: ErrBadHeader, Detail: "empty file"}
		}
		return headerError(err)
	}
	switch m := binary.BigEndian.Uint32(hdr); m {
	case magicNG:
		c.ng = true
		return c.openNG()
	case magicMicros, magicNanos:
		c.order, c.nanos = binary.BigEndian, m == magicNanos
	case magicMicrosSwap, magicNanosSwap:
		c.order, c.nanos = binary.LittleEndian, m == magicNanosSwap
	default:
		return &Error{File: name, Err: ErrBadHeader, Detail: fmt.Sprintf("unknown magic %#08x", m)}
	}
	hdr, err = c.readMore(4, 20, 0, "pcap file header")
	if err != nil {
		return headerError(err)
	}
	// Version 2.x; tshark also reads 2.1 (pcapgo refuses it), not 1.x.
	if major, minor := c.order.Uint16(hdr[4:]), c.order.Uint16(hdr[6:]); major != 2 {
		return &Error{File: name, Err: ErrBadHeader, Detail: fmt.Sprintf("pcap version %d.%d unsupported", major, minor)}
	}
	// The upper bits of the link type field carry FCS information.
	c.linkType = c.order.Uint32(hdr[20:]) & 0x03ffffff
	return nil
}

// headerError turns an error met while reading the file header into one
// that wraps ErrBadHeader too.
func headerError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		e.Frame = 0
		if errors.Is(e.Err, ErrTruncatedBlock) {
			e.Err = fmt.Errorf("%w: %w", ErrBadHeader, ErrTruncatedBlock)
		}
	}
	return err
}

// next reads the next packet record into f. It returns io.EOF at the end
// of the file.
func (c *capReader) next(f *frame) error {
	if c.ng {
		return c.nextNG(f)
	}
	start := c.off
	h, err := c.peek(16, start, "record header")
	if err != nil {
		return err
	}
	sec, frac := c.order.Uint32(h), c.order.Uint32(h[4:])
	capLen, origLen := c.order.Uint32(h[8:]), c.order.Uint32(h[12:])
	if capLen > maxPcapRecord {
		return c.errorf(start, ErrBadBlock, "record has %d captured bytes, more than %d", capLen, maxPcapRecord)
	}
	f.ts = int64(sec) * 1e9
	if c.nanos {
		f.ts += int64(frac)
		f.badTS = frac >= 1e9
	} else {
		f.ts += int64(frac) * 1e3
		f.badTS = frac >= 1e6
	}
	f.hasTS = true
	f.origLen = int64(origLen)
	f.linkType = c.linkType
	if f.data, err = c.peek(int(capLen), start, "packet record"); err != nil {
		return err
	}
	c.frames++
	return nil
}

// peek is read without the copy, for pcap records: when n bytes fit in the
// reader's buffer it returns them from there, valid until the next read.
// A short read goes through read, which reports it.
func (c *capReader) peek(n int, start int64, what string) ([]byte, error) {
	if n > c.r.Size() {
		return c.read(n, start, what)
	}
	b, err := c.r.Peek(n)
	if err != nil {
		return c.read(n, start, what)
	}
	c.r.Discard(n)
	c.off += int64(n)
	return b, nil
}

// openNG reads the first Section Header Block (whose 4-byte type was read).
func (c *capReader) openNG() error {
	if err := c.readSHB(0, 0); err != nil {
		return headerError(err)
	}
	return nil
}

// readSHB reads a Section Header Block that starts at offset start, whose
// type is consumed and whose next got bytes (0 or 4) are in c.buf[:got].
func (c *capReader) readSHB(start int64, got int) error {
	b, err := c.readMore(got, 8-got, start, "section header block")
	if err != nil {
		return err
	}
	var order binary.ByteOrder
	switch binary.BigEndian.Uint32(b[4:]) {
	case 0x1a2b3c4d:
		order = binary.BigEndian
	case 0x4d3c2b1a:
		order = binary.LittleEndian
	default:
		return c.shbError(start, "bad byte-order magic %#08x", binary.BigEndian.Uint32(b[4:]))
	}
	n := order.Uint32(b)
	if n < 28 || n%4 != 0 || n > maxNgBlock {
		return c.shbError(start, "bad block length %d", n)
	}
	b, err = c.readMore(8, int(n)-12, start, "section header block")
	if err != nil {
		return err
	}
	if major, minor := order.Uint16(b[8:]), order.Uint16(b[10:]); major != 1 || (minor != 0 && minor != 2) {
		return c.shbError(start, "pcapng version %d.%d unsupported", major, minor)
	}
	if err := checkOptions(order, b[20:len(b)-4], nil); err != nil {
		return c.shbError(start, "%v", err)
	}
	if t := order.Uint32(b[len(b)-4:]); t != n {
		return c.shbError(start, "trailing block length %d differs from %d", t, n)
	}
	c.order = order
	c.ifaces = c.ifaces[:0]
	return nil
}

func (c *capReader) shbError(start int64, format string, args ...any) error {
	reason := ErrBadBlock
	if start == 0 {
		reason = ErrBadHeader
	}
	return c.errorf(start, reason, "section header block: "+format, args...)
}

// checkOptions walks the options of a pcapng block and calls fn (when not
// nil) for each one. It fails when an option overruns the block.
func checkOptions(order binary.ByteOrder, b []byte, fn func(code uint16, v []byte)) error {
	for len(b) >= 4 {
		code, n := order.Uint16(b), int(order.Uint16(b[2:]))
		if code == 0 { // opt_endofopt
			return nil
		}
		padded := (n + 3) &^ 3
		if padded > len(b)-4 {
			return fmt.Errorf("option %d of length %d overruns its block", code, n)
		}
		if fn != nil {
			fn(code, b[4:4+n])
		}
		b = b[4+padded:]
	}
	return nil
}

// nextNG reads blocks up to the next packet.
func (c *capReader) nextNG(f *frame) error {
	for {
		start := c.off
		h, err := c.read(8, start, "block header")
		if err != nil {
			return err
		}
		typ := c.order.Uint32(h)
		if typ == blockSHB {
			copy(c.buf[:4], h[4:8])
			if err := c.readSHB(start, 4); err != nil {
				return err
			}
			continue
		}
		n := c.order.Uint32(h[4:])
		if n < 12 || n%4 != 0 || n > maxNgBlock {
			return c.errorf(start, ErrBadBlock, "block type %#x has bad length %d", typ, n)
		}
		b, err := c.readMore(8, int(n)-8, start, "block")
		if err != nil {
			return err
		}
		if t := c.order.Uint32(b[len(b)-4:]); t != n {
			return c.errorf(start, ErrBadBlock, "block type %#x: trailing length %d differs from %d", typ, t, n)
		}
		body := b[8 : len(b)-4]
		switch typ {
		case blockIDB:
			if err := c.readIDB(start, body); err != nil {
				return err
			}
		case blockEPB, blockOPB:
			if len(body) < 20 {
				return c.errorf(start, ErrBadBlock, "packet block of %d bytes", n)
			}
			var id uint32
			if typ == blockEPB {
				id = c.order.Uint32(body)
			} else {
				id = uint32(c.order.Uint16(body))
			}
			if id >= uint32(len(c.ifaces)) {
				return c.errorf(start, ErrBadBlock, "packet for interface %d, but %d interfaces are described", id, len(c.ifaces))
			}
			capLen := c.order.Uint32(body[12:])
			if capLen > uint32(len(body)-20) {
				return c.errorf(start, ErrBadBlock, "packet block: captured length %d overruns the block", capLen)
			}
			ifc := &c.ifaces[id]
			ts := uint64(c.order.Uint32(body[4:]))<<32 | uint64(c.order.Uint32(body[8:]))
			f.ts, f.hasTS = ifc.nanos(ts), true
			f.origLen = int64(c.order.Uint32(body[16:]))
			f.linkType = ifc.linkType
			f.data = body[20 : 20+capLen]
			c.frames++
			return nil
		case blockSPB:
			if len(body) < 4 {
				return c.errorf(start, ErrBadBlock, "simple packet block of %d bytes", n)
			}
			if len(c.ifaces) == 0 {
				return c.errorf(start, ErrBadBlock, "simple packet block before any interface description")
			}
			ifc := &c.ifaces[0]
			origLen := c.order.Uint32(body)
			capLen := min(uint32(len(body)-4), origLen)
			if ifc.snapLen > 0 {
				capLen = min(capLen, ifc.snapLen)
			}
			f.ts, f.hasTS = 0, false
			f.origLen = int64(origLen)
			f.linkType = ifc.linkType
			f.data = body[4 : 4+capLen]
			c.frames++
			return nil
		}
		// Other blocks (statistics, name resolution, decryption secrets,
		// custom) carry no packets.
	}
}

func (c *capReader) readIDB(start int64, body []byte) error {
	if len(body) < 8 {
		return c.errorf(start, ErrBadBlock, "interface description block of %d bytes", len(body)+12)
	}
	if len(c.ifaces) >= maxInterfaces {
		return c.errorf(start, ErrBadBlock, "more than %d interfaces", maxInterfaces)
	}
	ifc := iface{linkType: uint32(c.order.Uint16(body)), snapLen: c.order.Uint32(body[4:]), resol: 6}
	err := checkOptions(c.order, body[8:], func(code uint16, v []byte) {
		switch {
		case code == 9 && len(v) >= 1: // if_tsresol
			ifc.resol = v[0]
		case code == 14 && len(v) >= 8: // if_tsoffset
			ifc.offset = int64(c.order.Uint64(v))
		}
	})
	if err != nil {
		return c.errorf(start, ErrBadBlock, "interface description block: %v", err)
	}
	c.ifaces = append(c.ifaces, ifc)
	return nil
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// nanos converts a timestamp in the interface's units to Unix nanoseconds.
func (ifc *iface) nanos(ts uint64) int64 {
	var ns uint64
	if e := uint(ifc.resol & 0x7f); ifc.resol&0x80 == 0 {
		switch {
		case e <= 9:
			ns = ts * pow10[9-e]
		case e-9 < uint(len(pow10)):
			ns = ts / pow10[e-9]
		}
	} else {
		switch {
		case e == 0:
			ns = ts * 1e9
		case e < 64:
			sec, frac := ts>>e, ts&(1<<e-1)
			hi, lo := bits.Mul64(frac, 1e9)
			ns = sec*1e9 + (lo>>e | hi<<(64-e))
		}
	}
	return int64(ns) + ifc.offset*1e9
}
