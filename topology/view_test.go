package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	viewDir  = filepath.Join(testdataDir, "view")
	hubSpoke = filepath.Join(testdataDir, "view", "hub-spoke")
	viewTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

// loadView loads a directory and fails on an error (problems are fine:
// dangling references are part of some test networks).
func loadView(t *testing.T, dir string) *Network {
	t.Helper()
	n, _, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTopologyViewAzureExample reproduces Azure's topology example
// (NetworkWatcherTopologyGet.json) from a network that holds its VM, in
// testdata/topology/view/azure-example: the request comes from the
// example's envelope, resources and associations must equal the
// example's. The answer's id is ours (a UUID of the request and the
// network, where Azure gives a random operation id) and its times are the
// ones we pass in.
func TestTopologyViewAzureExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "azure-examples", "NetworkWatcherTopologyGet.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseViewRequest(data)
	if err != nil {
		t.Fatal(err)
	}
	if req.TargetResourceGroupName != "rg2" || req.Subscription != "00000000-0000-0000-0000-000000000000" {
		t.Fatalf("request = %+v", req)
	}
	var example struct {
		Responses struct {
			OK struct {
				Body struct {
					ID              string         `json:"id"`
					CreatedDateTime string         `json:"createdDateTime"`
					LastModified    string         `json:"lastModified"`
					Resources       []ViewResource `json:"resources"`
				} `json:"body"`
			} `json:"200"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	want := example.Responses.OK.Body
	created, _ := time.Parse(time.RFC3339Nano, want.CreatedDateTime)
	modified, _ := time.Parse(time.RFC3339Nano, want.LastModified)

	// The network also holds a VNet in rg1 (the watcher's resource group)
	// and a VM in a resource group rg2 of another subscription: neither
	// belongs in the answer.
	n := loadView(t, filepath.Join(viewDir, "azure-example"))
	v, err := n.View(req, ViewOptions{Time: created, LastModified: modified})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID              string         `json:"id"`
		CreatedDateTime string         `json:"createdDateTime"`
		LastModified    string         `json:"lastModified"`
		Resources       []ViewResource `json:"resources"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Resources, want.Resources) {
		t.Errorf("resources:\n got %+v\nwant %+v", got.Resources, want.Resources)
	}
	if got.CreatedDateTime != want.CreatedDateTime || got.LastModified != want.LastModified {
		t.Errorf("times %s, %s; want %s, %s", got.CreatedDateTime, got.LastModified, want.CreatedDateTime, want.LastModified)
	}
	// The one difference: the id.
	if got.ID == want.ID || !uuidV5.MatchString(got.ID) {
		t.Errorf("id %q: want a version 5 UUID of our own", got.ID)
	}

	// Without the envelope's subscription, rg2 of the other
	// subscription counts too.
	req.Subscription = ""
	v, err = n.View(req, ViewOptions{Time: created})
	if err != nil {
		t.Fatal(err)
	}
	if names := viewNames(v); !slices.Equal(names, []string{"MultiTierApp0", "OtherApp0"}) {
		t.Errorf("rg2 in every subscription: %v", names)
	}
}

var uuidV5 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func viewNames(v *View) []string {
	var out []string
	for _, r := range v.Resources {
		out = append(out, r.Name)
	}
	return out
}

// viewSummary writes a view out one resource a line, ids canonical and
// shortened to what follows "providers/", so that dialects compare.
func viewSummary(v *View) string {
	short := func(id string) string {
		id = CanonicalID(id)
		if i := strings.Index(id, "/providers/"); i >= 0 {
			return id[i+len("/providers/"):]
		}
		return id
	}
	var b strings.Builder
	for _, r := range v.Resources {
		fmt.Fprintf(&b, "%s (%s) loc=%s\n", r.Name, short(r.ID), r.Location)
		for _, a := range r.Associations {
			fmt.Fprintf(&b, "  %s %s (%s)\n", a.AssociationType, a.Name, short(a.ResourceID))
		}
	}
	return b.String()
}

// TestTopologyViewScenarios answers for resource group rg-demo from the network
// of testdata/topology/scenarios, exported in every dialect: the same
// resources and associations each time, as spec §5 and its [X] decisions
// give them.
func TestTopologyViewScenarios(t *testing.T) {
	const want = `vnet-demo (microsoft.network/virtualnetworks/vnet-demo) loc=westeurope
  Contains app (microsoft.network/virtualnetworks/vnet-demo/subnets/app)
  Contains web (microsoft.network/virtualnetworks/vnet-demo/subnets/web)
app (microsoft.network/virtualnetworks/vnet-demo/subnets/app) loc=westeurope
web (microsoft.network/virtualnetworks/vnet-demo/subnets/web) loc=westeurope
  Associated nsg-web (microsoft.network/networksecuritygroups/nsg-web)
  Associated rt-web (microsoft.network/routetables/rt-web)
vm1 (microsoft.compute/virtualmachines/vm1) loc=westeurope
  Contains nic-vm1 (microsoft.network/networkinterfaces/nic-vm1)
nic-vm1 (microsoft.network/networkinterfaces/nic-vm1) loc=westeurope
  Associated vm1 (microsoft.compute/virtualmachines/vm1)
  Associated nsg-nic (microsoft.network/networksecuritygroups/nsg-nic)
  Associated web (microsoft.network/virtualnetworks/vnet-demo/subnets/web)
nsg-nic (microsoft.network/networksecuritygroups/nsg-nic) loc=westeurope
  Contains allow-ssh-from-app (microsoft.network/networksecuritygroups/nsg-nic/securityrules/allow-ssh-from-app)
allow-ssh-from-app (microsoft.network/networksecuritygroups/nsg-nic/securityrules/allow-ssh-from-app) loc=westeurope
nsg-web (microsoft.network/networksecuritygroups/nsg-web) loc=westeurope
  Contains allow-app-out (microsoft.network/networksecuritygroups/nsg-web/securityrules/allow-app-out)
  Contains allow-https (microsoft.network/networksecuritygroups/nsg-web/securityrules/allow-https)
  Contains deny-rdp (microsoft.network/networksecuritygroups/nsg-web/securityrules/deny-rdp)
allow-app-out (microsoft.network/networksecuritygroups/nsg-web/securityrules/allow-app-out) loc=westeurope
allow-https (microsoft.network/networksecuritygroups/nsg-web/securityrules/allow-https) loc=westeurope
deny-rdp (microsoft.network/networksecuritygroups/nsg-web/securityrules/deny-rdp) loc=westeurope
rt-web (microsoft.network/routetables/rt-web) loc=westeurope
  Contains default (microsoft.network/routetables/rt-web/routes/default)
  Contains storage (microsoft.network/routetables/rt-web/routes/storage)
default (microsoft.network/routetables/rt-web/routes/default) loc=westeurope
storage (microsoft.network/routetables/rt-web/routes/storage) loc=westeurope
`
	for _, dialect := range []string{"rest", "azcli", "azcreate", "arm-template", "powershell"} {
		t.Run(dialect, func(t *testing.T) {
			n, _ := loadDir(t, filepath.Join(testdataDir, "scenarios", dialect))
			for _, rg := range []string{"rg-demo", "RG-DEMO"} {
				v, err := n.View(ViewRequest{TargetResourceGroupName: rg}, ViewOptions{Time: viewTime})
				if err != nil {
					t.Fatal(err)
				}
				if got := viewSummary(v); got != want {
					t.Errorf("%s:\n%s", rg, lineDiff(want, got))
				}
			}
		})
	}
}

// TestTopologyViewTargets asks for each kind of target of the hub-and-spoke
// network and checks which resources come back.
func TestTopologyViewTargets(t *testing.T) {
	n := loadView(t, hubSpoke)
	spoke1 := "/subscriptions/aaaaaaaa-0000-4000-8000-00000000000a/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/spoke1-vnet"
	tests := []struct {
		name string
		req  ViewRequest
		want []string
	}{
		{"resource group", ViewRequest{TargetResourceGroupName: "rg-data"},
			[]string{"spoke2-vnet", "db", "spare", "db1", "nic-db1", "nsg-db", "allow-sql-from-app", "deny-internet-out", "nsg-db1-nic", "rt-db", "blackhole-internet"}},
		{"resource group in its subscription", ViewRequest{TargetResourceGroupName: "rg-data", Subscription: "BBBBBBBB-0000-4000-8000-00000000000B"},
			[]string{"spoke2-vnet", "db", "spare", "db1", "nic-db1", "nsg-db", "allow-sql-from-app", "deny-internet-out", "nsg-db1-nic", "rt-db", "blackhole-internet"}},
		// A VNet brings what is in its subnets, from any resource group,
		// but not the peered networks (they are associations only).
		{"virtual network by id", ViewRequest{TargetVirtualNetwork: &SubResource{ID: spoke1}},
			[]string{"spoke1-vnet", "app", "web", "app1", "web1", "web2", "nic-app1", "nic-app1-mgmt", "nic-spare", "nic-web1", "nic-web2",
				"nsg-app", "allow-web-to-app", "nsg-web", "allow-https-in", "deny-rdp", "rt-spoke1", "default-via-hub", "onprem", "pip-web1"}},
		{"virtual network by name", ViewRequest{TargetVirtualNetwork: &SubResource{ID: "hub-vnet"}},
			[]string{"hub-vnet", "GatewaySubnet", "shared", "dns1", "nic-dns1", "nsg-shared", "allow-dns-from-spokes",
				"pip-vpngw", "vpngw-hub", "lng-onprem", "cn-onprem"}},
		{"subnet", ViewRequest{TargetSubnet: &SubResource{ID: spoke1 + "/subnets/app"}},
			[]string{"app", "app1", "nic-app1", "nic-spare", "nsg-app", "allow-web-to-app", "rt-spoke1", "default-via-hub", "onprem"}},
		{"subnet by name, within its VNet", ViewRequest{TargetSubnet: &SubResource{ID: "spoke2-vnet/db"}, TargetVirtualNetwork: &SubResource{ID: "spoke2-vnet"}},
			[]string{"db", "db1", "nic-db1", "nsg-db", "allow-sql-from-app", "deny-internet-out", "nsg-db1-nic", "rt-db", "blackhole-internet"}},
		{"gateway subnet", ViewRequest{TargetSubnet: &SubResource{ID: "hub-vnet/GatewaySubnet"}},
			[]string{"GatewaySubnet", "pip-vpngw", "vpngw-hub", "lng-onprem", "cn-onprem"}},
		{"narrowest target wins", ViewRequest{TargetResourceGroupName: "rg-app", TargetSubnet: &SubResource{ID: "hub-vnet/GatewaySubnet"}},
			[]string{"GatewaySubnet", "pip-vpngw", "vpngw-hub", "lng-onprem", "cn-onprem"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := n.View(tc.req, ViewOptions{Time: viewTime})
			if err != nil {
				t.Fatal(err)
			}
			got, want := viewNames(v), slices.Clone(tc.want)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("resources %v\nwant %v", got, want)
			}
		})
	}

	v, err := n.View(ViewRequest{All: true, TargetResourceGroupName: "ignored"}, ViewOptions{Time: viewTime})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(v.Resources); got != 43 {
		t.Errorf("--all: %d resources, want 43: %v", got, viewNames(v))
	}
	if v.Title() != "all resource groups and subscriptions" {
		t.Errorf("title %q", v.Title())
	}

	for _, tc := range []struct {
		name string
		req  ViewRequest
		want error
	}{
		{"no target", ViewRequest{}, ErrBadRequest},
		{"blank target", ViewRequest{TargetVirtualNetwork: &SubResource{ID: " "}}, ErrBadRequest},
		{"unknown resource group", ViewRequest{TargetResourceGroupName: "rg-nope"}, ErrNotFound},
		{"resource group of another subscription", ViewRequest{TargetResourceGroupName: "rg-data", Subscription: "aaaaaaaa-0000-4000-8000-00000000000a"}, ErrNotFound},
		{"unknown VNet", ViewRequest{TargetVirtualNetwork: &SubResource{ID: spoke1 + "x"}}, ErrNotFound},
		{"unknown subnet", ViewRequest{TargetSubnet: &SubResource{ID: "spoke1-vnet/nope"}}, ErrNotFound},
		{"subnet outside the VNet", ViewRequest{TargetSubnet: &SubResource{ID: "spoke2-vnet/db"}, TargetVirtualNetwork: &SubResource{ID: "hub-vnet"}}, ErrBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.View(tc.req, ViewOptions{})
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// TestTopologyViewAssociations checks the associations of the hub-and-spoke
// network: the rules of spec §5 and our decisions ([X]) beside them.
func TestTopologyViewAssociations(t *testing.T) {
	n := loadView(t, hubSpoke)
	v, err := n.View(ViewRequest{All: true}, ViewOptions{Time: viewTime})
	if err != nil {
		t.Fatal(err)
	}
	assoc := map[string][]string{} // resource name → "Type name" in order
	loc := map[string]string{}
	for _, r := range v.Resources {
		if _, dup := assoc[r.Name]; dup {
			t.Fatalf("%s listed twice", r.Name)
		}
		if r.Associations == nil {
			t.Errorf("%s: nil associations encode as null, not []", r.Name)
		}
		assoc[r.Name] = []string{}
		for _, a := range r.Associations {
			assoc[r.Name] = append(assoc[r.Name], string(a.AssociationType)+" "+a.Name)
		}
		loc[r.Name] = r.Location
	}
	tests := []struct {
		name, why string
		want      []string
	}{
		{"hub-vnet", "Contains its subnets; Associated with peered VNets, the partner too although it is not exported",
			[]string{"Contains GatewaySubnet", "Contains shared", "Associated spoke1-vnet", "Associated spoke2-vnet", "Associated partner-vnet"}},
		{"spoke2-vnet", "a peering appears both ways: spoke2 exports no peering, the hub's names it",
			[]string{"Contains db", "Contains spare", "Associated hub-vnet"}},
		{"db", "[X] a subnet is Associated with its NSG and route table",
			[]string{"Associated nsg-db", "Associated rt-db"}},
		{"spare", "a subnet with nothing attached has no associations", []string{}},
		{"app1", "a VM Contains each of its NICs", []string{"Contains nic-app1", "Contains nic-app1-mgmt"}},
		{"nic-web1", "a NIC is Associated with its VM, NSG, subnet and public IP, in that order",
			[]string{"Associated web1", "Associated web", "Associated pip-web1"}},
		{"nic-db1", "the NIC's own NSG", []string{"Associated db1", "Associated nsg-db1-nic", "Associated db"}},
		{"nic-spare", "a NIC without a VM", []string{"Associated app"}},
		{"pip-web1", "a public IP is Associated with its NIC", []string{"Associated nic-web1"}},
		{"pip-vpngw", "… or with its gateway", []string{"Associated vpngw-hub"}},
		{"pip-spare", "… or with nothing", []string{}},
		{"nsg-db", "an NSG Contains its user rules, not the default ones",
			[]string{"Contains allow-sql-from-app", "Contains deny-internet-out"}},
		{"nsg-db1-nic", "an NSG with default rules only Contains nothing", []string{}},
		{"rt-spoke1", "[X] a route table Contains its routes", []string{"Contains default-via-hub", "Contains onprem"}},
		{"vpngw-hub", "[X] a gateway is Associated with its subnet and public IP",
			[]string{"Associated GatewaySubnet", "Associated pip-vpngw"}},
		{"cn-onprem", "[X] a connection is Associated with the gateways it links",
			[]string{"Associated vpngw-hub", "Associated lng-onprem"}},
		{"lng-onprem", "a local network gateway has none", []string{}},
	}
	for _, tc := range tests {
		if got := assoc[tc.name]; !slices.Equal(got, tc.want) {
			t.Errorf("%s (%s):\n got %q\nwant %q", tc.name, tc.why, got, tc.want)
		}
	}
	// Rules and routes take their parent's location.
	if loc["deny-rdp"] != "westeurope" || loc["onprem"] != "westeurope" {
		t.Errorf("child locations: %q, %q", loc["deny-rdp"], loc["onprem"])
	}
}

// TestTopologyViewJSON checks the encoding: Azure's keys and order, [] for no
// associations, no location when there is none, seven fractional digits
// in UTC, and an id that depends on the request and the network only.
func TestTopologyViewJSON(t *testing.T) {
	n := New()
	if _, err := n.Add("vm.json", []byte(`{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "properties": {}}`)); err != nil {
		t.Fatal(err)
	}
	n.Resolve()
	at := time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("x", 3600))
	v, err := n.View(ViewRequest{TargetResourceGroupName: "rg"}, ViewOptions{Time: at})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"` + v.ID + `","createdDateTime":"2024-02-29T22:59:59.1234567Z","lastModified":"2024-02-29T22:59:59.1234567Z",` +
		`"resources":[{"name":"vm1","id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1","associations":[]}]}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	if !uuidV5.MatchString(v.ID) {
		t.Errorf("id %q is not a version 5 UUID", v.ID)
	}
	later, _ := n.View(ViewRequest{TargetResourceGroupName: "RG"}, ViewOptions{Time: at.Add(time.Hour), LastModified: at})
	if later.ID != v.ID {
		t.Errorf("the id changes with the time or the request's case: %s, %s", v.ID, later.ID)
	}
	if !later.LastModified.Equal(at) || !later.CreatedDateTime.Equal(at.Add(time.Hour)) {
		t.Errorf("times %v, %v", later.CreatedDateTime, later.LastModified)
	}
	all, _ := n.View(ViewRequest{All: true}, ViewOptions{Time: at})
	if all.ID == v.ID {
		t.Errorf("another request, same id %s", v.ID)
	}
	if now, _ := n.View(ViewRequest{All: true}, ViewOptions{}); time.Since(now.CreatedDateTime) > time.Minute || !now.LastModified.Equal(now.CreatedDateTime) {
		t.Errorf("zero options: %v, %v", now.CreatedDateTime, now.LastModified)
	}
	// The zero View encodes as an empty answer.
	if out, _ := json.Marshal(View{}); !strings.Contains(string(out), `"resources":[]`) {
		t.Errorf("zero view: %s", out)
	}
}

// TestTopologyParseViewRequest reads request bodies in the shapes Azure and its
// examples use.
func TestTopologyParseViewRequest(t *testing.T) {
	f := func(body string, want ViewRequest, wantErr bool) {
		t.Helper()
		got, err := ParseViewRequest([]byte(body))
		if (err != nil) != wantErr {
			t.Fatalf("%s: error %v", body, err)
		}
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("%s: error %v does not wrap ErrBadRequest", body, err)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", body, got, want)
		}
		again, _ := ParseViewRequest([]byte(body))
		if !reflect.DeepEqual(again, got) {
			t.Errorf("%s: not pure", body)
		}
	}
	f(`{"targetResourceGroupName": "rg2"}`, ViewRequest{TargetResourceGroupName: "rg2"}, false)
	f(`{"TARGETRESOURCEGROUPNAME": "rg2"}`, ViewRequest{TargetResourceGroupName: "rg2"}, false)
	f(`{"targetVirtualNetwork": {"id": "/v"}}`, ViewRequest{TargetVirtualNetwork: &SubResource{ID: "/v"}}, false)
	f(`{"targetSubnet": {"ID": "/s"}, "targetResourceGroupName": null}`, ViewRequest{TargetSubnet: &SubResource{ID: "/s"}}, false)
	f("\ufeff"+`{"targetResourceGroupName": "rg2", "extra": 1}`, ViewRequest{TargetResourceGroupName: "rg2"}, false)
	f(`{"parameters": {"subscriptionId": "sub", "resourceGroupName": "rg1", "parameters": {"targetResourceGroupName": "rg2"}}}`,
		ViewRequest{TargetResourceGroupName: "rg2", Subscription: "sub"}, false)
	f(`{}`, ViewRequest{}, true)
	f(`{"targetVirtualNetwork": {}}`, ViewRequest{}, true)
	f(`{"targetVirtualNetwork": "/v"}`, ViewRequest{}, true)
	f(`[]`, ViewRequest{}, true)
	f(`not json`, ViewRequest{}, true)
	f(``, ViewRequest{}, true)
}

