package ipflow

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/topology"
)

// routeCase is one entry of testdata/routes/*/cases.json: a next hop
// request with Azure's response to expect, or a NIC with its effective
// routes (rows as routeRowText prints them); why; and the reserved-prefix
// profile when not the default.
type routeCase struct {
	Reason   string          `json:"reason"`
	Reserved string          `json:"reserved"`
	Request  *NextHopRequest `json:"request"`
	Response *struct {
		NextHopType      string  `json:"nextHopType"`
		NextHopIPAddress *string `json:"nextHopIpAddress"`
		RouteTableID     string  `json:"routeTableId"`
	} `json:"response"`
	NIC    string   `json:"nic"`
	Routes []string `json:"routes"`
}

// routeRowText prints an effective route row on one line: source, state,
// prefixes, next hop type, next hop addresses (- for none), name (- for
// none), then hasBgpOverride and disableBgp when set.
func routeRowText(e EffectiveRoute) string {
	ips, name := strings.Join(e.NextHopIPAddress, ","), "-"
	if ips == "" {
		ips = "-"
	}
	if e.Name != nil {
		name = *e.Name
	}
	s := strings.Join([]string{e.Source, e.State, strings.Join(e.AddressPrefix, ","), e.NextHopType, ips, name}, " ")
	if e.HasBGPOverride {
		s += " hasBgpOverride"
	}
	if e.DisableBGPRoutePropagation {
		s += " disableBgp"
	}
	return s
}

