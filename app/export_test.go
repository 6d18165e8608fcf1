package app

import (
	"context"
	"time"
)

// KeepRepairedOn is KeepRepaired on the test's clock: each value sent on
// ticks is one tick, and a send returns once the previous pass is over.
func (x *Indexer) KeepRepairedOn(ctx context.Context, ticks <-chan time.Time, passTimeout time.Duration) {
	x.keepRepaired(ctx, ticks, passTimeout)
}
