package contracttest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func batchCases() []memoryCase {
	return []memoryCase{
		{"CreateBatch/StoresAllSkippingDuplicates", testCreateBatch},
		{"CreateBatch/InvalidWritesNothing", testCreateBatchInvalid},
		{"CreateBatch/LargeBatch", testCreateBatchLarge},
		{"CreateBatch/CancelledWritesNothing", testCreateBatchCancelled},
	}
}

func testCreateBatch(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	existing := mustCreate(t, s, memOf(t, tn, "app", "already here"))
	var batch []domain.Memory
	for _, text := range []string{"one", "two", "already here", "three", "two"} {
		batch = append(batch, memOf(t, tn, "bulk", text))
	}
	n, err := s.CreateBatch(ctxFor(t), tn, batch)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	all := listAll(t, s, tn, domain.ListQuery{})
	require.Len(t, all, 4)
	texts := map[string]int{}
	for _, m := range all {
		texts[m.Text]++
		hist, err := s.History(ctxFor(t), tn, m.ID)
		require.NoError(t, err)
		require.Len(t, hist, 1)
		require.Equal(t, domain.ChangeAdd, hist[0].Kind)
	}
	require.Equal(t, map[string]int{"one": 1, "two": 1, "three": 1, "already here": 1}, texts)
	got, err := s.Get(ctxFor(t), tn, batch[0].ID)
	require.NoError(t, err)
	requireSameMemory(t, batch[0], got)
	_, err = s.Get(ctxFor(t), tn, existing.ID)
	require.NoError(t, err)

	n, err = s.CreateBatch(ctxFor(t), tn, nil)
	require.NoError(t, err)
	require.Zero(t, n)
}

func testCreateBatchInvalid(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	batch := []domain.Memory{memOf(t, tn, "bulk", "fine"), memOf(t, tn, "bulk", "also fine"), memOf(t, tn, "bulk", "x")}
	batch[2].Text = ""
	_, err := s.CreateBatch(ctxFor(t), tn, batch)
	requireKind(t, err, domain.ErrInvalid)
	require.Empty(t, listAll(t, s, tn, domain.ListQuery{States: allStates()}))

	other := newTenant(t)
	batch = []domain.Memory{memOf(t, tn, "bulk", "mine"), memOf(t, other, "bulk", "not mine")}
	_, err = s.CreateBatch(ctxFor(t), tn, batch)
	requireKind(t, err, domain.ErrInvalid)
	require.Empty(t, listAll(t, s, tn, domain.ListQuery{States: allStates()}))
	require.Empty(t, listAll(t, s, other, domain.ListQuery{States: allStates()}))
}

// testCreateBatchLarge uses a batch big enough to cross any chunking an
// adapter does (COPY thresholds, multi-row INSERT sizes), with duplicates far
// apart and a bad memory at the very end.
func testCreateBatchLarge(t *testing.T, s ports.MemoryStore) {
	const n = 2500
	tn := newTenant(t)
	pre := createTexts(t, s, tn, "app", "large 1234", "large 2001")
	batch := make([]domain.Memory, n)
	for i := range batch {
		batch[i] = memOf(t, tn, "bulk", fmt.Sprintf("large %d", i%2400)) // the last 100 repeat the first 100
	}
	bad := slices.Clone(batch)
	bad[n-1].Text = ""
	_, err := s.CreateBatch(ctxFor(t), tn, bad)
	requireKind(t, err, domain.ErrInvalid)
	require.Len(t, listAll(t, s, tn, domain.ListQuery{Limit: domain.MaxListLimit}), len(pre))

	created, err := s.CreateBatch(ctxFor(t), tn, batch)
	require.NoError(t, err)
	require.Equal(t, 2400-len(pre), created)
	all := listAll(t, s, tn, domain.ListQuery{Limit: domain.MaxListLimit})
	require.Len(t, all, 2400)
	texts := map[string]bool{}
	for _, m := range all {
		require.False(t, texts[m.Text], "%q stored twice", m.Text)
		texts[m.Text] = true
	}
	got, err := s.Get(ctxFor(t), tn, batch[2399].ID)
	require.NoError(t, err)
	requireSameMemory(t, batch[2399], got)
	_, err = s.Get(ctxFor(t), tn, batch[2400].ID)
	requireKind(t, err, domain.ErrNotFound, "an in-batch duplicate must not be stored")
}

// testCreateBatchCancelled cuts a large batch off by its deadline: whatever
// error the backend reports, the batch is there in full or not at all.
func testCreateBatchCancelled(t *testing.T, s ports.MemoryStore) {
	const n = 5000
	tn := newTenant(t)
	batch := make([]domain.Memory, n)
	for i := range batch {
		batch[i] = memOf(t, tn, "bulk", fmt.Sprintf("cancelled %d", i))
	}
	for _, after := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(ctxFor(t), after)
		created, err := s.CreateBatch(ctx, tn, batch)
		cancel()
		st, serr := s.Stats(ctxFor(t), tn)
		require.NoError(t, serr)
		if err == nil {
			require.Equal(t, n, created)
			require.Equal(t, n, st.Total)
			return
		}
		require.Zero(t, st.Total, "a batch cancelled after %s left %d rows", after, st.Total)
	}
}
