package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/flowlens/flowlens/ipflow"
	"github.com/flowlens/flowlens/topology"
)

type sgviewOptions struct {
	networkOptions
	request, target, output string
	effectiveNSGs           bool
}

func newSGViewCmd() *cobra.Command {
	o := sgviewOptions{}
	c := &cobra.Command{
		Use:   "sgview --network PATH (--request FILE | --target VM)",
		Short: "Security group view: the rules that really apply to a VM's NICs",
		Long: `Answer Network Watcher's security group view offline. --request reads the
request body ({"targetResourceId": VM id}); --target takes a VM or NIC by id
or name. Prints Azure's SecurityGroupViewResult: per NIC the NIC's and the
subnet's NSG with their rules, the default rules, and the effective rules
with ports as N-M, * as 0.0.0.0/0, and service tags and ASGs expanded.
-o text prints the effective rules per direction in evaluation order.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSGView(o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.bind(c)
	f := c.Flags()
	f.StringVar(&o.request, "request", "", "security group view request body (JSON file, - for stdin)")
	f.StringVar(&o.target, "target", "", "VM or NIC, by id or name")
	f.StringVarP(&o.output, "output", "o", "json", "json or text")
	f.BoolVar(&o.effectiveNSGs, "effective-nsgs", false, "print the NIC's effective network security groups (Azure's effectiveNetworkSecurityGroups shape) instead")
	return c
}

func runSGView(o sgviewOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.output != "json" && o.output != "text" {
		return usagef("-o %q: want json or text", o.output)
	}
	if (o.request == "") == (o.target == "") {
		return usagef("give one of --request or --target")
	}
	ev, err := o.load(stderr)
	if err != nil {
		return err
	}
	target := o.target
	if o.request != "" {
		data, err := readInput(o.request, stdin)
		if err != nil {
			return err
		}
		req, err := ipflow.ParseSecurityGroupViewRequest(data)
		if err != nil {
			return fmt.Errorf("%s: %w", o.request, err)
		}
		target = req.TargetResourceID
		if target == "" {
			return fmt.Errorf("%s: no targetResourceId", o.request)
		}
	}
	if o.effectiveNSGs {
		list, err := ev.EffectiveNetworkSecurityGroups(target)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	view, err := ev.SecurityGroupView(target)
	if err != nil {
		return err
	}
	if o.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(view)
	}
	return printEffectiveRules(stdout, view)
}

func printEffectiveRules(w io.Writer, view *ipflow.SecurityGroupViewResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, nic := range view.NetworkInterfaces {
		a := nic.SecurityRuleAssociations
		fmt.Fprintf(tw, "NIC %s\n", topology.IDName(nic.ID))
		if a.SubnetAssociation != nil {
			fmt.Fprintf(tw, "  subnet %s: NSG with %d rules\n", topology.IDName(a.SubnetAssociation.ID), len(a.SubnetAssociation.SecurityRules))
		} else {
			fmt.Fprintln(tw, "  subnet: no NSG")
		}
		if a.NetworkInterfaceAssociation != nil {
			fmt.Fprintf(tw, "  NIC: NSG with %d rules\n", len(a.NetworkInterfaceAssociation.SecurityRules))
		} else {
			fmt.Fprintln(tw, "  NIC: no NSG")
		}
		for _, dir := range []string{"Inbound", "Outbound"} {
			fmt.Fprintf(tw, "\n  %s, in evaluation order\n", dir)
			fmt.Fprintln(tw, "  PRIORITY\tNAME\tACCESS\tPROTOCOL\tSOURCE\tSOURCE PORTS\tDESTINATION\tDESTINATION PORTS\t")
			for _, r := range a.EffectiveSecurityRules {
				if r.Direction != dir {
					continue
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", strconv.Itoa(r.Priority), r.Name, r.Access, r.Protocol,
					strings.Join(r.SourceAddressPrefixes, ","), strings.Join(r.SourcePortRanges, ","),
					strings.Join(r.DestinationAddressPrefixes, ","), strings.Join(r.DestinationPortRanges, ","))
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
