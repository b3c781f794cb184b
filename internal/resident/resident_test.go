package resident

import (
	"testing"
	"unsafe"
)

// TestSliceKeepsContents: making memory resident changes no byte, for
// slices that start and end mid-page and for an empty one.
func TestSliceKeepsContents(t *testing.T) {
	buf := make([]uint64, 3<<10) // 24 KiB
	for i := range buf {
		buf[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	Slice(buf[5:700])
	Slice(buf[1000:1000])
	Slice(buf)
	Bytes(unsafe.Slice((*byte)(unsafe.Pointer(&buf[3])), 10))
	for i := range buf {
		if buf[i] != uint64(i)*0x9e3779b97f4a7c15 {
			t.Fatalf("word %d changed", i)
		}
	}
	var empty []int32
	Slice(empty)
}
