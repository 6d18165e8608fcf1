package app

import (
	"context"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// repairBatch and maxRepairRounds bound one Repair pass per org.
const (
	repairBatch     = 500
	maxRepairRounds = 2000
)

// Repair re-syncs every memory whose text index entry disagrees with the
// store, when the text index can compute that (ports.IndexDrift: the
// indexes living in the store's database). It is the durable half of
// pending work: a crash between a store commit and its index write leaves
// drift, not loss, and Repair — run at start, before serving — turns it
// back into an index that agrees with the store. Vectors of the repaired
// memories are rewritten too. It returns how many memories it re-synced.
func (x *Indexer) Repair(ctx context.Context) (int, error) {
	if x.drift() == nil || x.d.Scanner == nil {
		return 0, nil
	}
	orgs, err := x.d.Scanner.Orgs(ctx)
	if err != nil {
		return 0, fmt.Errorf("repair: %w", err)
	}
	return x.repairOrgs(ctx, orgs)
}

func (x *Indexer) drift() ports.IndexDrift {
	if x.d.Drift != nil {
		return x.d.Drift
	}
	drift, _ := x.d.Text.(ports.IndexDrift)
	return drift
}

// repairOrgs re-syncs what drifted in each of orgs.
func (x *Indexer) repairOrgs(ctx context.Context, orgs []domain.OrgID) (int, error) {
	drift := x.drift()
	if drift == nil {
		return 0, nil
	}
	total := 0
	for _, org := range orgs {
		for range maxRepairRounds {
			refs, err := drift.Drift(ctx, org, repairBatch)
			if err != nil {
				return total, fmt.Errorf("repair: %w", err)
			}
			byTenant := map[domain.Tenant][]domain.MemoryID{}
			for _, r := range refs {
				byTenant[r.Tenant] = append(byTenant[r.Tenant], r.ID)
			}
			for t, ids := range byTenant {
				if err := x.Sync(ctx, t, ids); err != nil {
					return total, fmt.Errorf("repair: %w", err)
				}
			}
			total += len(refs)
			if len(refs) < repairBatch {
				break
			}
		}
	}
	return total, nil
}

// suspectPasses is how many KeepRepaired passes repair an org after a write
// with an unknown outcome: the write may commit after the first of them
// (the store thawing), so a few more follow.
const suspectPasses = 3

// OutcomeUnknown marks t's org for the next repair passes: a write of t
// failed in a way that leaves its outcome unknown (the store may commit it
// with nobody told), and the look-up after it did not find it committed.
func (x *Indexer) OutcomeUnknown(t domain.Tenant) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.suspect[t.OrgID] = suspectPasses
}

// takeSuspects returns the suspect orgs, each losing one pass.
func (x *Indexer) takeSuspects() []domain.OrgID {
	x.mu.Lock()
	defer x.mu.Unlock()
	orgs := make([]domain.OrgID, 0, len(x.suspect))
	for o, n := range x.suspect {
		orgs = append(orgs, o)
		if n <= 1 {
			delete(x.suspect, o)
		} else {
			x.suspect[o] = n - 1
		}
	}
	return orgs
}

// remark gives orgs back the pass a failed pass took.
func (x *Indexer) remark(orgs []domain.OrgID) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, o := range orgs {
		x.suspect[o] = max(x.suspect[o]+1, 1)
	}
}
