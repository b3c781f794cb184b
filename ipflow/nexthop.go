package ipflow

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// NextHopRequest is the body of Network Watcher's next hop request
// (NextHopParameters). Keys match ignoring case, so the 2017 spellings
// sourceIpAddress and destinationIpAddress are read too.
type NextHopRequest struct {
	TargetResourceID     string `json:"targetResourceId"`
	SourceIPAddress      string `json:"sourceIPAddress"`
	DestinationIPAddress string `json:"destinationIPAddress"`
	TargetNICResourceID  string `json:"targetNicResourceId,omitempty"`
}

// NextHopResult is the body of Azure's response (NextHopResult).
// NextHopIPAddress is null unless the next hop has an address (an
// appliance or a gateway); RouteTableID is the id of the route table
// whose user route won, else "System Route".
type NextHopResult struct {
	NextHopType      string  `json:"nextHopType"`
	NextHopIPAddress *string `json:"nextHopIpAddress"`
	RouteTableID     string  `json:"routeTableId"`
}

// SystemRoute is the routeTableId of an answer that no user route gave.
const SystemRoute = "System Route"

// ParseNextHopRequest reads a request body, or an ARM example envelope
// holding one under parameters.parameters. Keys match ignoring case.
func ParseNextHopRequest(data []byte) (NextHopRequest, error) {
	return parseRequestBody[NextHopRequest](data)
}

// NextHopAnswer is the answer to a next hop request: Azure's result plus
// the route that gave it.
type NextHopAnswer struct {
	NextHopResult
	Source      string `json:"sourceIPAddress"`
	Destination string `json:"destinationIPAddress"`
	NIC         string `json:"nic"` // the NIC whose routes were used
	Subnet      string `json:"subnet"`
	// Route is the chosen route, nil when none covers the destination.
	Route *Route `json:"-"`
	// RouteTable is the name of the route table of a user route.
	RouteTable string `json:"routeTable,omitempty"`
	// Notes say what the answer rests on beyond the export, or what the
	// export lacked.
	Notes []string `json:"notes,omitempty"`
}

// Sentence describes the answer for a person, e.g. "10.1.2.4 to 8.8.8.8:
// next hop VirtualAppliance 10.100.0.4, by user route default-to-fw
// (0.0.0.0/0) of route table to-fw".
func (a *NextHopAnswer) Sentence() string {
	hop := a.NextHopType
	if a.NextHopIPAddress != nil {
		hop += " " + *a.NextHopIPAddress
	}
	if a.NextHopType == HopNone.String() {
		hop += " (dropped)"
	}
	head := a.Source + " to " + a.Destination + ": next hop " + hop
	r := a.Route
	switch {
	case r == nil:
		return head + ", no route covers the destination"
	case r.Source == SourceUser:
		return fmt.Sprintf("%s, by user route %s (%s) of route table %s", head, r.Name, r.Prefix, a.RouteTable)
	case r.Source == SourceGateway:
		return fmt.Sprintf("%s, by gateway route %s (%s)", head, r.Prefix, r.Origin)
	}
	return fmt.Sprintf("%s, by system route %s (%s)", head, r.Prefix, r.Origin)
}

// NextHop answers a next hop request: it finds the NIC (targetNicResourceId,
// else the NIC of the target VM that owns sourceIPAddress; ids or
// unambiguous names), takes the effective routes of its subnet and looks
// the destination up. When no route covers the destination (IPv6 in a
// VNet without IPv6 address space) the answer is None with no Route.
func (r *Router) NextHop(req NextHopRequest) (*NextHopAnswer, error) {
	src, err := parseOneAddr(req.SourceIPAddress)
	if err != nil {
		return nil, fmt.Errorf("%w: sourceIPAddress: %w", ErrBadRequest, err)
	}
	dst, err := parseOneAddr(req.DestinationIPAddress)
	if err != nil {
		return nil, fmt.Errorf("%w: destinationIPAddress: %w", ErrBadRequest, err)
	}
	if src.Is4() != dst.Is4() {
		return nil, fmt.Errorf("%w: sourceIPAddress %s and destinationIPAddress %s are of different families", ErrBadRequest, src, dst)
	}
	t, err := r.ev.resolveTarget(req.TargetResourceID, req.TargetNICResourceID, src)
	if err != nil {
		return nil, err
	}
	if t.Subnet == nil {
		return nil, fmt.Errorf("%w: %s of network interface %s", ErrNoSubnet, t.IPConfig.SubnetID, t.NIC.Name)
	}
	rs := r.RoutesOf(t.Subnet)
	a := &NextHopAnswer{
		NextHopResult: NextHopResult{NextHopType: HopNone.NextHopType(), RouteTableID: SystemRoute},
		Source:        src.String(), Destination: dst.String(), NIC: t.NIC.Name, Subnet: t.Subnet.Name,
		Notes: slices.Clone(rs.Notes),
	}
	if !src.Is4() {
		a.Notes = append(a.Notes, "Azure's next hop takes only IPv4; this answer comes from the routes")
	}
	rt := rs.Lookup(dst)
	a.Route = rt
	if rt == nil {
		return a, nil
	}
	a.NextHopType = rt.Hop.NextHopType()
	if rt.HopIP.IsValid() {
		ip := rt.HopIP.String()
		a.NextHopIPAddress = &ip
	}
	if rt.Source == SourceUser {
		a.RouteTableID = rt.RouteTableID
		if rs.Table != nil {
			a.RouteTable = rs.Table.Name
		}
	}
	return a, nil
}

// parseOneAddr reads one IP address, unmapped.
func parseOneAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, errors.New("missing")
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w %q (want one IP address)", ErrBadAddress, s)
	}
	return a.Unmap(), nil
}
