// Package resident makes freshly allocated memory resident in one system
// call instead of one page fault per 4 KiB page as it is first written.
//
// On the 2-core VMs flowlens is measured on, a first-touch page fault
// costs about 15 µs, while madvise(MADV_POPULATE_WRITE) (Linux 5.14)
// costs under 1 µs a page (bench/README.md, "Page faults"). Buffers that
// are about to be written whole — a flow table's next chunk, a decoded
// column — are worth making resident; buffers written sparsely are not.
package resident

import "unsafe"

// Slice makes the whole pages of s's backing array, up to its capacity,
// resident. It is only a hint, and changes no byte: where the kernel
// lacks MADV_POPULATE_WRITE the pages fault in as they are first touched.
func Slice[T any](s []T) {
	if cap(s) == 0 {
		return
	}
	var zero T
	n := cap(s) * int(unsafe.Sizeof(zero))
	Bytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), n))
}
