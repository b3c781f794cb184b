package ipflow

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/flowlens/flowlens/topology"
)

// TestAzureIPFlowVerifyExample answers the request of Azure's
// NetworkWatcherIpFlowVerify example over a network in which its answer
// holds, and compares with the example's response. The one difference is
// named: the swagger example's ruleName lacks the securityRules/ prefix
// that real output has (spec §10).
func TestAzureIPFlowVerifyExample(t *testing.T) {
	data, err := os.ReadFile("../testdata/topology/azure-examples/NetworkWatcherIpFlowVerify.json")
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseVerifyRequest(data)
	if err != nil {
		t.Fatal(err)
	}
	var example struct {
		Responses map[string]struct {
			Body VerifyResult `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	want := example.Responses["200"].Body
	if want.Access == "" || req.LocalIPAddress != "10.2.0.4" {
		t.Fatalf("example not read: %+v %+v", req, want)
	}
	n, probs, err := topology.Load("../testdata/azure-example-networks/NetworkWatcherIpFlowVerify.network.json")
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	got, err := NewEvaluator(n, Config{}).Verify(req, 0)
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if got[0].Access != want.Access || got[0].RuleName != "securityRules/"+want.RuleName {
		t.Fatalf("got %+v, want %+v (with the securityRules/ prefix)", got[0].VerifyResult, want)
	}
}

// TestAzureSecurityGroupViewExample compares the security group view of
// the example's VM with Azure's example response: every rule the example
// shows must be in ours, field for field, but for the named differences.
func TestAzureSecurityGroupViewExample(t *testing.T) {
	data, err := os.ReadFile("../testdata/topology/azure-examples/NetworkWatcherSecurityGroupViewGet.json")
	if err != nil {
		t.Fatal(err)
	}
	var example struct {
		Parameters struct {
			Parameters struct {
				TargetResourceID string `json:"targetResourceId"`
			} `json:"parameters"`
		} `json:"parameters"`
		Responses map[string]struct {
			Body SecurityGroupViewResult `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	want := example.Responses["200"].Body
	n, probs, err := topology.Load("../testdata/azure-example-networks/NetworkWatcherSecurityGroupViewGet.network.json")
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	got, err := NewEvaluator(n, Config{}).SecurityGroupView(example.Parameters.Parameters.TargetResourceID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.NetworkInterfaces) != 1 || len(want.NetworkInterfaces) != 1 {
		t.Fatalf("NICs: got %d, example %d", len(got.NetworkInterfaces), len(want.NetworkInterfaces))
	}
	g, w := got.NetworkInterfaces[0], want.NetworkInterfaces[0]
	if g.ID != w.ID {
		t.Errorf("NIC id %q, example %q", g.ID, w.ID)
	}
	ga, wa := g.SecurityRuleAssociations, w.SecurityRuleAssociations
	if (ga.NetworkInterfaceAssociation == nil) != (wa.NetworkInterfaceAssociation == nil) {
		t.Errorf("NIC association: got %v, example %v", ga.NetworkInterfaceAssociation, wa.NetworkInterfaceAssociation)
	}
	if ga.SubnetAssociation == nil || ga.SubnetAssociation.ID != wa.SubnetAssociation.ID {
		t.Fatalf("subnet association %+v, example %+v", ga.SubnetAssociation, wa.SubnetAssociation)
	}
	if !jsonEqual(t, ga.SubnetAssociation.SecurityRules, wa.SubnetAssociation.SecurityRules) {
		t.Errorf("subnet rules differ:\n got %s\nwant %s", mustJSON(t, ga.SubnetAssociation.SecurityRules), mustJSON(t, wa.SubnetAssociation.SecurityRules))
	}
	// The example blanks the default rule's id; ours is the NSG's.
	for _, wr := range wa.DefaultSecurityRules {
		found := false
		for _, gr := range ga.DefaultSecurityRules {
			if gr.Name == wr.Name {
				found = true
				wr.ID = gr.ID
				if !jsonEqual(t, gr, wr) {
					t.Errorf("default rule %s:\n got %s\nwant %s", wr.Name, mustJSON(t, gr), mustJSON(t, wr))
				}
			}
		}
		if !found {
			t.Errorf("default rule %s missing", wr.Name)
		}
	}
	if len(ga.DefaultSecurityRules) != 6 {
		t.Errorf("%d default rules, want 6", len(ga.DefaultSecurityRules))
	}
	// The example writes * where effective rules write 0.0.0.0/0.
	for _, wr := range wa.EffectiveSecurityRules {
		for _, p := range []*string{&wr.SourceAddressPrefix, &wr.DestinationAddressPrefix} {
			if *p == "*" {
				*p = "0.0.0.0/0"
			}
		}
		found := false
		for _, gr := range ga.EffectiveSecurityRules {
			if gr.Name != wr.Name || gr.Direction != wr.Direction {
				continue
			}
			found = true
			if gr.Access != wr.Access || gr.Priority != wr.Priority || gr.Protocol != wr.Protocol ||
				gr.SourceAddressPrefix != wr.SourceAddressPrefix || gr.DestinationAddressPrefix != wr.DestinationAddressPrefix ||
				gr.SourcePortRange != wr.SourcePortRange || gr.DestinationPortRange != wr.DestinationPortRange {
				t.Errorf("effective rule %s:\n got %s\nwant %s", wr.Name, mustJSON(t, gr), mustJSON(t, wr))
			}
		}
		if !found {
			t.Errorf("effective rule %s (%s) missing", wr.Name, wr.Direction)
		}
	}
	// Inbound: fe_rule then the three defaults; outbound the three defaults.
	if len(ga.EffectiveSecurityRules) != 7 || ga.EffectiveSecurityRules[0].Name != "UserRule_fe_rule" {
		t.Errorf("effective rules: %s", mustJSON(t, ga.EffectiveSecurityRules))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonEqual compares two values by their JSON, ignoring etag.
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	return mustJSON(t, a) == mustJSON(t, b)
}

// TestAzureEffectiveNSGListExample compares the effective NSGs of the
// example's NIC with Azure's example response, naming the differences.
func TestAzureEffectiveNSGListExample(t *testing.T) {
	data, err := os.ReadFile("../testdata/topology/azure-examples/NetworkInterfaceEffectiveNSGList.json")
	if err != nil {
		t.Fatal(err)
	}
	var example struct {
		Parameters struct {
			NIC string `json:"networkInterfaceName"`
		} `json:"parameters"`
		Responses map[string]struct {
			Body struct {
				Value []struct {
					EffectiveNetworkSecurityGroup
					Association struct {
						EffectiveAssociation
						NetworkManager *IDRef `json:"networkManager"`
					} `json:"association"`
				} `json:"value"`
			} `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	n, probs, err := topology.Load("../testdata/azure-example-networks/NetworkInterfaceEffectiveNSGList.network.json")
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	got, err := NewEvaluator(n, Config{}).EffectiveNetworkSecurityGroups(example.Parameters.NIC)
	if err != nil {
		t.Fatal(err)
	}
	want := example.Responses["200"].Body.Value
	if len(got.Value) != 1 || len(want) != 1 {
		t.Fatalf("got %d NSGs, example %d", len(got.Value), len(want))
	}
	g, w := got.Value[0], want[0]
	if g.NetworkSecurityGroup != w.NetworkSecurityGroup {
		t.Errorf("NSG %v, example %v", g.NetworkSecurityGroup, w.NetworkSecurityGroup)
	}
	// The example also names a network manager: out of scope.
	if w.Association.NetworkManager == nil || !jsonEqual(t, g.Association, w.Association.EffectiveAssociation) {
		t.Errorf("association %s, example %s", mustJSON(t, g.Association), mustJSON(t, w.Association))
	}
	for _, wr := range w.EffectiveSecurityRules {
		found := false
		for _, gr := range g.EffectiveSecurityRules {
			if gr.Name != wr.Name {
				continue
			}
			found = true
			if wr.ExpandedDestinationAddressPrefix != nil {
				// The example's Internet list is synthetic; ours is DefaultInternet.
				if len(gr.ExpandedDestinationAddressPrefix) < 10 || g.TagMap["Internet"] == nil {
					t.Errorf("%s: Internet not expanded: %v", wr.Name, gr.ExpandedDestinationAddressPrefix)
				}
				wr.ExpandedDestinationAddressPrefix = gr.ExpandedDestinationAddressPrefix
			}
			// The example leaves out the plural arrays that real output repeats.
			wr.SourcePortRanges, wr.DestinationPortRanges = gr.SourcePortRanges, gr.DestinationPortRanges
			wr.SourceAddressPrefixes, wr.DestinationAddressPrefixes = gr.SourceAddressPrefixes, gr.DestinationAddressPrefixes
			if !jsonEqual(t, gr, wr) {
				t.Errorf("rule %s:\n got %s\nwant %s", wr.Name, mustJSON(t, gr), mustJSON(t, wr))
			}
		}
		if !found {
			t.Errorf("rule %s missing", wr.Name)
		}
	}
	if len(g.EffectiveSecurityRules) != 8 {
		t.Errorf("%d rules, want 2 user and 6 default", len(g.EffectiveSecurityRules))
	}
}
