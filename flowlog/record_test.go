package flowlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/columnar"
)

// recRow is an emitted row, copied out of the decoder's memory.
type recRow struct {
	tupleRow
	ResourceID, MAC, Rule, ACLID, FlowLogID string
}

func (r recRow) String() string {
	return fmt.Sprintf("{%s mac=%s rule=%s acl=%s fl=%s %+v}", r.ResourceID, r.MAC, r.Rule, r.ACLID, r.FlowLogID, r.tupleRow)
}

type badTuple struct {
	Tuple int
	Field int
	Value string
}

// recorder is an Emitter that keeps everything it is given. It fails
// with failErr on the row (or bad tuple) numbered failAt, when set.
type recorder struct {
	rows    []recRow
	bad     []badTuple
	calls   int
	failAt  int
	failErr error
}

func (r *recorder) fail() error {
	r.calls++
	if r.failErr != nil && r.calls == r.failAt {
		return r.failErr
	}
	return nil
}

func (r *recorder) Row(f *columnar.Flow) error {
	r.rows = append(r.rows, recRow{tupleRowOf(f), string(f.ResourceID), string(f.MAC), string(f.Rule), string(f.ACLID), string(f.FlowLogID)})
	return r.fail()
}

func (r *recorder) BadTuple(i int, err *TupleError) error {
	r.bad = append(r.bad, badTuple{i, err.Field, err.Value})
	return r.fail()
}

var jsonTrailingComma = regexp.MustCompile(`,(\s*[\]}])`)

// oracleRecord decodes a record with encoding/json and oracleTuple: the
// rows Decoder should emit and the count of tuples.
func oracleRecord(t *testing.T, rec []byte, def Defaults) (rows []recRow, tuples int, f Format) {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(jsonTrailingComma.ReplaceAll(rec, []byte("$1")), &r); err != nil {
		t.Fatalf("oracle: %v", err)
	}
	str := func(m any, k string) string {
		s, _ := m.(map[string]any)[k].(string)
		return s
	}
	arr := func(m any, k string) []any {
		a, _ := m.(map[string]any)[k].([]any)
		return a
	}
	or := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	mac := func(s string) string { return strings.ToUpper(strings.NewReplacer(":", "", "-", "").Replace(s)) }
	add := func(base recRow, tuple any, f Format) {
		tuples++
		s, ok := tuple.(string)
		if !ok {
			return
		}
		if tr, _, ok := oracleTuple(s, f); ok {
			base.tupleRow = tr
			rows = append(rows, base)
		}
	}
	if fr, ok := r["flowRecords"]; ok {
		base := recRow{ResourceID: or(str(r, "targetResourceID"), string(def.ResourceID)),
			MAC: mac(or(str(r, "macAddress"), string(def.MAC))), FlowLogID: str(r, "flowLogResourceID")}
		for _, fl := range arr(fr, "flows") {
			base.ACLID = str(fl, "aclID")
			for _, g := range arr(fl, "flowGroups") {
				base.Rule = str(g, "rule")
				for _, tu := range arr(g, "flowTuples") {
					add(base, tu, FormatVNet)
				}
			}
		}
		return rows, tuples, FormatVNet
	}
	props := r["properties"]
	switch props.(map[string]any)["Version"] {
	case 1.0:
		f = FormatNSGv1
	case 2.0:
		f = FormatNSGv2
	}
	base := recRow{ResourceID: or(str(r, "resourceId"), string(def.ResourceID))}
	recMAC := mac(or(str(r, "macAddress"), string(def.MAC)))
	for _, rf := range arr(props, "flows") {
		base.Rule = str(rf, "rule")
		for _, in := range arr(rf, "flows") {
			base.MAC = or(mac(str(in, "mac")), recMAC)
			for _, tu := range arr(in, "flowTuples") {
				add(base, tu, f)
			}
		}
	}
	return rows, tuples, f
}

// sampleRecords splits a sample file into records with the Scanner.
func sampleRecords(t testing.TB, b []byte) [][]byte {
	t.Helper()
	s := NewScanner(bytes.NewReader(b))
	var out [][]byte
	for {
		rec, _, err := s.Next()
		if err != nil {
			break
		}
		out = append(out, bytes.Clone(rec))
	}
	return out
}

