package flowlog

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// scanned is one record a Scanner returned.
type scanned struct {
	Rec      string
	Off      int64
	Trailing bool
}

// scanReaders are the ways a test feeds a Scanner: they must all give the
// same records, offsets and errors.
var scanReaders = []struct {
	name string
	r    func([]byte) io.Reader
}{
	{"bytes", func(b []byte) io.Reader { return bytes.NewReader(b) }},
	{"one byte", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	{"half", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
	{"data+EOF", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
}

// scanAllErrs reads s to the end, going on after the errors that do not
// end the scan (Done), as the converter does.
func scanAllErrs(t testing.TB, s *Scanner) ([]scanned, []error) {
	t.Helper()
	var out []scanned
	var errs []error
	for i := 0; ; i++ {
		if i > 1<<20 {
			t.Fatal("scanner does not stop")
		}
		rec, off, err := s.Next()
		if errors.Is(err, io.EOF) {
			if !s.Done() {
				t.Errorf("io.EOF but not Done")
			}
			return out, errs
		}
		if err != nil {
			errs = append(errs, err)
			if s.Done() {
				// After an error that ends the scan, Next says io.EOF.
				if _, _, err2 := s.Next(); !errors.Is(err2, io.EOF) {
					t.Errorf("Next after error %v: %v, want io.EOF", err, err2)
				}
				return out, errs
			}
			continue
		}
		out = append(out, scanned{string(rec), off, s.HadTrailingComma()})
	}
}

// scanAll reads s to the end and returns its only error, if any.
func scanAll(t testing.TB, s *Scanner) ([]scanned, error) {
	t.Helper()
	out, errs := scanAllErrs(t, s)
	switch len(errs) {
	case 0:
		return out, nil
	case 1:
		return out, errs[0]
	}
	t.Errorf("%d errors: %v", len(errs), errs)
	return out, errs[0]
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checkScanned checks that each record is the input at its offset, and
// that End is past the last one (or from, when there is none; just past
// it when exact) with the CRC of the bytes before it.
func checkScanned(t *testing.T, in []byte, from int64, recs []scanned, s *Scanner, exact bool) {
	t.Helper()
	prev := from
	for i, r := range recs {
		if r.Off < prev || r.Off+int64(len(r.Rec)) > int64(len(in)) || string(in[r.Off:r.Off+int64(len(r.Rec))]) != r.Rec {
			t.Errorf("record %d at %d is not the input there", i, r.Off)
		}
		prev = r.Off + int64(len(r.Rec))
	}
	end, crc := s.End()
	if end < prev || (exact && end != prev) || end > int64(len(in)) {
		t.Errorf("End() offset %d, last record ends at %d (exact %v)", end, prev, exact)
		return
	}
	if want := crc32.Checksum(in[:end], castagnoli); crc != want {
		t.Errorf("End() crc %08x, want crc32c(input[:%d]) = %08x", crc, end, want)
	}
}

// errOffset returns the offset of a positioned *Error, or -1.
func errOffset(err error) int64 {
	var e *Error
	if errors.As(err, &e) {
		return e.Offset
	}
	return -1
}

const (
	recA   = `{"a":1}`
	recB   = `{"b":[2,{"c":"}"}]}`
	bom    = "\xEF\xBB\xBF"
	extraK = `,"x":{"y":[1,"]}"]},"z":"s","n":null,"t":true}`
)

func TestScannerShapes(t *testing.T) {
	ab := func(offA, offB int64) []scanned { return []scanned{{recA, offA, false}, {recB, offB, false}} }
	tests := []struct {
		name string
		in   string
		want []scanned
	}{
		{"wrapper compact", `{"records":[` + recA + `,` + recB + `]}`, ab(12, 20)},
		{"wrapper pretty", "{\n  \"records\": [\n    " + recA + ",\n    " + recB + "\n  ]\n}\n", ab(21, 34)},
		{"wrapper with BOM", bom + `{"records":[` + recA + `,` + recB + `]}`, ab(15, 23)},
		// An appended block: BOM, then the comma that separated it from
		// the records before.
		{"block fragment", bom + "," + recA + "," + recB, ab(4, 12)},
		{"block fragment CRLF", bom + ",\r\n" + recA + ",\r\n" + recB + "\r\n", ab(6, 16)},
		{"ndjson", recA + "\n" + recB + "\n", ab(0, 8)},
		{"ndjson CRLF tabs", recA + "\r\n\t" + recB, ab(0, 10)},
		{"concatenated", recA + recB, ab(0, 7)},
		{"concatenated with comma", recA + "," + recB, ab(0, 8)},
		{"bare array", `[` + recA + `,` + recB + `]`, ab(1, 9)},
		{"bare array pretty", "[\n " + recA + " ,\n " + recB + "\n]\n", ab(3, 14)},
		{"wrapper extra key after", `{"records":[` + recA + `,` + recB + `]` + extraK, ab(12, 20)},
		{"wrapper key Records", `{"Records":[` + recA + `,` + recB + `]}`, ab(12, 20)},
		{"wrapper key RECORDS spaced", "{ \"RECORDS\" :\t[ " + recA + `,` + recB + `]}`, ab(16, 24)},
		{"wrappers concatenated", `{"records":[` + recA + "]}\n{\"records\":[" + recB + `]}`, ab(12, 34)},
		{"wrapper then bare record", `{"records":[` + recA + "]}\n" + recB, ab(12, 22)},
		{"array trailing comma", `{"records":[` + recA + `,` + recB + `,]}`, ab(12, 20)},
		{"empty wrapper", `{"records":[]}`, nil},
		{"empty wrapper pretty", "{\n\"records\": [\n]\n}\n", nil},
		{"empty array", `[]`, nil},
		{"empty", ``, nil},
		{"whitespace", " \n\t\r\n", nil},
		{"BOM only", bom, nil},
		{"commas only", ",,,", nil},
		// Only a first key "records" with an array value makes a wrapper;
		// otherwise the object is a record.
		{"records not an array", `{"records":5}`, []scanned{{`{"records":5}`, 0, false}}},
		{"records not first", `{"x":1,"records":[` + recA + `]}`, []scanned{{`{"x":1,"records":[` + recA + `]}`, 0, false}}},
		{"key recordsX", `{"recordsX":[` + recA + `]}`, []scanned{{`{"recordsX":[` + recA + `]}`, 0, false}}},
		{"empty record", `{}`, []scanned{{`{}`, 0, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, rd := range scanReaders {
				s := NewScanner(rd.r([]byte(tc.in)))
				got, err := scanAll(t, s)
				if err != nil {
					t.Fatalf("%s: %v", rd.name, err)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s:\n got %v\nwant %v", rd.name, got, tc.want)
				}
				checkScanned(t, []byte(tc.in), 0, got, s, true)
			}
		})
	}
}

func TestScannerStrings(t *testing.T) {
	tests := []struct {
		name string
		rec  string
	}{
		{"braces in string", `{"s":"}}]]{{[["}`},
		{"escaped quote", `{"s":"a\"}b"}`},
		{"escaped backslash before quote", `{"s":"a\\","t":"}"}`},
		{"three backslashes", `{"s":"\\\"}{"}`},
		{"four backslashes", `{"s":"\\\\","t":1}`},
		{"unicode escape of brace", `{"s":"\u007d\u005d"}`},
		{"quote in key", `{"a\"}":{"b":"]"}}`},
		{"nested", `{"a":[{"b":[{"c":[[[]]]}]}],"d":{"e":{}}}`},
		{"utf-8", `{"s":"é✓🙂{"}`},
		{"bom inside string", `{"s":"` + bom + `"}`},
		{"string of commas", `{"s":",,,"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := `{"records":[` + tc.rec + `,` + recA + `]}`
			want := []scanned{{tc.rec, 12, false}, {recA, int64(13 + len(tc.rec)), false}}
			for _, rd := range scanReaders {
				s := NewScanner(rd.r([]byte(in)))
				got, err := scanAll(t, s)
				if err != nil {
					t.Fatalf("%s: %v", rd.name, err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s:\n got %v\nwant %v", rd.name, got, want)
				}
			}
		})
	}
}

func TestScannerTrailingComma(t *testing.T) {
	tests := []struct {
		rec  string
		want bool
	}{
		{`{"a":1}`, false},
		{`{"a":1,}`, true},
		{`{"a":[1,2,],"b":1}`, true},
		{"{\"a\":1 ,\n  }", true},
		{"{\"a\":[\"x\",\r\n\t]}", true},
		{`{"s":",}"}`, false},
		{`{"s":",]","t":[1]}`, false},
		{`{"a":[1,2],"b":{}}`, false},
		{`{"a":{"b":[{"c":1},]}}`, true},
		{`{"a":1}`, false}, // the flag is per record
	}
	var in strings.Builder
	var want []scanned
	for _, tc := range tests {
		want = append(want, scanned{tc.rec, int64(in.Len()), tc.want})
		in.WriteString(tc.rec)
		in.WriteString("\n")
	}
	for _, rd := range scanReaders {
		t.Run(rd.name, func(t *testing.T) {
			got, err := scanAll(t, NewScanner(rd.r([]byte(in.String()))))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("\n got %v\nwant %v", got, want)
			}
		})
	}
	// The real sample: its last record has a trailing comma in a tuple list.
	b, err := os.ReadFile("../testdata/flowlogs/msft-nsgconnector-nsg-v2-aks-trailing-comma.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := scanAll(t, NewScanner(bytes.NewReader(b)))
	if err != nil || len(got) != 1 || !got[0].Trailing {
		t.Errorf("aks sample: %d records, err %v, trailing %v", len(got), err, len(got) == 1 && got[0].Trailing)
	}
}

func TestScannerTruncated(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []scanned
	}{
		{"inside second record", `{"records":[` + recA + `,{"b":`, []scanned{{recA, 12, false}}},
		{"inside a string", `{"records":[` + recA + `,{"b":"}]}`, []scanned{{recA, 12, false}}},
		{"after an escape", `{"records":[` + recA + `,{"b":"\`, []scanned{{recA, 12, false}}},
		{"inside first record", `{"records":[{"a":`, nil},
		{"array not closed", `{"records":[` + recA, []scanned{{recA, 12, false}}},
		{"array not closed after comma", `{"records":[` + recA + ",\n", []scanned{{recA, 12, false}}},
		{"wrapper not closed", `{"records":[` + recA + `]`, []scanned{{recA, 12, false}}},
		{"extra key not closed", `{"records":[` + recA + `],"x":{"y":1`, []scanned{{recA, 12, false}}},
		{"extra key value missing", `{"records":[` + recA + `],"x":`, []scanned{{recA, 12, false}}},
		{"bare array not closed", `[` + recA + `,`, []scanned{{recA, 1, false}}},
		{"ndjson last line cut", recA + "\n" + `{"b":[2,`, []scanned{{recA, 0, false}}},
		{"fragment cut", bom + "," + recA + `,{"b"`, []scanned{{recA, 4, false}}},
		{"wrapper open only", `{"records":[`, nil},
		{"brace only", `{`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, rd := range scanReaders {
				s := NewScanner(rd.r([]byte(tc.in)))
				got, err := scanAll(t, s)
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("%s: err %v, want ErrTruncated", rd.name, err)
				}
				if Reason(err) != "truncated" || errOffset(err) < 0 {
					t.Errorf("%s: %v: reason %q, offset %d", rd.name, err, Reason(err), errOffset(err))
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s:\n got %v\nwant %v", rd.name, got, tc.want)
				}
				checkScanned(t, []byte(tc.in), 0, got, s, true)
				if len(got) == 0 {
					if end, crc := s.End(); end != 0 || crc != 0 {
						t.Errorf("%s: End() = %d, %08x with no record", rd.name, end, crc)
					}
				}
			}
		})
	}
}

func TestScannerBadJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []scanned
		off  int64 // of the error
	}{
		{"garbage", `xyz`, nil, 0},
		{"garbage after BOM and space", bom + "  hello", nil, 5},
		{"half a BOM", "\xEF\xBB", nil, 0},
		{"number", `42`, nil, 0},
		{"string at top", `"records"`, nil, 0},
		{"closing brace", `}`, nil, 0},
		{"garbage in array", `{"records":[` + recA + `,x]}`, []scanned{{recA, 12, false}}, 20},
		{"number in array", `{"records":[1]}`, nil, 12},
		{"array in array", `[[` + recA + `]]`, nil, 1},
		{"garbage after record", recA + ` garbage`, []scanned{{recA, 0, false}}, 8},
		{"garbage after wrapper", `{"records":[` + recA + `]} x`, []scanned{{recA, 12, false}}, 22},
		{"garbage after array", `{"records":[` + recA + `] x}`, []scanned{{recA, 12, false}}, 21},
		{"key without colon", `{"records":[` + recA + `],"x" 1}`, []scanned{{recA, 12, false}}, 25},
		{"extra ]", `[` + recA + `]]`, []scanned{{recA, 1, false}}, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, rd := range scanReaders {
				s := NewScanner(rd.r([]byte(tc.in)))
				got, err := scanAll(t, s)
				if !errors.Is(err, ErrBadJSON) {
					t.Fatalf("%s: err %v, want ErrBadJSON", rd.name, err)
				}
				if off := errOffset(err); off != tc.off {
					t.Errorf("%s: error at %d, want %d (%v)", rd.name, off, tc.off, err)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s:\n got %v\nwant %v", rd.name, got, tc.want)
				}
				checkScanned(t, []byte(tc.in), 0, got, s, true)
			}
		})
	}
}

func TestScannerReadError(t *testing.T) {
	boom := errors.New("boom")
	// The reader fails after a complete record and the start of another,
	// far enough in for the wrapper's look-ahead not to need more input.
	in := `{"records":[` + recA + `,{"b":` + strings.Repeat(" ", 64)
	s := NewScanner(io.MultiReader(strings.NewReader(in), iotest.ErrReader(boom)))
	got, err := scanAll(t, s)
	if !errors.Is(err, ErrRead) || Reason(err) != "read-error" || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err %v, want ErrRead with the reader's message", err)
	}
	if want := []scanned{{recA, 12, false}}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if end, _ := s.End(); end != 19 {
		t.Errorf("End() = %d, want 19", end)
	}
}

// bigRecord returns a record of about n bytes, its bulk in one string
// (str) or in many small objects.
func bigRecord(n int, str bool) string {
	if str {
		return `{"s":"` + strings.Repeat("x{]\\\"", n/5) + `"}`
	}
	return `{"a":[` + strings.Repeat(`{"b":"}"},`, n/10) + `{}]}`
}

func TestScannerLargeRecords(t *testing.T) {
	for _, str := range []bool{true, false} {
		for _, size := range []int{initialBufSize - 20, initialBufSize + 1, 3 * initialBufSize} {
			big := bigRecord(size, str)
			t.Run(fmt.Sprintf("string=%v/%d", str, len(big)), func(t *testing.T) {
				in := `{"records":[` + recA + `,` + big + `,` + recB + `]}`
				want := []scanned{{recA, 12, false}, {big, 20, false}, {recB, int64(21 + len(big)), false}}
				for _, rd := range scanReaders {
					s := NewScanner(rd.r([]byte(in)))
					got, err := scanAll(t, s)
					if err != nil {
						t.Fatalf("%s: %v", rd.name, err)
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s: records differ", rd.name)
					}
					checkScanned(t, []byte(in), 0, got, s, true)
					if len(big) > initialBufSize && len(s.buf) <= initialBufSize {
						t.Errorf("%s: buffer did not grow: %d", rd.name, len(s.buf))
					}
				}
			})
		}
	}
}

// TestScannerSmallRecordsBuffer checks that many small records go through
// the initial buffer without growing it: memory is the largest record plus
// the buffer.
func TestScannerSmallRecordsBuffer(t *testing.T) {
	var in bytes.Buffer
	var want []scanned
	in.WriteString(`{"records":[`)
	for i := range 20000 {
		if i > 0 {
			in.WriteString(",\n")
		}
		rec := fmt.Sprintf(`{"i":%d,"pad":%q}`, i, strings.Repeat("p", i%97))
		want = append(want, scanned{rec, int64(in.Len()), false})
		in.WriteString(rec)
	}
	in.WriteString("]}")
	if in.Len() < 4*initialBufSize {
		t.Fatalf("input %d bytes, want several buffers", in.Len())
	}
	for _, rd := range scanReaders {
		t.Run(rd.name, func(t *testing.T) {
			s := NewScanner(rd.r(in.Bytes()))
			got, err := scanAll(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("records differ (%d vs %d)", len(got), len(want))
			}
			checkScanned(t, in.Bytes(), 0, got, s, true)
			if len(s.buf) != initialBufSize {
				t.Errorf("buffer grew to %d", len(s.buf))
			}
		})
	}
}

func TestScannerMaxRecord(t *testing.T) {
	tests := []struct {
		name    string
		max     int // -1: the record's length
		rec     string
		tooBig  bool // ErrTooLarge at the record
		goesOn  bool // and the scan goes on after it
		bugNote string
	}{
		{"well under", 1000, bigRecord(500, false), false, true, ""},
		{"exactly max", -1, bigRecord(1000, false), false, true, ""},
		{"default max, record over the initial buffer", defaultMaxRec, bigRecord(2*initialBufSize, true), false, true, ""},
		// A record over MaxRecord is skipped and the scan goes on, whether
		// the buffer holds it whole or it is dropped as it is scanned.
		{"over max, within the buffer", 1000, bigRecord(2000, false), true, true, ""},
		{"string over max, within the buffer", 1000, bigRecord(2000, true), true, true, ""},
		{"over max, over the buffer", 1000, bigRecord(3*initialBufSize, false), true, true, ""},
		{"string over max, over the buffer", 1000, bigRecord(3*initialBufSize, true), true, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := `{"records":[` + recA + `,` + tc.rec + `,` + recB + `]}`
			offB := int64(21 + len(tc.rec))
			var bugs []string
			for _, rd := range scanReaders[:2] {
				s := NewScanner(rd.r([]byte(in)))
				s.MaxRecord = tc.max
				if tc.max < 0 {
					s.MaxRecord = len(tc.rec)
				}
				got, err := scanAll(t, s)
				var want []scanned
				switch {
				case !tc.tooBig:
					want = []scanned{{recA, 12, false}, {tc.rec, 20, false}, {recB, offB, false}}
				case tc.goesOn:
					want = []scanned{{recA, 12, false}, {recB, offB, false}}
				default:
					want = []scanned{{recA, 12, false}}
				}
				bad := func(format string, args ...any) {
					t.Helper()
					if tc.bugNote != "" && rd.name != "bytes" {
						bugs = append(bugs, rd.name+": "+fmt.Sprintf(format, args...))
						return
					}
					t.Errorf(rd.name+": "+format, args...)
				}
				if !tc.tooBig {
					if err != nil {
						bad("err %v", err)
					}
				} else {
					if !errors.Is(err, ErrTooLarge) || Reason(err) != "too-large" {
						bad("err %v, want ErrTooLarge", err)
					} else if off := errOffset(err); off != 20 {
						bad("error at %d, want 20 (the record's start)", off)
					}
				}
				if !slices.Equal(got, want) {
					bad("got %v, want %v", got, want)
				}
				wantEnd := int64(19)
				if tc.goesOn {
					wantEnd = offB + int64(len(recB))
				}
				if end, crc := s.End(); end != wantEnd || crc != crc32.Checksum([]byte(in[:end]), castagnoli) {
					bad("End() = %d, %08x; want %d and the prefix's crc", end, crc, wantEnd)
				}
			}
			if len(bugs) > 0 {
				t.Skipf("%s: %q", tc.bugNote, bugs)
			}
		})
	}
}

// TestScannerSpaceBetweenRecords: blank space between records is not a
// record; a long run of it must not count against MaxRecord.
func TestScannerSpaceBetweenRecords(t *testing.T) {
	in := recA + strings.Repeat(" \n", 2*initialBufSize) + recB
	want := []scanned{{recA, 0, false}, {recB, int64(len(in) - len(recB)), false}}
	s := NewScanner(strings.NewReader(in))
	s.MaxRecord = 1000
	got, err := scanAll(t, s)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("a run of %d blank bytes between records gives %v, %v (errOffset %d)", len(in)-len(recA)-len(recB), got, err, errOffset(err))
	}
	checkScanned(t, []byte(in), 0, got, s, true)
}

// TestScannerDamagedRecord: an unbalanced quote makes a record swallow
// the ones after it to the end of the input; the scanner reports the
// damage and resumes at the first record start inside.
func TestScannerDamagedRecord(t *testing.T) {
	t2, t3 := `{"time":"t2"}`, `{"time":"t3","x":[1]}`
	tests := []struct {
		name    string
		in      string
		errOff  int64
		want    []string
		wantErr error
	}{
		{"missing closing quote", `{"records":[{"time":"t1","s":"oops},` + t2 + `,` + t3 + `]}`, 12, []string{t2, t3}, ErrBadJSON},
		{"ndjson", `{"time":"t1","s":"oops}` + "\n" + t2 + "\n" + t3 + "\n", 0, []string{t2, t3}, ErrBadJSON},
		// No record key after the damage: the input was cut short.
		{"no record inside", `{"records":[{"time":"t1","s":"oops},{"a":1}]}`, 12, nil, ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, rd := range scanReaders {
				s := NewScanner(rd.r([]byte(tc.in)))
				got, err := scanAll(t, s)
				if !errors.Is(err, tc.wantErr) || errOffset(err) != tc.errOff {
					t.Fatalf("%s: err %v at %d, want %v at %d", rd.name, err, errOffset(err), tc.wantErr, tc.errOff)
				}
				var recs []string
				for _, g := range got {
					recs = append(recs, g.Rec)
				}
				if !slices.Equal(recs, tc.want) {
					t.Errorf("%s: got %v, want %q", rd.name, got, tc.want)
				}
				checkScanned(t, []byte(tc.in), 0, got, s, false)
			}
		})
	}
}

// TestScannerResync: the decoder rejects a record that brace-matched but
// swallowed others (a missing closing brace); Resync moves to the first
// record inside it.
func TestScannerResync(t *testing.T) {
	t2, t3 := `{"time":"t2"}`, `{"time":"t3","x":[1]}`
	bad := `{"time":"t1","p":{"a":1},` + t2 + `,` + t3 + `]`
	in := `{"records":[` + bad + `}`
	for _, rd := range scanReaders {
		t.Run(rd.name, func(t *testing.T) {
			s := NewScanner(rd.r([]byte(in)))
			if s.Resync() {
				t.Error("Resync before any record")
			}
			rec, off, err := s.Next()
			if err != nil || string(rec) != bad || off != 12 {
				t.Fatalf("first record %q at %d, %v; want the damaged one", rec, off, err)
			}
			if !s.Resync() {
				t.Fatal("Resync found no record inside")
			}
			if s.Resync() {
				t.Error("second Resync")
			}
			end, crc := s.End()
			if want := int64(strings.Index(in, t2)); end != want || crc != crc32.Checksum([]byte(in[:end]), castagnoli) {
				t.Errorf("End() after Resync = %d %08x, want %d and the prefix's crc", end, crc, want)
			}
			got, err := scanAll(t, s)
			want := []scanned{{t2, int64(strings.Index(in, t2)), false}, {t3, int64(strings.Index(in, t3)), false}}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("after Resync: %v, %v; want %v", got, err, want)
			}
			checkScanned(t, []byte(in), 0, got, s, true)
		})
	}
	// Nothing to resynchronise to: the scan goes on after the record.
	in2 := `{"records":[{"time":"t1","p":{"a":1},{"b":2}],` + t2 + `]}`
	s := NewScanner(strings.NewReader(in2))
	if _, _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if s.Resync() {
		t.Fatal("Resync found a record start where there is none")
	}
	got, err := scanAll(t, s)
	if want := []scanned{{t2, int64(strings.Index(in2, t2)), false}}; err != nil || !slices.Equal(got, want) {
		t.Errorf("after a failed Resync: %v, %v; want %v", got, err, want)
	}
}

// sampleBlobs are the real flow log files, read whole.
func sampleBlobs(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("../testdata/flowlogs/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	m := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(f)] = b
	}
	return m
}

func TestScannerSamples(t *testing.T) {
	// Records per file, counted with Python's json module.
	want := map[string]int{
		"msft-nsgconnector-nsg-v1-block-fragment.txt":      1,
		"msft-nsgconnector-nsg-v1-sampleJsonInput.json":    3,
		"msft-nsgconnector-nsg-v1-sampleOfInputV1.json":    24,
		"msft-nsgconnector-nsg-v2-aks-trailing-comma.json": 1,
		"sumologic-nsg-v1v2-mixed-blob_fixtures-2019.json": 18,
		"sumologic-nsg-v2-blob_fixtures.json":              8,
		"sumologic-vnet-v4-target-nic.json":                4,
		"sumologic-vnet-v4-target-subnet.json":             4,
		"sumologic-vnet-v4-target-vnet.json":               8,
	}
	blobs := sampleBlobs(t)
	for name, b := range blobs {
		t.Run(name, func(t *testing.T) {
			n, ok := want[name]
			if !ok {
				t.Skip("no expected count for this file")
			}
			var first []scanned
			for _, rd := range scanReaders {
				s := NewScanner(rd.r(b))
				got, err := scanAll(t, s)
				if err != nil {
					t.Fatalf("%s: %v", rd.name, err)
				}
				if len(got) != n {
					t.Errorf("%s: %d records, want %d", rd.name, len(got), n)
				}
				for i, r := range got {
					if r.Rec[0] != '{' || r.Rec[len(r.Rec)-1] != '}' {
						t.Errorf("%s: record %d is not an object: %.40q", rd.name, i, r.Rec)
					}
				}
				checkScanned(t, b, 0, got, s, true)
				if first == nil {
					first = got
				} else if !slices.Equal(got, first) {
					t.Errorf("%s: records differ from the bytes reader's", rd.name)
				}
			}
		})
	}
	// The block fragment: BOM, comma, one record to the end of the file.
	frag := blobs["msft-nsgconnector-nsg-v1-block-fragment.txt"]
	got, _ := scanAll(t, NewScanner(bytes.NewReader(frag)))
	if len(got) != 1 || got[0].Off != 4 || got[0].Rec != string(frag[4:]) {
		t.Errorf("block fragment: %d records, first at %d", len(got), got[0].Off)
	}
}

// growBlob inserts extra records after the last record of a blob, as
// Azure does when it appends a block before the closing "]}".
func growBlob(t *testing.T, blob []byte, sep string, extra ...string) []byte {
	t.Helper()
	recs, err := scanAll(t, NewScanner(bytes.NewReader(blob)))
	if err != nil || len(recs) == 0 {
		t.Fatalf("scan: %d records, %v", len(recs), err)
	}
	last := recs[len(recs)-1]
	end := int(last.Off) + len(last.Rec)
	var g []byte
	g = append(g, blob[:end]...)
	for _, e := range extra {
		g = append(g, sep...)
		g = append(g, e...)
	}
	return append(g, blob[end:]...)
}

func TestResumeScanner(t *testing.T) {
	blobs := sampleBlobs(t)
	extra1 := `{"time":"2024-08-19T19:00:00Z","properties":{"Version":2,"flows":[{"rule":"r","flows":[{"mac":"6045BDEC2532","flowTuples":["1724090346,10.1.0.4,20.98.192.237,35620,443,T,O,A,B,,,,"]}]}]}}`
	extra2 := `{"time":"2024-08-19T19:01:00Z","s":"]}{\"","properties":{"Version":2,"flows":[]}}`
	tests := []struct {
		name string
		blob []byte
		sep  string
		mode string // Mode() after a record
	}{
		{"wrapper compact", blobs["sumologic-nsg-v2-blob_fixtures.json"], ",", ModeWrapped},
		{"wrapper pretty", blobs["msft-nsgconnector-nsg-v1-sampleJsonInput.json"], ",\n    ", ModeWrapped},
		{"wrapper pretty mixed", blobs["sumologic-nsg-v1v2-mixed-blob_fixtures-2019.json"], ",\n        ", ModeWrapped},
		{"wrapper vnet", blobs["sumologic-vnet-v4-target-vnet.json"], ",", ModeWrapped},
		{"block fragment", blobs["msft-nsgconnector-nsg-v1-block-fragment.txt"], ",", ModeTop},
		{"ndjson", []byte(recA + "\n" + recB + "\n" + recA + "\n"), "\n", ModeTop},
		{"bare array", []byte("[" + recA + ",\n" + recB + "]\n"), ",\n", ModeBareArray},
		{"wrapper extra key", []byte(`{"records":[` + recA + `,` + recB + `]` + extraK), ",", ModeWrapped},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.blob == nil {
				t.Fatal("missing sample")
			}
			grown := growBlob(t, tc.blob, tc.sep, extra1, extra2)
			all, err := scanAll(t, NewScanner(bytes.NewReader(grown)))
			if err != nil {
				t.Fatal(err)
			}
			orig, err := scanAll(t, NewScanner(bytes.NewReader(tc.blob)))
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != len(orig)+2 || !slices.Equal(all[:len(orig)], orig) {
				t.Fatalf("grown blob: %d records, original %d", len(all), len(orig))
			}
			for k := range orig {
				t.Run(fmt.Sprint("after ", k), func(t *testing.T) {
					// Scan the original blob up to record k; stop there.
					s := NewScanner(bytes.NewReader(tc.blob))
					for range k + 1 {
						if _, _, err := s.Next(); err != nil {
							t.Fatal(err)
						}
					}
					off, crc := s.End()
					mode := s.Mode()
					if want := orig[k].Off + int64(len(orig[k].Rec)); off != want {
						t.Fatalf("End() = %d, want %d", off, want)
					}
					if want := crc32.Checksum(tc.blob[:off], castagnoli); crc != want {
						t.Errorf("End() crc %08x, want crc32c(blob[:%d]) %08x", crc, off, want)
					}
					if mode != tc.mode {
						t.Errorf("Mode() = %q, want %q", mode, tc.mode)
					}
					for _, b := range []struct {
						name string
						blob []byte
						want []scanned
					}{
						{"unchanged", tc.blob, orig[k+1:]},
						{"grown", grown, all[k+1:]},
					} {
						for _, rd := range scanReaders[:2] {
							rs := ResumeScanner(rd.r(b.blob[off:]), off, mode, crc)
							if m := rs.Mode(); m != mode {
								t.Errorf("%s %s: resumed Mode() = %q", b.name, rd.name, m)
							}
							if e, c := rs.End(); e != off || c != crc {
								t.Errorf("%s %s: resumed End() = %d %08x before any record", b.name, rd.name, e, c)
							}
							got, err := scanAll(t, rs)
							if err != nil {
								t.Fatalf("%s %s: %v", b.name, rd.name, err)
							}
							if !slices.Equal(got, b.want) {
								t.Errorf("%s %s:\n got %d records %v\nwant %d records", b.name, rd.name, len(got), got, len(b.want))
							}
							checkScanned(t, b.blob, off, got, rs, true)
						}
					}
				})
			}
		})
	}
}

// TestResumeScannerPartialAppend resumes a blob first read while Azure was
// still writing a block: the first read ends inside a record.
func TestResumeScannerPartialAppend(t *testing.T) {
	blob := sampleBlobs(t)["sumologic-nsg-v2-blob_fixtures.json"]
	grown := growBlob(t, blob, ",", recA, recB)
	all, _ := scanAll(t, NewScanner(bytes.NewReader(grown)))
	n := len(all) - 2
	cut := int(all[n].Off) + 3 // inside the first appended record
	s := NewScanner(bytes.NewReader(grown[:cut]))
	got, err := scanAll(t, s)
	if !errors.Is(err, ErrTruncated) || len(got) != n {
		t.Fatalf("partial read: %d records, err %v", len(got), err)
	}
	off, crc := s.End()
	mode := s.Mode()
	if want := all[n-1].Off + int64(len(all[n-1].Rec)); off != want {
		t.Fatalf("End() = %d, want %d (the last complete record)", off, want)
	}
	if crc != crc32.Checksum(grown[:off], castagnoli) {
		t.Errorf("End() crc is not crc32c of the prefix")
	}
	// Mode is taken after a failed Next here, as the converter does not;
	// the scanner is done, so it reports top. Use the mode at the record.
	_ = mode
	rs := ResumeScanner(bytes.NewReader(grown[off:]), off, ModeWrapped, crc)
	rest, err := scanAll(t, rs)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rest, all[n:]) {
		t.Errorf("resumed: got %v, want %v", rest, all[n:])
	}
	if e, c := rs.End(); c != crc32.Checksum(grown[:e], castagnoli) {
		t.Errorf("resumed End() crc is not crc32c of the prefix")
	}
}

// TestScannerModeAfterEOF: End() stays after the last record when Next
// has gone on to the end of the stream, and Mode() should describe the
// same place so that the pair can be handed to ResumeScanner.
func TestScannerModeAfterEOF(t *testing.T) {
	in := []byte(`{"records":[` + recA + `]}`)
	grown := []byte(`{"records":[` + recA + `,` + recB + `]}`)
	s := NewScanner(bytes.NewReader(in))
	if _, err := scanAll(t, s); err != nil {
		t.Fatal(err)
	}
	off, crc := s.End()
	mode := s.Mode()
	got, err := scanAll(t, ResumeScanner(bytes.NewReader(grown[off:]), off, mode, crc))
	if err != nil || !slices.Equal(got, []scanned{{recB, 20, false}}) {
		t.Errorf("after Next returns io.EOF, Mode() = %v but End() = %d is inside the records array; resuming there gives %v, %v", mode, off, got, err)
	}
}

func (s scanned) String() string {
	r := s.Rec
	if len(r) > 60 {
		r = r[:30] + "…" + r[len(r)-30:]
	}
	return fmt.Sprintf("%d:%q(trailing=%v)", s.Off, r, s.Trailing)
}
