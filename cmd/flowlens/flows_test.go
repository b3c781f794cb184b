package main

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/columnar"
)

// TestAppendTimeText: the hand-written formatter prints what time.Format
// prints, before 1970, across leap days and centuries, and at the limits.
func TestAppendTimeText(t *testing.T) {
	format := func(us int64) string { return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z") }
	cases := []int64{0, -1, 1, -1e6, 1e6 - 1, 951782400_000000, 951868799_999999, 4107542400_000000, -62135596800_000000,
		-62135596800_000001, 253402300799_999999, 253402300800_000000, 1714521600_123456}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		cases = append(cases, r.Int64N(2*253402300800_000000)-253402300800_000000/2*2)
	}
	for _, us := range cases {
		if got, want := string(appendTimeText(nil, us)), format(us); got != want {
			t.Fatalf("%d: %s, want %s", us, got, want)
		}
	}
}

// TestCSVWriter: every line reads back through encoding/csv as the fields
// written, quoting included.
func TestCSVWriter(t *testing.T) {
	flows := []columnar.Flow{
		{Time: 1418145369924505, HasEndTime: true, EndTime: 1418145370052115, Proto: 6, SrcIP: []byte("131.155.215.69"), SrcPort: 46656,
			DstIP: []byte("137.116.81.94"), DstPort: 80, PacketsOut: 2, BytesOut: 144, PacketsIn: 1, BytesIn: 76, State: 'B',
			HasTCPFlags: true, TCPFlags: 18},
		{Time: -5, Proto: 47, SrcIP: []byte("fe80::1"), DstIP: []byte(`odd, "text"`), HasVLAN: true, VLAN: 7, HasCapturedLen: true, CapturedLen: 60},
		{Proto: 255, SrcIP: []byte(" lead"), DstIP: []byte("a\nb")},
	}
	var out bytes.Buffer
	w := newCSVWriter(&out)
	for i := range flows {
		if err := w.write(&flows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(flows)+1 || len(recs[0]) != len(flowFields) {
		t.Fatalf("%d records of %d fields", len(recs), len(recs[0]))
	}
	opt := func(ok bool, v int32) string {
		if !ok {
			return ""
		}
		return strconv.Itoa(int(v))
	}
	for i, f := range flows {
		end := ""
		if f.HasEndTime {
			end = timeText(f.EndTime)
		}
		want := []string{timeText(f.Time), end, columnar.ProtocolName(f.Proto), strconv.Itoa(int(f.Proto)),
			string(f.SrcIP), strconv.Itoa(int(f.SrcPort)), string(f.DstIP), strconv.Itoa(int(f.DstPort)),
			strconv.FormatInt(f.PacketsOut, 10), strconv.FormatInt(f.BytesOut, 10),
			strconv.FormatInt(f.PacketsIn, 10), strconv.FormatInt(f.BytesIn, 10), stateText(&f),
			opt(f.HasTCPFlags, f.TCPFlags), opt(f.HasVLAN, f.VLAN), opt(f.HasCapturedLen, f.CapturedLen)}
		for k := range want {
			if recs[i+1][k] != want[k] {
				t.Errorf("flow %d, %s: %q, want %q", i, flowFields[k], recs[i+1][k], want[k])
			}
		}
	}
}

// BenchmarkCSVWriter: one flow of a capture as a CSV line (the output of
// `flows --format csv`, a few hundred thousand lines for a large capture).
//
//	go test ./cmd/flowlens -run '^$' -bench CSVWriter -benchmem
func BenchmarkCSVWriter(b *testing.B) {
	f := columnar.Flow{Time: 1418145369924505, HasEndTime: true, EndTime: 1418145370052115, Proto: 6,
		SrcIP: []byte("131.155.215.69"), SrcPort: 46656, DstIP: []byte("137.116.81.94"), DstPort: 80,
		PacketsOut: 2, BytesOut: 144, PacketsIn: 1, BytesIn: 76, State: 'B', HasTCPFlags: true, TCPFlags: 18}
	var out countingDiscard
	w := newCSVWriter(&out)
	if err := w.write(&f); err != nil {
		b.Fatal(err)
	}
	w.close()
	b.SetBytes(out.n - int64(len(strings.Join(flowFields, ","))+1))
	b.ReportAllocs()
	for b.Loop() {
		f.Time++
		if err := w.write(&f); err != nil {
			b.Fatal(err)
		}
	}
	w.close()
}

// countingDiscard counts the bytes written to it.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
