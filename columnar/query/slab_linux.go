package query

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// makeResident faults in the whole pages of b with one call. It is only
// a hint: on a kernel without MADV_POPULATE_WRITE they fault in as they
// are first touched.
func makeResident(b []byte) {
	const page = 4096
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	from := (start + page - 1) &^ (page - 1)
	to := (start + uintptr(len(b))) &^ (page - 1)
	if to <= from {
		return
	}
	_ = unix.Madvise(b[from-start:to-start], unix.MADV_POPULATE_WRITE)
}