func TestDecodeSamples(t *testing.T) {
	// Rows (= tuples: the samples have no bad tuple) per file, counted
	// with Python's json module.
	want := map[string]int{
		"msft-nsgconnector-nsg-v1-block-fragment.txt":      85,
		"msft-nsgconnector-nsg-v1-sampleJsonInput.json":    38,
		"msft-nsgconnector-nsg-v1-sampleOfInputV1.json":    1187,
		"msft-nsgconnector-nsg-v2-aks-trailing-comma.json": 8,
		"sumologic-nsg-v1v2-mixed-blob_fixtures-2019.json": 56,
		"sumologic-nsg-v2-blob_fixtures.json":              153,
		"sumologic-vnet-v4-target-nic.json":                61,
		"sumologic-vnet-v4-target-subnet.json":             68,
		"sumologic-vnet-v4-target-vnet.json":               166,
	}
	var d Decoder // one decoder for every file: it is reused
	for name, b := range sampleBlobs(t) {
		t.Run(name, func(t *testing.T) {
			n, ok := want[name]
			if !ok {
				t.Skip("no expected count for this file")
			}
			total := 0
			for i, rec := range sampleRecords(t, b) {
				wantRows, wantTuples, wantFormat := oracleRecord(t, rec, Defaults{})
				for pass := range 2 {
					var r recorder
					info, err := d.Decode(rec, Defaults{}, &r)
					if err != nil {
						t.Fatalf("record %d: %v", i, err)
					}
					if len(r.bad) != 0 {
						t.Errorf("record %d: bad tuples %+v", i, r.bad)
					}
					if info.Format != wantFormat || info.Tuples != wantTuples || info.Rows != len(r.rows) {
						t.Errorf("record %d pass %d: info %+v, want format %v, %d tuples, %d rows", i, pass, info, wantFormat, wantTuples, len(r.rows))
					}
					if !slices.Equal(r.rows, wantRows) {
						t.Errorf("record %d pass %d: rows differ from the oracle's", i, pass)
						for j := range min(len(r.rows), len(wantRows)) {
							if r.rows[j] != wantRows[j] {
								t.Errorf("row %d:\n got %v\nwant %v", j, r.rows[j], wantRows[j])
								break
							}
						}
					}
					if pass == 0 {
						total += len(r.rows)
					}
				}
			}
			if total != n {
				t.Errorf("%d rows, want %d", total, n)
			}
		})
	}
}

