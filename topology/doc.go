// Package topology will load exported Azure resource JSON into a typed
// network model (VNets, subnets, NICs, NSGs, route tables, peerings) and
// draw it. Not implemented yet (issues 4 and 5).
package topology
