// Command flowgen writes a synthetic Azure flow-log tree (NSG v1, v2 and
// VNet flow logs in the real blob layout) and prints the totals a correct
// conversion of it must yield, as JSON on stdout.
//
//	flowgen -o out/tree -size 1GiB -resources 24 -hours 6 -seed 1
//	flowgen -dry-run -size 64MiB        # the totals only, nothing written
//
// The same flags always write the same bytes. See package gen.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/bench/gen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "flowgen:", err)
		if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := gen.DefaultConfig()
	fs := flag.NewFlagSet("flowgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "directory to write the tree into (it must not exist, or be empty)")
	size := fs.String("size", "", "approximate total size, e.g. 1GiB, 64MB; sets the flow rate (overrides -rate)")
	totalsFile := fs.String("totals", "", "also write the totals JSON to this file")
	dry := fs.Bool("dry-run", false, "write nothing; print the totals the tree would have")
	mix := fs.String("mix", "v1=0.20,v2=0.55,vnet=0.25", "weights of the resource formats: v1=W,v2=W,vnet=W (missing ones are 0)")
	start := fs.String("start", cfg.Start.Format("2006-01-02T15"), "first hour, UTC, as YYYY-MM-DDTHH")
	seed := fs.Uint64("seed", cfg.Seed, "random seed")
	fs.IntVar(&cfg.Resources, "resources", cfg.Resources, "NSGs and VNet flow logs (each has 1–3 NICs, one blob per NIC and hour)")
	fs.IntVar(&cfg.Hours, "hours", cfg.Hours, "hours of logs")
	fs.Float64Var(&cfg.DenyRate, "deny", cfg.DenyRate, "share of new flows denied (deny tuples are about half this share)")
	fs.Float64Var(&cfg.FlowsPerMinute, "rate", cfg.FlowsPerMinute, "mean new flows per NIC and minute")
	fs.IntVar(&cfg.Workers, "workers", 0, "blobs written in parallel (0: all cores); the output is the same")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if *out == "" && !*dry {
		return fmt.Errorf("%w: -o DIR is required (or -dry-run)", errUsage)
	}
	cfg.Seed = *seed
	var err error
	if cfg.Mix, err = parseMix(*mix); err != nil {
		return fmt.Errorf("%w: -mix: %w", errUsage, err)
	}
	if cfg.Start, err = time.Parse("2006-01-02T15", *start); err != nil {
		return fmt.Errorf("%w: -start %q: want YYYY-MM-DDTHH", errUsage, *start)
	}
	if *size != "" {
		if cfg.TargetSize, err = gen.ParseSize(*size); err != nil {
			return fmt.Errorf("%w: -size: %w", errUsage, err)
		}
		cfg.FlowsPerMinute = 0
	}
	root := *out
	if *dry {
		root = ""
	} else if err := checkEmpty(root); err != nil {
		return err
	}

	began := time.Now()
	tot, err := gen.Generate(ctx, root, cfg)
	if err != nil {
		return err
	}
	secs := time.Since(began).Seconds()
	b, err := json.MarshalIndent(tot, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if *totalsFile != "" {
		if err := os.WriteFile(*totalsFile, b, 0o644); err != nil {
			return fmt.Errorf("write totals: %w", err)
		}
	}
	if _, err := stdout.Write(b); err != nil {
		return err
	}
	verb := "wrote"
	if *dry {
		verb = "would write"
	}
	fmt.Fprintf(stderr, "flowgen: %s %d blobs, %s, %d records, %d tuples (%.1f%% denies), %.1f new flows/NIC/min, in %.1f s\n",
		verb, tot.Files, gen.FormatSize(tot.Bytes), tot.Records, tot.Tuples, 100*tot.DenyShare(), tot.FlowsPerMinute, secs)
	return nil
}

// parseMix parses "v1=0.2,v2=0.55,vnet=0.25".
func parseMix(s string) (gen.Mix, error) {
	var m gen.Mix
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.ParseFloat(val, 64)
		if !ok || err != nil || w < 0 {
			return m, fmt.Errorf("bad weight %q: want NAME=WEIGHT", part)
		}
		switch strings.ToLower(name) {
		case "v1", "nsg-v1":
			m.V1 = w
		case "v2", "nsg-v2":
			m.V2 = w
		case "vnet", "v4":
			m.VNet = w
		default:
			return m, fmt.Errorf("unknown format %q: want v1, v2 or vnet", name)
		}
	}
	return m, nil
}

// checkEmpty refuses to write into a directory that holds anything, so
// that a tree never mixes two configurations.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty; remove it or choose another -o", dir)
	}
	return nil
}
