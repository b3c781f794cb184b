package ipflow

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/flowlens/flowlens/topology"
)

// byteSource feeds the rule generator from fuzz input, eight bytes at a
// time, so that a mutation changes a few choices rather than all of them.
// Each value is mixed with a counter so that runs of equal bytes (or an
// exhausted input) never starve rand's rejection sampling.
type byteSource struct {
	b []byte
	n uint64
}

func (s *byteSource) Uint64() uint64 {
	var buf [8]byte
	k := copy(buf[:], s.b)
	s.b = s.b[k:]
	s.n++
	z := s.n * 0x9e3779b97f4a7c15 // splitmix64 of the counter
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return binary.LittleEndian.Uint64(buf[:]) ^ z ^ z>>31
}

// FuzzClassifier builds a rule set and packets from the input and demands
// the classifier's answer equal the linear reference's for every packet.
//
//	go test ./ipflow -run '^$' -fuzz FuzzClassifier -fuzztime 30s
func FuzzClassifier(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x05\x00\x00\x00\x00\x00\x00\x00 some rules and packets"))
	seed := make([]byte, 4096)
	for i := range seed {
		seed[i] = byte(i * 7)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		g := ruleGen{rand.New(&byteSource{b: data})}
		rules := g.rules(t, 1+g.r.IntN(80))
		lin, cls := &Linear{Rules: rules}, NewClassifier(rules)
		for range 200 {
			p := g.packet(rules)
			if want, got := lin.Match(&p), cls.Match(&p); want != got {
				t.Fatalf("%d rules, packet %+v: linear %d, classifier %d", len(rules), p, want, got)
			}
		}
	})
}

// FuzzVerifyRequest parses a request body and answers it over a scenario
// network: errors are fine, panics are not, and every answer is Allow or
// Deny.
//
//	go test ./ipflow -run '^$' -fuzz FuzzVerifyRequest -fuzztime 30s
func FuzzVerifyRequest(f *testing.F) {
	n, _, err := topology.Load("../testdata/verify/asg-peering-udr/network")
	if err != nil {
		f.Fatal(err)
	}
	ev := NewEvaluator(n, Config{})
	f.Add([]byte(`{"targetResourceId":"web","direction":"Inbound","protocol":"TCP","localIPAddress":"10.1.1.4","localPort":"80","remoteIPAddress":"168.63.129.16","remotePort":"*"}`))
	f.Add([]byte(`{"targetResourceId":"db","direction":"Outbound","protocol":"*","localIPAddress":"10.1.1.5","localPort":"0-65535","remoteIPAddress":"0.0.0.0/0","remotePort":"1-2"}`))
	f.Add([]byte(`{"parameters":{"parameters":{"targetResourceId":"routed","direction":"in","protocol":"17","localIPAddress":"10.1.2.4","localPort":"53","remoteIPAddress":"10.0.0.0-10.255.0.0","remotePort":"53"}}}`))
	f.Add([]byte(`{"targetResourceId":"web","direction":"Inbound","protocol":"TCP","localIPAddress":"fd00::1","localPort":"80","remoteIPAddress":"::/0","remotePort":"*"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseVerifyRequest(data)
		if err != nil {
			return
		}
		answers, err := ev.Verify(req, 200)
		if err != nil && !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrTooManyParts) && !errors.Is(err, topology.ErrNotFound) && !errors.Is(err, topology.ErrAmbiguous) {
			t.Fatalf("%q: unexpected error kind: %v", data, err)
		}
		for _, a := range answers {
			if a.Access != "Allow" && a.Access != "Deny" {
				t.Fatalf("%q: answer %+v", data, a)
			}
		}
	})
}
