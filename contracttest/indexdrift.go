package contracttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// DriftIndex is a text index that computes its drift against the store it
// lives beside (ports.IndexDrift).
type DriftIndex interface {
	ports.TextIndex
	ports.IndexDrift
}

// RunIndexDrift checks a ports.IndexDrift. newPair is called once per
// subtest and returns an empty store and the text index living in its
// database, isolated from every other subtest and cleaned up with
// t.Cleanup.
func RunIndexDrift(t *testing.T, newPair func(t *testing.T) (ports.MemoryStore, DriftIndex)) {
	t.Run("Drift/MissingStaleAndOrphans", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, x := newPair(t)
		tn := domain.Tenant{OrgID: "org-drift", UserID: "u"}
		synced, stale, missing, gone, paused := driftMemory(t, s, tn, "in step"), driftMemory(t, s, tn, "old text"),
			driftMemory(t, s, tn, "never indexed"), driftMemory(t, s, tn, "deleted later"), driftMemory(t, s, tn, "paused later")
		ghost := domain.NewMemoryID(time.Now()) // an entry whose memory the store never held
		require.NoError(t, x.Index(ctx, tn, []ports.TextDoc{driftDoc(synced), driftDoc(stale), driftDoc(gone), driftDoc(paused),
			{ID: ghost, Text: "ghost", AppID: "app", CreatedAt: time.Now()}}))
		_, err := s.Update(ctx, tn, stale.ID, "app", func(m *domain.Memory) error { m.Text = "new text"; return nil })
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctx, tn, []domain.MemoryID{gone.ID}, "app"))
		_, err = s.SetState(ctx, tn, []domain.MemoryID{paused.ID}, domain.StatePaused, "app")
		require.NoError(t, err)

		for _, limit := range []int{1, 2, 100} {
			refs, _ := DriftPass(t, x, tn.OrgID, limit)
			require.ElementsMatch(t, []domain.MemoryID{stale.ID, missing.ID, gone.ID, paused.ID, ghost}, refIDs(t, tn, refs), "limit %d", limit)
		}
		other, _ := DriftPass(t, x, "org-other", 10)
		require.Empty(t, other)
		_, err = x.Drift(ctx, tn.OrgID, ports.MemoryRef{}, 0)
		require.ErrorIs(t, err, domain.ErrInvalid)
	})

	// The repair walks an org in steps of a few thousand; before keyset
	// steps, each call answered the first drifted memories of the whole
	// org again, so a walk that did not fix them in between never ended
	// and a walk that did rescanned the org from the start every round.
	t.Run("Drift/PassVisitsEachKeyOnceAndEnds", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, x := newPair(t)
		const org = "org-walk"
		want := map[domain.MemoryID]bool{}
		for u := range 3 {
			tn := domain.Tenant{OrgID: org, UserID: domain.UserID(fmt.Sprintf("user-%d", u))}
			var indexed []ports.TextDoc
			for i := range 12 {
				m := driftMemory(t, s, tn, fmt.Sprintf("user %d memory %d", u, i))
				if i%3 == 0 {
					indexed = append(indexed, driftDoc(m))
				} else {
					want[m.ID] = true
				}
			}
			for range 2 { // orphans between the users' memories
				id := domain.NewMemoryID(time.Now())
				indexed = append(indexed, ports.TextDoc{ID: id, Text: "orphan", AppID: "app", CreatedAt: time.Now()})
				want[id] = true
			}
			require.NoError(t, x.Index(ctx, tn, indexed))
		}
		for _, limit := range []int{1, 3, 7, 50} {
			refs, steps := DriftPass(t, x, org, limit)
			seen := map[domain.MemoryID]int{}
			for _, r := range refs {
				seen[r.ID]++
				require.Equal(t, domain.OrgID(org), r.Tenant.OrgID)
			}
			require.Len(t, seen, len(want), "limit %d: every drifted memory", limit)
			for id, n := range seen {
				require.True(t, want[id], "limit %d: %s did not drift", limit, id)
				require.Equal(t, 1, n, "limit %d: %s visited once", limit, id)
			}
			// 36 memories and 18 entries: a step covers at least limit keys.
			require.LessOrEqual(t, steps, (36+18)/limit+1, "limit %d: the pass is linear", limit)
		}
	})
}

// DriftPass walks one whole IndexDrift pass over org, limit keys a step,
// fixing nothing in between, and returns every ref and the number of
// steps. It fails the test when a step exceeds 2×limit refs, a ref comes
// twice, or the pass does not end.
func DriftPass(t *testing.T, d ports.IndexDrift, org domain.OrgID, limit int) ([]ports.MemoryRef, int) {
	t.Helper()
	var out []ports.MemoryRef
	seen := map[ports.MemoryRef]bool{}
	after := ports.MemoryRef{}
	for steps := 1; steps <= 10_000; steps++ {
		step, err := d.Drift(context.Background(), org, after, limit)
		require.NoError(t, err)
		require.LessOrEqual(t, len(step.Refs), 2*limit, "a step returns at most limit memories and limit entries")
		for _, r := range step.Refs {
			require.False(t, seen[r], "%s returned twice in one pass", r.ID)
			seen[r] = true
		}
		out = append(out, step.Refs...)
		if step.Done {
			return out, steps
		}
		require.NotEqual(t, after, step.Next, "a step advances")
		after = step.Next
	}
	t.Fatal("the drift pass did not end")
	return nil, 0
}

func driftMemory(t *testing.T, s ports.MemoryStore, tn domain.Tenant, text string) domain.Memory {
	t.Helper()
	m, err := domain.NewMemory(tn, "app", text, nil, nil, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(context.Background(), tn, m)
	require.NoError(t, err)
	return m
}

func driftDoc(m domain.Memory) ports.TextDoc {
	return ports.TextDoc{ID: m.ID, Text: m.Text, Hash: m.ContentHash, AppID: m.AppID, CreatedAt: m.CreatedAt}
}

func refIDs(t *testing.T, tn domain.Tenant, refs []ports.MemoryRef) []domain.MemoryID {
	t.Helper()
	ids := make([]domain.MemoryID, len(refs))
	for i, r := range refs {
		require.Equal(t, tn, r.Tenant)
		ids[i] = r.ID
	}
	return ids
}
