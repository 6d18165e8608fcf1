package app

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/engram-memory/engram/domain"
)

// ReindexOptions choose which indexes Reindex rebuilds.
type ReindexOptions struct {
	Text    bool
	Vectors bool
	// Progress, when set, is called after each batch with the running total.
	Progress func(indexed int)
	// page, when set, also sees every scanned page (Load heals the text
	// index with it in the same pass).
	page func(ctx context.Context, ms []domain.Memory) error
}

const reindexBatch = 256

// Reindex writes every active memory of every org into the chosen indexes,
// from the store. Entries of memories that are no longer active are not
// swept (search drops them on hydration and the next change removes them);
// a changed embedding model needs a fresh vector index, which Bind enforces.
// Batches are embedded and written by GOMAXPROCS workers.
func (x *Indexer) Reindex(ctx context.Context, o ReindexOptions) (int, error) {
	if x.d.Scanner == nil {
		return 0, fmt.Errorf("reindex: %w", domain.Invalid("scanner", "this store cannot be scanned"))
	}
	// sub writes only the chosen indexes.
	sub := &Indexer{d: x.d}
	sub.d.Text, sub.d.Vectors = nil, nil
	sub.d.TextRelayed, sub.d.VectorsRelayed = false, false
	if o.Text {
		sub.d.Text = x.d.Text
	}
	if o.Vectors {
		sub.d.Vectors = x.d.Vectors
		if err := x.Bind(ctx); err != nil {
			return 0, err
		}
	}
	orgs, err := x.d.Scanner.Orgs(ctx)
	if err != nil {
		return 0, fmt.Errorf("reindex: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []domain.Memory, 2)
	var (
		mu       sync.Mutex
		total    int
		firstErr error
		wg       sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for b := range batches {
				err := sub.indexBatch(ctx, b)
				if err == nil && o.page != nil {
					err = o.page(ctx, b)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				total += len(b)
				n := total
				mu.Unlock()
				if o.Progress != nil && err == nil {
					o.Progress(n)
				}
			}
		})
	}
	scanErr := x.scanAll(ctx, orgs, batches)
	close(batches)
	wg.Wait()
	if firstErr != nil {
		return total, fmt.Errorf("reindex: %w", firstErr)
	}
	if scanErr != nil {
		return total, fmt.Errorf("reindex: %w", scanErr)
	}
	return total, nil
}

func (x *Indexer) scanAll(ctx context.Context, orgs []domain.OrgID, out chan<- []domain.Memory) error {
	for _, org := range orgs {
		var after domain.MemoryID
		for {
			page, err := x.d.Scanner.ScanActive(ctx, org, after, reindexBatch)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			after = page[len(page)-1].ID
			select {
			case out <- page:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// indexBatch groups a scanned page (one org, many users) by tenant.
func (x *Indexer) indexBatch(ctx context.Context, ms []domain.Memory) error {
	byTenant := map[domain.Tenant][]domain.Memory{}
	for _, m := range ms {
		byTenant[m.Tenant()] = append(byTenant[m.Tenant()], m)
	}
	for t, group := range byTenant {
		if err := x.apply(ctx, t, group, nil); err != nil {
			return err
		}
	}
	return nil
}
