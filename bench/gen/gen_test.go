package gen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/bench/gen"
)

func smallConfig() gen.Config {
	cfg := gen.DefaultConfig()
	cfg.Seed = 7
	cfg.Resources = 6
	cfg.Hours = 2
	cfg.FlowsPerMinute = 6
	return cfg
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDeterministic(t *testing.T) {
	var trees []map[string][]byte
	var totals []*gen.Totals
	for _, workers := range []int{1, 4} {
		cfg := smallConfig()
		cfg.Workers = workers
		root := filepath.Join(t.TempDir(), "tree")
		tot, err := gen.Generate(context.Background(), root, cfg)
		if err != nil {
			t.Fatal(err)
		}
		trees = append(trees, readTree(t, root))
		totals = append(totals, tot)
	}
	if len(trees[0]) == 0 || len(trees[0]) != len(trees[1]) {
		t.Fatalf("trees have %d and %d files", len(trees[0]), len(trees[1]))
	}
	for name, b := range trees[0] {
		if !bytes.Equal(b, trees[1][name]) {
			t.Errorf("%s differs between 1 and 4 workers", name)
		}
	}
	if !reflect.DeepEqual(totals[0], totals[1]) {
		t.Errorf("totals differ between 1 and 4 workers:\n%+v\n%+v", totals[0], totals[1])
	}
	dry, err := gen.Generate(context.Background(), "", smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	if dry.Bytes != totals[0].Bytes || dry.Tuples != totals[0].Tuples {
		t.Errorf("dry run counts %d bytes, %d tuples; the written tree has %d, %d", dry.Bytes, dry.Tuples, totals[0].Bytes, totals[0].Tuples)
	}
}

var (
	nsgPath  = regexp.MustCompile(`^insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/[0-9A-F-]{36}/RESOURCEGROUPS/[A-Z0-9-]+/PROVIDERS/MICROSOFT\.NETWORK/NETWORKSECURITYGROUPS/[A-Z0-9-]+/y=\d{4}/m=\d\d/d=\d\d/h=\d\d/m=00/macAddress=[0-9A-F]{12}/PT1H\.json$`)
	vnetPath = regexp.MustCompile(`^insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/[0-9A-F-]{36}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT\.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_[A-Z0-9]+/FLOWLOGS/[A-Z0-9-]+/y=\d{4}/m=\d\d/d=\d\d/h=\d\d/m=00/macAddress=[0-9A-F]{12}/PT1H\.json$`)
	v1Tuple  = regexp.MustCompile(`^\d{10},[0-9a-f.:]+,[0-9a-f.:]+,\d+,\d+,[TU],[IO],[AD]$`)
	v2Tuple  = regexp.MustCompile(`^\d{10},[0-9a-f.:]+,[0-9a-f.:]+,\d+,\d+,[TU],[IO],[AD],(B,,,,|[CE](,\d+){4})$`)
	vnTuple  = regexp.MustCompile(`^\d{13},[0-9a-f.:]+,[0-9a-f.:]+,\d+,\d+,(6|17|1),[IO],[BCED],[A-Z_]+(,\d+){4}$`)
)

// blob is what encoding/json reads of a generated blob.
type blob struct {
	Records []struct {
		Time       time.Time `json:"time"`
		MACAddress string    `json:"macAddress"`
		ResourceID string    `json:"resourceId"`
		Category   string    `json:"category"`
		FlowLogID  string    `json:"flowLogResourceID"`
		TargetID   string    `json:"targetResourceID"`
		FlowLogVer int       `json:"flowLogVersion"`
		Properties *struct {
			Version int `json:"Version"`
			Flows   []struct {
				Rule  string `json:"rule"`
				Flows []struct {
					MAC    string   `json:"mac"`
					Tuples []string `json:"flowTuples"`
				} `json:"flows"`
			} `json:"flows"`
		} `json:"properties"`
		FlowRecords *struct {
			Flows []struct {
				ACLID  string `json:"aclID"`
				Groups []struct {
					Rule   string   `json:"rule"`
					Tuples []string `json:"flowTuples"`
				} `json:"flowGroups"`
			} `json:"flows"`
		} `json:"flowRecords"`
	} `json:"records"`
}

// TestTreeShape reads a generated tree back with encoding/json and checks
// the blob paths, the record and tuple shapes and the totals.
func TestTreeShape(t *testing.T) {
	cfg := smallConfig()
	root := filepath.Join(t.TempDir(), "tree")
	want, err := gen.Generate(context.Background(), root, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := gen.Totals{BySource: map[string]int64{}, ByState: map[string]int64{}}
	var size int64
	for name, b := range readTree(t, root) {
		size += int64(len(b))
		vnet := vnetPath.MatchString(name)
		if !vnet && !nsgPath.MatchString(name) {
			t.Fatalf("blob path %q is not in the Azure layout", name)
		}
		if !bytes.HasPrefix(b, []byte(`{"records":[{"time":"`)) || bytes.ContainsAny(b, "\n ") {
			t.Errorf("%s: not compact {\"records\":[...]} JSON", name)
		}
		var bl blob
		if err := json.Unmarshal(b, &bl); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got.Files++
		mac := name[strings.Index(name, "macAddress=")+len("macAddress=") : strings.LastIndex(name, "/")]
		for ri, r := range bl.Records {
			got.Records++
			var tuples []string
			check := func(ok bool, format string, args ...any) {
				if !ok {
					t.Fatalf("%s: record %d: %s", name, ri, fmt.Sprintf(format, args...))
				}
			}
			if vnet {
				check(r.FlowLogVer == 4 && r.FlowRecords != nil && r.Properties == nil, "not a VNet v4 record")
				check(r.Category == "FlowLogFlowEvent" && r.MACAddress == mac && strings.Contains(name, r.FlowLogID+"/"), "category, mac or flowLogResourceID")
				for _, f := range r.FlowRecords.Flows {
					for _, g := range f.Groups {
						check(f.ACLID != "" && g.Rule != "" && len(g.Tuples) > 0, "empty aclID, rule or group")
						tuples = append(tuples, g.Tuples...)
					}
				}
			} else {
				check(r.Properties != nil && r.FlowRecords == nil, "not an NSG record")
				check(r.Category == "NetworkSecurityGroupFlowEvent" && strings.Contains(name, r.ResourceID+"/"), "category or resourceId")
				for _, f := range r.Properties.Flows {
					for _, g := range f.Flows {
						check(g.MAC == mac && f.Rule != "" && len(g.Tuples) > 0, "mac, rule or empty flow")
						tuples = append(tuples, g.Tuples...)
					}
				}
			}
			for _, tu := range tuples {
				f := strings.Split(tu, ",")
				var ms int64
				switch {
				case vnet:
					check(vnTuple.MatchString(tu), "bad VNet tuple %q", tu)
					got.BySource["vnet"]++
					got.ByState[f[7]]++
					ms, _ = strconv.ParseInt(f[0], 10, 64)
				case r.Properties.Version == 1:
					check(v1Tuple.MatchString(tu), "bad v1 tuple %q", tu)
					got.BySource["nsg-v1"]++
					got.NullCounters++
				default:
					check(r.Properties.Version == 2 && v2Tuple.MatchString(tu), "bad v2 tuple %q", tu)
					got.BySource["nsg-v2"]++
					got.ByState[f[8]]++
					if f[8] == "B" {
						got.NullCounters++
					}
				}
				if !vnet {
					s, _ := strconv.ParseInt(f[0], 10, 64)
					ms = s * 1000
				}
				// A record holds the minute before its time.
				at := time.UnixMilli(ms)
				check(!at.After(r.Time) && r.Time.Sub(at) < 2*time.Minute, "tuple time %s, record time %s", at, r.Time)
				got.Tuples++
				if f[7] == "D" {
					got.Denies++
				}
				if len(f) == 13 {
					for i, p := range []*int64{&got.PacketsOut, &got.BytesOut, &got.PacketsIn, &got.BytesIn} {
						n, _ := strconv.ParseInt(f[9+i], 10, 64)
						*p += n
					}
				}
			}
		}
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"files", got.Files, want.Files},
		{"records", got.Records, want.Records},
		{"bytes", size, want.Bytes},
		{"tuples", got.Tuples, want.Tuples},
		{"denies", got.Denies, want.Denies},
		{"null counters", got.NullCounters, want.NullCounters},
		{"packets_out", got.PacketsOut, want.PacketsOut},
		{"bytes_out", got.BytesOut, want.BytesOut},
		{"packets_in", got.PacketsIn, want.PacketsIn},
		{"bytes_in", got.BytesIn, want.BytesIn},
	} {
		if c.got != c.want {
			t.Errorf("%s: the tree holds %d, Totals say %d", c.name, c.got, c.want)
		}
	}
	if !reflect.DeepEqual(got.BySource, want.BySource) || !reflect.DeepEqual(got.ByState, want.ByState) {
		t.Errorf("by source %v, by state %v; Totals say %v, %v", got.BySource, got.ByState, want.BySource, want.ByState)
	}
	if len(want.BySource) != 3 {
		t.Errorf("a default mix should hold every format: %v", want.BySource)
	}
	if s := want.DenyShare(); s < 0.10 || s > 0.20 {
		t.Errorf("deny share %.3f, want 10-20%%", s)
	}
}

func TestTargetSize(t *testing.T) {
	cfg := smallConfig()
	cfg.FlowsPerMinute = 0
	cfg.TargetSize = 3 << 20
	tot, err := gen.Generate(context.Background(), "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := float64(tot.Bytes)/float64(cfg.TargetSize) - 1; d < -0.02 || d > 0.02 {
		t.Errorf("asked for %d bytes, got %d (%+.1f%%)", cfg.TargetSize, tot.Bytes, 100*d)
	}
	cfg.TargetSize = 1000
	if _, err := gen.Generate(context.Background(), "", cfg); err == nil {
		t.Error("a target smaller than the records' overhead should fail")
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1GiB", 1 << 30, true},
		{"1gib", 1 << 30, true},
		{"512MiB", 512 << 20, true},
		{"64MB", 64e6, true},
		{"1.5G", 3 << 29, true},
		{"100", 100, true},
		{"10KB", 10000, true},
		{"", 0, false},
		{"GiB", 0, false},
		{"-1MB", 0, false},
		{"1 parsec", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := gen.ParseSize(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%t", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func ExampleParseSize() {
	n, _ := gen.ParseSize("1GiB")
	fmt.Println(n, gen.FormatSize(n))
	// Output: 1073741824 1.00 GiB
}
