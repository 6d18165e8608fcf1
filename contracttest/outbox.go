package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// OutboxBackend is a store and its index outbox: the outbox is written by
// the store's own writes.
type OutboxBackend struct {
	Memories ports.MemoryStore
	Outbox   ports.IndexOutbox
	// Subjects erases memories outright (subject erasure), which leaves
	// no change row behind.
	Subjects ports.SubjectStore
}

// RunIndexOutbox runs the IndexOutbox contract (ports/outbox.go) against
// stores made by newStore, one per parallel subtest.
func RunIndexOutbox(t *testing.T, newStore func(t *testing.T) OutboxBackend) {
	cases := []struct {
		name string
		run  func(t *testing.T, b OutboxBackend)
	}{
		{"Register/OnlyLaterChangesRecorded", testOutboxRegister},
		{"Record/EveryKindOfChangeOneRowPerMemory", testOutboxEveryChange},
		{"Ack/KeepsARowChangedMeanwhile", testOutboxAckVersion},
		{"Claim/HidesRowsForTheLease", testOutboxLease},
		{"Release/GivesRowsBackUncounted", testOutboxRelease},
		{"Fail/RetriesThenParksWithoutBlocking", testOutboxPark},
		{"Indexes/AreIndependent", testOutboxIndexes},
		{"Forget/ErasureReArmsTheRowAboveAnyClaim", testOutboxForget},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

const outboxLease = 30 * time.Second

func claimAll(t *testing.T, b OutboxBackend, index string) []ports.OutboxRow {
	t.Helper()
	rows, err := b.Outbox.Claim(ctxFor(t), index, 1000, outboxLease)
	require.NoError(t, err)
	return rows
}

func rowIDs(rows []ports.OutboxRow) []domain.MemoryID {
	out := make([]domain.MemoryID, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func outboxStats(t *testing.T, b OutboxBackend, index string) ports.OutboxStats {
	t.Helper()
	st, err := b.Outbox.Stats(ctxFor(t), index)
	require.NoError(t, err)
	return st
}

func testOutboxRegister(t *testing.T, b OutboxBackend) {
	tn := newTenant(t)
	before := createTexts(t, b.Memories, tn, "app", "written before the index was registered")
	require.Equal(t, 0, outboxStats(t, b, "vectors").Backlog)
	require.NoError(t, b.Outbox.Register(ctxFor(t), "vectors"))
	require.NoError(t, b.Outbox.Register(ctxFor(t), "vectors"), "registering twice")
	requireKind(t, b.Outbox.Register(ctxFor(t), ""), domain.ErrInvalid)
	after := createTexts(t, b.Memories, tn, "app", "written after")
	st := outboxStats(t, b, "vectors")
	require.Equal(t, 1, st.Backlog)
	require.False(t, st.Oldest.IsZero())
	require.WithinDuration(t, time.Now(), st.Oldest, time.Minute)
	rows := claimAll(t, b, "vectors")
	require.Equal(t, []domain.MemoryID{after[0].ID}, rowIDs(rows))
	require.NotEqual(t, before[0].ID, rows[0].ID)
	require.Equal(t, tn, rows[0].Tenant)
	require.Positive(t, rows[0].Version)
	require.Zero(t, rows[0].Attempts)
}

func testOutboxEveryChange(t *testing.T, b OutboxBackend) {
	ctx := ctxFor(t)
	tn := newTenant(t)
	require.NoError(t, b.Outbox.Register(ctx, "text"))
	ms := createTexts(t, b.Memories, tn, "app", "one", "two", "three", "four")
	rows := claimAll(t, b, "text")
	require.Len(t, rows, 4)
	version := map[domain.MemoryID]int64{}
	for _, r := range rows {
		version[r.ID] = r.Version
	}
	require.NoError(t, b.Outbox.Ack(ctx, "text", rows))
	require.Equal(t, ports.OutboxStats{}, outboxStats(t, b, "text"))

	_, err := b.Memories.Update(ctx, tn, ms[0].ID, "app", func(m *domain.Memory) error { m.Text = "one, changed"; return nil })
	require.NoError(t, err)
	_, err = b.Memories.Update(ctx, tn, ms[0].ID, "app", func(m *domain.Memory) error { m.Text = "one, changed twice"; return nil })
	require.NoError(t, err)
	_, err = b.Memories.SetState(ctx, tn, []domain.MemoryID{ms[1].ID}, domain.StatePaused, "app")
	require.NoError(t, err)
	require.NoError(t, b.Memories.Delete(ctx, tn, []domain.MemoryID{ms[2].ID}, "app"))
	require.NoError(t, b.Memories.Erase(ctx, tn, ms[3].ID, "app"))
	batch := []domain.Memory{memOf(t, tn, "app", "batch a"), memOf(t, tn, "app", "batch b")}
	n, err := b.Memories.CreateBatch(ctx, tn, batch)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	rows = claimAll(t, b, "text")
	require.ElementsMatch(t, []domain.MemoryID{ms[0].ID, ms[1].ID, ms[2].ID, ms[3].ID, batch[0].ID, batch[1].ID}, rowIDs(rows),
		"one row per changed memory, two updates included")
	for _, r := range rows {
		if old, ok := version[r.ID]; ok {
			require.Greater(t, r.Version, old, "a change raises the version")
		}
	}
}

func testOutboxAckVersion(t *testing.T, b OutboxBackend) {
	ctx := ctxFor(t)
	tn := newTenant(t)
	require.NoError(t, b.Outbox.Register(ctx, "text"))
	m := createTexts(t, b.Memories, tn, "app", "first words")[0]
	rows := claimAll(t, b, "text")
	require.Len(t, rows, 1)
	_, err := b.Memories.Update(ctx, tn, m.ID, "app", func(m *domain.Memory) error { m.Text = "second words"; return nil })
	require.NoError(t, err)
	require.Empty(t, claimAll(t, b, "text"), "a claimed row stays claimed when its memory changes")
	require.NoError(t, b.Outbox.Ack(ctx, "text", rows))
	again := claimAll(t, b, "text")
	require.Len(t, again, 1, "the ack of an older version released the row instead of deleting it")
	require.Greater(t, again[0].Version, rows[0].Version)
	require.NoError(t, b.Outbox.Ack(ctx, "text", again))
	require.Equal(t, ports.OutboxStats{}, outboxStats(t, b, "text"))
}

func testOutboxLease(t *testing.T, b OutboxBackend) {
	ctx := ctxFor(t)
	tn := newTenant(t)
	require.NoError(t, b.Outbox.Register(ctx, "text"))
	createTexts(t, b.Memories, tn, "app", "a", "b", "c")
	first, err := b.Outbox.Claim(ctx, "text", 2, 300*time.Millisecond)
	require.NoError(t, err)
	require.Len(t, first, 2, "limit")
	second := claimAll(t, b, "text")
	require.Len(t, second, 1, "another claim gets only the unclaimed row")
	require.NotContains(t, rowIDs(first), second[0].ID)
	require.Eventually(t, func() bool {
		rows, err := b.Outbox.Claim(ctx, "text", 10, outboxLease)
		require.NoError(t, err)
		if len(rows) == 0 {
			return false
		}
		require.ElementsMatch(t, rowIDs(first), rowIDs(rows), "a lapsed claim (a relay that died) is handed out again")
		return true
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, 3, outboxStats(t, b, "text").Backlog, "claimed rows count in the backlog until acked")
}

func testOutboxRelease(t *testing.T, b OutboxBackend) {
	ctx := ctxFor(t)
	tn := newTenant(t)
	require.NoError(t, b.Outbox.Register(ctx, "text"))
	createTexts(t, b.Memories, tn, "app", "a")
	rows := claimAll(t, b, "text")
	require.NoError(t, b.Outbox.Release(ctx, "text", rows))
	again := claimAll(t, b, "text")
	require.Len(t, again, 1)
	require.Zero(t, again[0].Attempts, "a release counts no attempt")
}

func testOutboxPark(t *testing.T, b OutboxBackend) {
	ctx := ctxFor(t)
	tn := newTenant(t)
	require.NoError(t, b.Outbox.Register(ctx, "text"))
	ms := createTexts(t, b.Memories, tn, "app", "rejected by the index", "fine")
	rows := claimAll(t, b, "text")
	require.Len(t, rows, 2)
	bad := rows[0]
	if bad.ID != ms[0].ID {
		bad = rows[1]
	}
	require.NoError(t, b.Outbox.Release(ctx, "text", rows))

	require.NoError(t, b.Outbox.Fail(ctx, "text", bad, "mapper_parsing_exception", time.Hour, false))
	rows = claimAll(t, b, "text")
	require.Equal(t, []domain.MemoryID{ms[1].ID}, rowIDs(rows), "a failed row waits for its retry; the rows behind it do not")
	require.NoError(t, b.Outbox.Release(ctx, "text", rows))

	// A second failure, due again at once, with both attempts counted.
	require.NoError(t, b.Outbox.Fail(ctx, "text", bad, "first", 0, false))
	rows = claimAll(t, b, "text")
	require.Len(t, rows, 2)
	for _, r := range rows {
		if r.ID == bad.ID {
			require.Equal(t, 2, r.Attempts)
			bad = r
		}
	}
	require.NoError(t, b.Outbox.Fail(ctx, "text", bad, "mapper_parsing_exception: field [x]", 0, true))
	st := outboxStats(t, b, "text")
	require.Equal(t, 1, st.Parked)
	require.Equal(t, 1, st.Backlog, "the good row, still claimed")
	parked, err := b.Outbox.Parked(ctx, "text", 10)
	require.NoError(t, err)
	require.Len(t, parked, 1)
	require.Equal(t, bad.ID, parked[0].ID)
	require.Equal(t, "mapper_parsing_exception: field [x]", parked[0].Error)
	require.Equal(t, 3, parked[0].Attempts)
	require.False(t, parked[0].ParkedAt.IsZero())
	require.Empty(t, claimAll(t, b, "text"), "parked rows are never claimed")

	// A new change re-arms a parked memory.
	_, err = b.Memories.Update(ctx, tn, bad.ID, "app", func(m *domain.Memory) error { m.Text = "now acceptable"; return nil })
	require.NoError(t, err)
	require.Equal(t, 0, outboxStats(t, b, "text").Parked)
	rows = claimAll(t, b, "text")
	require.Len(t, rows, 1)
	require.Zero(t, rows[0].Attempts)
	require.NoError(t, b.Outbox.Fail(ctx, "text", rows[0], "again", 0, true))
	n, err := b.Outbox.Requeue(ctx, "text")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Len(t, claimAll(t, b, "text"), 1, "requeued")
}

func testOutboxIndexes(t *testing.T, b OutboxBackend) {
	ctx := ctxFor(t)
	tn := newTenant(t)
	require.NoError(t, b.Outbox.Register(ctx, "qdrant"))
	require.NoError(t, b.Outbox.Register(ctx, "elasticsearch"))
	createTexts(t, b.Memories, tn, "app", "a", "b")
	require.NoError(t, b.Outbox.Ack(ctx, "qdrant", claimAll(t, b, "qdrant")))
	require.Equal(t, 0, outboxStats(t, b, "qdrant").Backlog)
	require.Equal(t, 2, outboxStats(t, b, "elasticsearch").Backlog)
	require.Len(t, claimAll(t, b, "elasticsearch"), 2)
}

// testOutboxForget covers the store's forget trigger (index_outbox_forget):
// subject erasure deletes a memory with its history, so no change row is
// left to record it, yet the external indexes must still delete the
// memory. Whatever state its outbox row was in (applied and gone, claimed by
// a relay applying the old version, waiting, or never seen by a relay), the
// erasure leaves a row above every version handed out.
func testOutboxForget(t *testing.T, b OutboxBackend) {
	ctx := ctxFor(t)
	tn := newTenant(t)
	require.NoError(t, b.Outbox.Register(ctx, "text"))
	ms := createTexts(t, b.Memories, tn, "app", "applied, then erased", "being applied when erased", "waiting when erased")
	claimed := map[domain.MemoryID]ports.OutboxRow{}
	for _, r := range claimAll(t, b, "text") {
		claimed[r.ID] = r
	}
	require.Len(t, claimed, 3)
	applied, applying, waiting := claimed[ms[0].ID], claimed[ms[1].ID], claimed[ms[2].ID]
	require.NoError(t, b.Outbox.Ack(ctx, "text", []ports.OutboxRow{applied}))
	require.NoError(t, b.Outbox.Release(ctx, "text", []ports.OutboxRow{waiting}))
	unseen := createTexts(t, b.Memories, tn, "app", "erased before any relay saw it")[0]

	ids := []domain.MemoryID{ms[0].ID, ms[1].ID, ms[2].ID, unseen.ID}
	counts, err := b.Subjects.EraseMemories(ctx, domain.Subject(tn), ids)
	require.NoError(t, err)
	require.EqualValues(t, 4, counts[domain.StoreMemories])
	for _, id := range ids {
		_, err := b.Memories.Get(ctx, tn, id)
		requireKind(t, err, domain.ErrNotFound)
	}
	// The relay finishes applying the old version: its ack must not
	// delete the row the erasure re-armed.
	require.NoError(t, b.Outbox.Ack(ctx, "text", []ports.OutboxRow{applying}))

	rows := claimAll(t, b, "text")
	require.ElementsMatch(t, ids, rowIDs(rows), "every erased memory is handed to the relay again")
	for _, r := range rows {
		require.Equal(t, tn, r.Tenant)
		if old, ok := claimed[r.ID]; ok {
			require.Greater(t, r.Version, old.Version, "above the version a relay held for %s", r.ID)
		}
	}
	require.NoError(t, b.Outbox.Ack(ctx, "text", rows))
	require.Equal(t, ports.OutboxStats{}, outboxStats(t, b, "text"))
	require.Empty(t, claimAll(t, b, "text"))
}
