package topology

import (
	"strings"
)

// frag is one definition of a resource found in an export: its own
// fields, flattened out of any "properties" wrapper, with children (the
// subnets of a VNet, the rules of an NSG, …) split off into frags of
// their own. Frags with the same id merge at Resolve.
type frag struct {
	kind      kind
	id        string // as written or derived
	cid       string
	parentCID string // for child kinds
	parentID  string
	origin    Origin
	fields    map[string]val // lower-case key
	seq       int
}

func (f *frag) get(key string) val {
	if v, ok := f.fields[key]; ok {
		return v
	}
	return val{file: f.origin.File, path: pathKey(f.origin.Path, key)}
}

// walker turns the JSON values of one file into frags.
type walker struct {
	n     *Network
	file  string
	frags []*frag
	probs []Problem
}

func (w *walker) problem(path string, k ProblemKind, msg string) {
	w.probs = append(w.probs, Problem{File: w.file, Path: path, Kind: k, Message: msg})
}

// childSpec names the arrays of a kind that hold child resources.
var childSpecs = map[kind][]struct {
	key  string
	kind kind
}{
	kVNet:       {{"subnets", kSubnet}, {"virtualNetworkPeerings", kPeering}},
	kNSG:        {{"securityRules", kRule}, {"defaultSecurityRules", kDefaultRule}},
	kNIC:        {{"ipConfigurations", kIPConfig}},
	kRouteTable: {{"routes", kRoute}},
}

