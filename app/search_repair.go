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
	drift := x.d.Drift
	if drift == nil {
		drift, _ = x.d.Text.(ports.IndexDrift)
	}
	if drift == nil || x.d.Scanner == nil {
		return 0, nil
	}
	orgs, err := x.d.Scanner.Orgs(ctx)
	if err != nil {
		return 0, fmt.Errorf("repair: %w", err)
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
