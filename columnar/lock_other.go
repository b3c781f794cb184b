//go:build !unix

package columnar

import "os"

// lockFile opens name without locking it: concurrent runs of one shard are
// not detected on this system.
func lockFile(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
}