// TestDecodeSampleRows spot-checks rows of the real samples by hand.
func TestDecodeSampleRows(t *testing.T) {
	const (
		aksNSG = "/SUBSCRIPTIONS/F087A016-314D-482C-93F1-88665DAFBA23/RESOURCEGROUPS/MC_MDRNWRK-DEV-AKS-RESOURCES_MDRNWRK-DEV-AKS_UKSOUTH/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/AKS-AGENTPOOL-14244569-NSG"
		fabNSG = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/FABRIKAMRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG"
		nic    = "/subscriptions/c088dc46-d692-42ad-a4b6-9a542d28ad2a/resourceGroups/azure-labs-001/providers/Microsoft.Network/networkInterfaces/labsvm1519"
		nicFL  = "/SUBSCRIPTIONS/C088DC46-D692-42AD-A4B6-9A542D28AD2A/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_WESTUS/FLOWLOGS/LABSVM1519-AZURE-LABS-001-FLOWLOG"
		nicACL = "/subscriptions/c088dc46-d692-42ad-a4b6-9a542d28ad2a/resourceGroups/azure-labs-001/providers/Microsoft.Network/networkSecurityGroups/labsvm1-nsg"
	)
	blobs := sampleBlobs(t)
	tests := []struct {
		name   string
		file   string
		record int
		row    int
		want   recRow
	}{
		{"aks first", "msft-nsgconnector-nsg-v2-aks-trailing-comma.json", 0, 0, recRow{
			tupleRow{Time: 1578673983 * sec, Src: "217.111.196.7", Dst: "51.104.249.164", SrcPort: 56141, DstPort: 443, Proto: 6,
				Dir: columnar.DirectionIn, Dec: columnar.DecisionAllow, State: 'B', Source: columnar.SourceNSGv2},
			aksNSG, "000D3A7F1340", "UserRule_aede8e1fd185211eaae4f962e72ea7eb-TCP-443-Internet", "", ""}},
		// The last tuple of the list with the trailing comma.
		{"aks last", "msft-nsgconnector-nsg-v2-aks-trailing-comma.json", 0, 7, recRow{
			tupleRow{Time: 1578673983 * sec, Src: "10.201.4.6", Dst: "10.244.2.21", SrcPort: 53805, DstPort: 80, Proto: 6,
				Dir: columnar.DirectionOut, Dec: columnar.DecisionAllow, State: 'E',
				HasCounters: true, PktOut: 4, BytesOut: 246, PktIn: 2, BytesIn: 126, Source: columnar.SourceNSGv2},
			aksNSG, "000D3A7F1340", "DefaultRule_AllowVnetOutBound", "", ""}},
		{"mixed v1", "sumologic-nsg-v1v2-mixed-blob_fixtures-2019.json", 0, 0, recRow{
			tupleRow{Time: 1487282421 * sec, Src: "42.119.146.95", Dst: "10.1.0.4", SrcPort: 51529, DstPort: 5358, Proto: 6,
				Dir: columnar.DirectionIn, Dec: columnar.DecisionDeny, Source: columnar.SourceNSGv1},
			fabNSG, "000D3AF8801A", "DefaultRule_DenyAllInBound", "", ""}},
		{"vnet nic first", "sumologic-vnet-v4-target-nic.json", 0, 0, recRow{
			tupleRow{Time: 1735636357995 * ms, Src: "10.1.0.4", Dst: "20.10.127.193", SrcPort: 56354, DstPort: 443, Proto: 6,
				Dir: columnar.DirectionOut, Dec: columnar.DecisionAllow, State: 'E', Enc: "NX",
				HasCounters: true, PktOut: 8, BytesOut: 5183, PktIn: 9, BytesIn: 6707, Source: columnar.SourceVNet},
			nic, "000D3A359573", "DefaultRule_AllowInternetOutBound", nicACL, nicFL}},
		{"vnet nic deny", "sumologic-vnet-v4-target-nic.json", 0, 8, recRow{
			tupleRow{Time: 1735636357306 * ms, Src: "35.203.210.97", Dst: "10.1.0.4", SrcPort: 53909, DstPort: 9974, Proto: 6,
				Dir: columnar.DirectionIn, Dec: columnar.DecisionDeny, State: 'D', Enc: "NX",
				HasCounters: true, Source: columnar.SourceVNet},
			nic, "000D3A359573", "DefaultRule_DenyAllInBound", nicACL, nicFL}},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := sampleRecords(t, blobs[tc.file])
			var r recorder
			if _, err := d.Decode(recs[tc.record], Defaults{}, &r); err != nil {
				t.Fatal(err)
			}
			if got := r.rows[tc.row]; got != tc.want {
				t.Errorf("\n got %v\nwant %v", got, tc.want)
			}
		})
	}
	// The mixed file switches from v1 to v2 at record 8, and its MAC with it.
	recs := sampleRecords(t, blobs["sumologic-nsg-v1v2-mixed-blob_fixtures-2019.json"])
	for i, rec := range recs {
		var r recorder
		info, err := d.Decode(rec, Defaults{}, &r)
		want, mac := FormatNSGv1, "000D3AF8801A"
		if i >= 8 {
			want, mac = FormatNSGv2, "002248034CC3"
		}
		if err != nil || info.Format != want || r.rows[0].MAC != mac {
			t.Errorf("mixed record %d: %v, format %v, mac %s", i, err, info.Format, r.rows[0].MAC)
		}
	}
}

// tupleRecord builds an NSG record around tuples; version 0 leaves
// properties.Version out.
func tupleRecord(version int, mac string, tuples ...string) []byte {
	q, _ := json.Marshal(tuples)
	ver := ""
	if version != 0 {
		ver = fmt.Sprintf(`"Version":%d,`, version)
	}
	macField := ""
	if mac != "" {
		macField = `"mac":"` + mac + `",`
	}
	return fmt.Appendf(nil, `{"resourceId":"/NSG","properties":{%s"flows":[{"rule":"r","flows":[{%s"flowTuples":%s}]}]}}`, ver, macField, q)
}

const (
	tupleV1 = "1534164982,185.92.73.26,172.17.0.4,65533,3389,T,I,D"
	tupleV2 = "1578673977,10.201.4.6,10.244.2.21,53763,80,T,O,A,E,4,246,2,126"
	tupleVN = "1735636357995,10.1.0.4,20.10.127.193,56354,443,6,O,E,NX,8,5183,9,6707"
)

