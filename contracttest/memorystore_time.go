package contracttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// timeCases pin down a memory's times (issue 18): observed_at defaults to
// the creation time, and observed_at, valid_from and valid_to round-trip
// through every write path.
func timeCases() []memoryCase {
	return []memoryCase{
		{"Time/ObservedAtDefaultsToCreatedAt", testTimeDefault},
		{"Time/RoundTrip", testTimeRoundTrip},
		{"Time/BatchRoundTrip", testTimeBatch},
		{"Time/UpdateSetsValidity", testTimeUpdate},
		{"Time/InvalidRefused", testTimeInvalid},
	}
}

// timed returns a memory observed a year before now, valid for a month
// from two years ago.
func timed(t *testing.T, tn domain.Tenant, text string) domain.Memory {
	t.Helper()
	m := memOf(t, tn, "app", text)
	base := time.Date(2024, 5, 3, 10, 30, 0, 123456000, time.UTC)
	m.ObservedAt = base.AddDate(1, 0, 0)
	m.ValidFrom, m.ValidTo = base, base.AddDate(0, 1, 0)
	return m
}

func testTimeDefault(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "observed when created"))
	requireSameTime(t, m.CreatedAt, m.ObservedAt, "ObservedAt")
	require.True(t, m.ValidFrom.IsZero() && m.ValidTo.IsZero(), "validity unbounded by default")
	got, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	requireSameMemory(t, m, got)
}

func testTimeRoundTrip(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, timed(t, tn, "I lived in Berlin"))
	got, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	requireSameTime(t, time.Date(2025, 5, 3, 10, 30, 0, 123456000, time.UTC), got.ObservedAt, "ObservedAt")
	requireSameTime(t, time.Date(2024, 5, 3, 10, 30, 0, 123456000, time.UTC), got.ValidFrom, "ValidFrom")
	requireSameTime(t, time.Date(2024, 6, 3, 10, 30, 0, 123456000, time.UTC), got.ValidTo, "ValidTo")
	page, err := s.List(ctxFor(t), tn, domain.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	requireSameMemory(t, got, page.Items[0])
}

func testTimeBatch(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	a, b := timed(t, tn, "batch one"), memOf(t, tn, "app", "batch two")
	n, err := s.CreateBatch(ctxFor(t), tn, []domain.Memory{a, b})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	gotA, err := s.Get(ctxFor(t), tn, a.ID)
	require.NoError(t, err)
	require.NoError(t, a.Normalize())
	requireSameTime(t, a.ObservedAt, gotA.ObservedAt, "ObservedAt")
	requireSameTime(t, a.ValidFrom, gotA.ValidFrom, "ValidFrom")
	requireSameTime(t, a.ValidTo, gotA.ValidTo, "ValidTo")
	gotB, err := s.Get(ctxFor(t), tn, b.ID)
	require.NoError(t, err)
	requireSameTime(t, b.CreatedAt, gotB.ObservedAt, "ObservedAt defaults to CreatedAt")
	require.True(t, gotB.ValidFrom.IsZero() && gotB.ValidTo.IsZero())
}

func testTimeUpdate(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := mustCreate(t, s, memOf(t, tn, "app", "I work at Acme"))
	from, to := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	observed := m.CreatedAt.Add(-time.Hour)
	got, err := s.Update(ctxFor(t), tn, m.ID, "app", func(x *domain.Memory) error {
		x.ValidFrom, x.ValidTo, x.ObservedAt = from, to, observed
		return nil
	})
	require.NoError(t, err)
	requireSameTime(t, from, got.ValidFrom, "ValidFrom")
	requireSameTime(t, to, got.ValidTo, "ValidTo")
	requireSameTime(t, observed, got.ObservedAt, "ObservedAt")
	stored, err := s.Get(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	requireSameMemory(t, got, stored)
	h, err := s.History(ctxFor(t), tn, m.ID)
	require.NoError(t, err)
	require.Len(t, h, 2, "a change of validity alone is an update")
}

func testTimeInvalid(t *testing.T, s ports.MemoryStore) {
	tn := newTenant(t)
	m := memOf(t, tn, "app", "backwards validity")
	m.ValidFrom, m.ValidTo = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	_, _, err := s.Create(ctxFor(t), tn, m)
	requireKind(t, err, domain.ErrInvalid)
	m = memOf(t, tn, "app", "said in the future")
	m.ObservedAt = time.Now().Add(72 * time.Hour)
	_, _, err = s.Create(ctxFor(t), tn, m)
	requireKind(t, err, domain.ErrInvalid)
	page, err := s.List(ctxFor(t), tn, domain.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, page.Items)
}
