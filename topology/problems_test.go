package topology

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProblems loads exports with one kind of mistake each and checks
// every problem reported: its kind, its JSON path and a word of its
// message. Loading goes on past them.
func TestProblems(t *testing.T) {
	type want struct {
		kind ProblemKind
		path string
		text string
	}
	tests := []struct {
		file  string
		want  []want
		check func(t *testing.T, n *Network)
	}{
		{"dangling.json", []want{
			{ProblemDangling, "$[0].properties.subnets[0].properties.networkSecurityGroup", "missing-nsg"},
			{ProblemDangling, "$[0].properties.subnets[0].properties.routeTable", "missing-rt"},
			{ProblemDangling, "$[1].properties.ipConfigurations[0].properties.subnet", "subnets/nope"},
			{ProblemDangling, "$[1].properties.ipConfigurations[0].properties.applicationSecurityGroups[0]", "missing-asg"},
		}, func(t *testing.T, n *Network) {
			// The references are kept as written; the lookups find nothing.
			s, _ := n.Subnet("s1")
			if s == nil || !strings.HasSuffix(s.NSGID, "/missing-nsg") || n.NSGOf(s) != nil || n.RouteTableOf(s) != nil {
				t.Errorf("subnet = %+v", s)
			}
		}},
		{"duplicate-priority.json", []want{
			{ProblemDuplicatePriority, "$.securityRules[2]", "rules a and c both have priority 200 Inbound"},
		}, func(t *testing.T, n *Network) {
			g, _ := n.NSG("nsg1")
			if g == nil || len(g.SecurityRules) != 3 || g.SecurityRules[2].Direction != Inbound {
				t.Errorf("nsg1 = %+v", g)
			}
		}},
		{"expressions-template.json", []want{
			{ProblemExpression, "$.resources[0].name", "[parameters('networkSecurityGroups_nsg_name')]"},
			{ProblemMissingValue, "$.resources[0]", "without a literal type and name"},
			{ProblemExpression, "$.resources[1].location", "[resourceGroup().location]"},
			{ProblemExpression, "$.resources[1].properties.securityRules[0].properties.sourceAddressPrefix", "[variables('onPremPrefix')]"},
			{ProblemExpression, "$.resources[1].properties.securityRules[0].properties.sourceApplicationSecurityGroups[0].id", "parameters('asgName')"},
			{ProblemUnknownType, "$.resources[2]", "Microsoft.Storage/storageAccounts"},
			{ProblemMissingValue, "$.resources[1].properties.securityRules[0].properties.sourceAddressPrefix", "no source address prefix"},
		}, func(t *testing.T, n *Network) {
			g, _ := n.NSG("nsg-literal")
			if g == nil || g.Location != "" || len(g.SecurityRules) != 1 {
				t.Fatalf("nsg-literal = %+v", g)
			}
			// "[[" escapes a literal bracket.
			if d := g.SecurityRules[0].Description; d != "[not an expression]" {
				t.Errorf("description = %q", d)
			}
			if len(n.NSGs) != 1 {
				t.Errorf("%d NSGs", len(n.NSGs))
			}
		}},
		{"bad-values.json", []want{
			{ProblemBadValue, "$.NewNSG.securityRules[0].priority", "priority 5000 outside 100-4096"},
			{ProblemBadValue, "$.NewNSG.securityRules[0].direction", `"Sideways"`},
			{ProblemBadValue, "$.NewNSG.securityRules[0].protocol", `"Gre"`},
			{ProblemBadPrefix, "$.NewNSG.securityRules[0].sourceAddressPrefixes[0]", `"10.0.0.0/33"`},
			{ProblemBadPrefix, "$.NewNSG.securityRules[0].sourceAddressPrefixes[3]", `"not a tag"`},
			{ProblemBadPortRange, "$.NewNSG.securityRules[0].sourcePortRanges[1]", `"70000"`},
			{ProblemBadPortRange, "$.NewNSG.securityRules[0].sourcePortRanges[2]", `"90-80"`},
			{ProblemBadPortRange, "$.NewNSG.securityRules[0].destinationPortRange", `"x"`},
			{ProblemMissingValue, "$.NewNSG.securityRules[0].destinationPortRange", "no destination port range"},
		}, func(t *testing.T, n *Network) {
			// Bad tokens are dropped, good ones kept; an unknown protocol
			// stays as written.
			r := n.SecurityRules[CanonicalID("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg-bad/securityRules/bad-tokens")]
			if r == nil || strings.Join(r.SourceAddressPrefixes, " ") != "10.0.0.1 Storage.WestEurope" ||
				strings.Join(r.SourcePortRanges, " ") != "* 1024-65535" || r.Protocol != "Gre" || r.Direction != "" || r.Priority != 5000 {
				t.Errorf("rule = %+v", r)
			}
		}},
		{"asg-across-vnets.json", []want{
			{ProblemASGVNet, "$.value[5].properties.ipConfigurations[0]", "asg1 already has members in VNet vnet-a"},
			{ProblemASGVNet, "$.value[6]", "asg1 (vnet-a) and asg2 (vnet-b)"},
		}, func(t *testing.T, n *Network) {
			if m := n.ASGMembers("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/asg1"); len(m) != 2 {
				t.Errorf("asg1 members = %v", m)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(testdataDir, "problems", tc.file)
			n, probs, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range probs {
				if i >= len(tc.want) {
					t.Errorf("extra problem %v", p)
					continue
				}
				w := tc.want[i]
				if p.File != path || p.Kind != w.kind || p.Path != w.path || !strings.Contains(p.Message, w.text) {
					t.Errorf("problem %d = %v (%s)\nwant %s %s …%s…", i, p, p.Kind, w.kind, w.path, w.text)
				}
			}
			for _, w := range tc.want[min(len(probs), len(tc.want)):] {
				t.Errorf("missing problem %s %s …%s…", w.kind, w.path, w.text)
			}
			tc.check(t, n)
		})
	}
}

// TestNotJSON: a file that is not JSON is an error naming the file and
// the place; nothing of it is kept, and Load goes on with the other files.
func TestNotJSON(t *testing.T) {
	for _, tc := range []struct {
		file              string
		offset, line, col int
		wantInMessage     string
	}{
		{"not-json.json", 0, 1, 1, "invalid character 'N'"},
		{"truncated.json", 115, 2, 14, "invalid character ','"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(testdataDir, "problems", tc.file)
			n, _, err := Load(path, filepath.Join(testdataDir, "scenarios", "rest"))
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrNotJSON) {
				t.Fatalf("err = %v", err)
			}
			if se.File != path || se.Offset != int64(tc.offset) || se.Line != tc.line || se.Column != tc.col ||
				!strings.Contains(err.Error(), tc.wantInMessage) || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v (%+v)", err, *se)
			}
			if _, err := n.NIC("nic-vm1"); err != nil {
				t.Errorf("other files not loaded: %v", err)
			}
		})
	}
	n := New()
	for _, data := range []string{"", "  \n", `{"a": 1`, `{"id": "x"} garbage`, "\xff\xfe{\x00"} {
		if _, err := n.Add("x.json", []byte(data)); !errors.Is(err, ErrNotJSON) {
			t.Errorf("Add(%q) = %v, want ErrNotJSON", data, err)
		}
	}
	if len(n.frags) != 0 {
		t.Errorf("a file with an error left %d resources", len(n.frags))
	}
}

// TestLoadErrors: missing paths are errors, and Load still returns what
// it could load.
func TestLoadErrors(t *testing.T) {
	n, _, err := Load(filepath.Join(testdataDir, "no-such-file.json"), filepath.Join(testdataDir, "scenarios", "rest"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
	if n == nil || len(n.NICs) != 1 {
		t.Errorf("network not loaded")
	}
}
