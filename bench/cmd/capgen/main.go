// Command capgen writes a large synthetic packet capture (pcap or pcapng,
// Ethernet, many concurrent TCP/UDP/ICMP sessions) and prints the totals a
// flow assembly of it must give, as JSON on stdout. See package capgen.
//
//	capgen -o out/cap.pcap -packets 3000000
//	capgen -o out/cap.pcapng -format pcapng -size 512MiB -concurrent 2000
//
// The same flags always write the same bytes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/bench/capgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "capgen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	def := capgen.DefaultConfig()
	fs := flag.NewFlagSet("capgen", flag.ContinueOnError)
	out := fs.String("o", "", "output file (- for stdout)")
	format := fs.String("format", def.Format, "pcap (µs) or pcapng (EPB, µs)")
	packets := fs.Int64("packets", def.Packets, "stop after this many packets (0: no limit)")
	size := fs.String("size", "", "or stop when the file reaches this size (e.g. 2GB, 512MiB)")
	conc := fs.Int("concurrent", def.Concurrent, "sessions (flows) open at once")
	pps := fs.Float64("pps", def.PPS, "mean packets per second of capture time")
	v6 := fs.Float64("ipv6", def.IPv6, "fraction of sessions over IPv6")
	vlan := fs.Float64("vlan", 0, "fraction of sessions with an 802.1Q tag")
	seed := fs.Uint64("seed", def.Seed, "random seed")
	start := fs.String("start", def.Start.Format(time.RFC3339), "time of the first packet (RFC 3339)")
	totals := fs.String("totals", "", "also write the totals JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: capgen -o FILE [flags]")
	}
	cfg := def
	cfg.Format, cfg.Packets, cfg.Concurrent, cfg.PPS, cfg.IPv6, cfg.VLAN, cfg.Seed = *format, *packets, *conc, *pps, *v6, *vlan, *seed
	if *size != "" {
		n, err := parseSize(*size)
		if err != nil {
			return err
		}
		cfg.Size = n
		if !flagSet(fs, "packets") {
			cfg.Packets = 0
		}
	}
	t, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		return fmt.Errorf("-start: %v", err)
	}
	cfg.Start = t
	var w io.Writer = stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	tot, err := capgen.Write(w, cfg)
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	js, _ := json.MarshalIndent(tot, "", "  ")
	js = append(js, '\n')
	if *totals != "" {
		if err := os.WriteFile(*totals, js, 0o644); err != nil {
			return err
		}
	}
	if *out == "-" {
		_, err = os.Stderr.Write(js)
	} else {
		_, err = stdout.Write(js)
	}
	return err
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func parseSize(s string) (int64, error) {
	units := []struct {
		suf string
		mul int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suf) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suf), 64)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("-size %q", s)
			}
			return int64(v * float64(u.mul)), nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("-size %q: want e.g. 2GB or 512MiB", s)
	}
	return v, nil
}
