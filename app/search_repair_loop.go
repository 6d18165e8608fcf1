package app

import (
	"context"
	"time"
)

// KeepRepaired repairs the indexes against the store while serving, not
// only at start (Repair at start covers a crash). What it covers is a write
// whose commit the client never saw (the connection froze or its deadline
// ended after COMMIT), so no change notice followed and the indexes never
// heard of it. Such a write failed in this process with an unknown outcome,
// which marked its org (OutcomeUnknown) for the next few passes: every
// interval the suspect orgs are repaired, and every IndexerDeps.FullRepairEvery intervals every org (a backstop
// for writers that bypass this process's services). One anti-join per org
// is cheap, but not across thousands of orgs every few seconds:
// BenchmarkDriftRepairPass measures a full pass (docs/benchmarks.md). A
// failed pass (the store is down) is logged, its orgs stay suspect, and it
// is tried again at the next tick.
func (x *Indexer) KeepRepaired(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	fullDue := false // a full pass failed: the next tick tries it again
	for tick := 1; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pass, cancel := context.WithTimeout(ctx, max(interval, 30*time.Second))
			var n int
			var err error
			if suspects := x.takeSuspects(); fullDue || tick%x.d.FullRepairEvery == 0 {
				n, err = x.Repair(pass)
				fullDue = err != nil
				if err != nil {
					x.remark(suspects)
				}
			} else if len(suspects) > 0 {
				n, err = x.repairOrgs(pass, suspects)
				if err != nil {
					x.remark(suspects)
				}
			}
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
