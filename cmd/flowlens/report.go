package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowlens/flowlens/columnar/query"
	"github.com/flowlens/flowlens/topology"
)

type reportOptions struct {
	networkOptions
	where   string
	top     int
	by      string
	metric  string
	every   string
	format  string
	output  string
	workers int
	noIndex bool
}

func newReportCmd() *cobra.Command {
	o := reportOptions{}
	c := &cobra.Command{
		Use:   "report OUT KIND",
		Short: "Summarise the flows of a dataset: top talkers, denies, rules, timeline, ports",
		Long: `Summarise the flows of the dataset OUT (written by flowlens convert) that
match --where. KIND is one of:

  top       the top --by keys (src_ip, dst_ip, pair, dst_port, protocol, rule,
            nsg) by --metric (flows, bytes, packets)
  denied    denied flows by source, by destination port and by rule
  rules     flows per rule and NSG, allowed and denied
  timeline  flows, bytes and denies per --every interval (1m, 5m, 1h, 1d, …);
            intervals start at multiples of it since the Unix epoch, so at
            UTC midnight when it divides a day
  ports     flows per protocol and destination port, allowed and denied
  all       timeline, top talkers by --metric (default bytes), top ports,
            denied and rules, from one scan: the dashboard of --format html

Rows are ordered by their first metric, largest first, then by key; a
timeline by time. bytes and packets sum both directions, a flow without
counters (NSG v1) counting 0. Memory grows with the distinct keys, not with
the flows.

A top report without --where (by anything but pair) is counted from the
per-key totals in each file's index sidecar instead of scanning the file,
with the same result; so is one whose --where compares times only (since
7d), for the hours it covers whole. A file without a valid index (or one
built before totals existed: "flowlens index OUT" rebuilds it) is
scanned. Every other report scans; --no-index scans every file.

--format html writes one self-contained page (no network fetches; charts
are inline SVG). Several tables print as sections: in CSV each is
introduced by a line "# ID: NAME" and followed by a blank line.

With --network PATH (exported resource JSON, as for verify), rules and all
also list the rules of the NSGs seen in the dataset that never fired, and
every rule that earlier rules shadow on the subnets and NICs its NSG is
attached to (it can never match: a candidate for clean-up).`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("top") {
				o.top = -1
			}
			scanGC()
			return runReport(cmd.Context(), args[0], args[1], o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&o.where, "where", "", "count only the flows that match this filter")
	f.IntVar(&o.top, "top", 10, "rows per table (0: all; default 10, and all for rules and timeline)")
	f.StringVar(&o.by, "by", "src_ip", "top: the key: "+strings.Join(query.Bys, ", "))
	f.StringVar(&o.metric, "metric", "", "top and all: "+strings.Join(query.Metrics, ", ")+" (default flows; all: bytes)")
	f.StringVar(&o.every, "every", "1h", "timeline and all: the interval, e.g. 1m, 5m, 1h, 1d")
	f.StringVar(&o.format, "format", "table", "table, csv, json or html")
	f.StringVarP(&o.output, "output", "o", "", "write to this file instead of stdout")
	f.IntVar(&o.workers, "workers", 0, "files read in parallel (default: all cores)")
	f.BoolVar(&o.noIndex, "no-index", false, "read every row the filter may need instead of narrowing with the index sidecars, or of counting top reports without --where from their per-key totals")
	f.StringSliceVar(&o.network, "network", nil, "rules, all: exported Azure resource JSON, to list rules that never fired and shadowed rules")
	f.StringVar(&o.serviceTags, "service-tags", "", "with --network: ServiceTags_Public JSON for other service tags")
	return c
}

// parseEvery reads an interval: a Go duration, or whole days ("1d").
func parseEvery(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 366 {
			return 0, usagef("--every %q: want a duration such as 1m, 5m, 1h or 1d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second || d%time.Second != 0 {
		return 0, usagef("--every %q: want a duration of whole seconds, such as 1m, 5m, 1h or 1d", s)
	}
	return d, nil
}

func runReport(ctx context.Context, root, kind string, o reportOptions, stdout, stderr io.Writer) error {
	if !slices.Contains(query.Kinds, kind) {
		return usagef("report %q: want one of %s", kind, strings.Join(query.Kinds, ", "))
	}
	if !slices.Contains(query.Bys, o.by) {
		return usagef("--by %q: want one of %s", o.by, strings.Join(query.Bys, ", "))
	}
	if o.metric != "" && !slices.Contains(query.Metrics, o.metric) {
		return usagef("--metric %q: want one of %s", o.metric, strings.Join(query.Metrics, ", "))
	}
	switch o.format {
	case "table", "csv", "json", "html":
	default:
		return usagef("--format %q: want table, csv, json or html", o.format)
	}
	every, err := parseEvery(o.every)
	if err != nil {
		return err
	}
	top := o.top
	if top < 0 { // not set
		top = 10
		if kind == query.KindRules || kind == query.KindTimeline || kind == query.KindAll {
			top = 0
		}
	}
	expr, err := parseWhere(o.where)
	if err != nil {
		return err
	}
	if _, err := os.Stat(root); err != nil {
		return err
	}
	q := &query.Query{Root: root, Where: expr, Workers: o.workers, IndexTotals: !o.noIndex}
	if expr != nil && !o.noIndex {
		q.Select = query.IndexSelector(root, expr)
	}
	start := time.Now()
	res, err := q.Report(ctx, query.Report{Kind: kind, By: o.by, Metric: o.metric, Top: top, Every: every})
	if err != nil {
		return err
	}
	if len(o.network) > 0 && (kind == query.KindRules || kind == query.KindAll) {
		hits := res
		if top != 0 { // the hits must count every rule, not the top ones
			if hits, err = q.Report(ctx, query.Report{Kind: query.KindRules}); err != nil {
				return err
			}
		}
		if err := addRuleHygiene(res, hits, &o.networkOptions, stderr); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	out := stdout
	var file *os.File
	if o.output != "" && o.output != "-" {
		if file, err = os.Create(o.output); err != nil {
			return err
		}
		out = file
	}
	bw := bufio.NewWriter(out)
	switch o.format {
	case "table":
		err = writeReportTable(bw, res)
	case "csv":
		err = writeReportCSV(bw, res)
	case "json":
		err = writeReportJSON(bw, res)
	case "html":
		err = writeReportHTML(bw, res, root, elapsed)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// keyText prints one key part.
func keyText(k query.Key, kind query.KeyKind) string {
	switch {
	case k.Null:
		return ""
	case kind == query.KeyInt:
		return strconv.FormatInt(k.Int, 10)
	case kind == query.KeyTime:
		return time.UnixMicro(k.Int).UTC().Format(time.RFC3339)
	}
	return k.Str
}

func writeReportTable(w io.Writer, res *query.Result) error {
	for i, t := range res.Tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "# %s\n", t.Name)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		var b strings.Builder
		for _, k := range t.Keys {
			b.WriteString(k + "\t")
		}
		for _, m := range t.Metrics {
			b.WriteString(m + "\t")
		}
		fmt.Fprintln(tw, b.String())
		for _, r := range t.Rows {
			b.Reset()
			for j, k := range r.Keys {
				s := keyText(k, t.KeyKinds[j])
				if k.Null {
					s = "-"
				}
				b.WriteString(s + "\t")
			}
			for _, m := range r.Metrics {
				b.WriteString(strconv.FormatInt(m, 10) + "\t")
			}
			fmt.Fprintln(tw, b.String())
		}
		if len(t.Rows) == 0 {
			fmt.Fprintln(tw, "(no flows)\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func writeReportCSV(w io.Writer, res *query.Result) error {
	for i, t := range res.Tables {
		if len(res.Tables) > 1 {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "# %s: %s\n", t.ID, t.Name)
		}
		cw := csv.NewWriter(w)
		cw.Write(append(slices.Clone(t.Keys), t.Metrics...))
		for _, r := range t.Rows {
			rec := make([]string, 0, len(r.Keys)+len(r.Metrics))
			for j, k := range r.Keys {
				rec = append(rec, keyText(k, t.KeyKinds[j]))
			}
			for _, m := range r.Metrics {
				rec = append(rec, strconv.FormatInt(m, 10))
			}
			cw.Write(rec)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	return nil
}

// writeReportJSON writes one document: the report, its filter, its
// tables (rows as objects, columns in order, null keys as null) and what
// the scan read.
func writeReportJSON(w io.Writer, res *query.Result) error {
	var b bytes.Buffer
	b.WriteString(`{"report":`)
	writeJSON(&b, res.Report.Kind)
	b.WriteString(`,"where":`)
	writeJSON(&b, res.Where)
	b.WriteString(`,"tables":[`)
	for i, t := range res.Tables {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":`)
		writeJSON(&b, t.ID)
		b.WriteString(`,"name":`)
		writeJSON(&b, t.Name)
		b.WriteString(`,"columns":`)
		writeJSON(&b, append(slices.Clone(t.Keys), t.Metrics...))
		b.WriteString(`,"rows":[`)
		for j, r := range t.Rows {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('{')
			for k, key := range r.Keys {
				if k > 0 {
					b.WriteByte(',')
				}
				writeJSON(&b, t.Keys[k])
				b.WriteByte(':')
				switch {
				case key.Null:
					b.WriteString("null")
				case t.KeyKinds[k] == query.KeyInt:
					b.WriteString(strconv.FormatInt(key.Int, 10))
				default:
					writeJSON(&b, keyText(key, t.KeyKinds[k]))
				}
			}
			for k, m := range r.Metrics {
				b.WriteByte(',')
				writeJSON(&b, t.Metrics[k])
				b.WriteByte(':')
				b.WriteString(strconv.FormatInt(m, 10))
			}
			b.WriteByte('}')
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`],"stats":`)
	writeJSON(&b, res.Stats)
	b.WriteString("}")
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("BUG: report JSON: %w", err)
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

func writeJSON(b *bytes.Buffer, v any) {
	enc, err := json.Marshal(v)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	b.Write(enc)
}

// The HTML report: one page, no scripts, no fetches. Charts are SVG drawn
// here: a timeline of flows (denies over them) with bytes below, a bar
// chart for every top-N table, and tables with the numbers.

type htmlPage struct {
	Title     string
	Dataset   string
	Where     string
	Generated string
	Scan      string
	Sections  []htmlSection
}

type htmlSection struct {
	ID, Title string
	Note      string
	Timeline  *svgTimeline
	Bars      *svgBars
	Head      []string
	Numeric   []bool
	Rows      [][]string
	Shares    []svgShare // rules: allowed and denied share per row
}

type svgRect struct {
	X, Y, W, H float64
	Tip        string
}

type svgText struct {
	X, Y   float64
	Text   string
	Anchor string
}

type svgTimeline struct {
	W, H, BytesH  float64
	PlotX, PlotW  float64
	Flows, Denies []svgRect
	BytesLine     string
	BytesTop      float64
	Labels        []svgText
	Grid          []float64
	Empty         bool
	Bar           time.Duration // what a bar sums, when wider than the interval
}

type svgBars struct {
	W, H   float64
	LabelW float64
	Bars   []svgRect
	Labels []svgText
	Values []svgText
	Metric string
}

type svgShare struct {
	Allowed, Denied float64 // widths of 100
}

// human prints a count with a unit prefix: 1.2k, 3.4M.
func human(n int64, unit string) string {
	f := float64(n)
	for _, p := range []struct {
		s string
		v float64
	}{{"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}} {
		if f >= p.v {
			return strconv.FormatFloat(f/p.v, 'f', 1, 64) + " " + p.s + unit
		}
	}
	if unit != "" {
		return strconv.FormatInt(n, 10) + " " + unit
	}
	return strconv.FormatInt(n, 10)
}

func metricText(name string, v int64) string {
	if name == "bytes" {
		return human(v, "B")
	}
	return human(v, "")
}

func rowLabel(t query.Table, r query.Row) string {
	parts := make([]string, len(r.Keys))
	for i, k := range r.Keys {
		parts[i] = keyText(k, t.KeyKinds[i])
		if k.Null {
			parts[i] = "(none)"
		}
	}
	sep := " / "
	if len(t.Keys) == 2 && t.Keys[0] == "src_ip" {
		sep = " → "
	}
	return strings.Join(parts, sep)
}

func newSVGBars(t query.Table) *svgBars {
	if len(t.Rows) == 0 || len(t.Metrics) == 0 {
		return nil
	}
	const rowH, gap = 20.0, 6.0
	b := &svgBars{W: 720, LabelW: 260, Metric: t.Metrics[0]}
	var top int64
	for _, r := range t.Rows {
		top = max(top, r.Metrics[0])
	}
	plot := b.W - b.LabelW - 90
	for i, r := range t.Rows {
		y := float64(i)*(rowH+gap) + gap
		w := 0.0
		if top > 0 {
			w = plot * float64(r.Metrics[0]) / float64(top)
		}
		label := rowLabel(t, r)
		short := label
		if len([]rune(short)) > 38 {
			short = "…" + string([]rune(short)[len([]rune(short))-37:])
		}
		b.Bars = append(b.Bars, svgRect{X: b.LabelW, Y: y, W: max(w, 1), H: rowH, Tip: label + ": " + metricText(b.Metric, r.Metrics[0])})
		b.Labels = append(b.Labels, svgText{X: b.LabelW - 8, Y: y + rowH*0.7, Text: short, Anchor: "end"})
		b.Values = append(b.Values, svgText{X: b.LabelW + max(w, 1) + 6, Y: y + rowH*0.7, Text: metricText(b.Metric, r.Metrics[0]), Anchor: "start"})
	}
	b.H = float64(len(t.Rows))*(rowH+gap) + gap
	return b
}

// maxBars is the most bars a timeline draws; finer intervals are drawn
// summed into wider bars (the CSV and JSON keep them all).
const maxBars = 1500

func newSVGTimeline(t query.Table, every time.Duration) *svgTimeline {
	tl := &svgTimeline{W: 960, H: 220, BytesH: 90, PlotX: 70}
	tl.PlotW = tl.W - tl.PlotX - 20
	if len(t.Rows) == 0 {
		tl.Empty = true
		return tl
	}
	col := func(name string) int { return slices.Index(t.Metrics, name) }
	fi, bi, di := col("flows"), col("bytes"), col("denied")
	first, last := t.Rows[0].Keys[0].Int, t.Rows[len(t.Rows)-1].Keys[0].Int
	step := max(every.Microseconds(), 1)
	if n := (last-first)/step + 1; n > maxBars {
		step *= (n + maxBars - 1) / maxBars
		tl.Bar = time.Duration(step) * time.Microsecond
	}
	// Sum the rows into bars of step; intervals without flows stay gaps.
	var rows []query.Row
	for _, r := range t.Rows {
		at := first + (r.Keys[0].Int-first)/step*step
		if n := len(rows); n > 0 && rows[n-1].Keys[0].Int == at {
			for i, m := range r.Metrics {
				rows[n-1].Metrics[i] += m
			}
			continue
		}
		rows = append(rows, query.Row{Keys: []query.Key{{Int: at}}, Metrics: slices.Clone(r.Metrics)})
	}
	t.Rows = rows
	slots := float64((last-first)/step + 1)
	slotW := tl.PlotW / slots
	var maxFlows, maxBytes int64
	for _, r := range t.Rows {
		maxFlows = max(maxFlows, r.Metrics[fi])
		if bi >= 0 {
			maxBytes = max(maxBytes, r.Metrics[bi])
		}
	}
	plotH := tl.H - 40
	var line []string
	for _, r := range t.Rows {
		x := tl.PlotX + float64((r.Keys[0].Int-first)/step)*slotW
		at := time.UnixMicro(r.Keys[0].Int).UTC().Format("2006-01-02 15:04")
		h := plotH * float64(r.Metrics[fi]) / float64(max(maxFlows, 1))
		tl.Flows = append(tl.Flows, svgRect{X: x, Y: 10 + plotH - h, W: max(slotW*0.85, 0.8), H: h,
			Tip: fmt.Sprintf("%s: %s flows", at, human(r.Metrics[fi], ""))})
		if di >= 0 && r.Metrics[di] > 0 {
			dh := plotH * float64(r.Metrics[di]) / float64(max(maxFlows, 1))
			tl.Denies = append(tl.Denies, svgRect{X: x, Y: 10 + plotH - dh, W: max(slotW*0.85, 0.8), H: dh,
				Tip: fmt.Sprintf("%s: %s denied", at, human(r.Metrics[di], ""))})
		}
		if bi >= 0 {
			y := tl.H + 10 + (tl.BytesH-20)*(1-float64(r.Metrics[bi])/float64(max(maxBytes, 1)))
			line = append(line, fmt.Sprintf("%.1f,%.1f", x+slotW*0.42, y))
		}
	}
	tl.BytesLine = strings.Join(line, " ")
	tl.BytesTop = tl.H + 10
	for _, g := range []float64{0, 0.5, 1} {
		y := 10 + plotH*(1-g)
		tl.Grid = append(tl.Grid, y)
		tl.Labels = append(tl.Labels, svgText{X: tl.PlotX - 6, Y: y + 4, Text: human(int64(g*float64(maxFlows)), ""), Anchor: "end"})
	}
	tl.Labels = append(tl.Labels, svgText{X: tl.PlotX - 6, Y: tl.H + 14, Text: human(maxBytes, "B"), Anchor: "end"})
	ticks := []int64{first}
	if last != first {
		ticks = append(ticks, first+(last-first)/step/2*step, last)
	}
	for i, at := range ticks {
		anchor := "middle"
		switch {
		case i == 0:
			anchor = "start"
		case i == len(ticks)-1:
			anchor = "end"
		}
		x := tl.PlotX + float64((at-first)/step)*slotW
		if anchor == "end" {
			x += slotW
		}
		tl.Labels = append(tl.Labels, svgText{X: x, Y: tl.H - 10, Text: time.UnixMicro(at).UTC().Format("2006-01-02 15:04Z"), Anchor: anchor})
	}
	return tl
}

func newHTMLSection(t query.Table, every time.Duration) htmlSection {
	s := htmlSection{ID: t.ID, Title: t.Name}
	for _, k := range t.Keys {
		s.Head = append(s.Head, k)
		s.Numeric = append(s.Numeric, false)
	}
	for _, m := range t.Metrics {
		s.Head = append(s.Head, m)
		s.Numeric = append(s.Numeric, true)
	}
	var total int64
	for _, r := range t.Rows {
		row := make([]string, 0, len(s.Head))
		for i, k := range r.Keys {
			v := keyText(k, t.KeyKinds[i])
			if k.Null {
				v = "(none)"
			}
			row = append(row, v)
		}
		for i, m := range r.Metrics {
			row = append(row, metricText(t.Metrics[i], m))
		}
		s.Rows = append(s.Rows, row)
		if len(r.Metrics) > 0 {
			total += r.Metrics[0]
		}
	}
	switch t.Chart {
	case "timeline":
		s.Timeline = newSVGTimeline(t, every)
		s.Rows, s.Head = nil, nil // the chart says it; the CSV and JSON have the numbers
		s.Note = fmt.Sprintf("%d intervals", len(t.Rows))
		if s.Timeline.Bar > 0 {
			s.Note += ", drawn in bars of " + s.Timeline.Bar.String()
		}
	case "bars":
		s.Bars = newSVGBars(t)
		if strings.HasPrefix(t.ID, "denied_") {
			s.Note = fmt.Sprintf("%s denied flows in the top %d", human(total, ""), len(t.Rows))
		}
	}
	if a, d := slices.Index(t.Metrics, "allowed"), slices.Index(t.Metrics, "denied"); a >= 0 && d >= 0 && t.Chart == "" {
		s.Head = append(s.Head, "allowed / denied")
		s.Numeric = append(s.Numeric, false)
		for _, r := range t.Rows {
			sum := float64(max(r.Metrics[a]+r.Metrics[d], 1))
			s.Shares = append(s.Shares, svgShare{Allowed: 100 * float64(r.Metrics[a]) / sum, Denied: 100 * float64(r.Metrics[d]) / sum})
		}
	}
	if len(t.Rows) == 0 {
		s.Note = "no flows"
	}
	return s
}

func writeReportHTML(w io.Writer, res *query.Result, root string, elapsed time.Duration) error {
	p := htmlPage{
		Title:     "flowlens report: " + res.Report.Kind,
		Dataset:   root,
		Where:     res.Where,
		Generated: time.Now().UTC().Format("2006-01-02 15:04:05Z"),
	}
	st := res.Stats
	fromIndex := ""
	if st.FilesFromIndex > 0 {
		fromIndex = fmt.Sprintf(" read, %d counted from index totals", st.FilesFromIndex)
	}
	p.Scan = fmt.Sprintf("%s flows matched of %s rows read (%d of %d files%s, %d of %d row groups) in %s",
		human(st.RowsMatched, ""), human(st.RowsRead, ""),
		st.Files-st.FilesPruned-st.FilesFromIndex, st.Files, fromIndex, st.RowGroups-st.RowGroupsPruned, st.RowGroups,
		elapsed.Round(time.Millisecond))
	every := res.Report.Every
	if every == 0 {
		every = time.Hour
	}
	for _, t := range res.Tables {
		p.Sections = append(p.Sections, newHTMLSection(t, every))
	}
	return reportTemplate().Execute(w, p)
}

// reportTemplate is parsed when first used, not at start-up: every
// flowlens command would pay for it.
var reportTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"f": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
		"share": func(s []svgShare, i int) svgShare {
			if i < len(s) {
				return s[i]
			}
			return svgShare{}
		},
		"add": func(a, b float64) float64 { return a + b },
	}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1000px; color: #1d2330; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 6px; border-bottom: 1px solid #d8dde6; padding-bottom: 4px; }
.meta { color: #5b6475; font-size: 13px; }
.meta code { background: #f1f3f7; padding: 1px 5px; border-radius: 3px; }
.note { color: #5b6475; font-size: 13px; margin: 2px 0 8px; }
svg text { font: 12px system-ui, sans-serif; fill: #2b3140; }
svg .axis { fill: #6b7385; font-size: 11px; }
.flows { fill: #4a78c2; }
.denies { fill: #d2453b; }
.bar { fill: #4a78c2; }
.denied .bar { fill: #d2453b; }
.grid { stroke: #e4e8ef; }
.bytes { fill: none; stroke: #2f9e6e; stroke-width: 1.5; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eceff4; text-align: left; }
th { background: #f5f7fa; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">dataset <code>{{.Dataset}}</code>{{if .Where}} · where <code>{{.Where}}</code>{{end}} · generated {{.Generated}}</div>
<div class="meta">{{.Scan}}</div>
{{range .Sections}}
<section id="{{.ID}}" class="{{if eq (printf "%.7s" .ID) "denied_"}}denied{{end}}">
<h2>{{.Title}}</h2>
{{if .Note}}<div class="note">{{.Note}}</div>{{end}}
{{with .Timeline}}{{if .Empty}}<div class="note">no flows</div>{{else}}
<div class="legend"><span><i style="background:#4a78c2"></i>flows</span><span><i style="background:#d2453b"></i>denied</span><span><i style="background:#2f9e6e"></i>bytes</span></div>
<svg class="chart timeline" width="{{f .W}}" height="{{f (add .H .BytesH)}}" viewBox="0 0 {{f .W}} {{f (add .H .BytesH)}}" role="img" aria-label="flows per interval">
{{$x := .PlotX}}{{$w := add .PlotX .PlotW}}{{range .Grid}}<line class="grid" x1="{{f $x}}" x2="{{f $w}}" y1="{{f .}}" y2="{{f .}}"/>{{end}}
{{range .Flows}}<rect class="flows" x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}"><title>{{.Tip}}</title></rect>{{end}}
{{range .Denies}}<rect class="denies" x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}"><title>{{.Tip}}</title></rect>{{end}}
{{if .BytesLine}}<polyline class="bytes" points="{{.BytesLine}}"/>{{end}}
{{range .Labels}}<text class="axis" x="{{f .X}}" y="{{f .Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>{{end}}
</svg>{{end}}{{end}}
{{with .Bars}}
<svg class="chart bars" width="{{f .W}}" height="{{f .H}}" viewBox="0 0 {{f .W}} {{f .H}}" role="img" aria-label="{{.Metric}} by key">
{{range .Bars}}<rect class="bar" x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}" rx="2"><title>{{.Tip}}</title></rect>{{end}}
{{range .Labels}}<text x="{{f .X}}" y="{{f .Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>{{end}}
{{range .Values}}<text class="axis" x="{{f .X}}" y="{{f .Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>{{end}}
</svg>{{end}}
{{if .Rows}}{{$s := .}}
<table>
<tr>{{range $i, $h := .Head}}<th{{if index $s.Numeric $i}} class="n"{{end}}>{{$h}}</th>{{end}}</tr>
{{range $r, $row := .Rows}}<tr>{{range $i, $c := $row}}<td{{if index $s.Numeric $i}} class="n"{{end}}>{{$c}}</td>{{end}}{{if $s.Shares}}{{with share $s.Shares $r}}<td><svg width="100" height="10" role="img" aria-label="allowed and denied share"><rect x="0" y="0" width="{{f .Allowed}}" height="10" fill="#2f9e6e"/><rect x="{{f .Allowed}}" y="0" width="{{f .Denied}}" height="10" fill="#d2453b"/></svg></td>{{end}}{{end}}</tr>
{{end}}</table>{{end}}
</section>
{{end}}
</body>
</html>
`))
})

// addRuleHygiene appends to a rules report the rules of the network that
// never fired (for the NSGs the dataset has flows of; hitsRes is a rules
// report of every rule) and the rules that earlier rules shadow.
func addRuleHygiene(res, hitsRes *query.Result, o *networkOptions, stderr io.Writer) error {
	ev, err := o.load(stderr)
	if err != nil {
		return err
	}
	hits := map[string]bool{} // lower(nsg) + "/" + lower(rule as logged)
	seenNSG := map[string]bool{}
	for _, t := range hitsRes.Tables {
		if t.ID != "rules" {
			continue
		}
		for _, r := range t.Rows {
			if len(r.Keys) < 2 || r.Keys[1].Null {
				continue
			}
			nsg := strings.ToLower(r.Keys[1].Str)
			seenNSG[nsg] = true
			if !r.Keys[0].Null {
				hits[nsg+"/"+strings.ToLower(r.Keys[0].Str)] = true
			}
		}
	}
	never := query.Table{Name: "rules that never fired", ID: "never_fired",
		Keys: []string{"nsg", "rule", "direction"}, KeyKinds: []query.KeyKind{query.KeyString, query.KeyString, query.KeyString},
		Metrics: []string{"priority"}}
	for _, nsg := range topology.Sorted(ev.Network().NSGs) {
		name := strings.ToLower(nsg.Name)
		if !seenNSG[name] {
			continue
		}
		for _, r := range slices.Concat(nsg.SecurityRules, nsg.DefaultSecurityRules) {
			logged := "UserRule_" + r.Name
			if r.Default {
				logged = "DefaultRule_" + r.Name
			}
			if hits[name+"/"+strings.ToLower(logged)] {
				continue
			}
			never.Rows = append(never.Rows, query.Row{
				Keys:    []query.Key{{Str: nsg.Name}, {Str: logged}, {Str: string(r.Direction)}},
				Metrics: []int64{int64(r.Priority)}})
		}
	}
	shadows, err := ev.ShadowedRules()
	if err != nil {
		return err
	}
	shadowed := query.Table{Name: "shadowed rules (earlier rules take all their packets)", ID: "shadowed",
		Keys: []string{"nsg", "rule", "direction", "shadowed_by"}, KeyKinds: []query.KeyKind{query.KeyString, query.KeyString, query.KeyString, query.KeyString},
		Metrics: []string{"priority"}}
	for _, sh := range shadows {
		by := strings.Join(sh.By, " ")
		if sh.Unknown {
			by = "(too large to check)"
		}
		shadowed.Rows = append(shadowed.Rows, query.Row{
			Keys:    []query.Key{{Str: sh.NSG}, {Str: sh.Rule}, {Str: sh.Direction}, {Str: by}},
			Metrics: []int64{int64(sh.Priority)}})
	}
	res.Tables = append(res.Tables, never, shadowed)
	return nil
}
