//go:build !amd64 && !arm64

package prefetch

// Addrs does nothing on this architecture (see the package comment).
func Addrs(addrs []uintptr) {}
