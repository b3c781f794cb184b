package topology

import (
	"fmt"
	"strings"
	"testing"
)

// benchExport is one az CLI style list of nsgs NSGs with rules rules
// each, one VNet with a subnet per NSG, and a NIC per subnet.
func benchExport(nsgs, rules int) []byte {
	var b strings.Builder
	b.WriteString("[")
	base := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"
	fmt.Fprintf(&b, `{"id": "%s/virtualNetworks/v", "addressSpace": {"addressPrefixes": ["10.0.0.0/8"]}, "subnets": [`, base)
	for i := range nsgs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name": "s%d", "addressPrefix": "10.%d.%d.0/24", "networkSecurityGroup": {"id": "%s/networkSecurityGroups/g%d"}}`,
			i, i/256, i%256, base, i)
	}
	b.WriteString("]}")
	for i := range nsgs {
		fmt.Fprintf(&b, `,{"id": "%s/networkSecurityGroups/g%d", "location": "westus", "securityRules": [`, base, i)
		for j := range rules {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"name": "r%d", "priority": %d, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
			  "sourceAddressPrefixes": ["10.%d.0.0/16", "VirtualNetwork"], "sourcePortRange": "*",
			  "destinationAddressPrefix": "*", "destinationPortRanges": ["%d", "%d-%d"]}`, j, 100+j, j%256, j, 1000+j, 2000+j)
		}
		fmt.Fprintf(&b, `]},{"id": "%s/networkInterfaces/n%d", "ipConfigurations": [{"name": "c", "privateIpAddress": "10.%d.%d.4",
		  "subnet": {"id": "%s/virtualNetworks/v/subnets/s%d"}}]}`, base, i, i/256, i%256, base, i)
	}
	b.WriteString("]")
	return []byte(b.String())
}

// go test ./topology -run '^$' -bench Load -benchmem -count 6
func BenchmarkLoad(b *testing.B) {
	for _, size := range []struct{ nsgs, rules int }{{10, 100}, {100, 100}} {
		data := benchExport(size.nsgs, size.rules)
		b.Run(fmt.Sprintf("%dnsgs-%drules", size.nsgs, size.rules), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				n := New()
				if _, err := n.Add("bench.json", data); err != nil {
					b.Fatal(err)
				}
				if p := n.Resolve(); len(p) != 0 {
					b.Fatal(p)
				}
			}
		})
	}
}
