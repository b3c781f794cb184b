package topology

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi uint16
		ok     bool
	}{
		{"*", 0, 65535, true},
		{"0", 0, 0, true},
		{"80", 80, 80, true},
		{"65535", 65535, 65535, true},
		{"1000-2000", 1000, 2000, true},
		{"0-65535", 0, 65535, true},
		{"443-443", 443, 443, true},
		{"65536", 0, 0, false},
		{"2000-1000", 0, 0, false},
		{"", 0, 0, false},
		{"-", 0, 0, false},
		{"80-", 0, 0, false},
		{"-80", 0, 0, false},
		{" 80", 0, 0, false},
		{"80,443", 0, 0, false},
		{"+80", 0, 0, false},
		{"1-2-3", 0, 0, false},
		{"000080", 0, 0, false},
		{"any", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			for range 2 { // pure: same answer twice
				lo, hi, err := ParsePortRange(tc.in)
				if (err == nil) != tc.ok || lo != tc.lo || hi != tc.hi {
					t.Fatalf("ParsePortRange(%q) = %d, %d, %v", tc.in, lo, hi, err)
				}
				if err != nil && !errors.Is(err, ErrBadPortRange) {
					t.Fatalf("error %v does not wrap ErrBadPortRange", err)
				}
			}
		})
	}
}

func TestParseAddressPrefix(t *testing.T) {
	tests := []struct {
		in     string
		prefix string
		tag    string
		ok     bool
	}{
		{"*", "", "*", true},
		{"10.0.0.4", "10.0.0.4/32", "", true},
		{"10.0.0.0/8", "10.0.0.0/8", "", true},
		{"10.0.0.5/24", "10.0.0.0/24", "", true}, // host bits are masked
		{"0.0.0.0/0", "0.0.0.0/0", "", true},
		{"2001:db8::/32", "2001:db8::/32", "", true},
		{"2001:db8::1", "2001:db8::1/128", "", true},
		{"VirtualNetwork", "", "VirtualNetwork", true},
		{"Storage.WestEurope", "", "Storage.WestEurope", true},
		{"VIRTUAL_NETWORK", "", "VIRTUAL_NETWORK", true},
		{"AzureCloud.west-europe", "", "AzureCloud.west-europe", true},
		{"10.0.0.0/33", "", "", false},
		{"10.0.0.256", "", "", false},
		{"not a tag", "", "", false},
		{"", "", "", false},
		{"1abc", "", "", false},
		{"fe80::1%eth0", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, tag, err := ParseAddressPrefix(tc.in)
			if (err == nil) != tc.ok || tag != tc.tag {
				t.Fatalf("ParseAddressPrefix(%q) = %v, %q, %v", tc.in, p, tag, err)
			}
			if tc.prefix != "" && p != netip.MustParsePrefix(tc.prefix) || tc.prefix == "" && p.IsValid() {
				t.Fatalf("prefix = %v, want %q", p, tc.prefix)
			}
			if err != nil && !errors.Is(err, ErrBadPrefix) {
				t.Fatalf("error %v does not wrap ErrBadPrefix", err)
			}
		})
	}
}

func TestEnums(t *testing.T) {
	for in, want := range map[string]Protocol{"TCP": ProtocolTCP, "tcp": ProtocolTCP, "Udp": ProtocolUDP, "ICMP": ProtocolICMP,
		"esp": ProtocolESP, "AH": ProtocolAH, "*": ProtocolAny, "All": ProtocolAny, "any": ProtocolAny} {
		if got, ok := ParseProtocol(in); !ok || got != want {
			t.Errorf("ParseProtocol(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := ParseProtocol("Gre"); ok {
		t.Error("ParseProtocol(Gre) ok")
	}
	for in, want := range map[string]NextHopType{"vnetlocal": NextHopVnetLocal, "VNetLocal": NextHopVnetLocal,
		"virtualappliance": NextHopVirtualAppliance, "NONE": NextHopNone, "Internet": NextHopInternet,
		"VirtualNetworkGateway": NextHopVirtualNetworkGateway} {
		if got, ok := ParseNextHopType(in); !ok || got != want {
			t.Errorf("ParseNextHopType(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := ParseNextHopType("VNetPeering"); ok {
		t.Error("VNetPeering is not a user route next hop")
	}
	if d, ok := ParseDirection("OUTBOUND"); !ok || d != Outbound {
		t.Errorf("ParseDirection = %q", d)
	}
	if a, ok := ParseAccess("deny"); !ok || a != Deny {
		t.Errorf("ParseAccess = %q", a)
	}
}

func TestIDs(t *testing.T) {
	for in, want := range map[string]string{
		"/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/networkSecurityGroups/NSG/": "/subscriptions/s/resourcegroups/rg/providers/microsoft.network/networksecuritygroups/nsg",
		"subscriptions/S/resourcegroups/rg": "/subscriptions/s/resourcegroups/rg",
		"  ":                                "",
	} {
		if got := CanonicalID(in); got != want {
			t.Errorf("CanonicalID(%q) = %q", in, got)
		}
	}
	id := "/subscriptions/S/resourcegroups/RG/providers/Microsoft.compute/virtualMachines/vm1"
	if k := kindOfID(id); k != kVM {
		t.Errorf("kindOfID = %v", k)
	}
	if k := kindOfID("/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/v/subnets/s"); k != kSubnet {
		t.Errorf("kindOfID subnet = %v", k)
	}
	for _, bad := range []string{"", "/subscriptions/S", "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks",
		"/subscriptions//resourceGroups//providers/Microsoft.Network/networkSecurityGroups//defaultSecurityRules/"} {
		if k := kindOfID(bad); k != kNone {
			t.Errorf("kindOfID(%q) = %v", bad, k)
		}
	}
	if p := parentID("/a/b/providers/X.Y/t/n/c/m/"); p != "/a/b/providers/X.Y/t/n" {
		t.Errorf("parentID = %q", p)
	}
}

func TestLiteralResourceID(t *testing.T) {
	w := &walker{n: &Network{TemplateScope: "/subscriptions/S/resourceGroups/RG"}}
	tests := map[string]string{
		"resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')":        "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
		"resourceId( 'other-rg' , 'Microsoft.Network/networkSecurityGroups','n' )": "/subscriptions/S/resourceGroups/other-rg/providers/Microsoft.Network/networkSecurityGroups/n",
		"resourceId('S2', 'RG2', 'Microsoft.Network/routeTables', 'rt')":           "/subscriptions/S2/resourceGroups/RG2/providers/Microsoft.Network/routeTables/rt",
		"RESOURCEID('Microsoft.Network/routeTables', 'it''s')":                     "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/routeTables/it's",
		"resourceId('Microsoft.Network/routeTables', parameters('x'))":             "",
		"resourceId('Microsoft.Network/virtualNetworks/subnets', 'v')":             "",
		"resourceId('Microsoft.Network/routeTables', 'rt'":                         "",
		"concat('a', 'b')": "",
		"resourceId('a', 'b', 'c', 'Microsoft.Network/routeTables', 'rt')": "",
	}
	for in, want := range tests {
		got, ok := w.literalResourceID(in)
		if got != want || ok != (want != "") {
			t.Errorf("literalResourceID(%q) = %q, %v", in, got, ok)
		}
	}
}

func TestDefaultRuleTable(t *testing.T) {
	for i, d := range defaultRuleTable {
		if d.name != DefaultRuleNames[i] {
			t.Errorf("defaultRuleTable[%d] = %s, DefaultRuleNames[%d] = %s", i, d.name, i, DefaultRuleNames[i])
		}
	}
}
