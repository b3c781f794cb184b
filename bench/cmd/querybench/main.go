// Command querybench times flowlens against DuckDB answering the same two
// questions on the same flowlens dataset, whole process against whole
// process: a needle (the denied flows from one source to port 3389: by
// default a source with about ten) and the top sources by bytes. DuckDB runs as cmd/duckquery, an in-memory
// database in its own process, like `flowlens query` and `flowlens
// report`. Each command runs -repeat times, alternating; it prints the
// median wall time, CPU time and largest peak RSS of each, and the ratios.
// Both answers are checked against what DuckDB computes beforehand.
//
//	querybench -ds DATASET -flowlens BIN -duckquery BIN [-repeat 7] [-ip ADDR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/bench/measure"
)

const bytesSQL = "coalesce(bytes_out, 0) + coalesce(bytes_in, 0)"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "querybench:", err)
		os.Exit(1)
	}
}

// question is one thing asked both ways.
type question struct {
	name     string
	flowlens []string
	duckdb   string
	// check looks at each command's output: the answer, or an error.
	checkFlowlens, checkDuck func(out []byte) error
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("querybench", flag.ContinueOnError)
	fl.SetOutput(stderr)
	ds := fl.String("ds", "", "flowlens dataset (flowlens convert's output)")
	flowlens := fl.String("flowlens", "", "flowlens binary")
	duckquery := fl.String("duckquery", "", "duckquery binary")
	repeat := fl.Int("repeat", 7, "runs of each command")
	ip := fl.String("ip", "", "the needle's source address (default: chosen by -rows)")
	needle := fl.Int("rows", 10, "without -ip, the needle is the first source (in text order) with about this many denied flows to port 3389")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *ds == "" || *flowlens == "" || *duckquery == "" {
		return errors.New("-ds, -flowlens and -duckquery are required")
	}
	from := fmt.Sprintf("read_parquet('%s/flows/**/*.parquet', hive_partitioning = true)", filepath.ToSlash(*ds))
	// The answers are computed beforehand by duckquery too: a DuckDB in
	// this process would raise the peak RSS its children report (Linux
	// counts the parent's at fork).
	duck := func(q string) ([][]string, error) {
		out, err := exec.CommandContext(ctx, *duckquery, q).Output()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		var rows [][]string
		for i, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			if i > 0 { // the header
				rows = append(rows, strings.Split(l, "\t"))
			}
		}
		return rows, nil
	}
	one := func(q string) (string, error) {
		rows, err := duck(q)
		if err != nil {
			return "", err
		}
		if len(rows) != 1 || len(rows[0]) != 1 {
			return "", fmt.Errorf("%s: %d rows, want one value", q, len(rows))
		}
		return rows[0][0], nil
	}
	var files, parquetBytes, indexBytes int64
	rows, err := one("SELECT count(*) FROM " + from)
	if err != nil {
		return err
	}
	if parquetBytes, files, err = sizes(*ds, ".parquet"); err != nil {
		return err
	}
	if indexBytes, _, err = sizes(*ds, ".idx"); err != nil {
		return err
	}
	if *ip == "" {
		q := fmt.Sprintf("SELECT src_ip FROM %s WHERE dst_port = 3389 AND decision = 'deny' AND src_ip IS NOT NULL GROUP BY 1 ORDER BY abs(count(*) - %d), 1 LIMIT 1", from, *needle)
		if *ip, err = one(q); err != nil {
			return err
		}
	}
	where := fmt.Sprintf("src_ip = '%s' AND dst_port = 3389 AND decision = 'deny'", *ip)
	n, err := one("SELECT count(*) FROM " + from + " WHERE " + where)
	if err != nil {
		return err
	}
	needleRows, err := strconv.Atoi(n)
	if err != nil {
		return err
	}
	topQ := "SELECT src_ip, sum(" + bytesSQL + ")::BIGINT AS m FROM " + from + " GROUP BY 1 ORDER BY m DESC, 1 NULLS LAST LIMIT 10"
	topRows, err := duck(topQ)
	if err != nil {
		return err
	}
	var top []string
	for _, r := range topRows {
		top = append(top, strings.Join(r, " "))
	}

	lines := func(out []byte) []string {
		s := strings.TrimRight(string(out), "\n")
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	wantRows := func(skip int) func([]byte) error {
		return func(out []byte) error {
			if n := len(lines(out)) - skip; n != needleRows {
				return fmt.Errorf("%d rows, want %d", n, needleRows)
			}
			return nil
		}
	}
	wantTop := func(sep string, skip int) func([]byte) error {
		return func(out []byte) error {
			var got []string
			for _, l := range lines(out)[skip:] {
				got = append(got, strings.Join(strings.SplitN(l, sep, 3)[:2], " "))
			}
			if !slices.Equal(got, top) {
				return fmt.Errorf("top %q, want %q", got, top)
			}
			return nil
		}
	}
	questions := []question{
		{
			name:          "needle",
			flowlens:      []string{*flowlens, "query", *ds, fmt.Sprintf("src ip %s and dst port 3389 and deny", *ip), "--format", "csv"},
			duckdb:        "SELECT * FROM " + from + " WHERE " + where,
			checkFlowlens: wantRows(1), checkDuck: wantRows(1), // both print a header
		},
		{
			name:          "top src_ip by bytes",
			flowlens:      []string{*flowlens, "report", *ds, "top", "--by", "src_ip", "--metric", "bytes", "--top", "10", "--format", "csv"},
			duckdb:        topQ,
			checkFlowlens: wantTop(",", 1), checkDuck: wantTop("\t", 1),
		},
	}

	fmt.Fprintf(stderr, "querybench: %s: %s rows, %d files, %.1f MB of Parquet, %.1f MB of index; warming the page cache\n",
		*ds, rows, files, float64(parquetBytes)/1e6, float64(indexBytes)/1e6)
	if err := measure.Warm(*ds); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dataset %s: %s rows, %d files, %.1f MB of Parquet, index %.1f MB (%.1f%%); %d runs each, %s\n",
		*ds, rows, files, float64(parquetBytes)/1e6, float64(indexBytes)/1e6, 100*float64(indexBytes)/float64(parquetBytes),
		*repeat, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(stdout, "needle: src ip %s, dst port 3389, deny: %d rows\n", *ip, needleRows)
	fmt.Fprintf(stdout, "%-20s %-9s %9s %9s %13s %14s\n", "", "", "wall ms", "CPU ms", "peak RSS MiB", "others' CPU ms")
	for _, q := range questions {
		var fm, dm []*measure.Measurement
		for range *repeat {
			m, err := measure.Run(ctx, "flowlens", q.flowlens...)
			if err != nil {
				return err
			}
			if err := q.checkFlowlens(m.Stdout); err != nil {
				return fmt.Errorf("%s: flowlens: %w", q.name, err)
			}
			fm = append(fm, m)
			m, err = measure.Run(ctx, "duckdb", *duckquery, q.duckdb)
			if err != nil {
				return err
			}
			if err := q.checkDuck(m.Stdout); err != nil {
				return fmt.Errorf("%s: duckdb: %w", q.name, err)
			}
			dm = append(dm, m)
		}
		f, d := summary(fm), summary(dm)
		for _, s := range []struct {
			name string
			m    result
		}{{"flowlens", f}, {"duckdb", d}} {
			fmt.Fprintf(stdout, "%-20s %-9s %9.1f %9.1f %13.1f %14.1f\n", q.name, s.name, ms(s.m.wall), ms(s.m.cpu), float64(s.m.rss)/(1<<20), ms(s.m.others))
		}
		fmt.Fprintf(stdout, "%-20s DuckDB/flowlens: wall %.2fx, CPU %.2fx, peak RSS %.2fx\n", q.name,
			d.wall.Seconds()/f.wall.Seconds(), d.cpu.Seconds()/f.cpu.Seconds(), float64(d.rss)/float64(f.rss))
	}
	fmt.Fprintln(stdout, "answers checked: the needle's row count and the top 10 (keys and sums) equal DuckDB's")
	return nil
}

// result is the median wall and CPU time of some runs, their largest peak
// RSS, and the median CPU time the rest of the machine used meanwhile.
type result struct {
	wall, cpu, others time.Duration
	rss               int64
}

func summary(ms []*measure.Measurement) result {
	med := func(f func(*measure.Measurement) time.Duration) time.Duration {
		v := make([]time.Duration, len(ms))
		for i, m := range ms {
			v[i] = f(m)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	r := result{
		wall:   med(func(m *measure.Measurement) time.Duration { return m.Wall }),
		cpu:    med(func(m *measure.Measurement) time.Duration { return m.CPU }),
		others: med(func(m *measure.Measurement) time.Duration { return m.Others }),
	}
	for _, m := range ms {
		r.rss = max(r.rss, m.PeakRSS)
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// sizes returns the bytes and number of the files under root whose names
// end in ext.
func sizes(root, ext string) (n, files int64, err error) {
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ext) {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n += fi.Size()
		files++
		return nil
	})
	return n, files, err
}
