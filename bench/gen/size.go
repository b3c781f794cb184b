package gen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSize is wrapped by the errors of ParseSize.
var ErrSize = errors.New("bad size")

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseSize parses a byte size such as "1GiB", "512MiB", "64MB", "1.5G"
// or "1000000". Binary units (KiB, MiB, GiB, TiB, and K, M, G, T) are
// powers of 1024, decimal ones (KB, MB, GB, TB) powers of 1000; units are
// case-insensitive.
func ParseSize(s string) (int64, error) {
	num := strings.TrimSpace(s)
	mult := 1.0
	for _, u := range sizeUnits {
		if len(num) > len(u.suffix) && strings.EqualFold(num[len(num)-len(u.suffix):], u.suffix) {
			num, mult = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("%w %q: want a number with an optional unit (KiB, MiB, GiB, KB, MB, GB)", ErrSize, s)
	}
	return int64(v * mult), nil
}

// FormatSize formats a byte size with a binary unit, for messages.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
