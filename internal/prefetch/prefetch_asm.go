//go:build amd64 || arm64

package prefetch

// Addrs prefetches the cache line of each address into every cache level.
// Addresses need not be valid: a prefetch of an unmapped one is dropped.
//
//go:noescape
func Addrs(addrs []uintptr)
