// Package parallel hands a list of items to a fixed set of workers and
// stops them all at the first error: the shape of every conversion in
// flowlens (blobs or captures to workers, each with its own sink).
package parallel

import (
	"context"
	"sync"
)

// Worker processes items on one goroutine.
type Worker[T any] interface {
	// Do processes one item.
	Do(ctx context.Context, item T) error
	// Finish is called after the worker's last item when the run was
	// neither cancelled nor stopped by an error.
	Finish() error
	// Abort is called instead of Finish when the run stops early.
	Abort()
}

// Run hands items, in order, to the workers, one goroutine each. The first
// error (or the end of ctx) stops the run: items not yet handed out are
// left, and Run returns that error once every worker has returned.
func Run[T any](ctx context.Context, items []T, workers []Worker[T]) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan T)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for item := range work {
				if ctx.Err() != nil {
					break
				}
				if err := w.Do(ctx, item); err != nil {
					cancel(err)
					break
				}
			}
			if ctx.Err() != nil {
				w.Abort()
				return
			}
			if err := w.Finish(); err != nil {
				cancel(err)
				w.Abort()
			}
		}()
	}
feed:
	for _, item := range items {
		select {
		case work <- item:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}