func TestDecodeFormat(t *testing.T) {
	tests := []struct {
		name    string
		rec     []byte
		format  Format
		sources []columnar.Source
		bad     []badTuple
	}{
		{"version 1", tupleRecord(1, "", tupleV1), FormatNSGv1, []columnar.Source{columnar.SourceNSGv1}, nil},
		{"version 2", tupleRecord(2, "", tupleV2), FormatNSGv2, []columnar.Source{columnar.SourceNSGv2}, nil},
		// Without a Version, each tuple's field count decides.
		{"no version", tupleRecord(0, "", tupleV1, tupleV2), FormatAuto,
			[]columnar.Source{columnar.SourceNSGv1, columnar.SourceNSGv2}, nil},
		{"null version", []byte(`{"properties":{"Version":null,"flows":[{"flows":[{"flowTuples":["` + tupleV2 + `"]}]}]}}`), FormatAuto,
			[]columnar.Source{columnar.SourceNSGv2}, nil},
		// With a Version, a tuple of the other version is bad.
		{"v2 tuple in v1 record", tupleRecord(1, "", tupleV1, tupleV2), FormatNSGv1,
			[]columnar.Source{columnar.SourceNSGv1}, []badTuple{{1, -1, ""}}},
		{"version key in lower case", []byte(`{"properties":{"version":1,"flows":[{"flows":[{"flowTuples":["` + tupleV1 + `"]}]}]}}`), FormatNSGv1,
			[]columnar.Source{columnar.SourceNSGv1}, nil},
		{"vnet", []byte(`{"flowLogVersion":4,"flowRecords":{"flows":[{"flowGroups":[{"flowTuples":["` + tupleVN + `"]}]}]}}`), FormatVNet,
			[]columnar.Source{columnar.SourceVNet}, nil},
		{"vnet without version", []byte(`{"flowRecords":{"flows":[{"flowGroups":[{"flowTuples":["` + tupleVN + `"]}]}]}}`), FormatVNet,
			[]columnar.Source{columnar.SourceVNet}, nil},
		{"vnet version 5", []byte(`{"flowLogVersion":5,"flowRecords":{"flows":[]}}`), FormatVNet, nil, nil},
		{"empty flows", []byte(`{"properties":{"Version":2,"flows":[]}}`), FormatNSGv2, nil, nil},
		{"null flows", []byte(`{"properties":{"Version":2,"flows":null}}`), FormatNSGv2, nil, nil},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for pass := range 2 {
				var r recorder
				info, err := d.Decode(tc.rec, Defaults{}, &r)
				if err != nil {
					t.Fatal(err)
				}
				if info.Format != tc.format {
					t.Errorf("pass %d: format %v, want %v", pass, info.Format, tc.format)
				}
				var got []columnar.Source
				for _, row := range r.rows {
					got = append(got, row.Source)
				}
				if !slices.Equal(got, tc.sources) || !slices.Equal(r.bad, tc.bad) {
					t.Errorf("pass %d: sources %v bad %+v, want %v %+v", pass, got, r.bad, tc.sources, tc.bad)
				}
				if info.Rows != len(r.rows) || info.Tuples != len(r.rows)+len(r.bad) {
					t.Errorf("pass %d: info %+v", pass, info)
				}
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		rec  string
		want error
	}{
		{"empty", ``, ErrBadJSON},
		{"not json", `not json`, ErrBadJSON},
		{"truncated", `{"properties":{"Version":2,"flows":[`, ErrBadJSON},
		{"truncated with trailing comma", `{"properties":{"flows":[1,]`, ErrBadJSON},
		{"two values", `{} {}`, ErrBadJSON},
		{"unquoted key", `{properties:{}}`, ErrBadJSON},
		{"array", `[1,2]`, ErrBadRecord},
		{"string", `"records"`, ErrBadRecord},
		{"number", `42`, ErrBadRecord},
		{"empty object", `{}`, ErrBadRecord},
		{"other object", `{"a":1}`, ErrBadRecord},
		{"properties null", `{"properties":null}`, ErrBadRecord},
		{"version 3", `{"properties":{"Version":3,"flows":[]}}`, ErrBadRecord},
		{"version string", `{"properties":{"Version":"2","flows":[]}}`, ErrBadRecord},
		{"version float", `{"properties":{"Version":2.5,"flows":[]}}`, ErrBadRecord},
		{"flows not an array", `{"properties":{"Version":2,"flows":{}}}`, ErrBadRecord},
		{"inner flows not an array", `{"properties":{"Version":2,"flows":[{"rule":"r","flows":"x"}]}}`, ErrBadRecord},
		{"flowTuples not an array", `{"properties":{"Version":2,"flows":[{"rule":"r","flows":[{"flowTuples":"` + tupleV2 + `"}]}]}}`, ErrBadRecord},
		{"vnet version 3", `{"flowLogVersion":3,"flowRecords":{"flows":[]}}`, ErrBadRecord},
		{"vnet version string", `{"flowLogVersion":"4","flowRecords":{"flows":[]}}`, ErrBadRecord},
		{"vnet without flowRecords", `{"flowLogVersion":4}`, ErrBadRecord},
		{"vnet flows not an array", `{"flowLogVersion":4,"flowRecords":{"flows":1}}`, ErrBadRecord},
		{"vnet flowGroups not an array", `{"flowLogVersion":4,"flowRecords":{"flows":[{"flowGroups":{}}]}}`, ErrBadRecord},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for pass := range 2 {
				var r recorder
				_, err := d.Decode([]byte(tc.rec), Defaults{}, &r)
				if !errors.Is(err, tc.want) {
					t.Fatalf("pass %d: err %v, want %v", pass, err, tc.want)
				}
				var e *Error
				if !errors.As(err, &e) || e.Offset != -1 || e.Record != -1 || e.Tuple != -1 || e.Field != -1 {
					t.Errorf("pass %d: %#v is not an unpositioned *Error", pass, err)
				}
				if len(r.rows) != 0 {
					t.Errorf("pass %d: %d rows emitted", pass, len(r.rows))
				}
			}
			// The decoder works after the error.
			var r recorder
			if _, err := d.Decode(tupleRecord(2, "", tupleV2), Defaults{}, &r); err != nil || len(r.rows) != 1 {
				t.Errorf("after the error: %v, %d rows", err, len(r.rows))
			}
		})
	}
}

