package topology

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzLoad feeds bytes to Add and Resolve. Beyond not panicking it checks
// properties every load must have: errors are only ErrNotJSON; Add and
// Resolve are deterministic; every problem says where it is; every NSG ends up with the six default rules;
// every child sits in a parent that is in the model.
//
//	go test ./topology -run '^$' -fuzz FuzzLoad -fuzztime 60s
func FuzzLoad(f *testing.F) {
	// Every test file is a seed.
	for _, dir := range []string{"azure-examples", "scenarios", "problems"} {
		_ = filepath.WalkDir(filepath.Join(testdataDir, dir), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
				if data, err := os.ReadFile(path); err == nil {
					f.Add(data)
				}
			}
			return nil
		})
	}
	for _, s := range []string{
		``,           // empty: not JSON
		`null`,       // JSON, nothing in it
		`[[[[[]]]]]`, // nested empty lists
		`{"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkSecurityGroups/g/securityRules/r"}`, // a child alone
		`{"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkSecurityGroups/g", "securityRules": [null, 1, "x", {}]}`,
		`{"type": "Microsoft.Network/networkInterfaces", "id": "/x", "ipConfigurations": [{"name": "c", "privateIPAddress": "10.0.0.1/99"}]}`,
		`{"$schema": "x", "resources": [{"type": "Microsoft.Network/virtualNetworks", "name": "v/w/x"}, {"type": "a", "name": "[[b", "resources": [1]}]}`,
		`{"parameters": {"subscriptionId": "s", "resourceGroupName": "r", "routeTableName": "t", "routeName": "x", "p": {"properties": {}}}, "responses": {}}`,
		`{"resources": [], "contentVersion": "1"} {"value": [{"value": []}]}`,
		"\xff\xfe[\x00]\x00", // UTF-16 LE
		`{"Id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v", "Subnets": [{"Name": "a", "AddressPrefix": ["1.2.3.0/24", 7]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip("inputs above 1 MiB are out of scope")
		}
		n := New()
		probs, err := n.Add("fuzz.json", data)
		if err != nil {
			if !errors.Is(err, ErrNotJSON) {
				t.Fatalf("error is not ErrNotJSON: %v", err)
			}
			return
		}
		again, _ := New().Add("fuzz.json", data)
		if !slices.Equal(probs, again) {
			t.Errorf("Add is not deterministic:\n%v\n%v", probs, again)
		}
		first := n.Resolve()
		for _, p := range append(probs, first...) {
			if p.File != "fuzz.json" || !strings.HasPrefix(p.Path, "$") || p.Kind == "" || p.Message == "" {
				t.Errorf("problem without place or reason: %+v", p)
			}
		}
		for _, g := range n.NSGs {
			if got := ruleNames(g.DefaultSecurityRules); len(got) < 6 {
				t.Errorf("NSG %s has default rules %v", g.ID, got)
			}
			for _, r := range append(slices.Clone(g.SecurityRules), g.DefaultSecurityRules...) {
				if n.SecurityRules[CanonicalID(r.ID)] != r || CanonicalID(r.NSGID) != CanonicalID(g.ID) {
					t.Errorf("rule %s not indexed under its NSG", r.ID)
				}
			}
		}
		for _, s := range n.Subnets {
			if v := n.VNetOf(s); v == nil || !slices.Contains(v.Subnets, s) {
				t.Errorf("subnet %s not in its VNet", s.ID)
			}
		}
		for _, c := range n.IPConfigs {
			if nic := n.NICOf(c); nic == nil || !slices.Contains(nic.IPConfigs, c) {
				t.Errorf("IP configuration %s not in its NIC", c.ID)
			}
		}
		for _, r := range n.Routes {
			if rt := n.RouteTables[CanonicalID(r.RouteTableID)]; rt == nil || !slices.Contains(rt.Routes, r) {
				t.Errorf("route %s not in its table", r.ID)
			}
		}
		second := n.Resolve()
		if !slices.Equal(first, second) {
			t.Errorf("Resolve is not deterministic:\n%v\n%v", first, second)
		}
	})
}
