package app

import (
	"context"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// LoadResult is what Load did.
type LoadResult struct {
	// Vectors counts the active memories loaded into the vector index.
	Vectors int
	// Healed counts text index entries re-synced because they lagged.
	Healed int
	// RepairErr is why healing the text index failed, if it did: the
	// vectors are loaded all the same (search works; engram reindex
	// rebuilds the text index).
	RepairErr error
}

// Load is a serving process's start: it fills an in-process vector index
// from the store (when loadVectors) and heals the text index's drift a
// crash left behind, reading the store's active memories once for both.
// Each scanned page is embedded into the vectors and checked against the
// text index (ports.PageDrift); afterwards the text entries whose memory is
// no longer active are removed. Without PageDrift (or without vectors to
// load) it is Reindex then Repair, as before.
func (x *Indexer) Load(ctx context.Context, loadVectors bool) (LoadResult, error) {
	pd, _ := x.d.Drift.(ports.PageDrift)
	if pd == nil && x.d.Drift == nil {
		pd, _ = x.d.Text.(ports.PageDrift)
	}
	var res LoadResult
	if !loadVectors || pd == nil || x.d.Text == nil {
		if loadVectors {
			n, err := x.Reindex(ctx, ReindexOptions{Vectors: true})
			if err != nil {
				return res, err
			}
			res.Vectors = n
		}
		res.Healed, res.RepairErr = x.Repair(ctx)
		return res, nil
	}
	var healed int
	heal := func(ctx context.Context, page []domain.Memory) error {
		if len(page) == 0 {
			return nil
		}
		refs, err := pd.Stale(ctx, page[0].OrgID, page)
		if err != nil {
			return fmt.Errorf("text index check: %w", err)
		}
		n, err := x.syncRefs(ctx, refs)
		healed += n // one worker at a time: see below
		return err
	}
	var healErr error
	// Reindex calls page from several workers: serialise the healing,
	// which is rare (a crash's leftovers) and cheap when nothing lags.
	serial := make(chan struct{}, 1)
	n, err := x.Reindex(ctx, ReindexOptions{Vectors: true, page: func(ctx context.Context, ms []domain.Memory) error {
		serial <- struct{}{}
		defer func() { <-serial }()
		if healErr == nil {
			// A failed check does not stop the vector load.
			healErr = heal(ctx, ms)
		}
		return nil
	}})
	res.Vectors = n
	if err != nil {
		return res, err
	}
	res.Healed, res.RepairErr = healed, healErr
	if healErr != nil {
		return res, nil
	}
	orgs, err := x.d.Scanner.Orgs(ctx)
	if err != nil {
		res.RepairErr = fmt.Errorf("load: %w", err)
		return res, nil
	}
	for _, org := range orgs {
		for range maxRepairRounds {
			refs, err := pd.Orphans(ctx, org, repairBatch)
			if err != nil {
				res.RepairErr = fmt.Errorf("load: text index orphans: %w", err)
				return res, nil
			}
			k, err := x.syncRefs(ctx, refs)
			res.Healed += k
			if err != nil {
				res.RepairErr = fmt.Errorf("load: %w", err)
				return res, nil
			}
			if len(refs) < repairBatch {
				break
			}
		}
	}
	return res, nil
}

// syncRefs re-syncs refs, grouped by tenant, and counts them.
func (x *Indexer) syncRefs(ctx context.Context, refs []ports.MemoryRef) (int, error) {
	byTenant := map[domain.Tenant][]domain.MemoryID{}
	for _, r := range refs {
		byTenant[r.Tenant] = append(byTenant[r.Tenant], r.ID)
	}
	for t, ids := range byTenant {
		if err := x.Sync(ctx, t, ids); err != nil {
			return 0, err
		}
	}
	return len(refs), nil
}
