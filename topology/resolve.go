package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// resolver builds the typed model from the merged fragments.
type resolver struct {
	n       *Network
	probs   []Problem
	pending []pendingRef
}

// pendingRef is a forward reference to check once everything is built.
type pendingRef struct {
	at   val
	id   string
	want kind
	from string // "subnet web", for the message
}

func (r *resolver) problem(at val, k ProblemKind, format string, args ...any) {
	r.probs = append(r.probs, Problem{File: at.file, Path: at.path, Kind: k, Message: fmt.Sprintf(format, args...)})
}

func (r *resolver) problemAt(o Origin, k ProblemKind, format string, args ...any) {
	r.probs = append(r.probs, Problem{File: o.File, Path: o.Path, Kind: k, Message: fmt.Sprintf(format, args...)})
}

// Resolve builds the model from everything added so far: it merges the
// definitions of each resource (by id; a later file's values override an
// earlier one's, absent values override nothing), attaches children to
// their parents (creating Implicit parents the export lacks), fills
// references from back-references (an NSG's subnets[] and
// networkInterfaces[], a route table's subnets[], a subnet's
// ipConfigurations[], a VM's NICs and a NIC's VM), synthesises missing
// default security rules, and indexes private IPs. It returns the
// problems found: dangling references, duplicate priorities, bad
// prefixes and ports, ASGs spanning VNets, bad values. Resolve may be
// called again after more Adds; it starts afresh each time.
func (n *Network) Resolve() []Problem {
	n.VNets = map[string]*VNet{}
	n.Subnets = map[string]*Subnet{}
	n.Peerings = map[string]*Peering{}
	n.NICs = map[string]*NIC{}
	n.IPConfigs = map[string]*IPConfig{}
	n.NSGs = map[string]*NSG{}
	n.SecurityRules = map[string]*SecurityRule{}
	n.RouteTables = map[string]*RouteTable{}
	n.Routes = map[string]*Route{}
	n.ASGs = map[string]*ASG{}
	n.VMs = map[string]*VM{}
	n.VNetGateways = map[string]*VirtualNetworkGateway{}
	n.LocalNetworkGateways = map[string]*LocalNetworkGateway{}
	n.Connections = map[string]*Connection{}
	n.PublicIPs = map[string]*PublicIP{}
	r := &resolver{n: n}
	merged := r.merge()
	for _, f := range merged {
		if f.kind.parent() == kNone {
			r.build(f)
		}
	}
	for _, f := range merged {
		if f.kind.parent() != kNone {
			r.build(f)
		}
	}
	r.defaultRules()
	r.backRefs()
	r.linkVMsByIP()
	r.index()
	r.checkRefs()
	r.checkRules()
	r.checkASGs()
	return r.probs
}

// merge folds the fragments of each id into one, in order of first
// appearance.
func (r *resolver) merge() []*frag {
	byID := map[string]*frag{}
	var out []*frag
	for _, f := range r.n.frags {
		m, ok := byID[f.cid]
		if !ok {
			m = &frag{kind: f.kind, id: f.id, cid: f.cid, parentCID: f.parentCID, parentID: f.parentID,
				origin: f.origin, seq: f.seq, fields: make(map[string]val, len(f.fields))}
			byID[f.cid] = m
			out = append(out, m)
		} else if m.kind != f.kind {
			r.problemAt(f.origin, ProblemConflict, "%s is a %s here but a %s at %s; this definition is ignored",
				f.id, f.kind, m.kind, m.origin.File+": "+m.origin.Path)
			continue
		}
		var differ []string
		var before val
		for _, k := range sortedKeys(f.fields) {
			v := f.fields[k]
			old, had := m.fields[k]
			if had && !isEmpty(old.v) && !isEmpty(v.v) && !ignoredInConflicts[k] && !sameJSON(old.v, v.v) {
				differ = append(differ, keyOf(v.path))
				if before.path == "" {
					before = old
				}
			}
			if !had || !isEmpty(v.v) {
				m.fields[k] = v
			}
		}
		if len(differ) > 0 {
			r.problemAt(f.origin, ProblemConflict, "%s %s is defined again with other values of %s (before: %s: %s); the later definition wins",
				f.kind, IDName(f.id), strings.Join(differ, ", "), before.file, before.path)
		}
	}
	return out
}

// ignoredInConflicts are fields that differ between exports of the same
// resource taken at different times, or in different tools, without
// meaning anything.
var ignoredInConflicts = map[string]bool{
	"etag": true, "provisioningstate": true, "resourceguid": true, "type": true, "id": true,
	"apiversion": true, "dependson": true, "tags": true, "resourcegroup": true, "resourcegroupname": true,
	"name": true,
}

// keyOf returns the last key of a JSON path as spelled in the file.
func keyOf(path string) string {
	if strings.HasSuffix(path, `"]`) {
		if i := strings.LastIndex(path, `["`); i >= 0 {
			if k, err := strconv.Unquote(path[i+1 : len(path)-1]); err == nil {
				return k
			}
		}
	}
	return path[strings.LastIndexByte(path, '.')+1:]
}

