package topology

import (
	"strings"
)

// Placeholders for the deployment scope of ARM templates, used when
// Network.TemplateScope is empty. They follow the ARM path notation.
const (
	templateSub = "{subscriptionId}"
	templateRG  = "{resourceGroupName}"
)

// scope returns the subscription and resource group template resources
// are deployed into.
func (n *Network) scope() (sub, rg string) {
	sub, rg = templateSub, templateRG
	segs := strings.Split(strings.Trim(n.TemplateScope, "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		switch {
		case strings.EqualFold(segs[i], "subscriptions"):
			sub = segs[i+1]
		case strings.EqualFold(segs[i], "resourceGroups"):
			rg = segs[i+1]
		}
	}
	return sub, rg
}

func (w *walker) template(m map[string]any, path string) {
	k, rs, _ := lookup(m, "resources")
	for i, r := range rs.([]any) {
		w.templateResource(r, pathIdx(pathKey(path, k), i), "", "")
	}
}

// templateResource records one element of a template's resources array,
// then its nested resources. Child resources take their parent's type
// and name as prefix when they give only their own (type "securityRules",
// name "rule1").
func (w *walker) templateResource(r any, path, parentType, parentName string) {
	m, ok := r.(map[string]any)
	if !ok {
		w.problem(path, ProblemSkipped, "template resource is not an object; skipped")
		return
	}
	nk, nested, hasNested := lookup(m, "resources")
	body := make(map[string]any, len(m))
	for _, k := range sortedKeys(m) {
		if hasNested && k == nk {
			continue
		}
		body[k] = w.resolveExprs(m[k], pathKey(path, k))
	}
	x := val{v: body, file: w.file, path: path}
	typ, _ := x.get("type").scalar()
	name, _ := x.get("name").scalar()
	if typ == "" || name == "" {
		w.problem(path, ProblemMissingValue, "template resource without a literal type and name; skipped")
		return
	}
	if parentType != "" && !strings.Contains(typ, "/") {
		typ = parentType + "/" + typ
	}
	if parentName != "" && strings.Count(name, "/") < strings.Count(typ, "/")-1 {
		name = parentName + "/" + name
	}
	id, ok := w.templateID(typ, strings.Split(name, "/"), false)
	switch k := kindOfType(typ); {
	case !ok:
		w.problem(path, ProblemBadValue, "template resource name "+quote(name)+" does not fit its type "+quote(typ)+"; skipped")
	case k == kNone:
		w.problem(path, ProblemUnknownType, "resource type "+quote(typ)+" is not modelled; skipped")
	default:
		var parent *frag
		if k.parent() != kNone {
			pid := parentID(id)
			parent = &frag{id: pid, cid: CanonicalID(pid)}
		}
		delete(body, "id") // a template resource has no id of its own
		w.resource(x, k, parent, id)
	}
	if hasNested {
		if l, ok := nested.([]any); ok {
			for i, e := range l {
				w.templateResource(e, pathIdx(pathKey(path, nk), i), typ, name)
			}
		}
	}
}

// templateID builds the id of a resource of type typ
// ("Microsoft.Network/virtualNetworks/subnets") with names (["vnet1",
// "web"]) in the template's deployment scope, or in the subscription and
// resource group given first in names when there are extra names and
// scoped is set (resourceId's optional arguments).
func (w *walker) templateID(typ string, names []string, scoped bool) (string, bool) {
	sub, rg := w.n.scope()
	types := strings.Split(typ, "/")
	if len(types) < 2 {
		return "", false
	}
	extra := len(names) - (len(types) - 1)
	if extra != 0 && !scoped {
		return "", false
	}
	switch extra {
	case 0:
	case 1:
		rg, names = names[0], names[1:]
	case 2:
		sub, rg, names = names[0], names[1], names[2:]
	default:
		return "", false
	}
	id := "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/" + types[0]
	for i, t := range types[1:] {
		if t == "" || names[i] == "" {
			return "", false
		}
		id += "/" + t + "/" + names[i]
	}
	return id, true
}

// resolveExprs returns a copy of v with template expressions resolved:
// resourceId(…) with literal arguments becomes the id; any other
// expression becomes null and is reported. "[[" escapes a literal "[".
func (w *walker) resolveExprs(v any, path string) any {
	switch t := v.(type) {
	case string:
		if !strings.HasPrefix(t, "[") {
			return t
		}
		if strings.HasPrefix(t, "[[") {
			return t[1:]
		}
		if !strings.HasSuffix(t, "]") {
			return t
		}
		if id, ok := w.literalResourceID(t[1 : len(t)-1]); ok {
			return id
		}
		w.problem(path, ProblemExpression, "template expression "+quote(t)+" cannot be resolved offline (only resourceId() with literal arguments can); value ignored")
		return nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = w.resolveExprs(e, pathIdx(path, i))
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range sortedKeys(t) {
			out[k] = w.resolveExprs(t[k], pathKey(path, k))
		}
		return out
	}
	return v
}

// literalResourceID evaluates resourceId('…', …) whose arguments are all
// string literals.
func (w *walker) literalResourceID(expr string) (string, bool) {
	s := strings.TrimSpace(expr)
	const fn = "resourceid("
	if len(s) < len(fn) || !strings.EqualFold(s[:len(fn)], fn) || !strings.HasSuffix(s, ")") {
		return "", false
	}
	s = s[len(fn) : len(s)-1]
	var args []string
	for {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "'") {
			return "", false
		}
		s = s[1:]
		var b strings.Builder
		for {
			i := strings.IndexByte(s, '\'')
			if i < 0 {
				return "", false
			}
			b.WriteString(s[:i])
			s = s[i+1:]
			if strings.HasPrefix(s, "'") { // '' is a quote
				b.WriteByte('\'')
				s = s[1:]
				continue
			}
			break
		}
		args = append(args, b.String())
		s = strings.TrimSpace(s)
		if s == "" {
			break
		}
		if s[0] != ',' {
			return "", false
		}
		s = s[1:]
	}
	ti := -1
	for i, a := range args {
		if strings.Contains(a, "/") {
			ti = i
			break
		}
	}
	if ti < 0 || ti > 2 {
		return "", false
	}
	names := append(append([]string(nil), args[:ti]...), args[ti+1:]...)
	return w.templateID(args[ti], names, true)
}
