package app

import (
	"context"
	"time"
)

// KeepRepaired runs Repair every interval until ctx ends. Repair at start
// covers a crash; this covers what happens while serving: a write whose
// commit the client never saw (the connection froze or its deadline ended
// after COMMIT), so no change notice followed and the indexes never heard
// of it. Each pass is one anti-join per org on the store's own tables, so
// an interval of seconds is cheap; a failed pass (the store is down) is
// logged and retried at the next tick.
func (x *Indexer) KeepRepaired(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pass, cancel := context.WithTimeout(ctx, max(interval, 30*time.Second))
			n, err := x.Repair(pass)
			cancel()
			switch {
			case err != nil && ctx.Err() == nil:
				x.d.Logger.Warn("index drift repair failed; will try again", "err", err)
			case n > 0:
				x.d.Logger.Info("index drift repaired", "memories", n)
			}
		}
	}
}
