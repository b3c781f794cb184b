//go:build race

package query

// raceEnabled is true under -race, whose instrumentation allocates (and
// makes sync.Pool drop items), so allocation counts mean nothing there.
const raceEnabled = true
