// Command flowlens converts, reports on and troubleshoots Azure network
// flow logs and packet captures. See the README for a tour.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // the run failed, or skipped input under --strict
	exitUsage   = 2
	exitSignals = 130
)

// usageError marks errors in how flowlens was called.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// scanGC has the garbage collector run less often in the commands that
// scan a dataset (query, report): their heap is mostly buffers that live
// as long as the command, so a collection finds little garbage. At the
// default GOGC of 100 a 1x needle query took 10% longer than at 400, and
// `report all` on the 4x dataset 6% longer, for 18% less peak RSS
// (bench/README). For its first gcQuiet the command does not collect at
// all unless its heap reaches gcQuietLimit: a needle query is over by
// then, and its one collection (at 16 MiB) took 1.5 ms of its 48 ms.
// GOGC or GOMEMLIMIT in the environment wins.
func scanGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		debug.SetGCPercent(400)
		return
	}
	limit := gcLimitBefore() // the same for every call: runs may overlap in tests
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(gcQuietLimit)
	time.AfterFunc(gcQuiet, func() { endQuietGC(limit) })
}

// gcLimitBefore is the memory limit before the first scanGC.
var gcLimitBefore = sync.OnceValue(func() int64 { return debug.SetMemoryLimit(-1) })

// endQuietGC ends scanGC's first moments: GOGC 400 and the memory limit
// there was before.
func endQuietGC(limit int64) {
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(limit)
}

const (
	gcQuiet      = 250 * time.Millisecond
	gcQuietLimit = 64 << 20
)

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmdFor(args)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "flowlens:", err)
	var ue usageError
	switch {
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "unknown command "): // cobra's, for the root
		return exitUsage
	case ctx.Err() != nil:
		return exitSignals
	}
	return exitFailed
}

// commands are flowlens's commands, by name.
var commands = []struct {
	name string
	make func() *cobra.Command
}{
	{"convert", newConvertCmd}, {"flows", newFlowsCmd}, {"demo", newDemoCmd}, {"verify", newVerifyCmd},
	{"sgview", newSGViewCmd}, {"topology", newTopologyCmd}, {"nexthop", newNextHopCmd}, {"routes", newRoutesCmd},
	{"query", newQueryCmd}, {"report", newReportCmd}, {"index", newIndexCmd},
}

// newRootCmd builds the whole command tree.
func newRootCmd() *cobra.Command { return newRootCmdFor(nil) }

// newRootCmdFor builds the command tree for the command line args: when
// they start with the name of a command, that command alone, without
// cobra's completion command. Building every command and its flags took
// about half a millisecond of each 45 ms query.
func newRootCmdFor(args []string) *cobra.Command {
	root := &cobra.Command{
		Use:           "flowlens",
		Short:         "Network flow analytics for Azure flow logs and packet captures",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	var cpuProfile, memProfile string
	var stopProfile func()
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().StringVar(&memProfile, "memprofile", "", "write an allocation profile to this file")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	_ = root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if memProfile != "" {
			runtime.MemProfileRate = 4096
		}
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	root.PersistentPostRun = func(c *cobra.Command, args []string) {
		if stopProfile != nil {
			stopProfile()
		}
		if memProfile != "" {
			if f, err := os.Create(memProfile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
	}
	for _, c := range commands {
		if len(args) > 0 && args[0] == c.name {
			root.AddCommand(c.make())
			root.CompletionOptions.DisableDefaultCmd = true
			return root
		}
	}
	for _, c := range commands {
		root.AddCommand(c.make())
	}
	return root
}

// usageArgs wraps a cobra argument validator so its errors are usage errors.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := v(c, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
