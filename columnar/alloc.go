package columnar

import (
	"math/bits"
	"sync"
)

// poolAllocator is an Arrow memory allocator that recycles freed buffers
// by power-of-two size class. The Parquet writer allocates and frees page
// buffers for every page of every column; recycling them keeps that
// memory warm instead of faulting in and zeroing fresh pages and feeding
// the garbage collector. Allocate returns zeroed memory, as Go's allocator
// does. It is safe for concurrent use.
type poolAllocator struct {
	classes [48]sync.Pool // class c holds *[]byte with cap 1<<c
}

const minPoolClass = 12 // smaller buffers go to the Go allocator directly

var pagePool = &poolAllocator{}

func sizeClass(n int) int {
	if n <= 1<<minPoolClass {
		return minPoolClass
	}
	return bits.Len(uint(n - 1))
}

func (p *poolAllocator) Allocate(size int) []byte {
	c := sizeClass(size)
	if c >= len(p.classes) {
		return make([]byte, size)
	}
	if v := p.classes[c].Get(); v != nil {
		b := (*(v.(*[]byte)))[:size]
		clear(b)
		return b
	}
	return make([]byte, size, 1<<c)
}

func (p *poolAllocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *poolAllocator) Free(b []byte) {
	c := cap(b)
	if c < 1<<minPoolClass || c&(c-1) != 0 {
		return // not one of ours
	}
	cl := bits.Len(uint(c)) - 1
	if cl >= len(p.classes) {
		return
	}
	b = b[:0]
	p.classes[cl].Put(&b)
}
