package ipflow

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/topology"
)

const tagsScenario = "../testdata/verify/service-tags"

// TestReadServiceTags reads the ServiceTags_Public file of the
// service-tags scenario: tags by name or id, in any case, with their IPv4
// and IPv6 prefixes.
func TestReadServiceTags(t *testing.T) {
	tags, err := LoadServiceTags(tagsScenario + "/servicetags.json")
	if err != nil {
		t.Fatal(err)
	}
	if tags.Len() != 3 {
		t.Errorf("%d tags, want 3", tags.Len())
	}
	tests := []struct {
		tag, addr string
		in        bool
	}{
		{"Storage.WestEurope", "20.60.27.255", true},
		{"storage.westeurope", "2603:1020:207::1", true},
		{"Storage.WestEurope", "20.60.28.0", false},
		{"STORAGE", "20.60.28.0", true},
		{"Storage", "2603:1020:206::1", false},
		{"AzureCloud", "2603:1020:206::1", true},
	}
	for _, tc := range tests {
		set, ok := tags.Lookup(tc.tag)
		if !ok {
			t.Errorf("%s: not found", tc.tag)
			continue
		}
		if got := set.Contains(netip.MustParseAddr(tc.addr)); got != tc.in {
			t.Errorf("%s contains %s: %v, want %v", tc.tag, tc.addr, got, tc.in)
		}
	}
	if _, ok := tags.Lookup("Sql"); ok {
		t.Error("Sql found in a file without it")
	}
	for _, bad := range []string{`{"values": []}`, `{"values": [{"name": "X", "properties": {"addressPrefixes": ["10.0.0.300/8"]}}]}`, `[`} {
		if _, err := ReadServiceTags(strings.NewReader(bad), "bad.json"); err == nil || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("%s: error %v, want one naming the file", bad, err)
		}
	}
}

// TestServiceTagWithoutFile asks about a network whose rules name service
// tags, without a service tags file: the error names the tag, the rule
// and the NSG, for verify and for security group view.
func TestServiceTagWithoutFile(t *testing.T) {
	n, probs, err := topology.Load(tagsScenario + "/network")
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	req := VerifyRequest{TargetResourceID: "app-vm", Direction: "Outbound", Protocol: "TCP",
		LocalIPAddress: "10.10.1.4", LocalPort: "50000", RemoteIPAddress: "20.60.26.10", RemotePort: "443"}
	check := func(what string, err error, words ...string) {
		t.Helper()
		if !errors.Is(err, ErrUnknownTag) {
			t.Fatalf("%s: error %v, want ErrUnknownTag", what, err)
		}
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not name %s", what, err, w)
			}
		}
	}
	_, err = NewEvaluator(n, Config{}).Verify(req, 0)
	check("verify outbound", err, `"Storage.WestEurope"`, `rule "allow-storage-westeurope"`, "app-nsg", "--service-tags")
	req.Direction, req.LocalPort, req.RemoteIPAddress, req.RemotePort = "Inbound", "443", "13.69.1.1", "50000"
	_, err = NewEvaluator(n, Config{}).Verify(req, 0)
	check("verify inbound", err, `"AzureCloud"`, `rule "allow-azurecloud-https-in"`)
	_, err = NewEvaluator(n, Config{}).SecurityGroupView("app-vm")
	check("sgview", err, `"AzureCloud"`, `rule "allow-azurecloud-https-in"`)

	// A file that lacks the tag says so.
	tags, err := ReadServiceTags(strings.NewReader(`{"values": [{"name": "Sql", "id": "Sql", "properties": {"addressPrefixes": ["13.65.31.249/32"]}}]}`), "sql-only.json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewEvaluator(n, Config{ServiceTags: tags}).Verify(req, 0)
	check("file without the tag", err, `"AzureCloud"`, "not in the service tags file")
}