func TestDecodeBadTuples(t *testing.T) {
	good := func(s string) string { return s }
	tests := []struct {
		name  string
		rec   []byte
		rows  int
		bad   []badTuple
		total int
	}{
		{"bad port in the middle", tupleRecord(2, "", tupleV2, strings.Replace(tupleV2, ",53763,", ",65536,", 1), good(tupleV2)),
			2, []badTuple{{1, 3, "65536"}}, 3},
		{"bad first and last", tupleRecord(1, "", "x", tupleV1, tupleV1+",B"), 1, []badTuple{{0, -1, ""}, {2, -1, ""}}, 3},
		{"bad ip", tupleRecord(1, "", tupleV1, strings.Replace(tupleV1, "185.92.73.26", "185.92.73.026", 1)),
			1, []badTuple{{1, 1, "185.92.73.026"}}, 2},
		{"not a string", []byte(`{"properties":{"Version":2,"flows":[{"flows":[{"flowTuples":["` + tupleV2 + `",42,null,"` + tupleV2 + `"]}]}]}}`),
			2, []badTuple{{1, -1, ""}, {2, -1, ""}}, 4},
		// Tuple indexes run across the groups of a record.
		{"index across groups", []byte(`{"properties":{"Version":2,"flows":[` +
			`{"rule":"a","flows":[{"flowTuples":["` + tupleV2 + `","` + tupleV2 + `"]}]},` +
			`{"rule":"b","flows":[{"flowTuples":["` + tupleV2 + `"]},{"flowTuples":["` + strings.Replace(tupleV2, ",T,", ",Q,", 1) + `","` + tupleV2 + `"]}]}]}}`),
			4, []badTuple{{3, 5, "Q"}}, 5},
		{"vnet bad state", []byte(`{"flowLogVersion":4,"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":["` +
			tupleVN + `","` + strings.Replace(tupleVN, ",O,E,", ",O,A,", 1) + `","` + tupleVN + `"]}]}]}}`),
			2, []badTuple{{1, 7, "A"}}, 3},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for pass := range 2 {
				var r recorder
				info, err := d.Decode(tc.rec, Defaults{}, &r)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.rows) != tc.rows || info.Rows != tc.rows || info.Tuples != tc.total {
					t.Errorf("pass %d: %d rows, info %+v; want %d rows of %d tuples", pass, len(r.rows), info, tc.rows, tc.total)
				}
				if !slices.Equal(r.bad, tc.bad) {
					t.Errorf("pass %d: bad %+v, want %+v", pass, r.bad, tc.bad)
				}
				wantRows, _, _ := oracleRecord(t, tc.rec, Defaults{})
				if !slices.Equal(r.rows, wantRows) {
					t.Errorf("pass %d: rows differ from the oracle's:\n got %v\nwant %v", pass, r.rows, wantRows)
				}
			}
		})
	}
}

