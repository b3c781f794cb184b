package columnar

import "encoding/binary"

// Thrift compact protocol type codes, as Parquet's metadata uses them.
const (
	ctTrue   = 1
	ctFalse  = 2
	ctI32    = 5
	ctI64    = 6
	ctBinary = 8
	ctList   = 9
	ctStruct = 12
)

// compactWriter appends Thrift compact-protocol structs to a byte slice:
// only what Parquet's page headers, footer and page index need. Fields
// must be written in increasing id order within a struct.
type compactWriter struct {
	b     []byte
	last  int16   // id of the previous field in the current struct
	stack []int16 // last of the enclosing structs
}

func (w *compactWriter) reset() { w.b, w.last, w.stack = w.b[:0], 0, w.stack[:0] }

func (w *compactWriter) field(id int16, typ byte) {
	if d := id - w.last; d > 0 && d <= 15 {
		w.b = append(w.b, byte(d)<<4|typ)
	} else {
		w.b = append(w.b, typ)
		w.b = binary.AppendVarint(w.b, int64(id)) // zigzag i16
	}
	w.last = id
}

func (w *compactWriter) i32(id int16, v int32) {
	w.field(id, ctI32)
	w.b = binary.AppendVarint(w.b, int64(v))
}

func (w *compactWriter) i64(id int16, v int64) {
	w.field(id, ctI64)
	w.b = binary.AppendVarint(w.b, v)
}

func (w *compactWriter) bool(id int16, v bool) {
	if v {
		w.field(id, ctTrue)
	} else {
		w.field(id, ctFalse)
	}
}

func (w *compactWriter) binary(id int16, v []byte) {
	w.field(id, ctBinary)
	w.rawBinary(v)
}

func (w *compactWriter) string(id int16, v string) {
	w.field(id, ctBinary)
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

// rawBinary writes a binary list element.
func (w *compactWriter) rawBinary(v []byte) {
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

// list writes the header of a list field of n elements of type elem;
// the elements follow (beginStruct(-1)… for structs, raw values else).
func (w *compactWriter) list(id int16, elem byte, n int) {
	w.field(id, ctList)
	if n < 15 {
		w.b = append(w.b, byte(n)<<4|elem)
	} else {
		w.b = append(w.b, 0xf0|elem)
		w.b = binary.AppendUvarint(w.b, uint64(n))
	}
}

// beginStruct opens a struct field; id < 0 opens a list element.
func (w *compactWriter) beginStruct(id int16) {
	if id >= 0 {
		w.field(id, ctStruct)
	}
	w.stack = append(w.stack, w.last)
	w.last = 0
}

// endStruct writes the stop byte of the struct beginStruct opened.
func (w *compactWriter) endStruct() {
	w.b = append(w.b, 0)
	n := len(w.stack) - 1
	w.last, w.stack = w.stack[n], w.stack[:n]
}
