package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowlens/flowlens/ipflow"
	"github.com/flowlens/flowlens/topology"
)

type networkOptions struct {
	network     []string
	serviceTags string
	strict      bool
}

func (o *networkOptions) bind(c *cobra.Command) {
	f := c.Flags()
	f.StringSliceVar(&o.network, "network", nil, "exported Azure resource JSON: files or directories (repeatable)")
	f.StringVar(&o.serviceTags, "service-tags", "", "ServiceTags_Public JSON for tags other than VirtualNetwork, Internet, AzureLoadBalancer")
	f.BoolVar(&o.strict, "strict", false, "fail when the export has problems")
}

// load reads the network and reports the export's problems on stderr.
func (o *networkOptions) load(stderr io.Writer) (*ipflow.Evaluator, error) {
	if len(o.network) == 0 {
		return nil, usagef("--network is required")
	}
	n, probs, err := topology.Load(o.network...)
	if err != nil {
		return nil, err
	}
	for _, p := range probs {
		fmt.Fprintln(stderr, "flowlens: network:", p)
	}
	if o.strict && len(probs) > 0 {
		return nil, fmt.Errorf("%d problems in the network export (--strict)", len(probs))
	}
	cfg := ipflow.Config{}
	if o.serviceTags != "" {
		if cfg.ServiceTags, err = ipflow.LoadServiceTags(o.serviceTags); err != nil {
			return nil, err
		}
	}
	return ipflow.NewEvaluator(n, cfg), nil
}

type verifyOptions struct {
	networkOptions
	request, batch, output string
	req                    ipflow.VerifyRequest
	local, remote          string
	maxParts               int
}