// top handles a JSON value that may be anything a user exported.
func (w *walker) top(v any, path string) {
	switch t := v.(type) {
	case nil:
	case []any:
		for i, e := range t {
			w.top(e, pathIdx(path, i))
		}
	case map[string]any:
		w.object(t, path)
	default:
		w.problem(path, ProblemSkipped, "not a resource: a JSON "+jsonType(v)+"; skipped")
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "number"
}

func (w *walker) object(m map[string]any, path string) {
	x := val{v: m, file: w.file, path: path}
	if isEnvelope(m) {
		w.envelope(m, path)
		return
	}
	if isTemplate(m) {
		w.template(m, path)
		return
	}
	if what := watcherResult(m); what != "" {
		w.problem(path, ProblemSkipped, what+", not a resource export; skipped")
		return
	}
	// Lists: REST and az rest ({"value": […], "nextLink": …}), Resource
	// Graph (az graph query: {"data": […], "count": …}).
	if _, _, hasID := lookup(m, "id"); !hasID {
		for _, key := range []string{"value", "data"} {
			if k, l, ok := lookup(m, key); ok {
				if _, isList := l.([]any); isList {
					w.top(l, pathKey(path, k))
					return
				}
			}
		}
	}
	if w.resource(x, kNone, nil, "") {
		return
	}
	// A wrapper such as az … create output: {"NewNSG": {…}}. Walk every
	// object or array inside.
	walked := false
	for _, k := range sortedKeys(m) {
		switch m[k].(type) {
		case map[string]any, []any:
			w.top(m[k], pathKey(path, k))
			walked = true
		}
	}
	if !walked {
		w.problem(path, ProblemSkipped, "object of unknown shape (no type, no resource id); skipped")
	}
}

// isEnvelope reports whether m is an ARM example file from
// azure-rest-api-specs: {"parameters": {…}, "responses": {"200": {"body": …}}}.
func isEnvelope(m map[string]any) bool {
	_, r, ok1 := lookup(m, "responses")
	_, p, ok2 := lookup(m, "parameters")
	if !ok1 || !ok2 {
		return false
	}
	_, rok := r.(map[string]any)
	_, pok := p.(map[string]any)
	return rok && pok
}

// isTemplate reports whether m is an ARM template (a portal or az group
// export): a resources array with $schema or contentVersion beside it.
func isTemplate(m map[string]any) bool {
	_, r, ok := lookup(m, "resources")
	if _, isList := r.([]any); !ok || !isList {
		return false
	}
	_, _, s := lookup(m, "$schema")
	_, _, c := lookup(m, "contentVersion")
	return s || c
}

// watcherResult names the Network Watcher request or response m is, or
// returns "".
func watcherResult(m map[string]any) string {
	has := func(m map[string]any, keys ...string) bool {
		for _, k := range keys {
			if _, _, ok := lookup(m, k); !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has(m, "targetResourceId"):
		return "a Network Watcher request"
	case has(m, "access", "ruleName"):
		return "an IP flow verify result"
	case has(m, "nextHopType", "routeTableId"):
		return "a next hop result"
	case has(m, "resources") && (has(m, "createdDateTime") || has(m, "lastModified")):
		return "a topology result"
	}
	first := func(key string) map[string]any {
		_, v, _ := lookup(m, key)
		if l, ok := v.([]any); ok && len(l) > 0 {
			e, _ := l[0].(map[string]any)
			return e
		}
		return nil
	}
	if e := first("networkInterfaces"); e != nil && has(e, "securityRuleAssociations") {
		return "a security group view result"
	}
	if e := first("value"); e != nil {
		switch {
		case has(e, "effectiveSecurityRules"):
			return "an effective network security group list"
		case has(e, "nextHopType", "source", "state"):
			return "an effective route table"
		case has(e, "network", "sourcePeer"):
			return "a gateway route list with no gateway id (put it into the gateway's learnedRoutes)"
		}
	}
	return ""
}

// shapeKind guesses the kind of a resource with neither type nor id.
func shapeKind(x val) kind {
	has := func(keys ...string) bool {
		for _, k := range keys {
			if x.get(k).v != nil {
				return true
			}
		}
		return false
	}
	switch {
	case has("securityRules", "defaultSecurityRules"):
		return kNSG
	case has("gatewayType", "vpnType"):
		return kVNetGateway
	case has("localNetworkAddressSpace", "gatewayIpAddress"):
		return kLocalGateway
	case has("connectionType", "virtualNetworkGateway1"):
		return kConnection
	case has("addressSpace"):
		return kVNet
	case has("remoteVirtualNetwork"):
		return kPeering
	case has("routes", "disableBgpRoutePropagation"):
		return kRouteTable
	case has("nextHopType"):
		return kRoute
	case has("direction") && has("access"):
		return kRule
	case has("ipConfigurations"):
		return kNIC
	case has("privateIPAddress") && has("subnet"):
		return kIPConfig
	case has("networkProfile", "hardwareProfile", "storageProfile", "osProfile"):
		return kVM
	case has("publicIPAllocationMethod", "publicIPAddressVersion"):
		return kPublicIP
	case has("addressPrefix", "addressPrefixes"):
		return kSubnet
	}
	return kNone
}

// resource records x as a resource and its children. want is the kind
// the context implies (an element of an NSG's securityRules is a rule
// whatever it says), parent the enclosing resource, id an id to use when
// x has none. It returns false, recording nothing, when x does not look
// like a resource at all.
func (w *walker) resource(x val, want kind, parent *frag, id string) bool {
	m, ok := x.v.(map[string]any)
	if !ok {
		return false
	}
	typ, _ := x.get("type").scalar()
	if !strings.Contains(typ, "/") {
		typ = "" // "type" of something else, e.g. a SKU
	}
	if s, ok := x.get("id").scalar(); ok && s != "" {
		id = s
	}
	k := want
	if k == kNone && typ != "" {
		if k = kindOfType(typ); k == kNone {
			w.problem(x.path, ProblemUnknownType, "resource type "+quote(typ)+" is not modelled; skipped")
			return true
		}
	}
	if k == kNone && id != "" {
		if r, ok := parseID(id); ok {
			if k = kindOfType(r.typ); k == kNone {
				w.problem(x.path, ProblemUnknownType, "resource type "+quote(r.typ)+" (from the id) is not modelled; skipped")
				return true
			}
		}
	}
	if k == kNone {
		k = shapeKind(x)
	}
	if k == kNone {
		return false
	}
	name, _ := x.get("name").scalar()
	// A child's id must sit under its parent; when it is missing or
	// malformed (the security group view writes ids such as
	// "/subscriptions//resourceGroups//…"), derive it from the parent.
	if parent != nil && name != "" && (id == "" || kindOfID(id) != k) {
		id = strings.TrimRight(parent.id, "/") + "/" + k.segment() + "/" + name
	}
	if id == "" {
		w.problem(x.path, ProblemMissingValue, "a "+k.String()+" without id; skipped")
		return true
	}
	f := &frag{
		kind:   k,
		id:     id,
		cid:    CanonicalID(id),
		origin: Origin{File: w.file, Path: x.path},
		fields: make(map[string]val, len(m)),
	}
	if pk := k.parent(); pk != kNone {
		if parent != nil {
			f.parentID, f.parentCID = parent.id, parent.cid
		} else {
			f.parentID = parentID(id)
			f.parentCID = CanonicalID(f.parentID)
			if kindOfID(f.parentID) != pk {
				w.problem(x.path, ProblemBadValue, "id "+quote(id)+" of a "+k.String()+" does not sit under a "+pk.String()+"; skipped")
				return true
			}
		}
	}
	// Flatten: top-level keys, then properties.* over them.
	for _, key := range sortedKeys(m) {
		if strings.EqualFold(key, "properties") {
			continue
		}
		f.fields[strings.ToLower(key)] = val{v: m[key], file: w.file, path: pathKey(x.path, key)}
	}
	if pk, p, ok := lookup(m, "properties"); ok {
		if pm, ok := p.(map[string]any); ok {
			pp := pathKey(x.path, pk)
			for _, key := range sortedKeys(pm) {
				if lk := strings.ToLower(key); !isEmpty(pm[key]) || f.fields[lk].v == nil {
					f.fields[lk] = val{v: pm[key], file: w.file, path: pathKey(pp, key)}
				}
			}
		}
	}
	w.frags = append(w.frags, f)
	for _, spec := range childSpecs[k] {
		lk := strings.ToLower(spec.key)
		arr, ok := f.fields[lk]
		if !ok {
			continue
		}
		delete(f.fields, lk)
		for _, e := range arr.elems() {
			switch e.v.(type) {
			case map[string]any:
				if !w.resource(e, spec.kind, f, "") {
					w.problem(e.path, ProblemSkipped, "not a "+spec.kind.String()+"; skipped")
				}
			case nil:
			case string:
				w.problem(e.path, ProblemSkipped, "a "+spec.kind.String()+" given as the string "+quote(e.v.(string))+
					"; skipped (PowerShell ConvertTo-Json needs -Depth 10 or more to write nested objects)")
			default:
				w.problem(e.path, ProblemBadValue, "a "+spec.kind.String()+" must be an object, not a "+jsonType(e.v)+"; skipped")
			}
		}
	}
	return true
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return `"` + s + `"`
}

// Envelopes.

// envelopeParams maps the path parameters of an ARM example to the id
// segment they name, parents before children.
var envelopeParams = []struct {
	param, parent string
	kind          kind
}{
	{"virtualNetworkName", "", kVNet},
	{"subnetName", "virtualNetworkName", kSubnet},
	{"virtualNetworkPeeringName", "virtualNetworkName", kPeering},
	{"networkInterfaceName", "", kNIC},
	{"ipConfigurationName", "networkInterfaceName", kIPConfig},
	{"networkSecurityGroupName", "", kNSG},
	{"securityRuleName", "networkSecurityGroupName", kRule},
	{"defaultSecurityRuleName", "networkSecurityGroupName", kDefaultRule},
	{"routeTableName", "", kRouteTable},
	{"routeName", "routeTableName", kRoute},
	{"applicationSecurityGroupName", "", kASG},
	{"vmName", "", kVM},
	{"virtualNetworkGatewayName", "", kVNetGateway},
	{"localNetworkGatewayName", "", kLocalGateway},
	{"virtualNetworkGatewayConnectionName", "", kConnection},
	{"publicIpAddressName", "", kPublicIP},
}

func (w *walker) envelope(m map[string]any, path string) {
	pk, pv, _ := lookup(m, "parameters")
	rk, rv, _ := lookup(m, "responses")
	params := pv.(map[string]any)
	responses := rv.(map[string]any)
	before := len(w.frags) + len(w.probs)

	// The 200 body, else the first other 2xx body.
	codes := sortedKeys(responses)
	for i, c := range codes {
		if c == "200" {
			codes[0], codes[i] = codes[i], codes[0]
		}
	}
	for _, c := range codes {
		if !strings.HasPrefix(c, "2") {
			continue
		}
		resp, _ := responses[c].(map[string]any)
		if bk, body, ok := lookup(resp, "body"); ok && body != nil {
			w.top(body, pathKey(pathKey(pathKey(path, rk), c), bk))
			break
		}
	}

	// Request bodies that are resources, with the id the path parameters
	// give them.
	if _, _, ok := lookup(params, "networkWatcherName"); ok {
		return // requests to Network Watcher are not resources
	}
	sub, _ := val{v: params}.get("subscriptionId").scalar()
	rg, _ := val{v: params}.get("resourceGroupName").scalar()
	id, k := "", kNone
	if sub != "" && rg != "" {
		ids := map[string]string{}
		for _, ep := range envelopeParams {
			name, _ := val{v: params}.get(ep.param).scalar()
			if name == "" {
				continue
			}
			base := "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/"
			if ep.parent != "" {
				if ids[ep.parent] == "" {
					continue
				}
				base = ids[ep.parent] + "/"
				ids[ep.param] = base + ep.kind.segment() + "/" + name
			} else {
				ids[ep.param] = base + kinds[ep.kind].typ + "/" + name
			}
			// Children come after their parents in the table, so the last
			// match is the deepest.
			id, k = ids[ep.param], ep.kind
		}
	}
	for _, key := range sortedKeys(params) {
		body, ok := params[key].(map[string]any)
		if !ok {
			continue
		}
		if _, _, ok := lookup(body, "properties"); !ok {
			continue
		}
		x := val{v: body, file: w.file, path: pathKey(pathKey(path, pk), key)}
		if k == kNone {
			if _, _, hasID := lookup(body, "id"); !hasID {
				continue
			}
		}
		var parent *frag
		if pkind := k.parent(); pkind != kNone {
			pid := parentID(id)
			parent = &frag{id: pid, cid: CanonicalID(pid)}
		}
		w.resource(x, k, parent, id)
	}
	if len(w.frags)+len(w.probs) == before {
		w.problem(path, ProblemSkipped, "ARM example holds no resource; skipped")
	}
}
