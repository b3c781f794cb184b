package packet

import (
	"context"
	"io"
	"runtime"
)

// pkt is one frame as the reader hands it over: what Stats counts, the
// decoded headers and, for flow assembly, the flow key and its hash.
type pkt struct {
	d        decoded
	origLen  int64
	ts       int64 // Unix ns; valid when hasTS
	capLen   int32
	linkType uint32
	status   status
	hasTS    bool
	badTS    bool
	hashed   bool // key and hash are set (IP packets other than later fragments)
	key      flowKey
	hash     uint64
}

// Frames go from the reader to the consumer in batches of up to
// batchSize, with batches in flight at most (the reader is at most that
// far ahead). Batches start small and double, so that a small capture
// costs little; the first pipelineAfter batches of batchSize are read
// without a goroutine: for a small capture, handing batches between cores
// costs more than it gains. Smaller batches cost more in hand-overs (with
// 256, the 3,000,000-packet capture of bench/capture-sidebyside.sh took
// about a third longer than with 1024).
const (
	firstBatch    = 64
	batchSize     = 1024
	batches       = 4
	pipelineAfter = 16
)

// batch is a run of frames. After the last frame of the capture (last),
// err is the reader's error: nil at a clean end, else an *Error or the
// context's error.
type batch struct {
	pkts []pkt
	last bool
	err  error
}

// frameReader reads and decodes frames into batches.
type frameReader struct {
	ctx   context.Context
	c     capReader
	keys  *hasher // when not nil, flow keys and hashes are computed too
	frame frame
	size  int // frames in the next batch
}

// fill reads up to fr.size frames into b, and doubles fr.size up to
// batchSize.
func (fr *frameReader) fill(b *batch) {
	fr.size = min(max(fr.size, firstBatch/2)*2, batchSize)
	if cap(b.pkts) < fr.size {
		b.pkts = make([]pkt, fr.size)
	}
	b.pkts = b.pkts[:fr.size]
	n := 0
	defer func() { b.pkts = b.pkts[:n] }()
	c, f := &fr.c, &fr.frame
	for n < len(b.pkts) {
		if c.frames&1023 == 0 {
			if err := fr.ctx.Err(); err != nil {
				b.last, b.err = true, err
				return
			}
		}
		if err := c.next(f); err != nil {
			if err == io.EOF {
				err = nil
			}
			b.last, b.err = true, err
			return
		}
		p := &b.pkts[n]
		n++
		p.origLen, p.ts, p.hasTS, p.badTS = f.origLen, f.ts, f.hasTS, f.badTS
		p.capLen, p.linkType = int32(len(f.data)), f.linkType
		p.status = decode(f.linkType, f.data, &p.d)
		p.hashed = false
		if fr.keys != nil && p.status == statusIP && p.d.frag != fragLater {
			p.key = keyOf(&p.d)
			p.hash = fr.keys.hash(&p.key)
			p.hashed = true
		}
	}
}

// counter counts frames into Stats as the consumer takes them, so that
// Stats describe exactly the packets handed on, whatever the reader has
// read ahead.
type counter struct {
	st      *Stats
	lastLT  uint32
	ltCount int64
}

func (k *counter) count(p *pkt) {
	st := k.st
	st.Packets++
	st.Bytes += p.origLen
	if p.linkType != k.lastLT { // count link types without a map write per packet
		k.flush()
		k.lastLT = p.linkType
	}
	k.ltCount++
	if p.badTS {
		st.Malformed[reasonBadTimestamp]++
	}
	if int64(p.capLen) > p.origLen {
		st.Malformed[reasonCaplenGtLen]++
	}
	switch p.status {
	case statusIP:
		if p.d.truncated != truncNone {
			st.Malformed[truncReason[p.d.truncated]]++
		}
	case statusNonIP:
		st.NonIP++
	default:
		st.Malformed[statusReason[p.status]]++
	}
}

func (k *counter) flush() {
	if k.ltCount > 0 {
		k.st.LinkTypes[k.lastLT] += k.ltCount
		k.ltCount = 0
	}
}

// group is how many packets the consumer reads ahead for at once.
const group = 16

// frameSink takes the frames of a capture. The frames of a batch go in
// groups: while onIP sees the IP packets of one group, one by one, ahead2
// (optional) sees the group after next, then ahead1 (optional) the next.
// The batch is only read: written by the consumer, its memory would have
// to travel back to the reader's core before the reader could fill it
// again.
type frameSink struct {
	keys   *hasher // passed to the reader
	ahead1 func(g []pkt)
	ahead2 func(g []pkt)
	onIP   func(p *pkt) error
	// sequential keeps the reader in the calling goroutine (Config.Sequential).
	sequential bool
}

// take counts the frames of b and hands on its IP packets.
func (s *frameSink) take(k *counter, b *batch) error {
	n := len(b.pkts)
	g := func(i int) []pkt { return b.pkts[min(i*group, n):min((i+1)*group, n)] }
	groups := (n + group - 1) / group
	if s.ahead2 != nil {
		s.ahead2(g(0))
		s.ahead2(g(1))
		s.ahead1(g(0))
	}
	for i := range groups {
		if s.ahead2 != nil && i+2 < groups {
			s.ahead2(g(i + 2))
		}
		if s.ahead2 != nil && i+1 < groups {
			s.ahead1(g(i + 1))
		}
		for j, cur := 0, g(i); j < len(cur); j++ {
			p := &cur[j]
			k.count(p)
			if p.status == statusIP {
				if err := s.onIP(p); err != nil {
					return err
				}
			}
		}
	}
	if b.last {
		return b.err
	}
	return nil
}

// readFrames reads every frame of a capture, counts it in st, decodes it
// and hands it to sink. It returns the reader's error (an *Error), or the
// first error of sink.onIP or ctx.
//
// When the capture has more than pipelineAfter batches of frames, more
// than one P may run and sink.sequential is not set, reading and decoding
// run in a goroutine of their own, batches ahead of the consumer (a
// pipeline of two stages: reading, record parsing and decoding; counting
// and flow assembly). A batch is handed over through channels, its frames
// decoded and copied out of the read buffer. The goroutine has ended when
// readFrames returns.
func readFrames(ctx context.Context, r io.Reader, name string, st *Stats, sink *frameSink) error {
	rd := &frameReader{ctx: ctx, keys: sink.keys}
	if err := rd.c.open(r, name); err != nil {
		return err
	}
	k := &counter{st: st, lastLT: ^uint32(0)}
	defer k.flush()
	b := &batch{}
	pipeline := !sink.sequential && runtime.GOMAXPROCS(0) >= 2
	for n := 0; !pipeline || n < pipelineAfter; {
		rd.fill(b)
		if err := sink.take(k, b); err != nil || b.last {
			return err
		}
		if len(b.pkts) == batchSize {
			n++
		}
	}
	rd.fill(b)
	full := make(chan *batch, batches)
	empty := make(chan *batch, batches)
	stop := make(chan struct{})
	done := make(chan struct{})
	for range batches - 1 {
		empty <- &batch{}
	}
	go func() {
		defer close(done)
		for {
			var b *batch
			select {
			case b = <-empty:
			case <-stop:
				return
			}
			rd.fill(b)
			full <- b // never blocks: full holds every batch
			if b.last {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-done
	}()
	for {
		if err := sink.take(k, b); err != nil || b.last {
			return err
		}
		empty <- b
		b = <-full
	}
}
