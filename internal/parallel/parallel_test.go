package parallel

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

type counter struct {
	done, finished, aborted *atomic.Int64
	failAt                  int
}

func (c counter) Do(ctx context.Context, item int) error {
	if item == c.failAt {
		return errors.New("boom")
	}
	c.done.Add(1)
	return nil
}
func (c counter) Finish() error { c.finished.Add(1); return nil }
func (c counter) Abort()        { c.aborted.Add(1) }

func run(t *testing.T, n, failAt int) (done, finished, aborted int64, err error) {
	t.Helper()
	var d, f, a atomic.Int64
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	ws := []Worker[int]{counter{&d, &f, &a, failAt}, counter{&d, &f, &a, failAt}, counter{&d, &f, &a, failAt}}
	err = Run(context.Background(), items, ws)
	return d.Load(), f.Load(), a.Load(), err
}

func TestRun(t *testing.T) {
	done, finished, aborted, err := run(t, 1000, -1)
	if err != nil || done != 1000 || finished != 3 || aborted != 0 {
		t.Fatalf("err %v, done %d, finished %d, aborted %d", err, done, finished, aborted)
	}
	done, finished, aborted, err = run(t, 1000, 10)
	if err == nil || err.Error() != "boom" || done >= 1000 || finished != 0 || aborted != 3 {
		t.Fatalf("on error: err %v, done %d, finished %d, aborted %d", err, done, finished, aborted)
	}
}
