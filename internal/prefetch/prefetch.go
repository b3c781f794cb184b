// Package prefetch asks the CPU to start bringing memory into its caches
// without waiting for it. A load that misses every cache stalls the core
// once the instructions behind it fill its window; a prefetch never stalls
// and never faults, so code that knows which memory it will need a little
// later (the flows of the next packets, say) can overlap the misses.
//
// Go has no prefetch builtin; on amd64 and arm64 an assembly routine
// issues one prefetch instruction per address, elsewhere Addrs does
// nothing (prefetches are only hints).
package prefetch

import "unsafe"

// Addr returns the address of *p for Addrs.
func Addr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }
