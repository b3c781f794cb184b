package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/flowlens/flowlens/ipflow"
)

// routeOptions are the flags of the commands that compute routes.
type routeOptions struct {
	networkOptions
	reserved string
}

func (o *routeOptions) bind(c *cobra.Command) {
	o.networkOptions.bind(c)
	c.Flags().StringVar(&o.reserved, "reserved", "documented", "reserved None prefixes: documented (10/8, 100.64/10, 172.16/12, 192.168/16) or 2021-observed")
}

// router loads the network and returns a router over it.
func (o *routeOptions) router(stderr io.Writer) (*ipflow.Router, error) {
	reserved, err := ipflow.ReservedProfile(o.reserved)
	if err != nil {
		return nil, usagef("--reserved: %v", err)
	}
	ev, err := o.load(stderr)
	if err != nil {
		return nil, err
	}
	return ipflow.NewRouter(ev, ipflow.RouteConfig{Reserved: reserved}), nil
}

type nextHopOptions struct {
	routeOptions
	request, output string
	req             ipflow.NextHopRequest
}

func newNextHopCmd() *cobra.Command {
	o := nextHopOptions{}
	c := &cobra.Command{
		Use:   "nexthop --network PATH (--request FILE | --target VM --source IP --destination IP [--nic NIC])",
		Short: "Next hop: where a packet from a VM goes, and by which route",
		Long: `Answer Network Watcher's next hop offline, from exported resource JSON.

--request reads the request body Azure takes (targetResourceId,
sourceIPAddress, destinationIPAddress, targetNicResourceId; the 2017
spellings sourceIpAddress and destinationIpAddress too) and prints Azure's
response body ({"nextHopType", "nextHopIpAddress", "routeTableId"}, the
route table's id when a user route won, else "System Route"). The flags ask
the same without a file; --target and --nic take a VM or NIC by id or name.
-o text prints a sentence naming the route.

Peerings answer VnetPeering and service endpoints
VirtualNetworkServiceEndpoint (the API's enum has neither).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNextHop(o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.bind(c)
	f := c.Flags()
	f.StringVar(&o.request, "request", "", "next hop request body (JSON file, - for stdin)")
	f.StringVarP(&o.output, "output", "o", "json", "json or text")
	f.StringVar(&o.req.TargetResourceID, "target", "", "VM or NIC, by id or name")
	f.StringVar(&o.req.TargetNICResourceID, "nic", "", "the VM's NIC, by id or name")
	f.StringVar(&o.req.SourceIPAddress, "source", "", "the VM's private address")
	f.StringVar(&o.req.DestinationIPAddress, "destination", "", "the destination address")
	return c
}

func runNextHop(o nextHopOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.output != "json" && o.output != "text" {
		return usagef("-o %q: want json or text", o.output)
	}
	flags := o.req.TargetResourceID != "" || o.req.TargetNICResourceID != "" || o.req.SourceIPAddress != "" || o.req.DestinationIPAddress != ""
	switch {
	case o.request != "" && flags:
		return usagef("give --request or the flags (--target, --source, --destination), not both")
	case o.request == "" && (o.req.TargetResourceID == "" && o.req.TargetNICResourceID == "" || o.req.SourceIPAddress == "" || o.req.DestinationIPAddress == ""):
		return usagef("give --request, or --target (or --nic) with --source and --destination")
	}
	rt, err := o.router(stderr)
	if err != nil {
		return err
	}
	req := o.req
	if o.request != "" {
		data, err := readInput(o.request, stdin)
		if err != nil {
			return err
		}
		if req, err = ipflow.ParseNextHopRequest(data); err != nil {
			return fmt.Errorf("%s: %w", o.request, err)
		}
	}
	a, err := rt.NextHop(req)
	if err != nil {
		return err
	}
	for _, n := range a.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	if o.output == "text" {
		_, err := fmt.Fprintln(stdout, a.Sentence())
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(a.NextHopResult)
}

type routesOptions struct {
	routeOptions
	nic, subnet, output string
}

func newRoutesCmd() *cobra.Command {
	o := routesOptions{}
	c := &cobra.Command{
		Use:   "routes --network PATH (--nic NIC | --subnet SUBNET)",
		Short: "Effective routes: every route a NIC's subnet has, and which are used",
		Long: `List the effective routes of a NIC offline, from exported resource JSON, as
Network Watcher's effectiveRouteTable does: system routes (VNet address
space, peerings, the Internet default, the reserved None prefixes, service
endpoints), gateway routes (local network gateways, BGP) and the user routes
of the subnet's route table, each Active or Invalid.

Prints Azure's response body ({"value": [{name, source, state,
addressPrefix[], nextHopIpAddress[], nextHopType,
disableBgpRoutePropagation, hasBgpOverride}], "nextLink": null});
-o table prints a table a person reads. --nic takes a NIC by id or name,
--subnet a subnet by id, name or VNET/SUBNET. Service endpoint routes and
service-tag user routes need --service-tags.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRoutes(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.bind(c)
	f := c.Flags()
	f.StringVar(&o.nic, "nic", "", "network interface, by id or name")
	f.StringVar(&o.subnet, "subnet", "", "subnet, by id, name or VNET/SUBNET (instead of --nic)")
	f.StringVarP(&o.output, "output", "o", "json", "json or table")
	return c
}

func runRoutes(o routesOptions, stdout, stderr io.Writer) error {
	if o.output != "json" && o.output != "table" {
		return usagef("-o %q: want json or table", o.output)
	}
	if (o.nic == "") == (o.subnet == "") {
		return usagef("give one of --nic or --subnet")
	}
	rt, err := o.router(stderr)
	if err != nil {
		return err
	}
	var rs *ipflow.Routes
	what := ""
	if o.nic != "" {
		if rs, err = rt.EffectiveRoutes(o.nic); err != nil {
			return err
		}
		what = "network interface " + o.nic + ", "
	} else {
		s, err := rt.Evaluator().Network().Subnet(o.subnet)
		if err != nil {
			return err
		}
		rs = rt.RoutesOf(s)
	}
	for _, n := range rs.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	list := rs.Effective()
	if o.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	table := "no route table"
	if rs.Table != nil {
		table = "route table " + rs.Table.Name
		if rs.Table.DisableBGPRoutePropagation {
			table += " (BGP route propagation disabled)"
		}
	}
	vnet := routeIDName(rs.Subnet.VNetID)
	fmt.Fprintf(stdout, "Effective routes of %ssubnet %s/%s, %s\n\n", what, vnet, rs.Subnet.Name, table)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATE\tADDRESS PREFIXES\tNEXT HOP TYPE\tNEXT HOP IP\tUSER ROUTE")
	for _, e := range list.Value {
		name := "-"
		if e.Name != nil {
			name = *e.Name
		}
		ips := strings.Join(e.NextHopIPAddress, ", ")
		if ips == "" {
			ips = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Source, e.State, routePrefixList(e.AddressPrefix), e.NextHopType, ips, name)
	}
	return tw.Flush()
}

// routePrefixList joins prefixes, eliding all but three of a long list (a
// service tag's).
func routePrefixList(ps []string) string {
	if len(ps) <= 4 {
		return strings.Join(ps, ", ")
	}
	return fmt.Sprintf("%s, … (%d more)", strings.Join(ps[:3], ", "), len(ps)-3)
}

// routeIDName returns the last segment of a resource id: its name.
func routeIDName(id string) string {
	id = strings.TrimRight(id, "/")
	return id[strings.LastIndexByte(id, '/')+1:]
}