func newVerifyCmd() *cobra.Command {
	o := verifyOptions{}
	c := &cobra.Command{
		Use:   "verify --network PATH (--request FILE | --batch FILE | --target VM --direction D --protocol P --local IP:PORT --remote IP:PORT)",
		Short: "IP flow verify: is this packet allowed, and by which rule?",
		Long: `Answer Network Watcher's IP flow verify offline, from exported resource JSON.

--request reads the request body Azure takes (targetResourceId, direction,
protocol, localIPAddress, localPort, remoteIPAddress, remotePort,
targetNicResourceId) and prints Azure's response body ({"access", "ruleName"}).
The flags ask the same without a file; --target takes a VM or NIC by id or by
name. -o text prints a sentence.

Beyond Azure: ICMP, other protocols and "*" are answered from the rules;
IPv6 too. A note on stderr says so (in --batch, the line's "notes"); stdout
keeps Azure's response body. Address ranges (CIDR or a-b) and port ranges
(N-M) are split into the parts one rule decides, and each part is answered.

--batch FILE (or -) takes many requests, as JSON lines of request bodies or
CSV with a header (target, direction, protocol, local_ip, local_port,
remote_ip, remote_port, nic), and prints one JSON line per answer.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.bind(c)
	f := c.Flags()
	f.StringVar(&o.request, "request", "", "IP flow verify request body (JSON file, - for stdin)")
	f.StringVar(&o.batch, "batch", "", "many requests: JSON lines or CSV (file, - for stdin)")
	f.StringVarP(&o.output, "output", "o", "json", "json or text")
	f.StringVar(&o.req.TargetResourceID, "target", "", "VM or NIC, by id or name")
	f.StringVar(&o.req.TargetNICResourceID, "nic", "", "the VM's NIC to check, by id or name")
	f.StringVar(&o.req.Direction, "direction", "", "Inbound or Outbound")
	f.StringVar(&o.req.Protocol, "protocol", "TCP", "TCP, UDP (Azure); also ICMP, a number or *")
	f.StringVar(&o.local, "local", "", "the VM's address and port, IP:PORT (port may be N-M or *)")
	f.StringVar(&o.remote, "remote", "", "the other end, IP:PORT (IP may be a CIDR or a-b)")
	f.IntVar(&o.maxParts, "max-parts", 10000, "stop after this many answers for one ranged request")
	return c
}

func runVerify(o verifyOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.output != "json" && o.output != "text" {
		return usagef("-o %q: want json or text", o.output)
	}
	modes := 0
	for _, set := range []bool{o.request != "", o.batch != "", o.req.TargetResourceID != "" || o.local != ""} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return usagef("give one of --request, --batch, or --target with --direction, --local and --remote")
	}
	ev, err := o.load(stderr)
	if err != nil {
		return err
	}
	if o.batch != "" {
		return runVerifyBatch(ev, o, stdin, stdout)
	}
	req := o.req
	if o.request != "" {
		data, err := readInput(o.request, stdin)
		if err != nil {
			return err
		}
		if req, err = ipflow.ParseVerifyRequest(data); err != nil {
			return fmt.Errorf("%s: %w", o.request, err)
		}
	} else {
		if req.LocalIPAddress, req.LocalPort, err = splitHostPort(o.local); err != nil {
			return usagef("--local: %v", err)
		}
		if req.RemoteIPAddress, req.RemotePort, err = splitHostPort(o.remote); err != nil {
			return usagef("--remote: %v", err)
		}
	}
	answers, err := ev.Verify(req, o.maxParts)
	if err != nil && !errors.Is(err, ipflow.ErrTooManyParts) {
		return err
	}
	notes := map[string]bool{}
	for _, a := range answers {
		for _, n := range a.Notes {
			if !notes[n] {
				notes[n] = true
				fmt.Fprintln(stderr, "note:", n)
			}
		}
	}
	if o.output == "text" {
		for _, a := range answers {
			if len(answers) > 1 {
				from, to := a.RemoteIPAddress+":"+a.RemotePort, a.LocalIPAddress+":"+a.LocalPort
				if strings.EqualFold(req.Direction, "outbound") || strings.EqualFold(req.Direction, "out") {
					from, to = to, from
				}
				fmt.Fprintf(stdout, "%s from %s to %s: ", a.Protocol, from, to)
			}
			fmt.Fprintln(stdout, a.Sentence())
		}
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if len(answers) == 1 && err == nil {
		if e := enc.Encode(answers[0].VerifyResult); e != nil {
			return e
		}
		return nil
	}
	for i := range answers {
		answers[i].Notes = nil // printed once above
	}
	if e := enc.Encode(answers); e != nil {
		return e
	}
	return err
}

// splitHostPort reads IP:PORT, [IPv6]:PORT, or an address alone (port *).
func splitHostPort(s string) (host, port string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", errors.New("missing")
	}
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", "", fmt.Errorf("%q: missing ]", s)
		}
		host, rest := s[1:end], s[end+1:]
		if rest == "" {
			return host, "*", nil
		}
		if !strings.HasPrefix(rest, ":") {
			return "", "", fmt.Errorf("%q: want [IPv6]:PORT", s)
		}
		return host, rest[1:], nil
	}
	if strings.Count(s, ":") > 1 { // a bare IPv6 address
		return s, "*", nil
	}
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return s, "*", nil
	}
	return host, port, nil
}

func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

// batchAnswer is one line of --batch output: the answer and the request's
// target, or the error that request met.
type batchAnswer struct {
	Line   int    `json:"line"`
	Target string `json:"target,omitempty"`
	*ipflow.Answer
	Error string `json:"error,omitempty"`
}

func runVerifyBatch(ev *ipflow.Evaluator, o verifyOptions, stdin io.Reader, stdout io.Writer) error {
	var in io.Reader = stdin
	if o.batch != "-" {
		f, err := os.Open(o.batch)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReaderSize(in, 1<<20)
	first, _ := br.Peek(64)
	bw := bufio.NewWriterSize(stdout, 1<<20)
	defer bw.Flush()
	enc := json.NewEncoder(bw)
	failed := 0
	answer := func(line int, req ipflow.VerifyRequest) error {
		answers, err := ev.Verify(req, o.maxParts)
		if err != nil {
			failed++
			if e := enc.Encode(batchAnswer{Line: line, Target: req.TargetResourceID, Error: err.Error()}); e != nil {
				return e
			}
		}
		for i := range answers {
			if e := enc.Encode(batchAnswer{Line: line, Target: req.TargetResourceID, Answer: &answers[i]}); e != nil {
				return e
			}
		}
		return nil
	}
	var err error
	if t := bytes.TrimLeft(first, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		err = verifyJSONLines(br, o.batch, answer)
	} else {
		err = verifyCSV(br, o.batch, answer)
	}
	if err != nil {
		return err
	}
	if failed > 0 && o.strict {
		return fmt.Errorf("%s: %d requests could not be answered (--strict)", o.batch, failed)
	}
	return nil
}

func verifyJSONLines(r *bufio.Reader, name string, answer func(int, ipflow.VerifyRequest) error) error {
	dec := json.NewDecoder(r)
	for line := 1; ; line++ {
		var req ipflow.VerifyRequest
		if err := dec.Decode(&req); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: request %d (offset %d): %w", name, line, dec.InputOffset(), err)
		}
		if err := answer(line, req); err != nil {
			return err
		}
	}
}

// csvColumns maps header names (lower case) to request fields.
var csvColumns = map[string]func(*ipflow.VerifyRequest) *string{
	"target":              func(r *ipflow.VerifyRequest) *string { return &r.TargetResourceID },
	"targetresourceid":    func(r *ipflow.VerifyRequest) *string { return &r.TargetResourceID },
	"direction":           func(r *ipflow.VerifyRequest) *string { return &r.Direction },
	"protocol":            func(r *ipflow.VerifyRequest) *string { return &r.Protocol },
	"local_ip":            func(r *ipflow.VerifyRequest) *string { return &r.LocalIPAddress },
	"localipaddress":      func(r *ipflow.VerifyRequest) *string { return &r.LocalIPAddress },
	"local_port":          func(r *ipflow.VerifyRequest) *string { return &r.LocalPort },
	"localport":           func(r *ipflow.VerifyRequest) *string { return &r.LocalPort },
	"remote_ip":           func(r *ipflow.VerifyRequest) *string { return &r.RemoteIPAddress },
	"remoteipaddress":     func(r *ipflow.VerifyRequest) *string { return &r.RemoteIPAddress },
	"remote_port":         func(r *ipflow.VerifyRequest) *string { return &r.RemotePort },
	"remoteport":          func(r *ipflow.VerifyRequest) *string { return &r.RemotePort },
	"nic":                 func(r *ipflow.VerifyRequest) *string { return &r.TargetNICResourceID },
	"targetnicresourceid": func(r *ipflow.VerifyRequest) *string { return &r.TargetNICResourceID },
}

func verifyCSV(r io.Reader, name string, answer func(int, ipflow.VerifyRequest) error) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: no CSV header: %w", name, err)
	}
	fields := make([]func(*ipflow.VerifyRequest) *string, len(header))
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if fields[i] = csvColumns[key]; fields[i] == nil {
			return fmt.Errorf("%s: unknown column %q (want target, direction, protocol, local_ip, local_port, remote_ip, remote_port, nic)", name, h)
		}
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var req ipflow.VerifyRequest
		for i, v := range rec {
			*fields[i](&req) = v
		}
		if err := answer(line, req); err != nil {
			return err
		}
	}
}