// sameJSON reports whether two values say the same thing: strings equal
// ignoring case, a one-element array equal to its element, objects equal
// on the keys both have.
func sameJSON(a, b any) bool {
	if l, ok := a.([]any); ok && len(l) == 1 {
		if _, isList := b.([]any); !isList {
			return sameJSON(l[0], b)
		}
	}
	if l, ok := b.([]any); ok && len(l) == 1 {
		if _, isList := a.([]any); !isList {
			return sameJSON(a, l[0])
		}
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k, xv := range x {
			if _, yv, ok := lookup(y, k); ok && !isEmpty(xv) && !isEmpty(yv) && !ignoredInConflicts[strings.ToLower(k)] && !sameJSON(xv, yv) {
				return false
			}
		}
		return true
	}
	xs, ok1 := (val{v: a}).scalar()
	ys, ok2 := (val{v: b}).scalar()
	return ok1 && ok2 && strings.EqualFold(xs, ys)
}

// Typed reads. Each reports a value of the wrong type and returns the
// zero value for it.

func (r *resolver) str(v val) string {
	if isEmpty(v.v) {
		return ""
	}
	s, ok := v.scalar()
	if !ok {
		r.problem(v, ProblemBadValue, "want a string, have a %s", jsonType(v.v))
	}
	return s
}

func (r *resolver) strs(v val) []string {
	var out []string
	for _, e := range v.elems() {
		if isEmpty(e.v) {
			continue
		}
		if s, ok := e.scalar(); ok {
			out = append(out, s)
		} else {
			r.problem(e, ProblemBadValue, "want a string, have a %s", jsonType(e.v))
		}
	}
	return out
}

// boolean reads true/false, also as strings; present is false when v is
// absent.
func (r *resolver) boolean(v val) (b, present bool) {
	if isEmpty(v.v) {
		return false, false
	}
	s, _ := v.scalar()
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	r.problem(v, ProblemBadValue, "want true or false, have %s", describe(v.v))
	return false, false
}

func (r *resolver) integer(v val) (i int64, present bool) {
	if isEmpty(v.v) {
		return 0, false
	}
	s, _ := v.scalar()
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		r.problem(v, ProblemBadValue, "want an integer, have %s", describe(v.v))
		return 0, false
	}
	return i, true
}

func describe(v any) string {
	if s, ok := (val{v: v}).scalar(); ok {
		return strconv.Quote(s)
	}
	return "a " + jsonType(v)
}

// ref reads a reference: {"id": "…"} (a full resource object counts), or
// a bare id string.
func (r *resolver) ref(v val) string {
	switch t := v.v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(t)
	case map[string]any:
		return r.str(v.get("id"))
	case []any:
		if len(t) == 1 {
			return r.ref(v.elems()[0])
		}
	}
	if isEmpty(v.v) {
		return ""
	}
	r.problem(v, ProblemBadValue, "want a reference {\"id\": …}, have %s", describe(v.v))
	return ""
}

func (r *resolver) refs(v val) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range v.elems() {
		if id := r.ref(e); id != "" && !seen[CanonicalID(id)] {
			seen[CanonicalID(id)] = true
			out = append(out, id)
		}
	}
	return out
}

func containsID(ids []string, id string) bool {
	c := CanonicalID(id)
	for _, x := range ids {
		if CanonicalID(x) == c {
			return true
		}
	}
	return false
}

// prefixes reads CIDRs from one or more fields, without duplicates.
func (r *resolver) prefixes(vs ...val) []netip.Prefix {
	var out []netip.Prefix
	var elems []val
	for _, v := range vs {
		elems = append(elems, v.elems()...)
	}
	for _, e := range elems {
		s := r.str(e)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			r.problem(e, ProblemBadPrefix, "bad address prefix %q: want a CIDR", s)
			continue
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func (r *resolver) addr(v val) netip.Addr {
	s := r.str(v)
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		r.problem(v, ProblemBadValue, "bad IP address %q", s)
	}
	return a
}

func (r *resolver) addrs(v val) []netip.Addr {
	var out []netip.Addr
	for _, e := range v.elems() {
		if a := r.addr(e); a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

// enum reads a string and normalises its case to one of vals; an
// unknown value is kept as written and reported.
func (r *resolver) enum(v val, vals ...string) string {
	s := r.str(v)
	if s == "" {
		return ""
	}
	c := canon(s, vals...)
	if !slices.Contains(vals, c) {
		r.problem(v, ProblemBadValue, "unknown value %q (want one of %s)", s, strings.Join(vals, ", "))
	}
	return c
}

// expect records a forward reference to check after back-references
// have filled the gaps.
func (r *resolver) expect(at val, id string, want kind, from string) {
	if id != "" {
		r.pending = append(r.pending, pendingRef{at: at, id: id, want: want, from: from})
	}
}
