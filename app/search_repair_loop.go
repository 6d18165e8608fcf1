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
// for writers that bypass this process's services). One drift pass per org
// is cheap, but not across thousands of orgs every few seconds:
// BenchmarkDriftRepairPass measures a full pass (docs/benchmarks.md). A
// failed pass (the store is down) is logged and its orgs stay suspect; a
// failed full pass is resumed later (see keepRepaired).
func (x *Indexer) KeepRepaired(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	x.keepRepaired(ctx, t.C, max(interval, 30*time.Second))
}

// keepRepaired is KeepRepaired on a given clock: a pass starts at each
// tick and may take up to passTimeout.
//
// A full pass that fails keeps its place (repairPass) and is tried again,
// resuming there: at the next tick when it got somewhere (a long catch-up
// that ran out of time), else after 1, 2, 4, ... ticks up to
// FullRepairEvery. Before, every failed full pass was retried from the
// start at the next tick: a pass that fails every time (PostgreSQL's 5 s
// statement timeout on an org-wide anti-join at 100,000 memories) then ran
// back to back forever instead of once a minute.
func (x *Indexer) keepRepaired(ctx context.Context, ticks <-chan time.Time, passTimeout time.Duration) {
	due := x.d.FullRepairEvery // ticks until the next full pass
	backoff := 0               // ticks waited after the last failed full pass
	var resume *repairPass     // a failed full pass, to resume
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		due--
		pass, cancel := context.WithTimeout(ctx, passTimeout)
		var n int
		var err error
		if suspects := x.takeSuspects(); due <= 0 {
			p := resume
			if p == nil {
				p, err = x.fullPass(pass)
			}
			if p != nil {
				n, err = x.repair(pass, p)
			}
			switch {
			case err == nil:
				resume, due, backoff = nil, x.d.FullRepairEvery, 0
			case p != nil && p.moved:
				resume, due, backoff = p, 1, 0
			default:
				resume = p
				backoff = min(max(2*backoff, 1), x.d.FullRepairEvery)
				due = backoff
			}
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
