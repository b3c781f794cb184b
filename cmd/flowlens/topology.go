package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowlens/flowlens/topology"
)

type topologyOptions struct {
	networkOptions
	request, output, at string
	req                 topology.ViewRequest
	vnet, subnet        string
}

// newTopologyCmd returns the topology command: Network Watcher's topology
// answer, or a picture of it.
func newTopologyCmd() *cobra.Command {
	o := topologyOptions{}
	c := &cobra.Command{
		Use:   "topology --network PATH (--request FILE | --resource-group RG | --vnet VNET | --subnet SUBNET | --all) [-o json|dot|svg]",
		Short: "Topology: how a resource group, VNet or subnet is wired, as Azure's JSON or a picture",
		Long: `Answer Network Watcher's topology offline, from exported resource JSON.

--request reads the request body Azure takes ({"targetResourceGroupName": RG},
{"targetVirtualNetwork": {"id": ID}} or {"targetSubnet": {"id": ID}}, or an ARM
example envelope holding one) and prints Azure's response body: the target's
resources, each with its associations (Contains, Associated). The flags ask
the same without a file; --vnet and --subnet take an id or a name
("vnet1", "vnet1/web"); --subscription narrows --resource-group.

Beyond Azure: --all takes every resource group and subscription of the
export at once. -o dot prints a Graphviz picture (VNets containing subnets
containing VMs and NICs; NSGs, route tables, public IPs and gateways
attached; peerings between VNets); -o svg draws a picture in-process, no
Graphviz needed. --time stamps the answer (RFC 3339) instead of the clock.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTopology(o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.bind(c)
	f := c.Flags()
	f.StringVar(&o.request, "request", "", "topology request body (JSON file, - for stdin)")
	f.StringVar(&o.req.TargetResourceGroupName, "resource-group", "", "target resource group, by name")
	f.StringVar(&o.req.Subscription, "subscription", "", "with --resource-group: the resource group's subscription id")
	f.StringVar(&o.vnet, "vnet", "", "target virtual network, by id or name")
	f.StringVar(&o.subnet, "subnet", "", "target subnet, by id or name (NAME or VNET/NAME)")
	f.BoolVar(&o.req.All, "all", false, "every resource group and subscription of the export")
	f.StringVarP(&o.output, "output", "o", "json", "json, dot or svg")
	f.StringVar(&o.at, "time", "", "the answer's createdDateTime and lastModified (RFC 3339); default now")
	return c
}

func runTopology(o topologyOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	switch o.output {
	case "json", "dot", "svg":
	default:
		return usagef("-o %q: want json, dot or svg", o.output)
	}
	modes := 0
	for _, set := range []bool{o.request != "", o.req.TargetResourceGroupName != "", o.vnet != "", o.subnet != "", o.req.All} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return usagef("give one of --request, --resource-group, --vnet, --subnet or --all")
	}
	if o.req.Subscription != "" && o.req.TargetResourceGroupName == "" {
		return usagef("--subscription goes with --resource-group")
	}
	var opt topology.ViewOptions
	if o.at != "" {
		t, err := time.Parse(time.RFC3339Nano, o.at)
		if err != nil {
			return usagef("--time: %v", err)
		}
		opt.Time = t
	}
	req := o.req
	if o.vnet != "" {
		req.TargetVirtualNetwork = &topology.SubResource{ID: o.vnet}
	}
	if o.subnet != "" {
		req.TargetSubnet = &topology.SubResource{ID: o.subnet}
	}
	if o.request != "" {
		data, err := readInput(o.request, stdin)
		if err != nil {
			return err
		}
		if req, err = topology.ParseViewRequest(data); err != nil {
			return fmt.Errorf("%s: %w", o.request, err)
		}
	}
	ev, err := o.load(stderr)
	if err != nil {
		return err
	}
	view, err := ev.Network().View(req, opt)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(stdout)
	switch o.output {
	case "dot":
		err = view.WriteDOT(bw)
	case "svg":
		err = view.WriteSVG(bw)
	default:
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		err = enc.Encode(view)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}
