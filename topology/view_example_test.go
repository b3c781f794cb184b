package topology_test

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/flowlens/flowlens/topology"
)

// Answer Network Watcher's topology request for a subnet, and list the
// resources with their associations.
func ExampleNetwork_View() {
	n, _, err := topology.Load("../testdata/topology/scenarios/rest")
	if err != nil {
		fmt.Println(err)
		return
	}
	req, err := topology.ParseViewRequest([]byte(`{"targetSubnet": {"id": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-demo/providers/Microsoft.Network/virtualNetworks/vnet-demo/subnets/web"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := n.View(req, topology.ViewOptions{Time: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Title())
	for _, r := range v.Resources {
		fmt.Println(r.Name)
		for _, a := range r.Associations {
			fmt.Println("   ", a.AssociationType, a.Name)
		}
	}
	// Output:
	// subnet vnet-demo/web
	// web
	//     Associated nsg-web
	//     Associated rt-web
	// vm1
	//     Contains nic-vm1
	// nic-vm1
	//     Associated vm1
	//     Associated nsg-nic
	//     Associated web
	// nsg-nic
	//     Contains allow-ssh-from-app
	// allow-ssh-from-app
	// nsg-web
	//     Contains allow-app-out
	//     Contains allow-https
	//     Contains deny-rdp
	// allow-app-out
	// allow-https
	// deny-rdp
	// rt-web
	//     Contains default
	//     Contains storage
	// default
	// storage
}

// Azure's JSON for a resource group: resources[] with their
// associations, times as Azure writes them.
func ExampleView_MarshalJSON() {
	n, _, err := topology.Load("../testdata/topology/view/azure-example/MultiTierApp0.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := n.View(topology.ViewRequest{TargetResourceGroupName: "rg2"},
		topology.ViewOptions{Time: time.Date(2017, 8, 2, 19, 31, 55, 946178100, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	v.ID = "(a UUID of the request and the network)"
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	// Output:
	// {
	//   "id": "(a UUID of the request and the network)",
	//   "createdDateTime": "2017-08-02T19:31:55.9461781Z",
	//   "lastModified": "2017-08-02T19:31:55.9461781Z",
	//   "resources": [
	//     {
	//       "name": "MultiTierApp0",
	//       "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg2/providers/Microsoft.Compute/virtualMachines/MultiTierApp0",
	//       "location": "westus",
	//       "associations": [
	//         {
	//           "name": "appNic0",
	//           "resourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg2/providers/Microsoft.Network/networkInterfaces/appNic0",
	//           "associationType": "Contains"
	//         },
	//         {
	//           "name": "appNic10",
	//           "resourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg2/providers/Microsoft.Network/networkInterfaces/appNic10",
	//           "associationType": "Contains"
	//         }
	//       ]
	//     }
	//   ]
	// }
}

// Draw a resource group as SVG; the picture needs no Graphviz.
func ExampleView_WriteSVG() {
	n, _, err := topology.Load("../testdata/topology/scenarios/rest")
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := n.View(topology.ViewRequest{TargetResourceGroupName: "rg-demo"}, topology.ViewOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := os.CreateTemp("", "topology-*.svg")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := v.WriteSVG(f); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("drawn:", v.Title())
	// Output:
	// drawn: resource group rg-demo
}