// FuzzParseViewRequest checks that ParseViewRequest never panics, that
// what it accepts names a target, and that encoding an accepted request
// and reading it back gives it again.
//
//	go test ./topology -run '^$' -fuzz FuzzParseViewRequest -fuzztime 30s
func FuzzParseViewRequest(f *testing.F) {
	for _, s := range []string{
		`{"targetResourceGroupName": "rg2"}`,
		`{"targetSubnet": {"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/a"}}`,
		`{"parameters": {"parameters": {"targetVirtualNetwork": {"id": "x"}}, "subscriptionId": 5}}`, // subscription of the wrong type
		`{"parameters": null, "targetResourceGroupName": "a"}`,
		`{"targetVirtualNetwork": null, "targetSubnet": {"id": 1}}`,
		"\ufeff{}",
	} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile(filepath.Join(testdataDir, "azure-examples", "NetworkWatcherTopologyGet.json")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		req, err := ParseViewRequest(data)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if req.TargetResourceGroupName == "" && req.TargetVirtualNetwork.id() == "" && req.TargetSubnet.id() == "" {
			t.Fatalf("accepted %q without a target: %+v", data, req)
		}
		body, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseViewRequest(body)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		req.Subscription = ""
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("round trip: %+v, want %+v", again, req)
		}
	})
}
