// Package ipflow answers Azure Network Watcher's questions offline, over a
// topology.Network loaded from exported resource JSON: IP flow verify
// ("is this packet allowed, and by which rule?") and security group view
// (the rules that really apply to a NIC), with Azure's request and
// response shapes and the semantics of ../shared/spec/network-watcher.md.
//
// Rules are compiled once (Compile) into sets: protocol numbers, address
// sets with service tags and application security groups resolved as seen
// from the evaluated NIC (VirtualNetwork depends on the VNet, its peerings,
// gateways and the subnet's user routes), and port ranges. Two evaluators
// find the first matching rule of an NSG: Linear, the obviously correct
// reference, and Classifier, the Lakshman–Stiliadis bit-vector scheme (per
// dimension elementary intervals holding the bit vector of the rules that
// cover them; a lookup ANDs five vectors and takes the lowest bit). A
// differential fuzz test holds them to the same answers. Classifier.Expand
// splits ranges of addresses and ports into the parts one rule decides, so
// a request may ask about 0.0.0.0/0 or ports 0-65535 at once.
//
// Decisions the spec marks [X], in short: when every NSG allows, the rule
// of the last NSG evaluated is reported; with no NSG the answer is Allow
// with an empty rule name and a note; a source port "*" matches every
// source-port condition; port conditions other than "*" never match
// protocols without ports; Icmp matches ICMP and ICMPv6; the UDR prefixes
// counted in VirtualNetwork are those of the evaluated NIC's subnet; a
// peering counts when connected (or its state is not exported) and it
// allows virtual network access; Internet is the configurable list in
// DefaultInternet; a service tag without prefixes is an error naming it.
//
// Router answers next hop and effective routes (spec §3) from each
// subnet's routes (system, peering, gateway, service endpoint and user
// routes, with Azure's precedence and its exceptions), chosen with a bart
// longest-prefix table checked against a linear reference. At an
// identical prefix, VNet, peering and service endpoint routes beat BGP
// routes: Azure prefers them even over more specific BGP routes, though
// spec §3.2 step 2 read alone says otherwise (see classProtected).
// Shadows finds rules that earlier rules make unreachable.
//
// Not done here: replay of flow datasets against changed rules, and
// Virtual Network Manager admin rules.
package ipflow