// TestServiceTagsSecurityGroupView checks that security group view
// expands the tags of user rules into the file's IPv4 and IPv6 prefixes.
func TestServiceTagsSecurityGroupView(t *testing.T) {
	ev := loadScenario(t, tagsScenario)
	view, err := ev.SecurityGroupView("app-vm")
	if err != nil {
		t.Fatal(err)
	}
	if len(view.NetworkInterfaces) != 1 {
		t.Fatalf("%d NICs", len(view.NetworkInterfaces))
	}
	want := map[string]struct {
		tag      string
		source   bool
		expanded []string
	}{
		"UserRule_allow-azurecloud-https-in": {"AzureCloud", true, []string{"13.69.0.0/17", "20.60.0.0/16", "52.166.0.0/16", "2603:1020:206::/47", "2603:1030:11::/48"}},
		"UserRule_allow-storage-westeurope":  {"Storage.WestEurope", false, []string{"13.69.40.16/28", "20.60.26.0/23", "52.239.140.0/22", "2603:1020:207::/48"}},
		"UserRule_deny-storage":              {"Storage", false, []string{"13.69.40.16/28", "20.60.0.0/16", "52.239.128.0/19", "2603:1020:207::/48", "2603:1030:11::/48"}},
	}
	seen := 0
	for _, r := range view.NetworkInterfaces[0].SecurityRuleAssociations.EffectiveSecurityRules {
		w, ok := want[r.Name]
		if !ok {
			continue
		}
		seen++
		prefix, expanded := r.DestinationAddressPrefix, r.ExpandedDestinationAddressPrefix
		if w.source {
			prefix, expanded = r.SourceAddressPrefix, r.ExpandedSourceAddressPrefix
		}
		if prefix != w.tag || !slices.Equal(expanded, w.expanded) {
			t.Errorf("%s: %s expanded to %v, want %s expanded to %v", r.Name, prefix, expanded, w.tag, w.expanded)
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d tag rules", seen, len(want))
	}
}

// TestVirtualNetworkGateways checks the gateway part of the
// VirtualNetwork tag in security group view: a spoke that uses the hub's
// gateway (useRemoteGateways) gets the local network gateway's prefixes
// and the BGP-learned routes, a spoke peered without it does not, and the
// hub, whose gateway it is, does.
func TestVirtualNetworkGateways(t *testing.T) {
	ev := loadScenario(t, "../testdata/verify/hub-spoke-vpn")
	tests := []struct {
		vm   string
		want []string
	}{
		{"spoke1-vm", []string{"10.1.0.0/16", "10.100.0.0/16", "10.200.0.0/16", "168.63.129.16/32", "172.16.10.0/24", "192.168.0.0/16"}},
		{"spoke2-vm", []string{"10.2.0.0/16", "10.100.0.0/16", "168.63.129.16/32"}},
		{"hub-vm", []string{"10.1.0.0/16", "10.2.0.0/15", "10.100.0.0/16", "10.200.0.0/16", "168.63.129.16/32", "172.16.10.0/24", "192.168.0.0/16"}},
	}
	for _, tc := range tests {
		t.Run(tc.vm, func(t *testing.T) {
			view, err := ev.SecurityGroupView(tc.vm)
			if err != nil || len(view.NetworkInterfaces) != 1 {
				t.Fatal(view, err)
			}
			rules := view.NetworkInterfaces[0].SecurityRuleAssociations.EffectiveSecurityRules
			found := 0
			for _, r := range rules {
				if r.Name != "UserRule_allow-ssh-from-vnet" && r.Name != "DefaultRule_AllowVnetInBound" {
					continue
				}
				found++
				if !slices.Equal(r.ExpandedSourceAddressPrefix, tc.want) {
					t.Errorf("%s: VirtualNetwork expanded to %v, want %v", r.Name, r.ExpandedSourceAddressPrefix, tc.want)
				}
			}
			if found != 2 {
				t.Errorf("found %d of the 2 rules naming VirtualNetwork", found)
			}
		})
	}
}
