package contracttest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func tenancyCases() []memoryCase {
	return []memoryCase{
		{"Tenancy/OtherOrgIsNotFound", func(t *testing.T, s ports.MemoryStore) {
			victim := newTenant(t)
			// Same user id in another org: only the org tells them apart.
			attacker := domain.Tenant{OrgID: domain.OrgID("other-" + randHex(t)), UserID: victim.UserID}
			testTenancy(t, s, victim, attacker)
		}},
		{"Tenancy/OtherUserSameOrg", func(t *testing.T, s ports.MemoryStore) {
			victim := newTenant(t)
			attacker := domain.Tenant{OrgID: victim.OrgID, UserID: domain.UserID("other-" + randHex(t))}
			testTenancy(t, s, victim, attacker)
		}},
	}
}

// testTenancy checks that attacker can neither see nor change victim's
// memory by id, and gets ErrNotFound, exactly as for an id that never existed.
func testTenancy(t *testing.T, s ports.MemoryStore, victim, attacker domain.Tenant) {
	md := domain.Metadata{"topic": "secret"}
	vm, err := domain.NewMemory(victim, "app", "victim's secret", md, []string{"private"}, nowUTC())
	require.NoError(t, err)
	vm = mustCreate(t, s, vm)
	// The attacker owns a memory of its own so that "empty" is not trivial.
	am := mustCreate(t, s, memOf(t, attacker, "app", "attacker's own"))
	ids := []domain.MemoryID{vm.ID}
	ctx := ctxFor(t)

	_, err = s.Get(ctx, attacker, vm.ID)
	requireKind(t, err, domain.ErrNotFound, "Get")
	_, err = s.History(ctx, attacker, vm.ID)
	requireKind(t, err, domain.ErrNotFound, "History")
	called := false
	_, err = s.Update(ctx, attacker, vm.ID, "app", func(m *domain.Memory) error {
		called = true
		m.Text = "overwritten"
		return nil
	})
	requireKind(t, err, domain.ErrNotFound, "Update")
	require.False(t, called, "Update must not hand another tenant's memory to fn")
	for _, st := range []domain.State{domain.StatePaused, domain.StateArchived} {
		_, err = s.SetState(ctx, attacker, ids, st, "app")
		requireKind(t, err, domain.ErrNotFound, "SetState")
	}
	// Mixed with an id the attacker owns: still all or nothing.
	_, err = s.SetState(ctx, attacker, []domain.MemoryID{am.ID, vm.ID}, domain.StatePaused, "app")
	requireKind(t, err, domain.ErrNotFound, "SetState mixed")
	requireKind(t, s.Delete(ctx, attacker, ids, "app"), domain.ErrNotFound, "Delete")
	requireKind(t, s.Delete(ctx, attacker, []domain.MemoryID{am.ID, vm.ID}, "app"), domain.ErrNotFound, "Delete mixed")
	requireKind(t, s.Erase(ctx, attacker, vm.ID, "app"), domain.ErrNotFound, "Erase")

	// Lists and stats of the attacker never include the victim's row, even
	// when asked by id, text or metadata.
	for _, q := range []domain.ListQuery{
		{States: allStates()},
		{IDs: ids, States: allStates()},
		{TextContains: "secret"},
		{Metadata: domain.Metadata{"topic": "secret"}},
		{Categories: []string{"private"}},
	} {
		got := listAll(t, s, attacker, q)
		for _, m := range got {
			require.NotEqual(t, vm.ID, m.ID, "List(%+v) leaked the victim's memory", q)
		}
	}
	require.Equal(t, []domain.MemoryID{am.ID}, idsOf(listAll(t, s, attacker, domain.ListQuery{States: allStates()})))
	st, err := s.Stats(ctx, attacker)
	require.NoError(t, err)
	require.Equal(t, 1, st.Total)

	// The victim's memory and history are untouched, and so is the
	// attacker's own memory (the mixed calls changed nothing).
	got, err := s.Get(ctx, victim, vm.ID)
	require.NoError(t, err)
	requireSameMemory(t, vm, got)
	hist, err := s.History(ctx, victim, vm.ID)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	own, err := s.Get(ctx, attacker, am.ID)
	require.NoError(t, err)
	requireSameMemory(t, am, own)
	st, err = s.Stats(ctx, victim)
	require.NoError(t, err)
	require.Equal(t, 1, st.Total)
}