// loadRouteScenario loads a scenario's network/ and, when present, its
// servicetags.json.
func loadRouteScenario(t testing.TB, dir string) *Evaluator {
	t.Helper()
	n, probs, err := topology.Load(filepath.Join(dir, "network"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("problem loading %s: %v", dir, p)
	}
	cfg := Config{}
	if tags := filepath.Join(dir, "servicetags.json"); routeFileExists(tags) {
		if cfg.ServiceTags, err = LoadServiceTags(tags); err != nil {
			t.Fatal(err)
		}
	}
	return NewEvaluator(n, cfg)
}

func routeFileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestRouteScenarios answers every case of the scenario suite in
// testdata/routes: next hop requests against Azure's expected response,
// effective routes row by row.
func TestRouteScenarios(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/routes/*/cases.json")
	if len(dirs) < 8 {
		t.Fatalf("found %d scenarios", len(dirs))
	}
	for _, cases := range dirs {
		dir := filepath.Dir(cases)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ev := loadRouteScenario(t, dir)
			routers := map[string]*Router{}
			data, err := os.ReadFile(cases)
			if err != nil {
				t.Fatal(err)
			}
			var cs []routeCase
			if err := json.Unmarshal(data, &cs); err != nil {
				t.Fatal(err)
			}
			for i, c := range cs {
				if c.Reason == "" {
					t.Errorf("case %d has no reason", i)
				}
				rt := routers[c.Reserved]
				if rt == nil {
					reserved, err := ReservedProfile(c.Reserved)
					if err != nil {
						t.Fatal(err)
					}
					rt = NewRouter(ev, RouteConfig{Reserved: reserved})
					routers[c.Reserved] = rt
				}
				switch {
				case c.Request != nil:
					a, err := rt.NextHop(*c.Request)
					if err != nil {
						t.Errorf("case %d (%s): %v", i, c.Reason, err)
						continue
					}
					got, want := mustJSONText(t, a.NextHopResult), mustJSONText(t, c.Response)
					if got != want {
						t.Errorf("case %d (%s):\n got %s\nwant %s\n(%s)", i, c.Reason, got, want, a.Sentence())
					}
				case c.NIC != "":
					rs, err := rt.EffectiveRoutes(c.NIC)
					if err != nil {
						t.Errorf("case %d (%s): %v", i, c.Reason, err)
						continue
					}
					var got []string
					for _, e := range rs.Effective().Value {
						got = append(got, routeRowText(e))
					}
					if !slices.Equal(got, c.Routes) {
						t.Errorf("case %d (%s):\n got %s\nwant %s", i, c.Reason, strings.Join(got, "\n     "), strings.Join(c.Routes, "\n     "))
					}
				default:
					t.Errorf("case %d: neither a request nor a NIC", i)
				}
			}
		})
	}
}

func mustJSONText(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAzureNextHopExample answers the request of Azure's
// NetworkWatcherNextHopGet example over a network in which its answer
// holds (a user route 10.0.0.0/24 -> VnetLocal in rt1) and compares with
// the example's response. One difference is named: the example gives the
// VnetLocal hop the address 10.0.0.1; VnetLocal next hops have no address
// (spec §3: the swagger example is illustrative only, and Azure refuses
// nextHopIpAddress on routes other than VirtualAppliance), so the answer's
// nextHopIpAddress is null.
func TestAzureNextHopExample(t *testing.T) {
	data, err := os.ReadFile("../testdata/topology/azure-examples/NetworkWatcherNextHopGet.json")
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseNextHopRequest(data)
	if err != nil {
		t.Fatal(err)
	}
	var example struct {
		Responses map[string]struct {
			Body NextHopResult `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	want := example.Responses["200"].Body
	if want.NextHopType != "VnetLocal" || req.SourceIPAddress != "10.0.0.5" || req.TargetNICResourceID == "" {
		t.Fatalf("example not read: %+v %+v", req, want)
	}
	n, probs, err := topology.Load("../testdata/routes/azure-example-networks/NetworkWatcherNextHopGet.network.json")
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	got, err := NewRouter(NewEvaluator(n, Config{}), RouteConfig{}).NextHop(req)
	if err != nil {
		t.Fatal(err)
	}
	if got.NextHopType != want.NextHopType || got.RouteTableID != want.RouteTableID {
		t.Fatalf("got %s, want %s", mustJSONText(t, got.NextHopResult), mustJSONText(t, want))
	}
	if got.NextHopIPAddress != nil || want.NextHopIPAddress == nil || *want.NextHopIPAddress != "10.0.0.1" {
		t.Fatalf("the named difference changed: got %s, want %s", mustJSONText(t, got.NextHopResult), mustJSONText(t, want))
	}
}

// TestAzureEffectiveRoutesExample lists the effective routes of the NIC
// of Azure's NetworkInterfaceEffectiveRouteTableList example (VNet
// 172.20.2.0/24) and compares with the example's rows. Our rows add
// name (null), disableBgpRoutePropagation and hasBgpOverride (false),
// which real responses carry and the example leaves out; read into the
// same type, the two are equal.
func TestAzureEffectiveRoutesExample(t *testing.T) {
	data, err := os.ReadFile("../testdata/topology/azure-examples/NetworkInterfaceEffectiveRouteTableList.json")
	if err != nil {
		t.Fatal(err)
	}
	var example struct {
		Parameters struct {
			SubscriptionID       string `json:"subscriptionId"`
			ResourceGroupName    string `json:"resourceGroupName"`
			NetworkInterfaceName string `json:"networkInterfaceName"`
		} `json:"parameters"`
		Responses map[string]struct {
			Body EffectiveRouteList `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	p := example.Parameters
	nicID := "/subscriptions/" + p.SubscriptionID + "/resourceGroups/" + p.ResourceGroupName +
		"/providers/Microsoft.Network/networkInterfaces/" + p.NetworkInterfaceName
	want := example.Responses["200"].Body
	if len(want.Value) != 6 {
		t.Fatalf("example not read: %+v", want)
	}
	n, probs, err := topology.Load("../testdata/routes/azure-example-networks/NetworkInterfaceEffectiveRouteTableList.network.json")
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	rs, err := NewRouter(NewEvaluator(n, Config{}), RouteConfig{}).EffectiveRoutes(nicID)
	if err != nil {
		t.Fatal(err)
	}
	if got, w := mustJSONText(t, rs.Effective()), mustJSONText(t, want); got != w {
		t.Fatalf("got  %s\nwant %s", got, w)
	}
	raw := mustJSONText(t, rs.Effective())
	for _, key := range []string{`"name":null`, `"disableBgpRoutePropagation":false`, `"hasBgpOverride":false`, `"nextLink":null`, `"nextHopIpAddress":[]`} {
		if !strings.Contains(raw, key) {
			t.Errorf("output lacks %s: %s", key, raw)
		}
	}
}

// TestNextHopRequestParsing reads request bodies in the current and 2017
// spellings, any case, and in an ARM envelope.
func TestNextHopRequestParsing(t *testing.T) {
	want := NextHopRequest{TargetResourceID: "vm1", SourceIPAddress: "10.0.0.4", DestinationIPAddress: "8.8.8.8", TargetNICResourceID: "nic1"}
	for _, body := range []string{
		`{"targetResourceId":"vm1","sourceIPAddress":"10.0.0.4","destinationIPAddress":"8.8.8.8","targetNicResourceId":"nic1"}`,
		`{"TargetResourceId":"vm1","sourceIpAddress":"10.0.0.4","destinationIpAddress":"8.8.8.8","TARGETNICRESOURCEID":"nic1"}`,
		`{"parameters":{"api-version":"2017-03-01","parameters":{"targetResourceId":"vm1","sourceIpAddress":"10.0.0.4","destinationIpAddress":"8.8.8.8","targetNicResourceId":"nic1"}}}`,
	} {
		got, err := ParseNextHopRequest([]byte(body))
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v", body, got, err)
		}
	}
	if _, err := ParseNextHopRequest([]byte(`{"targetResourceId": 7}`)); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad body: %v", err)
	}
}

// TestNextHopErrors checks the requests that cannot be answered.
func TestNextHopErrors(t *testing.T) {
	rt := NewRouter(loadRouteScenario(t, "../testdata/routes/spec7-default-routes"), RouteConfig{})
	for _, c := range []struct {
		req  NextHopRequest
		want error
	}{
		{NextHopRequest{TargetResourceID: "vm1", SourceIPAddress: "10.0.0.4"}, ErrBadRequest},
		{NextHopRequest{TargetResourceID: "vm1", SourceIPAddress: "10.0.0.4", DestinationIPAddress: "8.8.8.8/32"}, ErrBadAddress},
		{NextHopRequest{TargetResourceID: "vm1", SourceIPAddress: "10.0.0.4", DestinationIPAddress: "2001:db8::1"}, ErrBadRequest},
		{NextHopRequest{TargetResourceID: "vm1", SourceIPAddress: "10.0.0.5", DestinationIPAddress: "8.8.8.8"}, ErrBadRequest},
		{NextHopRequest{TargetResourceID: "nosuchvm", SourceIPAddress: "10.0.0.4", DestinationIPAddress: "8.8.8.8"}, ErrBadRequest},
		{NextHopRequest{TargetResourceID: "vm1", TargetNICResourceID: "nosuchnic", SourceIPAddress: "10.0.0.4", DestinationIPAddress: "8.8.8.8"}, topology.ErrNotFound},
	} {
		if _, err := rt.NextHop(c.req); !errors.Is(err, c.want) {
			t.Errorf("%+v: error %v, want %v", c.req, err, c.want)
		}
	}
	if _, err := rt.EffectiveRoutes("nosuchnic"); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("unknown NIC: %v", err)
	}
}

// TestNextHopSentence prints answers for people.
func TestNextHopSentence(t *testing.T) {
	rt := NewRouter(loadRouteScenario(t, "../testdata/routes/spec7-forced-tunnel"), RouteConfig{})
	for _, c := range []struct{ dst, want string }{
		{"8.8.8.8", "10.0.1.4 to 8.8.8.8: next hop VirtualAppliance 10.1.0.4, by user route default-to-nva (0.0.0.0/0) of route table to-nva"},
		{"10.1.0.4", "10.0.1.4 to 10.1.0.4: next hop VnetPeering, by system route 10.1.0.0/16 (peering to-vnet2 to VNet vnet2)"},
		{"10.0.3.3", "10.0.1.4 to 10.0.3.3: next hop VnetLocal, by system route 10.0.0.0/16 (address space of VNet vnet1)"},
	} {
		a, err := rt.NextHop(NextHopRequest{TargetResourceID: "app", SourceIPAddress: "10.0.1.4", DestinationIPAddress: c.dst})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Sentence(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	a, err := rt.NextHop(NextHopRequest{TargetResourceID: "quarantined", SourceIPAddress: "10.0.9.4", DestinationIPAddress: "192.168.7.7"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Sentence(), "10.0.9.4 to 192.168.7.7: next hop None (dropped), by system route 192.168.0.0/16 (reserved prefix)"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestRouteLookupNoAllocs holds Lookup to zero allocations.
func TestRouteLookupNoAllocs(t *testing.T) {
	rs := NewRouter(loadRouteScenario(t, "../testdata/routes/spec7-forced-tunnel"), RouteConfig{})
	routes, err := rs.EffectiveRoutes("app-nic")
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.MustParseAddr("10.1.2.3")
	if n := testing.AllocsPerRun(1000, func() { routes.Lookup(dst) }); n != 0 {
		t.Errorf("Lookup: %v allocations", n)
	}
}

// TestRouteNotes builds routes from exports that lack something and
// checks that each gap is noted and the routes still make sense.
func TestRouteNotes(t *testing.T) {
	const p = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/"
	doc := `{"value": [
	 {"id": "` + p + `virtualNetworks/lone/subnets/orphan", "properties": {"addressPrefix": "10.9.1.0/24",
	   "routeTable": {"id": "` + p + `routeTables/missing"}, "serviceEndpoints": [{"service": "Microsoft.Storage"}]}},
	 {"id": "` + p + `virtualNetworks/hub", "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
	   "subnets": [{"name": "GatewaySubnet", "properties": {"addressPrefix": "10.0.255.0/27"}}],
	   "virtualNetworkPeerings": [{"name": "hub-to-spoke", "properties": {"remoteVirtualNetwork": {"id": "` + p + `virtualNetworks/spoke"},
	     "allowGatewayTransit": false, "peeringState": "Connected"}}]}},
	 {"id": "` + p + `virtualNetworks/spoke", "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
	   "subnets": [{"name": "app", "properties": {"addressPrefix": "10.1.1.0/24", "routeTable": {"id": "` + p + `routeTables/rt"}}}],
	   "virtualNetworkPeerings": [{"name": "spoke-to-hub", "properties": {"remoteVirtualNetwork": {"id": "` + p + `virtualNetworks/hub"},
	     "useRemoteGateways": true, "peeringState": "Connected"}}]}},
	 {"id": "` + p + `routeTables/rt", "properties": {"routes": [
	   {"name": "to-gw", "properties": {"addressPrefix": "10.50.0.0/16", "nextHopType": "VirtualNetworkGateway"}},
	   {"name": "storage", "properties": {"addressPrefix": "Storage", "nextHopType": "Internet"}}]}},
	 {"id": "` + p + `virtualNetworkGateways/gw", "properties": {"gatewayType": "Vpn",
	   "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": "` + p + `virtualNetworks/hub/subnets/GatewaySubnet"}}}],
	   "learnedRoutes": [{"network": "192.168.7.0/24", "nextHop": "10.0.255.40", "origin": "EBgp"}]}}
	]}`
	n := topology.New()
	if _, err := n.Add("notes.json", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	n.Resolve()
	rt := NewRouter(NewEvaluator(n, Config{}), RouteConfig{})
	routesOf := func(subnet string) *Routes {
		s, err := n.Subnet(subnet)
		if err != nil {
			t.Fatal(err)
		}
		return rt.RoutesOf(s)
	}
	hasNote := func(rs *Routes, part string) {
		t.Helper()
		for _, n := range rs.Notes {
			if strings.Contains(n, part) {
				return
			}
		}
		t.Errorf("no note with %q: %q", part, rs.Notes)
	}

	orphan := routesOf("lone/orphan")
	hasNote(orphan, "address space of VNet lone is not in the export")
	hasNote(orphan, "route table "+p+"routeTables/missing")
	hasNote(orphan, "service endpoint Microsoft.Storage")
	if r := orphan.Lookup(netip.MustParseAddr("10.9.1.7")); r == nil || r.Hop != HopVnetLocal || r.Prefix.String() != "10.9.1.0/24" {
		t.Errorf("the subnet's prefix stands in for the VNet's: %+v", r)
	}

	app := routesOf("spoke/app")
	hasNote(app, "does not allow gateway transit")
	hasNote(app, `"Storage"`)
	hasNote(app, "route to-gw: next hop VirtualNetworkGateway, but no VPN gateway serves the VNet")
	if r := app.Lookup(netip.MustParseAddr("192.168.7.7")); r == nil || r.Hop != HopNone {
		t.Errorf("no gateway transit: %+v", r)
	}
	if r := app.Lookup(netip.MustParseAddr("10.50.1.1")); r == nil || r.Hop != HopVirtualNetworkGateway || r.HopIP.IsValid() || r.Source != SourceUser {
		t.Errorf("user route to a missing gateway: %+v", r)
	}

	gws := routesOf("hub/GatewaySubnet")
	hasNote(gws, "gateway gw: no address in the export")
	if r := gws.Lookup(netip.MustParseAddr("192.168.7.7")); r == nil || r.Source != SourceGateway || r.HopIP.IsValid() {
		t.Errorf("learned route of a gateway without addresses: %+v", r)
	}
}
