package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/flowlog"
	"github.com/flowlens/flowlens/packet"
)

type convertOptions struct {
	out        string
	format     string
	workers    int
	strict     bool
	shard      string
	jsonOut    bool
	maxErrors  int
	checkpoint int64
	memLimitMB int64
	packets    bool
	idle       time.Duration
	active     time.Duration
}

func newConvertCmd() *cobra.Command {
	o := convertOptions{}
	c := &cobra.Command{
		Use:   "convert SRC... -o OUT",
		Short: "Convert flow logs into a Parquet dataset (or an Arrow IPC stream)",
		Long: `Convert NSG flow logs (v1, v2) and VNet flow logs into a Hive-partitioned
Parquet dataset: OUT/flows/date=YYYY-MM-DD/hour=HH/part-*.parquet.

SRC are files or directories (walked recursively); files may be gzip or
zstd compressed. A manifest in OUT/_flowlens/ records what each run
consumed, so re-running converts only new blobs and the new records of
grown PT1H.json blobs, and a killed run re-run yields exactly one copy of
every row.

With --format arrow, OUT is a file (or - for stdout) that receives one
Arrow IPC stream; no manifest is kept.`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConvert(cmd.Context(), args, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVarP(&o.out, "output", "o", "", "output dataset directory (or file, or - with --format arrow)")
	f.StringVar(&o.format, "format", "parquet", "output format: parquet or arrow")
	f.IntVar(&o.workers, "workers", runtime.NumCPU(), "blobs converted in parallel")
	f.BoolVar(&o.strict, "strict", false, "fail on the first bad record or tuple instead of skipping it")
	f.StringVar(&o.shard, "shard", "", "convert only shard i of N (i/N, 0 ≤ i < N) of the inputs")
	f.BoolVar(&o.jsonOut, "json", false, "print the summary as JSON on stdout")
	f.IntVar(&o.maxErrors, "max-errors", 20, "skipped items to describe on stderr (the rest are only counted)")
	f.Int64Var(&o.checkpoint, "checkpoint-mb", 512, "commit each worker's output after this many MB of input")
	f.BoolVar(&o.packets, "packets", false, "captures: one row per packet instead of per flow")
	f.DurationVar(&o.idle, "idle-timeout", packet.DefaultConfig().IdleTimeout, "captures: end a flow after this long without packets")
	f.DurationVar(&o.active, "active-timeout", packet.DefaultConfig().ActiveTimeout, "captures: cut a flow into rows of at most this long")
	f.Int64Var(&o.memLimitMB, "memory-mb", -1, "soft memory limit in MiB for the garbage collector (default 64 + 160 per worker; 0: none; GOMEMLIMIT overrides)")
	return c
}

func parseShard(s string) (int, int, error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, usagef("--shard %q: want i/N with 0 <= i < N", s)
	}
	return i, n, nil
}

func runConvert(ctx context.Context, srcs []string, o convertOptions, stdout, stderr io.Writer) error {
	if o.out == "" {
		return usagef("convert: -o OUT is required")
	}
	if o.workers < 1 {
		return usagef("--workers must be at least 1")
	}
	if o.idle <= 0 || o.active <= 0 {
		return usagef("timeouts must be positive")
	}
	shard, shards, err := parseShard(o.shard)
	if err != nil {
		return err
	}
	logSrcs, captures, err := splitSources(srcs)
	if err != nil {
		return err
	}
	inputs, err := flowlog.Discover(logSrcs)
	if err != nil {
		return err
	}
	var myCaptures []string
	for _, c := range captures {
		if abs, err := filepath.Abs(c); err == nil && flowlog.InShard(filepath.ToSlash(abs), shard, shards) {
			myCaptures = append(myCaptures, c)
		}
	}
	setMemoryLimit(o.memLimitMB, o.workers)

	var target flowlog.Target
	var finish func() error
	switch o.format {
	case "parquet":
		if o.out == "-" {
			return usagef("--format parquet writes a dataset directory; use --format arrow for stdout")
		}
		tag := ""
		if shards > 1 {
			tag = fmt.Sprintf("%dof%d", shard, shards)
		}
		ds, err := columnar.OpenDataset(o.out, tag)
		if err != nil {
			return err
		}
		target, finish = ds, ds.Close
	case "arrow":
		var w io.Writer = stdout
		var af *columnar.AtomicFile
		if o.out != "-" {
			if af, err = columnar.CreateAtomic(o.out); err != nil {
				return err
			}
			w = af
		} else if o.jsonOut {
			return usagef("--json and -o - both want stdout")
		}
		sw := columnar.NewStreamWriter(columnar.NewArrowWriter(w))
		target = sw
		finish = func() error {
			if err := sw.Close(); err != nil {
				if af != nil {
					af.Abort()
				}
				return err
			}
			if af != nil {
				return af.Commit()
			}
			return nil
		}
	default:
		return usagef("--format %q: want parquet or arrow", o.format)
	}

	cfg := flowlog.DefaultConfig()
	cfg.Workers, cfg.Strict, cfg.Shard, cfg.Shards = o.workers, o.strict, shard, shards
	cfg.CheckpointBytes = o.checkpoint << 20
	var mu sync.Mutex
	described := 0
	cfg.OnSkip = func(err error) {
		mu.Lock()
		defer mu.Unlock()
		described++
		if described <= o.maxErrors {
			fmt.Fprintln(stderr, "skip:", err)
		}
	}

	var total int64
	for _, in := range inputs {
		if flowlog.InShard(in.Key, shard, shards) {
			total += in.Size
		}
	}
	for _, c := range myCaptures {
		if fi, err := os.Stat(c); err == nil {
			total += fi.Size()
		}
	}
	prog := &flowlog.Progress{}
	stopBar := startProgress(stderr, total, prog)
	sum, err := flowlog.Convert(ctx, inputs, target, cfg, prog)
	var csum *packet.ConvertSummary
	if err == nil && len(myCaptures) > 0 {
		// Captures after the flow logs, through a sink numbered after the
		// flow-log workers' so that file names stay apart.
		pcfg := packet.ConvertConfig{Config: packet.DefaultConfig(), Workers: o.workers, FirstWorker: o.workers,
			Strict: o.strict, RawBytes: &prog.RawBytes, OnSkip: cfg.OnSkip}
		pcfg.IdleTimeout, pcfg.ActiveTimeout, pcfg.Packets = o.idle, o.active, o.packets
		csum, err = packet.Convert(ctx, myCaptures, target, pcfg)
	}
	stopBar()
	if ferr := finish(); err == nil {
		err = ferr
	}
	if sum != nil {
		if described > o.maxErrors {
			fmt.Fprintf(stderr, "skip: … and %d more\n", described-o.maxErrors)
		}
		fmt.Fprintln(stderr, summaryLine(sum))
		if csum != nil {
			fmt.Fprintln(stderr, captureLine(csum))
		}
		if o.jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			out := struct {
				*flowlog.Summary
				Captures *packet.ConvertSummary `json:"captures,omitempty"`
			}{sum, csum}
			if err := enc.Encode(out); err != nil {
				return err
			}
		}
	}
	if err != nil {
		return err
	}
	skipped := sum.SkippedTotal()
	if csum != nil {
		for _, n := range csum.Skipped {
			skipped += n
		}
	}
	if o.strict && skipped > 0 {
		return fmt.Errorf("--strict: %d items skipped", skipped)
	}
	return nil
}

