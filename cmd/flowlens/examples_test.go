package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Azure's swagger examples and the networks in which their answers hold
// (testdata/azure-example-networks/README.md names the differences).
const (
	azureExamples = "../../testdata/topology/azure-examples"
	exampleNets   = "../../testdata/azure-example-networks"
)

// azureExample reads an ARM example envelope: the request body under
// parameters.parameters (nil when the request has none) and the 200
// response body, as generic JSON.
func azureExample(t *testing.T, name string) (request, response any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(azureExamples, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Parameters struct {
			Parameters any `json:"parameters"`
		} `json:"parameters"`
		Responses map[string]struct {
			Body any `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	response = env.Responses["200"].Body
	if response == nil {
		t.Fatalf("%s: no 200 response body", name)
	}
	return env.Parameters.Parameters, response
}

// jsonContains reports, as test errors, where got lacks what want holds:
// every key of a want object must be in got with a value that contains
// want's; the elements of a want array must be in got, found by "name"
// when they have one and by position otherwise; other values must be equal.
// Keys got has and want lacks are allowed: the examples show a subset.
func jsonContains(t *testing.T, path string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %s, want an object", path, brief(got))
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s.%s: missing, want %s", path, k, brief(wv))
				continue
			}
			jsonContains(t, path+"."+k, gv, wv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: got %s, want an array", path, brief(got))
			return
		}
		for i, wv := range w {
			m, _ := wv.(map[string]any)
			name, named := m["name"]
			if !named {
				if i >= len(g) {
					t.Errorf("%s[%d]: missing, want %s", path, i, brief(wv))
					continue
				}
				jsonContains(t, fmt.Sprintf("%s[%d]", path, i), g[i], wv)
				continue
			}
			k := slices.IndexFunc(g, func(gv any) bool { m, _ := gv.(map[string]any); return m != nil && m["name"] == name })
			if k < 0 {
				t.Errorf("%s: no element named %v", path, name)
				continue
			}
			jsonContains(t, fmt.Sprintf("%s[%v]", path, name), g[k], wv)
		}
	default:
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %s, want %s", path, brief(got), brief(want))
		}
	}
}

func brief(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// TestAzureExampleVerify runs flowlens verify --request on Azure's
// NetworkWatcherIpFlowVerify example, as the ARM envelope and as the bare
// request body, and compares stdout with the example's response. The named
// difference: the example's ruleName lacks the securityRules/ prefix that
// real output has (spec §10).
func TestAzureExampleVerify(t *testing.T) {
	req, want := azureExample(t, "NetworkWatcherIpFlowVerify")
	w := want.(map[string]any)
	w["ruleName"] = "securityRules/" + w["ruleName"].(string)

	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), "request.json")
	if err := os.WriteFile(bare, body, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(azureExamples, "NetworkWatcherIpFlowVerify.json"), bare} {
		code, stdout, stderr := runCLI(t, "verify", "--network", filepath.Join(exampleNets, "NetworkWatcherIpFlowVerify.network.json"), "--request", file)
		if code != exitOK || stderr != "" {
			t.Fatalf("%s: exit %d: %s", file, code, stderr)
		}
		var got any
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%s: %v: %s", file, err, stdout)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %s, want %s", file, brief(got), brief(want))
		}
	}
}

// TestAzureExampleSecurityGroupView runs flowlens sgview --request on
// Azure's NetworkWatcherSecurityGroupViewGet example and checks that the
// response holds everything the example's does. Named differences: the
// example shows one entry of each list (ours lists all), blanks the default
// rule's id, gives the subnet rule an etag (flowlens keeps none), and writes
// * where effective rules write 0.0.0.0/0.
func TestAzureExampleSecurityGroupView(t *testing.T) {
	_, want := azureExample(t, "NetworkWatcherSecurityGroupViewGet")
	code, stdout, stderr := runCLI(t, "sgview", "--network", filepath.Join(exampleNets, "NetworkWatcherSecurityGroupViewGet.network.json"),
		"--request", filepath.Join(azureExamples, "NetworkWatcherSecurityGroupViewGet.json"))
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}

	wa := want.(map[string]any)["networkInterfaces"].([]any)[0].(map[string]any)["securityRuleAssociations"].(map[string]any)
	for _, r := range wa["defaultSecurityRules"].([]any) {
		delete(r.(map[string]any), "id")
	}
	for _, r := range wa["subnetAssociation"].(map[string]any)["securityRules"].([]any) {
		delete(r.(map[string]any), "etag")
	}
	for _, r := range wa["effectiveSecurityRules"].([]any) {
		for _, k := range []string{"sourceAddressPrefix", "destinationAddressPrefix"} {
			if r.(map[string]any)[k] == "*" {
				r.(map[string]any)[k] = "0.0.0.0/0"
			}
		}
	}
	jsonContains(t, "body", got, want)

	nics := got["networkInterfaces"].([]any)
	if len(nics) != 1 {
		t.Fatalf("%d NICs, want 1", len(nics))
	}
	ga := nics[0].(map[string]any)["securityRuleAssociations"].(map[string]any)
	if v, ok := ga["networkInterfaceAssociation"]; !ok || v != nil {
		t.Errorf("networkInterfaceAssociation %v (present %v), want null: the NIC has no NSG", v, ok)
	}
	defaults := ga["defaultSecurityRules"].([]any)
	for _, r := range defaults {
		m := r.(map[string]any)
		if id, _ := m["id"].(string); !strings.HasSuffix(id, "/networkSecurityGroups/AppNSG/defaultSecurityRules/"+m["name"].(string)) {
			t.Errorf("default rule id %q", id)
		}
	}
	if n, e := len(defaults), len(ga["effectiveSecurityRules"].([]any)); n != 6 || e != 7 {
		t.Errorf("%d default and %d effective rules, want 6 and 7 (fe_rule and the six defaults)", n, e)
	}
}

// TestAzureExampleEffectiveNSGs runs flowlens sgview --effective-nsgs on
// the NIC of Azure's NetworkInterfaceEffectiveNSGList example and checks
// that the response holds everything the example's does. Named
// differences: the example's association names a network manager (out of
// scope), and its Internet expansion is a synthetic four-prefix list, each
// of which is in ours.
func TestAzureExampleEffectiveNSGs(t *testing.T) {
	_, want := azureExample(t, "NetworkInterfaceEffectiveNSGList")
	code, stdout, stderr := runCLI(t, "sgview", "--network", filepath.Join(exampleNets, "NetworkInterfaceEffectiveNSGList.network.json"),
		"--target", "nic1", "--effective-nsgs")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	wv := want.(map[string]any)["value"].([]any)[0].(map[string]any)
	delete(wv["association"].(map[string]any), "networkManager")
	var internet []any
	for _, r := range wv["effectiveSecurityRules"].([]any) {
		m := r.(map[string]any)
		if m["name"] == "defaultSecurityRules/AllowInternetOutBound" {
			internet = m["expandedDestinationAddressPrefix"].([]any)
			delete(m, "expandedDestinationAddressPrefix")
		}
	}
	if len(internet) != 4 {
		t.Fatalf("example's Internet expansion: %v", internet)
	}
	jsonContains(t, "body", got, want)

	gv := got["value"].([]any)
	if len(gv) != 1 {
		t.Fatalf("%d NSGs, want 1 (test-nsg on both the subnet and the NIC)", len(gv))
	}
	for _, r := range gv[0].(map[string]any)["effectiveSecurityRules"].([]any) {
		m := r.(map[string]any)
		if m["name"] != "defaultSecurityRules/AllowInternetOutBound" {
			continue
		}
		ours, _ := m["expandedDestinationAddressPrefix"].([]any)
		for _, p := range internet {
			if !slices.Contains(ours, p) {
				t.Errorf("Internet expansion lacks the example's %v", p)
			}
		}
	}
}
