package packet

import (
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
	maxPcapRecord = 262144   // tshark's WTAP_MAX_PACKET_SIZE_STANDARD
	maxNgBlock    = 16 << 20 // refuse larger pcapng blocks rather than allocate
	maxInterfaces = 1 << 16
	// The read buffer starts small (a small capture costs little) and
	// doubles at each refill up to maxReadBuffer; a block larger than
	// that grows it as far as the block needs. A buffer that stays in the
	// core's cache makes both the kernel's copy into it and the parsing
	// of it cheaper: on one core, the 3,000,000-packet capture of
	// bench/capture-sidebyside.sh took 147 ms (14%) less CPU with 128 KiB
	// than with 1 MiB, 71 ms less with 512 KiB, and 60 ms more with 64
	// KiB (more reads). decompress.Open passes reads this large straight
	// to an uncompressed file.
	minReadBuffer = 64 << 10
	maxReadBuffer = 128 << 10
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

// capReader reads the records of a pcap or pcapng file. It reads the
// stream into its own buffer and hands out records as slices of it, so
// that a record costs no copy and no call through bufio; it keeps its own
// byte offset so that errors name the record or block at fault.
type capReader struct {
	r        io.Reader
	name     string
	buf      []byte
	pos, end int   // the unread bytes are buf[pos:end]
	rerr     error // the error of the last read from r (io.EOF at the end)
	off      int64 // stream offset of buf[pos], the next unread byte
	frames   int64 // packet records returned so far

	ng  bool
	big bool // the file (pcap) or section (pcapng) is big-endian
	// pcap
	nanos    bool
	linkType uint32
	// pcapng
	ifaces []iface
}

func (c *capReader) u16(b []byte) uint16 {
	if c.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (c *capReader) u32(b []byte) uint32 {
	if c.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (c *capReader) u64(b []byte) uint64 {
	if c.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

func (c *capReader) errorf(at int64, reason error, format string, args ...any) *Error {
	return &Error{File: c.name, Offset: at, Frame: c.frames + 1, Err: reason, Detail: fmt.Sprintf(format, args...)}
}

// fill makes at least n unread bytes available in buf[pos:end], reading
// as needed. It reports whether it could; if not, c.short says why.
func (c *capReader) fill(n int) bool {
	return c.end-c.pos >= n || c.fillSlow(n)
}

func (c *capReader) fillSlow(n int) bool {
	empty := 0
	for c.end-c.pos < n {
		if c.rerr != nil {
			return false
		}
		if c.pos > 0 || c.end == len(c.buf) {
			// Move the unread bytes to the front, into a larger buffer
			// when n needs it or when the stream keeps going.
			size := len(c.buf)
			if c.end == len(c.buf) && size < maxReadBuffer {
				size = min(max(2*size, minReadBuffer), maxReadBuffer)
			}
			size = max(size, n)
			if size != len(c.buf) {
				nb := make([]byte, size)
				copy(nb, c.buf[c.pos:c.end])
				c.buf = nb
			} else {
				copy(c.buf, c.buf[c.pos:c.end])
			}
			c.end -= c.pos
			c.pos = 0
		}
		k, err := c.r.Read(c.buf[c.end:])
		c.end += k
		switch {
		case err != nil:
			c.rerr = err
		case k == 0:
			if empty++; empty >= 100 {
				c.rerr = io.ErrNoProgress
			}
		}
	}
	return true
}

// short returns the error for a record or block of size bytes (or at
// least size) that starts at offset start and that fill could not
// complete: io.EOF at a clean end of file (no byte of it), else
// ErrTruncatedBlock at start, or the reader's error where it happened.
func (c *capReader) short(start int64, size int, what string) error {
	have := c.off + int64(c.end-c.pos) - start // bytes of it in the stream
	switch {
	case errors.Is(c.rerr, io.EOF) && have == 0:
		return io.EOF
	case errors.Is(c.rerr, io.EOF), errors.Is(c.rerr, io.ErrUnexpectedEOF):
		return c.errorf(start, ErrTruncatedBlock, "file ends %d bytes into a %d-byte %s", have, size, what)
	}
	return &Error{File: c.name, Offset: start + have, Frame: c.frames + 1, Err: c.rerr}
}

// consume marks n bytes read.
func (c *capReader) consume(n int) {
	c.pos += n
	c.off += int64(n)
}

// open reads the file header.
func (c *capReader) open(r io.Reader, name string) error {
	c.r, c.name = r, name
	if !c.fill(4) {
		err := c.short(0, 4, "file header")
		if errors.Is(err, io.EOF) {
			return &Error{File: name, Err: ErrBadHeader, Detail: "empty file"}
		}
		return headerError(err)
	}
	switch m := binary.BigEndian.Uint32(c.buf[c.pos:]); m {
	case magicNG:
		c.ng = true
		return c.openNG()
	case magicMicros, magicNanos:
		c.big, c.nanos = true, m == magicNanos
	case magicMicrosSwap, magicNanosSwap:
		c.big, c.nanos = false, m == magicNanosSwap
	default:
		return &Error{File: name, Err: ErrBadHeader, Detail: fmt.Sprintf("unknown magic %#08x", m)}
	}
	if !c.fill(24) {
		return headerError(c.short(0, 24, "pcap file header"))
	}
	hdr := c.buf[c.pos : c.pos+24]
	// Version 2.x; tshark also reads 2.1 (pcapgo refuses it), not 1.x.
	if major, minor := c.u16(hdr[4:]), c.u16(hdr[6:]); major != 2 {
		return &Error{File: name, Err: ErrBadHeader, Detail: fmt.Sprintf("pcap version %d.%d unsupported", major, minor)}
	}
	// The upper bits of the link type field carry FCS information.
	c.linkType = c.u32(hdr[20:]) & 0x03ffffff
	c.consume(24)
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
	if !c.fill(16) {
		return c.short(start, 16, "record header")
	}
	h := c.buf[c.pos : c.pos+16]
	sec, frac := c.u32(h), c.u32(h[4:])
	capLen, origLen := c.u32(h[8:]), c.u32(h[12:])
	if capLen > maxPcapRecord {
		return c.errorf(start, ErrBadBlock, "record has %d captured bytes, more than %d", capLen, maxPcapRecord)
	}
	n := 16 + int(capLen)
	if !c.fill(n) {
		return c.short(start, n, "packet record")
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
	f.data = c.buf[c.pos+16 : c.pos+n : c.pos+n]
	c.consume(n)
	c.frames++
	return nil
}

// openNG reads the first Section Header Block.
func (c *capReader) openNG() error {
	if err := c.readSHB(0); err != nil {
		return headerError(err)
	}
	return nil
}

// readSHB reads a Section Header Block that starts at offset start, the
// next unread byte.
func (c *capReader) readSHB(start int64) error {
	if !c.fill(12) {
		return c.short(start, 12, "section header block")
	}
	b := c.buf[c.pos : c.pos+12]
	var big bool
	switch binary.BigEndian.Uint32(b[8:]) {
	case 0x1a2b3c4d:
		big = true
	case 0x4d3c2b1a:
		big = false
	default:
		return c.shbError(start, "bad byte-order magic %#08x", binary.BigEndian.Uint32(b[8:]))
	}
	c.big = big
	n := c.u32(b[4:])
	if n < 28 || n%4 != 0 || n > maxNgBlock {
		return c.shbError(start, "bad block length %d", n)
	}
	if !c.fill(int(n)) {
		return c.short(start, int(n), "section header block")
	}
	b = c.buf[c.pos : c.pos+int(n)]
	if major, minor := c.u16(b[12:]), c.u16(b[14:]); major != 1 || (minor != 0 && minor != 2) {
		return c.shbError(start, "pcapng version %d.%d unsupported", major, minor)
	}
	if err := checkOptions(c.big, b[24:len(b)-4], nil); err != nil {
		return c.shbError(start, "%v", err)
	}
	if t := c.u32(b[len(b)-4:]); t != n {
		return c.shbError(start, "trailing block length %d differs from %d", t, n)
	}
	c.ifaces = c.ifaces[:0]
	c.consume(int(n))
	return nil
}

func (c *capReader) shbError(start int64, format string, args ...any) error {
	reason := ErrBadBlock
	if start == 0 {
		reason = ErrBadHeader
	}
	return c.errorf(start, reason, "section header block: "+format, args...)
}

// checkOptions walks the options of a pcapng block (big-endian when big)
// and calls fn (when not nil) for each one. It fails when an option
// overruns the block.
func checkOptions(big bool, b []byte, fn func(code uint16, v []byte)) error {
	order := binary.ByteOrder(binary.LittleEndian)
	if big {
		order = binary.BigEndian
	}
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
		if !c.fill(8) {
			return c.short(start, 8, "block header")
		}
		h := c.buf[c.pos : c.pos+8]
		typ := c.u32(h)
		if typ == blockSHB {
			if err := c.readSHB(start); err != nil {
				return err
			}
			continue
		}
		n := c.u32(h[4:])
		if n < 12 || n%4 != 0 || n > maxNgBlock {
			return c.errorf(start, ErrBadBlock, "block type %#x has bad length %d", typ, n)
		}
		if !c.fill(int(n)) {
			return c.short(start, int(n), "block")
		}
		b := c.buf[c.pos : c.pos+int(n) : c.pos+int(n)]
		if t := c.u32(b[len(b)-4:]); t != n {
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
				id = c.u32(body)
			} else {
				id = uint32(c.u16(body))
			}
			if id >= uint32(len(c.ifaces)) {
				return c.errorf(start, ErrBadBlock, "packet for interface %d, but %d interfaces are described", id, len(c.ifaces))
			}
			capLen := c.u32(body[12:])
			if capLen > uint32(len(body)-20) {
				return c.errorf(start, ErrBadBlock, "packet block: captured length %d overruns the block", capLen)
			}
			ifc := &c.ifaces[id]
			ts := uint64(c.u32(body[4:]))<<32 | uint64(c.u32(body[8:]))
			f.ts, f.hasTS, f.badTS = ifc.nanos(ts), true, false
			f.origLen = int64(c.u32(body[16:]))
			f.linkType = ifc.linkType
			f.data = body[20 : 20+capLen]
			c.consume(int(n))
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
			origLen := c.u32(body)
			capLen := min(uint32(len(body)-4), origLen)
			if ifc.snapLen > 0 {
				capLen = min(capLen, ifc.snapLen)
			}
			f.ts, f.hasTS, f.badTS = 0, false, false
			f.origLen = int64(origLen)
			f.linkType = ifc.linkType
			f.data = body[4 : 4+capLen]
			c.consume(int(n))
			c.frames++
			return nil
		}
		// Other blocks (statistics, name resolution, decryption secrets,
		// custom) carry no packets.
		c.consume(int(n))
	}
}

func (c *capReader) readIDB(start int64, body []byte) error {
	if len(body) < 8 {
		return c.errorf(start, ErrBadBlock, "interface description block of %d bytes", len(body)+12)
	}
	if len(c.ifaces) >= maxInterfaces {
		return c.errorf(start, ErrBadBlock, "more than %d interfaces", maxInterfaces)
	}
	ifc := iface{linkType: uint32(c.u16(body)), snapLen: c.u32(body[4:]), resol: 6}
	err := checkOptions(c.big, body[8:], func(code uint16, v []byte) {
		switch {
		case code == 9 && len(v) >= 1: // if_tsresol
			ifc.resol = v[0]
		case code == 14 && len(v) >= 8: // if_tsoffset
			ifc.offset = int64(c.u64(v))
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
