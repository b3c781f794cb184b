package query

import (
	"unsafe"

	"github.com/flowlens/flowlens/internal/resident"
)

// Memory touched for the first time costs a page fault per 4 KiB page,
// far more than making it resident in one call (package resident): a
// `report top` took 8,600 faults, about 130 ms of its 400 ms of CPU, and
// a needle query 2,300. So the buffers a worker keeps from row group to
// row group (decoded columns, pages read and decompressed) come from a
// slab, which makes a buffer resident in one call when it will be
// written whole, and leaves it to fault in page by page when only a few
// of its rows will be (a needle's picks).

// slab hands out memory for buffers without pointers from blocks of
// slabFirst bytes, then twice as many each time up to slabBlock (or as
// many as a buffer needs). Nothing is freed: a buffer that grows leaves
// its old memory behind, and the buffers of a worker reach their largest
// size within a few row groups. A slab is used by one goroutine at a
// time.
type slab struct {
	free []byte // the rest of the current block
	next int    // size of the next block
}

const (
	slabFirst = 256 << 10
	slabBlock = 4 << 20
)

// alloc returns n bytes, 64-byte aligned, resident if asked.
func (s *slab) alloc(n int, makeResident bool) []byte {
	n = (n + 63) &^ 63
	if n > len(s.free) {
		s.next = min(max(2*s.next, slabFirst), slabBlock)
		s.free = make([]byte, max(s.next, n))
	}
	b := s.free[:n:n]
	s.free = s.free[n:]
	if makeResident {
		resident.Bytes(b)
	}
	return b
}

// plain are the element types a slab may hold: no pointers.
type plain interface {
	~bool | ~uint8 | ~int32 | ~uint32 | ~int64 | ~uint64
}

// growIn is grow, with new memory from s (the heap when s is nil),
// resident if asked.
func growIn[T plain](s *slab, buf []T, n int, resident bool) []T {
	if cap(buf) >= n {
		return buf[:n]
	}
	m := n + n/8
	if s == nil {
		return make([]T, n, m)
	}
	var zero T
	b := s.alloc(m*int(unsafe.Sizeof(zero)), resident)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), m)[:n]
}
