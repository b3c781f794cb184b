package packet

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Samples live in testdata/pcap (copied with their oracle) and, for the
// one too large to copy, in ../shared/samples/pcap when that tree exists.
var sampleDirs = []string{"../testdata/pcap", "../../shared/samples/pcap"}

// sharedOnly are the samples (over 2 MB) not copied into testdata: tests
// that use them skip, naming them, when ../shared is missing.
var sharedOnly = []string{"suricata-http-mime-truncated-input.pcap"}

// sampleFiles returns the captures that have an oracle, by base name,
// first directory first.
func sampleFiles(t testing.TB) []string {
	t.Helper()
	seen := map[string]bool{}
	var files []string
	for _, dir := range sampleDirs {
		m, _ := filepath.Glob(filepath.Join(dir, "*.flows.tsv"))
		for _, tsv := range m {
			f := strings.TrimSuffix(tsv, ".flows.tsv")
			if !seen[filepath.Base(f)] {
				seen[filepath.Base(f)] = true
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("no sample captures found")
	}
	return files
}

// openSample opens a capture, decompressing .gz files.
func openSample(t testing.TB, path string) io.Reader {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = strings.NewReader(string(b))
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	return r
}

// oracleDiffs lists the samples on which our flows differ from tshark's,
// each with the reason. The test fails if a listed sample agrees (remove
// it) or if an unlisted one differs.
var oracleDiffs = map[string]string{
	"tcpdump-timestamp_invalid_nano.pcap": "nanosecond fractions >= 1e9: we add them to the seconds, tshark prints them unnormalised (its first/last are not meaningful)",
	"suricata-bug-6875-01-fuzz.pcap":      "2nd record header is garbage: we stop there with ErrBadBlock after 1 IPv4/TCP frame; tshark guesses a variant record format and reads 2 non-IP frames",
}

// oracle is the parsed NAME.flows.tsv: the flow lines and whether tshark
// reported a read error.
type oracle struct {
	rows      []string
	readError bool
}

func readOracle(t *testing.T, path string) oracle {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var o oracle
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# tshark_rc="):
			o.readError = !strings.HasSuffix(strings.TrimSpace(line), "read_error=")
		case strings.HasPrefix(line, "#"):
		case header:
			header = false // the column names
		default:
			o.rows = append(o.rows, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return o
}

// foldRow is one oracle row in the making.
type foldRow struct {
	packets, bytes int64
	first, last    int64
	hasTS          bool
	flags          uint8
	hasFlags       bool
}

// folder turns our flows into the oracle's unidirectional rows: each
// direction of each flow (several flows of one conversation, cut by
// timeouts, add up), later fragments under ports 0 0 as the oracle counts
// them. Counters come from the emitted flows, first and last times from
// the packets as the table counts them (flows keep no per-direction times).
type folder struct {
	rows map[string]*foldRow
	seen map[[2]uint64]*foldRow // by flow seq and direction
}

func (fo *folder) row(f *flow, dir int) *foldRow {
	if r := fo.seen[[2]uint64{f.seq, uint64(dir)}]; r != nil {
		return r
	}
	src, dst, sport, dport := f.endpoints(dir)
	if dir >= dirOutFrag {
		sport, dport = 0, 0
	}
	k := fmt.Sprintf("%s\t%s\t%d\t%d\t%d", src.netip(f.key.v6), dst.netip(f.key.v6), f.key.proto, sport, dport)
	r := fo.rows[k]
	if r == nil {
		r = &foldRow{}
		fo.rows[k] = r
	}
	fo.seen[[2]uint64{f.seq, uint64(dir)}] = r
	return r
}

// observe is the table's observe hook: it keeps the times.
func (fo *folder) observe(f *flow, dir int, ts int64, hasTS bool) {
	if !hasTS {
		return
	}
	r := fo.row(f, dir)
	if !r.hasTS || ts < r.first {
		r.first = ts
	}
	if !r.hasTS || ts > r.last {
		r.last = ts
	}
	r.hasTS = true
}

// add adds the counters of an emitted flow.
func (fo *folder) add(e *ended) {
	for dir := dirOut; dir <= dirInFrag; dir++ {
		c := e.counts(dir)
		if c.packets == 0 {
			continue
		}
		r := fo.row(&e.flow, dir)
		r.packets += c.packets
		r.bytes += c.bytes
		if c.hasFlags {
			r.flags |= c.flags
			r.hasFlags = true
		}
	}
}

// lines returns the rows as the oracle's lines, sorted.
func (fo *folder) lines() []string {
	out := make([]string, 0, len(fo.rows))
	for k, r := range fo.rows {
		first, last, flags := "", "", ""
		if r.hasTS {
			first, last = epoch(r.first), epoch(r.last)
		}
		if r.hasFlags {
			flags = fmt.Sprintf("0x%02x", r.flags)
		}
		out = append(out, fmt.Sprintf("%s\t%d\t%d\t%s\t%s\t%s", k, r.packets, r.bytes, first, last, flags))
	}
	slices.Sort(out) // byte order, as LC_ALL=C sort
	return out
}

func epoch(ns int64) string {
	return fmt.Sprintf("%d.%09d", floorDiv(ns, 1e9), ns-floorDiv(ns, 1e9)*1e9)
}

// TestOracle checks every sample against tshark's flows (pcap-oracle.sh):
// our flows folded into per-direction rows must equal the oracle's rows,
// and we must fail where tshark failed to read the file to the end.
func TestOracle(t *testing.T) {
	for _, name := range sharedOnly {
		if findSample(name) == "" {
			t.Run(name, func(t *testing.T) {
				t.Skipf("%s is missing: in neither %s (too large to copy) nor %s", name, sampleDirs[0], sampleDirs[1])
			})
		}
	}
	for _, path := range sampleFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			o := readOracle(t, path+".flows.tsv")
			fo := &folder{rows: map[string]*foldRow{}, seen: map[[2]uint64]*foldRow{}}
			_, err := readFlowsObserved(context.Background(), openSample(t, path), name, DefaultConfig(), func(f *ended) error {
				fo.add(f)
				return nil
			}, fo.observe)
			got := fo.lines()
			diff := lineDiff(o.rows, got)
			if (err != nil) != o.readError {
				diff = append(diff, fmt.Sprintf("read error %v, tshark read error %v", err, o.readError))
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("error %v is not an *Error", err)
				}
				t.Logf("error (expected): %v", err)
			}
			reason, known := oracleDiffs[name]
			switch {
			case known && len(diff) == 0:
				t.Errorf("agrees with tshark now: remove it from oracleDiffs (%s)", reason)
			case known:
				t.Logf("known difference: %s\n%s", reason, strings.Join(diff, "\n"))
			case len(diff) > 0:
				t.Errorf("differs from tshark (-tshark +ours):\n%s", strings.Join(diff, "\n"))
			}
		})
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got []string) []string {
	var d []string
	w := map[string]int{}
	for _, l := range want {
		w[l]++
	}
	for _, l := range got {
		if w[l] > 0 {
			w[l]--
			continue
		}
		d = append(d, "+ "+l)
	}
	for _, l := range want {
		if w[l] > 0 {
			w[l]--
			d = append(d, "- "+l)
		}
	}
	slices.Sort(d)
	return d
}