// splitSources sorts the command line's sources: directories are walked
// for both flow logs and captures; files are captures when their name or
// their first bytes say so, else flow logs.
func splitSources(srcs []string) (logs, captures []string, err error) {
	var dirs []string
	for _, src := range srcs {
		fi, err := os.Stat(src)
		if err != nil {
			return nil, nil, err
		}
		if fi.IsDir() {
			dirs = append(dirs, src)
			logs = append(logs, src)
			continue
		}
		isCap := packet.IsCaptureName(src)
		if !isCap {
			if isCap, err = packet.SniffCapture(src); err != nil {
				return nil, nil, err
			}
		}
		if isCap {
			captures = append(captures, src)
		} else {
			logs = append(logs, src)
		}
	}
	found, err := packet.FindCaptures(dirs)
	if err != nil {
		return nil, nil, err
	}
	return logs, append(captures, found...), nil
}

func captureLine(s *packet.ConvertSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "captures: %s read", plural(int64(s.Captures), "capture"))
	if s.Unchanged > 0 {
		fmt.Fprintf(&b, " (%d unchanged)", s.Unchanged)
	}
	fmt.Fprintf(&b, ", %s, %s written", plural(s.Packets, "packet"), plural(s.Rows, "row"))
	if s.Files > 0 {
		fmt.Fprintf(&b, " in %s", plural(int64(s.Files), "file"))
	}
	b.WriteString(reasons(", malformed packets", s.Malformed))
	b.WriteString(reasons(", skipped", s.Skipped))
	return b.String()
}