func TestDecodeEmitterError(t *testing.T) {
	stop := errors.New("stop")
	rec := tupleRecord(2, "", tupleV2, "bad", tupleV2, tupleV2)
	tests := []struct {
		name   string
		failAt int // call number (rows and bad tuples) that fails
		rows   int
		bad    int
	}{
		{"first row", 1, 1, 0},
		{"bad tuple", 2, 1, 1},
		{"third row", 4, 3, 1},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := recorder{failAt: tc.failAt, failErr: stop}
			info, err := d.Decode(rec, Defaults{}, &r)
			if !errors.Is(err, stop) {
				t.Fatalf("err %v, want the emitter's", err)
			}
			if len(r.rows) != tc.rows || len(r.bad) != tc.bad {
				t.Errorf("%d rows %d bad, want %d %d", len(r.rows), len(r.bad), tc.rows, tc.bad)
			}
			if info.Rows != tc.rows || info.Tuples != tc.rows+tc.bad {
				t.Errorf("info %+v", info)
			}
		})
	}
}

func TestDecodeDefaults(t *testing.T) {
	def := Defaults{ResourceID: []byte("/SUBSCRIPTIONS/S/NSG-FROM-PATH"), MAC: []byte("000d3a7f1340")}
	tests := []struct {
		name     string
		rec      string
		resource string
		mac      string
	}{
		{"nothing in the record", `{"properties":{"Version":2,"flows":[{"flows":[{"flowTuples":["` + tupleV2 + `"]}]}]}}`,
			"/SUBSCRIPTIONS/S/NSG-FROM-PATH", "000D3A7F1340"},
		{"record resourceId wins", `{"resourceId":"/R","properties":{"Version":2,"flows":[{"flows":[{"flowTuples":["` + tupleV2 + `"]}]}]}}`,
			"/R", "000D3A7F1340"},
		{"record macAddress wins", `{"macAddress":"AABBCCDDEEFF","properties":{"Version":2,"flows":[{"flows":[{"flowTuples":["` + tupleV2 + `"]}]}]}}`,
			"/SUBSCRIPTIONS/S/NSG-FROM-PATH", "AABBCCDDEEFF"},
		{"flow mac wins", `{"macAddress":"AABBCCDDEEFF","properties":{"Version":2,"flows":[{"flows":[{"mac":"112233445566","flowTuples":["` + tupleV2 + `"]}]}]}}`,
			"/SUBSCRIPTIONS/S/NSG-FROM-PATH", "112233445566"},
		{"empty strings fall back", `{"resourceId":"","macAddress":"","properties":{"Version":2,"flows":[{"flows":[{"mac":"","flowTuples":["` + tupleV2 + `"]}]}]}}`,
			"/SUBSCRIPTIONS/S/NSG-FROM-PATH", "000D3A7F1340"},
		{"null fields fall back", `{"resourceId":null,"properties":{"Version":2,"flows":[{"flows":[{"mac":null,"flowTuples":["` + tupleV2 + `"]}]}]}}`,
			"/SUBSCRIPTIONS/S/NSG-FROM-PATH", "000D3A7F1340"},
		{"vnet without target", `{"flowLogVersion":4,"flowRecords":{"flows":[{"flowGroups":[{"flowTuples":["` + tupleVN + `"]}]}]}}`,
			"/SUBSCRIPTIONS/S/NSG-FROM-PATH", "000D3A7F1340"},
		{"vnet with target", `{"targetResourceID":"/T","macAddress":"112233445566","flowLogVersion":4,"flowRecords":{"flows":[{"flowGroups":[{"flowTuples":["` + tupleVN + `"]}]}]}}`,
			"/T", "112233445566"},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for pass := range 2 {
				var r recorder
				if _, err := d.Decode([]byte(tc.rec), def, &r); err != nil || len(r.rows) != 1 {
					t.Fatalf("%v, %d rows", err, len(r.rows))
				}
				if r.rows[0].ResourceID != tc.resource || r.rows[0].MAC != tc.mac {
					t.Errorf("pass %d: resource %q mac %q, want %q %q", pass, r.rows[0].ResourceID, r.rows[0].MAC, tc.resource, tc.mac)
				}
			}
			if string(def.MAC) != "000d3a7f1340" {
				t.Fatalf("Decode modified Defaults.MAC: %q", def.MAC)
			}
		})
	}
}

