package contracttest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// raceCases are the behaviours under concurrent writers: the store, not
// the caller, must serialise them.
func raceCases() []memoryCase {
	return []memoryCase{
		{"Update/ConcurrentWritersLoseNothing", testConcurrentWriters},
		{"Update/ConcurrentSameTextOneWins", testConcurrentSameText},
		{"SetState/ConcurrentReactivationOneWins", testConcurrentReactivation},
	}
}

// testConcurrentWriters runs 50 goroutines that each create a memory of
// their own and add one key to a shared memory through Update's
// read-modify-write. A lost update drops a key; a lost insert drops a row.
func testConcurrentWriters(t *testing.T, s ports.MemoryStore) {
	const writers = 50
	tn := newTenant(t)
	shared := mustCreate(t, s, memOf(t, tn, "app", "shared counter"))
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	created := make(chan domain.MemoryID, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := ctxFor(t)
			m, err := domain.NewMemory(tn, "app", fmt.Sprintf("writer %d was here", i), nil, nil, time.Now())
			if err != nil {
				errs <- err
				return
			}
			if _, ok, err := s.Create(ctx, tn, m); err != nil || !ok {
				errs <- fmt.Errorf("writer %d create: created=%v err=%v", i, ok, err)
			} else {
				created <- m.ID
			}
			_, err = s.Update(ctx, tn, shared.ID, domain.AppID(fmt.Sprintf("w%d", i)), func(x *domain.Memory) error {
				md := domain.Metadata{}
				for k, v := range x.Metadata {
					md[k] = v
				}
				md[fmt.Sprintf("w%02d", i)] = float64(i)
				x.Metadata = md
				return nil
			})
			if err != nil {
				errs <- fmt.Errorf("writer %d update: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(created)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := s.Get(ctxFor(t), tn, shared.ID)
	require.NoError(t, err)
	require.Len(t, got.Metadata, writers, "an acknowledged update was lost")
	hist, err := s.History(ctxFor(t), tn, shared.ID)
	require.NoError(t, err)
	require.Len(t, hist, writers+1)
	all := map[domain.MemoryID]bool{}
	for _, m := range listAll(t, s, tn, domain.ListQuery{Limit: domain.MaxListLimit}) {
		all[m.ID] = true
	}
	require.Len(t, all, writers+1)
	for id := range created {
		require.True(t, all[id], "acknowledged create %s is missing", id)
	}
}

// raceTwo runs a and b at the same moment and returns their errors.
func raceTwo(a, b func() error) (error, error) {
	var wg sync.WaitGroup
	var ea, eb error
	start := make(chan struct{})
	wg.Add(2)
	go func() { defer wg.Done(); <-start; ea = a() }()
	go func() { defer wg.Done(); <-start; eb = b() }()
	close(start)
	wg.Wait()
	return ea, eb
}

// requireOneWins asserts exactly one of two racing calls succeeded and the
// other wraps ErrConflict.
func requireOneWins(t *testing.T, ea, eb error) {
	t.Helper()
	if ea == nil {
		requireKind(t, eb, domain.ErrConflict, "loser")
		return
	}
	requireKind(t, ea, domain.ErrConflict, "loser")
	require.NoError(t, eb, "winner")
}

// countActive returns how many active memories of tn have text.
func countActive(t *testing.T, s ports.MemoryStore, tn domain.Tenant, text string) int {
	t.Helper()
	n := 0
	for _, m := range listAll(t, s, tn, domain.ListQuery{States: []domain.State{domain.StateActive}}) {
		if m.Text == text {
			n++
		}
	}
	return n
}

func testConcurrentSameText(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	for round := range 5 {
		ms := createTexts(t, s, tn, "app", fmt.Sprintf("left %d", round), fmt.Sprintf("right %d", round))
		target := fmt.Sprintf("both want this %d", round)
		set := func(id domain.MemoryID) func() error {
			return func() error {
				_, err := s.Update(ctxFor(t), tn, id, "app", func(x *domain.Memory) error { x.Text = target; return nil })
				return err
			}
		}
		ea, eb := raceTwo(set(ms[0].ID), set(ms[1].ID))
		requireOneWins(t, ea, eb)
		require.Equal(t, 1, countActive(t, s, tn, target), "round %d", round)
	}
}

func testConcurrentReactivation(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	for round := range 5 {
		text := fmt.Sprintf("archived twice %d", round)
		var ids []domain.MemoryID
		for range 2 {
			m := mustCreate(t, s, memOf(t, tn, "app", text))
			_, err := s.SetState(ctxFor(t), tn, []domain.MemoryID{m.ID}, domain.StateArchived, "app")
			require.NoError(t, err)
			ids = append(ids, m.ID)
		}
		activate := func(id domain.MemoryID) func() error {
			return func() error {
				_, err := s.SetState(ctxFor(t), tn, []domain.MemoryID{id}, domain.StateActive, "app")
				return err
			}
		}
		ea, eb := raceTwo(activate(ids[0]), activate(ids[1]))
		requireOneWins(t, ea, eb)
		require.Equal(t, 1, countActive(t, s, tn, text), "round %d", round)
	}
}
