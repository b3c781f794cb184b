package query

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/columnar"
	"github.com/flowlens/flowlens/internal/arrowscan"
)

// allColumns is every column of the schema, by name.
func allColumns() []string {
	var out []string
	for _, f := range columnar.Schema.Fields() {
		out = append(out, f.Name)
	}
	return out
}

func TestQueryColumnIDs(t *testing.T) {
	if int(numCols) != len(columnar.Schema.Fields()) {
		t.Fatalf("%d column ids, %d schema columns", numCols, len(columnar.Schema.Fields()))
	}
	for i, f := range columnar.Schema.Fields() {
		c, ok := colByName(f.Name)
		if !ok || int(c) != i || c.String() != f.Name {
			t.Errorf("column %d %s: id %d", i, f.Name, c)
		}
		want := kindDict
		switch f.Type.ID() {
		case arrow.INT32:
			want = kindInt32
		case arrow.INT64, arrow.TIMESTAMP:
			want = kindInt64
		}
		if kindOf(colID(i)) != want {
			t.Errorf("column %s: kind %d, want %d", f.Name, kindOf(colID(i)), want)
		}
	}
	for i := columnar.DirectionUnknown; i <= columnar.DirectionOut; i++ {
		if directionNames[i] != i.String() {
			t.Errorf("direction %d: %q, want %q", i, directionNames[i], i)
		}
	}
	for i := columnar.DecisionUnknown; i <= columnar.DecisionDeny; i++ {
		if decisionNames[i] != i.String() {
			t.Errorf("decision %d: %q, want %q", i, decisionNames[i], i)
		}
	}
	if len(sourceNames) != int(columnar.SourcePcap)+1 {
		t.Errorf("source names %q", sourceNames)
	}
}

// arrowFlows reads a dataset with arrow-go's Parquet reader (the
// reference) and returns its rows, in dataset order, as strings.
func arrowFlows(t *testing.T, root string) []string {
	t.Helper()
	files, err := columnar.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fe := range files {
		_, err := arrowscan.ScanFile(context.Background(), filepath.Join(root, fe.Path), nil, func(rec arrow.RecordBatch) error {
			for i := 0; i < int(rec.NumRows()); i++ {
				var f columnar.Flow
				flowFromRecord(rec, i, &f)
				out = append(out, flowString(&f))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// flowFromRecord fills f from row i of a record of the flow schema.
func flowFromRecord(rec arrow.RecordBatch, i int, f *columnar.Flow) {
	str := func(c string) []byte {
		s := arrowscan.StringValue(rec.Column(rec.Schema().FieldIndices(c)[0]), i)
		if s == "" {
			return nil
		}
		return []byte(s)
	}
	i64 := func(c string) (int64, bool) {
		a := rec.Column(rec.Schema().FieldIndices(c)[0])
		if a.IsNull(i) {
			return 0, false
		}
		switch a := a.(type) {
		case *array.Int64:
			return a.Value(i), true
		case *array.Timestamp:
			return int64(a.Value(i)), true
		case *array.Int32:
			return int64(a.Value(i)), true
		}
		panic(fmt.Sprintf("column %s: %T", c, a))
	}
	f.Time, _ = i64("time")
	f.EndTime, f.HasEndTime = i64("end_time")
	f.Source = columnar.Source(lookupCode(sourceNames, str("source")))
	f.ResourceID, f.MAC, f.Rule = str("resource_id"), str("mac"), str("rule")
	f.SrcIP, f.DstIP = str("src_ip"), str("dst_ip")
	sp, _ := i64("src_port")
	dp, _ := i64("dst_port")
	pr, _ := i64("proto")
	f.SrcPort, f.DstPort, f.Proto = int32(sp), int32(dp), int32(pr)
	if got := string(str("protocol")); got != columnar.ProtocolName(f.Proto) {
		panic(fmt.Sprintf("row %d: protocol %q, proto %d", i, got, f.Proto))
	}
	f.Direction = columnar.Direction(lookupCode(directionNames, str("direction")))
	f.Decision = columnar.Decision(lookupCode(decisionNames, str("decision")))
	if s := str("state"); len(s) == 1 {
		f.State = s[0]
	}
	var ok [4]bool
	f.PacketsOut, ok[0] = i64("packets_out")
	f.BytesOut, ok[1] = i64("bytes_out")
	f.PacketsIn, ok[2] = i64("packets_in")
	f.BytesIn, ok[3] = i64("bytes_in")
	f.HasCounters = ok[0] && ok[1] && ok[2] && ok[3]
	f.ACLID, f.FlowLogID, f.Encryption = str("acl_id"), str("flow_log_id"), str("encryption")
	var v int64
	v, f.HasTCPFlags = i64("tcp_flags")
	f.TCPFlags = int32(v)
	v, f.HasVLAN = i64("vlan")
	f.VLAN = int32(v)
	v, f.HasCapturedLen = i64("captured_len")
	f.CapturedLen = int32(v)
}

// flowString prints every field of a row.
func flowString(f *columnar.Flow) string {
	return fmt.Sprintf("%d %d/%v %s %q %q %q %q %q %d %d %d %d %d %d %v %d %d %d %d %q %q %q %d/%v %d/%v %d/%v",
		f.Time, f.EndTime, f.HasEndTime, f.Source, f.ResourceID, f.MAC, f.Rule, f.SrcIP, f.DstIP,
		f.SrcPort, f.DstPort, f.Proto, f.Direction, f.Decision, f.State,
		f.HasCounters, f.PacketsOut, f.BytesOut, f.PacketsIn, f.BytesIn, f.ACLID, f.FlowLogID, f.Encryption,
		f.TCPFlags, f.HasTCPFlags, f.VLAN, f.HasVLAN, f.CapturedLen, f.HasCapturedLen)
}

// scanFlows reads a dataset with Scan and returns its rows as strings.
func scanFlows(t *testing.T, q Query) []string {
	t.Helper()
	var out []string
	if _, err := q.Scan(context.Background(), func(f *columnar.Flow) error {
		out = append(out, flowString(f))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestQueryReadMatchesArrow reads every column of the sample and synthetic
// datasets with the scan's own page decoders and with arrow-go's reader,
// and compares them row for row.
func TestQueryReadMatchesArrow(t *testing.T) {
	for _, root := range []string{sampleDataset(t), synthDataset(t)} {
		t.Run(filepath.Base(root), func(t *testing.T) {
			want := arrowFlows(t, root)
			for _, workers := range []int{1, 3} {
				got := scanFlows(t, Query{Root: root, Columns: allColumns(), Workers: workers})
				if len(got) != len(want) || len(got) == 0 {
					t.Fatalf("%d workers: %d rows, arrow-go reads %d", workers, len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%d workers: row %d:\n got %s\nwant %s", workers, i, got[i], want[i])
					}
				}
			}
		})
	}
}
