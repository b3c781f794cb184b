package query

import (
	"slices"
	"testing"
)

// FuzzQueryDecoders feeds arbitrary bytes to the page-header parser and
// the value decoders, which read what is on disk: none may panic or read
// past its input, and the fast bit unpacking must agree with readBits.
//
//	go test ./columnar/query -run '^$' -fuzz FuzzQueryDecoders -fuzztime 30s
func FuzzQueryDecoders(f *testing.F) {
	f.Add([]byte{0x15, 0x00, 0x15, 0x10, 0x15, 0x10, 0x2c, 0x15, 0x04, 0x15, 0x10, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00}, uint8(3), uint16(10))
	f.Add([]byte{0x80, 0x01, 0x04, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00}, uint8(1), uint16(10)) // delta: 128/4, 10 values, first 1
	f.Add([]byte{0x03, 0xff, 0x0f, 0x08, 0x01}, uint8(1), uint16(20))                         // hybrid: bit-packed group, RLE run
	f.Add([]byte{0x19, 0x1c, 0xff, 0xff, 0xff, 0xff, 0x0f}, uint8(33), uint16(3))             // struct and list in a header
	f.Fuzz(func(t *testing.T, b []byte, width uint8, n uint16) {
		if n > 4096 {
			n %= 4096
		}
		if h, used, err := readPageHeader(b); err == nil && (used > len(b) || used <= 0) {
			t.Fatalf("header %+v used %d of %d bytes", h, used, len(b))
		}
		dst := make([]int32, n)
		used, err := decodeHybrid(b, uint(width), dst, 0)
		if err == nil && used > len(b) {
			t.Fatalf("hybrid used %d of %d bytes", used, len(b))
		}
		// Passing over the first values changes nothing after them.
		skip := int(width) * 7 % (int(n) + 1)
		part := make([]int32, n)
		used2, err2 := decodeHybrid(b, uint(width), part, skip)
		if (err == nil) != (err2 == nil) || err == nil && (used2 != used || !slices.Equal(part[skip:], dst[skip:])) {
			t.Fatalf("hybrid skipping %d: %v, %d bytes; whole: %v, %d bytes", skip, err2, used2, err, used)
		}
		valid := make([]bool, n)
		if k, before, err := decodeLevels(b, valid, 0); err == nil {
			trues := 0
			for _, ok := range valid {
				if ok {
					trues++
				}
			}
			if k != trues || before != 0 {
				t.Fatalf("levels: %d present, %d set, %d before row 0", k, trues, before)
			}
			// Counting the first rows without writing them changes
			// nothing after them.
			part := make([]bool, n)
			k2, before2, err2 := decodeLevels(b, part, skip)
			want := 0
			for _, ok := range valid[:skip] {
				if ok {
					want++
				}
			}
			if err2 != nil || k2 != k || before2 != want || !slices.Equal(part[skip:], valid[skip:]) {
				t.Fatalf("levels skipping %d: %d present, %d before (want %d, %d), %v", skip, k2, before2, k, want, err2)
			}
		}
		if locs, err := parseOffsetIndex(b, nil); err == nil {
			for _, l := range locs {
				if l.off < 0 || l.size < 0 || l.firstRow < 0 {
					t.Fatalf("page location %+v accepted", l)
				}
			}
		}
		// Picking a few values gives what decoding them all gives.
		var idx []int32
		for i := int(width) % 7; i < int(n); i += 1 + (i*int(width))%97 {
			idx = append(idx, int32(i))
		}
		if err == nil {
			out := make([]int32, len(idx))
			if err := pickHybrid(b, uint(width), idx, out); err != nil {
				t.Fatalf("pickHybrid: %v; decodeHybrid decoded %d values", err, n)
			}
			for j, i := range idx {
				if out[j] != dst[i] {
					t.Fatalf("pickHybrid value %d: %d, decodeHybrid %d", i, out[j], dst[i])
				}
			}
		}
		if _, _, err := decodeLevels(b, valid, 0); err == nil {
			ok, rank := make([]bool, len(idx)), make([]int32, len(idx))
			if err := pickLevels(b, int(n), idx, ok, rank); err != nil {
				t.Fatalf("pickLevels: %v; decodeLevels decoded %d rows", err, n)
			}
			present := 0
			j := 0
			for i, v := range valid {
				if j < len(idx) && int(idx[j]) == i {
					if ok[j] != v || int(rank[j]) != present {
						t.Fatalf("pickLevels row %d: %v, rank %d; decodeLevels %v, rank %d", i, ok[j], rank[j], v, present)
					}
					j++
				}
				if v {
					present++
				}
			}
		}
		var d deltaDecoder
		all64 := make([]int64, n)
		if decodeDelta(&d, b, all64) == nil {
			out := make([]int64, len(idx))
			if err := pickDelta(&d, b, idx, out); err != nil {
				t.Fatalf("pickDelta: %v; decodeDelta decoded %d values", err, n)
			}
			for j, i := range idx {
				if out[j] != all64[i] {
					t.Fatalf("pickDelta value %d: %d, decodeDelta %d", i, out[j], all64[i])
				}
			}
		}
		all32 := make([]int32, n)
		if decodeDelta(&d, b, all32) == nil {
			out := make([]int32, len(idx))
			if err := pickDelta(&d, b, idx, out); err != nil || len(idx) > 0 && out[len(out)-1] != all32[idx[len(idx)-1]] {
				t.Fatalf("pickDelta int32: %v", err)
			}
		}
		if plainInt64(b, all64) == nil {
			out := make([]int64, len(idx))
			if err := pickPlain(b, idx, out); err != nil || len(idx) > 0 && out[0] != all64[idx[0]] {
				t.Fatalf("pickPlain int64: %v", err)
			}
		}
		if plainInt32(b, all32) == nil {
			out := make([]int32, len(idx))
			if err := pickPlain(b, idx, out); err != nil || len(idx) > 0 && out[0] != all32[idx[0]] {
				t.Fatalf("pickPlain int32: %v", err)
			}
		}
		for _, p := range []int{0, 1, 5} {
			plainByteArrays(b, p, func(int, []byte) {})
		}
		// Unpacking against the reference.
		w := uint(width) % 33
		cnt := len(b) * 8 / max(int(w), 1)
		cnt = min(cnt, 64)
		got := make([]int32, cnt)
		unpack32(got, b, w)
		for i := range got {
			if want := int32(readBits(b, uint(i)*w, w)); got[i] != want {
				t.Fatalf("unpack32 width %d value %d: %d, want %d", w, i, got[i], want)
			}
		}
		w64 := uint(width) % 65
		cnt = min(len(b)*8/max(int(w64), 1), 64)
		got64 := make([]uint64, cnt)
		unpack64(got64, b, w64)
		for i := range got64 {
			if want := readBits(b, uint(i)*w64, w64); got64[i] != want {
				t.Fatalf("unpack64 width %d value %d: %d, want %d", w64, i, got64[i], want)
			}
		}
	})
}
