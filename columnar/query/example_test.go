package query_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/columnar/filter"
	"github.com/flowlens/flowlens/columnar/query"
	"github.com/flowlens/flowlens/flowlog"
)

// convertSamples converts the repository's sample flow logs into a new
// dataset, as "flowlens convert testdata/flowlogs -o DIR" does.
func convertSamples(dir string) (string, error) {
	inputs, err := flowlog.Discover([]string{"../../testdata/flowlogs"})
	if err != nil {
		return "", err
	}
	root := filepath.Join(dir, "ds")
	ds, err := columnar.OpenDataset(root, "")
	if err != nil {
		return "", err
	}
	defer ds.Close()
	_, err = flowlog.Convert(context.Background(), inputs, ds, flowlog.DefaultConfig(), nil)
	return root, err
}

func ExampleQuery_Scan() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	root, err := convertSamples(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := filter.Parse("src ip 122.222.24.18 and dst port 3128", filter.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The filter's columns are filled in too (src_ip, dst_port).
	q := query.Query{Root: root, Where: e, Columns: []string{"time", "dst_ip", "decision", "rule"}}
	st, err := q.Scan(context.Background(), func(f *columnar.Flow) error {
		// f and its byte slices are valid during the call only.
		fmt.Println(time.UnixMicro(f.Time).UTC().Format(time.RFC3339), string(f.SrcIP), string(f.DstIP), f.DstPort, f.Decision, string(f.Rule))
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.RowsMatched, "rows")
	// Output:
	// 2018-07-18T12:35:35Z 122.222.24.18 10.0.0.4 3128 deny DefaultRule_DenyAllInBound
	// 2018-07-18T12:35:38Z 122.222.24.18 10.0.0.4 3128 deny DefaultRule_DenyAllInBound
	// 2018-07-18T12:35:44Z 122.222.24.18 10.0.0.4 3128 deny DefaultRule_DenyAllInBound
	// 3 rows
}

func ExampleQuery_Report() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	root, err := convertSamples(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	q := query.Query{Root: root, Where: filter.MustParse("deny")}
	res, err := q.Report(context.Background(), query.Report{Kind: query.KindTop, By: "dst_port", Top: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	t := res.Tables[0]
	fmt.Println(t.Name, t.Keys, t.Metrics)
	for _, r := range t.Rows {
		fmt.Println(r.Keys[0].Int, r.Metrics[0])
	}
	// Output:
	// top dst_port by flows [dst_port] [flows]
	// 3128 28
	// 80 16
	// 23 12
}