// reasons formats counts by reason as ", title N (a 1, b 2)", or "".
func reasons(title string, m map[string]int64) string {
	var n int64
	parts := make([]string, 0, len(m))
	for k, v := range m {
		n += v
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	if n == 0 {
		return ""
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s %d (%s)", title, n, strings.Join(parts, ", "))
}

func summaryLine(s *flowlog.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "converted %d of %d inputs", s.Blobs, s.Inputs)
	if s.Unchanged > 0 || s.Resumed > 0 {
		fmt.Fprintf(&b, " (%d unchanged, %d grown)", s.Unchanged, s.Resumed)
	}
	fmt.Fprintf(&b, ": %s read, %s, %s written", plural(s.Records, "record"), plural(s.Tuples, "tuple"), plural(s.Rows, "row"))
	if s.Files > 0 {
		fmt.Fprintf(&b, " in %s", plural(int64(s.Files), "file"))
	}
	if n := s.SkippedTotal(); n > 0 {
		reasons := make([]string, 0, len(s.Skipped))
		for k, v := range s.Skipped {
			reasons = append(reasons, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(reasons)
		fmt.Fprintf(&b, ", %d skipped (%s)", n, strings.Join(reasons, ", "))
	} else {
		b.WriteString(", 0 skipped")
	}
	if s.Repaired > 0 {
		fmt.Fprintf(&b, ", %s with trailing commas read", plural(s.Repaired, "record"))
	}
	fmt.Fprintf(&b, "; %.1f MB in %.2f s, %.1f MB/s", float64(s.RawBytes)/1e6, s.Seconds, s.MBPerSecond)
	return b.String()
}

// startProgress draws a progress bar on stderr when it is a terminal:
// blobs and records read so far, the bar, bytes read of the total, and
// the time left.
func startProgress(stderr io.Writer, total int64, prog *flowlog.Progress) (stop func()) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || total == 0 {
		return func() {}
	}
	p := mpb.New(mpb.WithOutput(stderr), mpb.WithWidth(24), mpb.WithRefreshRate(200*time.Millisecond))
	bar := p.AddBar(total,
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			return fmt.Sprintf("%d blobs, %d records", prog.Blobs.Load(), prog.Records.Load())
		})),
		mpb.AppendDecorators(
			decor.Counters(decor.SizeB1000(0), "% .1f / % .1f", decor.WCSyncSpace),
			decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO, decor.WCSyncSpace), ""),
		),
		mpb.BarRemoveOnComplete(),
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				bar.SetCurrent(min(prog.RawBytes.Load(), total))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		bar.SetTotal(-1, true) // complete: the bar is removed
		p.Wait()
	}
}

// setMemoryLimit sets the garbage collector's soft memory limit, unless
// GOMEMLIMIT does. Each worker keeps a few batches of rows (about 30 MiB),
// the Parquet writer's buffers and the index being built for each open
// file; the limit makes the collector run before the heap doubles, keeping
// the peak near the working set. The index of every open file grows with
// its rows: a tree spanning a day keeps 24 hourly files per worker open,
// and at 96 MiB per worker the 4 GiB bench tree took 76 s (the collector
// running almost without pause) against 33 s at 160, peak RSS 414 MB.
// (At 64 per worker convert took 38% longer on the 1 GiB tree.)
func setMemoryLimit(mb int64, workers int) {
	if os.Getenv("GOMEMLIMIT") != "" || mb == 0 {
		return
	}
	if mb < 0 {
		mb = 64 + 160*int64(workers)
	}
	debug.SetMemoryLimit(mb << 20)
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}
