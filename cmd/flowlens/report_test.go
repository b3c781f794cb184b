package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestReportKinds(t *testing.T) {
	ds := sampleDS(t)
	cases := []struct {
		args []string
		want []string // in the table output
	}{
		{[]string{"top", "--by", "src_ip", "--metric", "bytes"}, []string{"# top src_ip by bytes", "src_ip", "bytes", "flows"}},
		{[]string{"top", "--by", "pair"}, []string{"# top pair by flows", "src_ip", "dst_ip"}},
		{[]string{"top", "--by", "nsg", "--metric", "packets"}, []string{"# top nsg by packets", "nsg"}},
		{[]string{"denied"}, []string{"# denied flows by src_ip", "# denied flows by dst_port", "# denied flows by rule", "DefaultRule_DenyAllInBound"}},
		{[]string{"rules"}, []string{"# flows by rule and NSG", "allowed", "denied"}},
		{[]string{"timeline", "--every", "1d"}, []string{"# flows, bytes and denies per 1d", "T00:00:00Z"}},
		{[]string{"ports", "--where", "tcp"}, []string{"# flows by protocol and destination port", "tcp"}},
		{[]string{"all"}, []string{"# top src_ip by bytes", "# flows by rule and NSG"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := runQueryCLI(t, append([]string{"report", ds}, c.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
}

func TestReportFormats(t *testing.T) {
	ds := sampleDS(t)
	// CSV: one table is plain CSV; several are sections.
	code, stdout, _ := runQueryCLI(t, "report", ds, "top", "--by", "dst_port", "--metric", "bytes", "--top", "3", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if code != exitOK || err != nil || len(recs) != 4 || strings.Join(recs[0], ",") != "dst_port,bytes,flows" {
		t.Fatalf("csv: exit %d, %v\n%s", code, err, stdout)
	}
	code, stdout, _ = runQueryCLI(t, "report", ds, "denied", "--format", "csv")
	if code != exitOK || strings.Count(stdout, "\n# ") != 2 || !strings.HasPrefix(stdout, "# denied_src_ip: denied flows by src_ip\nsrc_ip,flows\n") {
		t.Fatalf("csv sections:\n%s", stdout)
	}
	// JSON: one document; keys typed, null keys null.
	code, stdout, _ = runQueryCLI(t, "report", ds, "top", "--by", "rule", "--format", "json", "--where", "not source nsg-v1")
	var doc struct {
		Report string `json:"report"`
		Where  string `json:"where"`
		Tables []struct {
			ID      string           `json:"id"`
			Columns []string         `json:"columns"`
			Rows    []map[string]any `json:"rows"`
		} `json:"tables"`
		Stats map[string]int64 `json:"stats"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); code != exitOK || err != nil {
		t.Fatalf("json: exit %d, %v\n%s", code, err, stdout)
	}
	if doc.Report != "top" || doc.Where != "not source nsg-v1" || len(doc.Tables) != 1 || len(doc.Tables[0].Rows) == 0 || doc.Stats["rows_matched"] == 0 {
		t.Fatalf("json: %+v", doc)
	}
	if _, ok := doc.Tables[0].Rows[0]["flows"].(float64); !ok {
		t.Fatalf("flows is not a number: %v", doc.Tables[0].Rows[0])
	}
	// HTML: self-contained, with its charts.
	out := filepath.Join(t.TempDir(), "r.html")
	code, _, stderr := runQueryCLI(t, "report", ds, "all", "--format", "html", "-o", out, "--where", "since 100000d")
	if code != exitOK {
		t.Fatalf("html: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{"<!DOCTYPE html>", `<svg class="chart timeline"`, `<svg class="chart bars"`, `id="denied_src_ip"`, `id="rules"`, "<title>flowlens report: all</title>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, `<svg class="chart bars"`); n != 6 {
		t.Errorf("%d bar charts, want 6 (3 top, 3 denied)", n)
	}
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(`).FindString(page); m != "" {
		t.Errorf("page fetches something: %q", m)
	}
}

func TestReportErrors(t *testing.T) {
	ds := sampleDS(t)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"nope"}, `report "nope"`},
		{[]string{"top", "--by", "mac"}, "--by"},
		{[]string{"top", "--metric", "octets"}, "--metric"},
		{[]string{"timeline", "--every", "5ms"}, "--every"},
		{[]string{"timeline", "--every", "xd"}, "--every"},
		{[]string{"top", "--format", "pdf"}, "--format"},
		{[]string{"top", "--where", "port 99999"}, "^~~~~"},
	} {
		code, _, stderr := runQueryCLI(t, append([]string{"report", ds}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr lacks %q:\n%s", c.args, code, c.msg, stderr)
		}
	}
}

// TestReportRulesNetwork checks rules --network against the samples, whose
// APPNSG logs hits of UserRule_fe_rule and DefaultRule_DenyAllInBound: the
// other default rules of that NSG never fired, and AllowVnetInBound
// shadows AllowAzureLoadBalancerInBound on the subnet the NSG guards.
func TestReportRulesNetwork(t *testing.T) {
	ds := sampleDS(t)
	code, stdout, stderr := runQueryCLI(t, "report", ds, "rules", "--top", "2", "--format", "json",
		"--network", "../../testdata/azure-example-networks/NetworkWatcherSecurityGroupViewGet.network.json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		Tables []struct {
			ID   string
			Rows []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, tb := range out.Tables {
		for _, r := range tb.Rows {
			got[tb.ID] = append(got[tb.ID], fmt.Sprint(r["nsg"], " ", r["rule"]))
		}
	}
	never := strings.Join(got["never_fired"], "\n")
	for _, want := range []string{"AppNSG DefaultRule_AllowVnetInBound", "AppNSG DefaultRule_DenyAllOutBound"} {
		if !strings.Contains(never, want) {
			t.Errorf("never fired lacks %s:\n%s", want, never)
		}
	}
	for _, fired := range []string{"fe_rule", "DenyAllInBound"} {
		if strings.Contains(never, fired) {
			t.Errorf("%s fired in the samples but is listed as never fired", fired)
		}
	}
	if len(got["never_fired"]) != 5 {
		t.Errorf("%d never fired, want 5: %v", len(got["never_fired"]), got["never_fired"])
	}
	if s := got["shadowed"]; len(s) != 1 || s[0] != "AppNSG defaultSecurityRules/AllowAzureLoadBalancerInBound" {
		t.Errorf("shadowed: %v", s)
	}
}

// TestReportIndexTotals: a top report without --where is counted from the
// index totals of every file, and prints what --no-index (a scan) prints.
func TestReportIndexTotals(t *testing.T) {
	ds := sampleDS(t)
	for _, by := range []string{"src_ip", "dst_ip", "dst_port", "protocol", "rule", "nsg"} {
		for _, format := range []string{"csv", "json"} {
			args := []string{"report", ds, "top", "--by", by, "--metric", "bytes", "--top", "0", "--format", format}
			code, fromIndex, stderr := runQueryCLI(t, args...)
			if code != exitOK {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			code, scan, stderr := runQueryCLI(t, append(args, "--no-index")...)
			if code != exitOK {
				t.Fatalf("%v --no-index: exit %d: %s", args, code, stderr)
			}
			if format == "csv" {
				if fromIndex != scan || strings.Count(scan, "\n") < 3 {
					t.Errorf("%v: from the index\n%s\nscanning\n%s", args, fromIndex, scan)
				}
				continue
			}
			var a, b struct {
				Tables json.RawMessage  `json:"tables"`
				Stats  map[string]int64 `json:"stats"`
			}
			if err := json.Unmarshal([]byte(fromIndex), &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(scan), &b); err != nil {
				t.Fatal(err)
			}
			if string(a.Tables) != string(b.Tables) || a.Stats["files_from_index"] != a.Stats["files"] || a.Stats["files"] == 0 ||
				b.Stats["files_from_index"] != 0 || a.Stats["rows_read"] != 0 || a.Stats["rows_matched"] != b.Stats["rows_matched"] {
				t.Errorf("%v: stats %v, scanning %v", args, a.Stats, b.Stats)
			}
		}
	}
	// A filter on time alone that covers every hour: every file from its index.
	code, stdout, stderr := runQueryCLI(t, "report", ds, "top", "--where", "since 100000d", "--format", "json")
	var doc struct {
		Stats map[string]int64 `json:"stats"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); code != exitOK || err != nil || doc.Stats["files_from_index"] != doc.Stats["files"] {
		t.Errorf("since 100000d: exit %d, %v, stats %v: %s", code, err, doc.Stats, stderr)
	}
	out := filepath.Join(t.TempDir(), "r.html")
	if code, _, stderr := runQueryCLI(t, "report", ds, "top", "--format", "html", "-o", out); code != exitOK {
		t.Fatalf("html: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || !regexp.MustCompile(`\(0 of \d+ files read, \d+ counted from index totals,`).Match(b) {
		t.Errorf("html page does not say the files were counted from the index: %v", err)
	}
}
