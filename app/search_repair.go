package app

import (
	"context"
	"fmt"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// repairBatch bounds the Syncs of a repair and the orphan pages of Load;
// driftStep is how many memories (and index entries) one IndexDrift step
// reads; maxRepairRounds bounds Load's orphan pages per org.
const (
	repairBatch     = 500
	driftStep       = 2000
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
	p, err := x.fullPass(ctx)
	if err != nil || p == nil {
		return 0, err
	}
	return x.repair(ctx, p)
}

// fullPass starts a pass over every org; nil when there is no drift to
// compute.
func (x *Indexer) fullPass(ctx context.Context) (*repairPass, error) {
	if x.drift() == nil || x.d.Scanner == nil {
		return nil, nil
	}
	orgs, err := x.d.Scanner.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("repair: %w", err)
	}
	return &repairPass{orgs: orgs}, nil
}

func (x *Indexer) drift() ports.IndexDrift {
	if x.d.Drift != nil {
		return x.d.Drift
	}
	drift, _ := x.d.Text.(ports.IndexDrift)
	return drift
}

// repairPass is where a pass over orgs stands: the org it is in and the
// key after which that org's walk continues. A pass that fails keeps its
// place, so the next attempt resumes instead of starting over.
type repairPass struct {
	orgs  []domain.OrgID
	org   int
	after ports.MemoryRef
	// moved says the last attempt got somewhere (a step completed).
	moved bool
}

// repairOrgs re-syncs what drifted in each of orgs.
func (x *Indexer) repairOrgs(ctx context.Context, orgs []domain.OrgID) (int, error) {
	return x.repair(ctx, &repairPass{orgs: orgs})
}

// repair walks p's orgs, each with IndexDrift steps from where p stands to
// the org's end, re-syncing what each step finds: every key is visited
// once, so a pass is linear in the store however much drifted.
func (x *Indexer) repair(ctx context.Context, p *repairPass) (int, error) {
	drift := x.drift()
	if drift == nil {
		return 0, nil
	}
	total := 0
	p.moved = false
	for ; p.org < len(p.orgs); p.org++ {
		for {
			step, err := drift.Drift(ctx, p.orgs[p.org], p.after, driftStep)
			if err != nil {
				return total, fmt.Errorf("repair: %w", err)
			}
			for refs := step.Refs; len(refs) > 0; {
				n := min(len(refs), repairBatch)
				if _, err := x.syncRefs(ctx, refs[:n]); err != nil {
					return total, fmt.Errorf("repair: %w", err)
				}
				total += n
				refs = refs[n:]
			}
			p.moved = true
			if step.Done {
				p.after = ports.MemoryRef{}
				break
			}
			if step.Next == p.after { // a store that does not advance would loop forever
				return total, fmt.Errorf("repair: org %s: drift step did not advance past %s/%s", p.orgs[p.org], p.after.Tenant.UserID, p.after.ID)
			}
			p.after = step.Next
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
