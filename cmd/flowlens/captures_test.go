package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// ircCapture has 118 packets in 6 flows.
const ircCapture = captures + "/zeek-contentline-irc-5k-line.pcap"

// writeCompressed writes data to path through a gzip or zstd writer.
func writeCompressed(t *testing.T, path, codec string, data []byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var w io.WriteCloser
	switch codec {
	case "gzip":
		w = gzip.NewWriter(f)
	case "zstd":
		if w, err = zstd.NewWriter(f); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("codec %q", codec)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFlowsCompressed: `flowlens flows` on a gzip or zstd compressed
// capture, with or without the extension that says so, prints what it
// prints for the plain capture.
func TestFlowsCompressed(t *testing.T) {
	plain, err := os.ReadFile(ircCapture)
	if err != nil {
		t.Fatal(err)
	}
	code, want, stderr := runCLI(t, "flows", ircCapture, "--format", "csv")
	if code != exitOK || strings.Count(want, "\n") != 7 {
		t.Fatalf("plain: exit %d\n%s\n%s", code, want, stderr)
	}
	dir := t.TempDir()
	for _, tc := range []struct{ name, codec string }{
		{"irc.pcap.gz", "gzip"},
		{"irc.pcap.zst", "zstd"},
		{"irc-capture", "gzip"}, // no extension: told by the magic number
		{"irc.pcap", "zstd"},    // an extension that does not say
	} {
		t.Run(tc.name+" "+tc.codec, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			writeCompressed(t, path, tc.codec, plain)
			code, got, stderr := runCLI(t, "flows", path, "--format", "csv")
			if code != exitOK || got != want || !strings.Contains(stderr, path+": 118 packets, 6 flows") {
				t.Fatalf("exit %d, stderr %q; stdout\n%s\nwant\n%s", code, stderr, got, want)
			}
		})
	}
	// A real gzip-compressed sample (zeek/zeek: Traces/echo-connections.pcap.gz).
	t.Run("zeek-echo-connections.pcap.gz", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "flows", captures+"/zeek-echo-connections.pcap.gz", "--format", "csv")
		if code != exitOK || strings.Count(stdout, "\n") != 501 || !strings.Contains(stderr, ": 82582 packets, 500 flows") {
			t.Fatalf("exit %d, %d lines, stderr %q", code, strings.Count(stdout, "\n"), stderr)
		}
	})
}

// TestConvertPackets: `flowlens convert --packets` writes one row per
// packet (packets_out 1, the wire length in bytes_out, captured_len set),
// whose bytes add up to the flows of the same capture.
func TestConvertPackets(t *testing.T) {
	type summary struct {
		Captures struct {
			Packets int64 `json:"packets"`
			Flows   int64 `json:"flows"`
			Rows    int64 `json:"rows"`
		} `json:"captures"`
	}
	convert := func(extra ...string) (summary, string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "ds")
		code, stdout, stderr := runCLI(t, append([]string{"convert", ircCapture, "-o", out, "--json"}, extra...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var sum summary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		return sum, out
	}
	// totals scans a dataset: rows, bytes both ways, rows with
	// packets_out 1 and packets_in 0, rows with a captured length.
	totals := func(root string) (rows, bytes, single, captured int64) {
		t.Helper()
		cols := []string{"packets_out", "bytes_out", "packets_in", "bytes_in", "captured_len"}
		arrowScan(t, root, cols, func(rec arrow.RecordBatch) error {
			po, bo := rec.Column(0).(*array.Int64), rec.Column(1).(*array.Int64)
			pi, bi := rec.Column(2).(*array.Int64), rec.Column(3).(*array.Int64)
			cl := rec.Column(4).(*array.Int32)
			for i := range int(rec.NumRows()) {
				rows++
				bytes += bo.Value(i) + bi.Value(i)
				if po.Value(i) == 1 && pi.Value(i) == 0 {
					single++
				}
				if cl.IsValid(i) && cl.Value(i) > 0 && int64(cl.Value(i)) <= bo.Value(i) {
					captured++
				}
			}
			return nil
		})
		return
	}
	fsum, fds := convert()
	psum, pds := convert("--packets")
	if fsum.Captures.Flows != 6 || fsum.Captures.Rows != 6 || fsum.Captures.Packets != 118 {
		t.Fatalf("flows summary %+v", fsum)
	}
	if psum.Captures.Rows != 118 || psum.Captures.Packets != 118 || psum.Captures.Flows != 0 {
		t.Fatalf("--packets summary %+v", psum)
	}
	frows, fbytes, _, fcaptured := totals(fds)
	prows, pbytes, single, pcaptured := totals(pds)
	if frows != 6 || fcaptured != 0 {
		t.Errorf("flows dataset: %d rows, %d with captured_len", frows, fcaptured)
	}
	if prows != 118 || single != 118 || pcaptured != 118 || pbytes != fbytes || pbytes == 0 {
		t.Errorf("--packets dataset: %d rows, %d of one packet out, %d with captured_len, %d bytes (flows: %d)",
			prows, single, pcaptured, pbytes, fbytes)
	}
}
