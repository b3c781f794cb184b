package ipflow

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// byteSource feeds the rule generator from fuzz input, eight bytes at a
// time, so that a mutation changes a few choices rather than all of them.
type byteSource struct{ b []byte }

func (s *byteSource) Uint64() uint64 {
	var buf [8]byte
	n := copy(buf[:], s.b)
	s.b = s.b[n:]
	return binary.LittleEndian.Uint64(buf[:])
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
		g := ruleGen{rand.New(&byteSource{data})}
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
