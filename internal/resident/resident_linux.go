package resident

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Bytes makes the whole pages of b resident (see Slice).
func Bytes(b []byte) {
	const page = 4096
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	from := (start + page - 1) &^ (page - 1)
	to := (start + uintptr(len(b))) &^ (page - 1)
	if to <= from {
		return
	}
	_ = unix.Madvise(b[from-start:to-start], unix.MADV_POPULATE_WRITE)
}
