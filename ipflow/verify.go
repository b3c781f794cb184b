package ipflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/flowlens/flowlens/topology"
)

// VerifyRequest is the body of Network Watcher's IP flow verify request
// (VerificationIPFlowParameters).
type VerifyRequest struct {
	TargetResourceID    string `json:"targetResourceId"`
	Direction           string `json:"direction"`
	Protocol            string `json:"protocol"`
	LocalIPAddress      string `json:"localIPAddress"`
	LocalPort           string `json:"localPort"`
	RemoteIPAddress     string `json:"remoteIPAddress"`
	RemotePort          string `json:"remotePort"`
	TargetNICResourceID string `json:"targetNicResourceId,omitempty"`
}

// VerifyResult is the body of Azure's response (VerificationIPFlowResult).
type VerifyResult struct {
	Access   string `json:"access"`
	RuleName string `json:"ruleName"`
}

// ParseVerifyRequest reads a request body, or an ARM example envelope
// holding one under parameters.parameters. Keys match ignoring case.
func ParseVerifyRequest(data []byte) (VerifyRequest, error) {
	return parseRequestBody[VerifyRequest](data)
}

// parseRequestBody reads a Network Watcher request body of type T, or an
// ARM example envelope holding one under parameters.parameters.
func parseRequestBody[T any](data []byte) (T, error) {
	var req T
	var env struct {
		Parameters struct {
			Parameters *T `json:"parameters"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(data, &env); err == nil && env.Parameters.Parameters != nil {
		return *env.Parameters.Parameters, nil
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return req, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return req, nil
}

// Answer is the verdict on a request, or on one part of it when the
// request holds ranges: Azure's result plus where it came from.
type Answer struct {
	VerifyResult
	// The part of the request this answer covers, in the request's terms.
	Protocol        string `json:"protocol"`
	LocalIPAddress  string `json:"localIPAddress"`
	LocalPort       string `json:"localPort"`
	RemoteIPAddress string `json:"remoteIPAddress"`
	RemotePort      string `json:"remotePort"`
	// The deciding rule's NSG, where it is attached and its priority.
	NSG      string `json:"nsg,omitempty"`
	NSGID    string `json:"nsgId,omitempty"`
	Level    string `json:"level,omitempty"`
	Priority int    `json:"priority,omitempty"`
	// Notes say where the answer goes beyond what Azure would answer.
	Notes []string `json:"notes,omitempty"`
}

// Sentence describes the answer for a person, e.g. "Denied by
// securityRules/deny-rdp on nsg-web (NIC), priority 200".
func (a *Answer) Sentence() string {
	verb := "Allowed"
	if a.Access == Deny.String() {
		verb = "Denied"
	}
	switch {
	case a.NSG == "":
		return verb + ": no NSG on the subnet or the NIC"
	case a.RuleName == "":
		return verb + ": no rule of " + a.NSG + " (" + a.Level + ") matches"
	}
	return fmt.Sprintf("%s by %s on %s (%s), priority %d", verb, a.RuleName, a.NSG, a.Level, a.Priority)
}

// request is a VerifyRequest read into values.
type request struct {
	target    *Target
	dir       Direction
	query     Query
	single    bool // one packet: no ranges, one protocol
	protoText string
	notes     []string
}

// Verify answers an IP flow verify request. A request of single values
// gets one answer; ranges of addresses ("a-b", CIDR) or ports ("N-M", and
// "*" for the destination port) and the protocol "*" get one answer per
// part of the request that one rule decides, at most limit (≤ 0: no
// limit); the error is then ErrTooManyParts with the answers so far.
func (e *Evaluator) Verify(req VerifyRequest, limit int) ([]Answer, error) {
	r, err := e.readRequest(req)
	if err != nil {
		return nil, err
	}
	stages, err := e.cachedStages(r.target, r.dir)
	if err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		a := r.answer(r.query, Verdict{Access: Allow, Rule: -1})
		a.Notes = append(a.Notes, "noNsg: no NSG applies to the subnet or the NIC, so all traffic passes")
		return []Answer{a}, nil
	}
	if r.single {
		p := Packet{Src: r.query.Src.From(), Dst: r.query.Dst.From(), SrcPort: r.query.SrcPorts.Lo,
			DstPort: r.query.DstPorts.Lo, AnySrcPort: r.query.AnySrcPort}
		for i := range 256 {
			if r.query.Protocols.Has(uint8(i)) {
				p.Protocol = uint8(i)
				break
			}
		}
		return []Answer{r.answer(r.query, Judge(stages, &p))}, nil
	}
	var out []Answer
	var pq Query
	var pv Verdict
	open := false
	complete := expandStages(stages, 0, r.query, func(q Query, v Verdict) bool {
		if open && v == pv && mergeQuery(&pq, q) {
			return true
		}
		if open {
			out = append(out, r.answer(pq, pv))
		}
		pq, pv, open = q, v, true
		return limit <= 0 || len(out) < limit
	})
	if open && (limit <= 0 || len(out) < limit) {
		out = append(out, r.answer(pq, pv))
	}
	if !complete {
		return out, fmt.Errorf("%w: stopped after %d answers; narrow the ranges", ErrTooManyParts, limit)
	}
	return out, nil
}

// mergeQuery extends a with b when they differ in one dimension only and
// b continues a there; parts that differ only in protocols always merge.
func mergeQuery(a *Query, b Query) bool {
	if a.AnySrcPort != b.AnySrcPort {
		return false
	}
	sameSrc, sameDst := a.Src == b.Src, a.Dst == b.Dst
	sameSP, sameDP := a.SrcPorts == b.SrcPorts, a.DstPorts == b.DstPorts
	if a.Protocols != b.Protocols {
		if !sameSrc || !sameDst || !sameSP || !sameDP {
			return false
		}
		for i := range a.Protocols {
			a.Protocols[i] |= b.Protocols[i]
		}
		return true
	}
	switch {
	case sameDst && sameSP && sameDP && a.Src.To().Next() == b.Src.From():
		a.Src = netipx.IPRangeFrom(a.Src.From(), b.Src.To())
	case sameSrc && sameSP && sameDP && a.Dst.To().Next() == b.Dst.From():
		a.Dst = netipx.IPRangeFrom(a.Dst.From(), b.Dst.To())
	case sameSrc && sameDst && sameDP && uint32(a.SrcPorts.Hi)+1 == uint32(b.SrcPorts.Lo):
		a.SrcPorts.Hi = b.SrcPorts.Hi
	case sameSrc && sameDst && sameSP && uint32(a.DstPorts.Hi)+1 == uint32(b.DstPorts.Lo):
		a.DstPorts.Hi = b.DstPorts.Hi
	default:
		return false
	}
	return true
}

// ErrTooManyParts reports a range request with more answers than asked.
var ErrTooManyParts = errors.New("too many parts")

// expandStages splits q by the rules of stages[i:], calling fn with each
// part and its verdict.
func expandStages(stages []Stage, i int, q Query, fn func(Query, Verdict) bool) bool {
	st := &stages[i]
	cls, index := st.classifier()
	return cls.Expand(q, 0, func(p Part) bool {
		if p.Rule >= 0 && index != nil {
			p.Rule = int(index[p.Rule])
		}
		v := Verdict{Access: Allow, Stage: st, Rule: p.Rule}
		if p.Rule < 0 || st.Rules.Rules[p.Rule].Access == Deny {
			v.Access = Deny
			return fn(p.Query, v)
		}
		if i+1 == len(stages) {
			return fn(p.Query, v)
		}
		return expandStages(stages, i+1, p.Query, fn)
	})
}

func (r *request) answer(q Query, v Verdict) Answer {
	a := Answer{VerifyResult: VerifyResult{Access: v.Access.String(), RuleName: v.RuleName()}}
	local, remote := q.Dst, q.Src
	localPorts, remotePorts := q.DstPorts, q.SrcPorts
	if r.dir == Outbound {
		local, remote = remote, local
		localPorts, remotePorts = remotePorts, localPorts
	}
	a.LocalIPAddress, a.RemoteIPAddress = rangeText(local), rangeText(remote)
	a.LocalPort, a.RemotePort = portText(localPorts), portText(remotePorts)
	if q.AnySrcPort {
		if r.dir == Inbound {
			a.RemotePort = "*"
		} else {
			a.LocalPort = "*"
		}
	}
	a.Protocol = r.protoText
	if !r.single {
		a.Protocol = protoSetText(q.Protocols)
	}
	if v.Stage != nil {
		a.NSG, a.NSGID, a.Level = v.Stage.Rules.NSG.Name, v.Stage.Rules.NSG.ID, v.Stage.Level.String()
		if rule := v.DecidingRule(); rule != nil {
			a.Priority = rule.Priority
		}
	}
	a.Notes = append(a.Notes, r.notes...)
	return a
}

func rangeText(r netipx.IPRange) string {
	if r.From() == r.To() {
		return r.From().String()
	}
	if p, ok := r.Prefix(); ok {
		return p.String()
	}
	return r.String()
}

func portText(r PortRange) string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return r.String()
}

var protoNames = map[uint8]string{ProtoICMP: "Icmp", ProtoTCP: "Tcp", ProtoUDP: "Udp", ProtoESP: "Esp", ProtoAH: "Ah", ProtoICMPv6: "IcmpV6"}

func protoName(p uint8) string {
	if s, ok := protoNames[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

// protoSetText prints a protocol set: "*", names joined by commas, or
// "* except …" when that is shorter.
func protoSetText(s ProtoSet) string {
	if s == AllProtocols {
		return "*"
	}
	var in, out []string
	for p := range 256 {
		if s.Has(uint8(p)) {
			in = append(in, protoName(uint8(p)))
		} else {
			out = append(out, protoName(uint8(p)))
		}
	}
	if len(in) <= len(out) {
		return strings.Join(in, ",")
	}
	return "* except " + strings.Join(out, ",")
}

func (e *Evaluator) readRequest(req VerifyRequest) (*request, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
	}
	r := &request{}
	var err error
	if r.dir, err = ParseDirection(req.Direction); err != nil {
		return nil, bad("direction: %v", err)
	}
	r.protoText = req.Protocol
	switch strings.ToUpper(strings.TrimSpace(req.Protocol)) {
	case "TCP", "UDP":
	case "":
		return nil, bad("protocol is required (TCP or UDP)")
	default:
		r.notes = append(r.notes, "Azure's IP flow verify takes only TCP and UDP; this answer comes from the rules")
	}
	if r.query.Protocols, err = ParseProtocol(req.Protocol); err != nil {
		return nil, bad("protocol: %v", err)
	}
	local, err := parseAddrRange(req.LocalIPAddress)
	if err != nil {
		return nil, bad("localIPAddress: %v", err)
	}
	remote, err := parseAddrRange(req.RemoteIPAddress)
	if err != nil {
		return nil, bad("remoteIPAddress: %v", err)
	}
	if local.From() != local.To() {
		return nil, bad("localIPAddress %q must be one address of the target", req.LocalIPAddress)
	}
	if local.From().Is4() != remote.From().Is4() {
		return nil, bad("localIPAddress %s and remoteIPAddress %s are of different families", req.LocalIPAddress, req.RemoteIPAddress)
	}
	if !local.From().Is4() {
		r.notes = append(r.notes, "Azure's IP flow verify takes only IPv4; this answer comes from the rules")
	}
	if strings.EqualFold(strings.TrimSpace(req.Protocol), "icmp") { // ICMP of the request's family
		r.query.Protocols = ProtoSet{}
		if local.From().Is4() {
			r.query.Protocols.Add(ProtoICMP)
		} else {
			r.query.Protocols.Add(ProtoICMPv6)
		}
	}
	if r.target, err = e.cachedTarget(req.TargetResourceID, req.TargetNICResourceID, local.From()); err != nil {
		return nil, err
	}
	localPorts, localAny, err := parsePortQuery(req.LocalPort)
	if err != nil {
		return nil, bad("localPort: %v", err)
	}
	remotePorts, remoteAny, err := parsePortQuery(req.RemotePort)
	if err != nil {
		return nil, bad("remotePort: %v", err)
	}
	q := &r.query
	// Only TCP and UDP carry ports: the port notes concern them alone.
	ported := q.Protocols.Has(ProtoTCP) || q.Protocols.Has(ProtoUDP)
	if !ported && (!localAny || !remoteAny) {
		r.notes = append(r.notes, fmt.Sprintf("protocol %s has no ports: localPort and remotePort are ignored, and only rules whose ports are * apply", req.Protocol))
	}
	if r.dir == Inbound {
		q.Src, q.Dst, q.SrcPorts, q.DstPorts = remote, local, remotePorts, localPorts
		q.AnySrcPort = remoteAny
		if localAny && ported {
			r.notes = append(r.notes, "Azure allows * only for the source port (remotePort when Inbound); localPort * is answered per port range")
		}
	} else {
		q.Src, q.Dst, q.SrcPorts, q.DstPorts = local, remote, localPorts, remotePorts
		q.AnySrcPort = localAny
		if remoteAny && ported {
			r.notes = append(r.notes, "Azure allows * only for the source port (localPort when Outbound); remotePort * is answered per port range")
		}
	}
	one := 0
	for p := range 256 {
		if q.Protocols.Has(uint8(p)) {
			one++
		}
	}
	r.single = one == 1 && q.Src.From() == q.Src.To() && q.Dst.From() == q.Dst.To() &&
		(q.AnySrcPort || q.SrcPorts.Lo == q.SrcPorts.Hi) && q.DstPorts.Lo == q.DstPorts.Hi
	return r, nil
}

// parseAddrRange reads an address, a CIDR or "a-b".
func parseAddrRange(s string) (netipx.IPRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netipx.IPRange{}, errors.New("missing")
	}
	if strings.Contains(s, "-") {
		r, err := netipx.ParseIPRange(s)
		if err != nil {
			return r, fmt.Errorf("%w %q", ErrBadAddress, s)
		}
		return netipx.IPRangeFrom(r.From().Unmap(), r.To().Unmap()), nil
	}
	p, ok := ParseAddressPrefix(s)
	if !ok {
		return netipx.IPRange{}, fmt.Errorf("%w %q (want an address, a CIDR or a-b)", ErrBadAddress, s)
	}
	return netipx.RangeOfPrefix(p), nil
}

// parsePortQuery reads a request port: "N", "N-M" or "*" (any reports "*").
func parsePortQuery(s string) (PortRange, bool, error) {
	if strings.TrimSpace(s) == "*" {
		return AnyPort, true, nil
	}
	if strings.TrimSpace(s) == "" {
		return PortRange{}, false, errors.New("missing")
	}
	r, err := ParsePortRange(s)
	return r, false, err
}

type targetKey struct {
	target, nic string
	local       netip.Addr
}

type stagesKey struct {
	t   *Target
	dir Direction
}

// cachedTarget is resolveTarget, remembered: batch requests name the
// same targets again and again.
func (e *Evaluator) cachedTarget(target, nicID string, local netip.Addr) (*Target, error) {
	key := targetKey{target, nicID, local}
	e.mu.Lock()
	t, ok := e.targets[key]
	e.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := e.resolveTarget(target, nicID, local)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.targets[key] = t
	e.mu.Unlock()
	return t, nil
}

// cachedStages is Stages, remembered per target and direction.
func (e *Evaluator) cachedStages(t *Target, d Direction) ([]Stage, error) {
	key := stagesKey{t, d}
	e.mu.Lock()
	st, ok := e.stages[key]
	e.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := e.Stages(t, d)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.stages[key] = st
	e.mu.Unlock()
	return st, nil
}

// resolveTarget finds the NIC a request is about: targetNicResourceId
// when given, else the NIC of the target VM that owns local (the target
// may also name a NIC). Ids or names (when unambiguous) are accepted.
func (e *Evaluator) resolveTarget(target, nicID string, local netip.Addr) (*Target, error) {
	n := e.net
	if nicID != "" {
		nic, err := n.NIC(nicID)
		if err != nil {
			return nil, err
		}
		return e.TargetFor(nic, local)
	}
	if target == "" {
		return nil, fmt.Errorf("%w: targetResourceId is required", ErrBadRequest)
	}
	vm, vmErr := n.VM(target)
	if vmErr != nil {
		nic, err := n.NIC(target)
		if err != nil {
			if errors.Is(vmErr, topology.ErrAmbiguous) {
				return nil, vmErr
			}
			return nil, fmt.Errorf("%w: no VM or NIC %q in the network", ErrBadRequest, target)
		}
		return e.TargetFor(nic, local)
	}
	nics := n.NICsOf(vm)
	for _, nic := range nics {
		for _, c := range nic.IPConfigs {
			if c.PrivatePrefix.IsValid() && c.PrivatePrefix.Contains(local) {
				return e.TargetFor(nic, local)
			}
		}
	}
	if len(nics) == 0 {
		return nil, fmt.Errorf("%w: VM %s has no network interface in the export", ErrBadRequest, vm.Name)
	}
	return nil, fmt.Errorf("%w: %s is not a private address of VM %s", ErrBadRequest, local, vm.Name)
}