func TestDecodeMAC(t *testing.T) {
	tests := []struct {
		name string
		mac  string
		want string
	}{
		{"upper", "000D3A7F1340", "000D3A7F1340"},
		{"lower", "000d3a7f1340", "000D3A7F1340"},
		{"colons", "00:0d:3a:7f:13:40", "000D3A7F1340"},
		{"dashes upper", "00-0D-3A-7F-13-40", "000D3A7F1340"},
		{"not a mac", "abc:1", "ABC:1"},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			if _, err := d.Decode(tupleRecord(2, tc.mac, tupleV2), Defaults{}, &r); err != nil {
				t.Fatal(err)
			}
			if r.rows[0].MAC != tc.want {
				t.Errorf("MAC %q, want %q", r.rows[0].MAC, tc.want)
			}
		})
	}
}

// TestDecodeMACPerFlow: each inner flow without a mac takes the record's
// (or the default) MAC, whatever the flows before it said.
func TestDecodeMACPerFlow(t *testing.T) {
	flows := `"flows":[{"rule":"r","flows":[` +
		`{"mac":"aabbccddeeff","flowTuples":["` + tupleV2 + `"]},` +
		`{"flowTuples":["` + tupleV2 + `"]}]}]`
	tests := []struct {
		name string
		rec  string
		def  Defaults
	}{
		{"record mac upper", `{"macAddress":"000D3A7F1340","properties":{"Version":2,` + flows + `}}`, Defaults{}},
		{"record mac lower", `{"macAddress":"000d3a7f1340","properties":{"Version":2,` + flows + `}}`, Defaults{}},
		{"default mac lower", `{"properties":{"Version":2,` + flows + `}}`, Defaults{MAC: []byte("000d3a7f1340")}},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			if _, err := d.Decode([]byte(tc.rec), tc.def, &r); err != nil || len(r.rows) != 2 {
				t.Fatalf("%v, %d rows", err, len(r.rows))
			}
			got := []string{r.rows[0].MAC, r.rows[1].MAC}
			want := []string{"AABBCCDDEEFF", "000D3A7F1340"}
			if !slices.Equal(got, want) {
				t.Errorf("MACs %q, want %q", got, want)
			}
		})
	}
}

// TestDecodeAllocs measures a typical v2 record: 18 tuples, 2 rules
// (record 0 of sumologic-nsg-v2-blob_fixtures.json).
func TestDecodeAllocs(t *testing.T) {
	recs := sampleRecords(t, sampleBlobs(t)["sumologic-nsg-v2-blob_fixtures.json"])
	tests := []struct {
		name string
		rec  []byte
		max  float64
	}{
		{"v2 record", recs[0], 2},
		{"v1 record", sampleRecords(t, sampleBlobs(t)["msft-nsgconnector-nsg-v1-sampleJsonInput.json"])[0], 2},
		{"vnet record", sampleRecords(t, sampleBlobs(t)["sumologic-vnet-v4-target-nic.json"])[0], 2},
		// The repair path: a failed parse (fastjson builds its error), the
		// stripped copy (reused), a reparse.
		{"trailing comma record", sampleRecords(t, sampleBlobs(t)["msft-nsgconnector-nsg-v2-aks-trailing-comma.json"])[0], 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			var e nopEmitter
			got := testing.AllocsPerRun(100, func() {
				if _, err := d.Decode(tc.rec, Defaults{}, &e); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%v allocs/op for a %d-byte record", got, len(tc.rec))
			if got > tc.max {
				t.Errorf("%v allocs/op, want ≤ %v", got, tc.max)
			}
		})
	}
}

type nopEmitter struct{ rows, bad int }

func (e *nopEmitter) Row(*columnar.Flow) error        { e.rows++; return nil }
func (e *nopEmitter) BadTuple(int, *TupleError) error { e.bad++; return nil }
