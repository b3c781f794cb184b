package prefetch

import (
	"math/rand/v2"
	"testing"
)

// TestAddrs prefetches valid, nil and unmapped addresses: nothing faults
// and no memory changes.
func TestAddrs(t *testing.T) {
	xs := make([]int64, 1000)
	for i := range xs {
		xs[i] = int64(i)
	}
	addrs := []uintptr{Addr(&xs[0]), Addr(&xs[999]), 0, ^uintptr(0) >> 2 &^ 63, ^uintptr(0) &^ 63}
	Addrs(addrs)
	Addrs(nil)
	for i, x := range xs {
		if x != int64(i) {
			t.Fatalf("xs[%d] = %d after prefetching", i, x)
		}
	}
}

// BenchmarkRandomReads sums 16 random entries of a 256 MiB table at a
// time, with or without prefetching them first (as flow assembly does a
// group of packets ahead).
func BenchmarkRandomReads(b *testing.B) {
	table := make([]int64, 32<<20)
	for i := range table {
		table[i] = int64(i)
	}
	const group = 16
	rng := rand.New(rand.NewPCG(1, 2))
	idx := make([]int, 1<<16)
	for i := range idx {
		idx[i] = rng.IntN(len(table))
	}
	for _, pre := range []bool{false, true} {
		name := "load"
		if pre {
			name = "prefetch"
		}
		b.Run(name, func(b *testing.B) {
			var addrs [group]uintptr
			var sum int64
			b.SetBytes(group * 8)
			b.ReportAllocs()
			for n := 0; b.Loop(); n++ {
				at := (n * group) % len(idx)
				next := (at + group) % len(idx)
				if pre {
					for j := range group {
						addrs[j] = Addr(&table[idx[next+j]])
					}
					Addrs(addrs[:])
				}
				for j := range group {
					sum += table[idx[at+j]]
					sum *= 3
				}
			}
			if sum == 42 {
				b.Log(sum)
			}
		})
	}
}
