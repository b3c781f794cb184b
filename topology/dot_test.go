package topology

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pictureCase is a view drawn by the DOT and SVG tests.
type pictureCase struct {
	name string // golden file stem
	dir  string // the network
	req  ViewRequest
}

var pictureCases = []pictureCase{
	{"scenario-rg-demo", filepath.Join(testdataDir, "scenarios", "rest"), ViewRequest{TargetResourceGroupName: "rg-demo"}},
	{"hub-spoke-all", hubSpoke, ViewRequest{All: true}},
	{"hub-spoke-rg-app", hubSpoke, ViewRequest{TargetResourceGroupName: "rg-app"}},
	{"hub-spoke-vnet-hub", hubSpoke, ViewRequest{TargetVirtualNetwork: &SubResource{ID: "hub-vnet"}}},
	{"hub-spoke-subnet-db", hubSpoke, ViewRequest{TargetSubnet: &SubResource{ID: "spoke2-vnet/db"}}},
	{"azure-example-rg2", filepath.Join(viewDir, "azure-example"), ViewRequest{TargetResourceGroupName: "rg2"}},
}

func (tc pictureCase) view(t *testing.T) *View {
	t.Helper()
	n := loadView(t, tc.dir)
	v, err := n.View(tc.req, ViewOptions{Time: viewTime})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTopologyDOT compares the DOT pictures with the golden files in
// testdata/topology/golden (regenerate after checking the diff, and the
// picture: go test ./topology -run TestTopologyDOT -update). It also checks
// that each names every resource of its view and that braces balance.
func TestTopologyDOT(t *testing.T) {
	for _, tc := range pictureCases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.view(t)
			var buf bytes.Buffer
			if err := v.WriteDOT(&buf); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			golden := filepath.Join(testdataDir, "golden", tc.name+".dot")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("differs from %s:\n%s", golden, lineDiff(string(want), got))
			}

			if !strings.HasPrefix(got, "// flowlens topology: ") || !strings.Contains(got, "digraph topology {") {
				t.Errorf("no digraph header")
			}
			if o, c := strings.Count(got, "{"), strings.Count(got, "}"); o != c {
				t.Errorf("%d { and %d }", o, c)
			}
			for _, r := range v.Resources {
				if !strings.Contains(got, r.Name) {
					t.Errorf("%s is not in the picture", r.Name)
				}
			}
			// The same view draws the same picture.
			var again bytes.Buffer
			_ = v.WriteDOT(&again)
			if again.String() != got {
				t.Errorf("second picture differs")
			}
		})
	}
}

// TestTopologyDOTQuote checks the escaping of DOT strings.
func TestTopologyDOTQuote(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:           `"plain"`,
		`a "b" \c`:        `"a \"b\" \\c"`,
		"two\nlines":      `"two\nlines"`,
		"left\vjustify\v": `"left\ljustify\l"`,
		"cr\r\n":          `"cr\n"`,
	} {
		if got := dotQuote(in); got != want {
			t.Errorf("dotQuote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := dotLeft([]string{"a\vb", "c"}); got != "a b\vc\v" {
		t.Errorf("dotLeft = %q", got)
	}
}
