// Package topology loads exported Azure networking resources (JSON) into
// a typed model, Network: VNets with their subnets and peerings, NICs
// with their IP configurations and ASG memberships, NSGs with their user
// and default security rules, route tables, ASGs, VMs, virtual and local
// network gateways, connections and public IPs. It exists so that the
// evaluators of package ipflow (IP flow verify, next hop, security group
// view) can answer offline from what users export, the way Network
// Watcher answers online. The semantics it follows are in
// ../shared/spec/network-watcher.md (§1.4 default rules, §6 input shapes).
//
// # Input
//
// Users export in several dialects, often mixed in one directory. Load
// (files or directories) and Network.Add (one file's bytes) accept them
// all, one JSON value per file or several after one another, UTF-8 or
// UTF-16:
//
//   - REST / ARM GET bodies ({id, name, type, location, properties: {…}}),
//     REST lists ({"value": […]}) and Resource Graph rows ({"data": […]});
//   - ARM example envelopes from azure-rest-api-specs: the body of
//     responses.200 (else another 2xx) and the request bodies under
//     parameters that are resources, whose id the path parameters give;
//   - ARM templates ({"$schema", "resources": […]}), child resources nested
//     or top-level. Templates hold no ids: ids are built in
//     Network.TemplateScope. resourceId() with literal arguments is
//     resolved; any other expression ([parameters(…)], [variables(…)], …)
//     is reported as a ProblemExpression and its value ignored;
//   - az CLI show and list output (no properties wrapper, camelCase such
//     as privateIpAddress and enableIpForwarding, explicit nulls, arrays),
//     and create output, whether wrapped ({"NewNSG": {…}}, {"newVNet": …})
//     or not;
//   - PowerShell Get-Az… | ConvertTo-Json output (PascalCase, single values
//     as arrays).
//
// Keys compare ignoring case; null, a missing key and [] mean the same. A
// resource's type comes from its type field, else from its id, else from
// its shape. Children (subnets, peerings, security rules, default rules,
// IP configurations, routes) are read both nested in their parent and
// exported on their own, and merge into the parent by id; a child whose
// parent is not exported gets an Implicit parent. A resource defined more
// than once is merged field by field, the later definition winning where
// both give a value (disagreements are reported as ProblemConflict).
// Network Watcher results (verify, next hop, security group view,
// topology, effective routes and rules) are recognised and skipped: they
// describe no resource.
//
// # Model
//
// Ids keep the spelling of the export; maps are keyed by CanonicalID (lower
// case, no trailing slash), and every lookup compares ids that way. The
// model keeps the rules' tokens as written — address prefixes, port
// ranges, service tags — and normalises only the case of enums
// (Inbound/Outbound, Allow/Deny, protocol Tcp|Udp|Icmp|Esp|Ah|*, next hop
// types in the REST spelling). What the tokens match is ipflow's job;
// ParsePortRange and ParseAddressPrefix read them.
//
// Resolve fills what the export leaves implicit, as the spec decides:
//
//   - the six default security rules of §1.4, for every NSG whose export
//     lacks them (ARM templates, PUT bodies), with Azure's names, ids
//     (NSG id + "/defaultSecurityRules/NAME") and descriptions;
//   - references from back-references: an NSG's subnets[] and
//     networkInterfaces[], a route table's subnets[], a subnet's
//     ipConfigurations[], a public IP's ipConfiguration, a VM's NICs and a
//     NIC's VM, wherever the other end names nothing;
//   - a VM that names no NIC (the summary az vm create prints) is linked
//     to the one NIC of its resource group holding its private IP;
//   - a peering without allowVirtualNetworkAccess allows it, as Azure
//     does on create.
//
// # Problems
//
// Anything wrong or unusable in an export is a Problem with the file, a
// JSON path ($.resources[3].properties.securityRules[1]) and a kind:
// dangling references, duplicate user-rule priorities within a direction
// of one NSG, bad prefixes and port ranges, ASGs spanning VNets, template
// expressions, unknown resource types, bad values. Loading goes on past
// them and keeps what it can. Only a file that is not JSON at all is an
// error (*SyntaxError, with byte offset, line and column).
//
// This package does no evaluation and no I/O beyond Load reading files.
package topology
