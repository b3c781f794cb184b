// Package ipflow will hold the evaluators over a topology.Network: IP flow
// verify, next hop, security group view and replay of flows against changed
// rules. Not implemented yet (issues 4 and 5).
package ipflow
